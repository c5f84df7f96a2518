"""A private Docker engine and an image that can run the emulator, for integration tests.

Recipe (docs/testing.md): Debian's dockerd with its own data root,
exec root and unix socket (no iptables, no bridge: containers use --network=host), so nothing
system-wide is touched; clients reach it through DOCKER_HOST (`env()`). No registry is
reachable here, so the image is imported from a rootfs holding sh, the few tools the
emulator's wrapper scripts use and every shared library `ldd` lists for them and for the
emulator binary. The emulator itself is not in the image: the Cosmos checkout (with the
emulator in it) is mounted at /workspace by the runtime, as a real checkout would be.

    engine = DockerEngine(); engine.start(); engine.build_emulator_image(emulator_bin)
    ...; engine.close()
"""
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

IMAGE = "cosmos-emulator-test:1"
TOOLS = ("sh", "dirname", "mv", "cat", "sleep", "rm")


def docker_available() -> bool:
    return os.geteuid() == 0 and bool(shutil.which("dockerd")) and bool(shutil.which("docker"))


class DockerEngine:
    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="cosmos-dockerd-"))
        self.socket = self.dir / "docker.sock"
        self.proc = None

    def env(self) -> dict:
        return {"DOCKER_HOST": f"unix://{self.socket}"}

    def docker(self, *args, check=True, input=None):
        return subprocess.run(["docker", "-H", f"unix://{self.socket}", *map(str, args)],
                              capture_output=True, text=input is None, input=input, check=check)

    def start(self):
        log = open(self.dir / "dockerd.log", "wb")
        self.proc = subprocess.Popen(
            ["dockerd", "--data-root", self.dir / "data", "--exec-root", self.dir / "exec",
             "--pidfile", self.dir / "dockerd.pid", "-H", f"unix://{self.socket}",
             "--storage-driver", "overlay2", "--iptables=false", "--ip6tables=false",
             "--bridge=none"], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.docker("version", check=False).returncode == 0:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("dockerd did not start: "
                           + (self.dir / "dockerd.log").read_text(errors="replace")[-2000:])

    def build_emulator_image(self, emulator_bin) -> str:
        root = self.dir / "rootfs"
        files = set()
        for tool in TOOLS:
            path = shutil.which(tool)
            files.update({path, os.path.realpath(path)})
        libs = set()
        for f in files | {str(emulator_bin)}:
            out = subprocess.run(["ldd", f], capture_output=True, text=True).stdout
            libs.update(w for line in out.splitlines() for w in line.split() if w.startswith("/"))
        # Debian is merged-/usr: each file goes to its real directory, and bin, sbin, lib and
        # lib64 are symlinks as on the host (so #!/bin/sh and the ELF loader resolve).
        for f in files | libs:
            dest = root / os.path.realpath(os.path.dirname(f)).lstrip("/") / os.path.basename(f)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(os.path.realpath(f), dest)
            dest.chmod(0o755)
        for top in ("bin", "sbin", "lib", "lib64"):
            if os.path.islink(f"/{top}"):
                (root / top).symlink_to(os.readlink(f"/{top}"))
        (root / "tmp").mkdir(mode=0o1777, exist_ok=True)
        tar = subprocess.run(["tar", "-C", root, "-cf", "-", "."], capture_output=True, check=True)
        self.docker("import", "-", IMAGE, input=tar.stdout)
        return IMAGE

    def containers(self) -> list:
        """Names of every container the engine has, running or not."""
        out = self.docker("ps", "-a", "--format", "{{.Names}}").stdout
        return [n for n in out.split() if n]

    def close(self):
        if self.proc and self.proc.poll() is None:
            for name in self.containers():
                self.docker("rm", "-f", name, check=False)
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for rel in ("exec/netns/default", "exec", "data"):
            subprocess.run(["umount", "-R", self.dir / rel], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)
