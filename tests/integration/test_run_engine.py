"""The one run engine on the local host: a `LocalShell` + native runtime host like any other, so
what works on an ssh host works here too (detach, `logs -f`, `kill`, `status`, batches), pending
runs can be run, and refused commands leave nothing behind."""
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ffprobe, model_loads, write_config


def slow(cosmos, scale="1"):
    write_config(cosmos, cosmos.emulator_dir, {"COSMOS_EMULATOR_TIME_SCALE": scale})


def test_local_detach_logs_follow_status_and_kill(emulated, input_set):
    cosmos = emulated
    slow(cosmos, "0.05")
    pid = cosmos.json("create", "prompt", "harbour", input_set)["id"]
    runs = cosmos.json("inference", pid, "--detach")
    run_id = runs[0]["id"]
    assert runs[0]["status"] == "running", runs
    status = cosmos.json("status", "local")
    assert status[0]["reachable"] is True and run_id in status[0]["running"], status
    followed = cosmos.run("logs", "-f", run_id, timeout=120)  # used to return at once
    assert "Saved video to" in followed.stdout
    shown = cosmos.json("show", run_id)
    assert shown["status"] == "succeeded" and shown["progress"] == 1.0
    assert ffprobe(shown["output_video"])["frames"] == 25
    assert shown["remote_dir"] and Path(shown["remote_dir"]).name == run_id

    slow(cosmos, "1")
    run_id = cosmos.json("inference", pid, "--detach")[0]["id"]
    job_dir = Path(cosmos.json("show", run_id)["remote_dir"])
    deadline = time.time() + 30
    while time.time() < deadline and not (job_dir / "pid").exists():
        time.sleep(0.1)
    model_pid = int((job_dir / "pid").read_text().split()[0])
    os.kill(model_pid, 0)
    killed = cosmos.json("kill", run_id)  # used to refuse the local host
    assert killed[0]["status"] == "cancelled"
    with pytest.raises(ProcessLookupError):
        os.kill(model_pid, 0)
    assert Path(cosmos.json("show", run_id)["log_path"]).exists()


def test_run_executes_pending_runs_and_refuses_others(emulated, input_set):
    cosmos = emulated
    pid = cosmos.json("create", "prompt", "harbour", input_set)["id"]
    rid = cosmos.json("create", "run", pid, "--seed", "7")["id"]
    ran = cosmos.json("run", rid)
    assert ran[0]["id"] == rid and ran[0]["status"] == "succeeded", ran
    assert ffprobe(ran[0]["output_video"])["frames"] == 25
    again = cosmos.run("run", rid, check=False)
    assert again.returncode == 5 and "only pending runs" in again.stderr
    assert "cosmos create run" in again.stderr
    # A bad id among good ones runs nothing.
    other = cosmos.json("create", "run", pid)["id"]
    bad = cosmos.run("run", other, "rs_doesnotexist", check=False)
    assert bad.returncode == 4 and cosmos.json("show", other)["status"] == "pending"
    # Queued, then worked.
    queued = cosmos.json("run", other, "--queue")
    assert queued[0]["state"] == "queued" and queued[0]["run_status"] == "queued", queued
    cosmos.run("worker", "--exit-when-idle", "--poll", "0.1", timeout=120)
    assert cosmos.json("show", other)["status"] == "succeeded"


def test_refused_commands_leave_nothing_behind(emulated, input_set, tmp_path):
    cosmos = emulated
    pid = cosmos.json("create", "prompt", "harbour", input_set)["id"]
    # Too many GPUs (the host has 2).
    r = cosmos.run("inference", pid, "--num-gpus", "4", check=False)
    assert r.returncode in (2, 3), r.stderr
    assert cosmos.json("list", "runs") == []
    # A token file anyone may read.
    token = tmp_path / "hf_token"
    token.write_text("hf_refusedTokenabc123\n")
    token.chmod(0o644)
    cfg = cosmos.config.read_text() + f'\n[huggingface]\ntoken_file = "{token}"\n'
    bad = cosmos.root / "token.toml"
    bad.write_text(cfg)
    r = cosmos.run("--config", bad, "inference", pid, check=False)
    assert r.returncode != 0 and "hf_refusedToken" not in r.stderr + r.stdout
    assert cosmos.json("list", "runs") == []
    # The emulator install of the default host fails (its checkout path is taken by a file).
    data = tmp_path / "data2"
    data.mkdir()
    (data / "emulator").write_text("not a directory")
    (tmp_path / "none.toml").write_text("")
    env = {"COSMOS_DATA_DIR": str(data), "COSMOS_CONFIG": str(tmp_path / "none.toml")}
    p2 = cosmos.json("create", "prompt", "harbour", input_set, env=env)["id"]
    r = cosmos.run("inference", p2, env=env, check=False)
    assert r.returncode != 0 and "emulator" in r.stderr, r.stderr
    assert cosmos.json("list", "runs", env=env) == []


def test_upscale_of_a_never_run_run_is_refused_and_the_worker_ends(emulated, input_set):
    cosmos = emulated
    pid = cosmos.json("create", "prompt", "harbour", input_set)["id"]
    rid = cosmos.json("create", "run", pid)["id"]
    r = cosmos.run("upscale", rid, "--queue", check=False)
    assert r.returncode == 5, r.stderr
    assert "never ran" in r.stderr and f"cosmos run {rid} --queue" in r.stderr
    start = time.monotonic()
    cosmos.run("worker", "--exit-when-idle", "--poll", "0.1", timeout=60)
    assert time.monotonic() - start < 30


def test_compatible_runs_share_one_model_load_on_the_local_host(emulated, input_set):
    cosmos = emulated
    record = cosmos.root / "record.jsonl"
    write_config(cosmos, cosmos.emulator_dir, {"COSMOS_EMULATOR_RECORD": str(record)})
    prompts = [cosmos.json("create", "prompt", f"harbour {i}", input_set)["id"] for i in range(4)]
    queued = cosmos.json("inference", *prompts, "--weight", "depth=0.5", "--queue")
    cosmos.run("worker", "--exit-when-idle", "--poll", "0.1", timeout=180)
    # 4 compatible runs on the host's 2 GPUs: a fair share of 2 per GPU, one load each.
    loads = model_loads(record)
    assert sorted(len(l["samples"]) for l in loads) == [2, 2], loads
    for q in queued:
        shown = cosmos.json("show", q["run"])
        assert shown["status"] == "succeeded" and shown["batch_id"], shown
        assert ffprobe(shown["output_video"])["frames"] == 25


def test_inference_of_several_prompts_shares_one_model_load(emulated, input_set):
    # `cosmos inference P1 P2 P3` used to load the model once per run.
    cosmos = emulated
    record = cosmos.root / "record.jsonl"
    write_config(cosmos, cosmos.emulator_dir, {"COSMOS_EMULATOR_RECORD": str(record)})
    prompts = [cosmos.json("create", "prompt", f"harbour {i}", input_set)["id"] for i in range(3)]
    runs = cosmos.json("inference", *prompts, "--weight", "depth=0.5", timeout=180)
    assert [r["status"] for r in runs] == ["succeeded"] * 3, runs
    assert [r["prompt_id"] for r in runs] == prompts  # reported in the order given
    loads = model_loads(record)
    assert len(loads) == 1 and len(loads[0]["samples"]) == 3, loads
    for r in runs:
        assert ffprobe(r["output_video"])["frames"] == 25
    # --max-batch 1: one load per run, as before.
    more = cosmos.json("inference", *prompts[:2], "--weight", "depth=0.5", "--max-batch", "1")
    assert [r["status"] for r in more] == ["succeeded"] * 2
    assert len(model_loads(record)) == 3
