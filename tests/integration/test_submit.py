"""Submitting many runs to the queue: `cosmos sweep` (a weight grid x seeds, dry run and for
real), `cosmos batch` (JSON and TOML, all or nothing), and upscale runs queued after their
transfer run (`inference --upscale --queue`, `upscale --queue`), worked by `cosmos worker` on the
local emulator host (time scale 0, see conftest.write_config)."""
import json
from pathlib import Path

GRID = ["--weights-grid", "depth=0.2,0.6", "--weights-grid", "seg=0.1,0.3", "--seeds", "1-2"]
COMBOS = {(d, s, seed) for d in (0.2, 0.6) for s in (0.1, 0.3) for seed in (1, 2)}


def combo(params):
    return (params["weights"]["depth"], params["weights"]["seg"], params["seed"])


def test_sweep_dry_run_then_queue(emulated, input_set):
    cosmos = emulated
    pid = cosmos.json("create", "prompt", "harbour", input_set)["id"]

    dry = cosmos.json("sweep", pid, *GRID, "--steps", "5", "--dry-run")
    assert len(dry) == 8
    assert all(d["run"] is None and d["prompt_id"] == pid for d in dry)
    assert {combo(d["params"]) for d in dry} == COMBOS
    assert all(d["params"]["num_steps"] == 5 for d in dry)
    text = cosmos.run("sweep", pid, *GRID, "--dry-run")
    assert len(text.stdout.splitlines()) == 8 and "nothing was created" in text.stderr
    assert cosmos.json("list", "runs") == []

    queued = cosmos.run("sweep", pid, *GRID, "--steps", "5", "--priority", "2")
    lines = queued.stdout.splitlines()
    assert len(lines) == 8 and all(l.startswith("rs_") for l in lines), queued.stdout
    assert "queued 8 run(s)" in queued.stderr and "cosmos worker" in queued.stderr
    jobs = cosmos.json("queue")["jobs"]
    assert len(jobs) == 8
    assert all(j["state"] == "queued" and j["priority"] == 2 for j in jobs), jobs
    assert {j["run"] for j in jobs} == {l.split("\t")[0] for l in lines}
    shown = [cosmos.json("show", j["run"]) for j in jobs]
    assert {combo(s["params"]) for s in shown} == COMBOS
    assert all(s["params"]["num_steps"] == 5 and s["status"] == "queued" for s in shown)

    # A bad value anywhere in the grid creates nothing; so does an oversized sweep.
    bad = cosmos.run("sweep", pid, "--weights-grid", "depth=0.2,-1", "--seeds", "1-3",
                     check=False)
    assert bad.returncode == 3 and "weight -1 for depth" in bad.stderr, bad.stderr
    big = cosmos.run("sweep", pid, "--seeds", "1-1001", check=False)
    assert big.returncode == 3 and "more than the limit of 1000" in big.stderr, big.stderr
    seeds = cosmos.run("sweep", pid, "--seeds", "3-1", check=False)
    assert seeds.returncode == 3 and "ends before it starts" in seeds.stderr
    assert len(cosmos.json("list", "runs")) == 8


def test_batch_is_all_or_nothing(emulated, input_set):
    cosmos = emulated
    pid = cosmos.json("create", "prompt", "harbour", input_set)["id"]
    toml = cosmos.root / "runs.toml"
    toml.write_text(f"""
[[runs]]
prompt_id = "{pid}"
weights = {{ depth = 0.6 }}
seed = 11

[[runs]]
prompt = "harbour"
num_steps = 500
""")
    r = cosmos.run("batch", toml, check=False)
    assert r.returncode == 3 and "runs.toml:7: entry 2: steps 500 is out of range" in r.stderr, \
        r.stderr
    toml.write_text(toml.read_text().replace("num_steps = 500", "stepz = 5"))
    r = cosmos.run("batch", toml, check=False)
    assert r.returncode == 3 and "runs.toml:9: entry 2: unknown key 'stepz'" in r.stderr, r.stderr
    assert cosmos.json("list", "runs") == []

    toml.write_text(toml.read_text().replace("stepz = 5", "num_steps = 5\nupscale = 0.7"))
    dry = cosmos.json("batch", toml, "--dry-run")
    assert [d["upscale"] for d in dry] == [None, 0.7]
    assert cosmos.json("list", "runs") == []
    queued = cosmos.json("batch", toml)
    assert [q["kind"] for q in queued] == ["transfer", "transfer", "upscale"]
    assert queued[0]["params"]["weights"]["depth"] == 0.6 and queued[0]["params"]["seed"] == 11
    assert queued[2]["depends_on"] == queued[1]["run"]
    assert len(cosmos.json("queue")["jobs"]) == 3

    runs_json = cosmos.root / "runs.json"
    runs_json.write_text(json.dumps({"runs": [{"prompt_id": pid, "guidance": 5},
                                              {"prompt_id": "ps_nothere"}]}))
    r = cosmos.run("batch", runs_json, check=False)
    assert r.returncode == 4 and "runs.json: entry 2: no prompt ps_nothere" in r.stderr, r.stderr
    assert len(cosmos.json("queue")["jobs"]) == 3


def test_upscale_flag_without_weight_queues_the_upscale(emulated, input_set):
    """`--upscale` followed by another option (no weight) still queues the upscale, at 0.5."""
    cosmos = emulated
    pid = cosmos.json("create", "prompt", "harbour", input_set)["id"]
    for command in (["inference", pid, "--upscale", "--queue"],
                    ["sweep", pid, "--seeds", "1", "--upscale"]):
        queued = cosmos.json(*command)
        assert [q["kind"] for q in queued] == ["transfer", "upscale"], (command, queued)
        assert cosmos.json("show", queued[1]["run"])["params"]["weights"]["upscale"] == 0.5


def test_upscale_queued_after_its_transfer_run(emulated, input_set):
    cosmos = emulated
    pid = cosmos.json("create", "prompt", "harbour", input_set)["id"]
    queued = cosmos.json("inference", pid, "--weight", "depth=0.5", "--upscale", "0.6", "--queue")
    assert [q["kind"] for q in queued] == ["transfer", "upscale"], queued
    transfer, upscale = queued[0]["run"], queued[1]["run"]
    assert queued[1]["depends_on"] == transfer and queued[0]["depends_on"] is None
    # `cosmos upscale --queue` of a run that has not run yet waits for it too.
    second = cosmos.json("upscale", transfer, "--weight", "0.3", "--queue")
    assert second[0]["depends_on"] == transfer and second[0]["kind"] == "upscale"

    proc = cosmos.run("worker", "--exit-when-idle", "--poll", "0.1", timeout=300)
    t = cosmos.json("show", transfer)
    assert t["status"] == "succeeded", (t, proc.stderr)
    for run_id, weight in ((upscale, 0.6), (second[0]["run"], 0.3)):
        u = cosmos.json("show", run_id)
        assert u["status"] == "succeeded", (u, proc.stderr)
        assert u["kind"] == "upscale" and u["parent_run_id"] == transfer
        assert u["spec"]["upscale"] == {"control_weight": weight}
        # The spec as the model read it: the transfer's output, staged into the upscale's job.
        staged = u["spec"]["input_video_path"]
        assert staged.endswith(f"/jobs/{run_id}/inputs/output.mp4"), staged
        assert Path(staged).read_bytes() == Path(t["output_video"]).read_bytes()
        assert u["started_at"] >= t["finished_at"], (u["started_at"], t["finished_at"])
    finished = cosmos.json("queue", "--finished", "10")["jobs"]
    assert sorted(j["state"] for j in finished) == ["done"] * 3

    # An upscale of a succeeded run is queued without waiting for anything.
    done = cosmos.json("upscale", transfer, "--queue")
    assert done[0]["depends_on"] is None
