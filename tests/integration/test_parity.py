"""The commands people migrating from the Python tool used daily: --dry-run on inference,
upscale, prompt-enhance and prepare; inference --prompts-file; delete --all / --keep-outputs;
upscale --prompt; prompt-enhance --overwrite; kill --all; the queue's estimated times.
Real binary, real SQLite, the emulator as the model."""

import json
import os
import shlex
import subprocess
import time
from pathlib import Path

import pytest

from conftest import write_config
from test_media import render


def run_dirs(cosmos):
    d = cosmos.data_dir / "runs"
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def counts(cosmos):
    return (len(cosmos.json("list", "prompts", "--limit", "1000")),
            len(cosmos.json("list", "runs", "--limit", "1000")))


@pytest.fixture
def shot(emulated, input_set):
    """The emulator as the local host, a prompt over a three-pass input set."""
    pid = emulated.json("create", "prompt", "a harbour at dawn", input_set)["id"]
    return emulated, pid


def test_inference_dry_run_prints_the_exact_launch_and_creates_nothing(shot, input_set):
    cosmos, pid = shot
    before = counts(cosmos)
    plans = cosmos.json("inference", pid, "--dry-run", "--seed", "7", "--weight", "depth=0.4")
    assert len(plans) == 1
    p = plans[0]
    assert p["kind"] == "transfer" and p["prompt_id"] == pid and p["host"] == "local"
    assert p["spec"]["prompt"] == "a harbour at dawn"
    assert p["spec"]["depth"]["control_weight"] == 0.4 and p["spec"]["seed"] == 7
    assert p["spec"]["depth"]["input_control"] == str(input_set / "depth.mp4")
    assert any("torchrun" in a for a in p["command"]), p["command"]
    # The same as text: the command line a user can read and the spec.
    text = cosmos.run("inference", pid, "--dry-run", "--queue", "--upscale")
    assert f"would queue transfer run of {pid}" in text.stdout
    assert "command: " in text.stdout and '"prompt":"a harbour at dawn"' in text.stdout
    assert "then: an upscale run of its output" in text.stdout
    assert "nothing created" in text.stderr
    assert counts(cosmos) == before and run_dirs(cosmos) == []
    assert cosmos.json("queue")["jobs"] == []
    # What a real launch would refuse, a dry run refuses too.
    bad = cosmos.run("inference", pid, "--dry-run", "--weight", "depth=-1", check=False)
    assert bad.returncode == 3 and "depth" in bad.stderr
    gone = cosmos.run("inference", pid, "--dry-run", "--host", "nowhere", check=False)
    assert gone.returncode != 0 and "nowhere" in gone.stderr


def test_prompts_file_runs_ids_and_text_lines_in_order(shot, input_set, tmp_path):
    cosmos, pid = shot
    f = tmp_path / "shots.txt"
    f.write_text(f"\ufeff# tonight's shots\n{pid}\r\n\n  a foggy harbour at night  \n")
    plans = cosmos.json("inference", "--prompts-file", f, "--inputs", input_set, "--dry-run")
    assert [p["prompt_id"] for p in plans] == [pid, None]
    assert plans[1]["spec"]["prompt"] == "a foggy harbour at night"
    assert counts(cosmos) == (1, 0)  # the dry run made no prompt either

    runs = cosmos.json("inference", "--prompts-file", f, "--inputs", input_set)
    assert [r["status"] for r in runs] == ["succeeded", "succeeded"]
    assert runs[0]["prompt_id"] == pid
    made = cosmos.json("show", runs[1]["prompt_id"])
    assert made["prompt"] == "a foggy harbour at night"
    assert made["input_dir"] == str(input_set)


@pytest.mark.parametrize("content, needs, code", [
    ("a foggy harbour\n", "no --inputs", 3),              # text without an input set
    ("ps_0000000000000000\n", "shots.txt:1: no prompt ps_0000000000000000", 4),
    ("# nothing\n\n", "lists no prompts", 3),
    ("ok line\nbad \x07 bell\n", "shots.txt:2:", 3),       # control character, line named
])
def test_a_bad_prompts_file_names_its_line_and_creates_nothing(shot, tmp_path, content, needs,
                                                               code):
    cosmos, pid = shot
    f = tmp_path / "shots.txt"
    f.write_text(content)
    extra = [] if "no --inputs" in needs else ["--inputs", tmp_path / "nope"]
    r = cosmos.run("inference", pid, "--prompts-file", f, *extra, check=False)
    assert r.returncode == code and needs in r.stderr, r.stderr
    assert counts(cosmos) == (1, 0) and run_dirs(cosmos) == []


def test_a_prompts_file_that_is_huge_or_not_a_file_is_refused(shot, tmp_path):
    cosmos, pid = shot
    big = tmp_path / "big.txt"
    big.write_text((pid + "\n") * (5 * 1024 * 1024 // 16))
    r = cosmos.run("inference", "--prompts-file", big, check=False)
    assert r.returncode == 3 and "larger" in r.stderr.lower() or "too large" in r.stderr.lower()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    r = cosmos.run("inference", "--prompts-file", fifo, check=False, timeout=10)
    assert r.returncode == 3 and "not a regular file" in r.stderr
    none = cosmos.run("inference", check=False)
    assert none.returncode == 3 and "no prompts to run" in none.stderr
    assert counts(cosmos) == (1, 0)


def test_upscale_guiding_prompt_reaches_the_model_and_dry_run_shows_it(shot):
    cosmos, pid = shot
    parent = cosmos.json("inference", pid)[0]
    plan = cosmos.json("upscale", parent["id"], "--prompt", "crisp detail, film grain",
                       "--dry-run")[0]
    assert plan["kind"] == "upscale" and plan["parent_run_id"] == parent["id"]
    assert plan["spec"]["prompt"] == "crisp detail, film grain"
    assert plan["spec"]["input_video_path"] == parent["output_video"]
    assert "--num_steps" in plan["command"]
    assert len(cosmos.json("list", "runs")) == 1

    up = cosmos.json("upscale", parent["id"], "--prompt", "crisp detail, film grain")[0]
    assert up["status"] == "succeeded", up
    assert up["params"]["upscale_prompt"] == "crisp detail, film grain"
    spec = json.loads(cosmos.run("spec", up["id"]).stdout)
    assert spec["prompt"] == "crisp detail, film grain"
    # The model's own record of the prompt it was guided by (the emulator writes it as the
    # real one does, next to the video).
    txt = Path(up["output_video"]).with_suffix(".txt")
    assert txt.read_text().strip() == "crisp detail, film grain"
    # Without --prompt the spec has none: the model's default text guides it.
    plain = cosmos.json("upscale", parent["id"], "--dry-run")[0]
    assert "prompt" not in plain["spec"]
    bad = cosmos.run("upscale", parent["id"], "--prompt", "a\x01b", check=False)
    assert bad.returncode == 3 and "upscale prompt" in bad.stderr


def test_upscale_dry_run_of_a_queued_parent_names_its_future_output(shot):
    cosmos, pid = shot
    queued = cosmos.json("inference", pid, "--queue")[0]["run"]  # its run id
    plan = cosmos.json("upscale", queued, "--queue", "--dry-run")[0]
    assert plan["spec"]["input_video_path"] == f"<output of {queued}>"
    now_refused = cosmos.run("upscale", queued, "--dry-run", check=False)
    assert now_refused.returncode == 5 and "no output video" in now_refused.stderr


def test_prompt_enhance_dry_run_writes_nothing_and_overwrite_keeps_the_old_text(shot):
    cosmos, pid = shot
    plan = cosmos.json("prompt-enhance", pid, "--dry-run")[0]
    assert plan["kind"] == "enhance" and plan["spec"]["prompt"] == "a harbour at dawn"
    assert not Path(plan["spec"]["input_video"]).exists()  # the clip is only named
    assert run_dirs(cosmos) == [] and counts(cosmos) == (1, 0)

    old_run = cosmos.json("inference", pid)[0]
    out = cosmos.json("prompt-enhance", pid, "--overwrite")[0]
    assert out["prompt"]["id"] == pid
    now = cosmos.json("show", pid)
    assert now["prompt"] != "a harbour at dawn" and now["prompt"] == out["prompt"]["prompt"]
    original = cosmos.json("show", now["parent_id"])
    assert original["prompt"] == "a harbour at dawn"
    assert original["name"].endswith("_original")
    # The runs that ran the old text (the transfer run, the enhance run) moved with it.
    assert cosmos.json("show", old_run["id"])["prompt_id"] == original["id"]
    assert cosmos.json("show", out["run"]["id"])["prompt_id"] == original["id"]
    assert cosmos.json("list", "runs", "--prompt", pid) == []
    # Without --overwrite the original keeps its text and a child gets the new one.
    child = cosmos.json("prompt-enhance", pid)[0]["prompt"]
    assert child["id"] != pid and child["parent_id"] == pid
    assert cosmos.json("show", pid)["prompt"] == now["prompt"]
    r = cosmos.run("prompt-enhance", pid, "--model", "cosmos3", "--dry-run", check=False)
    assert r.returncode == 3 and "no command to show" in r.stderr


def test_prepare_dry_run_checks_the_frames_and_writes_nothing(cosmos, tmp_path):
    rend = render(tmp_path / "shot030", frames=5)
    out = tmp_path / "set"
    plan = cosmos.json("prepare", rend, "-o", out, "--edge", "--dry-run")
    assert plan["dry_run"] is True and plan["frames"] == 5
    assert sorted(f["modality"] for f in plan["files"]) == sorted(
        ["color", "depth", "seg", "edge"])
    assert not out.exists()
    text = cosmos.run("prepare", rend, "-o", out, "--dry-run")
    assert "would write input set" in text.stdout and "nothing written" in text.stderr
    assert not out.exists()
    (rend / "color.0003.png").unlink()  # a missing frame: refused as a real prepare would
    r = cosmos.run("prepare", rend, "-o", out, "--dry-run", check=False)
    assert r.returncode == 3 and "color.0003" in r.stderr
    assert not out.exists()


def tty_run(cosmos, args, answer):
    """Runs cosmos under a pseudo-terminal (util-linux `script`) answering `answer`."""
    cmd = " ".join(shlex.quote(str(a)) for a in [cosmos.binary, *args])
    return subprocess.run(["script", "-qec", cmd, "/dev/null"], input=answer, text=True,
                          capture_output=True, env=cosmos.env, cwd=cosmos.root, timeout=60)


def test_delete_all_asks_with_counts_and_keep_outputs_keeps_folders(shot, input_set):
    cosmos, pid = shot
    other = cosmos.json("create", "prompt", "a harbour at noon", input_set)["id"]
    runs = [cosmos.json("inference", p)[0]["id"] for p in (pid, pid, other)]
    refused = cosmos.run("delete", "--all", check=False)
    assert refused.returncode == 3
    assert "every prompt (2) and run (3)" in refused.stderr and "--force" in refused.stderr
    assert counts(cosmos) == (2, 3)
    both = cosmos.run("delete", "--all", pid, "--force", check=False)
    assert both.returncode == 3 and counts(cosmos) == (2, 3)

    declined = tty_run(cosmos, ["delete", "--all"], "n\n")
    assert declined.returncode == 0, declined.stdout
    assert "2 prompt(s) and 3 run(s)" in declined.stdout and "nothing deleted" in declined.stdout
    assert counts(cosmos) == (2, 3)

    kept = cosmos.json("delete", other, "--keep-outputs")  # no question: no output goes
    assert kept["deleted_runs"] == [runs[2]] and kept["kept_outputs"] == 1
    assert (cosmos.data_dir / "runs" / runs[2] / "outputs").is_dir()

    gone = cosmos.json("delete", "--all", "--force")
    assert sorted(gone["deleted_runs"]) == sorted(runs[:2]) and gone["deleted_prompts"] == [pid]
    assert counts(cosmos) == (0, 0)
    assert run_dirs(cosmos) == [runs[2]]  # only the one kept


def test_kill_all_stops_every_running_run_and_only_on_the_host_given(shot):
    cosmos, pid = shot
    write_config(cosmos, cosmos.emulator_dir, {"COSMOS_EMULATOR_TIME_SCALE": "1"})
    ids = [cosmos.json("inference", pid, "--detach")[0]["id"] for _ in range(2)]
    assert all(cosmos.json("show", i)["status"] == "running" for i in ids)
    none = cosmos.run("kill", "--all", "--host", "local", "--json", check=False)
    # (a host that runs nothing would say so; local runs both)
    assert none.returncode == 0, none.stderr
    killed = json.loads(none.stdout)
    assert sorted(k["id"] for k in killed) == sorted(ids)
    assert {cosmos.json("show", i)["status"] for i in ids} == {"cancelled"}
    again = cosmos.run("kill", "--all")
    assert "no run is running" in again.stderr
    assert cosmos.run("kill", check=False).returncode == 3
    assert cosmos.run("kill", ids[0], "--host", "local", check=False).returncode == 3
    assert cosmos.run("kill", "--all", "--host", "nowhere", check=False).returncode != 0


def test_queue_estimates_start_and_finish_from_history(shot):
    cosmos, pid = shot
    queued = cosmos.json("inference", pid, "--queue")
    jobs = cosmos.json("queue")["jobs"]
    # No finished run like it yet: a start (now: the host is free) but no finish.
    assert jobs[0]["estimated_start"] is not None and jobs[0]["estimated_finish"] is None
    cosmos.run("queue", "cancel", queued[0]["run"])

    cosmos.json("inference", pid, "--steps", "5")  # history: one run like the queued ones
    cosmos.json("inference", pid, "--steps", "5", "--num-gpus", "2", "--queue")  # both GPUs
    cosmos.json("inference", pid, "--steps", "5", "--queue")
    cosmos.json("inference", pid, "--steps", "5", "--queue")
    jobs = [j for j in cosmos.json("queue")["jobs"] if j["state"] == "queued"]
    assert len(jobs) == 3
    first, second, third = jobs
    assert first["estimated_finish"] is None  # 2 GPUs: no history for that shape
    assert second["estimated_start"] is None  # behind it on the only host: unknown
    cosmos.run("queue", "cancel", first["run"])
    jobs = [j for j in cosmos.json("queue")["jobs"] if j["state"] == "queued"]
    a, b = jobs
    assert a["estimated_start"] == b["estimated_start"]  # two GPUs: side by side
    assert a["estimated_finish"] > a["estimated_start"]
    table = cosmos.run("queue").stdout
    assert "START" in table and "FINISH" in table
    cosmos.run("queue", "pause")
    assert all(j["estimated_start"] is None for j in cosmos.json("queue")["jobs"])
    assert "-" in cosmos.run("queue").stdout
