"""`cosmos doctor` against real components: an emulated local host (the emulator laid out by
`cosmos emulator install`), a loopback sshd playing an ssh host, a 1 MiB tmpfs for a full disk.
A healthy host passes; then one planted fault at a time is reported with its fix and the exit
code of its class (docs/doctor.md)."""
import subprocess

import pytest

from conftest import write_config
from sshd_server import SshServer, sshd_available

needs_sshd = pytest.mark.skipif(not sshd_available(), reason="sshd not installed")


def doctor(cosmos, *args):
    proc = cosmos.run("doctor", *args, "--json", check=False, timeout=300)
    report = __import__("json").loads(proc.stdout)
    assert set(report) == {"ok", "checks"}, report
    for c in report["checks"]:
        assert set(c) == {"scope", "check", "status", "detail", "fix"}, c
        assert c["status"] in ("ok", "warn", "fail"), c
        assert c["status"] == "ok" or c["fix"], c  # every problem says what to do
    return proc.returncode, report


def check(report, scope, name):
    found = [c for c in report["checks"] if c["scope"] == scope and c["check"] == name]
    assert len(found) == 1, (scope, name, report)
    return found[0]


def failures(report):
    return [c for c in report["checks"] if c["status"] == "fail"]


@pytest.fixture
def healthy(emulated):
    """The emulated local host with a checkpoint manifest, so doctor verifies every file."""
    emulated.run("checkpoints", "manifest", "--host", "local", "-o",
                 emulated.root / "checkpoints.json")
    return emulated


def test_a_healthy_emulated_host_passes(healthy):
    code, report = doctor(healthy)
    assert code == 0 and report["ok"], failures(report)
    assert failures(report) == []
    for name in ("reachable", "checkout", "gpu driver", "python", "checkpoints", "disk"):
        assert check(report, "host local", name)["status"] in ("ok", "warn"), name
    assert check(report, "host local", "checkpoints")["status"] == "ok"
    assert "cosmos-emulator" in check(report, "host local", "checkout")["detail"]
    assert check(report, "config", "config")["status"] == "ok"
    # The text form says the same.
    text = healthy.run("doctor").stdout
    assert "healthy: 0 failed" in text, text


def test_a_missing_checkpoint_is_named_with_its_fix(healthy):
    ckpt = healthy.emulator_dir / "checkpoints"
    victim = sorted(p for p in ckpt.rglob("*") if p.is_file())[0]
    victim.unlink()
    code, report = doctor(healthy, "local")
    c = check(report, "host local", "checkpoints")
    assert c["status"] == "fail", c
    assert str(victim.relative_to(ckpt)) in c["detail"] and "missing" in c["detail"], c
    assert "cosmos setup checkpoints --host local" in c["fix"], c
    assert code == 5 and not report["ok"]


def test_missing_model_files_without_a_manifest(emulated):
    ckpt = emulated.emulator_dir / "checkpoints"
    victim = sorted(p for p in (ckpt / "nvidia" / "Cosmos-Transfer1-7B").rglob("*")
                    if p.is_file())[0]
    victim.unlink()
    code, report = doctor(emulated)
    c = check(report, "host local", "checkpoints")
    assert c["status"] == "fail" and str(victim.relative_to(ckpt)) in c["detail"], c
    assert code == 4


def test_the_emulators_driver_missing_fails(healthy):
    smi = healthy.emulator_dir / "bin" / "nvidia-smi"
    smi.rename(smi.with_name("nvidia-smi.away"))
    code, report = doctor(healthy)
    c = check(report, "host local", "gpu driver")
    assert c["status"] == "fail", c
    assert f"cosmos emulator install {healthy.emulator_dir}" in c["fix"], c
    assert code == 4


def test_a_token_file_readable_by_others_fails_with_chmod(emulated, tmp_path):
    token = tmp_path / "hf_token"
    token.write_text("hf_secretvalue123\n")
    token.chmod(0o644)
    write_config(emulated, emulated.emulator_dir,
                 extra=f'\n[huggingface]\ntoken_file = "{token}"\n')
    code, report = doctor(emulated)
    c = check(report, "huggingface", "token file")
    assert c["status"] == "fail", c
    assert f"chmod 600 {token}" in c["fix"], c
    assert "hf_secretvalue123" not in __import__("json").dumps(report)
    assert code == 3
    token.chmod(0o600)
    code, report = doctor(emulated)
    assert check(report, "huggingface", "token file")["status"] == "ok"


def test_a_nearly_full_work_dir_fails(emulated, small_disk):
    write_config(emulated, emulated.emulator_dir, extra=f'work_dir = "{small_disk}"')
    code, report = doctor(emulated)
    c = check(report, "host local", "disk")
    assert c["status"] == "fail" and str(small_disk) in c["detail"], c
    assert "work_dir" in c["fix"], c
    assert code == 11


@pytest.fixture
def ssh_host(cosmos, tmp_path):
    from test_queue import add_host  # the queue tests' ssh host set-up (emulator, trust)
    sshd = SshServer(tmp_path / "sshd").start()
    try:
        add_host(cosmos, sshd, "gpu1", cosmos.root / "record.jsonl", "0")
        yield sshd
    finally:
        sshd.stop()


@needs_sshd
def test_an_ssh_host_passes_then_its_key_changes(cosmos, ssh_host, tmp_path):
    code, report = doctor(cosmos, "gpu1")
    assert code == 0 and report["ok"], failures(report)
    for name in ("host key", "reachable", "checkout", "gpu driver", "disk", "clock"):
        assert check(report, "host gpu1", name)["status"] in ("ok", "warn"), name
    # Another key in known_hosts for the host: the key CHANGED.
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    known = cosmos.home / ".ssh" / "known_hosts"
    known.write_text(f"[127.0.0.1]:{ssh_host.port} {other.with_suffix('.pub').read_text()}")
    code, report = doctor(cosmos, "gpu1")
    c = check(report, "host gpu1", "host key")
    assert c["status"] == "fail" and "CHANGED" in c["detail"], c
    assert "cosmos hosts trust gpu1 --replace" in c["fix"], c
    assert code == 8
    # No key at all: unknown, trusted with `cosmos hosts trust`.
    known.write_text("")
    code, report = doctor(cosmos, "gpu1")
    c = check(report, "host gpu1", "host key")
    assert c["status"] == "fail" and "unknown" in c["detail"], c
    assert c["fix"].endswith("cosmos hosts trust gpu1"), c
    assert code == 8


def test_an_unknown_host_is_refused(emulated):
    proc = emulated.run("doctor", "nosuch", check=False)
    assert proc.returncode == 4, proc.stderr
