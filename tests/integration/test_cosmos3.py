"""Cosmos 3 through `cosmos`: runs become requests to a model server. The emulator's server mode
(`cosmos-emulator vllm serve ...`, a real HTTP server process implementing the Videos and chat
APIs on its own) plays vLLM-Omni; a real OpenSSH server on 127.0.0.1 plays the GPU host where
cosmos runs the server itself; ffprobe checks the videos."""
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import EMULATOR_BIN, ffprobe, make_video
from sshd_server import SshServer, sshd_available

needs_sshd = pytest.mark.skipif(not sshd_available(), reason="sshd not installed")

C3 = ["--model", "cosmos3"]
KEY = "c3-test-key-5f2d7a9e41b8c36d"


class Server:
    """One emulated model server process (generator or reasoner) on 127.0.0.1:<free port>."""

    def __init__(self, root: Path, record: Path, reasoner=False, key=KEY, env=None, tls=None):
        args = [EMULATOR_BIN, "vllm", "serve", "nvidia/Cosmos3-Nano", "--port", "0",
                "--allowed-local-media-path", "/"]
        if tls:
            args += ["--ssl-certfile", tls[0], "--ssl-keyfile", tls[1]]
        args += (["--hf-overrides",
                  '{"architectures": ["Cosmos3ReasonerForConditionalGeneration"]}']
                 if reasoner else ["--omni"])
        full = dict(os.environ)
        full.update({"COSMOS_EMULATOR_RECORD": str(record), "COSMOS_EMULATOR_TIME_SCALE": "0.05",
                     "COSMOS_EMULATOR_GPU_DIR": str(root / ("gpus-r" if reasoner else "gpus"))})
        if key:
            full["VLLM_API_KEY"] = key
        full.update(env or {})
        self.log = open(root / ("reasoner.log" if reasoner else "server.log"), "w+")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=full)
        self.scheme = "https" if tls else "http"
        self.port = self._wait_port()
        self.url = f"{self.scheme}://127.0.0.1:{self.port}"

    def _wait_port(self):
        deadline = time.time() + 60
        while time.time() < deadline:
            self.log.seek(0)
            text = self.log.read()
            m = re.search(r"running on https?://127\.0\.0\.1:(\d+)", text)
            if m and "Application startup complete" in text:
                return int(m.group(1))
            if self.proc.poll() is not None:
                raise AssertionError(f"the emulated server exited:\n{text}")
            time.sleep(0.1)
        raise AssertionError("the emulated server did not start")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)
        self.log.close()


def events(record: Path, kind=None):
    if not record.exists():
        return []
    out = [json.loads(line) for line in record.read_text().splitlines() if line.strip()]
    return [e for e in out if kind is None or e.get("event") == kind]


def key_file(cosmos, key=KEY, mode=0o600):
    path = cosmos.root / "c3.key"
    path.write_text(key + "\n")
    path.chmod(mode)
    return path


@pytest.fixture
def served(cosmos, emulator_bin, tmp_path):
    record = tmp_path / "server-record.jsonl"
    server = Server(tmp_path, record)
    cosmos.run("hosts", "add", "c3", "--kind", "http", "--url", server.url,
               "--api-key-file", key_file(cosmos))
    cosmos.server, cosmos.record = server, record
    yield cosmos
    cosmos.server.stop()  # the one running now (a test may have replaced it)


def no_key_in(root: Path, key=KEY):
    for path in root.rglob("*"):
        if path.is_file() and path.name != "c3.key":
            assert key.encode() not in path.read_bytes(), f"the API key leaked into {path}"


def test_inference_on_an_http_host_is_one_request(served, input_set):
    cosmos = served
    text = "A foggy harbour at dawn; gulls, wet stones\nand lamps"
    pid = cosmos.json("create", "prompt", text, input_set, *C3)["id"]
    proc = cosmos.run("inference", pid, *C3, "--host", "c3", "--seed", "7", "--json")
    run = json.loads(proc.stdout)[0]
    assert run["status"] == "succeeded", run
    jobs = events(cosmos.record, "video_job")
    assert len(jobs) == 1
    form = jobs[0]["form"]
    assert form["prompt"] == text  # the ';' and the newline arrive intact
    assert form["num_frames"] == "25" and form["seed"] == "7"
    assert form["size"] == "320x192"  # 320x176 is no tier: the nearest (256p)
    ref = jobs[0]["input_reference"]
    assert ref["frames"] == 25 and ref["width"] == 320 and ref["height"] == 176
    requests = events(cosmos.record, "request")
    assert requests and all(r["auth"] == "ok" for r in requests if r["path"].startswith("/v1"))
    out = ffprobe(run["output_video"])
    assert out["frames"] == 25 and (out["width"], out["height"]) == (320, 192)
    shown = cosmos.json("show", run["id"])
    assert shown["spec"]["num_frames"] == 25 and shown["runtime"] == "server"
    assert len(events(cosmos.record, "model_load")) == 1
    no_key_in(cosmos.root)
    assert KEY not in proc.stdout + proc.stderr
    status = cosmos.json("status", "c3")[0]
    assert status["reachable"] and "nvidia/Cosmos3-Nano" in status["models"]


def test_refusals_send_nothing(served, input_set):
    cosmos = served
    pid = cosmos.json("create", "prompt", "A harbour", input_set, *C3)["id"]
    for bad, said in [(["--fps", "25"], "fps 25"), (["--max-frames", "400"], "max-frames 400"),
                      (["--resolution", "1080"], "resolution '1080'"),
                      (["--weight", "depth=0.5"], "control weights")]:
        proc = cosmos.run("inference", pid, *C3, "--host", "c3", *bad, check=False)
        assert proc.returncode != 0 and said in proc.stderr, proc.stderr
    t1 = cosmos.json("create", "prompt", "A harbour", input_set)["id"]
    proc = cosmos.run("inference", t1, "--host", "c3", check=False)
    assert proc.returncode != 0 and "requests to a model server" not in proc.stderr
    assert "runs need a host that runs its scripts" in proc.stderr
    proc = cosmos.run("inference", pid, *C3, "--host", "local", check=False)
    assert proc.returncode != 0 and "requests to a model server" in proc.stderr
    assert events(cosmos.record, "video_job") == []
    loose = key_file(cosmos, mode=0o644)
    proc = cosmos.run("hosts", "add", "c3b", "--kind", "http", "--url", cosmos.server.url,
                      "--api-key-file", loose, check=False)
    assert proc.returncode != 0 and "0644" in proc.stderr and KEY not in proc.stderr


def test_wrong_key_is_refused_without_showing_it(served, input_set):
    cosmos = served
    wrong = cosmos.root / "wrong.key"
    wrong.write_text("not-the-key-0123456789\n")
    wrong.chmod(0o600)
    cosmos.run("hosts", "add", "c3w", "--kind", "http", "--url", cosmos.server.url,
               "--api-key-file", wrong)
    pid = cosmos.json("create", "prompt", "A harbour", input_set, *C3)["id"]
    proc = cosmos.run("inference", pid, *C3, "--host", "c3w", check=False)
    assert proc.returncode != 0 and "(401)" in proc.stdout + proc.stderr
    assert "not-the-key-0123456789" not in proc.stderr + proc.stdout


def test_queued_runs_go_through_the_worker_and_kill_deletes(served, input_set):
    cosmos = served
    pid = cosmos.json("create", "prompt", "A harbour", input_set, *C3)["id"]
    queued = cosmos.json("inference", pid, pid, *C3, "--queue", "--host", "c3")
    ids = [q["run"] for q in queued]
    cosmos.run("worker", "--host", "c3", "--exit-when-idle", "--poll", "0.1", timeout=300)
    assert [cosmos.json("show", i)["status"] for i in ids] == ["succeeded", "succeeded"]
    # A slow request (a server whose steps take long: about 20 s at 720p), killed while the
    # worker follows it.
    cosmos.server.stop()
    cosmos.server = Server(cosmos.root, cosmos.record, env={"COSMOS_EMULATOR_STEP_SECONDS": "20"})
    cosmos.run("hosts", "add", "c3", "--kind", "http", "--url", cosmos.server.url,
               "--api-key-file", key_file(cosmos), "--replace")
    slow = cosmos.json("inference", pid, *C3, "--queue", "--host", "c3", "--resolution", "720",
                       "--steps", "100")[0]["run"]
    worker = subprocess.Popen([cosmos.binary, "worker", "--host", "c3", "--poll", "0.1"],
                              env=cosmos.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 60
        while cosmos.json("show", slow)["status"] != "running" or \
                not cosmos.json("show", slow).get("remote_dir"):
            assert time.time() < deadline, "the slow run never started"
            time.sleep(0.2)
        cosmos.run("kill", slow)
        time.sleep(1)
        assert cosmos.json("show", slow)["status"] == "cancelled"
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    deletes = [r for r in events(cosmos.record, "request") if r["method"] == "DELETE"]
    assert any(slow_job in r["path"] for r in deletes
               for slow_job in [cosmos.json("show", slow)["remote_dir"]])


def test_guardrail_blocked_prompt_fails_with_its_reason(served, input_set):
    cosmos = served
    cosmos.server.stop()
    server = Server(cosmos.root, cosmos.record, env={"COSMOS_EMULATOR_BLOCK_PROMPT": "forbidden"})
    cosmos.server = server
    cosmos.run("hosts", "add", "c3", "--kind", "http", "--url", server.url,
               "--api-key-file", key_file(cosmos), "--replace")
    pid = cosmos.json("create", "prompt", "A forbidden harbour", input_set, *C3)["id"]
    proc = cosmos.run("inference", pid, *C3, "--host", "c3", "--json", check=False)
    run = json.loads(proc.stdout)[0]
    assert run["status"] == "failed" and "guardrail" in run["error"]


@pytest.fixture
def reasoner(cosmos, emulator_bin, tmp_path):
    record = tmp_path / "reasoner-record.jsonl"
    server = Server(tmp_path, record, reasoner=True)
    cosmos.run("hosts", "add", "why", "--kind", "http", "--url", server.url,
               "--api-key-file", key_file(cosmos), "--role", "reasoner")
    cosmos.reasoner_record = record
    yield cosmos
    server.stop()


def test_reasoner_enhances_captions_and_reviews(served, reasoner, input_set):
    cosmos = served
    pid = cosmos.json("create", "prompt", "A harbour at dawn", input_set, *C3)["id"]
    enhanced = cosmos.json("prompt-enhance", pid, "--model", "cosmos3")
    child = enhanced[0]["prompt"]
    assert child["parent_id"] == pid and "harbour" in child["prompt"].lower()
    assert len(child["prompt"]) > len("A harbour at dawn")
    caption = cosmos.json("caption", input_set)
    assert caption["caption"] and caption["input_set"] == str(input_set)
    run = cosmos.json("inference", pid, *C3, "--host", "c3")[0]
    review = cosmos.json("review", run["id"])
    assert review["score"] in (1, 2, 3, 4, 5) and review["reason"]
    assert cosmos.json("show", run["id"])["review"]["score"] == review["score"]
    tasks = [e["task"] for e in events(cosmos.reasoner_record, "chat")]
    assert tasks == ["enhance", "caption", "plausibility"]
    no_key_in(cosmos.root)


@pytest.fixture
def sshd(tmp_path):
    server = SshServer(tmp_path / "sshd")
    server.start()
    yield server
    server.stop()


@needs_sshd
def test_a_server_cosmos_runs_serves_many_runs_on_one_load(cosmos, emulator_bin, sshd, input_set):
    emu = cosmos.root / "remote-cosmos"
    cosmos.run("emulator", "install", emu)
    record = cosmos.root / "record.jsonl"
    cmd = f"{emu}/bin/vllm serve {{model}} --omni --port {{port}}"
    args = ["hosts", "add", "box", "--address", f"127.0.0.1:{sshd.port}", "--user", sshd.user,
            "--key", sshd.user_key, "--work-dir", cosmos.root / "remote-work", "--serve",
            "--idle-stop", "12", "--max-concurrent", "2",
            "--env", f"COSMOS_EMULATOR_RECORD={record}", "--env", "COSMOS_EMULATOR_TIME_SCALE=0.02",
            "--env", "COSMOS_EMULATOR_STEP_SECONDS=20",
            "--env", f"COSMOS_EMULATOR_GPU_DIR={cosmos.root / 'gpus'}",
            f"--server-command={cmd}"]
    cosmos.run(*args)
    cosmos.run("hosts", "trust", "box", "--yes")
    pid = cosmos.json("create", "prompt", "A harbour", input_set, *C3)["id"]
    queued = cosmos.json("inference", *([pid] * 10), *C3, "--queue", "--host", "box")
    cosmos.run("worker", "--host", "box", "--exit-when-idle", "--poll", "0.1", timeout=600)
    runs = [cosmos.json("show", q["run"]) for q in queued]
    assert [r["status"] for r in runs] == ["succeeded"] * 10, [(r["status"], r["error"]) for r in runs]
    assert len(events(record, "model_load")) == 1
    assert len(events(record, "video_job")) == 10
    assert cosmos.json("status", "box")[0]["server"]["running"]
    # Killed under a request: started again, the request sent once more.
    state = next((cosmos.root / "remote-work" / "servers").iterdir())
    # (About 8 s at 720p and 100 steps: the kill lands while it generates.)
    slow = cosmos.json("inference", pid, *C3, "--host", "box", "--steps", "100",
                       "--resolution", "720", "--detach")[0]["id"]
    deadline = time.time() + 60
    while len(events(record, "video_job")) < 11:
        assert time.time() < deadline
        time.sleep(0.1)
    os.kill(int((state / "server.pid").read_text()), signal.SIGKILL)
    proc = cosmos.run("logs", "-f", slow, timeout=300, check=False)
    shown = cosmos.json("show", slow)
    assert shown["status"] == "succeeded", (shown, proc.stderr)
    assert len(events(record, "model_load")) == 2
    assert any("request sent again" in e["detail"] for e in shown["events"])
    # Idle: the supervisor stops it after 12 s without requests.
    deadline = time.time() + 60
    while cosmos.json("status", "box")[0]["server"]["running"]:
        assert time.time() < deadline, "the server was not stopped when idle"
        time.sleep(1)
    while not (state / "ended").exists():  # the supervisor writes it once the server is gone
        assert time.time() < deadline, "the supervisor never said why the server ended"
        time.sleep(0.5)
    assert "without requests" in (state / "ended").read_text()


def test_a_server_restarted_before_its_old_supervisor_noticed_stays_up(tmp_path):
    # model-server.sh on its own: a server that died is started again at once by the next run,
    # usually before its old supervisor (which looks once a second) noticed the death. The old
    # supervisor must then leave the new server's pid and state alone.
    source = Path(os.environ.get("COSMOS_SOURCE_DIR", Path(__file__).resolve().parents[2]))
    script = source / "src" / "backends" / "scripts" / "model-server.sh"
    d = tmp_path / "srv"
    d.mkdir()

    def sh(*args):
        return subprocess.run(["sh", str(script), *map(str, args)], capture_output=True,
                              text=True, timeout=60).stdout.strip()

    def start(token):
        (d / f"port.{token}").write_text(f"{token}\n")
        return sh("start", d, 3600, token, "--", "sleep", "300")

    def server_pid():
        deadline = time.time() + 10
        while not (d / "server.pid").exists():
            assert time.time() < deadline
            time.sleep(0.05)
        return int((d / "server.pid").read_text())

    assert start("1001") == "started" and (d / "port").read_text() == "1001\n"
    assert start("1002") == "running" and (d / "port").read_text() == "1001\n"
    assert not (d / "port.1002").exists()  # a start that found a server leaves nothing behind
    os.kill(server_pid(), signal.SIGKILL)
    deadline = time.time() + 10
    while not sh("status", d).startswith("absent"):
        assert time.time() < deadline
        time.sleep(0.05)
    assert start("1003") == "started" and (d / "port").read_text() == "1003\n"
    time.sleep(2.5)  # the old supervisor has seen its server end by now
    assert sh("status", d) == "running"
    assert not (d / "ended").exists()
    new_server = server_pid()
    sh("stop", d)
    assert "stopped by request" in (d / "ended").read_text()
    with pytest.raises(ProcessLookupError):
        os.kill(new_server, 0)


def self_signed(tmp_path, name):
    """A CA-less self-signed certificate for 127.0.0.1 (subjectAltName IP), made by openssl."""
    cert, key = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def test_an_https_endpoint_is_verified_against_its_ca(cosmos, emulator_bin, tmp_path, input_set):
    cert, tls_key = self_signed(tmp_path, "server")
    record = tmp_path / "record.jsonl"
    server = Server(tmp_path, record, tls=(cert, tls_key))
    try:
        assert server.url.startswith("https://")
        pid = cosmos.json("create", "prompt", "A harbour", input_set, *C3)["id"]
        # Not trusted by the system's CAs: refused before any request, with the fix.
        cosmos.run("hosts", "add", "c3", "--kind", "http", "--url", server.url,
                   "--api-key-file", key_file(cosmos))
        proc = cosmos.run("inference", pid, *C3, "--host", "c3", check=False)
        assert proc.returncode != 0
        out = proc.stdout + proc.stderr
        assert "could not be verified" in out and "--ca-file" in out, out
        assert not events(record, "video_job")
        # A different CA is no better.
        other, _ = self_signed(tmp_path, "other")
        cosmos.run("hosts", "remove", "c3")
        cosmos.run("hosts", "add", "c3", "--kind", "http", "--url", server.url,
                   "--api-key-file", key_file(cosmos), "--ca-file", other)
        assert cosmos.run("inference", pid, *C3, "--host", "c3", check=False).returncode != 0
        # Its own CA: the run goes through, key and all, over TLS.
        cosmos.run("hosts", "remove", "c3")
        cosmos.run("hosts", "add", "c3", "--kind", "http", "--url", server.url,
                   "--api-key-file", key_file(cosmos), "--ca-file", cert)
        [run] = cosmos.json("inference", pid, *C3, "--host", "c3")
        assert run["status"] == "succeeded", run
        assert ffprobe(run["output_video"])["frames"] == 25
        assert all(r["auth"] == "ok" for r in events(record, "request") if r["path"].startswith("/v1"))
        [status] = cosmos.json("status", "c3")
        assert status["reachable"] and "nvidia/Cosmos3-Nano" in status["models"], status
        # The plain-HTTP scheme against a TLS server is a clear error too.
        cosmos.run("hosts", "remove", "c3")
        cosmos.run("hosts", "add", "c3", "--kind", "http", "--url",
                   server.url.replace("https://", "http://"), "--api-key-file", key_file(cosmos))
        proc = cosmos.run("inference", pid, *C3, "--host", "c3", check=False)
        assert proc.returncode != 0 and "model server" in proc.stdout + proc.stderr, proc
        no_key_in(cosmos.root)
    finally:
        server.stop()
