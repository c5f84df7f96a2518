#!/usr/bin/env bash
# Benchmark: the local quality scores (src/media/quality.hpp, docs/quality.md) on a 720p H.264
# video, per second of video, against FFmpeg's own decode of the same file in the same run:
#   ffmpeg -i X -f null -                               reference: decode only
#   ffmpeg -i X -vf scale=256:144,format=gray -f null -  reference: decode + the working size
#   read_luma                                           our decode to luma at 256x144
#   structure / stability / seam                        the scores on decoded frames
#   structure on files                                  two decodes + the score
# Our timings come from the unit test binary's QualityBench.CostOfEachScore (it is skipped
# unless COSMOS_QUALITY_BENCH_VIDEO is set). Each timing is the best of BENCH_REPEAT (default 3).
# BENCH_QUALITY_SECONDS (default 10) sets the video's length; COSMOS_BUILD_DIR the build folder.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${COSMOS_BUILD_DIR:-$root/build}
tests=$build/tests/cosmos_unit_tests
seconds=${BENCH_QUALITY_SECONDS:-10}
repeat=${BENCH_REPEAT:-3}
[ -x "$tests" ] || { echo "bench: $tests not found (build with -DCOSMOS_BUILD_TESTS=ON)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
video=$work/clip720.mp4
ffmpeg -v error -f lavfi -i "testsrc2=size=1280x720:rate=24" -t "$seconds" \
    -c:v libx264 -preset veryfast -crf 18 -pix_fmt yuv420p "$video"

best() {  # best wall time (s) of $repeat runs of "$@"
    local b="" t0 t1 t
    for _ in $(seq 1 "$repeat"); do
        t0=$(date +%s.%N); "$@" > /dev/null 2>&1; t1=$(date +%s.%N)
        t=$(echo "$t1 - $t0" | bc -l)
        if [ -z "$b" ] || [ "$(echo "$t < $b" | bc -l)" = 1 ]; then b=$t; fi
    done
    echo "$b"
}

t_dec=$(best ffmpeg -v error -i "$video" -f null -)
t_scl=$(best ffmpeg -v error -i "$video" -vf scale=256:144,format=gray -f null -)

# Ours: the best of $repeat runs, step by step (a line of key=value seconds per run).
declare -A ours=()
for _ in $(seq 1 "$repeat"); do
    line=$(COSMOS_QUALITY_BENCH_VIDEO=$video "$tests" --gtest_filter='QualityBench.*' |
        grep '^quality-bench ') || { echo "bench: QualityBench.CostOfEachScore printed nothing"; exit 1; }
    for kv in $line; do
        case $kv in
        *_s=*)
            k=${kv%%=*} v=${kv#*=}
            if [ -z "${ours[$k]:-}" ] || [ "$(echo "$v < ${ours[$k]}" | bc -l)" = 1 ]; then
                ours[$k]=$v
            fi
            ;;
        frames=*) frames=${kv#*=} ;;
        esac
    done
done

per_s() { echo "$1 / $seconds" | bc -l; }
row() {  # row NAME SECONDS: total, per second of video, x realtime
    printf '%-44s %8.3f s  %7.1f ms/s of video  %7.1fx realtime\n' "$1" "$2" \
        "$(echo "1000 * $2 / $seconds" | bc -l)" "$(echo "$seconds / $2" | bc -l)"
}
echo
printf '720p H.264, %s s at 24 fps (%s frames), %d cores, best of %d\n' "$seconds" "$frames" \
    "$(nproc)" "$repeat"
row "ffmpeg -i X -f null - (decode)" "$t_dec"
row "ffmpeg ... scale=256:144,format=gray" "$t_scl"
row "read_luma (decode to 256x144 luma)" "${ours[decode_s]}"
row "structure (on decoded frames)" "${ours[structure_s]}"
row "stability (on decoded frames)" "${ours[stability_s]}"
row "seam (on decoded frames)" "${ours[seam_s]}"
row "structure on files (2 decodes + score)" "${ours[structure_files_s]}"
printf 'read_luma / ffmpeg decode:                  %.2f\n' "$(echo "${ours[decode_s]} / $t_dec" | bc -l)"
printf 'read_luma / ffmpeg decode + scale to gray:  %.2f\n' "$(echo "${ours[decode_s]} / $t_scl" | bc -l)"
printf 'structure on files / 2 x ffmpeg decode:     %.2f\n' \
    "$(echo "${ours[structure_files_s]} / (2 * $t_dec)" | bc -l)"
printf 'scores alone per second of video: structure %.1f ms, stability %.1f ms, seam %.1f ms\n' \
    "$(echo "1000 * $(per_s "${ours[structure_s]}")" | bc -l)" \
    "$(echo "1000 * $(per_s "${ours[stability_s]}")" | bc -l)" \
    "$(echo "1000 * $(per_s "${ours[seam_s]}")" | bc -l)"
