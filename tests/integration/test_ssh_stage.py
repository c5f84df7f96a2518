"""`cosmos stage` end to end against a real sshd on loopback: host-key refusal with the
fingerprint, content-addressed caching (second stage sends nothing), hostile file names."""
import hashlib
import json
import os
from pathlib import Path

import pytest

from sshd_server import SshServer, sshd_available

pytestmark = pytest.mark.skipif(not sshd_available(), reason="sshd not installed")


@pytest.fixture(scope="module")
def sshd():
    with SshServer() as server:
        yield server


def write_ssh_config(cosmos, sshd, work_dir):
    cfg = cosmos.root / "cosmos.toml"
    cfg.write_text(f"""
[hosts.gpu1]
kind = "ssh"
address = "127.0.0.1"
port = {sshd.port}
user = "{sshd.user}"
key = "{sshd.user_key}"
work_dir = "{work_dir}"
""")
    return cfg


def trust(cosmos, sshd):
    ssh_dir = cosmos.home / ".ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    (ssh_dir / "known_hosts").write_text(sshd.known_hosts_line() + "\n")


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_unknown_host_key_is_refused_with_fingerprint_and_hint(cosmos, sshd, tmp_path):
    cfg = write_ssh_config(cosmos, sshd, tmp_path / "work")
    f = tmp_path / "in.mp4"
    f.write_bytes(b"x" * 1000)
    proc = cosmos.run("--config", cfg, "stage", "--host", "gpu1", f, check=False)
    assert proc.returncode != 0
    assert f"offered an unknown ED25519 key {sshd.fingerprint()}" in proc.stderr
    assert f"[127.0.0.1]:{sshd.port}" in proc.stderr
    assert "cosmos hosts trust gpu1" in proc.stderr
    assert not (cosmos.home / ".ssh" / "known_hosts").exists()
    assert not (tmp_path / "work").exists()


def test_stage_sends_once_then_nothing(cosmos, sshd, tmp_path):
    work = tmp_path / "work"
    cfg = write_ssh_config(cosmos, sshd, work)
    trust(cosmos, sshd)
    a = tmp_path / "color.mp4"
    a.write_bytes(os.urandom(3 << 20))
    b = tmp_path / "depth.mp4"
    b.write_bytes(os.urandom(1 << 20))
    first = cosmos.json("--config", cfg, "stage", "--host", "gpu1", a, b)
    assert [r["uploaded_bytes"] for r in first] == [3 << 20, 1 << 20]
    for entry, src in zip(first, (a, b)):
        assert entry["sha256"] == sha256(src)
        assert entry["remote_path"] == f"{work}/cache/{sha256(src)}.mp4"
        assert sha256(entry["remote_path"]) == sha256(src)
        assert entry["size"] == src.stat().st_size
    second = cosmos.json("--config", cfg, "stage", "--host", "gpu1", a, b)
    assert [r["uploaded_bytes"] for r in second] == [0, 0]
    assert sorted(os.listdir(work / "cache")) == sorted(f"{sha256(p)}.mp4" for p in (a, b))
    text = cosmos.run("--config", cfg, "stage", "--host", "gpu1", a).stdout
    assert sha256(a) in text and "SENT" in text


def test_hostile_file_names_are_staged_without_running_anything(cosmos, sshd, tmp_path):
    cfg = write_ssh_config(cosmos, sshd, tmp_path / "work dir 'quoted'")
    trust(cosmos, sshd)
    marker = f"pwned_{os.getpid()}"  # relative: created in the cwd or the login dir if run
    places = [cosmos.root, cosmos.home, Path.home(), Path("/tmp")]
    names = [f"$(touch {marker}).mp4", "it's \"quoted\" & spaced.mp4", "new\nline.mp4",
             f"`touch {marker}`;.mp4", "-rf.mp4"]
    files = []
    for i, name in enumerate(names):
        d = tmp_path / f"in{i}"
        d.mkdir()
        p = d / name
        p.write_bytes(os.urandom(1000 + i))
        files.append(p)
    proc = cosmos.run("--config", cfg, "--json", "stage", "--host", "gpu1", "--", *files)
    result = json.loads(proc.stdout)
    assert len(result) == len(files)
    for entry, src in zip(result, files):
        assert entry["file"] == str(src)
        assert Path(entry["remote_path"]).name == f"{sha256(src)}.mp4"
        assert sha256(entry["remote_path"]) == sha256(src)
    assert not any((place / marker).exists() for place in places)


def test_unknown_host_name_and_local_host_are_errors(cosmos, sshd, tmp_path):
    cfg = write_ssh_config(cosmos, sshd, tmp_path / "work")
    f = tmp_path / "a.mp4"
    f.write_bytes(b"1")
    proc = cosmos.run("--config", cfg, "stage", "--host", "nope", f, check=False)
    assert proc.returncode != 0 and "no host nope" in proc.stderr
    proc = cosmos.run("--config", cfg, "stage", "--host", "gpu1", "--json",
                      tmp_path / "missing.mp4", check=False)
    assert proc.returncode != 0
    assert "error" in json.loads(proc.stdout)
    assert "missing.mp4" in proc.stderr


def test_changed_host_key_is_refused(cosmos, tmp_path):
    with SshServer() as server:
        cfg = write_ssh_config(cosmos, server, tmp_path / "work")
        trust(cosmos, server)
        f = tmp_path / "a.mp4"
        f.write_bytes(b"abc")
        cosmos.run("--config", cfg, "stage", "--host", "gpu1", f)
        server.regenerate_host_key()
        server.restart()
        proc = cosmos.run("--config", cfg, "stage", "--host", "gpu1", f, check=False)
        assert proc.returncode == 8, proc.stderr
        assert "man-in-the-middle" in proc.stderr
        assert server.fingerprint() in proc.stderr
        assert "cosmos hosts trust gpu1" in proc.stderr
