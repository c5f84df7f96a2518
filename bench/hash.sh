#!/usr/bin/env bash
# Benchmark: checkpoint hashing. Builds a tree of files totalling >= 2 GiB (BENCH_HASH_MIB,
# default 2048, in 16 files), then, over the same files in one run and with a warm page cache:
#   sha256sum (one process, all files)        reference
#   openssl dgst -sha256 (one process)        second reference
#   cosmos checkpoints manifest --local -j 1  our hasher, single thread
#   cosmos checkpoints manifest --local -j N  our hasher, N = nproc threads
#   cosmos checkpoints verify --local         re-verify of unchanged files (must read 0 files)
# Each timing is the best of BENCH_REPEAT (default 3). Prints MB/s, the single-thread ratio
# (sha256sum time / ours; target >= 0.95) and the parallel speedup. Our runs use a fresh data
# dir each time so that nothing is served from the incremental cache.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cosmos=${COSMOS_BIN:-$root/build/cosmos}
mib=${BENCH_HASH_MIB:-2048}
repeat=${BENCH_REPEAT:-3}
jobs=${BENCH_JOBS:-$(nproc)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME=$work XDG_CONFIG_HOME=$work/.config NO_COLOR=1
tree=$work/checkpoints
files=16
per=$((mib / files))
echo "writing $files files of $per MiB under $tree ..."
for i in $(seq 1 $files); do
    d=$tree/nvidia/Cosmos-Transfer1-7B
    [ $((i % 2)) -eq 0 ] && d=$tree/google-t5/t5-11b
    mkdir -p "$d"
    head -c $((per * 1024 * 1024)) /dev/urandom > "$d/part$i.bin"
done
mapfile -d '' list < <(find "$tree" -type f -print0 | sort -z)
total=$(du -cb "${list[@]}" | tail -1 | cut -f1)
cat "${list[@]}" > /dev/null   # warm the page cache

best() {  # best wall time (s) of $repeat runs of "$@"
    local b="" t0 t1 t
    for _ in $(seq 1 "$repeat"); do
        t0=$(date +%s.%N); "$@" > /dev/null; t1=$(date +%s.%N)
        t=$(echo "$t1 - $t0" | bc -l)
        if [ -z "$b" ] || [ "$(echo "$t < $b" | bc -l)" = 1 ]; then b=$t; fi
    done
    echo "$b"
}
ours() {  # ours JOBS: a fresh data dir, so every file is read
    rm -rf "$work/data"
    COSMOS_DATA_DIR=$work/data "$cosmos" checkpoints manifest --local "$tree" -j "$1" -o "$work/m.json" -q
}

t_sum=$(best sha256sum "${list[@]}")
t_ssl=$(best openssl dgst -sha256 "${list[@]}")
t_one=$(best ours 1)
t_par=$(best ours "$jobs")

# Re-verify of unchanged files: the manifest pass above left the hashes in the data dir.
verify=$(COSMOS_DATA_DIR=$work/data "$cosmos" checkpoints verify --local "$tree" --manifest "$work/m.json" --json)
read_files=$(echo "$verify" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["files_read"], j["files"], j["ok"])')
t_re=$(best env COSMOS_DATA_DIR="$work/data" "$cosmos" checkpoints verify --local "$tree" --manifest "$work/m.json" -q)

# Our hashes must equal sha256sum's.
python3 - "$work/m.json" "$tree" <<'PY'
import hashlib, json, sys, pathlib
m = json.load(open(sys.argv[1])); root = pathlib.Path(sys.argv[2])
for f in m["files"]:
    h = hashlib.sha256((root / f["path"]).read_bytes()).hexdigest()
    assert h == f["sha256"], f["path"]
PY
sha256sum "${list[@]}" | awk '{print $1}' > "$work/ref.txt"
python3 -c 'import json,sys; print("\n".join(f["sha256"] for f in json.load(open(sys.argv[1]))["files"]))' "$work/m.json" > "$work/ours.txt"
cmp -s <(sort "$work/ref.txt") <(sort "$work/ours.txt") || { echo "bench: hashes differ from sha256sum"; exit 1; }

mbps() { echo "scale=0; $total / 1048576 / $1" | bc -l; }
echo
printf 'files: %d, %d MiB total, %d cores, best of %d\n' "${#list[@]}" $((total / 1048576)) "$(nproc)" "$repeat"
printf '%-34s %8.3f s  %6s MiB/s\n' "sha256sum" "$t_sum" "$(mbps "$t_sum")"
printf '%-34s %8.3f s  %6s MiB/s\n' "openssl dgst -sha256" "$t_ssl" "$(mbps "$t_ssl")"
printf '%-34s %8.3f s  %6s MiB/s\n' "cosmos (1 thread)" "$t_one" "$(mbps "$t_one")"
printf '%-34s %8.3f s  %6s MiB/s\n' "cosmos ($jobs threads)" "$t_par" "$(mbps "$t_par")"
printf '%-34s %8.3f s\n' "cosmos re-verify (unchanged)" "$t_re"
printf 'single-thread ratio vs sha256sum: %.2f (target >= 0.95)\n' "$(echo "$t_sum / $t_one" | bc -l)"
printf 'single-thread ratio vs openssl:   %.2f\n' "$(echo "$t_ssl / $t_one" | bc -l)"
printf 'parallel speedup (%d threads):     %.2f\n' "$jobs" "$(echo "$t_one / $t_par" | bc -l)"
echo "re-verify: files read, files, ok = $read_files (target: 0 read)"
