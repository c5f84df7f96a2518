"""GPU-hours and cost: every run records the GPU-seconds it held (its share of a batch's model
load) and its host's price per GPU-hour; `cosmos cost` sums them by sweep, host, model, prompt
or day; a sweep's dry run estimates its cost from similar finished runs. The emulator is the
model (on the local host, 2 GPUs); the database is read back with Python's own sqlite3."""
import re
import sqlite3

import pytest

from conftest import write_config

PRICE = 2.5


def run_sweep(cosmos, pid):
    proc = cosmos.run("--json", "sweep", pid, "--seeds", "1-3", "--steps", "7")
    sweep = re.search(r"sweep (sw_[0-9a-f]{16})", proc.stderr)
    assert sweep, proc.stderr
    cosmos.run("worker", "--exit-when-idle", "--poll", "0.1", "--max-batch", "1", timeout=300)
    return sweep.group(1)


@pytest.fixture
def priced(emulated):
    cosmos = emulated
    cosmos.config = write_config(cosmos, cosmos.emulator_dir,
                                 extra_env={"COSMOS_EMULATOR_TIME_SCALE": "0.05"},
                                 extra=f"price_per_gpu_hour = {PRICE}")
    return cosmos


def test_a_sweeps_cost_is_its_gpu_seconds_times_the_price_and_its_estimate_holds(priced,
                                                                               input_set):
    cosmos = priced
    pid = cosmos.json("create", "prompt", "harbour at dawn", input_set)["id"]
    # Nothing like it ran yet: no estimate, said so.
    dry = cosmos.run("sweep", pid, "--seeds", "1-3", "--steps", "7", "--dry-run")
    assert "no estimate" in dry.stderr, dry.stderr

    first = run_sweep(cosmos, pid)
    db = sqlite3.connect(cosmos.data_dir / "cosmos.db")
    rows = db.execute("SELECT id, status, gpu_seconds, gpu_price_per_hour FROM runs "
                      "WHERE sweep_id = ?", (first,)).fetchall()
    assert len(rows) == 3 and all(r[1] == "succeeded" for r in rows), rows
    assert all(r[2] > 0 and r[3] == PRICE for r in rows), rows
    report = cosmos.json("cost", "--by", "sweep")
    assert [r["sweep"] for r in report] == [first]
    line = report[0]
    assert line["runs"] == 3 and line["unpriced_runs"] == 0
    assert line["gpu_seconds"] == pytest.approx(sum(r[2] for r in rows), rel=1e-9)
    assert line["cost"] == pytest.approx(sum(r[2] for r in rows) / 3600 * PRICE, rel=1e-9)
    shown = cosmos.json("show", rows[0][0])
    assert shown["sweep_id"] == first and shown["gpu_seconds"] == pytest.approx(rows[0][2])
    assert shown["cost"] == pytest.approx(rows[0][2] / 3600 * PRICE)

    # The same sweep again: its dry run estimates from the first, within 25 % of what it costs.
    planned = cosmos.json("sweep", pid, "--seeds", "1-3", "--steps", "7", "--dry-run")
    estimate = sum(p["estimated_gpu_seconds"] for p in planned)
    assert all(p["estimated_cost"] == pytest.approx(p["estimated_gpu_seconds"] / 3600 * PRICE)
               for p in planned)
    second = run_sweep(cosmos, pid)
    actual = next(r for r in cosmos.json("cost", "--by", "sweep") if r["sweep"] == second)
    assert abs(estimate - actual["gpu_seconds"]) <= 0.25 * actual["gpu_seconds"], (
        estimate, actual)

    # Other groupings add up to the same total; the table has a total line.
    total = sum(r["gpu_seconds"] for r in cosmos.json("cost", "--by", "sweep"))
    for by in ("host", "model", "prompt", "day"):
        assert sum(r["gpu_seconds"] for r in cosmos.json("cost", "--by", by)) == pytest.approx(
            total), by
    assert cosmos.json("cost", "--by", "host")[0]["host"] == "local"
    table = cosmos.run("cost", "--by", "model").stdout
    assert table.splitlines()[0].split() == ["MODEL", "RUNS", "GPU-HOURS", "COST", "UNPRICED"]
    assert table.splitlines()[-1].startswith("total")
    assert cosmos.json("cost", "--since", "1d")
    assert cosmos.json("cost", "--since", "2999-01-01") == []
    bad = cosmos.run("cost", "--since", "yesterday-ish", check=False)
    assert bad.returncode == 3 and "--since yesterday-ish" in bad.stderr, bad.stderr


def test_a_batchs_model_load_is_shared_by_its_runs(priced, input_set):
    cosmos = priced
    # One GPU for four compatible runs: the worker batches them into shared model loads.
    cosmos.config.write_text(cosmos.config.read_text().replace("gpus = 2", "gpus = 1"))
    pids = [cosmos.json("create", "prompt", f"harbour number {i}", input_set)["id"]
            for i in range(4)]
    queued = cosmos.json("sweep", *pids, "--steps", "7")  # one configuration: batchable
    assert len(queued) == 4, queued
    cosmos.run("worker", "--exit-when-idle", "--poll", "0.1", "--max-batch", "4", timeout=300)
    db = sqlite3.connect(cosmos.data_dir / "cosmos.db")
    rows = db.execute("SELECT batch_id, run_seconds, gpu_seconds, params FROM runs").fetchall()
    batches = {r[0] for r in rows}
    assert None not in batches and len(batches) < len(rows), rows  # they did share loads
    for batch in batches:
        lines = [r for r in rows if r[0] == batch]
        # The lines' GPU-seconds add up to the batch's model time x its GPUs, once.
        assert sum(r[2] for r in lines) == pytest.approx(lines[0][1] * 1), lines


def test_prices_are_checked(emulated):
    cosmos = emulated
    cosmos.config = write_config(cosmos, cosmos.emulator_dir, extra="price_per_gpu_hour = -1")
    bad = cosmos.run("config", "check", check=False)
    assert bad.returncode != 0 and "price_per_gpu_hour -1 is out of range" in bad.stderr, bad.stderr
    cosmos.config = write_config(cosmos, cosmos.emulator_dir, extra='price_per_gpu_hour = "2"')
    bad = cosmos.run("config", "check", check=False)
    assert bad.returncode != 0 and "price_per_gpu_hour" in bad.stderr, bad.stderr
    cosmos.config = write_config(cosmos, cosmos.emulator_dir)
    out = cosmos.run("hosts", "add", "rented", "--address", "10.0.0.5", "--user", "me",
                     "--price-per-gpu-hour", "nan", check=False)
    assert out.returncode != 0 and "out of range" in out.stderr, out.stderr
    cosmos.run("hosts", "add", "rented", "--address", "10.0.0.5", "--user", "me",
               "--price-per-gpu-hour", "1.75")
    shown = cosmos.run("config", "show").stdout
    assert "price_per_gpu_hour = 1.75" in shown, shown
