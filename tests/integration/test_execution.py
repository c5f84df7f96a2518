"""Local execution through the emulator: the real code path, real processes, real video."""
import json
import os
import signal
import subprocess
import time

from conftest import ffprobe, write_config


def test_inference_runs_records_and_outputs_a_real_video(emulated, input_set):
    cosmos = emulated
    record = cosmos.root / "record.jsonl"
    write_config(cosmos, cosmos.emulator_dir, {"COSMOS_EMULATOR_RECORD": str(record)})
    pid = cosmos.json("create", "prompt", "A foggy harbour at dawn", input_set)["id"]
    r = cosmos.run("--config", cosmos.config, "inference", pid, "--weight", "depth=0.6",
                   "--num-gpus", "2", "--json")
    runs = json.loads(r.stdout)
    assert len(runs) == 1
    run = runs[0]
    assert run["status"] == "succeeded", run
    assert run["host"] == "local"
    video = ffprobe(run["output_video"])
    assert video["frames"] == 25 and video["codec"] == "h264"
    assert (video["width"], video["height"]) == (1280, 704)

    shown = cosmos.json("show", run["id"])
    # The local host runs its jobs like any other host: staged, launched, then ended.
    assert [e["status"] for e in shown["events"]] == ["pending", "running", "running",
                                                      "succeeded"]
    assert [e["detail"] for e in shown["events"]][1:3] == ["staging on host local",
                                                          "launched on host local"]
    assert shown["exit_code"] == 0 and shown["progress"] == 1.0
    argv = shown["command"]["argv"]
    assert argv[1:5] == ["--nproc_per_node=2", "--nnodes=1", "--node_rank=0",
                         "cosmos_transfer1/diffusion/inference/transfer.py"]
    assert argv[argv.index("--num_gpus") + 1] == "2"
    assert shown["command"]["env"]["CUDA_VISIBLE_DEVICES"] == "0,1"
    assert shown["spec"]["depth"]["control_weight"] == 0.6
    assert json.loads(cosmos.run("spec", run["id"]).stdout) == shown["spec"]
    log = open(shown["log_path"]).read()
    assert "Saved video to" in log and "Completed diffusion sampling" in log

    # What the emulator received is exactly what we recorded.
    got = json.loads(record.read_text().splitlines()[-1])
    assert got["env"]["CUDA_VISIBLE_DEVICES"] == "0,1"
    assert got["env"]["PYTHONPATH"] == str(cosmos.emulator_dir)


def test_model_failures_are_recorded_with_log_and_reason(emulated, input_set):
    cosmos = emulated
    pid = cosmos.json("create", "prompt", "harbour", input_set)["id"]
    cases = {"oom": "CUDA out of memory", "crash": "RuntimeError", "guardrail": "guardrail"}
    for mode, expect in cases.items():
        write_config(cosmos, cosmos.emulator_dir, {"COSMOS_EMULATOR_FAIL": mode})
        r = cosmos.run("--config", cosmos.config, "inference", pid, "--json", check=False)
        assert r.returncode == 10, (mode, r.stderr)
        run = json.loads(r.stdout)[0]
        assert run["status"] == "failed"
        assert expect.lower() in run["error"].lower(), (mode, run["error"])
        assert os.path.getsize(run["log_path"]) > 0
        assert "failed" in r.stderr


def test_missing_checkout_is_refused_before_anything_runs(cosmos, input_set):
    cfg = cosmos.root / "c.toml"
    cfg.write_text('[hosts.local]\nkind = "local"\ncosmos_dir = "/nonexistent/cosmos"\n')
    pid = cosmos.json("create", "prompt", "harbour", input_set)["id"]
    r = cosmos.run("--config", cfg, "inference", pid, "--json", check=False)
    assert r.returncode == 4, r.stderr
    assert "/nonexistent/cosmos" in r.stderr and "cosmos emulator install" in r.stderr
    assert cosmos.json("--config", cfg, "list", "runs") == []  # a refusal leaves nothing


def test_missing_launcher_names_host_command_and_setting(emulated, input_set):
    # Without torchrun on the host the run used to end as "exited with code 127".
    cosmos = emulated
    pid = cosmos.json("create", "prompt", "harbour", input_set)["id"]
    for torchrun, says in (("no-such-torchrun", "is not on the PATH"),
                           (str(cosmos.root / "missing" / "torchrun"), "does not exist")):
        text = cosmos.config.read_text().replace(f"{cosmos.emulator_dir}/bin/torchrun", torchrun)
        cfg = cosmos.root / "launcher.toml"
        cfg.write_text(text)
        r = cosmos.run("--config", cfg, "inference", pid, check=False)
        assert r.returncode == 4, r.stderr
        assert "host local" in r.stderr and says in r.stderr and torchrun in r.stderr
        assert "--torchrun" in r.stderr and "PATH" in r.stderr
        assert cosmos.json("--config", cfg, "list", "runs") == []
    # A run made earlier is refused the same way and stays pending, runnable once fixed.
    rid = cosmos.json("create", "run", pid)["id"]
    r = cosmos.run("--config", cfg, "run", rid, check=False)
    assert r.returncode == 4 and cosmos.json("show", rid)["status"] == "pending"
    assert cosmos.json("--config", cosmos.config, "run", rid)[0]["status"] == "succeeded"


def test_ctrl_c_cancels_the_model_and_keeps_the_log(emulated, input_set):
    cosmos = emulated
    write_config(cosmos, cosmos.emulator_dir,
                 {"COSMOS_EMULATOR_TIME_SCALE": "1", "COSMOS_EMULATOR_LOAD_SECONDS": "60"})
    pid = cosmos.json("create", "prompt", "harbour", input_set)["id"]
    env = dict(cosmos.env)
    proc = subprocess.Popen([cosmos.binary, "--config", str(cosmos.config), "inference", pid,
                             "--json"], env=env, cwd=cosmos.root, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    run_id = None
    while time.time() < deadline and run_id is None:
        runs = cosmos.json("list", "runs", "--status", "running")
        run_id = runs[0]["id"] if runs else None
        time.sleep(0.2)
    assert run_id, "the run never started"
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    run = cosmos.json("show", run_id)
    assert run["status"] == "cancelled"
    assert os.path.exists(run["log_path"])
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(cosmos.emulator_dir) not in ps, "the model process must be gone"


def test_concurrent_processes_share_the_database_safely(cosmos, input_set):
    pid = cosmos.json("create", "prompt", "harbour", input_set)["id"]
    procs = [subprocess.Popen([cosmos.binary, "create", "run", pid, "--json"], env=cosmos.env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(12)]
    ids = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        ids.append(json.loads(out)["id"])
    assert len(set(ids)) == 12
    assert len(cosmos.json("list", "runs")) == 12


def test_demo_runs_end_to_end_on_embedded_defaults(cosmos):
    r = cosmos.run("demo", timeout=300)
    assert "succeeded" in r.stdout
    video = [l.split(None, 1)[1] for l in r.stdout.splitlines() if l.startswith("video")][0]
    info = ffprobe(video)
    assert info["frames"] == 121
    # A second demo reuses the generated inputs and adds a second prompt and run.
    cosmos.run("demo", timeout=300)
    assert len(cosmos.json("list", "runs")) == 2


def test_progress_bar_on_a_terminal_and_plain_lines_in_a_pipe(emulated, input_set):
    import pty
    cosmos = emulated
    pid = cosmos.json("create", "prompt", "harbour", input_set)["id"]
    r = cosmos.run("--config", cosmos.config, "inference", pid)
    assert "\x1b[" not in r.stderr, "no escape codes in a pipe"
    assert "progress " in r.stderr
    env = dict(cosmos.env)
    env.pop("NO_COLOR", None)
    env["TERM"] = "xterm"
    env.pop("CI", None)
    master, slave = pty.openpty()
    p = subprocess.Popen([cosmos.binary, "--config", str(cosmos.config), "inference", pid],
                         env=env, cwd=cosmos.root, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    p.wait(timeout=60)
    os.close(master)
    tty_err = b"".join(chunks).decode(errors="replace")
    assert p.returncode == 0
    assert "\r\x1b[2K" in tty_err and "█" in tty_err
