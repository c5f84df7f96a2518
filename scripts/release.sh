#!/usr/bin/env bash
# Builds the Debian package dist/cosmos_<version>_amd64.deb and proves it (docs/release.md):
#   1. build    the binaries in build-release/ with the test build's flags (RelWithDebInfo,
#               -Werror; stripped when packaged), so ccache reuses the test build's objects
#   2. package  cpack: binaries, man page, completions, docs; copied to dist/
#   3. changelog  the version's section of CHANGELOG.md from the commit subjects since the
#               last tag, grouped by their prefix ("docs: ...")
#   4. suite    the package extracted (dpkg-deb -x) into an empty directory, and integration
#               test files run from a copy of the tests against its binaries
#   5. root     a clean Debian 12 root (debootstrap --variant=minbase, cached as a tarball):
#               apt-get installs the .deb with its Depends only, and `cosmos demo` run there as
#               an ordinary user must succeed and leave its H.264 video
# Prints each step's wall time at the end, also when one fails.
#
#   scripts/release.sh [--version X] [--skip-suite] [--skip-root-test] [--changelog FILE]
#                      [--dist DIR]
#   scripts/release.sh --root-test DEB     only step 5, for an existing package
#
#   --version X        package version (default: scripts/version.sh, from git describe --tags)
#   --changelog FILE   write the section into FILE instead of CHANGELOG.md
#   --dist DIR         where the .deb goes (default dist/)
#   --refresh-root     debootstrap again even when the cached root is fresh
# Environment: COSMOS_DEBIAN_MIRROR (default http://deb.debian.org/debian),
# COSMOS_DEBIAN_SECURITY_MIRROR (http://deb.debian.org/debian-security), XDG_CACHE_HOME (the
# cached root and downloaded packages live in ${XDG_CACHE_HOME:-~/.cache}/cosmos).
# Steps 5 (and debootstrap) need root: chroot and mount.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
jobs=$(nproc 2>/dev/null || echo 2)
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"

version=""
changelog=CHANGELOG.md
dist=dist
build_dir=build-release
run_suite=1
run_root=1
root_only=""
refresh_root=0
usage() {
  sed -n '/^#   scripts\/release.sh/,/^# Steps 5/p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --version) version=${2:?--version needs a value}; shift 2 ;;
    --changelog) changelog=${2:?--changelog needs a file}; shift 2 ;;
    --dist) dist=${2:?--dist needs a directory}; shift 2 ;;
    --skip-suite) run_suite=0; shift ;;
    --skip-root-test) run_root=0; shift ;;
    --refresh-root) refresh_root=1; shift ;;
    --root-test) root_only=${2:?--root-test needs a .deb}; shift 2 ;;
    -h | --help) usage ;;
    *) echo "release.sh: unknown argument $1" >&2; usage ;;
  esac
done

# The package suite: the CLI end to end, the emulator, local execution with its logs and
# outputs, media I/O through the lazily loaded FFmpeg, error messages, and completion; about
# 2 minutes on 2 cores (docs/release.md). The rest of the suite repeats these paths around
# sshd, Docker, Slurm or Chromium, which the package does not change.
# COSMOS_RELEASE_SUITE="test_a test_b" runs those files instead.
suite=(test_foundation_cli test_emulator test_execution test_media test_clear_errors
  test_completion)
if [ -n "${COSMOS_RELEASE_SUITE:-}" ]; then
  read -r -a suite <<<"$COSMOS_RELEASE_SUITE"
fi

mirror=${COSMOS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${COSMOS_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
cache_dir=${XDG_CACHE_HOME:-$HOME/.cache}/cosmos
root_tarball=$cache_dir/debian-bookworm-minbase.tar.gz
apt_archives=$cache_dir/apt-archives
root_max_age_days=30
# Debian's python3 (with python3-pytest), as ctest uses: not whatever python3 is first on PATH
python=/usr/bin/python3
[ -x "$python" ] || python=python3

# Step timings and the directories to remove are kept in files: steps run in subshells.
state=$(mktemp -d "${TMPDIR:-/var/tmp}/cosmos-release-state.XXXXXX")
timing() {  # timing NAME SECONDS [NOTE]
  printf '%-12s %5d%s\n' "$1" "$2" "${3:-}" >>"$state/timings"
}
print_timings() {
  [ -s "$state/timings" ] || return 0
  echo "release.sh: step timings (seconds):"
  sed 's/^/  /' "$state/timings"
}
# step NAME CMD...: runs CMD with errexit on, records its wall time (see scripts/test.sh).
step() {
  local name="$1" start=$SECONDS rc
  shift
  echo "release.sh: == $name"
  set +e
  (
    set -e
    "$@"
  )
  rc=$?
  set -e
  timing "$name" $((SECONDS - start)) "$([ $rc -eq 0 ] || echo ' FAILED')"
  return $rc
}

# Every directory this run made, removed on exit; mount points under them are unmounted first,
# and a directory that still has one is left alone (rm must never reach a mounted /proc).
unmount_under() {  # unmount_under DIR: every mount point at or below DIR, deepest first
  local dir mounts m
  dir=$(realpath -m "$1")
  mounts=$(awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
    sort -r)
  for m in $mounts; do
    umount "$m" 2>/dev/null || umount -l "$m" || true
  done
}
cleanup() {
  local d start=$SECONDS
  print_timings
  touch "$state/scratch"
  while read -r d; do
    [ -d "$d" ] || continue
    unmount_under "$d"
    if awk -v d="$(realpath -m "$d")" 'index($5, d "/") == 1 { found = 1 } END { exit !found }' \
      /proc/self/mountinfo; then
      echo "release.sh: $d still has mounts; left in place" >&2
    else
      rm -rf --one-file-system "$d"
    fi
  done <"$state/scratch"
  rm -rf "$state"
  [ $((SECONDS - start)) -lt 5 ] || echo "release.sh: cleaning up took $((SECONDS - start)) s"
}
trap cleanup EXIT
scratch_dir() {  # scratch_dir NAME: prints a new directory removed on exit
  local d
  d=$(mktemp -d "${TMPDIR:-/var/tmp}/cosmos-release-$1.XXXXXX")
  echo "$d" >>"$state/scratch"
  echo "$d"
}

# ---------------------------------------------------------------------------------------------
build() {
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOSMOS_WERROR=ON \
    -DCOSMOS_BUILD_TESTS=OFF -DCOSMOS_PACKAGE=ON -DCOSMOS_PACKAGE_VERSION="$version" >/dev/null
  cmake --build "$build_dir" -j "$jobs"
  local shown
  shown=$("$build_dir/cosmos" --version)
  if [ "$shown" != "cosmos $version" ]; then
    echo "release.sh: the built binary says '$shown', not 'cosmos $version'" >&2
    return 1
  fi
}

package() {
  rm -rf "$build_dir/packages"
  (cd "$build_dir" && cpack -G DEB >/dev/null)
  local built
  built="$build_dir/packages/cosmos_${version}_amd64.deb"
  if [ ! -f "$built" ]; then
    echo "release.sh: cpack did not write $built:" >&2
    ls "$build_dir/packages" >&2
    return 1
  fi
  mkdir -p "$dist"
  cp "$built" "$dist/"
  echo "release.sh: wrote $dist/cosmos_${version}_amd64.deb ($(du -h "$built" | cut -f1))"
  dpkg-deb -f "$built" Depends
}

# ---------------------------------------------------------------------------------------------
# The section for $version: the subjects of the commits since the previous tag, grouped by the
# prefix before ':' when it is short (a word or two: "docs", "everyday use"), else "other".
# Commits whose subject starts "release:" (the changelog's own) are left out.
changelog_section() {
  local since range count date
  if git rev-parse -q --verify "refs/tags/v$version" >/dev/null; then
    range_end="v$version"
  else
    range_end=HEAD
  fi
  if since=$(git describe --tags --abbrev=0 --match 'v[0-9]*' "$range_end^" 2>/dev/null); then
    range="$since..$range_end"
  else
    since=""
    range=$range_end
  fi
  count=$(git rev-list --count "$range")
  date=$(git log -1 --format=%cs "$range_end")
  echo "## $version ($date)"
  echo
  if [ -n "$since" ]; then
    echo "$count commits since $since."
  else
    echo "$count commits: the first release."
  fi
  git log --no-merges --format='%h %s' "$range" | awk '
    {
      sha = $1; subject = substr($0, length(sha) + 2)
      if (subject ~ /^release:/) next
      group = "other"
      colon = index(subject, ": ")
      if (colon > 1 && colon <= 24) {
        prefix = substr(subject, 1, colon - 1)
        if (prefix ~ /^[A-Za-z0-9_.\/ -]+$/ && split(prefix, words, " ") <= 2) {
          # "docs/api.md" and "docs" are one group, as are "bench/upload.sh" and "bench"
          group = tolower(prefix); sub(/\/.*/, "", group); sub(/\.[a-z]+$/, "", group)
          subject = substr(subject, colon + 2)
        }
      }
      if (!(group in lines)) names[++n] = group
      lines[group] = lines[group] "- " subject " (" sha ")\n"
    }
    END {
      for (i = 2; i <= n; i++)  # insertion sort: alphabetical, "other" last
        for (j = i; j > 1 && (names[j - 1] == "other" || (names[j] != "other" && names[j] < names[j - 1])); j--) {
          t = names[j]; names[j] = names[j - 1]; names[j - 1] = t
        }
      for (i = 1; i <= n; i++) printf "\n### %s\n\n%s", names[i], lines[names[i]]
    }'
}

# Replaces the version's section of the changelog (or adds it above the newest), keeping the
# header and every other section as they are.
write_changelog() {
  local section tmp
  section=$(mktemp)
  tmp=$(mktemp)
  changelog_section >"$section"
  if [ ! -f "$changelog" ]; then
    printf '# Changelog\n\nWritten by scripts/release.sh from the commit subjects since the previous tag, grouped by\ntheir prefix; newest release first (docs/release.md).\n' >"$changelog"
  fi
  awk -v version="$version" -v section="$section" '
    function emit_section(  line) {
      while ((getline line < section) > 0) print line
      print ""
      done = 1
    }
    /^## / {
      if (!done) emit_section()
      skipping = (index($0, "## " version " ") == 1)
    }
    !skipping { print }
    END { if (!done) { print ""; emit_section() } }' "$changelog" >"$tmp"
  # no blank line at the very end
  sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$tmp" >"$changelog"
  rm -f "$section" "$tmp"
  echo "release.sh: wrote the $version section of $changelog ($(grep -c '^- ' "$changelog") entries in the file)"
}

# ---------------------------------------------------------------------------------------------
# The suite against the package's binaries: the .deb extracted into an empty directory, the test
# files and fixtures copied beside it, nothing of the source tree or the build on their path.
suite_on_package() {
  local deb=$1 dir tests=() t
  dir=$(scratch_dir suite)
  dpkg-deb -x "$deb" "$dir/root"
  mkdir -p "$dir/src/tests"
  cp -r tests/integration tests/fixtures "$dir/src/tests/"
  cp README.md "$dir/src/"
  cp -r docs "$dir/src/"
  rm -rf "$dir/src/tests/integration/__pycache__"
  for t in "${suite[@]}"; do
    tests+=("$t.py")
  done
  (
    cd "$dir/src/tests/integration"
    env COSMOS_BIN="$dir/root/usr/bin/cosmos" COSMOS_EMULATOR_BIN="$dir/root/usr/bin/cosmos-emulator" \
      COSMOS_SOURCE_DIR="$dir/src" COSMOS_UNIT_TESTS_BIN="" \
      "$python" -m pytest -q -p no:cacheprovider "${tests[@]}"
  )
}

# ---------------------------------------------------------------------------------------------
# A Debian 12 minbase root, cached as a tarball (packages downloaded by debootstrap dropped).
ensure_root_tarball() {
  if [ "$refresh_root" = 0 ] && [ -f "$root_tarball" ] &&
    [ -z "$(find "$root_tarball" -mtime +"$root_max_age_days")" ]; then
    echo "release.sh: cached root $root_tarball"
    return 0
  fi
  local dir start=$SECONDS
  dir=$(scratch_dir debootstrap)
  mkdir -p "$cache_dir"
  debootstrap --variant=minbase bookworm "$dir/root" "$mirror" >"$dir/debootstrap.log" 2>&1 || {
    tail -20 "$dir/debootstrap.log" >&2
    echo "release.sh: debootstrap failed (log above)" >&2
    return 1
  }
  unmount_under "$dir/root"
  rm -f "$dir"/root/var/cache/apt/archives/*.deb
  tar -C "$dir/root" -czf "$root_tarball.part" .
  mv "$root_tarball.part" "$root_tarball"
  echo "release.sh: debootstrap of bookworm took $((SECONDS - start)) s; cached as $root_tarball"
}

in_root() {  # in_root CMD...: as root inside the chroot $root, with a plain environment
  chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive "$@"
}

root_test() {
  local deb=$1 dir name start uid gid out video shown expected
  if [ "$(id -u)" -ne 0 ]; then
    echo "release.sh: the clean-root test needs root (chroot, mount); rerun with sudo or" \
      "--skip-root-test" >&2
    return 1
  fi
  name=$(basename "$deb")
  expected=$(dpkg-deb -f "$deb" Version)
  step root-image ensure_root_tarball
  dir=$(scratch_dir root)
  root=$dir/root  # global: in_root runs in it
  mkdir -p "$root" "$apt_archives/partial"
  # In memory: dpkg's fsyncs cost nothing there, and removing the root is one umount (on this
  # machine's disk, deleting the installed root took 30 s). It needs about 700 MB.
  mount -t tmpfs -o size=4g,mode=0755 tmpfs "$root"
  tar -C "$root" -xzf "$root_tarball"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security_mirror bookworm-security main
EOF
  mount -t proc proc "$root/proc"
  mount -t tmpfs -o size=64m tmpfs "$root/dev/shm"
  # Downloaded packages are kept between runs (apt still resolves everything from scratch).
  mount --bind "$apt_archives" "$root/var/cache/apt/archives"
  cp "$deb" "$root/tmp/$name"

  start=$SECONDS
  in_root apt-get update -q >"$dir/apt.log" 2>&1 || {
    cat "$dir/apt.log" >&2
    return 1
  }
  # Depends only: a missing one shows as the demo failing below.
  if ! in_root apt-get install -y -q --no-install-recommends "/tmp/$name" >>"$dir/apt.log" 2>&1; then
    tail -30 "$dir/apt.log" >&2
    echo "release.sh: apt-get install of $name failed in the clean root" >&2
    return 1
  fi
  echo "release.sh: installed $name and its Depends in the clean root:" \
    "$(grep -c '^Setting up' "$dir/apt.log") packages set up, $((SECONDS - start)) s"
  timing root-install $((SECONDS - start))

  for f in /usr/bin/cosmos /usr/bin/cosmos-emulator /usr/share/man/man1/cosmos.1.gz \
    /usr/share/bash-completion/completions/cosmos /usr/share/doc/cosmos/README.md; do
    [ -f "$root$f" ] || { echo "release.sh: the package installed no $f" >&2; return 1; }
  done
  shown=$(in_root cosmos --version)
  if [ "$shown" != "cosmos $expected" ]; then
    echo "release.sh: installed cosmos says '$shown', the package is $expected" >&2
    return 1
  fi

  # cosmos demo as an ordinary user, from the user's home, with no source tree or build.
  in_root useradd --create-home --shell /bin/bash tester
  uid=$(in_root id -u tester)
  gid=$(in_root id -g tester)
  start=$SECONDS
  if ! out=$(chroot --userspec="$uid:$gid" "$root" env -i -C /home/tester HOME=/home/tester \
    PATH=/usr/bin:/bin LANG=C.UTF-8 NO_COLOR=1 cosmos demo 2>"$dir/demo.err"); then
    echo "$out"
    tail -30 "$dir/demo.err" >&2
    echo "release.sh: cosmos demo failed in the clean root" >&2
    return 1
  fi
  timing root-demo $((SECONDS - start))
  echo "$out"
  video=$(printf '%s\n' "$out" | awk '$1 == "video" { print $2 }')
  case "$video" in
    /home/tester/*) ;;
    *) echo "release.sh: cosmos demo named no video in the user's data dir: '$video'" >&2
      return 1 ;;
  esac
  if [ ! -s "$root$video" ] ||
    [ "$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name -of csv=p=0 \
      "$root$video")" != h264 ]; then
    echo "release.sh: the demo's video $video is missing or not H.264" >&2
    return 1
  fi
  echo "release.sh: cosmos demo succeeded in a clean Debian $(cat "$root/etc/debian_version")" \
    "root as user tester: $video ($(du -h "$root$video" | cut -f1))"
}

# ---------------------------------------------------------------------------------------------
if [ -n "$root_only" ]; then
  [ -f "$root_only" ] || { echo "release.sh: no such package $root_only" >&2; exit 1; }
  step root root_test "$(realpath "$root_only")"
  exit 0
fi

[ -n "$version" ] || version=$(bash scripts/version.sh)
echo "release.sh: cosmos $version"
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  echo "release.sh: note: the working tree has uncommitted changes; they are in this package"
fi
step build build
step package package
step changelog write_changelog
deb="$src/$dist/cosmos_${version}_amd64.deb"
case "$dist" in /*) deb="$dist/cosmos_${version}_amd64.deb" ;; esac
if [ "$run_suite" = 1 ]; then
  step suite suite_on_package "$deb"
fi
if [ "$run_root" = 1 ]; then
  step root root_test "$deb"
fi
echo "release.sh: done: $deb"
