#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/*.cpp, -DCOSMOS_FUZZ=ON with clang: the library under
# AddressSanitizer + UndefinedBehaviorSanitizer) and runs each for SECONDS (default 20), from
# its seed corpus fuzz/corpus/<target>/ plus what earlier runs on this machine found. Fails on a
# crash, a sanitizer report, a leak, an input slower than 10 s (a hang) or more than 2 GiB of
# memory; the input is kept under $build_dir/fuzz-artifacts/ (docs/testing.md: fix the bug, add
# a unit test, add the input to the target's corpus).
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]
#   COSMOS_FUZZ_BUILD_DIR  build dir (default build-asan, shared with the ASan test run)
#   COSMOS_FUZZ_TARGETS    targets to run, space-separated (default: all of fuzz/*.cpp)
#   COSMOS_FUZZ_JOBS       targets run at once (default: the number of cores)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
build_dir="${COSMOS_FUZZ_BUILD_DIR:-build-asan}"
jobs="${COSMOS_FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}"
if [ -n "${COSMOS_FUZZ_TARGETS:-}" ]; then
  read -r -a targets <<<"$COSMOS_FUZZ_TARGETS"
else
  targets=()
  for f in fuzz/*.cpp; do
    targets+=("$(basename "$f" .cpp)")
  done
fi

export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  CXX="${COSMOS_FUZZ_CXX:-clang++}" cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCOSMOS_FUZZ=ON -DCOSMOS_BUILD_TESTS=ON >/dev/null
fi
cmake --build "$build_dir" -j "$jobs" --target cosmos_fuzzers

out="$build_dir/fuzz-out"
artifacts="$build_dir/fuzz-artifacts"
mkdir -p "$out" "$artifacts"
# Leaks are findings; a sanitizer report ends the run with the input saved.
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"

run_target() {
  local t="$1" corpus="$out/corpus/$1"
  mkdir -p "$corpus"
  # New inputs go to the first (scratch) corpus dir; the committed seeds are only read.
  "$build_dir/fuzz/fuzz_$t" "$corpus" "fuzz/corpus/$t" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
    -detect_leaks=1 -print_final_stats=1 -artifact_prefix="$artifacts/$t-" \
    >"$out/$t.log" 2>&1
}

failed=()
pids=()
names=()
wait_one() {
  local i="$1"
  if wait "${pids[$i]}"; then
    echo "fuzz: ${names[$i]}: ok ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' \
      "$out/${names[$i]}.log" | grep -o '[0-9]*$') runs)"
  else
    failed+=("${names[$i]}")
    echo "fuzz: ${names[$i]}: FAILED; the end of $out/${names[$i]}.log:" >&2
    tail -n 60 "$out/${names[$i]}.log" >&2
  fi
}
for t in "${targets[@]}"; do
  if [ ! -x "$build_dir/fuzz/fuzz_$t" ]; then
    echo "fuzz: no target fuzz_$t in $build_dir/fuzz" >&2
    exit 2
  fi
  run_target "$t" &
  pids+=("$!")
  names+=("$t")
  if [ "${#pids[@]}" -ge "$jobs" ]; then
    wait_one 0
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
  fi
done
for i in "${!pids[@]}"; do
  wait_one "$i"
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}; inputs in $artifacts/" >&2
  echo "fuzz: reproduce with $build_dir/fuzz/fuzz_TARGET INPUT; fix, add a unit test, and" \
    "copy the input to fuzz/corpus/TARGET/" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${seconds} s each: no crash, leak or hang"
