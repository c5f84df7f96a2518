"""Supply chain, end to end over a real loopback OpenSSH server and the emulator's checkout:
checkpoint manifests and verify (tampering named, incremental re-hashing, the run gate and
--skip-verify), pinned images, and the Hugging Face token that must never show up in the host's
process list, the logs, the database or error output. Nothing of the project is mocked."""
import hashlib
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from sshd_server import sshd_available
from test_remote import add_host, inference, sshd  # noqa: F401  (fixture)

pytestmark = pytest.mark.skipif(not sshd_available(), reason="sshd not installed")


def checkpoints(cosmos, *args, check=True):
    return cosmos.run("checkpoints", *args, check=check, timeout=120)


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def loop(cosmos, emulator_bin, sshd):
    cosmos.emulator_dir = add_host(cosmos, sshd)
    cosmos.ckpt = cosmos.emulator_dir / "checkpoints"
    return cosmos


def test_manifest_lists_every_file_with_hash_and_repo(loop):
    cosmos = loop
    out = cosmos.root / "manifest.json"
    checkpoints(cosmos, "manifest", "--host", "loop", "-o", out)
    manifest = json.loads(out.read_text())
    assert manifest["format"] == "cosmos-checkpoint-manifest" and manifest["version"] == 1
    on_disk = sorted(str(p.relative_to(cosmos.ckpt)) for p in cosmos.ckpt.rglob("*") if p.is_file())
    assert [f["path"] for f in manifest["files"]] == on_disk
    for f in manifest["files"]:
        assert f["sha256"] == sha256(cosmos.ckpt / f["path"]), f["path"]
        assert f["size"] == (cosmos.ckpt / f["path"]).stat().st_size
    base = next(f for f in manifest["files"] if f["path"].endswith("Cosmos-Transfer1-7B/base_model.pt"))
    assert base["repo"] == "nvidia/Cosmos-Transfer1-7B"
    # The same code hashes a local directory and agrees.
    local = cosmos.root / "local.json"
    checkpoints(cosmos, "manifest", "--local", cosmos.ckpt, "-o", local)
    assert json.loads(local.read_text()) == manifest


def test_tampering_is_named_and_blocks_runs_until_fixed(loop, input_set):
    cosmos = loop
    out = cosmos.root / "manifest.json"
    checkpoints(cosmos, "manifest", "--host", "loop", "-o", out)
    ok = json.loads(checkpoints(cosmos, "verify", "--host", "loop", "--manifest", out, "--json").stdout)
    assert ok["ok"] and ok["files_read"] == 0, ok  # nothing changed since the manifest pass

    files = sorted(p for p in cosmos.ckpt.rglob("*") if p.is_file())
    changed, removed = files[0], files[1]
    saved_changed, saved_removed = changed.read_bytes(), removed.read_bytes()
    data = bytearray(saved_changed)
    data[0] ^= 1  # one byte, same size
    changed.write_bytes(bytes(data))
    removed.unlink()
    added = cosmos.ckpt / "nvidia" / "Cosmos-Transfer1-7B" / "intruder.pt"
    added.write_bytes(b"not a checkpoint")

    proc = checkpoints(cosmos, "verify", "--host", "loop", "--manifest", out, check=False)
    assert proc.returncode == 5, proc.stderr
    rel = lambda p: str(p.relative_to(cosmos.ckpt))  # noqa: E731
    assert f"changed {rel(changed)}" in proc.stdout
    assert f"missing {rel(removed)}" in proc.stdout
    assert f"extra {rel(added)}" in proc.stdout
    assert "MISMATCH" in proc.stdout
    report = json.loads(checkpoints(cosmos, "verify", "--host", "loop", "--manifest", out, "--json",
                                    check=False).stdout)
    assert report["missing"] == [rel(removed)] and report["extra"] == [rel(added)]
    assert [c["path"] for c in report["changed"]] == [rel(changed)]
    assert report["files_read"] == 0  # the second pass re-reads nothing
    # --local names the same files.
    local = checkpoints(cosmos, "verify", "--local", cosmos.ckpt, "--manifest", out, check=False)
    assert local.returncode == 5 and f"extra {rel(added)}" in local.stdout

    # Runs on the host are refused, naming the fix; --skip-verify runs and is recorded.
    pid = cosmos.json("create", "prompt", "harbour", input_set)["id"]
    _, refused = inference(cosmos, pid, "--host", "loop", check=False)
    assert refused.returncode == 5, refused.stderr
    assert "cosmos checkpoints verify --host loop" in refused.stdout + refused.stderr
    assert cosmos.json("list", "runs") == []  # the refused command left no run behind
    runs, _ = inference(cosmos, pid, "--host", "loop", "--skip-verify", check=False)
    # It starts; the (strict) emulator then fails on the missing file, as the model would.
    assert runs[0]["status"] in ("succeeded", "failed"), runs
    if runs[0]["status"] == "failed":
        assert rel(removed).split("/")[-1] in runs[0]["error"], runs[0]["error"]
    events = cosmos.json("show", runs[0]["id"])["events"]
    assert any("--skip-verify" in (e.get("detail") or "") for e in events), events

    # Put things back: verify passes (re-reading only the two touched files) and runs start.
    changed.write_bytes(saved_changed)
    removed.write_bytes(saved_removed)
    added.unlink()
    fixed = json.loads(checkpoints(cosmos, "verify", "--host", "loop", "--manifest", out, "--json").stdout)
    assert fixed["ok"] and fixed["files_read"] == 2, fixed
    runs, _ = inference(cosmos, pid, "--host", "loop")
    assert runs[0]["status"] == "succeeded"

    # A checkpoint modified after the verify makes it stale: runs are refused again.
    time.sleep(0.05)
    os.utime(changed)
    before = len(cosmos.json("list", "runs"))
    _, stale = inference(cosmos, pid, "--host", "loop", check=False)
    assert stale.returncode == 5 and "changed after its last verify" in stale.stderr + stale.stdout
    assert len(cosmos.json("list", "runs")) == before


def test_verify_without_manifest_uses_the_last_one_written(loop):
    cosmos = loop
    proc = checkpoints(cosmos, "verify", "--host", "loop", check=False)
    assert proc.returncode == 4 and "checkpoints manifest" in proc.stderr
    checkpoints(cosmos, "manifest", "--host", "loop", "-o", cosmos.root / "m.json")
    assert "ok (" in checkpoints(cosmos, "verify", "--host", "loop").stdout


def write_cfg(cosmos, text):
    cfg = cosmos.root / "cosmos.toml"
    cfg.write_text(text)
    return {"COSMOS_CONFIG": str(cfg)}


def test_latest_image_is_refused_with_pinning_hint(cosmos, input_set, emulator_bin):
    env = write_cfg(cosmos, '[run]\nhost = "d"\n[docker]\nimage = "nvcr.io/cosmos-transfer1:latest"\n'
                            f'[hosts.d]\nruntime = "docker"\ncosmos_dir = "{cosmos.root}/emu"\n')
    proc = cosmos.run("config", "check", env=env, check=False)
    assert proc.returncode == 6, proc.stderr
    assert ":latest" in proc.stderr and "nvcr.io/cosmos-transfer1:v1.2.3" in proc.stderr
    assert "@sha256:" in proc.stderr
    pid = cosmos.json("create", "prompt", "harbour", input_set, env=env)["id"]
    proc = cosmos.run("inference", pid, "--host", "d", env=env, check=False)
    assert proc.returncode == 6 and "--allow-unpinned" in proc.stderr
    assert cosmos.json("list", "runs", env=env) == []  # the refusal left nothing behind
    # --allow-unpinned lets it start (it then fails here: no docker engine) and is recorded on
    # the run.
    cosmos.run("emulator", "install", cosmos.root / "emu")
    cosmos.run("inference", pid, "--host", "d", "--allow-unpinned", env=env, check=False)
    runs = cosmos.json("list", "runs", env=env)
    allowed = [r for r in runs if r["status"] != "pending"]
    assert len(allowed) == 1, runs
    events = cosmos.json("show", allowed[0]["id"], env=env)["events"]
    assert any("unpinned image nvcr.io/cosmos-transfer1:latest allowed (--allow-unpinned)"
               == e.get("detail") for e in events), events
    pinned = write_cfg(cosmos, '[run]\nhost = "d"\n[docker]\nimage = "nvcr.io/cosmos-transfer1:v1.0.0"\n'
                               f'[hosts.d]\nruntime = "docker"\ncosmos_dir = "{cosmos.root}/emu"\n')
    assert cosmos.run("config", "check", env=pinned).returncode == 0


@pytest.mark.parametrize("image", ["nvcr.io/me/cosmos:latest", "nvcr.io/me/cosmos",
                                   "nvcr.io/me/cosmos@sha256:abc"])
def test_hosts_add_refuses_what_config_check_would(cosmos, image):
    # An unpinned image is refused when the host is added, not saved and refused later.
    proc = cosmos.run("hosts", "add", "d", "--address", "127.0.0.1", "--user", "u",
                      "--runtime", "docker", "--image", image, check=False)
    assert proc.returncode == 3 and "--image" in proc.stderr and "pin it" in proc.stderr, \
        proc.stderr
    assert "d" not in [h["name"] for h in cosmos.json("hosts", "list")]
    ok = cosmos.run("hosts", "add", "d", "--address", "127.0.0.1", "--user", "u",
                    "--runtime", "docker", "--image", "nvcr.io/me/cosmos:1.2.3")
    assert ok.returncode == 0 and cosmos.run("config", "check").returncode == 0


def test_token_file_must_be_private(cosmos):
    token = cosmos.root / "hf_token"
    token.write_text("hf_supplyTestToken0644abc\n")
    token.chmod(0o644)
    env = write_cfg(cosmos, f'[huggingface]\ntoken_file = "{token}"\n')
    proc = cosmos.run("config", "check", env=env, check=False)
    assert proc.returncode == 6
    assert "0644" in proc.stderr and f"chmod 600 {token}" in proc.stderr
    assert "hf_supplyTestToken0644abc" not in proc.stdout + proc.stderr
    token.chmod(0o600)
    assert cosmos.run("config", "check", env=env).returncode == 0
    shown = cosmos.run("config", "show", env=env).stdout
    assert "hf_supplyTestToken0644abc" not in shown


def test_token_reaches_the_model_but_no_process_list_log_or_database(cosmos, emulator_bin, sshd,
                                                                      input_set):
    secret = "hf_supplyChainSecret" + "x7Q2mZ9kL4pW"
    # A torchrun wrapper on the host proves the model process got the token (by its hash).
    emu = add_host(cosmos, sshd, name="plain")
    marker = cosmos.root / "token.sha256"
    wrapper = cosmos.root / "torchrun-wrapper"
    wrapper.write_text("#!/bin/sh\nprintf %s \"$HF_TOKEN\" | sha256sum | cut -d' ' -f1 > "
                       f"'{marker}'\nexec '{emu}/bin/torchrun' \"$@\"\n")
    wrapper.chmod(0o755)
    cosmos.run("hosts", "add", "slow", "--address", f"127.0.0.1:{sshd.port}", "--user", sshd.user,
               "--key", sshd.user_key, "--gpus", 2, "--cosmos-dir", emu,
               "--work-dir", cosmos.root / "remote-work", "--torchrun", wrapper,
               "--env", "COSMOS_EMULATOR_TIME_SCALE=0.05")
    cosmos.run("hosts", "trust", "slow", "--yes")
    token_file = cosmos.root / "token"
    token_file.write_text(secret + "\n")
    token_file.chmod(0o600)
    env = write_cfg(cosmos, f'[huggingface]\ntoken_file = "{token_file}"\n')
    pid = cosmos.json("create", "prompt", "harbour", input_set, env=env)["id"]

    seen, samples = [], [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            ps = subprocess.run(["ps", "-eo", "pid,args", "-ww"], capture_output=True, text=True).stdout
            samples[0] += 1
            if secret in ps:
                seen.append(ps)
            time.sleep(0.02)

    t = threading.Thread(target=sample)
    t.start()
    try:
        proc = cosmos.run("inference", pid, "--host", "slow", "--json", env=env, timeout=300)
    finally:
        done.set()
        t.join()
    assert samples[0] > 20
    assert not seen, "token visible in the process list"
    run = json.loads(proc.stdout)[0]
    assert run["status"] == "succeeded", run
    assert marker.read_text().strip() == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in proc.stdout + proc.stderr
    shown = cosmos.run("show", run["id"], "--json", env=env).stdout
    assert secret not in shown
    for p in [*cosmos.data_dir.rglob("*"), *(cosmos.root / "remote-work").rglob("*")]:
        if p.is_file():
            assert secret.encode() not in p.read_bytes(), p
    dump = subprocess.run(["sqlite3", str(cosmos.data_dir / "cosmos.db"), ".dump"],
                          capture_output=True, text=True, check=True).stdout
    assert "CREATE TABLE" in dump and secret not in dump
    # Error output: a failing command that reads the token does not echo it.
    bad = cosmos.run("inference", "ps_nonexistent", "--host", "slow", env=env, check=False)
    assert bad.returncode != 0 and secret not in bad.stdout + bad.stderr


def test_setup_checkpoints_checks_files_because_the_script_exits_0(loop):
    cosmos = loop
    out = cosmos.root / "manifest.json"
    checkpoints(cosmos, "manifest", "--host", "loop", "-o", out)
    victim = cosmos.ckpt / "nvidia" / "Cosmos-Transfer1-7B" / "edge_control.pt"
    victim.unlink()
    # Without a token the (stand-in) script fails every download but exits 0: we notice.
    proc = cosmos.run("setup", "checkpoints", "--host", "loop", "--manifest", out, check=False,
                      env={"HF_TOKEN": ""})
    assert proc.returncode == 10, proc.stderr
    assert "missing nvidia/Cosmos-Transfer1-7B/edge_control.pt" in proc.stdout
    assert "401" in proc.stderr and "no Hugging Face token" in proc.stderr
    # With the token it resumes (skipping what is there) and the verify passes.
    token = "hf_setupSecretToken9z8y7x"
    proc = cosmos.run("setup", "checkpoints", "--host", "loop", "--manifest", out,
                      env={"HF_TOKEN": token})
    assert "Skipping nvidia/Cosmos-Transfer1-7B/base_model.pt" in proc.stderr
    assert "Downloaded nvidia/Cosmos-Transfer1-7B/edge_control.pt" in proc.stderr
    assert "matches the manifest" in proc.stdout
    assert token not in proc.stdout + proc.stderr
    assert not list((cosmos.root / "remote-work" / "setup").iterdir())  # secret file removed


def test_setup_image_refuses_latest_and_reports_a_failed_build(loop):
    cosmos = loop
    proc = cosmos.run("setup", "image", "--host", "loop", "--tag", "latest", check=False)
    assert proc.returncode == 3 and "not a version tag" in proc.stderr
    # The emulator checkout has no Dockerfile: the build fails and says so.
    proc = cosmos.run("setup", "image", "--host", "loop", "--tag", "v1.0.0", check=False)
    assert proc.returncode in (4, 10), proc.stderr
    assert "cosmos-transfer1:v1.0.0" in proc.stderr


def test_setup_image_builds_and_pins_the_tag(loop):
    cosmos = loop
    # A stand-in container CLI on the host records what it was asked to build.
    fake = cosmos.root / "fake-docker"
    record = cosmos.root / "docker-args"
    fake.write_text(f"#!/bin/sh\necho \"$PWD $*\" > '{record}'\necho 'Step 1/1 : FROM base'\n"
                    "echo 'Successfully built 0123456789ab'\n")
    fake.chmod(0o755)
    hosts = cosmos.home / ".config" / "cosmos" / "hosts.toml"
    text = hosts.read_text().replace("[hosts.loop]\n", f'[hosts.loop]\ndocker = "{fake}"\n', 1)
    hosts.write_text(text)
    proc = cosmos.run("setup", "image", "--host", "loop", "--tag", "v2.1.0")
    assert "Successfully built" in proc.stderr
    assert proc.stdout.strip() == "cosmos-transfer1:v2.1.0"
    assert record.read_text().strip() == \
        f"{cosmos.emulator_dir} build -f Dockerfile -t cosmos-transfer1:v2.1.0 ."
    shown = cosmos.json("hosts", "show", "loop")
    assert shown["image"] == "cosmos-transfer1:v2.1.0" and shown["runtime"] == "native"
    assert cosmos.run("config", "check").returncode == 0
