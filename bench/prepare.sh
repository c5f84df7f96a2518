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
runs=${BENCH_RUNS:-5}
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
hyperfine -N --warmup 1 --runs "$runs" --export-json "$work/h.json" \
  -n "cosmos prepare" "$ours" \
  -n "ffmpeg CLI (same settings)" "$ref" >/dev/null

ffprobe -v error -count_frames -show_entries stream=nb_read_frames -of csv=p=0 "$work/set/color.mp4" \
  | xargs echo "cosmos frames:"
ffprobe -v error -count_frames -show_entries stream=nb_read_frames -of csv=p=0 "$work/ref.mp4" \
  | xargs echo "ffmpeg frames:"
ls -l "$work/set/color.mp4" "$work/ref.mp4" | awk '{print $5, $9}'

python3 - "$work/h.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
ours, ref = r["cosmos prepare"], r["ffmpeg CLI (same settings)"]
print(f"{'command':30} {'median s':>9} {'stddev':>7}")
for name, x in (("cosmos prepare", ours), ("ffmpeg CLI (same settings)", ref)):
    print(f"{name:30} {x['median']:9.3f} {x['stddev']:7.3f}")
ratio = ours["median"] / ref["median"]
print(f"ratio {ratio:.3f}  target <= 1.1: {'yes' if ratio <= 1.1 else 'NO'}")
PY
