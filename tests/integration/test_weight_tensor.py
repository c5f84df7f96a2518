"""Control weights as PyTorch .pt tensors (docs/models/transfer1.md, "Weight tensors").

Files written by cosmos's own writer (src/model/pt_tensor, run through the unit test binary's
PtTensor.WritesIntegrationFiles with COSMOS_PT_TENSOR_OUT) are loaded with the real torch.load
and compared with what torch.save writes; then the emulator gets them as a depth control_weight
and must accept them, recording the shape and values, and refuse what the real model cannot use
(another dtype, a file that is no archive, negative values)."""
import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from test_emulator import Checkout, assert_python_failure, checkout  # noqa: F401 (fixture)

UNIT_TESTS_BIN = os.environ.get("COSMOS_UNIT_TESTS_BIN")


def expected_values():
    """The [5,3,4] tensor the unit test writes: schedule "1:0.8,3:0.2" (linear) over 5 frames
    plus 0.01 per row and 0.001 per column."""
    frames = [0.8, 0.8, 0.5, 0.2, 0.2]
    return [[[w + h * 0.01 + x * 0.001 for x in range(4)] for h in range(3)] for w in frames]


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    if not UNIT_TESTS_BIN:
        pytest.skip("COSMOS_UNIT_TESTS_BIN not set")
    out = tmp_path_factory.mktemp("pt")
    proc = subprocess.run([UNIT_TESTS_BIN, "--gtest_filter=PtTensor.WritesIntegrationFiles"],
                          env={**os.environ, "COSMOS_PT_TENSOR_OUT": str(out)},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (out / "schedule_3d.pt").exists(), proc.stdout
    return out


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def test_torch_load_reads_cosmos_files(written, torch):
    t = torch.load(written / "schedule_3d.pt")
    assert isinstance(t, torch.Tensor)
    assert t.dtype == torch.float32 and tuple(t.shape) == (5, 3, 4)
    assert t.is_contiguous() and not t.requires_grad and t.device.type == "cpu"
    expected = torch.tensor(expected_values(), dtype=torch.float32)
    assert torch.equal(t, expected), (t - expected).abs().max()

    plane = torch.load(written / "mask_2d.pt")
    assert tuple(plane.shape) == (3, 4) and plane.dtype == torch.float32
    assert torch.equal(plane, expected[0])

    # Our data.pkl is byte for byte what torch.save writes for the same tensor.
    real = written / "real_save.pt"
    torch.save(expected.clone(), real)
    with zipfile.ZipFile(real) as a, zipfile.ZipFile(written / "schedule_3d.pt") as b:
        assert b.read("schedule_3d/data.pkl") == a.read("real_save/data.pkl")
        assert b.read("schedule_3d/data/0") == a.read("real_save/data/0")
        assert b.read("schedule_3d/version") == a.read("real_save/version")
        assert b.testzip() is None


def emulator_run(checkout, weight):
    video = checkout.video("inputs/color.mp4", frames=9, size="160x96")
    spec = checkout.spec({"prompt": "a harbour", "input_video_path": video,
                          "depth": {"control_weight": str(weight)}})
    return checkout.torchrun("--controlnet_specs", spec, "--num_gpus", "1",
                             "--video_save_folder", "outputs/run1")


def test_emulator_accepts_and_records_cosmos_files(checkout, written):  # noqa: F811
    proc = emulator_run(checkout, written / "schedule_3d.pt")
    assert proc.returncode == 0, proc.stderr
    rec = checkout.records()[-1]
    [tensor] = rec["weight_tensors"]
    assert tensor["modality"] == "depth" and tensor["dtype"] == "float32"
    assert tensor["shape"] == [5, 3, 4] and tensor["numel"] == 60
    flat = [v for frame in expected_values() for row in frame for v in row]
    assert tensor["first"] == pytest.approx(flat[:8], abs=1e-6)
    assert tensor["last"] == pytest.approx(flat[-1], abs=1e-6)
    assert tensor["min"] == pytest.approx(0.2, abs=1e-6)
    assert tensor["max"] == pytest.approx(0.8 + 0.02 + 0.003, abs=1e-6)

    proc = emulator_run(checkout, written / "mask_2d.pt")
    assert proc.returncode == 0, proc.stderr
    assert checkout.records()[-1]["weight_tensors"][0]["shape"] == [3, 4]


def test_emulator_accepts_torch_save_files(checkout, torch, tmp_path):  # noqa: F811
    path = tmp_path / "ones.pt"
    torch.save(torch.full((2, 6, 8), 0.5), path)
    proc = emulator_run(checkout, path)
    assert proc.returncode == 0, proc.stderr
    tensor = checkout.records()[-1]["weight_tensors"][0]
    assert tensor["shape"] == [2, 6, 8] and tensor["min"] == tensor["max"] == 0.5


def test_emulator_refuses_other_dtypes(checkout, torch, tmp_path):  # noqa: F811
    path = tmp_path / "double.pt"
    torch.save(torch.full((6, 8), 0.5, dtype=torch.float64), path)
    proc = emulator_run(checkout, path)
    assert_python_failure(proc, "RuntimeError: expected scalar type Float but found Double")
    assert checkout.records()[-1]["exit_code"] == 1


def test_emulator_refuses_a_file_that_is_no_archive(checkout, tmp_path):  # noqa: F811
    path = tmp_path / "weights.pt"
    path.write_text("0.5\n")
    proc = emulator_run(checkout, path)
    assert_python_failure(proc, "_pickle.UnpicklingError: invalid load key, '0'.")
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    assert_python_failure(emulator_run(checkout, empty), "EOFError: Ran out of input")


def test_emulator_refuses_negative_and_bad_shapes(checkout, torch, tmp_path):  # noqa: F811
    path = tmp_path / "negative.pt"
    t = torch.full((2, 3, 4), 0.5)
    t[1, 2, 3] = -0.25
    torch.save(t, path)
    assert_python_failure(emulator_run(checkout, path),
                          "ValueError: control_weight tensor of depth must be finite and >= 0; "
                          "element [1, 2, 3] is -0.25")
    nan = tmp_path / "nan.pt"
    torch.save(torch.tensor([[0.5, float("nan")]]), nan)
    assert_python_failure(emulator_run(checkout, nan), "element [0, 1] is nan")
    flat = tmp_path / "flat.pt"
    torch.save(torch.ones(5), flat)
    assert_python_failure(emulator_run(checkout, flat),
                          "must have shape [H,W] or [T,H,W], got torch.Size([5])")
    not_tensor = tmp_path / "dict.pt"
    torch.save({"w": torch.ones(2, 2)}, not_tensor)
    assert_python_failure(emulator_run(checkout, not_tensor), "does not hold a tensor")
