#!/usr/bin/env bash
# Benchmark: staging 1 GiB of inputs over SSH. Starts an sshd on loopback, then times
# `cosmos stage --host bench FILES` into an empty cache against OpenSSH's `sftp -b` putting the
# same files (same key, same server, strict host-key checking against a temp known_hosts), in
# alternating repetitions. Prints MiB/s of each and the ratios ours/OpenSSH (higher is better;
# target >= 1.0: hashing happens while sending, so staging should cost no more than sftp), and
# the time of a re-stage of the same files (nothing sent) with the local bytes it read (target:
# 0, the local hash cache answers) and how the host proved its copies.
# Two OpenSSH references: `sftp -f` fsyncs each file on the host before it is complete, as
# cosmos does before it renames a file into the cache and stamps it proven (the like-for-like
# reference, and the target); plain `sftp` does not, and the difference is the host's disk
# writing the data out (docs/ssh.md "The input cache").
# Env: BENCH_FILES (default 4), BENCH_MIB (MiB per file, default 256), BENCH_REPS (default 3).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cosmos=${COSMOS_BIN:-$root/build/cosmos}
nfiles=${BENCH_FILES:-4}
mib=${BENCH_MIB:-256}
reps=${BENCH_REPS:-3}
work=$(mktemp -d)
sshd_pid=""
cleanup() { [ -n "$sshd_pid" ] && kill "$sshd_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config COSMOS_DATA_DIR=$work/data NO_COLOR=1
mkdir -p "$HOME/.ssh" "$work/in" && chmod 700 "$HOME/.ssh"

# A loopback sshd (recipe: tests/integration/sshd_server.py).
ssh-keygen -q -t ed25519 -N "" -f "$work/host_key"
ssh-keygen -q -t ed25519 -N "" -f "$work/user_key"
cp "$work/user_key.pub" "$work/authorized_keys"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/sshd_config" <<CFG
Port $port
ListenAddress 127.0.0.1
HostKey $work/host_key
PidFile $work/sshd.pid
AuthorizedKeysFile $work/authorized_keys
PasswordAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
CFG
mkdir -p /run/sshd
/usr/sbin/sshd -D -f "$work/sshd_config" -E "$work/sshd.log" </dev/null &
sshd_pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.05; done
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$work/host_key.pub")" > "$HOME/.ssh/known_hosts"
cat > "$work/cosmos.toml" <<CFG
[hosts.bench]
kind = "ssh"
address = "127.0.0.1"
port = $port
user = "$(id -un)"
key = "$work/user_key"
work_dir = "$work/ours"
CFG

echo "making $nfiles x $mib MiB of random input..."
files=()
for i in $(seq "$nfiles"); do
  head -c "${mib}M" /dev/urandom > "$work/in/input_$i.mp4"
  files+=("$work/in/input_$i.mp4")
done
total_mib=$((nfiles * mib))
batch=$work/sftp.batch
{ echo "-mkdir $work/theirs"; for f in "${files[@]}"; do echo "put $f $work/theirs/"; done; } > "$batch"
sftp_cmd=(sftp -q -b "$batch" -i "$work/user_key" -P "$port" -o BatchMode=yes
          -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$HOME/.ssh/known_hosts"
          "$(id -un)@127.0.0.1")
now() { date +%s.%N; }
ours=() theirs=() synced=()
for rep in $(seq "$reps"); do
  rm -rf "$work/ours" "$work/theirs"; sync
  t0=$(now); "$cosmos" --config "$work/cosmos.toml" --json stage --host bench "${files[@]}" > "$work/stage.json"; t1=$(now)
  ours+=("$(echo "$t1 - $t0" | bc -l)")
  rm -rf "$work/theirs"; sync
  t0=$(now); "${sftp_cmd[@]:0:1}" -f "${sftp_cmd[@]:1}" > /dev/null; t1=$(now)
  synced+=("$(echo "$t1 - $t0" | bc -l)")
  rm -rf "$work/theirs"; sync
  t0=$(now); "${sftp_cmd[@]}" > /dev/null; t1=$(now)
  theirs+=("$(echo "$t1 - $t0" | bc -l)")
  printf 'rep %d: cosmos stage %.2f s, sftp -f put %.2f s, sftp put %.2f s\n' "$rep" \
    "${ours[-1]}" "${synced[-1]}" "${theirs[-1]}"
done
for f in "${files[@]}"; do
  h=$(sha256sum "$f" | cut -d' ' -f1)
  cmp -s "$f" "$work/ours/cache/$h.mp4" || { echo "bench: staged copy of $f differs"; exit 1; }
done
t0=$(now); "$cosmos" --config "$work/cosmos.toml" --json stage --host bench "${files[@]}" > "$work/restage.json"; t1=$(now)
restage=$(echo "$t1 - $t0" | bc -l)
python3 - "$total_mib" "$restage" "$work/restage.json" "${ours[*]}" "${theirs[*]}" "${synced[*]}" <<'PY'
import json, statistics, sys
mib, restage = int(sys.argv[1]), float(sys.argv[2])
rows = json.load(open(sys.argv[3]))
sent = sum(r["uploaded_bytes"] for r in rows)
read = sum(r.get("read_bytes", r["size"]) for r in rows)  # older builds hashed every file
proofs = sorted({r.get("proof", "size") for r in rows})
ours = [float(x) for x in sys.argv[4].split()]
theirs = [float(x) for x in sys.argv[5].split()]
synced = [float(x) for x in sys.argv[6].split()]
mo, mt, ms = statistics.median(ours), statistics.median(theirs), statistics.median(synced)
print(f"{'':40} {'median s':>9} {'MiB/s':>8}")
print(f"{'cosmos stage (hash + upload + fsync)':40} {mo:9.2f} {mib / mo:8.1f}")
print(f"{'OpenSSH sftp -f -b put (fsync)':40} {ms:9.2f} {mib / ms:8.1f}")
print(f"{'OpenSSH sftp -b put (no fsync)':40} {mt:9.2f} {mib / mt:8.1f}")
ratio = ms / mo
print(f"ratio ours/OpenSSH sftp -f: {ratio:.2f} (target >= 1.0: {'yes' if ratio >= 1.0 else 'NO'})")
print(f"ratio ours/OpenSSH sftp without fsync: {mt / mo:.2f} (cosmos fsyncs, this sftp does not)")
print(f"re-stage of the same {mib} MiB: {restage:.2f} s, {sent} bytes sent, "
      f"{read} bytes read locally (target 0), proof: {', '.join(proofs)}")
PY
