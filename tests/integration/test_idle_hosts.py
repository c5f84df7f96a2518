"""Idle hosts: a host with idle_stop_after and a stop_command that sits with no work and nothing
queued gets its stop_command run once by the worker, takes no work while stopped, and is started
again (start_command, then it must answer) when a run is queued. The commands here append to a
file, standing in for a cloud provider's CLI; the host is the local one with the emulator."""
import subprocess
import time

from conftest import wait_for, write_config


def test_an_idle_host_is_stopped_once_and_started_again_for_new_work(emulated, input_set,
                                                                    tmp_path):
    cosmos = emulated
    power = tmp_path / "power.log"
    power.touch()
    cosmos.config = write_config(
        cosmos, cosmos.emulator_dir, extra_env={"COSMOS_EMULATOR_TIME_SCALE": "0.02"},
        extra=f'idle_stop_after = 2\n'
              f'stop_command = ["sh", "-c", "echo stop >> \\"$0\\"", "{power}"]\n'
              f'start_command = ["sh", "-c", "echo start >> \\"$0\\"", "{power}"]\n')
    pid = cosmos.json("create", "prompt", "harbour at dawn", input_set)["id"]
    first = cosmos.json("inference", pid, "--queue")[0]["run"]
    log = cosmos.root / "worker.log"
    with open(log, "w") as out:
        worker = subprocess.Popen([cosmos.binary, "worker", "--poll", "0.2"], env=dict(cosmos.env),
                                  cwd=cosmos.root, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for("the first run", lambda: cosmos.json("show", first)["status"] == "succeeded")
        assert power.read_text() == ""  # it had work: not stopped
        wait_for("the idle stop", lambda: power.read_text() == "stop\n", timeout=60)
        # `cosmos status` says it is stopped and why, without probing the machine.
        status = cosmos.json("status", "local")
        status = status[0] if isinstance(status, list) else status
        assert status["reachable"] is False and status["stopped_at"], status
        assert "stopped by a worker" in status["error"], status
        time.sleep(4)  # idle twice as long again: stopped once, not again
        assert power.read_text() == "stop\n", power.read_text()
        second = cosmos.json("inference", pid, "--queue")[0]["run"]
        wait_for("the second run", lambda: cosmos.json("show", second)["status"] == "succeeded")
        assert power.read_text() == "stop\nstart\n", power.read_text()
        wait_for("stopped again", lambda: power.read_text() == "stop\nstart\nstop\n", timeout=60)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    text = log.read_text()
    assert "host local idle for" in text and "stopped (stop_command ran)" in text, text
    assert "start_command ran" in text and "host local answers again" in text, text


def test_idle_stop_needs_a_stop_command_and_a_sane_time(emulated):
    cosmos = emulated
    cosmos.config = write_config(cosmos, cosmos.emulator_dir, extra="idle_stop_after = 600")
    bad = cosmos.run("config", "check", check=False)
    assert bad.returncode != 0 and "idle_stop_after but no stop_command" in bad.stderr, bad.stderr
    cosmos.config = write_config(cosmos, cosmos.emulator_dir,
                                 extra='idle_stop_after = 0\nstop_command = ["true"]')
    bad = cosmos.run("config", "check", check=False)
    assert bad.returncode != 0 and "idle_stop_after 0 is out of range" in bad.stderr, bad.stderr
    cosmos.config = write_config(cosmos, cosmos.emulator_dir,
                                 extra='idle_stop_after = 900\nstop_command = "aws ec2 stop"')
    bad = cosmos.run("config", "check", check=False)
    assert bad.returncode != 0 and "stop_command" in bad.stderr, bad.stderr
