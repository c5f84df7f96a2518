"""`cosmos stage` end to end against a real sshd on loopback: host-key refusal with the
fingerprint, content-addressed caching (second stage sends nothing), hostile file names."""
import hashlib
import json
import os
import subprocess
import time
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


# The input cache proves what it uses (docs/ssh.md, "The input cache").

def staged_setup(cosmos, sshd, tmp_path, size=3 << 20):
    work = tmp_path / "work"
    cfg = write_ssh_config(cosmos, sshd, work)
    trust(cosmos, sshd)
    src = tmp_path / "color.mp4"
    src.write_bytes(os.urandom(size))
    return work, cfg, src


def incoming_part(work, src):
    # <cache>/.incoming-<32 hex of sha256(absolute path)><ext>.part (transport/staging.hpp)
    key = hashlib.sha256(str(Path(src).absolute()).encode()).hexdigest()[:32]
    return work / "cache" / f".incoming-{key}.mp4.part"


def test_concurrent_processes_staging_one_file_send_it_once(cosmos, sshd, tmp_path):
    # Two `cosmos inference` (or the CLI beside a worker) staging one shot to one host share the
    # host's .part and cache entry: every process succeeds, the file goes over the wire once,
    # and what is cached hashes to its name.
    work, cfg, src = staged_setup(cosmos, sshd, tmp_path, size=8 << 20)
    argv = [str(cosmos.binary), "--config", str(cfg), "--json", "stage", "--host", "gpu1", str(src)]
    procs = [subprocess.Popen(argv, env=dict(cosmos.env), cwd=cosmos.root, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]
    results = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, results):
        assert p.returncode == 0, err
    entries = [json.loads(out)[0] for out, _ in results]
    assert sum(e["uploaded_bytes"] for e in entries) == src.stat().st_size, entries
    want = sha256(src)
    assert {e["remote_path"] for e in entries} == {f"{work}/cache/{want}.mp4"}
    assert sha256(work / "cache" / f"{want}.mp4") == want
    assert not [n for n in os.listdir(work / "cache") if n.endswith(".part")]


def test_a_corrupt_part_of_full_length_is_not_trusted(cosmos, sshd, tmp_path):
    work, cfg, src = staged_setup(cosmos, sshd, tmp_path)
    want = sha256(src)
    bad = bytearray(src.read_bytes())
    bad[1000:1010] = b"X" * 10  # right length, wrong bytes: what a torn earlier upload leaves
    (work / "cache").mkdir(parents=True)
    # Wherever an upload would resume from: the name of the content and the incoming name.
    (work / "cache" / f"{want}.mp4.part").write_bytes(bad)
    incoming_part(work, src).write_bytes(bad)
    proc = cosmos.run("--config", cfg, "--json", "stage", "--host", "gpu1", src)
    [entry] = json.loads(proc.stdout)
    assert entry["remote_path"] == f"{work}/cache/{want}.mp4"
    assert sha256(entry["remote_path"]) == want
    assert entry["uploaded_bytes"] == src.stat().st_size and entry["repaired"] is True
    assert "discarding" in proc.stderr and str(src) in proc.stderr
    # A good prefix is kept: an interrupted upload resumes it (only the rest is sent).
    os.remove(entry["remote_path"])
    incoming_part(work, src).write_bytes(src.read_bytes()[: 1 << 20])
    [again] = cosmos.json("--config", cfg, "stage", "--host", "gpu1", src)
    assert again["uploaded_bytes"] == (3 << 20) - (1 << 20) and again["repaired"] is False
    assert sha256(again["remote_path"]) == want


def test_a_cache_file_corrupted_after_it_was_stored_is_repaired(cosmos, sshd, tmp_path):
    work, cfg, src = staged_setup(cosmos, sshd, tmp_path)
    [first] = cosmos.json("--config", cfg, "stage", "--host", "gpu1", src)
    cached = Path(first["remote_path"])
    data = bytearray(cached.read_bytes())
    data[-5:] = b"ZZZZZ"
    time.sleep(0.05)  # a later mtime than the upload's, on any file system's clock tick
    cached.write_bytes(data)  # same size, same inode: only its mtime tells
    proc = cosmos.run("--config", cfg, "--json", "stage", "--host", "gpu1", src)
    [entry] = json.loads(proc.stdout)
    assert sha256(cached) == sha256(src)
    assert entry["repaired"] is True and entry["uploaded_bytes"] == src.stat().st_size
    assert "did not match its hash" in proc.stderr
    # Proven again: the next staging trusts the new stamp without re-reading anything.
    [third] = cosmos.json("--config", cfg, "stage", "--host", "gpu1", src)
    assert (third["proof"], third["uploaded_bytes"], third["read_bytes"]) == ("stamp", 0, 0)


def test_a_truncated_cache_file_is_replaced_and_reported(cosmos, sshd, tmp_path):
    work, cfg, src = staged_setup(cosmos, sshd, tmp_path)
    [first] = cosmos.json("--config", cfg, "stage", "--host", "gpu1", src)
    with open(first["remote_path"], "r+b") as f:
        f.truncate(1 << 20)
    [entry] = cosmos.json("--config", cfg, "stage", "--host", "gpu1", src)
    assert entry["repaired"] is True and entry["proof"] == "sent"
    assert sha256(entry["remote_path"]) == sha256(src)


def test_an_unstamped_cache_file_is_hashed_on_the_host_once(cosmos, sshd, tmp_path):
    work, cfg, src = staged_setup(cosmos, sshd, tmp_path)
    [first] = cosmos.json("--config", cfg, "stage", "--host", "gpu1", src)
    for stamp in (work / "cache.stamps").iterdir():
        stamp.unlink()  # e.g. a cache filled by an older cosmos
    [second] = cosmos.json("--config", cfg, "stage", "--host", "gpu1", src)
    assert (second["proof"], second["uploaded_bytes"]) == ("host-hash", 0)
    [third] = cosmos.json("--config", cfg, "stage", "--host", "gpu1", src)
    assert third["proof"] == "stamp"


def test_restaging_unchanged_inputs_reads_no_local_file(cosmos, sshd, tmp_path):
    work, cfg, src = staged_setup(cosmos, sshd, tmp_path)
    other = tmp_path / "depth.mp4"
    other.write_bytes(os.urandom(1 << 20))
    first = cosmos.json("--config", cfg, "stage", "--host", "gpu1", src, other)
    assert [r["read_bytes"] for r in first] == [3 << 20, 1 << 20]  # one read: hash while sending
    second = cosmos.json("--config", cfg, "stage", "--host", "gpu1", src, other)
    assert [(r["hashed_bytes"], r["read_bytes"], r["uploaded_bytes"]) for r in second] == \
        [(0, 0, 0), (0, 0, 0)]
    assert [r["sha256"] for r in second] == [sha256(src), sha256(other)]
    assert (cosmos.data_dir / "staging" / "local-hashes.json").is_file()


def test_a_file_rewritten_in_place_with_its_mtime_restored_is_hashed_again(cosmos, sshd,
                                                                           tmp_path):
    # The limit of a stat-based cache: the size and mtime are the same as when it was hashed.
    # The ctime (which no user can set) still moves, and the local hash cache keys on it.
    work, cfg, src = staged_setup(cosmos, sshd, tmp_path)
    cosmos.json("--config", cfg, "stage", "--host", "gpu1", src)
    st = src.stat()
    data = bytearray(src.read_bytes())
    data[:4] = b"EDIT"
    with open(src, "r+b") as f:
        f.write(data)
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert src.stat().st_mtime_ns == st.st_mtime_ns and src.stat().st_size == st.st_size
    [entry] = cosmos.json("--config", cfg, "stage", "--host", "gpu1", src)
    assert entry["sha256"] == sha256(src) and entry["hashed_bytes"] >= st.st_size
    assert sha256(entry["remote_path"]) == sha256(src)
