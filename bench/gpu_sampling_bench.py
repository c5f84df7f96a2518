"""Benchmark: GPU sampling's cost (bench/gpu_sampling.sh runs it).

The same BENCH_RUNS runs (default 4) of the emulator on the local host (2 GPUs, model time set
by BENCH_TIME_SCALE, default 0.1: about 16 s a run) go one after another, with sampling off
(`gpu_sample_every = 0`, the reference) and on at BENCH_EVERY seconds (default 1: five times
denser than the default 5 s, so the cost shows). The two sides alternate for BENCH_REPS rounds
(default 2) so that drift on a shared machine hits both. Printed per side: wall time and CPU time
(user + system of cosmos and every process it started, nvidia-smi's stream included), and their
ratios on/off (target: wall <= 1.02), the sampling's extra CPU as a share of one core over the
sampled time (target: < 1 % at 1 s), and the rows written per run-minute.
"""
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COSMOS = os.environ.get("COSMOS_BIN", str(ROOT / "build" / "cosmos"))
EMULATOR = os.environ.get("COSMOS_EMULATOR_BIN", str(ROOT / "build" / "cosmos-emulator"))
RUNS = int(os.environ.get("BENCH_RUNS", "4"))
REPS = int(os.environ.get("BENCH_REPS", "2"))
SCALE = os.environ.get("BENCH_TIME_SCALE", "0.1")
EVERY = int(os.environ.get("BENCH_EVERY", "1"))


def cosmos(env, *args):
    proc = subprocess.run([COSMOS, *map(str, args)], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"cosmos {' '.join(map(str, args))} failed:\n{proc.stderr[-3000:]}")
    return proc.stdout


def setup(root, every):
    env = dict(os.environ, HOME=str(root / "home"), XDG_CONFIG_HOME=str(root / "home/.config"),
               COSMOS_DATA_DIR=str(root / "data"), COSMOS_EMULATOR_BIN=EMULATOR, NO_COLOR="1")
    (root / "home").mkdir(parents=True)
    emu = root / "checkout"
    cosmos(env, "emulator", "install", emu)
    cfg = root / "cosmos.toml"
    cfg.write_text(f'[hosts.local]\nkind = "local"\ngpus = 2\ncosmos_dir = "{emu}"\n'
                   f'torchrun = "{emu}/bin/torchrun"\ngpu_sample_every = {every}\n'
                   f'env = {{ COSMOS_EMULATOR_TIME_SCALE = "{SCALE}" }}\n')
    inputs = root / "shot"
    inputs.mkdir()
    for name, src in (("color", "testsrc2"), ("depth", "gradients")):
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"{src}=size=320x176:rate=24",
                        "-frames:v", "25", "-pix_fmt", "yuv420p", "-c:v", "libx264",
                        str(inputs / f"{name}.mp4")], check=True)
    return env, cfg, inputs


def side(root, every):
    env, cfg, inputs = setup(root, every)
    import json
    pid = json.loads(cosmos(env, "--config", cfg, "--json", "create", "prompt", "harbour", inputs))["id"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    for _ in range(RUNS):
        cosmos(env, "--config", cfg, "inference", pid)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    db = root / "data" / "cosmos.db"
    con = sqlite3.connect(db)
    rows = con.execute("SELECT count(*) FROM gpu_samples").fetchone()[0]
    run_s = con.execute("SELECT COALESCE(SUM(run_seconds), 0) FROM runs").fetchone()[0]
    con.close()
    return wall, cpu, rows, run_s


def main():
    for tool in (COSMOS, EMULATOR):
        if not os.access(tool, os.X_OK):
            raise SystemExit(f"{tool} not built (cmake --build build)")
    tmp = Path(tempfile.mkdtemp(prefix="cosmos-bench-gpu-"))
    totals = {"off": [0.0, 0.0, 0, 0.0], "on": [0.0, 0.0, 0, 0.0]}
    try:
        for rep in range(REPS):
            for name, every in (("off", 0), ("on", EVERY)):
                wall, cpu, rows, run_s = side(tmp / f"{name}{rep}", every)
                t = totals[name]
                t[0] += wall
                t[1] += cpu
                t[2] += rows
                t[3] += run_s
                print(f"round {rep + 1} {name:3}: {RUNS} runs in {wall:6.2f} s wall, "
                      f"{cpu:6.2f} s CPU, {rows} sample rows", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    off, on = totals["off"], totals["on"]
    print(f"\nsampling every {EVERY} s vs off, {REPS} x {RUNS} runs each (time scale {SCALE}):")
    print(f"  wall  {on[0]:7.2f} s vs {off[0]:7.2f} s   ratio {on[0] / off[0]:.3f}  (target <= 1.02)")
    share = (on[1] - off[1]) / max(on[0], 1e-9) * 100
    print(f"  CPU   {on[1]:7.2f} s vs {off[1]:7.2f} s   ratio {on[1] / off[1]:.3f}; the extra is "
          f"{share:.2f} % of one core over the sampled time (target < 1 %)")
    minutes = on[3] / 60 or 1
    print(f"  rows  {on[2]} written ({on[2] / minutes:.0f} per run-minute on 2 GPUs); off: {off[2]}")
    if off[2] != 0:
        sys.exit("sampling off wrote samples")


if __name__ == "__main__":
    main()
