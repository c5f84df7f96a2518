"""Benchmark: Cosmos 3 runs as requests to one warm model server against a cold start per run,
and cosmos's overhead per request against curl driving the same server (bench/serving.sh).

The emulator's server mode plays vLLM-Omni (`cosmos-emulator vllm serve ... --omni`): its model
load takes BENCH_LOAD_S seconds (default 4), a request about 1 s (35 steps of a 25-frame 256p
clip at BENCH_STEP_S=2 s per 121-frame 720p step, scaled by frames and pixels as docs/emulator.md
says). Both sides run BENCH_RUNS (default 20) runs of one prompt:

  cold  for each run: start a server, wait until it is ready, `cosmos inference P --model cosmos3
        --host c3`, stop it (a model load per run: what a script per run costs);
  warm  start one server, queue the runs, `cosmos worker --exit-when-idle` (max_concurrent 1).

Printed: makespan and model loads of each (from the emulator's record) and warm/cold (lower is
better). Then BENCH_REQS (default 10) requests on one warm server, one after another, by
`cosmos inference` and by curl (POST, then GET polls at the intervals cosmos uses: 0.1 s growing
by half to 1 s, GET content, DELETE): the mean seconds per request of each and cosmos/curl
(goal <= 1.05).
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COSMOS = os.environ.get("COSMOS_BIN", str(ROOT / "build" / "cosmos"))
EMULATOR = os.environ.get("COSMOS_EMULATOR_BIN", str(ROOT / "build" / "cosmos-emulator"))
RUNS = int(os.environ.get("BENCH_RUNS", "20"))
REQS = int(os.environ.get("BENCH_REQS", "10"))
LOAD_S = os.environ.get("BENCH_LOAD_S", "4")
STEP_S = os.environ.get("BENCH_STEP_S", "2")
KEY = "bench-key-0123456789abcdef"


class Server:
    def __init__(self, root: Path, record: Path):
        env = dict(os.environ, VLLM_API_KEY=KEY, COSMOS_EMULATOR_RECORD=str(record),
                   COSMOS_EMULATOR_SERVER_LOAD_SECONDS=LOAD_S, COSMOS_EMULATOR_STEP_SECONDS=STEP_S,
                   COSMOS_EMULATOR_TIME_SCALE="1", COSMOS_EMULATOR_GPU_DIR=str(root / "gpus"))
        self.log = open(root / "server.log", "w+")
        self.proc = subprocess.Popen([EMULATOR, "vllm", "serve", "nvidia/Cosmos3-Nano", "--omni",
                                      "--port", "0"], stdout=self.log, stderr=subprocess.STDOUT,
                                     env=env)
        deadline = time.time() + 120
        while True:
            self.log.seek(0)
            text = self.log.read()
            m = re.search(r"running on http://127\.0\.0\.1:(\d+)", text)
            if m and "Application startup complete" in text:
                self.url = f"http://127.0.0.1:{m.group(1)}"
                return
            if self.proc.poll() is not None or time.time() > deadline:
                raise SystemExit(f"the emulated server did not start:\n{text}")
            time.sleep(0.05)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)
        self.log.close()


class Cosmos:
    def __init__(self, root: Path):
        self.root = root
        self.env = dict(os.environ, HOME=str(root / "home"),
                        XDG_CONFIG_HOME=str(root / "home/.config"),
                        COSMOS_DATA_DIR=str(root / "data"), NO_COLOR="1")
        (root / "home").mkdir(parents=True, exist_ok=True)
        self.key = root / "c3.key"
        self.key.write_text(KEY + "\n")
        self.key.chmod(0o600)

    def run(self, *args):
        proc = subprocess.run([COSMOS, *map(str, args)], capture_output=True, text=True,
                              env=self.env, cwd=self.root, timeout=3600)
        if proc.returncode != 0:
            raise SystemExit(f"cosmos {' '.join(map(str, args))} failed:\n{proc.stderr[-3000:]}")
        return proc

    def json(self, *args):
        return json.loads(self.run(*args, "--json").stdout)

    def point_at(self, server):
        self.run("hosts", "add", "c3", "--kind", "http", "--url", server.url, "--api-key-file",
                 self.key, "--max-concurrent", "1", "--replace")


def loads(record: Path) -> int:
    if not record.exists():
        return 0
    return sum(1 for line in record.read_text().splitlines()
               if line.strip() and json.loads(line).get("event") == "model_load")


def make_inputs(root: Path) -> Path:
    d = root / "inputs" / "shot"
    d.mkdir(parents=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=320x192:rate=24", "-frames:v", "25", "-c:v", "libx264",
                    "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(d / "color.mp4")],
                   check=True)
    return d


def cold(root: Path, inputs: Path):
    c = Cosmos(root / "cold")
    record = root / "cold.jsonl"
    pid = None
    start = time.monotonic()
    for _ in range(RUNS):
        server = Server(root / "cold", record)
        c.point_at(server)
        if pid is None:
            pid = c.json("create", "prompt", "A harbour at dawn", inputs, "--model", "cosmos3")["id"]
        c.run("inference", pid, "--model", "cosmos3", "--host", "c3")
        server.stop()
    return time.monotonic() - start, loads(record)


def warm(root: Path, inputs: Path):
    c = Cosmos(root / "warm")
    record = root / "warm.jsonl"
    start = time.monotonic()
    server = Server(root / "warm", record)
    c.point_at(server)
    pid = c.json("create", "prompt", "A harbour at dawn", inputs, "--model", "cosmos3")["id"]
    c.run("inference", *([pid] * RUNS), "--model", "cosmos3", "--host", "c3", "--queue")
    c.run("worker", "--host", "c3", "--exit-when-idle", "--poll", "0.1")
    took = time.monotonic() - start
    server.stop()
    return took, loads(record)


def curl_request(url: str, video: Path, out: Path):
    auth = ["-H", f"Authorization: Bearer {KEY}"]
    created = subprocess.run(["curl", "-sf", *auth, f"{url}/v1/videos", "-F",
                              "prompt=A harbour at dawn", "-F", "size=320x192", "-F",
                              "num_frames=25", "-F", "fps=24", "-F", "num_inference_steps=35",
                              "-F", "guidance_scale=7.0", "-F", "seed=1", "-F",
                              f"input_reference=@{video};type=video/mp4"],
                             capture_output=True, text=True, check=True)
    vid = json.loads(created.stdout)["id"]
    poll = 0.1
    while True:
        got = subprocess.run(["curl", "-sf", *auth, f"{url}/v1/videos/{vid}"],
                             capture_output=True, text=True, check=True)
        if json.loads(got.stdout)["status"] in ("completed", "failed"):
            break
        time.sleep(poll)
        poll = min(1.0, poll * 1.5)
    subprocess.run(["curl", "-sf", *auth, "-o", str(out), f"{url}/v1/videos/{vid}/content"],
                   check=True)
    subprocess.run(["curl", "-sf", *auth, "-X", "DELETE", f"{url}/v1/videos/{vid}"],
                   capture_output=True, check=True)


def overhead(root: Path, inputs: Path):
    c = Cosmos(root / "overhead")
    server = Server(root / "overhead", root / "overhead.jsonl")
    c.point_at(server)
    pid = c.json("create", "prompt", "A harbour at dawn", inputs, "--model", "cosmos3")["id"]
    ours, theirs = [], []
    for i in range(REQS):  # alternating, so drifts of a shared machine hit both alike
        t = time.monotonic()
        c.run("inference", pid, "--model", "cosmos3", "--host", "c3")
        ours.append(time.monotonic() - t)
        t = time.monotonic()
        curl_request(server.url, inputs / "color.mp4", root / f"curl{i}.mp4")
        theirs.append(time.monotonic() - t)
    server.stop()
    return sum(ours) / len(ours), sum(theirs) / len(theirs)


def main():
    with tempfile.TemporaryDirectory(prefix="cosmos-serving-bench-") as tmp:
        root = Path(tmp)
        inputs = make_inputs(root)
        cold_s, cold_loads = cold(root, inputs)
        warm_s, warm_loads = warm(root, inputs)
        print(f"{RUNS} runs, load {LOAD_S} s, about 1 s a request")
        print(f"  cold (a server per run): {cold_s:7.1f} s  model loads {cold_loads}")
        print(f"  warm (one server):       {warm_s:7.1f} s  model loads {warm_loads}")
        print(f"  warm/cold makespan: {warm_s / cold_s:.3f}")
        ours, curl = overhead(root, inputs)
        print(f"{REQS} requests on a warm server, one after another")
        print(f"  cosmos inference: {ours:.3f} s/request   curl: {curl:.3f} s/request")
        print(f"  cosmos/curl: {ours / curl:.3f}  (goal <= 1.05)")


if __name__ == "__main__":
    sys.exit(main())
