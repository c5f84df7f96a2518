"""The queue and its workers end to end: two real OpenSSH servers on 127.0.0.1 play two GPU
hosts with 2 GPUs each, the emulator is the model, and `cosmos worker` places queued runs on
them. The emulator's record file (COSMOS_EMULATOR_RECORD, one JSON line per invocation) shows
how often each run really executed."""
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import model_loads
from sshd_server import SshServer, sshd_available

needs_sshd = pytest.mark.skipif(not sshd_available(), reason="sshd not installed")

# The worker serves only the two ssh hosts (by default it would use `local` too).
HOSTS = ["--host", "gpu0", "--host", "gpu1"]


def add_host(cosmos, server, name, record, scale, work_dir=None):
    emu = cosmos.root / "remote-cosmos"
    if not emu.exists():
        cosmos.run("emulator", "install", emu)
    args = ["hosts", "add", name, "--address", f"127.0.0.1:{server.port}",
            "--user", server.user, "--key", server.user_key, "--gpus", 2,
            "--cosmos-dir", emu, "--work-dir", work_dir or cosmos.root / f"work-{name}",
            "--torchrun", f"{emu}/bin/torchrun"]
    # Each host is its own machine: its own GPU locks in the shared emulator checkout.
    env = {"COSMOS_EMULATOR_TIME_SCALE": scale, "COSMOS_EMULATOR_STRICT": "1",
           "COSMOS_EMULATOR_RECORD": str(record),
           "COSMOS_EMULATOR_GPU_DIR": str(cosmos.root / f"gpus-{name}")}
    for k, v in env.items():
        args += ["--env", f"{k}={v}"]
    cosmos.run(*args)
    cosmos.run("hosts", "trust", name, "--yes")


@pytest.fixture
def servers(tmp_path):
    started = [SshServer(tmp_path / f"sshd{i}").start() for i in range(2)]
    yield started
    for s in started:
        s.stop()


def setup_queue(cosmos, servers, input_set, n_prompts, scale):
    record = cosmos.root / "record.jsonl"
    for i, server in enumerate(servers):
        add_host(cosmos, server, f"gpu{i}", record, scale)
    prompts = [cosmos.json("create", "prompt", f"harbour number {i}", input_set)["id"]
               for i in range(n_prompts)]
    runs = []
    # Two control configurations.
    for weights in (["--weight", "depth=0.6"], ["--weight", "seg=0.4", "--weight", "depth=0.2"]):
        queued = cosmos.json("inference", *prompts, *weights, "--queue")
        assert all(q["state"] == "queued" and q["run_status"] == "queued" for q in queued), queued
        runs += [q["run"] for q in queued]
    listed = cosmos.json("queue")
    assert [j["position"] for j in listed["jobs"]] == list(range(1, len(runs) + 1))
    return runs, record


def executions(cosmos, runs, record):
    """How often each run really ran, from the emulator's records: a single run's load names it
    (its job dir), a batch's load has one sample per line, mapped back to the run through the
    batch id and line each run records. A sample that maps to no run (a run executed in an
    earlier batch too) is counted under its (batch, line) key and fails the check."""
    by_line = {}
    shown = {r: cosmos.json("show", r) for r in runs}
    for run_id, s in shown.items():
        by_line[(s.get("batch_id") or run_id, s.get("batch_index") or 0)] = run_id
    counts, devices = {}, {}
    for load in model_loads(record):
        if load["exit"] != 0:
            continue
        lines = [smp.get("index", 0) for smp in load["samples"]] or [0]
        for index in lines:
            run_id = by_line.get((load["key"], index), f"{load['key']}#{index}")
            counts[run_id] = counts.get(run_id, 0) + 1
            devices[run_id] = load["env"]["CUDA_VISIBLE_DEVICES"]
    return counts, devices, shown


def check_all_succeeded_once(cosmos, runs, record, log=""):
    counts, devices, shown_runs = executions(cosmos, runs, record)
    strays = [k for k in counts if k not in shown_runs]
    assert not strays, (strays, log)
    hosts = set()
    for run_id in runs:
        shown = shown_runs[run_id]
        assert shown["status"] == "succeeded", (shown, log)
        assert Path(shown["output_video"]).is_file(), shown
        assert counts.get(run_id) == 1, (run_id, counts.get(run_id))
        assert devices[run_id] in ("0", "1")
        assert shown["command"]["env"]["CUDA_VISIBLE_DEVICES"] == devices[run_id]
        hosts.add(shown["host"])
    assert hosts == {"gpu0", "gpu1"}
    finished = cosmos.json("queue", "--finished", "100")["jobs"]
    assert sorted(j["run"] for j in finished) == sorted(runs)
    assert all(j["state"] == "done" and j["attempts"] == 1 for j in finished), finished
    return shown_runs


@needs_sshd
def test_worker_runs_queue_on_two_hosts_each_run_once(cosmos, emulator_bin, servers, input_set):
    runs, record = setup_queue(cosmos, servers, input_set, 6, "0")
    assert len(runs) == 12
    proc = cosmos.run("worker", *HOSTS, "--exit-when-idle", "--poll", "0.2", timeout=600)
    assert "start gpu" in proc.stderr
    check_all_succeeded_once(cosmos, runs, record, proc.stderr)


@needs_sshd
def test_killed_worker_is_taken_over_without_rerunning(cosmos, emulator_bin, servers, input_set):
    runs, record = setup_queue(cosmos, servers, input_set, 4, "0.05")
    env = dict(cosmos.env)
    worker = subprocess.Popen([cosmos.binary, "worker", *HOSTS, "--poll", "0.2", "--lease", "3"],
                              env=env, cwd=cosmos.root, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            jobs = cosmos.json("queue")["jobs"]
            launched = [j for j in jobs if j["state"] == "running"
                        and cosmos.json("show", j["run"]).get("remote_dir")]
            if len(launched) >= 3:
                break
            time.sleep(0.3)
        else:
            pytest.fail("runs never got in flight")
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.communicate()
    in_flight = [j["run"] for j in cosmos.json("queue")["jobs"] if j["state"] == "running"]
    assert in_flight
    proc = cosmos.run("worker", *HOSTS, "--exit-when-idle", "--poll", "0.2", "--lease", "3",
                      timeout=600)
    assert "taken over" in proc.stderr, proc.stderr
    check_all_succeeded_once(cosmos, runs, record, proc.stderr)


def test_queue_commands_order_pause_cancel(cosmos, emulator_bin, input_set):
    pid = cosmos.json("create", "prompt", "harbour", input_set)["id"]
    first = cosmos.json("inference", pid, pid, pid, "--queue")
    runs = [q["run"] for q in first]
    urgent = cosmos.json("inference", pid, "--queue", "--priority", "5")[0]["run"]
    order = [j["run"] for j in cosmos.json("queue")["jobs"]]
    assert order == [urgent] + runs
    cosmos.run("queue", "move", runs[2], "--to", "1")
    order = [j["run"] for j in cosmos.json("queue")["jobs"]]
    assert order == [runs[2], urgent, runs[0], runs[1]]
    cosmos.run("queue", "pause", runs[0])
    cancelled = cosmos.json("queue", "cancel", runs[1])
    assert cancelled[0]["state"] == "cancelled"
    assert cosmos.json("show", runs[1])["status"] == "cancelled"
    listed = {j["run"]: j for j in cosmos.json("queue")["jobs"]}
    assert listed[runs[0]]["paused"] and runs[1] not in listed
    # A job that ended cannot be cancelled again.
    again = cosmos.run("queue", "cancel", runs[1], check=False)
    assert again.returncode != 0 and "already ended" in again.stderr
    cosmos.run("queue", "pause")
    assert cosmos.json("queue")["paused"] is True
    # A paused queue is idle for a worker: it exits at once.
    proc = cosmos.run("worker", "--exit-when-idle", "--poll", "0.1", timeout=60)
    assert " start " not in proc.stderr and "stopped" in proc.stderr
    cosmos.run("queue", "resume")
    assert cosmos.json("queue")["paused"] is False


def config_weights(active, i):
    """--weight flags giving the modalities in `active` a weight that depends on `i` and the
    others 0 (the defaults give every modality a weight)."""
    flags = []
    for m in ("vis", "edge", "depth", "seg"):
        flags += ["--weight", f"{m}={0.1 + 0.05 * i:.2f}" if m in active else f"{m}=0"]
    return flags


CONFIGS = [("depth",), ("seg", "depth"), ("edge", "vis")]


@needs_sshd
def test_thirty_runs_three_configs_batched_never_mixed(cosmos, emulator_bin, servers,
                                                      input_set):
    """30 runs over 3 control configurations on two hosts with 2 GPUs each: every run succeeds
    exactly once, compatible runs share model loads, and no load mixes configurations."""
    record = cosmos.root / "record.jsonl"
    for i, server in enumerate(servers):
        add_host(cosmos, server, f"gpu{i}", record, "0.005")
    prompts = [cosmos.json("create", "prompt", f"harbour at dawn, variation {i}", input_set)["id"]
               for i in range(10)]
    runs, config_of = [], {}
    for c, weights in enumerate(CONFIGS):
        # Each configuration gets its own weight per prompt, so a run is recognisable in the
        # emulator's record by its prompt and weights.
        for i, pid in enumerate(prompts):
            queued = cosmos.json("inference", pid, *config_weights(weights, i), "--queue")
            runs.append(queued[0]["run"])
            config_of[queued[0]["run"]] = c
    keys = {j["run"]: j["batch_key"] for j in cosmos.json("queue")["jobs"]}
    assert len(set(keys.values())) == 3, keys  # one batch key per configuration
    for r in runs:
        assert keys[r] == keys[runs[config_of[r] * 10]]
    proc = cosmos.run("worker", *HOSTS, "--exit-when-idle", "--poll", "0.2", "--max-batch", "8",
                      timeout=900)
    shown = check_all_succeeded_once(cosmos, runs, record, proc.stderr)
    loads = [ld for ld in model_loads(record) if ld["exit"] == 0]
    batches = [ld for ld in loads if ld["key"].startswith("bat_")]
    assert batches, proc.stderr
    assert len(loads) < len(runs) / 2, [ld["key"] for ld in loads]  # far fewer loads than runs
    for load in batches:
        members = [r for r in runs if shown[r].get("batch_id") == load["key"]]
        assert len(members) == len(load["samples"]) <= 8
        assert len({config_of[r] for r in members}) == 1, (load["key"], members)
        for r in members:
            sample = next(s for s in load["samples"] if s["index"] == shown[r]["batch_index"])
            spec = shown[r]["spec"]
            assert sample["prompt"] == spec["prompt"]
            # The model saw exactly this run's modalities and weights.
            assert sorted(sample["controls"]) == sorted(
                k for k, v in spec.items() if isinstance(v, dict))
            for modality, control in sample["controls"].items():
                assert control["control_weight"] == spec[modality]["control_weight"]
    # The emulator refuses two loads on one GPU at once: none failed, so none overlapped.
    assert all(ld["exit"] == 0 for ld in model_loads(record))


@needs_sshd
def test_batch_outcomes_are_per_line(cosmos, emulator_bin, servers, input_set):
    """One batch of three: the line whose prompt the guardrail blocks fails (no video), the
    others succeed; with a model that crashes, the first line fails with the model's error and
    the lines after it go back to the queue (they are retried, never lost)."""
    record = cosmos.root / "record.jsonl"
    add_host(cosmos, servers[0], "gpu0", record, "0")
    cosmos.run("hosts", "add", "gpu0", "--address", f"127.0.0.1:{servers[0].port}",
               "--user", servers[0].user, "--key", servers[0].user_key, "--gpus", 1,
               "--cosmos-dir", cosmos.root / "remote-cosmos",
               "--work-dir", cosmos.root / "work-gpu0",
               "--torchrun", f"{cosmos.root / 'remote-cosmos'}/bin/torchrun",
               "--env", "COSMOS_EMULATOR_TIME_SCALE=0",
               "--env", f"COSMOS_EMULATOR_RECORD={record}",
               "--env", "COSMOS_EMULATOR_BLOCK_PROMPT=forbidden",
               "--env", f"COSMOS_EMULATOR_GPU_DIR={cosmos.root / 'gpus-gpu0'}", "--replace")
    texts = ["a calm harbour", "a forbidden harbour", "a stormy harbour"]
    prompts = [cosmos.json("create", "prompt", t, input_set)["id"] for t in texts]
    runs = [q["run"] for q in cosmos.json("inference", *prompts, *config_weights(("depth",), 1),
                                          "--queue")]
    proc = cosmos.run("worker", "--host", "gpu0", "--exit-when-idle", "--poll", "0.1",
                      timeout=300)
    shown = [cosmos.json("show", r) for r in runs]
    assert [s["status"] for s in shown] == ["succeeded", "failed", "succeeded"], proc.stderr
    assert len({s["batch_id"] for s in shown}) == 1 and shown[0]["batch_id"].startswith("bat_")
    assert [s["batch_index"] for s in shown] == [0, 1, 2]
    assert "guardrail" in shown[1]["error"]
    assert shown[1]["output_video"] is None
    for s in (shown[0], shown[2]):
        assert Path(s["output_video"]).is_file()
        # Each run's log is the batch's log; its prompt file is its own line's.
        assert Path(s["log_path"]).is_file()
        assert (Path(s["output_video"]).parent / "output.txt").read_text().strip() == s["spec"]["prompt"]
    # One log for the batch; the blocked prompt never reached diffusion.
    assert cosmos.run("logs", runs[2]).stdout.count("Completed diffusion sampling") == 2
    assert len([ld for ld in model_loads(record) if ld["exit"] == 0]) == 1
    # A model that crashes on every load: each batch fails its first line, requeues the rest.
    cosmos.run("hosts", "add", "gpu0", "--address", f"127.0.0.1:{servers[0].port}",
               "--user", servers[0].user, "--key", servers[0].user_key, "--gpus", 1,
               "--cosmos-dir", cosmos.root / "remote-cosmos",
               "--work-dir", cosmos.root / "work-gpu0",
               "--torchrun", f"{cosmos.root / 'remote-cosmos'}/bin/torchrun",
               "--env", "COSMOS_EMULATOR_TIME_SCALE=0", "--env", "COSMOS_EMULATOR_FAIL=crash",
               "--env", f"COSMOS_EMULATOR_GPU_DIR={cosmos.root / 'gpus-gpu0'}", "--replace")
    runs = [q["run"] for q in cosmos.json("inference", *prompts, *config_weights(("seg",), 1),
                                          "--queue")]
    proc = cosmos.run("worker", "--host", "gpu0", "--exit-when-idle", "--poll", "0.1",
                      "--retry-backoff", "0.1", timeout=300)
    shown = [cosmos.json("show", r) for r in runs]
    assert all(s["status"] == "failed" for s in shown), proc.stderr
    assert all("illegal memory access" in s["error"] for s in shown), [s["error"] for s in shown]
    assert "requeued" in proc.stderr
    # 3 lines, then the 2 requeued, then the last one on its own (a batch no longer).
    assert len({s["batch_id"] for s in shown[:2]}) == 2, shown
    assert shown[2]["batch_id"] is None and shown[2]["remote_dir"].endswith(runs[2])


def test_serve_works_the_queue_until_sigterm(emulated, input_set):
    """`cosmos serve` runs the queued work as it arrives and stops cleanly on SIGTERM."""
    cosmos = emulated
    pid = cosmos.json("create", "prompt", "harbour", input_set)["id"]
    proc = subprocess.Popen([cosmos.binary, "serve", "--poll", "0.1", "--port", "0"],
                            env=dict(cosmos.env),
                            cwd=cosmos.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        run = cosmos.json("inference", pid, "--queue")[0]["run"]
        deadline = time.time() + 120
        while cosmos.json("show", run)["status"] != "succeeded":
            assert time.time() < deadline and proc.poll() is None, proc.poll()
            time.sleep(0.2)
        assert proc.poll() is None  # still serving once idle
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode in (0, 130), err
    assert "stopped" in err and run in err


@pytest.mark.parametrize("flags", [
    ["--lease", "0"], ["--lease", "-5"], ["--lease", "nan"], ["--lease", "inf"],
    ["--poll", "-1"], ["--poll", "nan"], ["--retry-backoff", "-1"],
    ["--lease", "1", "--poll", "1"],  # the lease would expire between two renewals
])
def test_worker_refuses_options_that_break_leases(cosmos, flags):
    # With --lease 0 two workers once ran the same runs twice, two runs on one GPU.
    proc = cosmos.run("worker", "--exit-when-idle", *flags, check=False, timeout=30)
    assert proc.returncode != 0, proc.stdout
    text = proc.stderr.lower()
    assert any(w in text for w in ("seconds", "lease", "poll")), proc.stderr
    assert "started" not in text, proc.stderr  # refused before it claimed anything
