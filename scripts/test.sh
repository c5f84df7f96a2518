#!/usr/bin/env bash
# README command (b): install dependencies, build with warnings as errors, check the house rules
# (scripts/lint.sh), start the services the tests need, and run the whole suite (unit +
# integration) with CTest; then the fuzzers and the sanitizer runs (docs/testing.md). Services
# started here are stopped on exit. Prints how long each step took, also when one fails.
# Extra args go to both ctest runs of build/.
#   COSMOS_FUZZ_SECONDS      seconds each fuzz target runs (default 20; 0 skips the fuzz step)
#   COSMOS_SANITIZERS        the fuzz, asan and tsan steps after the plain tests (docs/testing.md):
#                            auto (default) runs them when the compiler cache is warm (the plain
#                            build took under COSMOS_COLD_BUILD_SECONDS, default 300) and says
#                            loudly that it skipped them otherwise (two more cold builds, ~30 min
#                            on 2 cores, would take the run past its 45-minute budget); 1 always;
#                            0 never
#   COSMOS_PACKAGE_TEST      0 skips the package step (the .deb built, checked and installed in
#                            a clean Debian 12 root; docs/release.md)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"

timings=()
print_timings() {
  local t
  echo "test.sh: step timings (seconds):"
  for t in "${timings[@]}"; do
    echo "  $t"
  done
}
trap print_timings EXIT
# step NAME CMD...: runs CMD, records its wall time (a failing step is recorded, then fails).
# CMD runs in a subshell with errexit on: under `CMD || rc=$?` bash would ignore errexit in
# the functions below, and a failing first command would go unnoticed.
step() {
  local name="$1" start=$SECONDS rc
  shift
  echo "test.sh: == $name"
  set +e
  (
    set -e
    "$@"
  )
  rc=$?
  set -e
  timings+=("$(printf '%-12s %5d%s' "$name" $((SECONDS - start)) "$([ $rc -eq 0 ] || echo ' FAILED')")")
  return $rc
}

ctest_in() {  # ctest_in DIR ARGS...
  local dir="$1"
  shift
  (cd "$dir" && ctest --output-on-failure -j "$jobs" "$@")
}

# The sanitizer builds: clang with -fsanitize=fuzzer-no-link,address,undefined (one dir serves the
# fuzzers and the ASan/UBSan tests: a second clang build of the library would cost ~as much as
# the first), and a ThreadSanitizer build of the unit tests only.
build_asan() {
  [ -f build-asan/CMakeCache.txt ] ||
    CXX=clang++ cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOSMOS_FUZZ=ON \
      -DCOSMOS_BUILD_TESTS=ON >/dev/null
  cmake --build build-asan -j "$jobs"
}
build_tsan() {
  [ -f build-tsan/CMakeCache.txt ] ||
    cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOSMOS_SANITIZE=thread \
      -DCOSMOS_BUILD_TESTS=ON >/dev/null
  cmake --build build-tsan -j "$jobs" --target cosmos_unit_tests
}

# ASan/UBSan: every unit test, and the integration files that drive the binaries through the
# parsers and the import, the queue and SSH (the others repeat those paths with Docker, Slurm,
# FFmpeg or Chromium around them and would add ~10 min; docs/testing.md).
asan_integration=(test_foundation_cli test_import test_submit test_queue test_ssh_stage test_web_api)
run_asan() {
  ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}" \
    ctest_in build-asan -L unit -E "$1"
  local pattern
  pattern="^integration\\.($(IFS='|'; echo "${asan_integration[*]}"))\$"
  ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}" \
    ctest_in build-asan -R "$pattern"
}

# TSan: the tests whose code runs threads: the queue worker and run engine, the queue store
# under concurrent claims, SSH connections shared across threads, the SFTP pipeline, local
# processes and the web UI's event hub. Suppressions for the uninstrumented libraries:
# tests/tsan.supp.
tsan_filter="EngineTest.*:QueueStoreTest.*:QueueRetryPolicy.*:WorkerOptions.*:SshShellTest.*"
tsan_filter+=":LocalProcess.*:LocalShellTest.*:StagingTest.*:WebEventHub.*:SlurmSubmit.*"
tsan_filter+=":CheckpointHash.*"
run_tsan() {
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp" \
    build-tsan/tests/cosmos_unit_tests --gtest_filter="$tsan_filter"
}

step deps bash scripts/install-deps.sh
build_start=$SECONDS
step build bash scripts/build.sh -DCOSMOS_WERROR=ON -DCOSMOS_BUILD_TESTS=ON
build_seconds=$((SECONDS - build_start))
# The house rules (formatting, no discarded Result, docs/cli.md, shellcheck, clang-tidy on the
# sources changed since .ci/tidy-base) before the tests: a rule broken fails the run.
step lint bash scripts/lint.sh
step unit ctest_in build -L unit "$@"
step integration ctest_in build -L integration "$@"
sanitizers="${COSMOS_SANITIZERS:-auto}"
if [ "$sanitizers" = auto ]; then
  if [ "$build_seconds" -lt "${COSMOS_COLD_BUILD_SECONDS:-300}" ]; then
    sanitizers=1
  else
    sanitizers=0
    echo "test.sh: ************************************************************************"
    echo "test.sh: SKIPPED the fuzz, asan and tsan steps: the plain build took ${build_seconds} s,"
    echo "test.sh: so the compiler cache is cold and their two builds would take ~30 min more."
    echo "test.sh: Run them with: COSMOS_SANITIZERS=1 bash scripts/test.sh"
    echo "test.sh: ************************************************************************"
    timings+=("$(printf '%-12s %5s' sanitizers 'SKIPPED (cold cache)')")
  fi
fi
# In auto mode each sanitizer step also has to fit the run's time budget (COSMOS_CI_BUDGET_S,
# default 2700 s = 45 min) by its usual cost with a warm cache; a warm plain build does not
# prove the sanitizer builds' caches warm too (a change to a widely included header misses in
# all three). A step that does not fit is skipped, and so are the ones after it, loudly.
budget="${COSMOS_CI_BUDGET_S:-2700}"
over_budget=0
fits() {  # fits NAME SECONDS
  if [ "${COSMOS_SANITIZERS:-auto}" != auto ]; then
    return 0
  fi
  if [ "$over_budget" = 0 ] && [ $((SECONDS + $2)) -le "$budget" ]; then
    return 0
  fi
  over_budget=1
  echo "test.sh: SKIPPED $1: ${SECONDS} s used, about $2 s more would pass the ${budget} s budget"
  timings+=("$(printf '%-12s %5s' "$1" 'SKIPPED (time budget)')")
  return 1
}
# The Debian package (docs/release.md): scripts/release.sh builds it in build-release/ (the
# compiler cache is warm from build/), tests/integration/test_package.py checks it and installs
# it into a clean Debian 12 root where `cosmos demo` must succeed. Too slow for a ctest file
# beside the others (~3 min; budgeted 240 s); COSMOS_PACKAGE_TEST=0 skips it.
package_test() {  # exit 125: every test skipped (not root, no debootstrap), said by pytest
  local rc=0
  # Debian's python3, with python3-pytest (as ctest runs the integration files)
  COSMOS_PACKAGE_TEST=1 COSMOS_SOURCE_DIR="$PWD" \
    /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration/test_package.py || rc=$?
  [ "$rc" = 125 ] || return "$rc"
}
if [ "${COSMOS_PACKAGE_TEST:-1}" != 0 ] && fits package 240; then
  step package package_test
fi
if [ "$sanitizers" != 0 ]; then
  fuzz_seconds="${COSMOS_FUZZ_SECONDS:-20}"
  if fits asan-build 300; then
    step asan-build build_asan
    if [ "$fuzz_seconds" != 0 ] && fits fuzz 150; then
      step fuzz bash scripts/fuzz.sh "$fuzz_seconds"
    fi
    # The docker runtime test starts a dockerd: not under ASan (it adds nothing the fuzzers
    # and the native runtime's tests do not cover, and doubles the run's wall time).
    if fits asan 500; then
      step asan run_asan '^unit\.DockerRuntimeTest\.'
    fi
  fi
  if fits tsan 360; then  # its build and its run
    step tsan-build build_tsan
    step tsan run_tsan
  fi
fi
