"""cosmos-emulator against the Cosmos-Transfer1 contract (docs/models/transfer1.md).

Each test lays out an emulated checkout (the same layout services::install_emulator writes; the
`cosmos emulator install` command is not wired yet, so the fixture builds it here), runs the
emulator through the checkout's bin/torchrun or transfer.py wrapper like the orchestrator will,
and checks exit codes, log lines and the videos with the real ffprobe."""
import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import ffprobe, have, make_video
from sshd_server import SshServer, sshd_available

TRANSFER = "cosmos_transfer1/diffusion/inference/transfer.py"
UPSAMPLER = "cosmos_transfer1/auxiliary/upsampler/inference/upsampler_pipeline.py"

CHECKPOINTS = [
    "nvidia/Cosmos-Transfer1-7B/base_model.pt",
    "nvidia/Cosmos-Transfer1-7B/vis_control.pt",
    "nvidia/Cosmos-Transfer1-7B/edge_control.pt",
    "nvidia/Cosmos-Transfer1-7B/edge_control_distilled.pt",
    "nvidia/Cosmos-Transfer1-7B/depth_control.pt",
    "nvidia/Cosmos-Transfer1-7B/seg_control.pt",
    "nvidia/Cosmos-Transfer1-7B/keypoint_control.pt",
    "nvidia/Cosmos-Transfer1-7B/4kupscaler_control.pt",
    "nvidia/Cosmos-Transfer1-7B-Sample-AV/base_model.pt",
    "nvidia/Cosmos-Transfer1-7B-Sample-AV/hdmap_control.pt",
    "nvidia/Cosmos-Transfer1-7B-Sample-AV/lidar_control.pt",
    "nvidia/Cosmos-Tokenize1-CV8x8x8-720p/autoencoder.jit",
    "nvidia/Cosmos-Tokenize1-CV8x8x8-720p/decoder.jit",
    "nvidia/Cosmos-Tokenize1-CV8x8x8-720p/encoder.jit",
    "nvidia/Cosmos-UpsamplePrompt1-12B-Transfer/consolidated.safetensors",
    "nvidia/Cosmos-Guardrail1/video_content_safety_filter/safety_filter.pt",
]

TRANSFER_WRAPPER = """#!/bin/sh
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd) || exit 1
COSMOS_EMULATOR_SCRIPT="$here/transfer.py"
export COSMOS_EMULATOR_SCRIPT
exec "$here/../../../.emulator/cosmos-emulator" transfer "$@"
"""

UPSAMPLER_WRAPPER = """#!/bin/sh
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd) || exit 1
COSMOS_EMULATOR_SCRIPT="$here/upsampler_pipeline.py"
export COSMOS_EMULATOR_SCRIPT
exec "$here/../../../../.emulator/cosmos-emulator" upsampler "$@"
"""

BIN_WRAPPER = """#!/bin/sh
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd) || exit 1
exec "$here/../.emulator/cosmos-emulator" {mode} "$@"
"""


def _write(path: Path, text: str, mode=0o644):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


class Checkout:
    """An emulated Cosmos checkout plus helpers to run it the way the orchestrator does."""

    def __init__(self, root: Path, emulator: str, record: Path):
        self.root = root
        self.record_file = record
        (root / ".emulator").mkdir(parents=True)
        (root / ".emulator" / "cosmos-emulator").symlink_to(Path(emulator).resolve())
        _write(root / "cosmos_transfer1" / "__init__.py", "")
        _write(root / TRANSFER, TRANSFER_WRAPPER, 0o755)
        _write(root / UPSAMPLER, UPSAMPLER_WRAPPER, 0o755)
        for mode in ("torchrun", "nvidia-smi"):
            _write(root / "bin" / mode, BIN_WRAPPER.format(mode=mode), 0o755)
        for rel in CHECKPOINTS:
            _write(root / "checkpoints" / rel, f"cosmos-emulator placeholder: {rel}\n")

    @classmethod
    def existing(cls, root: Path, record: Path) -> "Checkout":
        """Drives a checkout laid out elsewhere (by `cosmos emulator install`)."""
        checkout = cls.__new__(cls)
        checkout.root, checkout.record_file = root, record
        return checkout

    def env(self, extra=None, pythonpath=True):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.root),
               "COSMOS_EMULATOR_TIME_SCALE": "0", "COSMOS_EMULATOR_RECORD": str(self.record_file)}
        if pythonpath:
            env["PYTHONPATH"] = str(self.root)
        env.update(extra or {})
        return {k: v for k, v in env.items() if v is not None}

    def torchrun(self, *args, nproc=1, env=None, pythonpath=True, torchrun_opts=None):
        opts = torchrun_opts if torchrun_opts is not None else [
            f"--nproc_per_node={nproc}", "--nnodes=1", "--node_rank=0"]
        return self._run([str(self.root / "bin/torchrun"), *opts, TRANSFER, *map(str, args)],
                         env, pythonpath)

    def upsampler(self, *args, env=None, torchrun=True, pythonpath=True):
        """Runs the prompt upsampler the way the orchestrator's enhance runs do (torchrun, one
        process, OMP_NUM_THREADS set); `env` values of None unset a variable."""
        env = {"OMP_NUM_THREADS": "1", **(env or {})}
        if not torchrun:
            return self._run([str(self.root / UPSAMPLER), *map(str, args)], env, pythonpath)
        return self._run([str(self.root / "bin/torchrun"), "--nproc_per_node=1", "--nnodes=1",
                          "--node_rank=0", UPSAMPLER, *map(str, args)], env, pythonpath)

    def transfer(self, *args, env=None, pythonpath=True):
        return self._run([str(self.root / TRANSFER), *map(str, args)], env, pythonpath)

    def _run(self, argv, env, pythonpath):
        return subprocess.run(argv, cwd=self.root, env=self.env(env, pythonpath),
                              capture_output=True, text=True, timeout=300)

    def spec(self, data, name="spec.json"):
        (self.root / name).write_text(json.dumps(data))
        return name

    def video(self, rel, **kw):
        return str(make_video(self.root / rel, **kw).relative_to(self.root))

    def records(self):
        return [json.loads(line) for line in self.record_file.read_text().splitlines()]


@pytest.fixture
def checkout(tmp_path, emulator_bin) -> Checkout:
    if not have("ffmpeg") or not have("ffprobe"):
        pytest.skip("ffmpeg/ffprobe not installed")
    return Checkout(tmp_path / "cosmos", emulator_bin, tmp_path / "record.jsonl")


def log_messages(stdout: str, level="INFO"):
    """Messages of the log lines `[MM-DD HH:MM:SS|LEVEL|file:line:func] message`."""
    out = []
    for line in stdout.splitlines():
        if line.startswith("[") and f"|{level}|" in line and "] " in line:
            out.append(line.split("] ", 1)[1])
    return out


def assert_python_failure(proc, exception_line, torchrun=True):
    assert proc.returncode == 1, proc.stderr
    assert "Traceback (most recent call last):" in proc.stderr
    assert exception_line in proc.stderr, proc.stderr
    if torchrun:
        assert "torch.distributed.elastic.multiprocessing.errors.ChildFailedError" in proc.stderr


# --- Valid runs -----------------------------------------------------------------------------

def test_single_run_writes_the_video_and_prompt(checkout):
    video = checkout.video("inputs/color.mp4", frames=25, size="320x176")
    spec = checkout.spec({"prompt": "A red ball rolls on wet grass", "input_video_path": video,
                          "vis": {"control_weight": 0.3}, "edge": {"control_weight": 0.7}})
    proc = checkout.torchrun("--controlnet_specs", spec, "--num_gpus", "1", "--fps", "30",
                             "--video_save_folder", "outputs/run1")
    assert proc.returncode == 0, proc.stderr
    info = ffprobe(checkout.root / "outputs/run1/output.mp4")
    assert info == {"codec": "h264", "width": 1280, "height": 704, "frames": 25, "fps": 30.0,
                    "pix_fmt": "yuv420p"}
    assert (checkout.root / "outputs/run1/output.txt").read_text() == "A red ball rolls on wet grass"
    messages = log_messages(proc.stdout)
    assert "Run with prompt: A red ball rolls on wet grass" in messages
    assert messages[-2:] == ["Saved video to outputs/run1/output.mp4",
                             "Saved prompt to outputs/run1/output.txt"]
    assert messages.count("Completed diffusion sampling") == 1
    rec = checkout.records()[-1]
    assert rec["mode"] == "torchrun" and rec["exit_code"] == 0
    assert rec["args"]["fps"] == 30 and rec["args"]["num_gpus"] == 1
    assert rec["env"]["PYTHONPATH"] == str(checkout.root) and rec["env"]["HF_TOKEN"] == "no"
    assert rec["samples"][0]["controls"]["vis"]["control_weight"] == 0.3
    assert rec["outputs"] == ["outputs/run1/output.mp4"]


def test_output_size_snaps_to_the_closest_aspect(checkout):
    video = checkout.video("inputs/portrait.mp4", frames=5, size="176x320")
    spec = checkout.spec({"input_video_path": video, "edge": {}})
    proc = checkout.torchrun("--controlnet_specs", spec)
    assert proc.returncode == 0, proc.stderr
    info = ffprobe(checkout.root / "outputs/output.mp4")
    assert (info["width"], info["height"], info["fps"]) == (704, 1280, 24.0)


def test_output_frames_differ_with_the_seed(checkout):
    video = checkout.video("inputs/color.mp4", frames=5)
    spec = checkout.spec({"input_video_path": video, "edge": {}})
    for seed in ("1", "2"):
        proc = checkout.torchrun("--controlnet_specs", spec, "--seed", seed,
                                 "--video_save_name", f"seed{seed}")
        assert proc.returncode == 0, proc.stderr
    a = (checkout.root / "outputs/seed1.mp4").read_bytes()
    b = (checkout.root / "outputs/seed2.mp4").read_bytes()
    assert a != b


def test_spec_scalars_lose_only_to_two_token_flags(checkout):
    video = checkout.video("inputs/color.mp4", frames=5)
    spec = checkout.spec({"input_video_path": video, "sigma_max": 90, "fps": 12,
                          "num_steps": 20, "edge": {}})
    proc = checkout.torchrun("--controlnet_specs", spec, "--sigma_max", "80", "--fps=30",
                             "--num_st", "50")
    assert proc.returncode == 0, proc.stderr
    args = checkout.records()[-1]["args"]
    assert args["sigma_max"] == 80.0   # "--sigma_max 80": the flag wins
    assert args["fps"] == 12           # "--fps=30": silently overridden by the spec
    assert args["num_steps"] == 20     # an abbreviation is not the "--num_steps" token either
    assert ffprobe(checkout.root / "outputs/output.mp4")["fps"] == 12.0


def test_no_input_video_generates_from_the_control_video(checkout):
    depth = checkout.video("inputs/depth.mp4", frames=12, gray=True)
    spec = checkout.spec({"prompt": "p", "sigma_max": 80,
                          "depth": {"control_weight": 0.5, "input_control": depth}})
    proc = checkout.torchrun("--controlnet_specs", spec)
    assert proc.returncode == 0, proc.stderr
    assert ffprobe(checkout.root / "outputs/output.mp4")["frames"] == 12


def test_videos_are_cut_to_the_shortest(checkout):
    video = checkout.video("inputs/color.mp4", frames=20)
    depth = checkout.video("inputs/depth.mp4", frames=14, gray=True)
    spec = checkout.spec({"input_video_path": video, "depth": {"input_control": depth}})
    proc = checkout.torchrun("--controlnet_specs", spec)
    assert proc.returncode == 0, proc.stderr
    assert any("cutting all to the shortest (14)" in m for m in log_messages(proc.stdout, "WARNING"))
    assert ffprobe(checkout.root / "outputs/output.mp4")["frames"] == 14


def test_progress_has_one_bar_step_per_chunk(checkout):
    video = checkout.video("inputs/long.mp4", frames=241, size="160x96")
    spec = checkout.spec({"input_video_path": video, "edge": {}})
    proc = checkout.torchrun("--controlnet_specs", spec)
    assert proc.returncode == 0, proc.stderr
    assert log_messages(proc.stdout).count("Completed diffusion sampling") == 2
    bars = [b for b in proc.stderr.replace("\r", "\n").splitlines() if "it/s]" in b or "s/it]" in b]
    assert bars[0] == "  0%|          | 0/2 [00:00<?, ?it/s]"
    assert [b.split("|")[2].split()[0] for b in bars] == ["0/2", "1/2", "2/2"]
    assert ffprobe(checkout.root / "outputs/output.mp4")["frames"] == 241


def test_upscale_forces_batch_size_one_and_4k_size(checkout):
    video = checkout.video("inputs/color.mp4", frames=4)
    spec = checkout.spec({"input_video_path": video, "upscale": {"control_weight": 0.5}})
    proc = checkout.torchrun("--controlnet_specs", spec, "--num_steps", "10", "--batch_size", "4",
                             env={"COSMOS_EMULATOR_UPSCALE_SIZE": "384x212"})
    assert proc.returncode == 0, proc.stderr
    assert checkout.records()[-1]["args"]["batch_size"] == 1
    info = ffprobe(checkout.root / "outputs/output.mp4")
    assert (info["width"], info["height"], info["frames"]) == (384, 212, 4)


def test_upscale_needs_an_input_video(checkout):
    spec = checkout.spec({"upscale": {"control_weight": 0.5}})
    proc = checkout.torchrun("--controlnet_specs", spec, "--num_steps", "10")
    assert_python_failure(proc, "ValueError: Must have 'input_video' specified if sigma_max < 80")


# --- Prompt upsampler (enhance runs) -----------------------------------------------------------

def test_upsampler_prints_the_upsampled_prompt_and_writes_no_file(checkout):
    video = checkout.video("inputs/small.mp4", frames=3, size="940x528")
    before = {p for p in checkout.root.rglob("*")}
    proc = checkout.upsampler("--prompt", "A red ball on wet grass", "--input_video", video,
                              "--checkpoint_dir", "checkpoints")
    assert proc.returncode == 0, proc.stderr
    lines = [l for l in proc.stdout.splitlines() if l.startswith("Upsampled prompt: ")]
    assert len(lines) == 1
    assert lines[0].startswith("Upsampled prompt: A red ball on wet grass ")
    locks = checkout.root / ".emulator/gpus"  # the emulated machine's GPU locks, not outputs
    assert {p for p in checkout.root.rglob("*") if locks not in (p, *p.parents)} - before == set()
    record = checkout.records()[-1]
    assert record["args"]["input_video"] == video
    assert record["exit_code"] == 0


def test_upsampler_rejects_frames_above_the_pixel_limit(checkout):
    video = checkout.video("inputs/720p.mp4", frames=2, size="1280x720")
    proc = checkout.upsampler("--prompt", "p", "--input_video", video)
    assert_python_failure(proc, "is too long to fit into the model (context length 4096)")
    assert "Upsampled prompt" not in proc.stdout


def test_upsampler_needs_torchrun_and_omp_num_threads(checkout):
    video = checkout.video("inputs/small.mp4", frames=2)
    direct = checkout.upsampler("--input_video", video, torchrun=False)
    assert_python_failure(direct, "KeyError: 'RANK'", torchrun=False)
    no_omp = checkout.upsampler("--input_video", video, env={"OMP_NUM_THREADS": None})
    assert_python_failure(no_omp, "KeyError: 'OMP_NUM_THREADS'")
    usage = checkout.upsampler("--prompt", "p")
    assert usage.returncode == 1  # torchrun reports the worker's exit 2 as a failure
    assert "the following arguments are required: --input_video" in usage.stderr


def test_upsampler_needs_its_checkpoint(checkout):
    video = checkout.video("inputs/small.mp4", frames=2)
    (checkout.root / "checkpoints/nvidia/Cosmos-UpsamplePrompt1-12B-Transfer/"
     "consolidated.safetensors").unlink()
    proc = checkout.upsampler("--input_video", video)
    assert_python_failure(proc, "FileNotFoundError: [Errno 2] No such file or directory")


# --- Batches ----------------------------------------------------------------------------------

def write_batch(checkout, lines):
    path = checkout.root / "batch.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return "batch.jsonl"


def test_batch_writes_one_folder_per_line(checkout):
    a = checkout.video("inputs/a.mp4", frames=10)
    b = checkout.video("inputs/b.mp4", frames=14)
    spec = checkout.spec({"vis": {"control_weight": 0.3}})
    batch = write_batch(checkout, [
        {"prompt": "first", "visual_input": a},
        {"prompt": "second", "visual_input": b,
         "control_overrides": {"vis": {"control_weight": 0.9}, "depth": {"control_weight": 1}}},
    ])
    proc = checkout.torchrun("--controlnet_specs", spec, "--batch_input_path", batch,
                             "--video_save_folder", "out")
    assert proc.returncode == 0, proc.stderr
    for i, (prompt, frames) in enumerate([("first", 10), ("second", 14)]):
        assert ffprobe(checkout.root / f"out/video_{i}/output.mp4")["frames"] == frames
        assert (checkout.root / f"out/video_{i}/prompt.txt").read_text() == prompt
    assert any("depth" in m for m in log_messages(proc.stdout, "WARNING"))
    samples = checkout.records()[-1]["samples"]
    assert [s["controls"]["vis"]["control_weight"] for s in samples] == [0.3, 0.9]
    assert all("depth" not in s["controls"] for s in samples)


@pytest.mark.parametrize("batch_size,expected", [("1", {0, 2}), ("3", {0, 1})])
def test_blocked_prompt_skips_its_video(checkout, batch_size, expected):
    a = checkout.video("inputs/a.mp4", frames=5)
    spec = checkout.spec({"edge": {}})
    batch = write_batch(checkout, [{"prompt": "fine", "visual_input": a},
                                   {"prompt": "please BLOCKME now", "visual_input": a},
                                   {"prompt": "also fine", "visual_input": a}])
    proc = checkout.torchrun("--controlnet_specs", spec, "--batch_input_path", batch,
                             "--batch_size", batch_size, "--video_save_folder", "out",
                             env={"COSMOS_EMULATOR_BLOCK_PROMPT": "BLOCKME"})
    assert proc.returncode == 0, proc.stderr
    assert "Guardrail blocked generation." in log_messages(proc.stdout, "CRITICAL")
    written = {int(p.parent.name.split("_")[1]) for p in (checkout.root / "out").glob("video_*/output.mp4")}
    assert written == expected


# --- Failures the real model produces ---------------------------------------------------------

def test_invalid_hint_key_is_refused(checkout):
    video = checkout.video("inputs/color.mp4", frames=5)
    spec = checkout.spec({"input_video_path": video, "control_inputs": {"depth": "d.mp4"}})
    proc = checkout.torchrun("--controlnet_specs", spec)
    assert_python_failure(proc, "ValueError: Invalid hint_key: control_inputs. Must be one of "
                                "['vis', 'edge', 'depth', 'seg', 'keypoint', 'upscale', 'hdmap', 'lidar']")
    assert not (checkout.root / "outputs/output.mp4").exists()


def test_sigma_below_80_needs_an_input_video(checkout):
    depth = checkout.video("inputs/depth.mp4", frames=5, gray=True)
    spec = checkout.spec({"depth": {"input_control": depth}})
    proc = checkout.torchrun("--controlnet_specs", spec)
    assert_python_failure(proc, "ValueError: Must have 'input_video' specified if sigma_max < 80")
    spec = checkout.spec({"sigma_max": 80, "depth": {"control_weight": 0.5}})
    proc = checkout.torchrun("--controlnet_specs", spec)
    assert_python_failure(proc, "depth controlnet must have 'input_control' video specified")


def test_unknown_flag_is_a_usage_error(checkout):
    spec = checkout.spec({"edge": {}})
    proc = checkout.transfer("--controlnet_specs", spec, "--bogus", "1")
    assert proc.returncode == 2
    assert proc.stderr.startswith("usage: transfer.py [-h] --controlnet_specs CONTROLNET_SPECS")
    assert proc.stderr.rstrip().endswith("transfer.py: error: unrecognized arguments: --bogus 1")
    # Under torchrun the worker's exit 2 becomes torchrun's ChildFailedError and exit 1.
    proc = checkout.torchrun("--controlnet_specs", spec, "--bogus", "1")
    assert proc.returncode == 1
    assert "exitcode  : 2" in proc.stderr


@pytest.mark.parametrize("args,message", [
    (["--blur_strength", "extreme"], "argument --blur_strength: invalid choice: 'extreme' "
                                     "(choose from 'very_low', 'low', 'medium', 'high', 'very_high')"),
    (["--num_input_frames", "2"], "argument --num_input_frames: invalid choice: 2 (choose from 1)"),
    (["--num_steps", "x"], "argument --num_steps: invalid int value: 'x'"),
    (["--guidance=high"], "argument --guidance: invalid float value: 'high'"),
    (["--seed"], "argument --seed: expected one argument"),
    (["--offload"], "ambiguous option: --offload could match"),
    (["--use_distilled=1"], "argument --use_distilled: ignored explicit argument '1'"),
])
def test_bad_values_are_usage_errors(checkout, args, message):
    spec = checkout.spec({"edge": {}})
    proc = checkout.transfer("--controlnet_specs", spec, *args)
    assert proc.returncode == 2, proc.stderr
    assert f"transfer.py: error: {message}" in proc.stderr


def test_missing_required_spec_flag(checkout):
    proc = checkout.transfer("--num_steps", "5")
    assert proc.returncode == 2
    assert "the following arguments are required: --controlnet_specs" in proc.stderr


@pytest.mark.parametrize("pythonpath", [None, "/nonexistent", "somewhere/else"])
def test_pythonpath_must_hold_the_checkout(checkout, pythonpath):
    spec = checkout.spec({"edge": {}})
    env = {"PYTHONPATH": pythonpath} if pythonpath else None
    proc = checkout.torchrun("--controlnet_specs", spec, env=env, pythonpath=False)
    assert_python_failure(proc, "ModuleNotFoundError: No module named 'cosmos_transfer1'")


def test_num_gpus_must_match_nproc_per_node(checkout):
    video = checkout.video("inputs/color.mp4", frames=5)
    spec = checkout.spec({"input_video_path": video, "edge": {}})
    proc = checkout.torchrun("--controlnet_specs", spec, "--num_gpus", "1", nproc=2)
    assert_python_failure(proc, "RuntimeError: world_size (2) is not equal to context_parallel_size (1)")
    proc = checkout.torchrun("--controlnet_specs", spec, "--num_gpus", "3", nproc=3)
    assert_python_failure(proc, "ValueError: num_gpus must be 1, 2, 4 or 8")
    proc = checkout.torchrun("--controlnet_specs", spec, "--num_gpus", "2", nproc=2,
                             env={"CUDA_VISIBLE_DEVICES": "3"})
    assert_python_failure(proc, "RuntimeError: CUDA error: invalid device ordinal")
    proc = checkout.torchrun("--controlnet_specs", spec, "--num_gpus", "2", nproc=2,
                             env={"CUDA_VISIBLE_DEVICES": "2,5"})
    assert proc.returncode == 0, proc.stderr


def test_multi_gpu_and_upsampling_need_torchrun(checkout):
    spec = checkout.spec({"edge": {}})
    proc = checkout.transfer("--controlnet_specs", spec, "--num_gpus", "2")
    assert_python_failure(proc, "KeyError: 'RANK'", torchrun=False)
    proc = checkout.transfer("--controlnet_specs", spec, "--upsample_prompt")
    assert_python_failure(proc, "KeyError: 'RANK'", torchrun=False)


def test_missing_checkpoint_is_named(checkout):
    video = checkout.video("inputs/color.mp4", frames=5)
    (checkout.root / "checkpoints/nvidia/Cosmos-Transfer1-7B/depth_control.pt").unlink()
    spec = checkout.spec({"input_video_path": video, "depth": {"control_weight": 0.4}})
    proc = checkout.torchrun("--controlnet_specs", spec)
    assert_python_failure(proc, "FileNotFoundError: [Errno 2] No such file or directory: "
                                "'checkpoints/nvidia/Cosmos-Transfer1-7B/depth_control.pt'")


def test_torchrun_refuses_unknown_options_and_missing_scripts(checkout):
    proc = checkout.torchrun("--controlnet_specs", "x", torchrun_opts=["--nproc_per_node", "1",
                                                                      "--bogus"])
    assert proc.returncode == 2 and "torchrun: error: unrecognized arguments: --bogus" in proc.stderr
    proc = subprocess.run([str(checkout.root / "bin/torchrun"), "--nproc_per_node=1", "nope.py"],
                          cwd=checkout.root, env=checkout.env(), capture_output=True, text=True)
    assert proc.returncode == 2 and "can't open file" in proc.stderr


def test_spec_type_errors_are_python_type_errors(checkout):
    video = checkout.video("inputs/color.mp4", frames=5)
    spec = checkout.spec({"input_video_path": video, "num_steps": "35", "edge": {}})
    proc = checkout.torchrun("--controlnet_specs", spec)
    assert_python_failure(proc, "TypeError:")


def test_unknown_spec_keys_warn_and_strict_mode_refuses(checkout):
    video = checkout.video("inputs/color.mp4", frames=5)
    spec = checkout.spec({"input_video_path": video, "num_stepz": 20, "edge": {}})
    proc = checkout.torchrun("--controlnet_specs", spec)
    assert proc.returncode == 0, proc.stderr
    assert any("num_stepz" in m for m in log_messages(proc.stdout, "WARNING"))
    proc = checkout.torchrun("--controlnet_specs", spec, env={"COSMOS_EMULATOR_STRICT": "1"})
    assert_python_failure(proc, "ValueError: Unknown argument 'num_stepz'")
    spec = checkout.spec({"input_video_path": video, "edge": {"weight": 0.5}})
    proc = checkout.torchrun("--controlnet_specs", spec, env={"COSMOS_EMULATOR_STRICT": "1"})
    assert_python_failure(proc, "ValueError: Unknown key 'weight' in controlnet spec 'edge'")


@pytest.mark.parametrize("mode,code,line", [("exit0", 0, None),
                                            ("typeerror", 1, "TypeError: cannot unpack non-iterable NoneType object")])
def test_guardrail_blocks_the_video(checkout, mode, code, line):
    video = checkout.video("inputs/color.mp4", frames=5)
    spec = checkout.spec({"input_video_path": video, "edge": {}})
    proc = checkout.torchrun("--controlnet_specs", spec,
                             env={"COSMOS_EMULATOR_FAIL": "guardrail",
                                  "COSMOS_EMULATOR_GUARDRAIL_MODE": mode})
    assert proc.returncode == code, proc.stderr
    assert "Input text prompt is not safe" in log_messages(proc.stdout, "CRITICAL")
    if line:
        assert line in proc.stderr
    else:
        assert "Guardrail blocked generation." in log_messages(proc.stdout, "CRITICAL")
    assert not (checkout.root / "outputs/output.mp4").exists()


@pytest.mark.parametrize("env", [{"COSMOS_EMULATOR_FAIL": "oom"},
                                 {"COSMOS_EMULATOR_GPU_MEMORY_GB": "24"}])
def test_out_of_memory(checkout, env):
    video = checkout.video("inputs/color.mp4", frames=5)
    spec = checkout.spec({"input_video_path": video, "edge": {}})
    proc = checkout.torchrun("--controlnet_specs", spec, env=env)
    assert_python_failure(proc, "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate")
    assert "GPU 0 has a total capacity of" in proc.stderr
    assert not (checkout.root / "outputs/output.mp4").exists()


def test_crash_in_the_chosen_chunk(checkout):
    video = checkout.video("inputs/long.mp4", frames=241, size="160x96")
    spec = checkout.spec({"input_video_path": video, "edge": {}})
    proc = checkout.torchrun("--controlnet_specs", spec,
                             env={"COSMOS_EMULATOR_FAIL": "crash",
                                  "COSMOS_EMULATOR_FAIL_AT_CHUNK": "2"})
    assert_python_failure(proc, "RuntimeError: CUDA error: an illegal memory access was encountered")
    assert log_messages(proc.stdout).count("Completed diffusion sampling") == 1
    assert not (checkout.root / "outputs/output.mp4").exists()
    rec = checkout.records()[-1]
    assert rec["exit_code"] == 1 and rec["error"].startswith("RuntimeError")


def test_kill_ends_with_sigkill(checkout):
    video = checkout.video("inputs/color.mp4", frames=5)
    spec = checkout.spec({"input_video_path": video, "edge": {}})
    proc = checkout.torchrun("--controlnet_specs", spec, env={"COSMOS_EMULATOR_FAIL": "kill"})
    assert proc.returncode == -signal.SIGKILL
    assert not (checkout.root / "outputs/output.mp4").exists()


def test_sigterm_ends_a_long_run_with_143(checkout):
    video = checkout.video("inputs/color.mp4", frames=5)
    spec = checkout.spec({"input_video_path": video, "edge": {}})
    env = checkout.env({"COSMOS_EMULATOR_TIME_SCALE": "1", "COSMOS_EMULATOR_LOAD_SECONDS": "600"})
    proc = subprocess.Popen([str(checkout.root / "bin/torchrun"), "--nproc_per_node=1", TRANSFER,
                             "--controlnet_specs", spec], cwd=checkout.root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stdout:
        if "Loading checkpoint" in line:
            break
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode == 143


# --- Records and nvidia-smi ---------------------------------------------------------------------

def test_record_never_holds_the_hf_token(checkout):
    video = checkout.video("inputs/color.mp4", frames=5)
    spec = checkout.spec({"input_video_path": video, "edge": {}})
    proc = checkout.torchrun("--controlnet_specs", spec,
                             env={"HF_TOKEN": "hf_secret_value_123", "CUDA_VISIBLE_DEVICES": "0"})
    assert proc.returncode == 0, proc.stderr
    assert "hf_secret_value_123" not in checkout.record_file.read_text()
    rec = checkout.records()[-1]
    assert rec["env"]["HF_TOKEN"] == "yes" and rec["env"]["CUDA_VISIBLE_DEVICES"] == "0"
    assert rec["script_argv"] == ["--controlnet_specs", spec]


def test_nvidia_smi_lists_the_emulated_gpus(checkout):
    env = checkout.env({"COSMOS_EMULATOR_GPUS": "4"})
    proc = subprocess.run([str(checkout.root / "bin/nvidia-smi"),
                           "--query-gpu=index,name,memory.total,memory.used,utilization.gpu",
                           "--format=csv,noheader,nounits"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0
    rows = [r.split(", ") for r in proc.stdout.splitlines()]
    assert [r[0] for r in rows] == ["0", "1", "2", "3"]
    assert rows[0][1] == "NVIDIA H100 80GB HBM3 (emulated)" and rows[0][2] == "81559"
    proc = subprocess.run([str(checkout.root / "bin/nvidia-smi"), "-L"], env=env,
                          capture_output=True, text=True)
    assert len(proc.stdout.splitlines()) == 4 and proc.stdout.startswith("GPU 0: NVIDIA H100")
    # Power and temperature, with units and header as nvidia-smi prints them (idle GPUs).
    proc = subprocess.run([str(checkout.root / "bin/nvidia-smi"),
                           "--query-gpu=index,power.draw,temperature.gpu", "--format=csv"],
                          env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "index, power.draw [W], temperature.gpu" and lines[1] == "0, 71.50 W, 34"


# --- GPUs: one run per GPU, locks, occupancy ---------------------------------------------------

class Holder:
    """A transfer run started in the background that holds its GPUs until `load` seconds of
    model load have passed (or it is killed); `start()` returns once it holds them (its first
    "Loading checkpoint" line is printed after the locks are taken)."""

    def __init__(self, checkout, spec, devices, nproc=1, load="600", extra_env=None):
        env = checkout.env({"COSMOS_EMULATOR_TIME_SCALE": "1", "COSMOS_EMULATOR_LOAD_SECONDS": load,
                            "COSMOS_EMULATOR_STEP_SECONDS": "0.001",
                            "CUDA_VISIBLE_DEVICES": devices, **(extra_env or {})})
        self.proc = subprocess.Popen(
            [str(checkout.root / "bin/torchrun"), f"--nproc_per_node={nproc}", TRANSFER,
             "--controlnet_specs", spec, "--num_gpus", str(nproc),
             "--video_save_folder", f"outputs/hold-{devices.replace(',', '_')}"],
            cwd=checkout.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def start(self):
        for line in self.proc.stdout:
            if "Loading checkpoint" in line:
                return self
        raise AssertionError(f"the run never loaded: {self.proc.communicate()[1]}")

    def finish(self, timeout=60):
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, err


def smi_rows(checkout, env=None):
    proc = subprocess.run([str(checkout.root / "bin/nvidia-smi"),
                           "--query-gpu=index,utilization.gpu,memory.used,memory.free",
                           "--format=csv,noheader,nounits"],
                          env=checkout.env(env), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return {int(r[0]): (int(r[1]), int(r[2]), int(r[3]))
            for r in (line.split(", ") for line in proc.stdout.splitlines())}


@pytest.fixture
def small_spec(checkout):
    video = checkout.video("inputs/color.mp4", frames=5, size="160x96")
    return checkout.spec({"input_video_path": video, "edge": {}})


def test_nvidia_smi_loops_and_follows_the_gpu_locks(checkout, small_spec):
    # -lms 200: a round every 0.2 s, header once, until its output is closed; a GPU reads busy
    # from the round after a run took its lock, idle again once the run ended.
    smi = subprocess.Popen([str(checkout.root / "bin/nvidia-smi"),
                            "--query-gpu=index,utilization.gpu,memory.used", "--format=csv",
                            "-lms", "200"], env=checkout.env({"COSMOS_EMULATOR_GPUS": "2"}),
                           stdout=subprocess.PIPE, text=True)
    try:
        assert smi.stdout.readline() == "index, utilization.gpu [%], memory.used [MiB]\n"
        first = [smi.stdout.readline().strip() for _ in range(2)]
        assert first == ["0, 0 %, 0 MiB", "1, 0 %, 0 MiB"], first
        holder = Holder(checkout, small_spec, "1", load="2").start()
        busy = None
        for _ in range(50):
            row = smi.stdout.readline().strip()
            assert not row.startswith("index"), row  # the header is not repeated
            if row.startswith("1, ") and row != "1, 0 %, 0 MiB":
                busy = row
                break
        assert busy and 88 <= int(busy.split(", ")[1].split()[0]) <= 99, busy
        assert holder.finish()[0] == 0
        for _ in range(50):
            if smi.stdout.readline().strip() == "1, 0 %, 0 MiB":
                break
        else:
            raise AssertionError("GPU 1 never read idle again")
    finally:
        smi.stdout.close()  # its next write fails: it ends, as nvidia-smi does on a closed pipe
        smi.wait(timeout=10)  # raises when it keeps running
    for bad in (["-l", "0"], ["-l", "x"], ["-lms"]):
        proc = subprocess.run([str(checkout.root / "bin/nvidia-smi"), "--query-gpu=index",
                               "--format=csv", *bad], env=checkout.env(), capture_output=True,
                              text=True)
        assert proc.returncode == 2 and "Invalid value" in proc.stderr, (bad, proc.stderr)
    proc = subprocess.run([str(checkout.root / "bin/nvidia-smi"), "-l", "1"], env=checkout.env(),
                          capture_output=True, text=True)
    assert proc.returncode == 2, proc.stdout


def test_second_run_on_a_held_gpu_fails_with_out_of_memory(checkout, small_spec):
    first = Holder(checkout, small_spec, "1", load="4").start()
    second = checkout.torchrun("--controlnet_specs", small_spec, "--video_save_folder", "outputs/b",
                               env={"CUDA_VISIBLE_DEVICES": "1"})
    assert_python_failure(second, "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate")
    assert "GPU 0 has a total capacity of 79.65 GiB" in second.stderr  # the process's ordinal
    assert f"Process {first.proc.pid} has 71.68 GiB memory in use" in second.stderr
    assert not (checkout.root / "outputs/b/output.mp4").exists()
    code, err = first.finish()
    assert code == 0, err
    assert (checkout.root / "outputs/hold-1/output.mp4").is_file()
    by_pid = {r["pid"]: r for r in checkout.records()}
    held = by_pid[first.proc.pid]
    assert held["gpus"] == [1] and held["model_load"] is True and held["samples_generated"] == 1
    assert held["hold_start_ms"] <= held["hold_end_ms"]
    refused = next(r for p, r in by_pid.items() if p != first.proc.pid)
    assert refused["exit_code"] == 1 and refused["error"].startswith("torch.OutOfMemoryError")
    assert refused["gpus"] == [] and refused["model_load"] is False
    assert refused["hold_start_ms"] is None and refused["samples_generated"] == 0
    # Once the first run has exited the GPU takes the next run.
    again = checkout.torchrun("--controlnet_specs", small_spec, env={"CUDA_VISIBLE_DEVICES": "1"})
    assert again.returncode == 0, again.stderr
    assert checkout.records()[-1]["hold_start_ms"] >= held["hold_end_ms"]


def test_runs_on_different_gpus_run_at_once(checkout, small_spec):
    first = Holder(checkout, small_spec, "0", load="3").start()
    second = checkout.torchrun("--controlnet_specs", small_spec, "--video_save_folder", "outputs/b",
                               env={"CUDA_VISIBLE_DEVICES": "1"})
    assert second.returncode == 0, second.stderr
    code, err = first.finish()
    assert code == 0, err
    a, b = sorted(checkout.records(), key=lambda r: r["gpus"])
    assert (a["gpus"], b["gpus"]) == ([0], [1])
    assert b["hold_start_ms"] < a["hold_end_ms"]  # the holds overlapped in time


def test_without_cuda_visible_devices_a_run_uses_gpu_0(checkout, small_spec):
    first = Holder(checkout, small_spec, "0").start()
    try:
        proc = checkout.torchrun("--controlnet_specs", small_spec)
        assert_python_failure(proc, "torch.OutOfMemoryError: CUDA out of memory.")
    finally:
        first.proc.kill()
        first.finish()


def test_multi_gpu_run_holds_each_of_its_gpus(checkout, small_spec):
    env = {"COSMOS_EMULATOR_GPUS": "4"}
    first = Holder(checkout, small_spec, "2,3", nproc=2, extra_env=env).start()
    try:
        rows = smi_rows(checkout, env)
        assert {i: rows[i][0] for i in rows if i < 2} == {0: 0, 1: 0}
        assert all(88 <= rows[i][0] <= 99 for i in (2, 3)), rows  # busy, varying like a real one
        assert rows[2][1] == 73403 and rows[2][1] + rows[2][2] == 81559
        assert rows[0][1:] == (0, 81559)
        # The run on "0,3" gets GPU 0 but not 3, its second device: CUDA ordinal 1 is full.
        proc = checkout.torchrun("--controlnet_specs", small_spec, "--num_gpus", "2", nproc=2,
                                 env={"CUDA_VISIBLE_DEVICES": "0,3", **env})
        assert_python_failure(proc, "torch.OutOfMemoryError: CUDA out of memory.")
        assert "GPU 1 has a total capacity" in proc.stderr
        # ...and gave GPU 0 back: a run there now succeeds.
        proc = checkout.torchrun("--controlnet_specs", small_spec,
                                 env={"CUDA_VISIBLE_DEVICES": "0", **env})
        assert proc.returncode == 0, proc.stderr
    finally:
        first.proc.kill()
        first.finish()


def test_gpus_are_free_again_after_kill_9(checkout, small_spec):
    first = Holder(checkout, small_spec, "0").start()
    assert 88 <= smi_rows(checkout)[0][0] <= 99
    os.kill(first.proc.pid, signal.SIGKILL)
    code, _ = first.finish()
    assert code == -signal.SIGKILL
    assert smi_rows(checkout)[0] == (0, 0, 81559)
    proc = checkout.torchrun("--controlnet_specs", small_spec, env={"CUDA_VISIBLE_DEVICES": "0"})
    assert proc.returncode == 0, proc.stderr
    # The killed run wrote no record line; the one that followed did.
    assert [r["gpus"] for r in checkout.records() if r["mode"] == "torchrun"] == [[0]]


def test_fail_mode_kill_frees_its_gpu(checkout, small_spec):
    proc = checkout.torchrun("--controlnet_specs", small_spec, env={"COSMOS_EMULATOR_FAIL": "kill"})
    assert proc.returncode == -signal.SIGKILL
    rec = checkout.records()[-1]
    assert rec["exit_code"] == -9 and rec["gpus"] == [0] and rec["hold_end_ms"] is not None
    assert smi_rows(checkout)[0][0] == 0


def test_invalid_device_ordinal(checkout, small_spec):
    env = {"COSMOS_EMULATOR_GPUS": "2"}
    proc = checkout.torchrun("--controlnet_specs", small_spec, "--num_gpus", "2", nproc=2,
                             env={"CUDA_VISIBLE_DEVICES": "1,2", **env})
    assert_python_failure(proc, "RuntimeError: CUDA error: invalid device ordinal")
    # Only invalid devices: CUDA sees none at all.
    proc = checkout.torchrun("--controlnet_specs", small_spec,
                             env={"CUDA_VISIBLE_DEVICES": "2", **env})
    assert_python_failure(proc, "RuntimeError: No CUDA GPUs are available")
    # A device listed twice ends the list, as in CUDA.
    proc = checkout.torchrun("--controlnet_specs", small_spec, "--num_gpus", "2", nproc=2,
                             env={"CUDA_VISIBLE_DEVICES": "1,1", **env})
    assert_python_failure(proc, "RuntimeError: CUDA error: invalid device ordinal")
    assert all(r["model_load"] is False for r in checkout.records())


def test_gpu_uuids_in_cuda_visible_devices(checkout, small_spec):
    listed = subprocess.run([str(checkout.root / "bin/nvidia-smi"), "-L"], env=checkout.env(),
                            capture_output=True, text=True).stdout.splitlines()
    uuid = listed[5].split("UUID: ")[1].rstrip(")")
    proc = checkout.torchrun("--controlnet_specs", small_spec, env={"CUDA_VISIBLE_DEVICES": uuid})
    assert proc.returncode == 0, proc.stderr
    assert checkout.records()[-1]["gpus"] == [5]
    proc = checkout.torchrun("--controlnet_specs", small_spec,
                             env={"CUDA_VISIBLE_DEVICES": "GPU-00000000-0000"})
    assert_python_failure(proc, "RuntimeError: No CUDA GPUs are available")


def test_lock_directory_is_per_checkout_or_the_variable(checkout, small_spec, tmp_path,
                                                      emulator_bin):
    proc = checkout.torchrun("--controlnet_specs", small_spec, env={"CUDA_VISIBLE_DEVICES": "3"})
    assert proc.returncode == 0, proc.stderr
    assert (checkout.root / ".emulator/gpus/gpu3.lock").is_file()
    # Another machine (checkout) has its own GPUs: the same device there is free.
    other = Checkout(tmp_path / "other", emulator_bin, tmp_path / "other.jsonl")
    other_spec = other.spec(json.loads((checkout.root / small_spec).read_text()))
    other.video("inputs/color.mp4", frames=5, size="160x96")
    first = Holder(checkout, small_spec, "0").start()
    try:
        proc = other.torchrun("--controlnet_specs", other_spec, env={"CUDA_VISIBLE_DEVICES": "0"})
        assert proc.returncode == 0, proc.stderr
        assert smi_rows(other)[0][0] == 0 and 88 <= smi_rows(checkout)[0][0] <= 99
        # COSMOS_EMULATOR_GPU_DIR makes two checkouts one machine.
        shared = {"COSMOS_EMULATOR_GPU_DIR": str(checkout.root / ".emulator/gpus")}
        proc = other.torchrun("--controlnet_specs", other_spec,
                              env={"CUDA_VISIBLE_DEVICES": "0", **shared})
        assert_python_failure(proc, "torch.OutOfMemoryError")
        assert 88 <= smi_rows(other, shared)[0][0] <= 99
    finally:
        first.proc.kill()
        first.finish()


def test_upsampler_holds_a_gpu_too(checkout, small_spec):
    video = checkout.video("inputs/small.mp4", frames=3, size="320x176")
    first = Holder(checkout, small_spec, "0").start()
    try:
        proc = checkout.upsampler("--prompt", "A red ball", "--input_video", video,
                                  env={"CUDA_VISIBLE_DEVICES": "0"})
        assert proc.returncode == 1
        assert "torch.OutOfMemoryError: CUDA out of memory." in proc.stderr
        proc = checkout.upsampler("--prompt", "A red ball", "--input_video", video,
                                  env={"CUDA_VISIBLE_DEVICES": "1"})
        assert proc.returncode == 0, proc.stderr
        rec = checkout.records()[-1]
        assert rec["gpus"] == [1] and rec["model_load"] and rec["samples_generated"] == 1
    finally:
        first.proc.kill()
        first.finish()


@pytest.mark.skipif(not sshd_available(), reason="sshd not installed")
def test_cosmos_status_shows_the_run_holding_a_gpu(cosmos, emulator_bin, tmp_path):
    """The real installer's checkout on an ssh host: `cosmos status` sees the held GPU busy."""
    emu = cosmos.root / "remote-cosmos"
    cosmos.run("emulator", "install", emu)
    server = SshServer(tmp_path / "sshd").start()
    try:
        cosmos.run("hosts", "add", "h", "--address", f"127.0.0.1:{server.port}", "--user",
                   server.user, "--key", server.user_key, "--gpus", 2, "--cosmos-dir", emu,
                   "--work-dir", cosmos.root / "work", "--torchrun", f"{emu}/bin/torchrun")
        cosmos.run("hosts", "trust", "h", "--yes")
        checkout = Checkout.existing(emu, tmp_path / "record.jsonl")
        video = checkout.video("inputs/color.mp4", frames=5, size="160x96")
        spec = checkout.spec({"input_video_path": video, "edge": {}})
        first = Holder(checkout, spec, "1").start()
        try:
            gpus = cosmos.json("status", "h")[0]["gpus"]
            assert [g["index"] for g in gpus][:2] == [0, 1] and gpus[0]["utilization_percent"] == 0
            assert 88 <= gpus[1]["utilization_percent"] <= 99, gpus
            assert gpus[1]["memory_used_mib"] == 73403 and gpus[0]["memory_used_mib"] == 0
            assert (emu / ".emulator/gpus/gpu1.lock").is_file()
        finally:
            first.proc.kill()
            first.finish()
        gpus = cosmos.json("status", "h")[0]["gpus"]
        assert gpus[1]["utilization_percent"] == 0
    finally:
        server.stop()
