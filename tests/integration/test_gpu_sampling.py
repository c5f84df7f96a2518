"""GPU usage over time: while a host has work, ONE `nvidia-smi -l` stream per host samples its
GPUs (not a command per sample); samples land in the database, the run records the mean and peak
of the GPUs it held (not of the host's idle ones), `cosmos show` gives them (so far, while it
runs), the stream ends with the work, and the API serves the series for charts. The emulator's
nvidia-smi is the GPU (busy while a run holds its lock); the database is read with sqlite3."""
import json
import os
import sqlite3
import subprocess
import time

import pytest

from conftest import wait_for, write_config
from sshd_server import SshServer, sshd_available
from test_web_api import Ui

QUERY = "--query-gpu=index,utilization.gpu,memory.used,memory.total,power.draw,temperature.gpu"


def sampler_pids(root):
    """Processes running nvidia-smi with the sampler's query from this test's emulator (under
    `root`: other tests may sample their own hosts at the same time)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if QUERY.encode() in argv and b"-l" in argv and any(str(root).encode() in a
                                                             for a in argv):
            pids.append(int(entry))
    return pids


def start_run(cosmos, pid, *args):
    out = (cosmos.root / f"run-{time.time_ns()}.out").open("w")
    proc = subprocess.Popen([cosmos.binary, "--json", "inference", pid, *args],
                            env=dict(cosmos.env), cwd=cosmos.root, stdout=out,
                            stderr=subprocess.STDOUT)
    return proc, out.name


def running_run(cosmos, proc, log):
    def started():
        assert proc.poll() is None, open(log).read()
        runs = cosmos.json("list", "runs")
        return runs and runs[0]["status"] == "running" and runs[0]["progress"] > 0 and runs[0]
    return wait_for("the model running", started, 120)


def samples(cosmos, host):
    db = sqlite3.connect(cosmos.data_dir / "cosmos.db")
    try:
        return db.execute("SELECT gpu, util_mean, mem_max_mib, n, span_s FROM gpu_samples "
                          "WHERE host = ? ORDER BY t_ms", (host,)).fetchall()
    finally:
        db.close()


@pytest.fixture
def sampled(emulated):
    cosmos = emulated
    cosmos.config = write_config(cosmos, cosmos.emulator_dir,
                                 extra_env={"COSMOS_EMULATOR_TIME_SCALE": "0.6",
                                            "COSMOS_EMULATOR_GPUS": "2"},
                                 extra="gpu_sample_every = 1")
    return cosmos


def test_a_run_records_the_usage_of_the_gpus_it_held_from_one_stream(sampled, input_set):
    cosmos = sampled
    assert sampler_pids(cosmos.root) == []
    pid = cosmos.json("create", "prompt", "harbour at dawn", input_set)["id"]
    proc, log = start_run(cosmos, pid)  # one GPU of the host's two
    run = running_run(cosmos, proc, log)
    # One stream for the host, the same process for the whole run (not one per sample).
    first = wait_for("the sampler", lambda: sampler_pids(cosmos.root))
    assert len(first) == 1, first
    live = wait_for("usage so far", lambda: cosmos.json("show", run["id"])["gpu"]
                    ["util_mean_percent"] is not None and cosmos.json("show", run["id"]))
    assert live["status"] == "running" and live["gpu"]["ids"] == [0], live["gpu"]
    text = cosmos.run("show", run["id"]).stdout
    assert "gpu       0: utilisation mean" in text, text
    if "status    running" in text:  # (a loaded machine may have finished it meanwhile)
        assert "(so far)" in text, text
    time.sleep(2.5)
    if proc.poll() is None:  # still running: still the same one stream
        assert sampler_pids(cosmos.root) == first
    assert proc.wait(timeout=300) == 0, open(log).read()

    shown = cosmos.json("show", run["id"])
    gpu = shown["gpu"]
    assert shown["status"] == "succeeded" and gpu["ids"] == [0], shown
    # The held GPU read 88-99 % while the model ran (0 % before it took the GPU).
    assert 88 <= gpu["util_peak_percent"] <= 99, gpu
    assert 30 < gpu["util_mean_percent"] <= 99, gpu
    assert gpu["mem_peak_mib"] == 73403, gpu  # the emulator's footprint of a held H100
    rows = samples(cosmos, "local")
    # Both GPUs were sampled; GPU 1 idled, and the run's figures are GPU 0's alone.
    assert {r[0] for r in rows} == {0, 1}, rows
    assert all(r[1] == 0 for r in rows if r[0] == 1), rows
    assert all(r[4] == 0 and r[3] == 1 for r in rows), rows
    assert len([r for r in rows if r[0] == 0]) >= 3, rows
    # The stream ended with the work.
    wait_for("the sampler gone", lambda: sampler_pids(cosmos.root) == [], 15)
    assert "gpu       0: utilisation mean" in cosmos.run("show", run["id"]).stdout
    assert "(so far)" not in cosmos.run("show", run["id"]).stdout


def test_sampling_off_and_bad_intervals(emulated, input_set):
    cosmos = emulated
    cosmos.config = write_config(cosmos, cosmos.emulator_dir, extra="gpu_sample_every = 0")
    pid = cosmos.json("create", "prompt", "harbour at dawn", input_set)["id"]
    run = cosmos.json("inference", pid)[0]
    assert run["status"] == "succeeded"
    assert cosmos.json("show", run["id"])["gpu"]["util_mean_percent"] is None
    assert samples(cosmos, "local") == []
    for bad in ("-1", "3601", '"5"'):
        cosmos.config = write_config(cosmos, cosmos.emulator_dir,
                                     extra=f"gpu_sample_every = {bad}")
        proc = cosmos.run("config", "check", check=False)
        assert proc.returncode == 6 and "gpu_sample_every" in proc.stderr, proc.stderr


@pytest.mark.skipif(not sshd_available(), reason="sshd not installed")
def test_an_ssh_host_is_sampled_through_its_connection_and_charted(cosmos, tmp_path, input_set):
    sshd = SshServer(tmp_path / "sshd").start()
    ui = None
    try:
        emu = cosmos.root / "remote-cosmos"
        cosmos.run("emulator", "install", emu)
        cosmos.run("hosts", "add", "gpu1", "--address", f"127.0.0.1:{sshd.port}",
                   "--user", sshd.user, "--key", sshd.user_key, "--gpus", 2,
                   "--cosmos-dir", emu, "--work-dir", cosmos.root / "work-gpu1",
                   "--torchrun", f"{emu}/bin/torchrun",
                   "--env", "COSMOS_EMULATOR_TIME_SCALE=0.3", "--env", "COSMOS_EMULATOR_STRICT=1",
                   "--env", "COSMOS_EMULATOR_GPUS=2",
                   "--gpu-sample-every", 1)
        cosmos.run("hosts", "trust", "gpu1", "--yes")
        bad = cosmos.run("hosts", "add", "gpu2", "--address", "127.0.0.1", "--user", "u",
                         "--gpu-sample-every", 4000, check=False)
        assert bad.returncode == 3 and "gpu_sample_every 4000" in bad.stderr, bad.stderr
        pid = cosmos.json("create", "prompt", "harbour at dawn", input_set)["id"]
        proc, log = start_run(cosmos, pid, "--host", "gpu1", "--num-gpus", "2")
        run = running_run(cosmos, proc, log)
        assert len(wait_for("the sampler", lambda: sampler_pids(cosmos.root))) == 1
        assert proc.wait(timeout=300) == 0, open(log).read()
        gpu = cosmos.json("show", run["id"])["gpu"]
        assert gpu["ids"] == [0, 1] and 88 <= gpu["util_peak_percent"] <= 99, gpu
        # nvidia-smi on the host reports all of its GPUs (the emulator's 8 here: the model's
        # environment, which says 2, is not nvidia-smi's); the two the run held read busy.
        rows = samples(cosmos, "gpu1")
        assert {0, 1} <= {r[0] for r in rows}, rows
        assert all(r[1] == 0 for r in rows if r[0] >= 2), rows
        wait_for("the sampler gone", lambda: sampler_pids(cosmos.root) == [], 15)

        ui = Ui(cosmos, "ui", "--port", "0")
        history = ui.json("GET", "/api/hosts/gpu1/gpu?minutes=10&points=60")
        assert history["host"] == "gpu1" and [g["gpu"] for g in history["gpus"]][:2] == [0, 1]
        points = history["gpus"][0]["points"]
        assert 1 <= len(points) <= 60 and max(p[2] for p in points) >= 88, points
        assert all(len(p) == 7 and p[4] == 81559 for p in points), points
        per_run = ui.json("GET", f"/api/runs/{run['id']}/gpu")
        assert per_run["run"] == run["id"] and [g["gpu"] for g in per_run["gpus"]] == [0, 1]
        shown = ui.json("GET", f"/api/runs/{run['id']}")
        assert shown["gpu"] == gpu and shown["gpu_history_url"] == f"/api/runs/{run['id']}/gpu"
        ui.error("GET", "/api/hosts/nope/gpu", 404)
        ui.error("GET", "/api/hosts/gpu1/gpu?minutes=0", 400)
        ui.error("GET", "/api/hosts/gpu1/gpu?points=abc", 400)
    finally:
        if ui:
            ui.stop()
        sshd.stop()
