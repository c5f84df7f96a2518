#!/usr/bin/env bash
# Prints the version of this checkout as a Debian package version (docs/release.md):
#   HEAD tagged vX.Y.Z                 X.Y.Z
#   N commits after tag vX.Y.Z         X.Y.Z+git<N>.<sha>   (sorts after X.Y.Z)
#   no tag reachable                   <project version>~git<C>.<sha>, C = commits in HEAD
#                                      (sorts before the project version's release)
#   not a git checkout                 <project version>
# The project version is the one CMakeLists.txt's project() declares. Used by
# cmake/packaging.cmake and scripts/release.sh, so both always agree.
set -euo pipefail
cd "$(dirname "$0")/.."
project=$(sed -n 's/^project(cosmos VERSION \([0-9][0-9.]*\).*/\1/p' CMakeLists.txt)
if [ -z "$project" ]; then
  echo "version.sh: no 'project(cosmos VERSION X.Y.Z' in CMakeLists.txt" >&2
  exit 1
fi
if ! git rev-parse --git-dir >/dev/null 2>&1; then
  echo "$project"
  exit 0
fi
sha=$(git rev-parse --short=7 HEAD)
if described=$(git describe --tags --long --match 'v[0-9]*' HEAD 2>/dev/null); then
  # vX.Y.Z-N-gSHA; the tag itself may contain '-' (v1.0.0-rc1), so split from the right
  count=${described%-g*}
  count=${count##*-}
  tag=${described%-*-g*}
  base=${tag#v}
  base=${base//-/\~}  # v1.0.0-rc1 -> 1.0.0~rc1, which Debian sorts before 1.0.0
  if [ "$count" = 0 ]; then
    echo "$base"
  else
    echo "${base}+git${count}.${sha}"
  fi
else
  echo "${project}~git$(git rev-list --count HEAD).${sha}"
fi
