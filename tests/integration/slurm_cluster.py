"""A real single-node Slurm cluster (munged + slurmctld + slurmd) for integration tests.

Recipe (docs/testing.md) (Debian 12, Slurm 22.05): as root and without
systemd, everything lives in one private directory — the munge key (owned by munge, 0400),
munged's socket, pid, seed and log files (pointed there with munged's own options, so nothing
system-wide is touched), slurm.conf, gres.conf with 4 empty files standing in for GPUs, the
state, spool, log and pid files, and the jobcomp/filetxt log where each finished job's state
and exit code land. Ports are chosen free. Clients find the cluster through `env()`
(SLURM_CONF).

    with SlurmCluster() as cluster:     # or c = SlurmCluster(); c.start(); ...; c.stop()
        subprocess.run(["sbatch", ...], env=cluster.env())
        cluster.jobcomp_records()

stop() cancels every job, kills the daemons and any process still holding a file in the
private directory (job steps are daemonised by slurmd), then removes the directory.
"""
import os
import pwd
import sys
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "scancel", "scontrol", "sinfo")


def _which(name: str):
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")


def slurm_available() -> bool:
    """True when this process may start a cluster: root, the daemons and clients installed."""
    if os.geteuid() != 0:
        return False
    try:
        pwd.getpwnam("munge")
    except KeyError:
        return False
    return all(_which(n) for n in DAEMONS + CLIENTS)


def skip_reason() -> str:
    if os.geteuid() != 0:
        return "the Slurm test cluster needs root"
    missing = [n for n in DAEMONS + CLIENTS if not _which(n)]
    if missing:
        return "Slurm is not installed (scripts/install-deps.sh): missing " + " ".join(missing)
    return "no munge user (install the munge package)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _holders_of(directory: Path) -> set:
    """Pids of processes (other than us) with an open file, cwd or executable under `directory`."""
    prefix = str(directory.resolve()) + "/"
    out = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        links = [f"/proc/{entry}/cwd"]
        try:
            links += [f"/proc/{entry}/fd/{fd}" for fd in os.listdir(f"/proc/{entry}/fd")]
        except OSError:
            continue
        for link in links:
            try:
                if (os.readlink(link) + "/").startswith(prefix):
                    out.add(int(entry))
                    break
            except OSError:
                pass
    return out


class SlurmCluster:
    """One node (this machine, 8 CPUs, 4 fake GPUs) in partition `debug`."""

    partition = "debug"
    gpus = 4

    def __init__(self, directory=None):
        """`directory` and its parents must be searchable by the munge user."""
        self._own_dir = directory is None
        self.dir = Path(directory or tempfile.mkdtemp(prefix="cosmos-slurm-")).resolve()
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o755)  # munged runs as munge and must reach its own subdirectory
        self.node = socket.gethostname().split(".")[0]
        self.conf = self.dir / "slurm.conf"
        self.jobcomp = self.dir / "jobcomp.log"
        self.munge_dir = self.dir / "munge"
        self.munge_socket = self.munge_dir / "munge.socket"
        self.ctld_log = self.dir / "slurmctld.log"
        self.slurmd_log = self.dir / "slurmd.log"
        self._procs = {}

    # ---- configuration -------------------------------------------------------------------

    def _write_munge(self) -> None:
        munge = pwd.getpwnam("munge")
        self.munge_dir.mkdir(exist_ok=True)
        key = self.munge_dir / "munge.key"
        key.write_bytes(os.urandom(1024))
        # munged wants its socket directory searchable by all, the key readable only by munge
        for path, mode in ((self.munge_dir, 0o755), (key, 0o400)):
            os.chown(path, munge.pw_uid, munge.pw_gid)
            os.chmod(path, mode)

    def _write_slurm_conf(self) -> None:
        for sub in ("state", "spool", "gpu"):
            (self.dir / sub).mkdir(exist_ok=True)
        gpu_files = [self.dir / "gpu" / f"fakegpu{i}" for i in range(self.gpus)]
        for f in gpu_files:
            f.touch()
        ctld_port, slurmd_port = _free_port(), _free_port()
        while slurmd_port == ctld_port:
            slurmd_port = _free_port()
        d = self.dir
        self.conf.write_text(f"""# Written by tests/integration/slurm_cluster.py
ClusterName=cosmostest
SlurmctldHost={self.node}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.munge_socket}
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={self.ctld_log}
SlurmdLogFile={self.slurmd_log}
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
GresTypes=gpu
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc={self.jobcomp}
ReturnToService=2
SlurmdParameters=config_overrides
MailProg=/bin/true
SlurmctldTimeout=30
SlurmdTimeout=30
# a cancelled job gets SIGKILL 10 s after SIGTERM (default 30 s: on a loaded CI machine the job
# sat in COMPLETING for the whole wait of the scancel test)
KillWait=10
MinJobAge=600
NodeName={self.node} NodeAddr=127.0.0.1 CPUs=8 Gres=gpu:{self.gpus} State=UNKNOWN
PartitionName={self.partition} Nodes={self.node} Default=YES MaxTime=INFINITE State=UP
""")
        files = ",".join(str(f) for f in gpu_files)
        (self.dir / "gres.conf").write_text(f"NodeName={self.node} Name=gpu File={files}\n")

    # ---- life cycle ------------------------------------------------------------------------

    def env(self, base=None) -> dict:
        env = dict(os.environ if base is None else base)
        env["SLURM_CONF"] = str(self.conf)
        return env

    def _spawn(self, name: str, argv: list, **kw) -> None:
        log = open(self.dir / f"{name}.stdout", "ab")
        # a session of their own: a signal to the caller's process group (timeout, Ctrl-C) must
        # reach the caller, which then stops them in order
        self._procs[name] = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                             stderr=subprocess.STDOUT, start_new_session=True,
                                             **kw)
        log.close()

    def _start_munged(self) -> None:
        m = self.munge_dir
        self._spawn("munged", [_which("munged"), "--foreground", f"--socket={self.munge_socket}",
                               f"--key-file={m / 'munge.key'}", f"--log-file={m / 'munged.log'}",
                               f"--pid-file={m / 'munged.pid'}", f"--seed-file={m / 'munged.seed'}"],
                    user="munge", group="munge")
        deadline = time.monotonic() + 10
        while not self.munge_socket.exists():
            if self._procs["munged"].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("munged did not start: " + self._tail(m / "munged.log")
                                   + self._tail(self.dir / "munged.stdout"))
            time.sleep(0.05)

    def _start_slurm(self) -> None:
        self._spawn("slurmctld", [_which("slurmctld"), "-D", "-i", "-f", str(self.conf)])
        self._spawn("slurmd", [_which("slurmd"), "-D", "-f", str(self.conf)])

    def _wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name in ("slurmctld", "slurmd"):
                if self._procs[name].poll() is not None:
                    return False
            r = subprocess.run([_which("sinfo"), "-h", "-o", "%T"], env=self.env(),
                               capture_output=True, text=True, stdin=subprocess.DEVNULL)
            if r.returncode == 0 and r.stdout.strip() == "idle":
                return True
            time.sleep(0.2)
        return False

    def start(self, timeout: float = 30) -> "SlurmCluster":
        if self._procs:
            return self
        try:
            self._write_munge()
            self._write_slurm_conf()
            self._start_munged()
            for attempt in range(2):  # the model contract saw a first start-up that never got idle
                self._start_slurm()
                if self._wait_idle(timeout):
                    return self
                self._kill_slurm()
            raise RuntimeError("Slurm did not become idle:\n" + self._tail(self.ctld_log)
                               + self._tail(self.slurmd_log))
        except BaseException:
            self.stop()
            raise

    def restart_controller(self, down_seconds: float = 2.0) -> None:
        """Stops slurmctld (SIGTERM: it saves its state, as an administrator's restart does) and
        starts it again after `down_seconds`; jobs go on running under slurmd meanwhile, and
        every Slurm command fails until the controller is back."""
        self._kill("slurmctld")
        time.sleep(down_seconds)
        self._spawn("slurmctld", [_which("slurmctld"), "-D", "-i", "-f", str(self.conf)])

    def _tail(self, path: Path, lines: int = 20) -> str:
        try:
            return "".join(Path(path).read_text(errors="replace").splitlines(True)[-lines:])
        except OSError:
            return ""

    def _kill(self, name: str) -> None:
        proc = self._procs.pop(name, None)
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)

    def _kill_slurm(self) -> None:
        self._kill("slurmd")
        self._kill("slurmctld")

    def stop(self) -> None:
        """Cancels all jobs, kills every daemon and job step started here. Safe to call twice."""
        if "slurmctld" in self._procs and self._procs["slurmctld"].poll() is None:
            try:
                subprocess.run([_which("scancel"), "--user=root"], env=self.env(),
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline and self.active_jobs():
                    time.sleep(0.2)
            except (OSError, subprocess.SubprocessError):
                pass  # the kills below end the jobs anyway
        self._kill_slurm()
        # Job steps (slurmstepd and the job's processes) are daemonised: they are ours when
        # they hold the slurmd log, the spool or a job's cwd under our directory.
        for pid in _holders_of(self.dir) - {p.pid for p in self._procs.values()}:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._kill("munged")

    def active_jobs(self) -> list:
        """Jobs not yet finished, as "ID STATE" lines (finished ones stay listed MinJobAge)."""
        r = subprocess.run([_which("squeue"), "-h", "-o", "%i %T",
                            "--states=PENDING,CONFIGURING,RUNNING,COMPLETING,SUSPENDED"],
                           env=self.env(),
                           capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=10)
        return [line for line in r.stdout.splitlines() if line.strip()] if r.returncode == 0 else []

    def jobcomp_records(self) -> list:
        """One dict per finished job from the jobcomp/filetxt log (JobId, JobState, ExitCode…)."""
        if not self.jobcomp.exists():
            return []
        out = []
        for line in self.jobcomp.read_text().splitlines():
            record = {}
            for field in line.split(" "):
                key, sep, value = field.partition("=")
                if sep:
                    record[key] = value
            if record:
                out.append(record)
        return out

    def close(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()


def main(argv) -> int:
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print("usage: slurm_cluster.py -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    if not slurm_available():
        print("slurm_cluster.py: " + skip_reason(), file=sys.stderr)
        return 125
    def terminate(*_):
        raise SystemExit(143)  # so that the cluster is stopped on SIGTERM too

    signal.signal(signal.SIGTERM, terminate)
    with SlurmCluster() as cluster:
        return subprocess.run(argv, env=cluster.env()).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
