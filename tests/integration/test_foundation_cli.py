"""The foundation's CLI flows against the real binary, a real SQLite file and real FFmpeg."""
import json
import os
import shlex
import sqlite3
import subprocess
from pathlib import Path

import pytest

from conftest import ffprobe, make_video, write_config


def create_prompt(cosmos, text, folder, *extra):
    return cosmos.json("create", "prompt", text, folder, *extra)["id"]


def test_help_teaches_and_version_prints(cosmos):
    out = cosmos.run("--help").stdout
    for word in ("create", "inference", "list", "show", "spec", "import", "demo", "Exit codes"):
        assert word in out
    assert cosmos.run("create", "prompt", "--help").stdout.count("--template") >= 1
    assert cosmos.run("--version").stdout.startswith("cosmos ")


def test_ffmpeg_is_not_loaded_until_a_command_needs_it(cosmos, input_set):
    """FFmpeg's libraries (and the ~150 they pull in) are dlopened by media code on first use
    (src/media/av_lazy.hpp), not by the dynamic loader at every start."""
    needed = subprocess.run(["readelf", "-d", cosmos.binary], capture_output=True, text=True, check=True).stdout
    assert "libavformat" not in needed and "libavcodec" not in needed, needed
    # ... and a command that reads videos still finds them.
    pid = cosmos.json("create", "prompt", "a harbour", input_set)["id"]
    assert cosmos.json("show", pid)["video"]["frames"] == 25  # probed with libavformat


def test_prompt_run_and_spec_follow_the_reference(cosmos, input_set):
    pid = create_prompt(cosmos, "A foggy harbour at dawn, photoreal", input_set)
    assert pid.startswith("ps_")
    prompt = cosmos.json("show", pid)
    assert prompt["name"] == "foggy_harbour_dawn"
    assert prompt["video"] == {"width": 320, "height": 176, "frames": 25, "fps": 24.0}
    assert set(prompt["controls"]) == {"depth", "seg"}

    rid = cosmos.json("create", "run", pid, "--weights", "0.3", "0.7", "0.1", "0")["id"]
    assert rid.startswith("rs_")
    run = cosmos.json("show", rid)
    assert run["status"] == "pending"
    spec = json.loads(cosmos.run("spec", rid).stdout)
    assert spec["input_video_path"] == str(input_set / "color.mp4")
    assert spec["vis"] == {"control_weight": 0.3}
    assert spec["edge"] == {"control_weight": 0.7}
    assert spec["depth"] == {"control_weight": 0.1, "input_control": str(input_set / "depth.mp4")}
    assert "seg" not in spec
    assert spec["prompt"] == "A foggy harbour at dawn, photoreal"


def test_default_weights_use_only_available_controls(cosmos, tmp_path):
    folder = tmp_path / "only_color"
    make_video(folder / "color.mp4", frames=10)
    pid = create_prompt(cosmos, "a quiet street", folder)
    rid = cosmos.json("create", "run", pid)["id"]
    spec = json.loads(cosmos.run("spec", rid).stdout)
    assert "vis" in spec and "edge" in spec
    assert "depth" not in spec and "seg" not in spec


def count_rows(cosmos):
    db = cosmos.data_dir / "cosmos.db"
    if not db.exists():
        return (0, 0)
    con = sqlite3.connect(db)
    try:
        return tuple(con.execute(f"select count(*) from {t}").fetchone()[0]
                     for t in ("prompts", "runs"))
    finally:
        con.close()


@pytest.mark.parametrize("name", ["../x", "a;rm -rf ~", "$(id)"])
def test_hostile_names_are_refused_and_nothing_is_written(cosmos, input_set, name):
    r = cosmos.run("create", "prompt", "text", input_set, "--name", name, check=False)
    assert r.returncode == 3
    lines = [l for l in r.stderr.splitlines() if l.startswith("cosmos:")]
    assert len(lines) == 1 and "name" in lines[0]
    assert count_rows(cosmos) == (0, 0)


def test_out_of_range_weight_is_refused(cosmos, input_set):
    pid = create_prompt(cosmos, "harbour", input_set)
    for args in (["--weight", "depth=-0.5"], ["--weights", "0.1", "-1", "0", "0"],
                 ["--weight", "colour=0.5"], ["--steps", "0"], ["--num-gpus", "3"],
                 ["--seed", "4294967296"], ["--weight", "depth=abc"]):
        r = cosmos.run("create", "run", pid, *args, check=False)
        assert r.returncode == 3, (args, r.stderr)
        assert r.stderr.startswith("cosmos: ")
    assert count_rows(cosmos) == (1, 0)


def test_missing_and_mismatched_videos_are_refused(cosmos, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    r = cosmos.run("create", "prompt", "text", empty, check=False)
    assert r.returncode == 4 and "color.mp4" in r.stderr

    r = cosmos.run("create", "prompt", "text", tmp_path / "nowhere", check=False)
    assert r.returncode == 4

    short = tmp_path / "short"
    make_video(short / "color.mp4", frames=20)
    make_video(short / "depth.mp4", frames=19, gray=True)
    r = cosmos.run("create", "prompt", "text", short, check=False)
    assert r.returncode == 3
    assert "depth.mp4 has 19 frames but color.mp4 has 20" in r.stderr

    small = tmp_path / "small"
    make_video(small / "color.mp4", frames=10)
    make_video(small / "segmentation.mp4", frames=10, size="160x88")
    r = cosmos.run("create", "prompt", "text", small, check=False)
    assert r.returncode == 3 and "segmentation.mp4 is 160x88" in r.stderr

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "color.mp4").write_bytes(b"not a video at all")
    r = cosmos.run("create", "prompt", "text", broken, check=False)
    assert r.returncode == 3 and "color.mp4" in r.stderr
    assert count_rows(cosmos) == (0, 0)


def test_malformed_config_is_a_one_line_error_with_file_and_line(cosmos):
    cfg = cosmos.root / "bad.toml"
    cfg.write_text("[run]\nnum_steps = 35\nguidance = = 7\n")
    r = cosmos.run("--config", cfg, "config", "check", check=False)
    assert r.returncode == 6
    first = r.stderr.splitlines()[0]
    assert "bad.toml:3" in first
    cfg.write_text("[run]\nnum_stepz = 35\n")
    r = cosmos.run("--config", cfg, "list", "runs", check=False)
    assert r.returncode == 6 and "bad.toml:2" in r.stderr and "num_stepz" in r.stderr
    assert not (cosmos.data_dir / "cosmos.db").exists(), "a bad config must write nothing"


def test_json_errors_are_objects_on_stdout(cosmos):
    r = cosmos.run("show", "rs_doesnotexist", "--json", check=False)
    assert r.returncode == 4
    assert json.loads(r.stdout)["error"]["code"] == "not_found"


def test_list_show_search_and_json_everywhere(cosmos, input_set):
    a = create_prompt(cosmos, "A foggy harbour at dawn", input_set)
    b = create_prompt(cosmos, "A rainy street at night", input_set, "--name", "street")
    cosmos.json("create", "run", a)
    prompts = cosmos.json("list", "prompts")
    assert [p["id"] for p in prompts] == [b, a]
    assert cosmos.json("list", "prompts", "--limit", "1")[0]["id"] == b
    runs = cosmos.json("list", "runs", "--status", "pending")
    assert len(runs) == 1 and runs[0]["prompt_id"] == a
    assert cosmos.json("list", "runs", "--status", "succeeded") == []
    found = cosmos.json("search", "harb")
    assert [p["id"] for p in found["prompts"]] == [a]
    # Several words, quoted or not: every word must match.
    assert [p["id"] for p in cosmos.json("search", "foggy", "harb")["prompts"]] == [a]
    assert [p["id"] for p in cosmos.json("search", "foggy harb")["prompts"]] == [a]
    assert cosmos.json("search", "foggy", "street")["prompts"] == []
    assert len(found["runs"]) == 1
    text = cosmos.run("list", "prompts").stdout
    assert text.splitlines()[0].split()[:2] == ["ID", "NAME"]
    r = cosmos.run("list", "runs", "--status", "bogus", check=False)
    assert r.returncode == 3


def test_negative_prompt_default_and_override(cosmos, input_set):
    a = create_prompt(cosmos, "harbour", input_set)
    assert cosmos.json("show", a)["negative_prompt"].startswith("The video captures a game")
    b = create_prompt(cosmos, "harbour", input_set, "--negative", "blurry, low quality")
    assert cosmos.json("show", b)["negative_prompt"] == "blurry, low quality"


def test_templates(cosmos, input_set):
    names = [t["name"] for t in cosmos.json("templates", "list")]
    assert len(names) >= 3
    tmpl = cosmos.json("templates", "show", names[0])
    keys = list(tmpl["defaults"].keys())
    args = []
    if keys:
        args = ["--set", f"{keys[0]}=SENTINELVALUE"]
    pid = cosmos.json("create", "prompt", "--template", names[0], *args, input_set)["id"]
    text = cosmos.json("show", pid)["prompt"]
    if keys:
        assert "SENTINELVALUE" in text
    r = cosmos.run("create", "prompt", "--template", names[0], "--set", "nosuchkey=1", input_set,
                   check=False)
    assert r.returncode == 3
    r = cosmos.run("create", "prompt", "--template", "nosuchtemplate", input_set, check=False)
    assert r.returncode == 4


def test_interactive_wizard_previews_spec_and_saves(cosmos, input_set, tmp_path):
    answers = "\n".join(["A snowy mountain road at dusk", str(tmp_path / "wrong"), str(input_set),
                         "", "", "y"]) + "\n"
    r = cosmos.run("create", "prompt", "-i", "--json", input=answers)
    assert "no such" in r.stderr.lower() or "does not exist" in r.stderr
    assert "validation: ok" in r.stderr
    assert '"input_video_path"' in r.stderr
    pid = json.loads(r.stdout)["id"]
    assert cosmos.json("show", pid)["name"] == "snowy_mountain_road"
    r = cosmos.run("create", "prompt", "-i", input="only text\n", check=False)
    assert r.returncode == 3
    assert len(cosmos.json("list", "prompts")) == 1
    # Declining to save is a choice, not an error: exit 0, "not saved", nothing written.
    r = cosmos.run("create", "prompt", "-i", "--json",
                   input="\n".join(["a road", str(input_set), "", "", "n"]) + "\n")
    assert json.loads(r.stdout) == {"saved": False} and "not saved" in r.stderr, r.stderr
    assert len(cosmos.json("list", "prompts")) == 1
    # -i with --template: the template makes the text (not asked), the folder is offered.
    r = cosmos.run("create", "prompt", "-i", "--json", "--template", "weather",
                   "--set", "subject=a mountain road", "--set", "weather=snow", input_set,
                   input="\n\n\ny\n")
    assert "Text from template weather" in r.stderr and "Prompt text" not in r.stderr, r.stderr
    shown = cosmos.json("show", json.loads(r.stdout)["id"])
    assert shown["prompt"].startswith("a mountain road, the same scene in snow"), shown["prompt"]
    assert shown["template"] == "weather"


def test_delete_asks_and_never_touches_inputs(emulated, input_set):
    cosmos = emulated
    pid = create_prompt(cosmos, "harbour", input_set)
    run = cosmos.json("--config", cosmos.config, "inference", pid)[0]
    run_dir = cosmos.data_dir / "runs" / run["id"]
    assert run_dir.is_dir()
    r = cosmos.run("delete", pid, check=False)
    assert r.returncode == 3 and "--force" in r.stderr
    assert run_dir.is_dir()
    out = cosmos.json("delete", pid, "--force")
    assert out["deleted_runs"] == [run["id"]]
    assert not run_dir.exists()
    assert (input_set / "color.mp4").exists()
    assert cosmos.json("list", "prompts") == []
    r = cosmos.run("delete", "ps_nothere", check=False)
    assert r.returncode == 4


@pytest.mark.parametrize("args, unknown, suggested", [
    (["batch-inference", "x"], "batch-inference", "cosmos inference"),
    (["verfy"], "verfy", "cosmos verify"),
    (["verif", "--repair"], "verif", "cosmos checkpoints verify"),
    (["hosts", "lst"], "lst", "cosmos hosts list"),
    (["--json", "--config", "x.toml", "qeue"], "qeue", "cosmos queue"),
    (["frobnicate"], "frobnicate", None),
])
def test_an_unknown_command_is_named_with_the_closest_ones(cosmos, args, unknown, suggested):
    r = cosmos.run(*args, check=False)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith(f"cosmos: unknown command `{unknown}`"), r.stderr
    assert "A subcommand is required" not in r.stderr
    if suggested:
        assert f"did you mean `{suggested}`" in r.stderr or f"`{suggested}`" in r.stderr, r.stderr
    else:
        assert "--help` for the commands" in r.stderr, r.stderr


def test_the_readme_template_example_works(cosmos, input_set):
    readme = (Path(os.environ["COSMOS_SOURCE_DIR"]) / "README.md").read_text()
    line = next(l for l in readme.splitlines() if l.startswith("cosmos create prompt --template"))
    argv = shlex.split(line)[1:]
    argv[-1] = str(input_set)  # the example's folder
    pid = cosmos.json(*argv)["id"]
    assert "snow" in cosmos.json("show", pid)["prompt"]
    help_text = cosmos.run("create", "prompt", "--help").stdout
    example = next(l.strip() for l in help_text.splitlines() if "--template weather" in l)
    assert shlex.split(example)[1:-1] == argv[:-1], (example, line)


def test_usage_errors_exit_2_with_one_line(cosmos, input_set):
    for args in (["create", "run", "ps_x", "--steps", "abc"], ["list", "widgets"],
                 ["frobnicate"], ["create", "run"]):
        r = cosmos.run(*args, check=False)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        assert r.stderr.startswith("cosmos: "), r.stderr


def test_config_show_redacts_secrets_and_check_reports_source(cosmos, emulator_bin):
    cfg = cosmos.root / "cosmos.toml"
    cfg.write_text('[hosts.local]\nkind = "local"\ncosmos_dir = "/opt/cosmos"\n'
                   'env = { HF_TOKEN = "hf_supersecretvalue123", OTHER = "plain" }\n')
    shown = cosmos.run("--config", cfg, "config", "show").stdout
    assert "hf_supersecretvalue123" not in shown
    assert "plain" in shown
    check = cosmos.json("--config", cfg, "config", "check")
    assert check["ok"] is True and check["source"] == str(cfg)
