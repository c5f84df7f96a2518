"""cosmos-emulator's Cosmos-Transfer2.5 mode against its contract (docs/models/transfer2.5.md).

Each test lays out an emulated checkout (the layout services::install_emulator writes: the
examples/inference.py wrapper, bin/torchrun and the placeholder checkpoints), runs the emulator
through the wrapper or bin/torchrun like the orchestrator will, and checks exit codes, log lines
and the videos with the real ffprobe."""
import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import ffprobe, have, make_video

SCRIPT = "examples/inference.py"

CHECKPOINTS = [
    "nvidia/Cosmos-Transfer2.5-2B/general/edge/61f5694b-0ad5-4ecd-8ad7-c8545627d125_ema_bf16.pt",
    "nvidia/Cosmos-Transfer2.5-2B/general/depth/626e6618-bfcd-4d9a-a077-1409e2ce353f_ema_bf16.pt",
    "nvidia/Cosmos-Transfer2.5-2B/general/seg/5136ef49-6d8d-42e8-8abf-7dac722a304a_ema_bf16.pt",
    "nvidia/Cosmos-Transfer2.5-2B/general/blur/ba2f44f2-c726-4fe7-949f-597069d9b91c_ema_bf16.pt",
    "nvidia/Cosmos-Transfer2.5-2B/distilled/general/edge/"
    "41f07f13-f2e4-4e34-ba4c-86f595acbc20_ema_bf16.pt",
    "nvidia/Cosmos-Predict2.5-2B/tokenizer.pth",
    "nvidia/Cosmos-Reason1-7B/config.json",
    "nvidia/Cosmos-Guardrail1/video_content_safety_filter/safety_filter.pt",
]

WRAPPER = """#!/bin/sh
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd) || exit 1
COSMOS_EMULATOR_SCRIPT="$here/inference.py"
export COSMOS_EMULATOR_SCRIPT
exec "$here/../.emulator/cosmos-emulator" transfer25 "$@"
"""

TORCHRUN = """#!/bin/sh
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd) || exit 1
exec "$here/../.emulator/cosmos-emulator" torchrun "$@"
"""


def _write(path: Path, text: str, mode=0o644):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


class Checkout:
    """An emulated checkout plus helpers to run examples/inference.py the way cosmos does."""

    def __init__(self, root: Path, record: Path, emulator=None):
        self.root = root
        self.record_file = record
        if emulator is None:
            return  # laid out by `cosmos emulator install`
        (root / ".emulator").mkdir(parents=True)
        (root / ".emulator" / "cosmos-emulator").symlink_to(Path(emulator).resolve())
        _write(root / SCRIPT, WRAPPER, 0o755)
        _write(root / "bin" / "torchrun", TORCHRUN, 0o755)
        for rel in CHECKPOINTS:
            _write(root / "checkpoints" / rel, f"cosmos-emulator placeholder: {rel}\n")

    def env(self, extra=None):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.root),
               "COSMOS_EMULATOR_TIME_SCALE": "0", "COSMOS_EMULATOR_RECORD": str(self.record_file)}
        env.update(extra or {})
        return {k: v for k, v in env.items() if v is not None}

    def run(self, *args, env=None):
        """python examples/inference.py ARGS (the wrapper stands for the interpreter)."""
        return self._run([str(self.root / SCRIPT), *map(str, args)], env)

    def torchrun(self, *args, nproc=1, env=None):
        return self._run([str(self.root / "bin/torchrun"), f"--nproc_per_node={nproc}",
                          "--master_port=12341", SCRIPT, *map(str, args)], env)

    def _run(self, argv, env):
        return subprocess.run(argv, cwd=self.root, env=self.env(env), capture_output=True,
                              text=True, timeout=300)

    def spec(self, data, name="spec.json"):
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".jsonl"):
            path.write_text("".join(json.dumps(d) + "\n" for d in data))
        else:
            path.write_text(json.dumps(data))
        return name

    def video(self, rel, **kw):
        return str(make_video(self.root / rel, **kw).relative_to(self.root))

    def records(self):
        return [json.loads(line) for line in self.record_file.read_text().splitlines()]


@pytest.fixture
def checkout(tmp_path, emulator_bin) -> Checkout:
    if not have("ffmpeg") or not have("ffprobe"):
        pytest.skip("ffmpeg/ffprobe not installed")
    return Checkout(tmp_path / "cosmos", tmp_path / "record.jsonl", emulator_bin)


def log_messages(stdout: str, level=None):
    """Messages of the loguru lines `[MM-DD HH:MM:SS|LEVEL|file:line:function] message`."""
    out = []
    for line in stdout.splitlines():
        if line.startswith("[") and "] " in line and line.count("|") >= 2:
            head, message = line.split("] ", 1)
            if level is None or head.split("|")[1] == level:
                out.append(message)
    return out


def sample(name, video, **fields):
    return {"name": name, "prompt": f"{name}: a robot arm stacks red cubes", "video_path": video,
            **({"edge": {}} if not any(k in fields for k in ("edge", "depth", "vis", "seg"))
               else {}), **fields}


# --- Valid runs -----------------------------------------------------------------------------

def test_one_spec_writes_video_arguments_controls_and_config(checkout):
    video = checkout.video("inputs/in.mp4", frames=25, size="320x176", fps=16)
    spec = checkout.spec(sample("robot", "inputs/in.mp4", guidance=5, seed=7,
                                edge={"control_weight": 0.8}))
    proc = checkout.run("-i", spec, "-o", "outputs/run1")
    assert proc.returncode == 0, proc.stderr
    out = checkout.root / "outputs/run1"
    info = ffprobe(out / "robot.mp4")
    # keep_input_resolution (default true): the input's size, frames and frame rate
    assert info == {"codec": "h264", "width": 320, "height": 176, "frames": 25, "fps": 16.0,
                    "pix_fmt": "yuv420p"}
    assert ffprobe(out / "robot_control_edge.mp4")["frames"] == 25
    assert (out / "config.yaml").is_file() and (out / "robot.txt").is_file()
    args = json.loads((out / "robot.json").read_text())
    assert args["guidance"] == 5 and args["seed"] == 7 and args["num_steps"] == 35
    assert args["video_path"] == str(checkout.root / video)
    assert args["edge"]["control_weight"] == 0.8 and args["depth"] is None
    messages = log_messages(proc.stdout)
    for line in ["[1/1] Processing sample robot", "Saved arguments to outputs/run1/robot.json",
                 "Passed guardrail on prompt", "edge control video saved to "
                 "outputs/run1/robot_control_edge.mp4",
                 "Generated video saved to outputs/run1/robot.mp4"]:
        assert line in messages, proc.stdout
    assert log_messages(proc.stdout, "SUCCESS")[-1] == "Generated video saved to outputs/run1/robot.mp4"
    assert "Generating samples:" in proc.stderr  # the sampler's tqdm bar
    rec = checkout.records()[-1]
    assert rec["mode"] == "transfer25" and rec["exit_code"] == 0 and rec["model_load"] is True
    assert rec["samples_generated"] == 1 and rec["outputs"] == ["outputs/run1/robot.mp4"]


def test_cli_overrides_win_over_the_spec_and_keep_input_resolution_false(checkout):
    checkout.video("inputs/in.mp4", frames=30, size="320x176")
    spec = checkout.spec(sample("a", "inputs/in.mp4", max_frames=20, num_steps=35))
    proc = checkout.run("-i", spec, "-o", "out", "--max-frames", "12", "--num-steps", "4",
                        "--keep-input-resolution", "False", "--resolution", "480")
    assert proc.returncode == 0, proc.stderr
    info = ffprobe(checkout.root / "out/a.mp4")
    assert (info["width"], info["height"], info["frames"]) == (768, 432, 12)
    args = json.loads((checkout.root / "out/a.json").read_text())
    assert args["num_steps"] == 4 and args["max_frames"] == 12 and args["resolution"] == "480"


def test_batch_loads_once_and_a_blocked_sample_is_skipped(checkout):
    checkout.video("inputs/in.mp4", frames=9)
    # relative paths in a spec resolve against the spec file's folder (as the real script
    # chdirs there to validate it)
    first = checkout.spec(sample("one", "../inputs/in.mp4"), "specs/one.json")
    blocked = checkout.spec(sample("two", "../inputs/in.mp4", prompt="forbidden scene"),
                            "specs/two.json")
    rest = checkout.spec([sample("three", "../inputs/in.mp4"),
                          sample("four", "../inputs/in.mp4", vis={})], "specs/more.jsonl")
    # several -i files (repeated flag, and several paths after one flag)
    proc = checkout.run("-i", first, "-i", blocked, rest, "-o", "out",
                        env={"COSMOS_EMULATOR_BLOCK_PROMPT": "forbidden"})
    assert proc.returncode == 0, proc.stderr
    out = checkout.root / "out"
    for name in ("one", "three", "four"):
        assert ffprobe(out / f"{name}.mp4")["frames"] == 9
    assert not (out / "two.mp4").exists() and (out / "two.json").exists()
    assert ("Guardrail blocked generation. Prompt: forbidden scene"
            in log_messages(proc.stdout, "CRITICAL"))
    assert "[2/4] Processing sample two" in log_messages(proc.stdout)
    # two controls across the batch: the multicontrol model, loaded once
    assert "Found 2 hint keys across all samples" in log_messages(proc.stdout)
    assert any("multicontrol" in m for m in log_messages(proc.stdout, "WARNING"))
    records = checkout.records()
    assert len(records) == 1 and records[0]["model_load"] is True
    assert records[0]["samples_generated"] == 3 and len(records[0]["samples"]) == 4


def test_no_keep_going_fails_on_a_blocked_sample(checkout):
    checkout.video("inputs/in.mp4", frames=5)
    spec = checkout.spec(sample("a", "inputs/in.mp4"))
    proc = checkout.run("-i", spec, "-o", "out", "--no-keep-going",
                        env={"COSMOS_EMULATOR_FAIL": "guardrail"})
    assert proc.returncode == 1
    assert "Exception: Guardrail blocked generation. Prompt: " in proc.stderr
    assert not (checkout.root / "out/a.mp4").exists()


def test_long_input_is_generated_chunk_by_chunk(checkout):
    checkout.video("inputs/long.mp4", frames=40, size="160x96")
    spec = checkout.spec(sample("long", "inputs/long.mp4", num_video_frames_per_chunk=17,
                                num_steps=2))
    proc = checkout.run("-i", spec, "-o", "out", env={"COSMOS_VERBOSE": "1"})
    assert proc.returncode == 0, proc.stderr
    # 17 frames, then 16 new ones per chunk (one conditional frame): 1 + ceil(23 / 16) = 3
    chunks = [m for m in log_messages(proc.stdout) if m.startswith("Generating chunk")]
    assert chunks == ["Generating chunk 1/3", "Generating chunk 2/3", "Generating chunk 3/3"]
    assert ffprobe(checkout.root / "out/long.mp4")["frames"] == 40
    # without COSMOS_VERBOSE the chunk lines go only to the debug log, as in the real model
    proc = checkout.run("-i", spec, "-o", "quiet")
    assert not any(m.startswith("Generating chunk") for m in log_messages(proc.stdout))
    assert (checkout.root / "quiet/debug.log").read_text().count("Generating chunk") == 3
    assert "Generating chunk" not in (checkout.root / "quiet/console.log").read_text()


def test_torchrun_runs_context_parallel_on_two_gpus(checkout):
    checkout.video("inputs/in.mp4", frames=9)
    spec = checkout.spec(sample("a", "inputs/in.mp4"))
    proc = checkout.torchrun("-i", spec, "-o", "out", nproc=2)
    assert proc.returncode == 0, proc.stderr
    assert ffprobe(checkout.root / "out/a.mp4")["frames"] == 9
    rec = checkout.records()[-1]
    assert rec["mode"] == "torchrun" and rec["gpus"] == [0, 1]
    assert rec["script_argv"][:2] == ["-i", spec]
    # a context parallel size the world does not divide into fails like megatron
    proc = checkout.torchrun("-i", spec, "-o", "out", "--context-parallel-size", "4", nproc=2)
    assert proc.returncode == 1
    assert "world_size (2) is not divisible by context_parallel_size (4)" in proc.stderr
    assert "ChildFailedError" in proc.stderr


# --- Refusals -----------------------------------------------------------------------------

def test_unknown_spec_key_is_refused(checkout):
    checkout.video("inputs/in.mp4", frames=5)
    spec = checkout.spec(sample("a", "inputs/in.mp4", input_video_path="inputs/in.mp4"))
    proc = checkout.run("-i", spec, "-o", "out")
    assert proc.returncode == 1
    assert "Error validating parameters from 'spec.json' at line 0" in proc.stderr
    assert "input_video_path\n  Extra inputs are not permitted [type=extra_forbidden" in proc.stderr
    assert not (checkout.root / "out").exists()
    assert checkout.records()[-1]["model_load"] is False


@pytest.mark.parametrize("fields, loc, message", [
    ({"guidance": 7.5}, "guidance",
     "Input should be a valid integer, got a number with a fractional part"),
    ({"guidance": 8}, "guidance", "Input should be less than or equal to 7"),
    ({"num_conditional_frames": 3}, "num_conditional_frames", "Input should be 0, 1 or 2"),
    ({"sigma_max": 80}, "sigma_max", "Input should be a valid string"),
    ({"edge": {"control_weight": 1.5}}, "edge.control_weight",
     "Input should be less than or equal to 1"),
])
def test_out_of_range_values_are_refused(checkout, fields, loc, message):
    checkout.video("inputs/in.mp4", frames=5)
    proc = checkout.run("-i", checkout.spec(sample("a", "inputs/in.mp4", **fields)), "-o", "out")
    assert proc.returncode == 1
    assert f"{loc}\n  {message} [type=" in proc.stderr


def test_missing_video_path_is_refused(checkout):
    spec = checkout.spec({"name": "a", "prompt": "p", "edge": {}})
    proc = checkout.run("-i", spec, "-o", "out")
    assert proc.returncode == 1
    assert "video_path\n  Field required [type=missing" in proc.stderr
    spec = checkout.spec(sample("a", "inputs/absent.mp4"))
    proc = checkout.run("-i", spec, "-o", "out")
    assert proc.returncode == 1
    assert "video_path\n  Path does not point to a file [type=path_not_file" in proc.stderr


def test_mismatched_control_and_mask_videos_are_refused(checkout):
    checkout.video("inputs/in.mp4", frames=12, size="320x176")
    checkout.video("inputs/short.mp4", frames=10, size="320x176")
    checkout.video("inputs/small.mp4", frames=12, size="160x96")
    spec = checkout.spec(sample("a", "inputs/in.mp4", edge={"control_path": "inputs/short.mp4"}))
    proc = checkout.run("-i", spec, "-o", "out")
    assert proc.returncode == 1
    assert "has 10 frames, the input video has 12: they must match" in proc.stderr
    spec = checkout.spec(sample("a", "inputs/in.mp4", depth={"mask_path": "inputs/small.mp4"}))
    proc = checkout.run("-i", spec, "-o", "out")
    assert proc.returncode == 1
    assert "is 160x96, the input video is 320x176: they must match" in proc.stderr
    assert not (checkout.root / "out/a.mp4").exists()


def test_duplicate_names_and_missing_controls_are_refused(checkout):
    checkout.video("inputs/in.mp4", frames=5)
    spec = checkout.spec([sample("a", "inputs/in.mp4"), sample("a", "inputs/in.mp4")],
                         "batch.jsonl")
    proc = checkout.run("-i", spec, "-o", "out")
    assert proc.returncode == 1 and "Error: Inference samplename a is not unique" in proc.stderr
    spec = checkout.spec({"name": "a", "prompt": "p", "video_path": "inputs/in.mp4"})
    proc = checkout.run("-i", spec, "-o", "out")
    assert proc.returncode == 1
    assert "ValueError: No controls provided" in proc.stderr


def test_unknown_flag_is_a_usage_error(checkout):
    checkout.video("inputs/in.mp4", frames=5)
    spec = checkout.spec(sample("a", "inputs/in.mp4"))
    proc = checkout.run("-i", spec, "-o", "out", "--num_steps", "4")
    assert proc.returncode == 2
    assert "Unrecognized options: --num_steps" in proc.stderr
    proc = checkout.run("-i", spec)
    assert proc.returncode == 2 and "--output-dir/-o" in proc.stderr
    proc = checkout.run("-i", spec, "-o", "out", "--model", "keypoint")
    assert proc.returncode == 2 and "invalid choice: 'keypoint'" in proc.stderr


def test_missing_checkpoint_without_a_token_fails_like_the_gated_download(checkout):
    checkout.video("inputs/in.mp4", frames=5)
    (checkout.root / "checkpoints" / CHECKPOINTS[1]).unlink()
    spec = checkout.spec(sample("a", "inputs/in.mp4", depth={}))
    proc = checkout.run("-i", spec, "-o", "out", env={"HF_TOKEN": None})
    assert proc.returncode == 1
    assert "subprocess.CalledProcessError" in proc.stderr and "401" in proc.stderr
    # with a token the file is "downloaded" and the run goes on
    proc = checkout.run("-i", spec, "-o", "out", env={"HF_TOKEN": "hf_test"})
    assert proc.returncode == 0, proc.stderr
    assert (checkout.root / "checkpoints" / CHECKPOINTS[1]).is_file()


# --- `cosmos emulator install` ------------------------------------------------------------

def test_emulator_install_lays_out_examples_inference_py(cosmos, tmp_path):
    if not have("ffmpeg") or not have("ffprobe"):
        pytest.skip("ffmpeg/ffprobe not installed")
    root = tmp_path / "checkout"
    cosmos.run("emulator", "install", root)
    script = root / SCRIPT
    assert script.is_file() and os.access(script, os.X_OK)
    assert script.read_text().startswith("#!/bin/sh\n")
    assert (root / "cosmos_transfer1/diffusion/inference/transfer.py").is_file()  # Transfer1 too
    for rel in CHECKPOINTS:
        assert (root / "checkpoints" / rel).is_file(), rel
    checkout = Checkout(root, tmp_path / "record.jsonl")
    checkout.video("inputs/in.mp4", frames=7)
    spec = checkout.spec(sample("a", "inputs/in.mp4", seg={"control_prompt": "robot arm"}))
    proc = checkout.run("-i", spec, "-o", "out")
    assert proc.returncode == 0, proc.stderr
    assert ffprobe(root / "out/a.mp4")["frames"] == 7
    proc = checkout.torchrun("-i", spec, "-o", "out2", nproc=2)
    assert proc.returncode == 0, proc.stderr
    assert ffprobe(root / "out2/a_control_seg.mp4")["frames"] == 7
