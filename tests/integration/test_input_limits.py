"""Every file cosmos reads whole goes through one capped reader: a FIFO, a device, a directory
or an over-size file is refused with a message naming the file, never read until memory runs
out or blocked on. Each case runs the real binary with a timeout, so a hang fails the test."""
import os
import subprocess

import pytest

MiB = 1024 * 1024
TIMEOUT = 20


def sparse(path, size):
    """A file of `size` bytes that takes no disk space."""
    with open(path, "wb") as f:
        f.truncate(size)
    return path


def fifo(path):
    os.mkfifo(path)
    return path


def devzero(path):
    os.symlink("/dev/zero", path)
    return path


def directory(path):
    os.mkdir(path)
    return path


def run(cosmos, *args, **kw):
    try:
        return cosmos.run(*args, check=False, timeout=TIMEOUT, **kw)
    except subprocess.TimeoutExpired:
        pytest.fail(f"cosmos {' '.join(map(str, args))} hung (a FIFO or device read)")


def refused(proc, *needles):
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    for n in needles:
        assert n in out, out


KINDS = [
    ("fifo", fifo, "is not a regular file (a FIFO)"),
    ("zero", devzero, "is not a regular file (a character device)"),
    ("dir", directory, "is not a regular file (a directory)"),
]


@pytest.mark.parametrize("name,make,message", KINDS)
def test_config_file_that_is_not_a_regular_file(cosmos, tmp_path, name, make, message):
    path = make(tmp_path / f"{name}.toml")
    refused(run(cosmos, "--config", path, "config", "check"), "configuration file", message)
    refused(run(cosmos, "config", "check", env={"COSMOS_CONFIG": str(path)}), message)


def test_config_file_over_the_cap(cosmos, tmp_path):
    path = sparse(tmp_path / "big.toml", MiB + 1)
    refused(run(cosmos, "--config", path, "config", "check"),
            f"configuration file {path} is too large: 1048577 bytes (the limit is 1 MiB)")


@pytest.mark.parametrize("name,make,message", KINDS)
def test_batch_file_that_is_not_a_regular_file(cosmos, tmp_path, name, make, message):
    path = make(tmp_path / f"{name}.json")
    refused(run(cosmos, "batch", path, "--dry-run"), f"batch file {path}", message)


def test_batch_file_over_the_cap(cosmos, tmp_path):
    path = sparse(tmp_path / "big.toml", 64 * MiB + 1)
    refused(run(cosmos, "batch", path, "--dry-run"), f"batch file {path} is too large",
            "(the limit is 64 MiB)")


@pytest.mark.parametrize("name,make,message", KINDS[:2])
def test_import_file_that_is_not_a_regular_file(cosmos, tmp_path, name, make, message):
    path = make(tmp_path / f"{name}.json")
    proc = run(cosmos, "--json", "import", path)
    assert f"import file {path} {message}" in proc.stdout + proc.stderr
    # Found in a folder it is reported too, not passed over.
    folder = tmp_path / "specs"
    folder.mkdir()
    make(folder / f"{name}.json")
    proc = run(cosmos, "--json", "import", folder)
    assert f"import file {folder / (name + '.json')} {message}" in proc.stdout + proc.stderr


def test_import_file_over_the_cap(cosmos, tmp_path):
    path = sparse(tmp_path / "big.json", 64 * MiB + 1)
    proc = run(cosmos, "--json", "import", path)
    assert f"import file {path} is too large" in proc.stdout, proc.stdout + proc.stderr
    assert "(the limit is 64 MiB)" in proc.stdout


@pytest.mark.parametrize("name,make,message", KINDS)
def test_model_file_that_is_not_a_regular_file(cosmos, name, make, message):
    models = cosmos.home / ".config" / "cosmos" / "models"
    models.mkdir(parents=True)
    path = make(models / f"{name}.toml")
    refused(run(cosmos, "models", "list"), f"model file {path}", message)


def test_model_file_over_the_cap(cosmos):
    models = cosmos.home / ".config" / "cosmos" / "models"
    models.mkdir(parents=True)
    path = sparse(models / "big.toml", 64 * 1024 + 1)
    refused(run(cosmos, "models", "list"),
            f"model file {path} is too large: 65537 bytes (the limit is 64 KiB)")
