"""Cosmos-Transfer2.5 end to end through `cosmos`: a real OpenSSH server on 127.0.0.1 plays the
GPU host, the emulator (installed by `cosmos emulator install`, its transfer25 mode checking specs
independently of our spec builder) is the model, FFmpeg's ffprobe checks the videos."""
import json
from pathlib import Path

import pytest

from conftest import ffprobe, make_video, model_loads
from sshd_server import SshServer, sshd_available

needs_sshd = pytest.mark.skipif(not sshd_available(), reason="sshd not installed")

T25 = ["--model", "transfer2.5"]


@pytest.fixture
def sshd(tmp_path):
    server = SshServer(tmp_path / "sshd")
    server.start()
    yield server
    server.stop()


def add_host(cosmos, sshd, env=None, name="loop"):
    emu = cosmos.root / "remote-cosmos"
    if not emu.exists():
        cosmos.run("emulator", "install", emu)
    args = ["hosts", "add", name, "--address", f"127.0.0.1:{sshd.port}",
            "--user", sshd.user, "--key", sshd.user_key, "--gpus", 2,
            "--cosmos-dir", emu, "--work-dir", cosmos.root / "remote-work",
            "--torchrun", f"{emu}/bin/torchrun", "--replace"]
    full = {"COSMOS_EMULATOR_TIME_SCALE": "0", "COSMOS_EMULATOR_STRICT": "1",
            "COSMOS_EMULATOR_RECORD": str(cosmos.root / "record.jsonl"),
            "COSMOS_EMULATOR_GPU_DIR": str(cosmos.root / "gpus"), "HF_TOKEN": "hf_emulated"}
    full.update(env or {})
    for k, v in full.items():
        args += ["--env", f"{k}={v}"]
    cosmos.run(*args)
    cosmos.run("hosts", "trust", name, "--yes")
    return emu


@pytest.fixture
def remote(cosmos, emulator_bin, sshd):
    cosmos.sshd = sshd
    cosmos.emulator_dir = add_host(cosmos, sshd)
    return cosmos


def loads(cosmos):
    return [ld for ld in model_loads(cosmos.root / "record.jsonl") if ld["exit"] == 0]


def test_models_list_names_the_families_and_a_user_model(cosmos):
    names = [m["name"] for m in cosmos.json("models", "list")]
    assert names == ["transfer1", "transfer2.5", "cosmos3"]
    models = cosmos.home / ".config" / "cosmos" / "models"
    models.mkdir(parents=True)
    (models / "warehouse.toml").write_text(
        'family = "transfer2.5"\ndisplay_name = "Warehouse"\n'
        'checkpoint_path = "/models/warehouse.pt"\n[defaults]\nguidance = 5\n')
    listed = cosmos.json("models", "list")
    assert [(m["name"], m["family"], m["kind"]) for m in listed][-1] == \
        ("warehouse", "transfer2.5", "file")
    shown = cosmos.json("models", "show", "warehouse")
    assert shown["checkpoint_path"] == "/models/warehouse.pt" and len(shown["sha256"]) == 64
    assert cosmos.json("models", "show", "transfer2.5")["entry_point"] == "examples/inference.py"
    # A broken model file is named with its line.
    (models / "broken.toml").write_text('family = "transfer2.5"\n\nguidanse = 3\n')
    proc = cosmos.run("models", "list", check=False)
    assert proc.returncode != 0
    assert f"{models / 'broken.toml'}:3: unknown key 'guidanse'" in proc.stderr


@needs_sshd
def test_inference_on_an_ssh_host_keeps_command_and_spec(remote, input_set):
    cosmos = remote
    pid = cosmos.json("create", "prompt", "A foggy harbour at dawn", input_set)["id"]
    runs = cosmos.json("inference", pid, *T25, "--host", "loop",
                       "--weight", "depth=0.5", "--weight", "edge=1.0", timeout=300)
    run = runs[0]
    assert run["status"] == "succeeded", run
    assert run["model"] == "transfer2.5"
    assert ffprobe(run["output_video"])["frames"] == 25
    shown = cosmos.json("show", run["id"])
    argv = shown["command"]["argv"]
    assert "examples/inference.py" in argv and argv[argv.index("-i") + 1].endswith("/spec.json")
    assert argv[argv.index("-o") + 1].endswith("/outputs")
    spec = shown["spec"]
    assert spec["name"] == "output" and spec["guidance"] == 3 and spec["seed"] == 2025
    assert spec["depth"]["control_weight"] == 0.5 and "control_path" in spec["depth"]
    assert spec["edge"] == {"control_weight": 1.0, "preset_edge_threshold": "medium"}
    assert spec["video_path"].startswith(shown["remote_dir"] + "/inputs/")
    # The spec as sent is kept in the run's folder.
    kept = Path(shown["output_dir"]).parent / "spec.json"
    assert json.loads(kept.read_text()) == spec
    assert len(loads(cosmos)) == 1


@needs_sshd
@pytest.mark.parametrize("bad, rule", [
    (["--guidance", "7.5"], "guidance is a whole number 0-7"),
    (["--weight", "depth=1.5"], "control weight 1.5 for depth is out of range 0-1"),
    (["--weight", "keypoint=0.5"], "has no 'keypoint' control"),
    (["--variant", "edge/distilled", "--weight", "depth=1"], "distilled edge model takes only"),
])
def test_values_outside_the_models_rules_are_refused_before_anything_runs(remote, input_set,
                                                                           bad, rule):
    cosmos = remote
    pid = cosmos.json("create", "prompt", "A harbour", input_set)["id"]
    proc = cosmos.run("inference", pid, *T25, "--host", "loop", *bad, check=False)
    assert proc.returncode == 3, proc.stderr
    assert "Cosmos-Transfer2.5" in proc.stderr and rule in proc.stderr
    assert cosmos.json("list", "runs") == []
    assert not (cosmos.root / "remote-work" / "jobs").exists() or \
        not any((cosmos.root / "remote-work" / "jobs").iterdir())


def test_transfer1_options_and_upscale_are_refused_for_the_other_family(emulated, input_set):
    cosmos = emulated
    pid = cosmos.json("create", "prompt", "A harbour", input_set)["id"]
    proc = cosmos.run("create", "run", pid, "--resolution", "480", check=False)
    assert proc.returncode == 3 and "--resolution applies to Cosmos-Transfer2.5" in proc.stderr
    p25 = cosmos.json("create", "prompt", "A harbour", input_set, "--model", "transfer2.5")["id"]
    proc = cosmos.run("prompt-enhance", p25, check=False)
    assert proc.returncode != 0 and "no prompt upsampler" in proc.stderr


@needs_sshd
def test_six_queued_runs_over_two_control_sets_are_two_model_loads(remote, input_set):
    cosmos = remote
    add_host(cosmos, cosmos.sshd, env={"COSMOS_EMULATOR_BLOCK_PROMPT": "forbidden"})
    texts = ["a calm harbour", "a forbidden harbour", "a stormy harbour"]
    prompts = [cosmos.json("create", "prompt", t, input_set, "--model", "transfer2.5")["id"]
               for t in texts]
    runs = []
    for weights in (["--weight", "depth=0.6", "--weight", "edge=0.4"], ["--weight", "seg=1"]):
        queued = cosmos.json("inference", *prompts, *weights, "--queue", "--host", "loop")
        runs += [q["run"] for q in queued]
    proc = cosmos.run("worker", "--host", "loop", "--exit-when-idle", "--poll", "0.1",
                      "--max-batch", "8", timeout=600)
    shown = [cosmos.json("show", r) for r in runs]
    statuses = [s["status"] for s in shown]
    assert statuses == ["succeeded", "failed", "succeeded"] * 2, (statuses, proc.stderr)
    assert all("guardrail" in s["error"] for s in shown if s["status"] == "failed")
    assert len(loads(cosmos)) == 2
    batches = {s["batch_id"] for s in shown}
    assert len(batches) == 2 and all(b.startswith("bat_") for b in batches)
    for s in shown:
        assert s["spec"]["name"] == f"line{s['batch_index']}"
        if s["status"] == "succeeded":
            assert ffprobe(s["output_video"])["frames"] == 25
    argv = shown[0]["command"]["argv"]
    assert argv[argv.index("-i") + 1].endswith("/batch.jsonl")


@needs_sshd
def test_masked_control_and_native_long_video(remote, tmp_path):
    cosmos = remote
    shot = tmp_path / "long"
    make_video(shot / "color.mp4", frames=200)
    make_video(shot / "depth.mp4", frames=200, source="gradients", gray=True)
    make_video(shot / "depth_mask.mp4", frames=200, source="smptebars", gray=True)
    pid = cosmos.json("create", "prompt", "A long drive", shot, "--model", "transfer2.5")["id"]
    assert "depth" in cosmos.json("show", pid)["masks"]
    runs = cosmos.json("inference", pid, "--host", "loop", "--weight", "depth=0.8",
                       "--mask-prompt", "edge=the road", "--weight", "edge=0.5",
                       "--chunk-frames", "93", "--conditional-frames", "1", timeout=600)
    run = runs[0]
    assert run["status"] == "succeeded", run
    assert ffprobe(run["output_video"])["frames"] == 200
    spec = cosmos.json("show", run["id"])["spec"]
    assert spec["depth"]["mask_path"].endswith("depth_mask.mp4")
    assert spec["edge"]["mask_prompt"] == "the road"
    assert spec["num_video_frames_per_chunk"] == 93
    # Three chunks of 93 frames (the later ones conditioned on one frame each).
    log = cosmos.run("logs", run["id"]).stdout
    assert log.count("Generated video saved to") == 1


def test_a_mask_that_does_not_match_the_input_is_refused(cosmos, tmp_path):
    shot = tmp_path / "shot"
    make_video(shot / "color.mp4", frames=25)
    make_video(shot / "depth_mask.mp4", frames=20, gray=True)
    proc = cosmos.run("create", "prompt", "A harbour", shot, "--model", "transfer2.5",
                      check=False)
    assert proc.returncode == 3
    assert "depth_mask.mp4 has 20 frames but color.mp4 has 25" in proc.stderr


def test_prepare_turns_a_mask_pass_into_the_controls_mask_video(cosmos, tmp_path):
    import subprocess
    render = tmp_path / "render"
    render.mkdir()
    for name, src in (("color", "testsrc2"), ("depth_mask", "smptebars")):
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                        f"{src}=size=128x96:rate=24", "-frames:v", "6",
                        str(render / f"{name}.%04d.png")], check=True)
    out = tmp_path / "inputs"
    cosmos.run("prepare", render, "-o", out)
    assert ffprobe(out / "depth_mask.mp4")["frames"] == 6
    pid = cosmos.json("create", "prompt", "A harbour", out, "--model", "transfer2.5")["id"]
    shown = cosmos.json("show", pid)
    assert shown["masks"] == {"depth": str(out / "depth_mask.mp4")}
    assert shown["controls"] == {} and shown["model"] == "transfer2.5"
