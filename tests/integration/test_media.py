"""The media pipeline through the real binary: `cosmos prepare` on render sequences generated
on the fly with the ffmpeg CLI (FFmpeg test sources), `cosmos interpolate`, `cosmos chunk` /
`cosmos stitch`, and the preview paths of `cosmos show`. Videos are checked with ffprobe."""
import json
import subprocess
from pathlib import Path

import pytest

from conftest import ffprobe, have, make_video, write_config

pytestmark = pytest.mark.skipif(not have("ffmpeg") or not have("ffprobe"),
                                reason="needs the ffmpeg and ffprobe CLIs")

SIZE = "160x96"


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-v", "error", "-y", *map(str, args)], check=True)


def render_pass(folder: Path, pattern: str, source: str, frames: int, size=SIZE, pix_fmt="rgb24"):
    """Writes `frames` numbered PNGs (from 1) of an FFmpeg test source."""
    folder.mkdir(parents=True, exist_ok=True)
    ffmpeg("-f", "lavfi", "-i", f"{source}=size={size}:rate=24", "-frames:v", frames,
           "-pix_fmt", pix_fmt, "-start_number", 1, folder / pattern)


def render(folder: Path, frames=8):
    """color (testsrc2), 16-bit depth (gradients) and segmentation (flat smptebars) passes."""
    render_pass(folder, "color.%04d.png", "testsrc2", frames)
    render_pass(folder, "depth.%04d.png", "gradients", frames, pix_fmt="gray16be")
    render_pass(folder / "segmentation", "seg_%03d.png", "smptebars", frames)
    return folder


def test_clean_render_gives_three_videos_with_the_same_frames_and_fps(cosmos, tmp_path):
    rend = render(tmp_path / "render", frames=8)
    out = cosmos.json("prepare", rend, "-o", tmp_path / "set", "--fps", 30)
    assert [f["modality"] for f in out["files"]] == ["color", "depth", "seg"]
    for f in out["files"]:
        info = ffprobe(f["file"])
        assert (info["frames"], info["fps"], info["codec"], info["pix_fmt"]) == \
            (8, 30.0, "h264", "yuv420p"), f
        assert (info["width"], info["height"]) == (160, 96)
    manifest = json.loads((tmp_path / "set" / "manifest.json").read_text())
    assert manifest["frames"] == 8 and manifest["fps"] == 30
    assert {f["file"] for f in manifest["files"]} == {"color.mp4", "depth.mp4", "segmentation.mp4"}
    assert manifest["depth"]["samples"] == "16-bit"
    assert all(len(f["sha256"]) == 64 for f in manifest["files"])
    assert Path(out["thumbnail"]).is_file() and Path(out["contact_sheet"]).is_file()


def test_prepare_creates_the_prompt_and_show_prints_previews(cosmos, tmp_path):
    rend = render(tmp_path / "shot020", frames=5)
    out = cosmos.json("prepare", rend, "--edge", "--create-prompt", "a rainy street at night")
    assert Path(out["input_dir"]) == cosmos.data_dir / "inputs" / "shot020"
    assert out["prompt"]["id"].startswith("ps_")
    assert "edge" in [f["modality"] for f in out["files"]]
    shown = cosmos.run("show", out["prompt"]["id"]).stdout
    assert f"thumbnail {out['thumbnail']}" in shown
    j = cosmos.json("show", out["prompt"]["id"])
    assert Path(j["previews"]["contact_sheet"]).is_file()


def test_float_exr_depth_is_inverted_and_spans_the_8_bit_range(cosmos, tmp_path):
    rend = tmp_path / "render"
    render_pass(rend, "color.%04d.png", "testsrc2", 4)
    render_pass(rend / "depth", "z_%04d.exr", "gradients", 4, pix_fmt="gbrpf32le")
    out = cosmos.json("prepare", rend, "-o", tmp_path / "set")
    manifest = json.loads((tmp_path / "set" / "manifest.json").read_text())
    assert manifest["depth"]["samples"] == "float" and manifest["depth"]["inverted"] is True
    lo, hi = manifest["depth"]["range"]
    assert 0 <= lo < hi <= 1
    depth = [f for f in out["files"] if f["modality"] == "depth"][0]
    assert depth["source"] == "depth/z_####.exr"
    # The sequence's own range maps onto the whole gray scale (limited-range luma 16..235).
    luma = b"".join(gray_frames(depth["file"]))
    assert min(luma) < 30 and max(luma) > 220
    # --depth-near bright keeps the values' order: the gray image is the negative.
    cosmos.run("prepare", rend, "-o", tmp_path / "set2", "--depth-near", "bright")
    inv = b"".join(gray_frames(tmp_path / "set2" / "depth.mp4"))
    assert abs((luma[0] + inv[0]) - 251) < 12


def test_a_missing_frame_is_named(cosmos, tmp_path):
    rend = render(tmp_path / "render", frames=8)
    (rend / "depth.0005.png").unlink()
    proc = cosmos.run("prepare", rend, "-o", tmp_path / "set", check=False)
    assert proc.returncode == 3, proc.stderr
    assert "depth: missing frame depth.0005.png" in proc.stderr
    color_gap = render(tmp_path / "render2", frames=8)
    (color_gap / "color.0003.png").unlink()
    proc = cosmos.run("prepare", color_gap, "-o", tmp_path / "set2", check=False)
    assert "missing frame color.0003.png (between color.0002.png and color.0004.png)" \
        in proc.stderr
    assert not (tmp_path / "set2" / "color.mp4").exists()


def test_mismatched_resolutions_are_refused(cosmos, tmp_path):
    rend = tmp_path / "render"
    render_pass(rend, "color.%04d.png", "testsrc2", 4)
    render_pass(rend, "depth.%04d.png", "gradients", 4, size="128x96", pix_fmt="gray")
    proc = cosmos.run("prepare", rend, "-o", tmp_path / "set", "--json", check=False)
    assert proc.returncode == 3
    err = json.loads(proc.stdout)["error"]
    assert "depth.0001.png is 128x96 but" in err["message"] and "color.0001.png is 160x96" \
        in err["message"]
    # Inside one pass too: frame 3 of color rendered at another size.
    rend2 = tmp_path / "render2"
    render_pass(rend2, "color.%04d.png", "testsrc2", 4)
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=128x96", "-frames:v", 1,
           rend2 / "color.0003.png")
    proc = cosmos.run("prepare", rend2, "-o", tmp_path / "set2", check=False)
    assert proc.returncode == 3 and "color.0003.png is 128x96 but" in proc.stderr


@pytest.mark.parametrize("method", ["mci", "blend"])
def test_interpolation_x2_of_n_frames_gives_2n_minus_1(cosmos, tmp_path, method):
    src = make_video(tmp_path / "clip.mp4", frames=20, size=SIZE)
    out = cosmos.json("interpolate", src, "--factor", 2, "--method", method)
    assert out["output_frames"] == 39
    info = ffprobe(out["output"])
    assert info["frames"] == 39 and info["fps"] == 48.0
    assert out["output"].endswith("clip_x2.mp4")


def gray_frames(path, size=SIZE):
    """Decodes a video to 8-bit luma planes with the ffmpeg CLI."""
    w, h = map(int, size.split("x"))
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo",
                          "-pix_fmt", "gray", "-"], capture_output=True, check=True).stdout
    n = w * h
    return [raw[i:i + n] for i in range(0, len(raw), n)]


def mad(a, b):
    return sum(abs(x - y) for x, y in zip(a, b)) / len(a)


def test_300_frames_chunked_and_stitched_back_with_smooth_seams(cosmos, tmp_path):
    src = make_video(tmp_path / "long.mp4", frames=300, size=SIZE, source="testsrc2")
    chunks = cosmos.json("chunk", src, "--window", 121, "--overlap", 32)
    assert [(c["start"], c["frames"]) for c in chunks["chunks"]] == [(0, 121), (89, 121),
                                                                     (178, 121), (267, 33)]
    # Stand-in for the model: independently generated windows differ; here each comes back
    # with its own brightness (+0, +16, +0, +16 on luma).
    lifts = [0, 16, 0, 16]
    parts = []
    for c, lift in zip(chunks["chunks"], lifts):
        part = tmp_path / f"out_{c['index']}.mp4"
        ffmpeg("-i", c["path"], "-vf", f"lutyuv=y=val+{lift}", "-c:v", "libx264",
               "-preset", "ultrafast", "-crf", 12, "-pix_fmt", "yuv420p", part)
        parts.append(part)
    out = cosmos.json("stitch", "--manifest", chunks["manifest"], *parts,
                      "-o", tmp_path / "stitched.mp4")
    assert out["frames"] == 300
    info = ffprobe(tmp_path / "stitched.mp4")
    assert info["frames"] == 300 and info["fps"] == 24.0

    # A normal frame step: the largest mean absolute luma difference between consecutive
    # frames of the source (testsrc2's motion varies from step to step).
    source = gray_frames(src)
    normal = max(mad(source[t], source[t + 1]) for t in range(299))
    # Without a cross-fade, the cut from one window to the next would jump by far more.
    cut = [mad(a, b) for a, b in zip(gray_frames(parts[0])[89:121], gray_frames(parts[1])[:32])]
    assert min(cut) > 1.5 * normal, (min(cut), normal)
    # With it, every frame in and at the edges of each overlap differs from both neighbours by
    # no more than a normal step (measured: worst 5.8 against 6.2; a cut would be 18).
    stitched = gray_frames(tmp_path / "stitched.mp4")
    for w in chunks["chunks"][1:]:
        for t in range(w["start"] - 1, min(w["start"] + 33, 299)):
            before = mad(stitched[t], stitched[t - 1])
            after = mad(stitched[t], stitched[t + 1])
            assert max(before, after) <= normal, (t, before, after, normal)


def test_stitch_without_manifest_and_its_errors(cosmos, tmp_path):
    a = make_video(tmp_path / "a.mp4", frames=30, size=SIZE)
    b = make_video(tmp_path / "b.mp4", frames=30, size=SIZE)
    out = cosmos.json("stitch", a, b, "--overlap", 10, "-o", tmp_path / "ab.mp4")
    assert out["frames"] == 50 and ffprobe(tmp_path / "ab.mp4")["frames"] == 50
    c = make_video(tmp_path / "c.mp4", frames=30, size="128x96")
    proc = cosmos.run("stitch", a, c, "-o", tmp_path / "ac.mp4", check=False)
    assert proc.returncode == 3 and "part 2" in proc.stderr and "128x96" in proc.stderr


def test_chunk_an_input_set(cosmos, tmp_path):
    rend = render(tmp_path / "render", frames=30)
    cosmos.run("prepare", rend, "-o", tmp_path / "set")
    out = cosmos.json("chunk", tmp_path / "set", "--window", 16, "--overlap", 4)
    assert out["input_set"] is True and len(out["chunks"]) == 3
    for c in out["chunks"]:
        for name in ("color.mp4", "depth.mp4", "segmentation.mp4"):
            assert ffprobe(Path(c["path"]) / name)["frames"] == c["frames"]
    again = cosmos.run("chunk", tmp_path / "set", "--window", 16, "--overlap", 4, check=False)
    assert again.returncode == 5 and "--force" in again.stderr


def test_long_run_in_parallel_mode_links_windows_to_a_parent(emulated, tmp_path):
    cosmos = emulated
    d = tmp_path / "long_set"
    make_video(d / "color.mp4", frames=40, size=SIZE)
    make_video(d / "depth.mp4", frames=40, size=SIZE, source="gradients", gray=True)
    pid = cosmos.json("create", "prompt", "A slow pan over a harbour", d)["id"]
    out = cosmos.json("--config", cosmos.config, "long-run", pid, "--window", 16,
                      "--overlap", 4, "--seed", 7)
    assert out["status"] == "succeeded", out
    children = out["children"]
    assert len(children) == 3  # frames 0..15, 12..27, 24..39
    assert all(c["parent_run_id"] == out["id"] and c["status"] == "succeeded"
               for c in children)
    assert all(c["params"]["seed"] == 7 for c in children)
    for c in children:
        assert cosmos.json("show", c["prompt_id"])["parent_id"] == pid
    video = ffprobe(out["output_video"])
    assert video["frames"] == 40 and (video["width"], video["height"]) == (1280, 704)
    shown = cosmos.json("show", out["id"])
    assert shown["output_video"] == out["output_video"]
    assert Path(shown["previews"]["thumbnail"]).is_file()


def test_long_run_window_that_fails_fails_the_parent_and_cancels_the_rest(emulated, tmp_path):
    cosmos = emulated
    cfg = write_config(cosmos, cosmos.emulator_dir, extra_env={"COSMOS_EMULATOR_FAIL": "crash"})
    d = tmp_path / "long_set"
    make_video(d / "color.mp4", frames=40, size=SIZE)
    pid = cosmos.json("create", "prompt", "A slow pan over a harbour", d)["id"]
    proc = cosmos.run("--config", cfg, "long-run", pid, "--window", 16, "--overlap", 4, "--json", check=False)
    assert proc.returncode == 10, proc.stderr
    out = json.loads(proc.stdout)
    assert out["status"] == "failed" and out["error"].startswith("window 0 ("), out["error"]
    windows = [r for r in cosmos.json("list", "runs") if r.get("parent_run_id") == out["id"]]
    assert sorted(r["status"] for r in windows) == ["cancelled", "cancelled", "failed"], windows


def test_help_teaches(cosmos):
    for cmd in ("prepare", "interpolate", "chunk", "stitch", "long-run"):
        text = cosmos.run(cmd, "--help").stdout
        assert "Examples" in text, cmd
