"""One clear error for bad input: numbers must be plain decimal, and FFmpeg's own log lines do
not reach the terminal before cosmos's error."""
import json

import pytest

from conftest import make_video


@pytest.mark.parametrize("value,message", [
    ("0x10", "'0x10' is not a plain decimal number"),
    ("inf", "'inf' is not a plain decimal number"),
    ("1e-320", "'1e-320' is too small"),
    ("1e400", "'1e400' is too large"),
])
def test_weights_must_be_plain_decimal(cosmos, value, message):
    proc = cosmos.run("create", "run", "ps_000000000000", "--weight", f"depth={value}",
                      check=False)
    assert proc.returncode == 3, proc.stderr
    assert message in proc.stderr


def test_minus_zero_is_stored_and_sent_as_zero(cosmos, input_set):
    pid = cosmos.json("create", "prompt", "harbour", input_set)["id"]
    rid = cosmos.json("create", "run", pid, "--weight", "depth=-0.0", "--weight", "seg=0.5")["id"]
    run = cosmos.json("show", rid)
    assert run["params"]["weights"]["depth"] == 0
    assert "-0" not in json.dumps(run["params"]), run["params"]
    spec = cosmos.run("spec", rid).stdout
    assert "-0" not in spec, spec


def test_ffmpeg_log_lines_stay_out_of_the_error(cosmos, tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "color.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x01" * 4000)
    proc = cosmos.run("create", "prompt", "harbour", folder, check=False)
    assert proc.returncode != 0
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert lines and lines[0].startswith("cosmos: "), proc.stderr
    assert all(l.startswith(("cosmos: ", "hint: ")) for l in lines), proc.stderr
    # --verbose keeps them, in cosmos's log, marked as FFmpeg's.
    verbose = cosmos.run("-v", "create", "prompt", "harbour", folder, check=False)
    assert "ffmpeg: " in verbose.stderr, verbose.stderr


def test_good_video_still_probes(cosmos, tmp_path):
    folder = tmp_path / "good"
    folder.mkdir()
    make_video(folder / "color.mp4")
    pid = cosmos.json("create", "prompt", "harbour", folder)["id"]
    assert cosmos.json("show", pid)["video"]["frames"] == 25
