"""Fault injection: a worker killed (SIGKILL) at each named place of the run engine, for single
runs and for batches, then a clean worker taking over. Whatever the place, every run ends
succeeded, with its video, having executed on the model exactly once (the emulator's own record
says how often), and the queue shows each job done on its first attempt.

The places are cosmos's failpoints (COSMOS_FAILPOINTS, src/core/failpoint.hpp): inert unless the
environment names them, so the killed process dies exactly there, as a crash or `kill -9` would
leave it."""
import signal
import subprocess
import time
from pathlib import Path

import pytest

from sshd_server import sshd_available
from test_queue import HOSTS, executions, servers, setup_queue  # noqa: F401  (fixture)

needs_sshd = pytest.mark.skipif(not sshd_available(), reason="sshd not installed")

# (failpoint, --max-batch): single runs pass stage/launch/watch/collect, batches also split.
CASES = [("stage", 1), ("launch", 1), ("watch", 1), ("collect", 1),
         ("stage", 4), ("launch", 4), ("watch", 4), ("collect", 4), ("split", 4)]


def worker_args(batch):
    # Batches: one host (2 GPUs) for 4 runs of 2 configurations, so runs wait for a GPU and the
    # worker batches them; single runs: both hosts, a GPU each.
    hosts = ["--host", "gpu0"] if batch > 1 else HOSTS
    return ["worker", *hosts, "--exit-when-idle", "--poll", "0.2", "--lease", "3",
            "--max-batch", str(batch)]


def killed_at(cosmos, failpoint, batch):
    """Runs a worker armed to die at `failpoint` and returns its stderr; fails the test when it
    finished without reaching the place (the test would then prove nothing)."""
    env = dict(cosmos.env, COSMOS_FAILPOINTS=failpoint)
    proc = subprocess.run([cosmos.binary, *worker_args(batch)],
                          env=env, cwd=cosmos.root, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stderr)
    assert f"failpoint {failpoint}" in proc.stderr, proc.stderr
    return proc.stderr


@needs_sshd
@pytest.mark.parametrize("failpoint,batch", CASES,
                         ids=[f"{f}-{'batch' if b > 1 else 'single'}" for f, b in CASES])
def test_a_worker_killed_anywhere_loses_and_repeats_nothing(cosmos, emulator_bin, servers,
                                                             input_set, failpoint, batch):
    runs, record = setup_queue(cosmos, servers, input_set, 2, "0.05")
    died = killed_at(cosmos, failpoint, batch)
    after = cosmos.run(*worker_args(batch), timeout=600)
    log = died + "\n---\n" + after.stderr
    counts, _, shown = executions(cosmos, runs, record)
    strays = [k for k in counts if k not in shown]
    assert not strays, (strays, log)
    for run_id in runs:
        s = shown[run_id]
        assert s["status"] == "succeeded", (s["status"], s["error"], log)
        assert Path(s["output_video"]).is_file(), s
        assert counts.get(run_id) == 1, (run_id, counts, log)
    if batch > 1:
        assert all(s.get("batch_id") for s in shown.values()), log
    finished = cosmos.json("queue", "--finished", "100")["jobs"]
    assert sorted(j["run"] for j in finished) == sorted(runs)
    assert all(j["state"] == "done" and j["attempts"] == 1 for j in finished), finished


@needs_sshd
def test_an_sshd_restart_while_runs_are_watched_loses_and_repeats_nothing(cosmos, emulator_bin,
                                                                         servers, input_set):
    # Both hosts' sshd go away while a worker follows four runs (its connections drop, new ones
    # are refused) and come back 3 s later: the worker reconnects and collects, and every run
    # succeeds having executed once.
    runs, record = setup_queue(cosmos, servers, input_set, 2, "0.1")
    log = cosmos.root / "worker.log"
    with open(log, "w") as out:  # a file, not a pipe nobody reads until the end
        worker = subprocess.Popen([cosmos.binary, *worker_args(1)], env=dict(cosmos.env),
                                  cwd=cosmos.root, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 120
        while not all(cosmos.json("show", r).get("remote_dir") for r in runs):
            assert time.time() < deadline and worker.poll() is None, [
                (cosmos.json("show", r)["status"], cosmos.json("show", r).get("remote_dir"))
                for r in runs]
            time.sleep(0.2)
        for server in servers:
            server.stop()
        states = [(cosmos.json("show", r)["status"], cosmos.json("show", r)["progress"]) for r in runs]
        assert all(st == "running" for st, _ in states), states
        time.sleep(3)
        for server in servers:
            server.start()
        worker.wait(timeout=300)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    err = log.read_text()
    counts, _, shown = executions(cosmos, runs, record)
    for run_id in runs:
        assert shown[run_id]["status"] == "succeeded", (shown[run_id]["error"], err)
        assert counts.get(run_id) == 1, (run_id, counts, err)
