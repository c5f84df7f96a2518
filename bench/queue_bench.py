"""Benchmark: the queue against a sequential one-run-one-load baseline (bench/queue.sh runs it).

Two loopback sshd servers play two GPU hosts with 2 GPUs each; the emulator is the model, its
model-load and per-step times set by BENCH_LOAD_S and BENCH_STEP_S (defaults: 1.5 s to load,
0.1 s a step, 35 steps: a real H100 load of about 90 s and a 121-frame clip of about 3.5 minutes,
scaled by 1/60; a load costs about 0.4 runs). Both sides run the same
N runs (BENCH_RUNS, default 60) over 3 control configurations:

  baseline  `cosmos inference RUN... --host gpu0 --max-batch 1`: one run after another on one GPU, one model
            load each (what the Python tool did);
  ours      the runs queued, then `cosmos worker --exit-when-idle` on both hosts (batches of
            compatible runs, GPUs packed, staging and collecting around the model).

Printed: makespan of each and their ratio (target <= 1/3), model loads (target: the number of
compatible groups per host, or fewer), and the GPU-busy fraction of ours (time the GPUs held a
model process / GPU time available between the worker's start and end; target >= 0.95),
computed from the emulator's own record of every model load.

Other knobs: BENCH_MAX_BATCH (worker --max-batch, default 16), BENCH_VERBOSE=1 (each GPU's
model processes on a timeline, and the worker's log), BENCH_SKIP_BASELINE=1 (ours only, for
quick iterations), BENCH_KEEP=1 (keep the temp dir).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from sshd_server import SshServer  # noqa: E402

COSMOS = os.environ.get("COSMOS_BIN", str(ROOT / "build" / "cosmos"))
EMULATOR = os.environ.get("COSMOS_EMULATOR_BIN", str(ROOT / "build" / "cosmos-emulator"))
RUNS = int(os.environ.get("BENCH_RUNS", "60"))
LOAD_S = os.environ.get("BENCH_LOAD_S", "1.5")
STEP_S = os.environ.get("BENCH_STEP_S", "0.1")
MAX_BATCH = os.environ.get("BENCH_MAX_BATCH", "16")
CONFIGS = [("depth",), ("seg", "depth"), ("edge", "vis")]


class Cosmos:
    def __init__(self, root):
        self.root = root
        self.env = dict(os.environ, HOME=str(root / "home"), XDG_CONFIG_HOME=str(root / "home/.config"),
                        COSMOS_DATA_DIR=str(root / "data"), COSMOS_EMULATOR_BIN=EMULATOR, NO_COLOR="1")
        (root / "home").mkdir(parents=True, exist_ok=True)

    def run(self, *args, timeout=3600):
        proc = subprocess.run([COSMOS, *map(str, args)], capture_output=True, text=True,
                              env=self.env, cwd=self.root, timeout=timeout)
        if proc.returncode != 0:
            raise SystemExit(f"cosmos {' '.join(map(str, args))} failed:\n{proc.stderr[-4000:]}")
        return proc

    def json(self, *args):
        return json.loads(self.run(*args, "--json").stdout)


def make_inputs(d):
    d.mkdir(parents=True)
    for name, src in (("color", "testsrc2"), ("depth", "gradients"), ("segmentation", "smptebars")):
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"{src}=size=320x176:rate=24",
                        "-frames:v", "25", "-pix_fmt", "yuv420p", "-c:v", "libx264",
                        str(d / f"{name}.mp4")], check=True)


def weights(active):
    flags = []
    for m in ("vis", "edge", "depth", "seg"):
        flags += ["--weight", f"{m}=0.4" if m in active else f"{m}=0"]
    return flags


def setup(root, servers):
    cosmos = Cosmos(root)
    emu = root / "remote-cosmos"
    cosmos.run("emulator", "install", emu)
    record = root / "record.jsonl"
    for i, server in enumerate(servers):
        name = f"gpu{i}"
        args = ["hosts", "add", name, "--address", f"127.0.0.1:{server.port}", "--user", server.user,
                "--key", server.user_key, "--gpus", 2, "--cosmos-dir", emu,
                "--work-dir", root / f"work-{name}", "--torchrun", f"{emu}/bin/torchrun"]
        env = {"COSMOS_EMULATOR_LOAD_SECONDS": LOAD_S, "COSMOS_EMULATOR_STEP_SECONDS": STEP_S,
               "COSMOS_EMULATOR_RECORD": str(record), "COSMOS_EMULATOR_GPU_DIR": str(root / f"gpus-{name}")}
        for k, v in env.items():
            args += ["--env", f"{k}={v}"]
        cosmos.run(*args)
        cosmos.run("hosts", "trust", name, "--yes")
    make_inputs(root / "inputs" / "shot")
    prompts = [cosmos.json("create", "prompt", f"harbour at dawn, take {i}", root / "inputs" / "shot")["id"]
               for i in range(RUNS // len(CONFIGS))]
    return cosmos, record, prompts


def loads(record, since_ms=0):
    out = []
    for line in record.read_text().splitlines() if record.exists() else []:
        entry = json.loads(line)
        if entry.get("mode") != "torchrun":
            continue
        if not entry.get("model_load"):
            continue
        start, end = entry.get("hold_start_ms"), entry.get("hold_end_ms")
        if start is None or start < since_ms:
            continue
        folder = (entry.get("args") or {}).get("video_save_folder") or ""
        host = next((p[len("work-"):] for p in Path(folder).parts if p.startswith("work-")), "?")
        out.append({"host": host, "gpus": entry.get("gpus", []), "start": start, "end": end,
                    "exit": entry.get("exit_code"), "samples": entry.get("samples_generated", 0)})
    return out


def busy_fraction(entries, gpus_total, t0_ms, t1_ms):
    held = sum(max(0, min(e["end"], t1_ms) - max(e["start"], t0_ms)) * max(1, len(e["gpus"]))
               for e in entries)
    return held / (gpus_total * (t1_ms - t0_ms))


def main():
    if not shutil.which("sshd") and not Path("/usr/sbin/sshd").exists():
        raise SystemExit("sshd is not installed (scripts/install-deps.sh installs it)")
    root = Path(tempfile.mkdtemp(prefix="cosmos-queue-bench-"))
    servers = [SshServer(root / f"sshd{i}").start() for i in range(2)]
    try:
        cosmos, record, prompts = setup(root, servers)
        n = len(prompts) * len(CONFIGS)
        print(f"{n} runs over {len(CONFIGS)} control configurations ({len(prompts)} prompts each); "
              f"model load {LOAD_S} s, step {STEP_S} s x 35 steps; 2 hosts x 2 GPUs; "
              f"max batch {MAX_BATCH}", flush=True)

        # Ours: queue everything, then one worker on both hosts.
        for active in CONFIGS:
            cosmos.run("inference", *prompts, *weights(active), "--queue")
        t0 = time.time()
        worker = cosmos.run("worker", "--host", "gpu0", "--host", "gpu1", "--exit-when-idle",
                            "--poll", "0.2", "--max-batch", MAX_BATCH)
        t1 = time.time()
        ours = [e for e in loads(record, int(t0 * 1000))]
        listed = cosmos.json("list", "runs", "--limit", "1000")
        listed = listed["runs"] if isinstance(listed, dict) else listed
        failed = [r["id"] for r in listed if r["status"] != "succeeded"]
        if failed or any(e["exit"] != 0 for e in ours):
            print(worker.stderr[-3000:])
            raise SystemExit(f"ours: {len(failed)} runs did not succeed: {failed[:5]}")
        groups = {}
        for r in listed:
            shown = cosmos.json("show", r["id"])
            key = tuple(sorted(k for k, v in shown["spec"].items() if isinstance(v, dict)))
            groups.setdefault(shown["host"], set()).add(key)
        group_count = sum(len(g) for g in groups.values())
        ours_busy = busy_fraction(ours, 4, int(t0 * 1000), int(t1 * 1000))
        if os.environ.get("BENCH_VERBOSE"):
            for e in sorted(ours, key=lambda e: (e["host"], e["gpus"], e["start"])):
                print(f"  {e['host']} gpu {e['gpus']}: {e['start'] / 1000 - t0:6.2f} .. "
                      f"{e['end'] / 1000 - t0:6.2f} s, {e['samples']} videos")
            print(worker.stderr[-3000:])
        print(f"ours:     makespan {t1 - t0:7.1f} s, model loads {len(ours)} "
              f"(compatible groups per host, summed: {group_count}), GPU-busy {ours_busy:.3f}",
              flush=True)

        if os.environ.get("BENCH_SKIP_BASELINE"):
            return
        # Baseline: one run after another on one GPU, one model load each.
        b0 = time.time()
        for active in CONFIGS:
            cosmos.run("inference", *prompts, *weights(active), "--host", "gpu0", "--max-batch", 1)
        b1 = time.time()
        base = loads(record, int(b0 * 1000))
        base_busy = busy_fraction(base, 1, int(b0 * 1000), int(b1 * 1000))
        print(f"baseline: makespan {b1 - b0:7.1f} s, model loads {len(base)}, "
              f"GPU-busy {base_busy:.3f} (of its 1 GPU)")
        ratio = (t1 - t0) / (b1 - b0)
        print(f"makespan ratio ours/baseline: {ratio:.3f} (target <= 0.333); "
              f"loads {len(ours)} vs {len(base)}; GPU-busy {ours_busy:.3f} (target >= 0.95)")
    finally:
        for s in servers:
            s.stop()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"kept {root}")


if __name__ == "__main__":
    main()
