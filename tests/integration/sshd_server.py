"""A real OpenSSH server on 127.0.0.1 for integration tests and benchmarks.

Recipe (docs/testing.md): ed25519 host and user keys made with
ssh-keygen in a private directory, an sshd_config there, and `/usr/sbin/sshd -D` as a child.
stop() also kills the per-connection sshd processes, so open connections really drop.

    with SshServer() as sshd:           # or sshd = SshServer(); sshd.start(); ...; sshd.stop()
        sshd.port, sshd.user, sshd.user_key, sshd.known_hosts_line()
"""
import getpass
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def sshd_available() -> bool:
    return Path("/usr/sbin/sshd").exists() and shutil.which("ssh-keygen") is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _keygen(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".pub")):
        p.unlink(missing_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
                   check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)


def _descendants(root: int) -> set:
    parent = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        parent[int(entry)] = int(fields[1])
    out, grew = set(), True
    while grew:
        grew = False
        for pid, ppid in parent.items():
            if (ppid == root or ppid in out) and pid not in out:
                out.add(pid)
                grew = True
    return out


class SshServer:
    """An sshd on a free loopback port, accepting `user_key` for the current user."""

    def __init__(self, directory=None):
        self._own_dir = directory is None
        self.dir = Path(directory or tempfile.mkdtemp(prefix="cosmos-sshd-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        self.user = getpass.getuser()
        self.host_key = self.dir / "host_ed25519"
        self.user_key = self.dir / "user_ed25519"
        _keygen(self.host_key)
        _keygen(self.user_key)
        shutil.copyfile(str(self.user_key) + ".pub", self.dir / "authorized_keys")
        self.port = _free_port()
        self.config = self.dir / "sshd_config"
        self.log = self.dir / "sshd.log"
        self.config.write_text(f"""Port {self.port}
ListenAddress 127.0.0.1
HostKey {self.host_key}
PidFile {self.dir / 'sshd.pid'}
AuthorizedKeysFile {self.dir / 'authorized_keys'}
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
MaxSessions 64
Subsystem sftp internal-sftp
LogLevel VERBOSE
""")
        self._proc = None

    def start(self) -> "SshServer":
        if self._proc is not None:
            return self
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)
        self._proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-f", str(self.config),
                                       "-E", str(self.log)], stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._proc = None
                raise RuntimeError(f"sshd exited at start: {self.log.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("sshd did not open its port")

    def stop(self) -> None:
        if self._proc is None:
            return
        children = _descendants(self._proc.pid)
        self._proc.send_signal(signal.SIGTERM)
        # The sessions' processes get SIGTERM first and a moment to clean up: the user's login
        # files may run tools that hold a lock while they run (pyenv's rehash does, from
        # ~/.bashrc), and killing those outright would leave every later login waiting on it.
        for sig, grace in ((signal.SIGTERM, 1.0), (signal.SIGKILL, 0)):
            for pid in children:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.time() + grace
            while grace and time.time() < deadline and any(
                    Path(f"/proc/{pid}").exists() for pid in children):
                time.sleep(0.05)
        self._proc.wait(timeout=10)
        self._proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def regenerate_host_key(self) -> None:
        """A new host key (restart to use it): what a reinstalled or impersonated host offers."""
        _keygen(self.host_key)

    def host_public_key(self) -> str:
        """'ssh-ed25519 AAAA...' (no comment)."""
        kind, key = (Path(str(self.host_key) + ".pub").read_text().split()[:2])
        return f"{kind} {key}"

    def known_hosts_line(self) -> str:
        return f"[127.0.0.1]:{self.port} {self.host_public_key()}"

    def fingerprint(self) -> str:
        """'SHA256:...' as ssh-keygen -l prints it."""
        out = subprocess.run(["ssh-keygen", "-lf", str(self.host_key) + ".pub"], check=True,
                             capture_output=True, text=True).stdout
        return out.split()[1]

    def close(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
