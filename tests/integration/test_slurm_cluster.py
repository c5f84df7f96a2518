"""Smoke test of the single-node Slurm test cluster (slurm_cluster.py): the features issue #8
relies on — GPU GRES, job arrays, afterok chains, --kill-on-invalid-dep, scancel — observed
through `squeue --json` and the jobcomp/filetxt log, each with a timeout.

It also runs the Slurm tests of cosmos_unit_tests (slurm_submit_test.cpp: the generated batch
script through sbatch with hostile arguments, a Slurm requeue that must not rerun it, a time
limit ending in TIMEOUT) against this cluster; they skip under plain gtest without SLURM_CONF.

Skipped unless run as root with Slurm installed (scripts/install-deps.sh). The cluster is
stopped (every daemon and job step) even when a test fails.
"""
import json
import os
import subprocess
from pathlib import Path
import time

import pytest

from slurm_cluster import skip_reason, slurm_available

pytestmark = pytest.mark.skipif(not slurm_available(), reason=skip_reason())

DONE = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL",
        "PREEMPTED", "BOOT_FAIL", "DEADLINE"}




def sbatch(cluster, script_text, tmp_path, *flags):
    script = tmp_path / f"job{time.monotonic_ns()}.sh"
    script.write_text(script_text)
    r = subprocess.run(["sbatch", "--parsable", f"--chdir={tmp_path}",
                        f"--output={tmp_path}/slurm-%j.out", *flags, str(script)],
                       env=cluster.env(), capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip().split(";")[0]


def squeue(cluster):
    r = subprocess.run(["squeue", "--json"], env=cluster.env(), capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["jobs"]


def jobs_of(cluster, job_id):
    """The squeue records of job `job_id`, or of every task when it is an array."""
    jid = int(job_id)
    return [j for j in squeue(cluster) if j["job_id"] == jid or j["array_job_id"] == jid]


def wait_for(cluster, job_id, states, timeout=60, count=1):
    """Waits until `count` records of `job_id` are all in `states`; returns them."""
    deadline = time.monotonic() + timeout
    jobs = []
    while time.monotonic() < deadline:
        # a pending array shows as one record with array_task_string "0-2" and no task id
        jobs = [j for j in jobs_of(cluster, job_id) if not j["array_task_string"]
                or j["array_task_id"] is not None]
        if len(jobs) >= count and all(j["job_state"] in states for j in jobs):
            return jobs
        time.sleep(0.25)
    pytest.fail(f"job {job_id} not in {states} after {timeout}s: "
                f"{[(j['job_id'], j['job_state'], j['state_reason']) for j in jobs]}")


def jobcomp(cluster, job_id):
    """The jobcomp/filetxt record of a finished job (it is written just after the state)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for r in cluster.jobcomp_records():
            if r.get("JobId") == str(job_id):
                return r
        time.sleep(0.1)
    pytest.fail(f"no jobcomp record for {job_id}")


def test_gpu_job_runs_and_writes_its_file(cluster, tmp_path):
    job = sbatch(cluster, f"#!/bin/bash\necho ran > {tmp_path}/out.txt\nexit 0\n", tmp_path,
                 "--gres=gpu:1")
    [record] = wait_for(cluster, job, DONE)
    assert record["job_state"] == "COMPLETED"
    assert record["tres_per_node"] == "gres:gpu:1"
    assert (tmp_path / "out.txt").read_text() == "ran\n"
    assert jobcomp(cluster, job)["ExitCode"] == "0:0"


def test_failing_job_reports_its_exit_code(cluster, tmp_path):
    job = sbatch(cluster, "#!/bin/bash\nexit 3\n", tmp_path, "--gres=gpu:1")
    [record] = wait_for(cluster, job, DONE)
    assert record["job_state"] == "FAILED"
    assert record["exit_code"] >> 8 == 3  # a wait status in squeue --json (22.05)
    comp = jobcomp(cluster, job)
    assert comp["JobState"] == "FAILED" and comp["ExitCode"] == "3:0"


def test_array_of_three(cluster, tmp_path):
    job = sbatch(cluster, f"#!/bin/bash\necho $SLURM_ARRAY_TASK_ID > "
                 f"{tmp_path}/task$SLURM_ARRAY_TASK_ID\n", tmp_path, "--array=0-2",
                 "--gres=gpu:1")
    records = wait_for(cluster, job, DONE, count=3)
    assert sorted(r["array_task_id"] for r in records) == [0, 1, 2]
    assert all(r["job_state"] == "COMPLETED" for r in records)
    for i in range(3):
        assert (tmp_path / f"task{i}").read_text() == f"{i}\n"


def test_afterok_chain_and_invalid_dependency(cluster, tmp_path):
    first = sbatch(cluster, f"#!/bin/bash\nsleep 1\necho a > {tmp_path}/a\n", tmp_path)
    second = sbatch(cluster, f"#!/bin/bash\ncat {tmp_path}/a > {tmp_path}/b\n", tmp_path,
                    f"--dependency=afterok:{first}", "--kill-on-invalid-dep=yes")
    broken = sbatch(cluster, "#!/bin/bash\nexit 1\n", tmp_path)
    orphan = sbatch(cluster, f"#!/bin/bash\ntouch {tmp_path}/never\n", tmp_path,
                    f"--dependency=afterok:{broken}", "--kill-on-invalid-dep=yes")
    [rec] = wait_for(cluster, second, DONE)
    assert rec["job_state"] == "COMPLETED"
    assert (tmp_path / "b").read_text() == "a\n"
    [rec] = wait_for(cluster, orphan, DONE)
    assert rec["job_state"] == "CANCELLED"
    assert not (tmp_path / "never").exists()


def test_scancel_of_a_sleeping_job(cluster, tmp_path):
    job = sbatch(cluster, "#!/bin/bash\nsleep 300\n", tmp_path)
    wait_for(cluster, job, {"RUNNING"})
    subprocess.run(["scancel", job], env=cluster.env(), check=True, timeout=30)
    # the bound catches a hang, it is no speed check: KillWait is 10 s (above the 3 s the docker
    # job script gives `docker stop`), the rest is a loaded machine
    [rec] = wait_for(cluster, job, DONE, timeout=90)
    assert rec["job_state"] == "CANCELLED"
    assert jobcomp(cluster, job)["JobState"] == "CANCELLED"


def test_cpp_slurm_submit_tests(cluster):
    """slurm_submit_test.cpp on this cluster (about 2.5 min: Slurm holds a requeue ~2 min)."""
    binary = os.environ.get("COSMOS_UNIT_TESTS_BIN", "")
    if not binary or not Path(binary).exists():
        pytest.skip("cosmos_unit_tests not built (set COSMOS_UNIT_TESTS_BIN or run via ctest)")
    r = subprocess.run([binary, "--gtest_filter=SlurmSubmit*"], env=cluster.env(),
                       capture_output=True, text=True, timeout=400)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "[  SKIPPED ]" not in r.stdout, r.stdout
    assert "[  PASSED  ] 3 tests." in r.stdout, r.stdout
