"""`cosmos hosts trust` and the host-key check against a real sshd: a changed key needs
--replace (both fingerprints shown, the old line replaced, every other line kept), and a key on a
@revoked line is refused, by the trust command and by every connection."""
import subprocess

import pytest

from sshd_server import SshServer, sshd_available

pytestmark = pytest.mark.skipif(not sshd_available(), reason="sshd not installed")

OTHER_HOSTS = [
    "# my hosts\n",
    "gitlab.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n",
    "|1|F1E1KeoE/eEWhi10WpGv4OdiO6Y=|3988QV0VE8wmZL7suNrYQLITLCg= ssh-ed25519 "
    "AAAAC3NzaC1lZDI1NTE5AAAAIBh0ZWdbc7rHVK8nTO4BlCzFmJUMQhYtC0YKbYiVZ3Ls\n",
    "@cert-authority *.example.com ssh-ed25519 "
    "AAAAC3NzaC1lZDI1NTE5AAAAIGmV7cr1DkgY1QVOR7pXAV2+qr0zq9KOvKvyZ1J4yDk0\n",
]


@pytest.fixture
def sshd(tmp_path):
    server = SshServer(tmp_path / "sshd")
    server.start()
    yield server
    server.stop()


def add_host(cosmos, sshd):
    cosmos.run("hosts", "add", "loop", "--address", f"127.0.0.1:{sshd.port}", "--user", sshd.user,
               "--key", sshd.user_key, "--cosmos-dir", cosmos.root / "emu",
               "--work-dir", cosmos.root / "work")


def known_hosts(cosmos):
    return cosmos.home / ".ssh" / "known_hosts"


def keygen_fingerprint(line):
    out = subprocess.run(["ssh-keygen", "-lf", "-"], input=line, capture_output=True, text=True,
                         check=True).stdout
    return out.split()[1]


def connect(cosmos):
    """A command that connects to the host (and checks its key)."""
    return cosmos.run("hosts", "clean", "loop", "--dry-run", check=False, timeout=60)


def test_changed_key_needs_replace_and_replaces_only_its_line(cosmos, sshd):
    add_host(cosmos, sshd)
    known_hosts(cosmos).parent.mkdir(parents=True, exist_ok=True)
    known_hosts(cosmos).write_text("".join(OTHER_HOSTS))
    cosmos.run("hosts", "trust", "loop", "--yes")
    old_line = sshd.known_hosts_line()
    old_fp = sshd.fingerprint()
    assert known_hosts(cosmos).read_text() == "".join(OTHER_HOSTS) + old_line + "\n"
    # Trusting the same key again changes nothing.
    again = cosmos.run("hosts", "trust", "loop", "--yes")
    assert "already trusted" in again.stdout
    assert known_hosts(cosmos).read_text() == "".join(OTHER_HOSTS) + old_line + "\n"

    sshd.regenerate_host_key()
    sshd.restart()
    new_fp = sshd.fingerprint()
    assert new_fp != old_fp
    refused = cosmos.run("hosts", "trust", "loop", "--yes", check=False)
    assert refused.returncode == 8, refused.stderr
    assert old_fp in refused.stderr and new_fp in refused.stderr
    assert "--replace" in refused.stderr
    assert known_hosts(cosmos).read_text() == "".join(OTHER_HOSTS) + old_line + "\n"
    assert connect(cosmos).returncode == 8  # the connection refuses the changed key too
    # `status` says so as every other command does: refused (exit 8), not unreachable (7).
    status = cosmos.run("status", "loop", check=False, timeout=60)
    assert status.returncode == 8, status.stdout + status.stderr
    assert "loop: refused:" in status.stdout and "cosmos hosts trust" in status.stderr
    as_json = cosmos.run("status", "loop", "--json", check=False, timeout=60).stdout
    assert '"error_code": "auth_failed"' in as_json

    replaced = cosmos.run("hosts", "trust", "loop", "--yes", "--replace")
    assert old_fp in replaced.stderr and new_fp in replaced.stderr
    assert "replaced" in replaced.stdout
    text = known_hosts(cosmos).read_text()
    assert text == "".join(OTHER_HOSTS) + sshd.known_hosts_line() + "\n"
    assert keygen_fingerprint(sshd.known_hosts_line()) == new_fp
    assert connect(cosmos).returncode == 0, connect(cosmos).stderr


def test_revoked_key_is_refused(cosmos, sshd):
    add_host(cosmos, sshd)
    cosmos.run("hosts", "trust", "loop", "--yes")
    assert connect(cosmos).returncode == 0
    with known_hosts(cosmos).open("a") as f:
        f.write(f"@revoked * {sshd.host_public_key()}\n")
    proc = connect(cosmos)
    assert proc.returncode == 8, proc.stdout + proc.stderr
    assert "@revoked" in proc.stderr and sshd.fingerprint() in proc.stderr
    trust = cosmos.run("hosts", "trust", "loop", "--yes", "--replace", check=False)
    assert trust.returncode == 8 and "@revoked" in trust.stderr
