"""The slurm host kind end to end on a real single-node Slurm cluster (slurm_cluster.py: munged,
slurmctld and slurmd with 4 stand-in GPUs): `cosmos` submits with sbatch on this machine (a host
without --address is the login node itself), the emulator runs as the body of the Slurm job, and
runs end as Slurm and the emulator say.

Covered: a single run; the queue's worker keeping several Slurm jobs in flight, one batch of
compatible runs as one Slurm job (one model load) and the groups it claims together as one job
array; `cosmos kill` → scancel; an emulator crash →
failed with its log; Slurm's time limit → failed with reason TIMEOUT; a job Slurm requeues after
it finished is not run again; `cosmos status HOST` and `cosmos logs`. The emulator's record file
(one JSON line per model invocation) shows how often each run really executed.

Skipped unless run as root with Slurm installed (scripts/install-deps.sh).
"""
import contextlib
import json
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ffprobe, model_loads
from slurm_cluster import skip_reason, slurm_available

pytestmark = pytest.mark.skipif(not slurm_available(), reason=skip_reason())




@pytest.fixture
def slurm(cosmos, emulator_bin, cluster, tmp_path):
    """`cosmos` whose environment reaches the cluster, with the emulator installed on the
    "shared file system" (here: this machine's), and a helper that adds slurm hosts."""
    cosmos.env.update(cluster.env({}))
    emu = cosmos.root / "cosmos-transfer1"
    cosmos.run("emulator", "install", emu)
    cosmos.record = cosmos.root / "record.jsonl"

    def add_host(name, *args, scale="0.02", env=None, torchrun=f"{emu}/bin/torchrun"):
        full_env = {"COSMOS_EMULATOR_TIME_SCALE": scale, "COSMOS_EMULATOR_STRICT": "1",
                    "COSMOS_EMULATOR_RECORD": str(cosmos.record),
                    "COSMOS_EMULATOR_GPU_DIR": str(cosmos.root / "gpus")}
        full_env.update(env or {})
        argv = ["hosts", "add", name, "--kind", "slurm", "--partition", "debug",
                "--shared-dir", cosmos.root / "shared", "--cosmos-dir", emu,
                "--torchrun", torchrun, "--gpus-per-node", "4", *args]
        for k, v in full_env.items():
            argv += ["--env", f"{k}={v}"]
        return cosmos.json(*argv)

    cosmos.add_host = add_host
    return cosmos


def slurm_job_id(cosmos, run_or_batch):
    return (cosmos.root / "shared" / "jobs" / run_or_batch / "slurm_job_id").read_text().strip()


def wait_status(cosmos, run, statuses, timeout=120, proc=None):
    deadline = time.monotonic() + timeout
    shown = {}
    while time.monotonic() < deadline:
        shown = cosmos.json("show", run)
        if shown["status"] in statuses:
            return shown
        if proc is not None and proc.poll() is not None and shown["status"] not in statuses:
            break
        time.sleep(0.2)
    pytest.fail(f"run {run} is {shown.get('status')} after {timeout}s, not in {statuses}")


@contextlib.contextmanager
def queued_on_worker(slurm, host, input_set, text):
    """A slow run queued for `host` and a worker (a separate process) working it; yields the run
    id and the worker, which is killed if it outlives the block."""
    pid = slurm.json("create", "prompt", text, input_set)["id"]
    run = slurm.json("inference", pid, "--host", host, "--queue")[0]["run"]
    worker = subprocess.Popen([slurm.binary, "worker", "--host", host, "--poll", "0.1", "--exit-when-idle"],
                              env=dict(slurm.env), cwd=slurm.root, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        yield run, worker
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def kill_and_expect_cancelled(slurm, run):
    killed = slurm.run("kill", run, check=False)
    assert killed.returncode == 0, killed.stderr
    shown = wait_status(slurm, run, {"cancelled", "failed"}, timeout=60)
    assert shown["status"] == "cancelled", shown


def test_single_run_is_a_slurm_job_and_status_shows_the_partition(slurm, input_set):
    host = slurm.add_host("cluster")
    assert host["kind"] == "slurm" and host["partition"] == "debug"
    pid = slurm.json("create", "prompt", "a foggy harbour at dawn", input_set)["id"]
    [run] = slurm.json("inference", pid, "--host", "cluster", "--weight", "depth=0.6")
    assert run["status"] == "succeeded", run
    shown = slurm.json("show", run["id"])
    assert Path(shown["output_video"]).is_file()
    job_dir = slurm.root / "shared" / "jobs" / run["id"]
    script = (job_dir / "job.sbatch").read_text()
    assert "#SBATCH --partition=debug" in script and "#SBATCH --gres=gpu:1" in script
    assert f"#SBATCH --job-name=cosmos-{run['id']}" in script
    assert "CUDA_VISIBLE_DEVICES" not in script  # Slurm binds the GPUs
    assert slurm_job_id(slurm, run["id"]).isdigit()
    assert "Saved video to" in (slurm.data_dir / "runs" / run["id"] / "run.log").read_text()
    [load] = [x for x in model_loads(slurm.record) if x["key"] == run["id"]]
    assert load["exit"] == 0 and len(load["gpus"]) == 1
    status = slurm.json("status", "cluster")[0]
    assert status["reachable"] and status["partition"] == "debug"
    assert status["gpus_total"] == 4 and status["gpus_free"] == 4, status
    assert [n["name"] for n in status["nodes"]] and status["jobs"] == []
    text = slurm.run("status", "cluster").stdout
    assert "slurm partition debug" in text and "4 of 4 GPUs free" in text
    assert "Saved video to" in slurm.run("logs", run["id"]).stdout


def test_worker_keeps_jobs_in_flight_and_a_batch_is_one_job(slurm, input_set):
    slurm.add_host("cluster", "--max-in-flight", "3", scale="0.05")
    prompts = [slurm.json("create", "prompt", f"harbour number {i}", input_set)["id"]
               for i in range(6)]
    queued = slurm.json("inference", *prompts, "--weight", "depth=0.6", "--queue")
    queued += slurm.json("inference", prompts[0], prompts[1], "--weight", "seg=0.3", "--queue")
    runs = [q["run"] for q in queued]
    worker = slurm.run("worker", "--host", "cluster", "--max-batch", "4", "--poll", "0.1", "--exit-when-idle",
                       timeout=300)
    shown = {r: slurm.json("show", r) for r in runs}
    assert all(s["status"] == "succeeded" for s in shown.values()), (shown, worker.stderr)
    assert all(Path(s["output_video"]).is_file() for s in shown.values())
    # Each run executed exactly once; the 8 runs took fewer model loads (batches as one job).
    all_loads = [x for x in model_loads(slurm.record) if x["exit"] == 0]
    executed = {}
    for load in all_loads:
        for smp in load["samples"] or [{"index": 0}]:
            key = (load["key"], smp.get("index", 0))
            executed[key] = executed.get(key, 0) + 1
    for r, s in shown.items():
        assert executed.get((s.get("batch_id") or r, s.get("batch_index") or 0)) == 1, (r, executed)
    batches = {s["batch_id"] for s in shown.values() if s.get("batch_id")}
    assert batches and len(all_loads) < len(runs), (len(all_loads), batches)
    for b in batches:
        script = (slurm.root / "shared" / "jobs" / b / "job.sbatch").read_text()
        assert "--batch_input_path" in script and f"--job-name=cosmos-{b}" in script
    # The groups claimed together went to Slurm as one job array: one sbatch, one task each.
    ids = {d.name: (d / "slurm_job_id").read_text().strip()
           for d in (slurm.root / "shared" / "jobs").iterdir()}
    tasks = [i for i in ids.values() if "_" in i]
    assert tasks, ids
    arrays = list((slurm.root / "shared" / "arrays").glob("*.sbatch"))
    assert arrays, ids
    text = arrays[0].read_text()
    assert "#SBATCH --array=0-" in text and "#SBATCH --gres=gpu:1" in text, text
    # Several Slurm jobs were in flight at once, on different (stand-in) GPUs.
    spans = sorted((x["start"], x["end"], tuple(x["gpus"])) for x in all_loads)
    overlapping = [(a, b) for i, a in enumerate(spans) for b in spans[i + 1:] if b[0] < a[1]]
    assert overlapping, spans
    assert all(a[2] != b[2] for a, b in overlapping), overlapping
    # `hosts clean` frees the shared dir: every job dir (all collected) and the array scripts.
    report = slurm.json("hosts", "clean", "cluster", "--older-than", "0")
    kinds = {e["kind"] for e in report["removed"]}
    assert kinds >= {"job", "array"} and report["kept"] == [], report
    assert not any((slurm.root / "shared" / "jobs").iterdir())
    assert all(Path(s["output_video"]).is_file() for s in shown.values())


def test_kill_cancels_the_slurm_job(slurm, input_set):
    slurm.add_host("cluster", scale="1")  # slow: minutes per run
    with queued_on_worker(slurm, "cluster", input_set, "a slow harbour") as (run, worker):
        wait_status(slurm, run, {"running"}, proc=worker)
        deadline = time.monotonic() + 60
        while not (slurm.root / "shared" / "jobs" / run / "slurm_job_id").exists():
            assert time.monotonic() < deadline
            time.sleep(0.2)
        job_id = slurm_job_id(slurm, run)
        kill_and_expect_cancelled(slurm, run)
        out = subprocess.run(["squeue", "-h", "-j", job_id, "-o", "%T"], env=slurm.env,
                             capture_output=True, text=True, timeout=30)
        assert out.stdout.strip() in ("", "CANCELLED", "COMPLETING"), out.stdout
        worker.wait(timeout=60)


def test_crash_fails_with_its_log_and_time_limit_fails_with_timeout(slurm, input_set):
    slurm.add_host("crashy", scale="0.02", env={"COSMOS_EMULATOR_FAIL": "crash"})
    # Slurm's smallest time limit is a minute; at scale 1 the emulated load alone takes longer.
    slurm.add_host("short", "--time", "1", scale="1")
    pid = slurm.json("create", "prompt", "a harbour", input_set)["id"]
    slow = subprocess.Popen([slurm.binary, "inference", pid, "--host", "short", "--json"],
                            env=dict(slurm.env), cwd=slurm.root, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        crashed = slurm.run("inference", pid, "--host", "crashy", check=False)
        assert crashed.returncode != 0
        runs = slurm.json("list", "runs")
        crash_run = next((r for r in runs if r["host"] == "crashy"), None)
        assert crash_run is not None, (runs, crashed.stdout, crashed.stderr)
        assert crash_run["status"] == "failed", crash_run
        assert "model failed" in crash_run["error"], crash_run
        log = (slurm.data_dir / "runs" / crash_run["id"] / "run.log").read_text()
        assert "Traceback" in log
        out, err = slow.communicate(timeout=240)
        runs = slurm.json("list", "runs")
        timed = next((r for r in runs if r["host"] == "short"), None)
        assert timed is not None, (runs, out, err)
        assert timed["status"] == "failed", (timed, err)
        assert "TIMEOUT" in timed["error"], timed
        assert (slurm.data_dir / "runs" / timed["id"] / "run.log").is_file()
    finally:
        if slow.poll() is None:
            slow.kill()
            slow.wait()


def test_job_requeued_by_slurm_after_it_finished_is_not_run_again(slurm, input_set, cluster):
    slurm.add_host("cluster")
    pid = slurm.json("create", "prompt", "a harbour", input_set)["id"]
    [run] = slurm.json("inference", pid, "--host", "cluster")
    assert run["status"] == "succeeded"
    job_id = slurm_job_id(slurm, run["id"])
    r = subprocess.run(["scontrol", "requeue", job_id], env=cluster.env(), capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    # Slurm holds a requeued batch job back for two minutes (BeginTime): once it waits for that,
    # let it start now (asked again only if it still waits 10 s later; moving the start time
    # every second could keep it in the future).
    job_log = slurm.root / "shared" / "jobs" / run["id"] / "run.log"
    deadline = time.monotonic() + 180
    moved = None
    state = ""
    while "not running it again" not in job_log.read_text():
        assert time.monotonic() < deadline, (state, job_log.read_text()[-1500:])
        state = subprocess.run(["squeue", "-h", "-j", job_id, "-o", "%T %r %S"], env=cluster.env(),
                               capture_output=True, text=True, timeout=30).stdout.strip()
        if "BeginTime" in state and (moved is None or time.monotonic() - moved > 10):
            subprocess.run(["scontrol", "update", f"JobId={job_id}", "StartTime=now"],
                           env=cluster.env(), capture_output=True, timeout=30)
            moved = time.monotonic()
        time.sleep(0.5)
    assert len([x for x in model_loads(slurm.record) if x["key"] == run["id"]]) == 1
    assert slurm.json("show", run["id"])["status"] == "succeeded"


def test_a_controller_restart_mid_run_loses_and_repeats_nothing(slurm, input_set, cluster):
    # slurmctld goes away while a worker follows two jobs (every squeue/sacct fails meanwhile)
    # and comes back: the jobs ran on under slurmd, the worker waits instead of failing them,
    # and each run succeeds having executed once.
    slurm.add_host("cluster", scale="0.1")
    pid = slurm.json("create", "prompt", "a harbour at night", input_set)["id"]
    runs = [q["run"] for q in slurm.json("inference", pid, pid, "--weight", "depth=0.5",
                                         "--weight", "seg=0", "--weight", "edge=0",
                                         "--weight", "vis=0", "--queue")]
    runs += [q["run"] for q in slurm.json("inference", pid, "--weight", "seg=0.5", "--queue")]
    worker = subprocess.Popen([slurm.binary, "worker", "--host", "cluster", "--poll", "0.1",
                               "--max-batch", "1", "--exit-when-idle"], env=dict(slurm.env),
                              cwd=slurm.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        for run in runs:
            wait_status(slurm, run, {"running"}, proc=worker)
        cluster.restart_controller(3)
        # still in flight after the outage: the restart happened mid-run
        assert all(slurm.json("show", r)["status"] == "running" for r in runs)
        _, err = worker.communicate(timeout=300)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    for run in runs:
        shown = slurm.json("show", run)
        assert shown["status"] == "succeeded", (shown["status"], shown["error"], err)
        assert len([x for x in model_loads(slurm.record) if x["key"] == run]) == 1, err


def test_upscale_is_chained_to_its_transfer_with_afterok(slurm, input_set):
    """The upscale of a queued transfer is submitted while the transfer still runs, held by
    Slurm until it succeeded (--dependency=afterok), and reads its video from the shared dir.
    When the transfer fails, Slurm cancels the upscale (--kill-on-invalid-dep)."""
    slurm.add_host("cluster", scale="0.1")
    slurm.add_host("crashy", scale="0.05", env={"COSMOS_EMULATOR_FAIL": "crash"})
    pid = slurm.json("create", "prompt", "a harbour", input_set)["id"]
    ok = slurm.json("inference", pid, "--host", "cluster", "--upscale", "0.6", "--queue")
    bad = slurm.json("inference", pid, "--host", "crashy", "--upscale", "--queue")
    assert [q["kind"] for q in bad] == ["transfer", "upscale"], bad
    assert [q["kind"] for q in ok] == ["transfer", "upscale"], ok
    worker = slurm.run("worker", "--host", "cluster", "--host", "crashy", "--poll", "0.1",
                       "--exit-when-idle", timeout=300)
    transfer, upscale = (slurm.json("show", q["run"]) for q in ok)
    assert transfer["status"] == "succeeded", (transfer, worker.stderr)
    assert upscale["status"] == "succeeded", (upscale, worker.stderr)
    assert Path(upscale["output_video"]).is_file()
    jobs = slurm.root / "shared" / "jobs"
    parent_id = (jobs / transfer["id"] / "slurm_job_id").read_text().strip()
    script = (jobs / upscale["id"] / "job.sbatch").read_text()
    assert f"#SBATCH --dependency=afterok:{parent_id}\n" in script, script
    # Submitted before its transfer finished: Slurm held it, not our queue.
    submitted = (jobs / upscale["id"] / "slurm_job_id").stat().st_mtime
    finished = (jobs / transfer["id"] / "exit_code").stat().st_mtime
    assert submitted < finished, (submitted, finished)
    assert str(jobs / transfer["id"] / "outputs" / "output.mp4") in json.dumps(upscale["spec"])
    failed, cancelled = (slurm.json("show", q["run"]) for q in bad)
    assert failed["status"] == "failed", failed
    assert cancelled["status"] == "cancelled", (cancelled, worker.stderr)
    assert failed["id"] in cancelled["error"], cancelled


def test_long_run_windows_run_at_once_as_one_array_and_are_stitched(slurm, input_set):
    slurm.add_host("cluster", "--max-in-flight", "4", scale="0.05")
    pid = slurm.json("create", "prompt", "a long pan over a harbour", input_set)["id"]
    out = slurm.json("long-run", pid, "--host", "cluster", "--window", "10", "--overlap", "2",
                     "--weight", "depth=0.6", timeout=300)
    assert out["status"] == "succeeded", out
    children = out["children"]
    assert len(children) == 3 and all(c["status"] == "succeeded" for c in children)  # 0-9, 8-17, 16-24
    # Submitted together: the tasks of one job array, which Slurm ran side by side.
    ids = [slurm_job_id(slurm, c["id"]) for c in children]
    assert all("_" in i for i in ids) and len({i.split("_")[0] for i in ids}) == 1, ids
    loads = [x for x in model_loads(slurm.record) if x["key"] in {c["id"] for c in children}]
    assert len(loads) == 3 and max(x["start"] for x in loads) < min(x["end"] for x in loads), loads
    assert ffprobe(out["output_video"])["frames"] == 25


@pytest.fixture(scope="module")
def engine():
    """A private Docker engine on the cluster's only node, with an image that runs the emulator
    (docker_engine.py). Jobs reach it through DOCKER_HOST, which sbatch passes on to the job
    (--export=ALL) the way a rootless engine's users set it."""
    from docker_engine import DockerEngine, docker_available
    if not docker_available():
        pytest.skip("dockerd is not installed (scripts/install-deps.sh) or not root")
    e = DockerEngine()
    try:
        e.start()
        from conftest import EMULATOR_BIN
        e.build_emulator_image(EMULATOR_BIN)
        yield e
    finally:
        e.close()


def add_docker_host(slurm, engine, name, scale):
    """A slurm host whose jobs run the emulator in `docker run` of the test image: no NVIDIA
    runtime here, so docker_gpus = "" (the job passes Slurm's GPUs as CUDA_VISIBLE_DEVICES),
    and the engine has no bridge network. The emulator's record and GPU files live in the
    shared dir, which containers mount."""
    shared = slurm.root / "shared"
    slurm.record = shared / "record.jsonl"
    slurm.env.update(engine.env())
    slurm.add_host(name, "--runtime", "docker", "--image", "cosmos-emulator-test:1",
                   torchrun="/workspace/bin/torchrun", scale=scale,
                   env={"COSMOS_EMULATOR_RECORD": str(slurm.record),
                        "COSMOS_EMULATOR_GPU_DIR": str(shared / "gpus"),
                        "HF_TOKEN": "hf_SlUrMdOcKeRsEcReT0123456789"})
    hosts = slurm.home / ".config" / "cosmos" / "hosts.toml"
    hosts.write_text(hosts.read_text().replace(
        f"[hosts.{name}]\n", f'[hosts.{name}]\ndocker_gpus = ""\ndocker_args = ["--network=host"]\n', 1))


def test_docker_runtime_runs_the_model_in_a_container_on_slurms_gpus(slurm, input_set, engine):
    add_docker_host(slurm, engine, "dockers", scale="0.02")
    pid = slurm.json("create", "prompt", "a harbour in a container", input_set)["id"]
    [run] = slurm.json("inference", pid, "--host", "dockers", "--weight", "depth=0.6", "--num-gpus", "2")
    assert run["status"] == "succeeded", run
    shown = slurm.json("show", run["id"])
    assert Path(shown["output_video"]).is_file()
    job_dir = slurm.root / "shared" / "jobs" / run["id"]
    script = (job_dir / "job.sbatch").read_text()
    assert "#SBATCH --gres=gpu:2" in script and "/cosmos-docker.sh cosmos-" in script
    assert "hf_SlUrMdOcKeRsEcReT" not in script and not (job_dir / "secret.env").exists()
    [load] = [x for x in model_loads(slurm.record) if x["key"] == run["id"]]
    # The GPUs Slurm allocated (scontrol's IDX on this cluster), seen inside the container.
    assert load["exit"] == 0 and len(load["gpus"]) == 2, load
    assert load["env"].get("PYTHONPATH") == "/workspace", load["env"]
    assert "Saved video to" in (slurm.data_dir / "runs" / run["id"] / "run.log").read_text()
    assert f"cosmos-{run['id']}" not in engine.containers()  # --rm


def test_cancelling_a_docker_job_stops_and_removes_its_container(slurm, input_set, engine):
    add_docker_host(slurm, engine, "dockerslow", scale="1")  # minutes per run
    with queued_on_worker(slurm, "dockerslow", input_set, "a slow harbour in a container") as (run, worker):
        name = f"cosmos-{run}"
        deadline = time.monotonic() + 90
        while name not in engine.containers():
            assert time.monotonic() < deadline, "the container never started"
            assert worker.poll() is None, worker.stderr.read()
            time.sleep(0.2)
        kill_and_expect_cancelled(slurm, run)
        # scancel reached the wrapper, which stopped the container; --rm removed it.
        deadline = time.monotonic() + 30
        while name in engine.containers():
            assert time.monotonic() < deadline, engine.docker("ps", "-a").stdout
            time.sleep(0.2)
        log = (slurm.root / "shared" / "jobs" / run / "run.log").read_text()
        assert "stopping container " + name in log, log[-2000:]
        worker.wait(timeout=60)


def test_the_same_run_leaves_the_same_record_on_local_ssh_and_slurm_hosts(slurm, input_set):
    """One run engine: a run on the local host, an ssh host and a slurm host is recorded the
    same way — status, timings, command line, spec and outputs — apart from host fields."""
    from sshd_server import SshServer, sshd_available
    if not sshd_available():
        pytest.skip("sshd not installed")
    emu = slurm.root / "cosmos-transfer1"
    env = {"COSMOS_EMULATOR_TIME_SCALE": "0", "COSMOS_EMULATOR_STRICT": "1"}
    slurm.add_host("cluster", scale="0", env=env)
    env_toml = ", ".join(f'{k} = "{v}"' for k, v in env.items())
    (slurm.root / "cosmos.toml").write_text(
        f'[hosts.local]\nkind = "local"\ngpus = 4\ncosmos_dir = "{emu}"\n'
        f'torchrun = "{emu}/bin/torchrun"\nenv = {{ {env_toml} }}\n')
    server = SshServer(slurm.root / "sshd").start()
    try:
        argv = ["hosts", "add", "box", "--address", f"127.0.0.1:{server.port}",
                "--user", server.user, "--key", server.user_key, "--gpus", "4",
                "--cosmos-dir", emu, "--work-dir", slurm.root / "box-work",
                "--torchrun", f"{emu}/bin/torchrun"]
        for k, v in env.items():
            argv += ["--env", f"{k}={v}"]
        slurm.run(*argv)
        slurm.run("hosts", "trust", "box", "--yes")
        pid = slurm.json("create", "prompt", "a foggy harbour at dawn", input_set)["id"]
        records = {}
        for host in ("local", "box", "cluster"):
            [run] = slurm.json("inference", pid, "--host", host, "--weight", "depth=0.6",
                               "--seed", "7", timeout=300)
            records[host] = slurm.json("show", run["id"])
    finally:
        server.stop()

    def normalized(r):
        job = r["remote_dir"]
        assert job and job.endswith("/jobs/" + r["id"]), r
        swap = lambda text: text.replace(job, "JOB")
        spec = json.loads(swap(json.dumps(r["spec"])))
        video = ffprobe(r["output_video"])
        return {
            "status": r["status"], "exit_code": r["exit_code"], "error": r["error"],
            "kind": r["kind"], "model": r["model"], "progress": r["progress"],
            "params": r["params"], "spec": spec,
            "argv": [swap(a) for a in r["command"]["argv"]],
            "statuses": [e["status"] for e in r["events"]][0::len(r["events"]) - 1],
            "timings": sorted([k for k in ("started_at", "finished_at") if r.get(k)] +
                              [k for k, v in r["durations"].items() if v is not None]),
            "video": (video["frames"], video["width"], video["height"], video["codec"]),
            "outputs": sorted(p.name for p in Path(r["output_video"]).parent.iterdir()),
            "log": "Saved video to" in Path(r["log_path"]).read_text(),
        }

    local = normalized(records["local"])
    assert local["status"] == "succeeded" and local["log"], local
    assert {"finished_at", "started_at", "run_s", "upload_s"} <= set(local["timings"]), local
    for host in ("box", "cluster"):
        assert normalized(records[host]) == local, host
    assert {r["host"] for r in records.values()} == {"local", "box", "cluster"}


def test_a_server_on_slurm_is_a_job_holding_its_gpus_and_runs_are_requests(slurm, input_set):
    # `--serve` on a slurm host: the model server is one Slurm job (the host's GPUs), reached at
    # its node's address; queued Cosmos 3 runs are requests to it (one model load), and it ends
    # (its job with it) after its idle time or when stopped.
    emu = slurm.root / "cosmos-transfer1"
    cmd = f"{emu}/bin/vllm serve {{model}} --omni --host {{host}} --port {{port}}"
    slurm.run("hosts", "add", "c3", "--kind", "slurm", "--partition", "debug",
              "--shared-dir", slurm.root / "shared", "--gpus-per-node", "2", "--serve",
              "--idle-stop", "10", "--max-concurrent", "2", f"--server-command={cmd}",
              "--env", f"COSMOS_EMULATOR_RECORD={slurm.record}",
              "--env", "COSMOS_EMULATOR_TIME_SCALE=0.02",
              "--env", "COSMOS_EMULATOR_SERVER_LOAD_SECONDS=1")
    pid = slurm.json("create", "prompt", "a harbour at dusk", input_set)["id"]
    queued = slurm.json("inference", *([pid] * 4), "--model", "cosmos3", "--queue", "--host", "c3")
    slurm.run("worker", "--host", "c3", "--exit-when-idle", "--poll", "0.1", timeout=300)
    runs = [slurm.json("show", q["run"]) for q in queued]
    assert [r["status"] for r in runs] == ["succeeded"] * 4, [(r["status"], r["error"]) for r in runs]
    for r in runs:
        assert ffprobe(r["output_video"])["frames"] == 25
    loads = [e for e in map(json.loads, slurm.record.read_text().splitlines())
             if e.get("event") == "model_load"]
    assert len(loads) == 1, loads
    state = next((slurm.root / "shared" / "servers").iterdir())
    job = (state / "job").read_text().strip()
    shown = subprocess.run(["scontrol", "show", "job", job], env=slurm.env, capture_output=True,
                           text=True, timeout=30).stdout
    assert "JobState=RUNNING" in shown and "gpu:2" in shown, shown
    [status] = slurm.json("status", "c3")
    assert status["server"]["running"], status
    assert any(j["name"].startswith("cosmos-server-") for j in status["jobs"]), status
    assert "model server: running, nvidia/Cosmos3-Nano" in slurm.run("status", "c3").stdout
    # Idle: the supervisor stops the server and the job ends, freeing the GPUs.
    deadline = time.monotonic() + 90
    while "without requests" not in ((state / "ended").read_text() if (state / "ended").exists() else ""):
        assert time.monotonic() < deadline, (state / "server.log").read_text()[-1000:]
        time.sleep(0.5)
    while subprocess.run(["squeue", "-h", "-j", job, "-o", "%T"], env=slurm.env,
                         capture_output=True, text=True, timeout=30).stdout.strip() not in ("", "COMPLETED"):
        assert time.monotonic() < deadline
        time.sleep(0.5)
    # The next run starts a new job; `hosts stop-server` cancels it at once.
    again = slurm.json("inference", pid, "--model", "cosmos3", "--host", "c3")[0]
    assert again["status"] == "succeeded", again
    job2 = (state / "job").read_text().strip()
    assert job2 != job
    assert slurm.json("hosts", "stop-server", "c3") == {"host": "c3", "stopped": True}
    deadline = time.monotonic() + 60
    while subprocess.run(["squeue", "-h", "-j", job2, "-o", "%T"], env=slurm.env,
                         capture_output=True, text=True, timeout=30).stdout.strip() not in ("", "CANCELLED"):
        assert time.monotonic() < deadline
        time.sleep(0.5)
    assert slurm.json("status", "c3")[0]["server"]["running"] is False


def test_a_server_in_docker_on_slurm_runs_in_the_hosts_image(slurm, input_set, engine):
    # runtime docker + --serve: the server runs in `docker run` of the host's image (inside the
    # Slurm job), shares the node's network, and its container is removed when it stops.
    slurm.env.update(engine.env())
    emu = slurm.root / "cosmos-transfer1"
    cmd = f"{emu}/bin/vllm serve {{model}} --omni --host {{host}} --port {{port}}"
    slurm.run("hosts", "add", "c3d", "--kind", "slurm", "--partition", "debug",
              "--shared-dir", slurm.root / "shared", "--gpus-per-node", "1", "--serve",
              "--runtime", "docker", "--image", "cosmos-emulator-test:1",
              f"--server-command={cmd}",
              "--env", f"COSMOS_EMULATOR_RECORD={slurm.record}",
              "--env", "COSMOS_EMULATOR_TIME_SCALE=0.02",
              "--env", "COSMOS_EMULATOR_SERVER_LOAD_SECONDS=1")
    hosts = slurm.home / ".config" / "cosmos" / "hosts.toml"
    hosts.write_text(hosts.read_text().replace(
        "[hosts.c3d]\n", f'[hosts.c3d]\ndocker_gpus = ""\ndocker_args = ["-v", "{slurm.root}:{slurm.root}"]\n', 1))
    pid = slurm.json("create", "prompt", "a harbour in a container", input_set)["id"]
    runs = [slurm.json("inference", pid, "--model", "cosmos3", "--host", "c3d")[0] for _ in range(2)]
    assert [r["status"] for r in runs] == ["succeeded"] * 2, runs
    loads = [e for e in map(json.loads, slurm.record.read_text().splitlines())
             if e.get("event") == "model_load"]
    assert len(loads) == 1, loads
    [name] = [n for n in engine.containers() if n.startswith("cosmos-server-")]
    assert slurm.json("status", "c3d")[0]["server"]["running"]
    slurm.json("hosts", "stop-server", "c3d")
    deadline = time.monotonic() + 60
    while name in engine.containers():
        assert time.monotonic() < deadline, "the server's container outlived its job"
        time.sleep(0.5)
