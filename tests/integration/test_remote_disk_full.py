"""A full remote disk: the upload fails saying so, with what is free and what was needed, not
only SFTP's "Failure (status 4)". The host's work_dir is a 1 MiB tmpfs (needs mount rights:
skipped without them)."""
import os
import subprocess
import time

import pytest

from conftest import model_loads
from sshd_server import SshServer, sshd_available

pytestmark = pytest.mark.skipif(not sshd_available(), reason="sshd not installed")


def test_upload_to_a_full_disk_says_no_space(cosmos, tmp_path, small_disk):
    sshd = SshServer(tmp_path / "sshd").start()
    try:
        work = small_disk / "work"
        cfg = cosmos.root / "cosmos.toml"
        cfg.write_text(f'[hosts.gpu1]\nkind = "ssh"\naddress = "127.0.0.1"\nport = {sshd.port}\n'
                       f'user = "{sshd.user}"\nkey = "{sshd.user_key}"\nwork_dir = "{work}"\n')
        (cosmos.home / ".ssh").mkdir(mode=0o700, exist_ok=True)
        (cosmos.home / ".ssh" / "known_hosts").write_text(sshd.known_hosts_line() + "\n")
        big = tmp_path / "color.mp4"
        big.write_bytes(os.urandom(3 << 20))
        proc = cosmos.run("--config", cfg, "stage", "--host", "gpu1", big, check=False,
                          timeout=120)
        assert proc.returncode == 11, proc.stderr
        assert "no space left on gpu1:" in proc.stderr, proc.stderr
        assert "bytes free, " in proc.stderr and " needed)" in proc.stderr, proc.stderr
        assert "status 4" not in proc.stderr
    finally:
        sshd.stop()


def fill(f):
    """Writes zeros into the open file `f` until its file system refuses more. The file is
    opened before the run starts: creating it on a disk the model has already filled would fail."""
    chunk = b"\0" * (64 << 10)
    try:
        while True:
            f.write(chunk)
            f.flush()
    except OSError:
        pass


def test_a_disk_filling_while_the_model_writes_says_so_and_loses_nothing(cosmos, tmp_path,
                                                                          small_disk, input_set):
    # The host's work_dir fills up while the model runs: the run fails with the reason (the
    # disk, with what is free) rather than only the model's exit code, the job's log comes home,
    # and once space is freed the same shot runs again and succeeds (each run executed once).
    from test_queue import add_host  # noqa: E402  (the queue tests' remote host set-up)

    sshd = SshServer(tmp_path / "sshd").start()
    try:
        record = cosmos.root / "record.jsonl"
        work = small_disk / "work"
        add_host(cosmos, sshd, "gpu1", record, "0.2", work_dir=work)
        pid = cosmos.json("create", "prompt", "harbour", input_set)["id"]
        filler = (small_disk / "filler").open("wb", buffering=0)
        out = (cosmos.root / "run.out").open("w")
        run = subprocess.Popen([cosmos.binary, "--json", "inference", pid, "--host", "gpu1"],
                               env=dict(cosmos.env), cwd=cosmos.root, stdout=out,
                               stderr=subprocess.STDOUT)
        deadline = time.time() + 120
        while True:  # the model is running once it reports progress
            runs = cosmos.json("list", "runs")
            if runs and runs[0]["status"] == "running" and runs[0].get("progress", 0) > 0:
                break
            assert time.time() < deadline and run.poll() is None, (runs, out.name)
            time.sleep(0.1)
        rid = runs[0]["id"]
        fill(filler)
        assert run.wait(timeout=300) != 0
        shown = cosmos.json("show", rid)
        assert shown["status"] == "failed", shown
        assert "disk" in shown["error"] and "bytes free" in shown["error"], shown["error"]
        assert str(work) in shown["error"], shown["error"]
        assert (cosmos.data_dir / "runs" / rid / "run.log").exists()
        filler.close()
        (small_disk / "filler").unlink()
        again = cosmos.json("inference", pid, "--host", "gpu1", timeout=300)
        assert again[0]["status"] == "succeeded", again
    finally:
        sshd.stop()
    loads = model_loads(record)
    assert [load["exit"] != 0 for load in loads] == [True, False], loads
