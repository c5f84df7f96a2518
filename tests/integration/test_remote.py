"""Runs on an SSH host, end to end: a real OpenSSH server on 127.0.0.1 (started here, with
generated keys and internal-sftp), the `native` runtime, and the emulator installed in a folder
that plays the host's Cosmos checkout. Nothing of the project is mocked."""
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import ffprobe, make_video
from sshd_server import SshServer, sshd_available

pytestmark = pytest.mark.skipif(not sshd_available(), reason="sshd not installed")



@pytest.fixture
def sshd(tmp_path):
    server = SshServer(tmp_path / "sshd")
    server.start()
    yield server
    server.stop()


def add_host(cosmos, sshd, name="loop", env=None, trust=True, gpus=2):
    emu = cosmos.root / "remote-cosmos"
    if not emu.exists():
        cosmos.run("emulator", "install", emu)
    args = ["hosts", "add", name, "--address", f"127.0.0.1:{sshd.port}",
            "--user", sshd.user, "--key", sshd.user_key, "--gpus", gpus,
            "--cosmos-dir", emu, "--work-dir", cosmos.root / "remote-work",
            "--torchrun", f"{emu}/bin/torchrun"]
    full_env = {"COSMOS_EMULATOR_TIME_SCALE": "0", "COSMOS_EMULATOR_STRICT": "1"}
    full_env.update(env or {})
    for k, v in full_env.items():
        args += ["--env", f"{k}={v}"]
    cosmos.run(*args)
    if trust:
        out = cosmos.run("hosts", "trust", name, "--yes")
        assert "SHA256:" in out.stdout + out.stderr
    return emu


@pytest.fixture
def remote(cosmos, emulator_bin, sshd):
    cosmos.sshd = sshd
    cosmos.emulator_dir = add_host(cosmos, sshd)
    return cosmos


def inference(cosmos, *args, check=True, timeout=180):
    proc = cosmos.run("inference", *args, "--json", check=check, timeout=timeout)
    return json.loads(proc.stdout) if proc.stdout.strip() else None, proc


def test_remote_run_succeeds_and_inputs_are_uploaded_once(remote, input_set):
    cosmos = remote
    pid = cosmos.json("create", "prompt", "A foggy harbour at dawn", input_set)["id"]
    runs, _ = inference(cosmos, pid, "--host", "loop", "--weight", "depth=0.6", "--num-gpus", "2")
    run = runs[0]
    assert run["status"] == "succeeded", run
    assert run["host"] == "loop" and run["runtime"] == "native"
    sizes = sum(p.stat().st_size for p in input_set.iterdir())
    assert run["uploaded_bytes"] == sizes
    assert ffprobe(run["output_video"])["frames"] == 25
    assert Path(run["output_video"]).is_relative_to(cosmos.data_dir)

    shown = cosmos.json("show", run["id"])
    assert [e["status"] for e in shown["events"]][0] == "pending"
    assert shown["events"][-1]["status"] == "succeeded"
    for k in ("upload_s", "run_s", "download_s"):
        assert shown["durations"][k] is not None and shown["durations"][k] >= 0, k
    argv = shown["command"]["argv"]
    assert argv[0].endswith("bin/torchrun") and "--nproc_per_node=2" in argv
    assert argv[argv.index("--num_gpus") + 1] == "2"
    assert shown["command"]["env"]["CUDA_VISIBLE_DEVICES"] == "0,1"
    assert shown["spec"]["depth"]["control_weight"] == 0.6
    # The spec names the inputs as they are on the host, inside the job dir.
    assert shown["spec"]["input_video_path"].startswith(shown["remote_dir"] + "/inputs/")
    log = Path(shown["log_path"]).read_text()
    assert "Saved video to" in log and "Completed diffusion sampling" in log
    assert cosmos.run("logs", run["id"]).stdout == log

    # A second prompt over the same videos sends nothing.
    pid2 = cosmos.json("create", "prompt", "The same harbour at night", input_set)["id"]
    runs2, _ = inference(cosmos, pid2, "--host", "loop")
    assert runs2[0]["status"] == "succeeded", runs2
    assert runs2[0]["uploaded_bytes"] == 0


def test_unknown_host_key_is_refused(cosmos, emulator_bin, sshd, input_set):
    add_host(cosmos, sshd, trust=False)
    pid = cosmos.json("create", "prompt", "harbour", input_set)["id"]
    runs, proc = inference(cosmos, pid, "--host", "loop", check=False)
    assert proc.returncode != 0
    text = proc.stdout + proc.stderr
    assert "unknown" in text and "SHA256:" in text and "cosmos hosts trust loop" in text
    # Nothing ran on the host.
    assert not (cosmos.root / "remote-work" / "jobs").exists()


def test_crash_mid_run_is_failed_with_local_log_and_reason(cosmos, emulator_bin, sshd, input_set):
    add_host(cosmos, sshd, env={"COSMOS_EMULATOR_FAIL": "crash"})
    pid = cosmos.json("create", "prompt", "harbour", input_set)["id"]
    runs, proc = inference(cosmos, pid, "--host", "loop", check=False)
    assert proc.returncode == 10, proc.stderr
    run = cosmos.json("show", runs[0]["id"])
    assert run["status"] == "failed" and run["exit_code"] not in (0, None)
    assert "RuntimeError" in run["error"]
    assert Path(run["log_path"]).exists() and "RuntimeError" in Path(run["log_path"]).read_text()


def test_detach_then_logs_follow_collects(remote, input_set):
    cosmos = remote
    add_host(cosmos, cosmos.sshd, name="slow", env={"COSMOS_EMULATOR_TIME_SCALE": "0.05"})
    pid = cosmos.json("create", "prompt", "harbour", input_set)["id"]
    runs, _ = inference(cosmos, pid, "--host", "slow", "--detach")
    run_id = runs[0]["id"]
    assert runs[0]["status"] == "running"
    followed = cosmos.run("logs", "-f", run_id)
    assert "Saved video to" in followed.stdout
    shown = cosmos.json("show", run_id)
    assert shown["status"] == "succeeded"
    assert ffprobe(shown["output_video"])["frames"] == 25


def test_kill_ends_the_remote_process_within_5s(remote, input_set):
    cosmos = remote
    add_host(cosmos, cosmos.sshd, name="slow", env={"COSMOS_EMULATOR_TIME_SCALE": "1"})
    pid = cosmos.json("create", "prompt", "harbour", input_set)["id"]
    runs, _ = inference(cosmos, pid, "--host", "slow", "--detach")
    run_id = runs[0]["id"]
    job_dir = Path(cosmos.json("show", run_id)["remote_dir"])
    deadline = time.time() + 30
    while time.time() < deadline:
        log = job_dir / "run.log"
        if log.exists() and "oading" in log.read_text():
            break
        time.sleep(0.1)
    model_pid = int((job_dir / "pid").read_text().split()[0])
    os.kill(model_pid, 0)  # alive
    start = time.time()
    killed = cosmos.json("kill", run_id)
    elapsed = time.time() - start
    assert killed[0]["status"] == "cancelled"
    # Not a timing test (shared machines are noisy, and each SSH command pays the login shell's
    # start-up): a bound that only catches a kill that hangs. That the process is gone once
    # `kill` returns is what is checked below.
    assert elapsed < 30, elapsed
    with pytest.raises(ProcessLookupError):
        os.kill(model_pid, 0)
    shown = cosmos.json("show", run_id)
    assert shown["status"] == "cancelled"
    assert Path(shown["log_path"]).exists()


def test_hostile_names_and_text_run_nothing_on_the_host(remote, input_set, tmp_path):
    cosmos = remote
    marker = tmp_path / "pwned"
    hostile = [f"$(touch {marker}1)", f"`touch {marker}2`", f"'; touch {marker}3; echo '",
               f"\"; touch {marker}4; \"", f"a\ntouch {marker}5"]
    ids = []
    for i, text in enumerate(hostile):
        ids.append(cosmos.json("create", "prompt", text, input_set, "--name", f"n{i}")["id"])
    runs, _ = inference(cosmos, *ids, "--host", "loop")
    assert all(r["status"] == "succeeded" for r in runs), runs
    for i in range(1, 6):
        assert not Path(f"{marker}{i}").exists()
    # The text reached the model verbatim, inside the spec file.
    shown = cosmos.json("show", runs[0]["id"])
    assert shown["spec"]["prompt"] == hostile[0]


def test_sshd_restart_during_upload_still_completes(remote, tmp_path):
    cosmos = remote
    big = tmp_path / "big" / "shot"
    # A large lossless noise video makes the upload last long enough to interrupt it.
    big.mkdir(parents=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "nullsrc=size=1280x704:rate=24,geq=random(1)*255:128:128", "-frames:v", "25",
                    "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p",
                    str(big / "color.mp4")], check=True)
    assert (big / "color.mp4").stat().st_size > 20 * 1024 * 1024
    pid = cosmos.json("create", "prompt", "noise", big)["id"]
    cache = cosmos.root / "remote-work" / "cache"
    interrupted = threading.Event()

    def interrupt():
        deadline = time.time() + 60
        while time.time() < deadline:
            parts = list(cache.glob("*.part")) if cache.exists() else []
            if parts and parts[0].stat().st_size > 1024 * 1024:
                cosmos.sshd.stop()
                interrupted.set()
                time.sleep(1.0)
                cosmos.sshd.start()
                return
            time.sleep(0.002)

    t = threading.Thread(target=interrupt)
    t.start()
    runs, proc = inference(cosmos, pid, "--host", "loop", check=False, timeout=240)
    t.join()
    assert interrupted.is_set(), "the upload finished before it could be interrupted"
    assert proc.returncode == 0, (proc.stderr, runs and runs[0].get("error"))
    assert runs[0]["status"] == "succeeded"
    assert runs[0]["uploaded_bytes"] > 0


def test_hosts_commands_and_status(remote):
    cosmos = remote
    hosts = {h["name"]: h for h in cosmos.json("hosts", "list")}
    assert hosts["loop"]["origin"] == "hosts file" and hosts["loop"]["gpus"] == 2
    assert hosts["local"]["origin"] == "default"  # the emulator host stays available
    shown = cosmos.json("hosts", "show", "loop")
    assert shown["port"] == cosmos.sshd.port and shown["runtime"] == "native"

    status = cosmos.json("status", "loop")[0]
    assert status["reachable"] is True, status
    assert status["free_bytes"] > 0
    assert status["gpus"] and status["gpus"][0]["memory_total_mib"] > 0, status
    assert status["running"] == []

    cosmos.sshd.stop()
    down = cosmos.run("status", "loop", check=False)
    assert down.returncode == 7, down.stderr
    assert "unreachable" in down.stdout
    cosmos.sshd.start()

    dup = cosmos.run("hosts", "add", "loop", "--address", "127.0.0.1", "--user", "x", check=False)
    assert dup.returncode == 5 and "--replace" in dup.stderr
    bad = cosmos.run("hosts", "add", "evil", "--address", "127.0.0.1:99999", "--user", "x",
                     check=False)
    assert bad.returncode == 3
    cosmos.run("hosts", "remove", "loop")
    assert "loop" not in {h["name"] for h in cosmos.json("hosts", "list")}


def test_upscale_runs_on_a_finished_run(cosmos, emulator_bin, sshd, input_set):
    add_host(cosmos, sshd, env={"COSMOS_EMULATOR_UPSCALE_SIZE": "640x352"})
    pid = cosmos.json("create", "prompt", "harbour", input_set)["id"]
    runs, _ = inference(cosmos, pid, "--host", "loop", "--upscale", "0.7")
    assert [r["kind"] for r in runs] == ["transfer", "upscale"], runs
    transfer, up = runs
    assert up["status"] == "succeeded", up
    assert up["parent_run_id"] == transfer["id"]
    shown = cosmos.json("show", up["id"])
    assert shown["spec"]["upscale"] == {"control_weight": 0.7}
    argv = shown["command"]["argv"]
    assert argv[argv.index("--num_steps") + 1] == "10"
    assert "--offload_text_encoder_model" in argv
    video = ffprobe(up["output_video"])
    assert (video["width"], video["height"]) == (640, 352)
    # The transfer output is staged from the data dir like any input.
    assert shown["uploaded_bytes"] > 0

    again = json.loads(cosmos.run("upscale", transfer["id"], "--host", "loop", "--json").stdout)
    assert again[0]["status"] == "succeeded" and again[0]["uploaded_bytes"] == 0
    refused = cosmos.run("upscale", up["id"], check=False)
    assert refused.returncode == 5  # an upscale run is not upscaled again


@pytest.mark.parametrize("where", ["loop", "local"])
def test_prompt_enhance_creates_a_child_prompt(remote, tmp_path, where):
    cosmos = remote
    shot = tmp_path / "hd"
    make_video(shot / "color.mp4", frames=5, size="1280x720")  # too large for the upsampler as is
    text = "a harbour; $(touch /tmp/cosmos_pwned_enhance)"
    pid = cosmos.json("create", "prompt", text, shot)["id"]
    args = ["prompt-enhance", pid]
    if where == "loop":
        args += ["--host", "loop"]
    else:
        emu = cosmos.emulator_dir
        cfg = cosmos.root / "local.toml"
        cfg.write_text(f'[hosts.local]\nkind = "local"\ncosmos_dir = "{emu}"\n'
                       f'torchrun = "{emu}/bin/torchrun"\n'
                       'env = { COSMOS_EMULATOR_TIME_SCALE = "0" }\n')
        args = ["--config", cfg] + args
    out = cosmos.json(*args)
    assert len(out) == 1
    run, prompt = out[0]["run"], out[0]["prompt"]
    assert run["kind"] == "enhance" and run["status"] == "succeeded", run
    assert prompt["parent_id"] == pid
    assert prompt["prompt"] and prompt["prompt"] != text
    # Only what the upsampler printed: no trailer of ours (a local run's "# cosmos: exit code 0"
    # once ended the enhanced prompt), no log line.
    assert "cosmos:" not in prompt["prompt"] and "exit code" not in prompt["prompt"], prompt
    assert prompt["prompt"] == prompt["prompt"].strip() and "\n#" not in prompt["prompt"]
    assert prompt["input_video"] == str(shot / "color.mp4")
    shown = cosmos.json("show", run["id"])
    argv = shown["command"]["argv"]
    assert "cosmos_transfer1/auxiliary/upsampler/inference/upsampler_pipeline.py" in argv
    assert argv[argv.index("--prompt") + 1] == text
    clip = Path(cosmos.data_dir) / "runs" / run["id"] / "inputs" / "upsampler_input.mp4"
    v = ffprobe(clip)
    assert v["width"] * v["height"] <= 940 * 529 and v["frames"] == 2
    assert not Path("/tmp/cosmos_pwned_enhance").exists()


def test_hosts_clean_frees_what_finished_runs_left_and_keeps_the_rest(remote, input_set):
    cosmos = remote
    work = cosmos.root / "remote-work"
    pid = cosmos.json("create", "prompt", "A foggy harbour at dawn", input_set)["id"]
    done, _ = inference(cosmos, pid, "--host", "loop")
    lost, _ = inference(cosmos, pid, "--host", "loop", "--seed", "2")
    queued = cosmos.json("inference", pid, "--host", "loop", "--queue")[0]["run"]
    done, lost = done[0], lost[0]
    assert done["status"] == lost["status"] == "succeeded"
    Path(lost["output_video"]).unlink()  # its only copy is now the host's
    (work / "jobs" / queued).mkdir()  # as if a worker had staged it
    (work / "jobs" / "rs_0000000000000000").mkdir()  # another database's
    cached = sorted((work / "cache").rglob("*"))
    cached = [p for p in cached if p.is_file()]
    assert cached and all(p.stat().st_nlink > 1 for p in cached)  # linked into the job dirs
    old = time.time() - 3600
    for p in cached:
        os.utime(p, (old, old))
    # A prompt-enhance run makes a prompt, not a video: its job dir may go like a finished run's.
    enhanced = cosmos.json("prompt-enhance", pid, "--host", "loop")[0]["run"]
    assert enhanced["status"] == "succeeded" and (work / "jobs" / enhanced["id"]).is_dir()

    # Nothing is old enough yet.
    report = cosmos.json("hosts", "clean", "loop")
    assert report["removed"] == [] and len(report["kept"]) == 5, report
    assert {Path(e["path"]).name: e["reason"] for e in report["kept"]}[enhanced["id"]].startswith(
        "changed within the last"), report
    # --dry-run lists, removes nothing.
    dry = cosmos.json("hosts", "clean", "loop", "--older-than", "0", "--dry-run")
    assert sorted(e["path"] for e in dry["removed"]) == sorted(
        str(work / "jobs" / r["id"]) for r in (done, enhanced)), dry
    assert (work / "jobs" / done["id"]).is_dir()
    reasons = {Path(e["path"]).name: e["reason"] for e in dry["kept"]}
    assert "is queued" in reasons[queued]
    assert "not home" in reasons[lost["id"]]
    assert "not a run or batch of this database" in reasons["rs_0000000000000000"]

    report = cosmos.json("hosts", "clean", "loop", "--older-than", "0")
    assert not (work / "jobs" / done["id"]).exists()
    assert (work / "jobs" / lost["id"] / "outputs").is_dir()
    assert (work / "jobs" / queued).is_dir()
    # The inputs are still linked by the kept job dirs, so the cache keeps them.
    assert all(p.exists() for p in cached), report
    assert report["bytes_removed"] > 0 and Path(done["output_video"]).is_file()
    # Once the last job dir using them is gone, the cached inputs go too.
    for name in (lost["id"], queued):
        subprocess.run(["rm", "-rf", str(work / "jobs" / name)], check=True)
    report = cosmos.json("hosts", "clean", "loop", "--older-than", "0")
    assert sorted(e["path"] for e in report["removed"] if e["kind"] == "cache") == sorted(map(str, cached))
    assert not any(p.exists() for p in cached)
    text = cosmos.run("hosts", "clean", "loop", "--older-than", "1x", check=False)
    assert text.returncode != 0 and "not an age" in text.stderr
    # The local host keeps its jobs in <data_dir>/work like any host: cleaned the same way.
    local = cosmos.json("hosts", "clean", "local", "--dry-run")
    assert local["host"] == "local" and local["removed"] == [], local
