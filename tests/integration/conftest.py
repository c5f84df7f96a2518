"""Shared fixtures for integration tests: they drive the real `cosmos` and `cosmos-emulator`
binaries (paths from CTest's environment) against real files, SQLite and FFmpeg."""
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

COSMOS_BIN = os.environ.get("COSMOS_BIN", "")
EMULATOR_BIN = os.environ.get("COSMOS_EMULATOR_BIN", "")


def _require(path: str, what: str) -> str:
    if not path or not Path(path).exists():
        pytest.skip(f"{what} not built (set COSMOS_BIN / COSMOS_EMULATOR_BIN or run via ctest)")
    return path


@pytest.fixture
def cosmos_bin() -> str:
    return _require(COSMOS_BIN, "cosmos")


@pytest.fixture
def emulator_bin() -> str:
    return _require(EMULATOR_BIN, "cosmos-emulator")


class Cosmos:
    """Runs the real `cosmos` binary with an isolated data dir, config dir and HOME."""

    def __init__(self, binary: str, root: Path):
        self.binary = binary
        self.root = root
        self.data_dir = root / "data"
        self.home = root / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_DATA_HOME": str(self.home / ".local/share"),
            "COSMOS_DATA_DIR": str(self.data_dir),
            "COSMOS_EMULATOR_BIN": EMULATOR_BIN,
            "NO_COLOR": "1",
        }

    def run(self, *args, check=True, input=None, env=None, cwd=None, timeout=120):
        full_env = dict(self.env)
        if env:
            full_env.update(env)
        proc = subprocess.run([self.binary, *map(str, args)], capture_output=True, text=True,
                              input=input, env=full_env, cwd=cwd or self.root, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"cosmos {' '.join(map(str, args))} exited {proc.returncode}\n"
                                 f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
        return proc

    def json(self, *args, **kw):
        proc = self.run(*args, "--json", **kw)
        return json.loads(proc.stdout)


@pytest.fixture
def cosmos(cosmos_bin, tmp_path) -> Cosmos:
    return Cosmos(cosmos_bin, tmp_path)


def ffprobe(path) -> dict:
    """Facts about a video from FFmpeg's own ffprobe (independent of our media layer)."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
                          "-show_entries",
                          "stream=codec_name,width,height,nb_read_frames,r_frame_rate,pix_fmt",
                          "-of", "json", str(path)], capture_output=True, text=True, check=True)
    s = json.loads(out.stdout)["streams"][0]
    num, den = s["r_frame_rate"].split("/")
    return {"codec": s["codec_name"], "width": s["width"], "height": s["height"],
            "frames": int(s["nb_read_frames"]), "fps": float(num) / float(den),
            "pix_fmt": s.get("pix_fmt")}


def make_video(path, frames=25, size="320x176", fps=24, source="testsrc2", gray=False):
    """Writes a small H.264 video with the ffmpeg CLI (real FFmpeg, independent of our code)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    vf = ["-vf", "format=gray,format=yuv420p"] if gray else ["-pix_fmt", "yuv420p"]
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"{source}=size={size}:rate={fps}", "-frames:v", str(frames),
                    "-c:v", "libx264", "-preset", "ultrafast", *vf, str(path)], check=True)
    return path


def have(tool: str) -> bool:
    return shutil.which(tool) is not None


@pytest.fixture
def input_set(tmp_path):
    """A 3-pass input folder (color, depth, segmentation) of 25 frames at 320x176, 24 fps."""
    d = tmp_path / "inputs" / "shot010"
    make_video(d / "color.mp4", frames=25)
    make_video(d / "depth.mp4", frames=25, source="gradients", gray=True)
    make_video(d / "segmentation.mp4", frames=25, source="smptebars")
    return d


def write_config(cosmos_env, emulator_dir, extra_env=None, extra=""):
    """Writes a cosmos.toml with one local host running the installed emulator."""
    env = {"COSMOS_EMULATOR_TIME_SCALE": "0", "COSMOS_EMULATOR_STRICT": "1"}
    env.update(extra_env or {})
    env_toml = ", ".join(f'{k} = "{v}"' for k, v in env.items())
    cfg = cosmos_env.root / "cosmos.toml"
    cfg.write_text(f"""
[hosts.local]
kind = "local"
gpus = 2
cosmos_dir = "{emulator_dir}"
torchrun = "{emulator_dir}/bin/torchrun"
env = {{ {env_toml} }}
{extra}
""")
    return cfg


@pytest.fixture
def emulated(cosmos, emulator_bin):
    """`cosmos` with the emulator installed via `cosmos emulator install` and a config using it."""
    emu = cosmos.root / "cosmos-checkout"
    cosmos.run("emulator", "install", emu)
    cosmos.emulator_dir = emu
    cosmos.config = write_config(cosmos, emu)
    return cosmos


def model_loads(record: Path) -> list:
    """The emulator's own record of every model load (COSMOS_EMULATOR_RECORD, one JSON line per
    invocation): its job key (the rs_/bat_ dir it wrote into), environment, exit code, GPUs held,
    samples (one per batch line), arguments and when it held its GPUs."""
    loads = []
    if not record.exists():
        return loads
    for line in record.read_text().splitlines():
        entry = json.loads(line)
        if entry.get("mode") != "torchrun":
            continue
        # Transfer1 names its output folder --video_save_folder, Transfer2.5 -o (output_dir)
        folder = entry["args"].get("video_save_folder") or entry["args"].get("output_dir") or ""
        key = next(p for p in Path(folder).parts if p.startswith(("rs_", "bat_")))
        loads.append({"key": key, "env": entry["env"], "exit": entry.get("exit_code"),
                      "gpus": entry.get("gpus"), "samples": entry.get("samples", []),
                      "args": entry["args"], "start": entry.get("hold_start_ms"),
                      "end": entry.get("hold_end_ms")})
    return loads


def _interrupt_on_sigterm(*_):
    raise KeyboardInterrupt("SIGTERM")


@pytest.fixture(scope="module")
def cluster():
    """A real single-node Slurm cluster (slurm_cluster.py) for the tests of one module."""
    from slurm_cluster import SlurmCluster
    # ctest ends a test past its timeout with SIGTERM: an exception, so the daemons still stop
    previous = signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    c = SlurmCluster()  # its own /tmp dir: munged (user munge) cannot enter pytest's 0700 dirs
    try:
        c.start()
        yield c
    finally:
        c.close()
        signal.signal(signal.SIGTERM, previous)


# A test file whose tests were all skipped (no sshd, no Slurm, no Chromium...) must show as
# skipped in ctest, not as passed: pytest exits 0 then, so the session's exit status becomes
# 125, the SKIP_RETURN_CODE tests/CMakeLists.txt declares for every integration file.
_outcomes = {"passed": 0, "failed": 0, "skipped": 0}


def pytest_runtest_logreport(report):
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _outcomes[report.outcome] = _outcomes.get(report.outcome, 0) + 1


def pytest_sessionfinish(session, exitstatus):
    ran = _outcomes["passed"] + _outcomes["failed"]
    if exitstatus == 0 and ran == 0 and _outcomes["skipped"] > 0:
        session.exitstatus = 125


def wait_for(what, probe, timeout=120, every=0.2):
    """Polls `probe` until it returns something true (returned), failing with `what` after
    `timeout` seconds."""
    deadline = time.time() + timeout
    while True:
        got = probe()
        if got:
            return got
        assert time.time() < deadline, what
        time.sleep(every)


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs (a disk that fills up); skipped where mounting is not allowed."""
    mount = tmp_path / "small"
    mount.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)
