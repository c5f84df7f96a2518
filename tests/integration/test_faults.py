"""Fault injection: a worker killed (SIGKILL) at each named place of the run engine, for single
runs and for batches, then a clean worker taking over. Whatever the place, every run ends
succeeded, with its video, having executed on the model exactly once (the emulator's own record
says how often), and the queue shows each job done on its first attempt.

The places are cosmos's failpoints (COSMOS_FAILPOINTS, src/core/failpoint.hpp): inert unless the
environment names them, so the killed process dies exactly there, as a crash or `kill -9` would
leave it."""
import signal
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest

from conftest import write_config
from sshd_server import sshd_available
from test_queue import (HOSTS, executions, model_loads, servers,  # noqa: F401  (fixture)
                        setup_queue)

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


def drop_stream(port, path):
    """Opens an event stream, reads its first bytes and resets the connection (RST, as a killed
    browser tab or a lost network leaves it), never closing it politely."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                 "Accept: text/event-stream\r\n\r\n".encode())
    first = sock.recv(64)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    return first


def test_web_clients_dropping_their_streams_mid_run_lose_nothing(emulated, input_set):
    # While `cosmos serve` executes a run launched through the API, clients keep opening event
    # streams on it and on `cosmos ui` and resetting them mid-stream. The run succeeds having
    # executed once, its job is done on its first attempt, both servers keep answering, and a
    # new stream after it all still gets the run's events.
    from test_web_api import EventStream, Ui, create_prompt  # the web tests' HTTP client

    cosmos = emulated
    record = cosmos.root / "executions.jsonl"
    cosmos.config = write_config(cosmos, cosmos.emulator_dir,
                                 extra_env={"COSMOS_EMULATOR_TIME_SCALE": "0.05",
                                            "COSMOS_EMULATOR_RECORD": str(record)})
    ui = Ui(cosmos, "ui", "--port", "0")
    serve = None
    try:
        ui.json("GET", "/api/health")  # the CSRF cookie
        pid = create_prompt(ui, input_set)["id"]
        rid = ui.json("POST", "/api/runs", {"prompt_id": pid, "params": {"num_steps": 5}},
                      expect=201)["run"]["id"]
        serve = Ui(cosmos, "serve", "--port", "0", "--poll", "0.1")
        dropped, deadline = 0, time.time() + 180
        while True:
            status = ui.json("GET", f"/api/runs/{rid}")["status"]
            if status in ("succeeded", "failed", "cancelled"):
                break
            assert time.time() < deadline, status
            for server in (serve, ui):
                first = drop_stream(server.port, "/api/events")
                assert first.startswith(b"HTTP/1.1 200"), first
                dropped += 1
            assert ui.json("GET", "/api/health")["token_required"] is False
        assert status == "succeeded", ui.json("GET", f"/api/runs/{rid}")
        assert dropped >= 10, dropped  # the run was still going while streams were dropped
        for _ in range(100):  # and more than a few: each must give its place back
            drop_stream(serve.port, "/api/events")
        assert serve.json("GET", "/api/health")["token_required"] is False
        events = EventStream(serve)
        try:
            child = ui.json("POST", "/api/runs", {"prompt_id": pid, "parent_run_id": rid,
                                                  "params": {"num_steps": 5}}, expect=201)
            deadline = time.time() + 120
            while not any(e == "run" and d["id"] == child["run"]["id"]
                          and d["status"] == "succeeded" for e, d, _ in events.all):
                assert time.time() < deadline, [e for e, _, _ in events.all]
                time.sleep(0.2)
        finally:
            events.close()
    finally:
        if serve:
            serve.stop()
        ui.stop()
    loads = [load for load in model_loads(record) if load["exit"] == 0]
    keys = [load["key"] for load in loads]
    assert keys.count(rid) == 1, keys
    finished = cosmos.json("queue", "--finished", "10")["jobs"]
    assert all(j["state"] == "done" and j["attempts"] == 1 for j in finished), finished
