"""Alerts (docs/alerts.md) through the real binary: a real HTTP receiver (Python's http.server)
behind webhook and slack sinks whose URLs come from 0600 url_files, and a command sink (a shell
appending its stdin to a file). A failed run is delivered exactly once per sink however many
processes evaluate; a sink that is down at first gets it after a retry; a stuck run fires and
resolves once killed; `cosmos alerts test` reports per sink; no secret (the url_files' contents)
reaches the database file, the logs or any output."""
import http.server
import json
import os
import secrets
import socket
import subprocess
import threading
import time

import pytest

from conftest import wait_for, write_config


class Receiver:
    """Records every POST (path, JSON body) on 127.0.0.1:`port` (a free one by default)."""

    def __init__(self, port=0):
        self.posts = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                outer.posts.append((self.path, json.loads(body)))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def to(self, prefix):
        return [body for path, body in self.posts if path.startswith(prefix)]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def secret_file(path, text):
    path.write_text(text + "\n")
    os.chmod(path, 0o600)
    return path


def alerts_toml(hook_file, slack_file, out_file, rules, retry_after=1):
    return f"""
[alert_sinks.hook]
kind = "webhook"
url_file = "{hook_file}"
retry_after = {retry_after}
timeout = 5

[alert_sinks.chat]
kind = "slack"
url_file = "{slack_file}"
retry_after = {retry_after}
timeout = 5

[alert_sinks.script]
kind = "command"
argv = ["sh", "-c", "cat >> \\"$0\\"; echo >> \\"$0\\"", "{out_file}"]
{rules}
"""


def lines(path):
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def start_worker(cosmos, log):
    out = open(log, "w")
    return subprocess.Popen([cosmos.binary, "worker", "--poll", "0.2"], env=dict(cosmos.env),
                            cwd=cosmos.root, stdout=out, stderr=subprocess.STDOUT)


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def assert_no_secret(cosmos, outputs, *needles):
    blobs = [o.encode() if isinstance(o, str) else o for o in outputs]
    for f in cosmos.data_dir.rglob("*"):
        if f.is_file():
            blobs.append(f.read_bytes())
    for log in cosmos.root.glob("*.log"):
        blobs.append(log.read_bytes())
    for needle in needles:
        for blob in blobs:
            assert needle.encode() not in blob, needle


FAILED_RULE = """
[[alerts]]
name = "failed-runs"
when = "run_failed"
sinks = ["hook", "chat", "script"]
"""


def test_a_failed_run_is_delivered_once_per_sink_and_a_down_sink_after_retry(
        emulated, input_set, tmp_path):
    cosmos = emulated
    hook_secret, slack_secret = secrets.token_hex(12), secrets.token_hex(12)
    receiver = Receiver()
    slack_port = free_port()  # nothing listens there yet: the slack sink is down at first
    hook_file = secret_file(tmp_path / "hook-url",
                            f"http://127.0.0.1:{receiver.port}/hook/{hook_secret}")
    slack_file = secret_file(tmp_path / "slack-url",
                             f"http://127.0.0.1:{slack_port}/slack/{slack_secret}")
    out = tmp_path / "script.jsonl"
    cosmos.config = write_config(
        cosmos, cosmos.emulator_dir, extra_env={"COSMOS_EMULATOR_FAIL": "crash"},
        extra=alerts_toml(hook_file, slack_file, out, FAILED_RULE))
    outputs = [cosmos.run("config", "check").stdout]
    # The rule starts watching at its first pass: failures before it are history, not alerts.
    outputs.append(cosmos.run("alerts", "check").stdout)
    pid = cosmos.json("create", "prompt", "harbour at dawn", input_set)["id"]
    run = cosmos.json("inference", pid, "--queue")[0]["run"]
    worker = start_worker(cosmos, cosmos.root / "worker.log")
    slack = None
    try:
        wait_for("the run fails", lambda: cosmos.json("show", run)["status"] == "failed")
        wait_for("the webhook", lambda: len(receiver.to("/hook/")) == 1, timeout=60)
        wait_for("the command sink", lambda: len(lines(out)) == 1, timeout=60)

        def chat_delivery():
            alerts = cosmos.json("alerts", "list")
            return [d for a in alerts for d in a["deliveries"] if d["sink"] == "chat"]
        wait_for("a failed slack attempt",
                 lambda: any(d["attempts"] >= 1 and d["state"] == "pending"
                             for d in chat_delivery()), timeout=60)
        slack = Receiver(slack_port)  # the sink comes up: the next retry gets through
        wait_for("the slack retry", lambda: len(slack.to("/slack/")) == 1, timeout=60)
        # A second process evaluating at once (and again) fires nothing new.
        for _ in range(2):
            outputs.append(cosmos.run("alerts", "check", "--json").stdout)
        time.sleep(3)  # the worker's passes go on: still nothing new
    finally:
        stop(worker)
    assert len(receiver.to("/hook/")) == 1
    assert len(slack.to("/slack/")) == 1
    assert len(lines(out)) == 1
    body = receiver.to("/hook/")[0]
    assert body["status"] == "firing" and body["rule"] == "failed-runs", body
    assert body["condition"] == "run_failed" and body["subject"] == run and body["run"] == run
    assert body["host"] == "local" and body["resolved_at"] is None and "version" in body["cosmos"]
    assert lines(out)[0]["run"] == run
    text = slack.to("/slack/")[0]["text"]
    assert text.startswith("[FIRING] failed-runs (run_failed): run " + run), text
    listed = cosmos.json("alerts", "list")
    assert [a["subject"] for a in listed] == [run]
    assert {d["sink"]: d["state"] for d in listed[0]["deliveries"]} == {
        "hook": "delivered", "chat": "delivered", "script": "delivered"}
    worker_log = (cosmos.root / "worker.log").read_text()
    assert "alert failed-runs firing" in worker_log, worker_log
    assert "to sink chat: attempt 1 failed" in worker_log, worker_log
    outputs.append(cosmos.run("alerts", "list", "--all").stdout)
    assert_no_secret(cosmos, outputs, hook_secret, slack_secret)
    receiver.close()
    slack.close()


def test_a_stuck_run_fires_and_resolves_when_killed(emulated, input_set, tmp_path):
    cosmos = emulated
    receiver = Receiver()
    hook_file = secret_file(tmp_path / "hook-url", f"http://127.0.0.1:{receiver.port}/hook/x")
    slack_file = secret_file(tmp_path / "slack-url", f"http://127.0.0.1:{receiver.port}/slack/y")
    out = tmp_path / "script.jsonl"
    rule = """
[[alerts]]
name = "stuck"
when = "run_stuck"
for_minutes = 0.05
sinks = ["script"]
"""
    cosmos.config = write_config(
        cosmos, cosmos.emulator_dir,
        extra_env={"COSMOS_EMULATOR_TIME_SCALE": "1", "COSMOS_EMULATOR_LOAD_SECONDS": "600"},
        extra=alerts_toml(hook_file, slack_file, out, rule))
    pid = cosmos.json("create", "prompt", "harbour at dawn", input_set)["id"]
    run = cosmos.json("inference", pid, "--queue")[0]["run"]
    worker = start_worker(cosmos, cosmos.root / "worker.log")
    try:
        wait_for("the stuck alert", lambda: len(lines(out)) >= 1, timeout=90)
        fired = lines(out)[0]
        assert fired["status"] == "firing" and fired["condition"] == "run_stuck", fired
        assert fired["run"] == run and "no progress" in fired["summary"], fired
        assert [a["subject"] for a in cosmos.json("alerts", "list")] == [run]
        cosmos.run("kill", run)
        wait_for("the resolution", lambda: len(lines(out)) >= 2, timeout=90)
    finally:
        stop(worker)
    resolved = lines(out)[1]
    assert resolved["status"] == "resolved" and resolved["subject"] == run, resolved
    assert resolved["resolved_at"], resolved
    assert len(lines(out)) == 2
    assert cosmos.json("alerts", "list") == []
    assert [a["state"] for a in cosmos.json("alerts", "list", "--all")] == ["resolved"]
    receiver.close()


def test_alerts_test_reports_each_sink_and_config_check_guards_url_files(emulated, tmp_path):
    cosmos = emulated
    receiver = Receiver()
    secret = secrets.token_hex(12)
    hook_file = secret_file(tmp_path / "hook-url",
                            f"http://127.0.0.1:{receiver.port}/hook/{secret}")
    slack_file = secret_file(tmp_path / "slack-url",
                             f"http://127.0.0.1:{free_port()}/slack/{secret}")  # down
    out = tmp_path / "script.jsonl"
    cosmos.config = write_config(cosmos, cosmos.emulator_dir,
                                 extra=alerts_toml(hook_file, slack_file, out, FAILED_RULE))
    ok = cosmos.json("alerts", "test", "--sink", "hook")
    assert ok == [{"sink": "hook", "kind": "webhook", "delivered": True, "error": None}]
    assert receiver.to("/hook/")[0]["rule"] == "test"
    proc = cosmos.run("alerts", "test", "--json", check=False)
    assert proc.returncode == 10, proc.stderr
    results = {r["sink"]: r for r in json.loads(proc.stdout)}
    assert results["hook"]["delivered"] and results["script"]["delivered"]
    assert not results["chat"]["delivered"]
    assert "cannot reach alert sink 'chat'" in results["chat"]["error"], results
    assert lines(out)[0]["condition"] == "test"
    text = cosmos.run("alerts", "test", check=False)
    assert "chat (slack): failed: cannot reach alert sink 'chat'" in text.stdout, text.stdout
    missing = cosmos.run("alerts", "test", "--sink", "pager", check=False)
    assert missing.returncode != 0 and "no alert sink 'pager'" in missing.stderr
    # `config show` has the sinks and rules (url files named, never read), and reads back.
    shown = cosmos.run("config", "show").stdout
    assert f'url_file = "{hook_file}"' in shown and "[[alerts]]" in shown, shown
    assert 'when = "run_failed"' in shown and '[alert_sinks.script]' in shown, shown
    (tmp_path / "shown.toml").write_text(shown)
    cosmos.run("--config", tmp_path / "shown.toml", "config", "check")
    # A url_file others may read is refused by config check, naming the key; the URL is not shown.
    os.chmod(hook_file, 0o644)
    bad = cosmos.run("config", "check", check=False)
    assert bad.returncode == 6, bad.stderr
    assert "[alert_sinks.hook] url_file" in bad.stderr and "chmod 600" in bad.stderr, bad.stderr
    failed = cosmos.run("alerts", "test", "--sink", "hook", "--json", check=False)
    assert failed.returncode == 10 and "url_file" in json.loads(failed.stdout)[0]["error"]
    assert_no_secret(cosmos, [json.dumps(ok), proc.stdout, proc.stderr, text.stdout, text.stderr,
                              bad.stderr, failed.stdout, missing.stderr, shown], secret)
    receiver.close()


@pytest.mark.parametrize("extra, needle", [
    ('[[alerts]]\nname = "a"\nwhen = "run_failed"\nsinks = ["nope"]\n', "unknown sink 'nope'"),
    ('[[alerts]]\nname = "a"\nwhen = "gpu_busy"\nsinks = ["script"]\n',
     "'gpu_busy' is not a condition"),
    ('[[alerts]]\nname = "a"\nwhen = "run_failed"\nsinks = ["script"]\nthreshold = 3\n',
     "unknown key 'threshold' in [[alerts]]"),
])
def test_config_check_names_the_bad_key(emulated, tmp_path, extra, needle):
    cosmos = emulated
    sink = '[alert_sinks.script]\nkind = "command"\nargv = ["true"]\n'
    cosmos.config = write_config(cosmos, cosmos.emulator_dir, extra=sink + extra)
    bad = cosmos.run("config", "check", check=False)
    assert bad.returncode == 6 and needle in bad.stderr, bad.stderr
