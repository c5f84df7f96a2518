#!/usr/bin/env bash
# Benchmark: `cosmos prepare` on 300 frames of 1280x704 PNGs (one color pass, FFmpeg's
# testsrc2) against the ffmpeg CLI encoding the same PNGs with the same encoder settings
# (libx264, yuv420p, same preset and crf, all threads), side by side in one hyperfine run.
# cosmos also writes the manifest (sha256 of the video) and the previews; the CLI does not.
# Prints medians and the ratio. Target: ratio <= 1.1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cosmos=${COSMOS_BIN:-$root/build/cosmos}
frames=${BENCH_FRAMES:-300}
size=${BENCH_SIZE:-1280x704}
preset=${BENCH_PRESET:-veryfast}
crf=${BENCH_CRF:-18}
runs=${BENCH_RUNS:-7}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export COSMOS_DATA_DIR=$work/data HOME=$work XDG_CONFIG_HOME=$work/.config NO_COLOR=1

command -v hyperfine >/dev/null || { echo "bench: hyperfine missing (scripts/install-deps.sh)"; exit 1; }
command -v ffmpeg >/dev/null || { echo "bench: ffmpeg CLI missing"; exit 1; }

echo "rendering $frames frames of $size PNGs..."
mkdir -p "$work/render"
ffmpeg -v error -f lavfi -i "testsrc2=size=$size:rate=24" -frames:v "$frames" -pix_fmt rgb24 \
  -start_number 1 "$work/render/color.%04d.png"
echo "$(ls "$work/render" | wc -l) files, $(du -sh "$work/render" | cut -f1); $(nproc) cores"

ours="$cosmos prepare $work/render -o $work/set --force --fps 24 --crf $crf --preset $preset --quiet"
ref="ffmpeg -v error -y -framerate 24 -start_number 1 -i $work/render/color.%04d.png -c:v libx264 -preset $preset -crf $crf -pix_fmt yuv420p $work/ref.mp4"
# The machine is shared, so load drifts: each round times both commands back to back in one
# hyperfine invocation, and the ratio reported is the median of the rounds' ratios. CPU time
# (user + system) is printed too: it does not depend on what else runs.
hyperfine -N --warmup 1 --runs 1 -n "cosmos prepare" "$ours" -n "ffmpeg CLI" "$ref" >/dev/null 2>&1
for i in $(seq 1 "$runs"); do
  hyperfine -N --runs 1 --export-json "$work/h$i.json" \
    -n "cosmos prepare" "$ours" \
    -n "ffmpeg CLI (same settings)" "$ref" >/dev/null
done

ffprobe -v error -count_frames -show_entries stream=nb_read_frames -of csv=p=0 "$work/set/color.mp4" \
  | xargs echo "cosmos frames:"
ffprobe -v error -count_frames -show_entries stream=nb_read_frames -of csv=p=0 "$work/ref.mp4" \
  | xargs echo "ffmpeg frames:"
ls -l "$work/set/color.mp4" "$work/ref.mp4" | awk '{print $5, $9}'

python3 - "$work" "$runs" <<'PY'
import json, statistics, sys
work, runs = sys.argv[1], int(sys.argv[2])
rounds = [{x["command"]: x for x in json.load(open(f"{work}/h{i}.json"))["results"]}
          for i in range(1, runs + 1)]
names = ["cosmos prepare", "ffmpeg CLI (same settings)"]
wall = {n: [r[n]["times"][0] for r in rounds] for n in names}
cpu = {n: [r[n]["user"] + r[n]["system"] for r in rounds] for n in names}
print(f"{'command':30} {'median wall s':>14} {'min wall s':>11} {'median cpu s':>13}")
for n in names:
    print(f"{n:30} {statistics.median(wall[n]):14.3f} {min(wall[n]):11.3f} "
          f"{statistics.median(cpu[n]):13.3f}")
ratios = [a / b for a, b in zip(wall[names[0]], wall[names[1]])]
print("per-round wall ratios:", " ".join(f"{x:.2f}" for x in ratios))
ratio = statistics.median(ratios)
cpu_ratio = statistics.median(cpu[names[0]]) / statistics.median(cpu[names[1]])
print(f"ratio (median of rounds) {ratio:.3f}  target <= 1.1: {'yes' if ratio <= 1.1 else 'NO'}"
      f"   cpu-time ratio {cpu_ratio:.3f}")
PY
