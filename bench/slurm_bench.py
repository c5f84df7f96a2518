"""Benchmark: submission overhead per run on a Slurm host (bench/slurm.sh runs it).

A real single-node Slurm cluster (tests/integration/slurm_cluster.py) with 4 stand-in GPUs.
N queued runs (BENCH_RUNS, default 200: a seed sweep, so each run is a Slurm job of its own)
on a slurm host with max_in_flight = N, then `cosmos worker`; measured: from the worker's start
until Slurm holds a job for every run (its job dir has a slurm_job_id). That covers claiming,
staging the inputs into the shared dir (content-addressed: uploaded once), writing spec and
batch script, and `sbatch`. The reference, in the same invocation: a bare loop of N
`sbatch --wrap true` calls (the least any tool pays per job). Printed: both times, per run, and
the ratio ours / bare. Every job is cancelled afterwards; the emulator is slowed down so the
cluster is not busy running models while the submissions are timed.

Knobs: BENCH_RUNS, BENCH_KEEP=1 (keep the temp dir).
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
from slurm_cluster import SlurmCluster, skip_reason, slurm_available  # noqa: E402

COSMOS = os.environ.get("COSMOS_BIN", str(ROOT / "build" / "cosmos"))
EMULATOR = os.environ.get("COSMOS_EMULATOR_BIN", str(ROOT / "build" / "cosmos-emulator"))
RUNS = int(os.environ.get("BENCH_RUNS", "200"))


def run(argv, env, cwd, timeout=600):
    proc = subprocess.run([str(a) for a in argv], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=timeout)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, argv))} failed:\n{proc.stderr[-4000:]}")
    return proc


def make_inputs(folder: Path):
    folder.mkdir(parents=True)
    for name, src in (("color", "testsrc2"), ("depth", "gradients")):
        run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", f"{src}=size=320x176:rate=24",
             "-frames:v", "25", "-pix_fmt", "yuv420p", folder / f"{name}.mp4"], os.environ, folder)


def main() -> int:
    if not slurm_available():
        print(f"skipped: {skip_reason()}")
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="cosmos-slurm-bench-"))
    cluster = SlurmCluster().start()
    try:
        env = cluster.env(dict(os.environ, HOME=str(tmp / "home"), XDG_CONFIG_HOME=str(tmp / "home/.config"),
                               COSMOS_DATA_DIR=str(tmp / "data"), COSMOS_EMULATOR_BIN=EMULATOR,
                               NO_COLOR="1"))
        (tmp / "home").mkdir()
        make_inputs(tmp / "in")
        emu = tmp / "cosmos-transfer1"
        run([COSMOS, "emulator", "install", emu], env, tmp)
        shared = tmp / "shared"
        run([COSMOS, "hosts", "add", "cluster", "--kind", "slurm", "--partition", "debug",
             "--shared-dir", shared, "--cosmos-dir", emu, "--torchrun", f"{emu}/bin/torchrun",
             "--gpus-per-node", "4", "--max-in-flight", str(RUNS),
             "--env", "COSMOS_EMULATOR_TIME_SCALE=5", "--env", f"COSMOS_EMULATOR_GPU_DIR={tmp}/gpus"],
            env, tmp)
        pid = json.loads(run([COSMOS, "create", "prompt", "a harbour", tmp / "in", "--json"], env, tmp).stdout)["id"]
        t0 = time.monotonic()
        run([COSMOS, "sweep", pid, "--seeds", f"1-{RUNS}", "--host", "cluster", "--yes"], env, tmp)
        enqueue_s = time.monotonic() - t0

        worker = subprocess.Popen([COSMOS, "worker", "--host", "cluster", "--max-batch", "1",
                                   "--poll", "0.05"], env=env, cwd=tmp,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        t0 = time.monotonic()
        jobs = shared / "jobs"
        while True:
            submitted = len(list(jobs.glob("*/slurm_job_id"))) if jobs.exists() else 0
            if submitted >= RUNS:
                break
            if worker.poll() is not None or time.monotonic() - t0 > 900:
                raise SystemExit(f"only {submitted} of {RUNS} submitted:\n{worker.stderr.read()[-3000:]}")
            time.sleep(0.02)
        ours_s = time.monotonic() - t0
        ids = [p.read_text().strip() for p in jobs.glob("*/slurm_job_id")]
        submissions = len([i for i in ids if "_" not in i]) + len(list((shared / "arrays").glob("*.sbatch")))
        worker.terminate()
        subprocess.run(["scancel", "--name", "", "-u", "root"], env=env, capture_output=True)
        subprocess.run(["scancel", "-u", "root"], env=env, capture_output=True)
        try:
            worker.wait(timeout=120)
        except subprocess.TimeoutExpired:
            worker.kill()

        wrap_dir = tmp / "wrap"
        wrap_dir.mkdir()
        t0 = time.monotonic()
        for _ in range(RUNS):
            run(["sbatch", "--parsable", "--gres=gpu:1", "-p", "debug", f"--chdir={wrap_dir}",
                 f"--output={wrap_dir}/slurm-%j.out", "--wrap", "true"], env, wrap_dir)
        bare_s = time.monotonic() - t0
        subprocess.run(["scancel", "-u", "root"], env=env, capture_output=True)

        print(f"slurm submission of {RUNS} queued runs (single-node test cluster, 4 stand-in GPUs)")
        print(f"  enqueue (cosmos sweep)          {enqueue_s:8.2f} s")
        print(f"  ours: worker start -> all submitted {ours_s:8.2f} s  {1000 * ours_s / RUNS:7.1f} ms/run "
              f"(claim, stage into the shared dir, spec, script, sbatch)")
        print(f"  ours: sbatch calls              {submissions:8d}    (job arrays group what is submitted within 0.3 s)")
        print(f"  bare: sbatch --wrap loop        {bare_s:8.2f} s  {1000 * bare_s / RUNS:7.1f} ms/run")
        print(f"  ratio ours/bare                 {ours_s / bare_s:8.2f}")
        return 0
    finally:
        cluster.close()
        if os.environ.get("BENCH_KEEP") != "1":
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}")


if __name__ == "__main__":
    sys.exit(main())
