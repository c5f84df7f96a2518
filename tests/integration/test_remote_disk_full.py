"""A full remote disk: the upload fails saying so, with what is free and what was needed, not
only SFTP's "Failure (status 4)". The host's work_dir is a 1 MiB tmpfs (needs mount rights:
skipped without them)."""
import os
import subprocess

import pytest

from sshd_server import SshServer, sshd_available

pytestmark = pytest.mark.skipif(not sshd_available(), reason="sshd not installed")


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


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
