"""The web UI's JSON API end to end: the real `cosmos ui` (and `cosmos serve`, which works the
queue) on a temporary data dir with the emulator as the model, driven over HTTP with the
standard library only. Every endpoint, its bad input (unknown ids, malformed JSON, missing CSRF,
path traversal, no token), Range requests, and the live event stream of a run launched through
the API and executed by another process."""
import http.client
import json
import os
import queue
import re
import signal
import stat
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import write_config


class Ui:
    """A running `cosmos ui` / `cosmos serve` and an HTTP client with its cookies."""

    def __init__(self, cosmos, *args, env=None):
        full_env = dict(cosmos.env)
        full_env.update(env or {})
        self.proc = subprocess.Popen([cosmos.binary, *args], env=full_env, cwd=cosmos.root,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.stderr_lines = []
        deadline = time.time() + 60
        self.url = None
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.stderr_lines.append(line)
            m = re.search(r"cosmos ui: listening on (http://\S+/)", line)
            if m:
                self.url = m.group(1)
                break
        assert self.url, f"no listening line: {''.join(self.stderr_lines)}"
        # Keep draining stderr so the server never blocks on a full pipe.
        self._drain = threading.Thread(target=self._read_rest, daemon=True)
        self._drain.start()
        parts = urlsplit(self.url)
        self.host, self.port = parts.hostname, parts.port
        self.cookies = {}
        self.token = None

    def _read_rest(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    def request(self, method, path, body=None, headers=None, csrf=True, raw=None,
                content_type="application/json", host_header=None, connect_host=None):
        conn = http.client.HTTPConnection(connect_host or "127.0.0.1", self.port, timeout=30)
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.token:
            h.setdefault("Authorization", f"Bearer {self.token}")
        if host_header:
            h["Host"] = host_header
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if method != "GET":
            if content_type:
                h["Content-Type"] = content_type
            if csrf and "cosmos_csrf" in self.cookies:
                h["X-Cosmos-CSRF"] = self.cookies["cosmos_csrf"]
        conn.request(method, path, body=data, headers=h)
        res = conn.getresponse()
        payload = res.read()
        for value in res.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies.setdefault(name.strip(), rest.split(";")[0])
        conn.close()
        return res.status, res.headers, payload

    def json(self, method, path, body=None, expect=200, **kw):
        status, headers, payload = self.request(method, path, body=body, **kw)
        assert status == expect, f"{method} {path}: {status} {payload[:500]!r}"
        assert headers.get("Content-Type", "").startswith("application/json"), headers
        return json.loads(payload)

    def error(self, method, path, expect, code=None, **kw):
        status, headers, payload = self.request(method, path, **kw)
        assert status == expect, f"{method} {path}: {status} {payload[:300]!r}"
        assert headers.get("Content-Type", "").startswith("application/json"), (path, headers)
        err = json.loads(payload)["error"]
        assert err["message"]
        if code:
            assert err["code"] == code, err
        return err

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)
        assert self.proc.returncode in (0, 130), "".join(self.stderr_lines)


class EventStream:
    """Reads /api/events in a thread: (event, data, time received) tuples on a queue."""

    def __init__(self, ui, path="/api/events"):
        self.events = queue.Queue()
        self.all = []
        self.conn = http.client.HTTPConnection("127.0.0.1", ui.port, timeout=120)
        headers = {"Accept": "text/event-stream"}
        if ui.token:
            headers["Authorization"] = f"Bearer {ui.token}"
        self.conn.request("GET", path, headers=headers)
        self.res = self.conn.getresponse()
        assert self.res.status == 200
        assert self.res.headers["Content-Type"].startswith("text/event-stream")
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        event, data = None, []
        try:
            while True:
                line = self.res.fp.readline()
                if not line:
                    return
                line = line.decode().rstrip("\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    data.append(line[6:])
                elif line == "" and event:
                    item = (event, json.loads("\n".join(data)), time.time())
                    self.all.append(item)
                    self.events.put(item)
                    event, data = None, []
        except Exception:  # closed at the end of the test
            return

    def close(self):
        self.conn.close()


@pytest.fixture
def web(emulated, input_set):
    """`cosmos ui` on a data dir with one prompt; the emulator slowed so runs take ~2 s."""
    cosmos = emulated
    cosmos.config = write_config(cosmos, cosmos.emulator_dir,
                                 extra_env={"COSMOS_EMULATOR_TIME_SCALE": "0.02",
                                            "COSMOS_EMULATOR_GPUS": "2"})
    ui = Ui(cosmos, "ui", "--port", "0")
    ui.json("GET", "/api/health")  # takes the CSRF cookie
    yield cosmos, ui
    ui.stop()


def create_prompt(ui, input_set, text="a foggy harbour at dawn"):
    return ui.json("POST", "/api/prompts", {"prompt": text, "input_dir": str(input_set)},
                   expect=201)


def test_pages_assets_health_and_unknown_paths(web):
    cosmos, ui = web
    health = ui.json("GET", "/api/health")
    assert health["token_required"] is False
    assert Path(health["data_dir"]) == cosmos.data_dir
    assert re.match(r"\d+\.\d+\.\d+", health["version"])
    for page in ("/", "/runs", "/runs/rs_0123456789abcdef", "/gallery/x"):
        status, headers, body = ui.request("GET", page)
        assert status == 200 and headers["Content-Type"].startswith("text/html"), page
        assert b"<html" in body.lower()
        # Only the server's own scripts run; no framing, no sniffing.
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe" not in csp, csp
        assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
    status, headers, body = ui.request("GET", "/assets/index.html")
    assert status == 200 and headers["ETag"] and headers["Cache-Control"] == "no-cache"
    status, _, _ = ui.request("GET", "/assets/index.html", headers={"If-None-Match": headers["ETag"]})
    assert status == 304
    ui.error("GET", "/assets/nope.js", 404, "not_found")
    ui.error("GET", "/assets/..%2f..%2fCMakeLists.txt", 404)
    ui.error("GET", "/api/nope", 404, "not_found")
    ui.error("POST", "/api/nope", 404, body={})
    # A page on the loopback server asked for by another name (DNS rebinding) is refused.
    ui.error("GET", "/api/health", 403, "forbidden", host_header="evil.example:80")
    # COSMOS_UI_ASSETS serves pages from disk instead of the embedded copy.
    assets = cosmos.root / "assets"
    assets.mkdir()
    (assets / "index.html").write_text("<html>from disk</html>")
    (assets / "app.js").write_text("console.log(1)")
    disk = Ui(cosmos, "ui", "--port", "0", env={"COSMOS_UI_ASSETS": str(assets)})
    try:
        status, _, body = disk.request("GET", "/prompts")
        assert status == 200 and body == b"<html>from disk</html>"
        status, headers, body = disk.request("GET", "/assets/app.js")
        assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    finally:
        disk.stop()


def test_prompts_inputs_and_bad_input(web, input_set):
    cosmos, ui = web
    p = create_prompt(ui, input_set)
    assert p["id"].startswith("ps_") and p["prompt"] == "a foggy harbour at dawn"
    # CLI and API agree on the shape.
    assert cosmos.json("show", p["id"])["id"] == p["id"]
    other = create_prompt(ui, input_set, "a lighthouse in rain")
    listed = ui.json("GET", "/api/prompts")
    assert listed["total"] == 2 and {i["id"] for i in listed["items"]} == {p["id"], other["id"]}
    assert ui.json("GET", "/api/prompts?limit=1&offset=1")["items"][0]["id"] == p["id"]
    found = ui.json("GET", "/api/prompts?q=lighthouse")
    assert found["total"] == 1 and found["items"][0]["id"] == other["id"]
    shown = ui.json("GET", f"/api/prompts/{p['id']}")
    assert shown["runs"] == [] and shown["input_dir"] == str(input_set)

    # Bad input: 4xx with a JSON error.
    ui.error("GET", "/api/prompts/ps_0123456789abcdef", 404, "not_found")
    ui.error("GET", "/api/prompts/nonsense", 404, "not_found")
    ui.error("GET", "/api/prompts?limit=0", 400, "invalid_input")
    ui.error("GET", "/api/prompts?limit=abc", 400, "invalid_input")
    ui.error("POST", "/api/prompts", 400, "invalid_input", raw=b"{not json")
    ui.error("POST", "/api/prompts", 400, "invalid_input", raw=b"[1, 2]")
    ui.error("POST", "/api/prompts", 400, "invalid_input", body={"prompt": "x"})
    ui.error("POST", "/api/prompts", 400, "invalid_input",
             body={"prompt": "x", "input_dir": str(input_set), "colour": "red"})
    ui.error("POST", "/api/prompts", 400, body={"prompt": 5, "input_dir": str(input_set)})
    err = ui.error("POST", "/api/prompts", 404,
                   body={"prompt": "x", "input_dir": str(cosmos.root / "missing")})
    assert "missing" in err["message"]
    # CSRF: no header, wrong header, no JSON content type.
    body = {"prompt": "x", "input_dir": str(input_set)}
    ui.error("POST", "/api/prompts", 403, "csrf", body=body, csrf=False)
    ui.error("POST", "/api/prompts", 403, "csrf", body=body, csrf=False,
             headers={"X-Cosmos-CSRF": "guess"})
    ui.error("POST", "/api/prompts", 403, "csrf", body=body, content_type="text/plain")
    ui.error("POST", "/api/prompts", 403, "csrf", body=body,
             content_type="application/x-www-form-urlencoded")
    assert ui.json("GET", "/api/prompts")["total"] == 2  # nothing was created

    # Inputs: one input set (both prompts share it) with its videos.
    inputs = ui.json("GET", "/api/inputs")
    assert inputs["total"] == 1
    item = inputs["items"][0]
    assert item["input_dir"] == str(input_set)
    modalities = {v["modality"]: v for v in item["videos"]}
    assert set(modalities) == {"color", "depth", "seg"} or set(modalities) >= {"color", "depth"}
    color = modalities["color"]
    assert color["frames"] == 25 and color["width"] == 320 and color["fps"] == 24
    data = (input_set / "color.mp4").read_bytes()
    status, headers, body = ui.request("GET", color["url"])
    assert status == 200 and body == data and headers["Accept-Ranges"] == "bytes"
    assert headers["Content-Type"] == "video/mp4"
    status, headers, body = ui.request("GET", color["url"], headers={"Range": "bytes=100-199"})
    assert status == 206 and body == data[100:200]
    assert headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    status, headers, body = ui.request("GET", color["url"], headers={"Range": "bytes=-10"})
    assert status == 206 and body == data[-10:]
    status, headers, body = ui.request("GET", color["url"], headers={"Range": "bytes=500-"})
    assert status == 206 and body == data[500:]
    ui.error("GET", color["url"], 416, headers={"Range": f"bytes={len(data)}-"})
    # Traversal out of the input folder, raw and percent-encoded.
    pid = p["id"]
    (input_set.parent / "secret.txt").write_text("TOPSECRET-CONTENT")
    for path in (f"/api/inputs/{pid}/files/../secret.txt",
                 f"/api/inputs/{pid}/files/%2e%2e/secret.txt",
                 f"/api/inputs/{pid}/files/..%2fsecret.txt",
                 f"/api/inputs/{pid}/files/%2E%2E%2F%2E%2E%2Fcosmos.db",
                 f"/api/inputs/{pid}/files//etc/passwd",
                 f"/api/inputs/{pid}/files/nope.mp4",
                 "/api/inputs/ps_0123456789abcdef/files/color.mp4"):
        status, headers, body = ui.request("GET", path)
        assert 400 <= status < 500, (path, status)
        assert headers["Content-Type"].startswith("application/json"), path
        assert b"TOPSECRET" not in body
    # Previews of the input (PNG thumbnail and contact sheet, made on first use).
    status, headers, body = ui.request("GET", f"/api/prompts/{pid}/preview")
    assert status == 200 and body[:4] == b"\x89PNG"
    status, headers, body = ui.request("GET", f"/api/prompts/{pid}/preview?kind=sheet")
    assert status == 200 and body[:4] == b"\x89PNG"


def test_run_launched_through_the_api_streams_and_succeeds(web, input_set):
    """POST /api/runs queues a run; `cosmos serve` (another process) executes it; the UI
    process streams its log, status and output over SSE from the database and run.log."""
    cosmos, ui = web
    p = create_prompt(ui, input_set)
    pid = p["id"]

    body = {"prompt_id": pid, "params": {"weights": {"depth": 0.6, "edge": 0.2}, "num_steps": 3,
                                         "seed": 7, "guidance": 6.5}}
    preview = ui.json("POST", "/api/spec/preview", body)
    assert preview["params"]["num_steps"] == 3 and preview["params"]["seed"] == 7
    assert preview["spec"]["depth"]["control_weight"] == 0.6
    assert any("transfer.py" in a for a in preview["command"])
    # As many processes as GPUs (the launch flags agree with the resolved params).
    assert "--nproc_per_node=1" in preview["command"], preview["command"]
    four = ui.json("POST", "/api/spec/preview", {"prompt_id": pid, "params": {"num_gpus": 4}})
    assert four["params"]["num_gpus"] == 4
    assert "--nproc_per_node=4" in four["command"], four["command"]
    assert four["command"][four["command"].index("--num_gpus") + 1] == "4"
    assert ui.json("GET", "/api/runs")["total"] == 0  # preview created nothing
    ui.error("POST", "/api/spec/preview", 400, "invalid_input",
             body={"prompt_id": pid, "params": {"stepz": 3}})
    ui.error("POST", "/api/runs", 400, "invalid_input",
             body={"prompt_id": pid, "params": {"num_steps": 1000}})
    ui.error("POST", "/api/runs", 400, "invalid_input",
             body={"prompt_id": pid, "params": {"num_steps": "many"}})
    ui.error("POST", "/api/runs", 400, body={"prompt_id": pid, "colour": 1})
    ui.error("POST", "/api/runs", 400, body={"params": {}})
    ui.error("POST", "/api/runs", 404, "not_found", body={"prompt_id": "ps_0123456789abcdef"})
    ui.error("POST", "/api/runs", 404, "not_found", body={"prompt_id": pid, "host": "nowhere"})
    ui.error("POST", "/api/runs", 404, "not_found",
             body={"prompt_id": pid, "parent_run_id": "rs_0123456789abcdef"})
    ui.error("POST", "/api/runs", 400, raw=b'{"prompt_id": ')
    ui.error("POST", "/api/runs", 403, "csrf", body=body, csrf=False)

    events = EventStream(ui)
    launched = ui.json("POST", "/api/runs", body, expect=201)
    run, job = launched["run"], launched["job"]
    rid = run["id"]
    assert run["status"] == "queued" and run["params"]["seed"] == 7 and run["source"] == "web"
    assert job["run"] == rid and job["state"] == "queued" and job["position"] == 1
    assert cosmos.json("show", rid)["status"] == "queued"

    serve = Ui(cosmos, "serve", "--port", "0", "--poll", "0.1")
    try:
        assert serve.json("GET", "/api/health")["token_required"] is False
        deadline = time.time() + 180
        while True:
            shown = ui.json("GET", f"/api/runs/{rid}")
            if shown["status"] in ("succeeded", "failed", "cancelled"):
                break
            assert time.time() < deadline, shown
            time.sleep(0.2)
        assert shown["status"] == "succeeded", shown
        # The stream saw the run's log lines, its status changes and its output.
        deadline = time.time() + 10
        while time.time() < deadline and not any(
                e == "output" and d["run_id"] == rid for e, d, _ in events.all):
            time.sleep(0.1)
    finally:
        serve.stop()
        events.close()
    # Read again once the worker is done with it: the run ends (succeeded) a moment before its
    # worker marks the queue job done.
    shown = ui.json("GET", f"/api/runs/{rid}")
    logs = [d for e, d, _ in events.all if e == "log" and d["run_id"] == rid]
    assert logs, [e for e, _, _ in events.all]
    statuses = [d["status"] for e, d, _ in events.all if e == "run" and d["id"] == rid]
    assert "running" in statuses and statuses[-1] == "succeeded", statuses
    assert any(e == "job" and d["run"] == rid for e, d, _ in events.all)
    output = next(d for e, d, _ in events.all if e == "output" and d["run_id"] == rid)
    # Log events carry consecutive byte ranges of run.log.
    log_bytes = Path(shown["log_path"] or cosmos.data_dir / "runs" / rid / "run.log").read_bytes()
    for d in logs:
        assert log_bytes[d["offset"]:d["offset"] + len(d["text"].encode())] == d["text"].encode()

    # The preview showed the very command the run was then launched with (one command builder).
    ran = cosmos.json("show", rid)["command"]["argv"]
    assert [a.replace("RUN_ID", rid) for a in preview["command"]] == ran, (preview["command"], ran)

    # Run detail: events, spec, outputs, job, log.
    assert [e["status"] for e in shown["events"]][-1] == "succeeded"
    assert shown["spec"]["depth"]["control_weight"] == 0.6
    assert shown["job"]["state"] == "done"
    assert shown["log_url"] == f"/api/runs/{rid}/log"
    status, headers, log = ui.request("GET", shown["log_url"])
    assert status == 200 and log == log_bytes and int(headers["X-Log-Size"]) == len(log_bytes)
    status, headers, tail = ui.request("GET", f"{shown['log_url']}?offset=10")
    assert tail == log_bytes[10:]
    ui.error("GET", f"{shown['log_url']}?offset=-1", 400)
    names = {o["name"]: o for o in shown["outputs"]}
    assert "run.log" in names and "spec.json" in names
    spec_file = names["spec.json"]
    status, _, data = ui.request("GET", spec_file["url"])
    assert status == 200 and len(data) == spec_file["size"]
    # The output video, whole and in ranges.
    video = Path(shown["output_video"]).read_bytes()
    status, headers, data = ui.request("GET", output["url"])
    assert status == 200 and data == video and headers["Content-Type"] == "video/mp4"
    status, headers, data = ui.request("GET", output["url"], headers={"Range": "bytes=0-1023"})
    assert status == 206 and data == video[:1024]
    assert headers["Content-Range"] == f"bytes 0-1023/{len(video)}"
    status, _, data = ui.request("GET", f"/api/runs/{rid}/preview")
    assert status == 200 and data[:4] == b"\x89PNG"
    # Traversal out of the run dir, raw and percent-encoded: refused with a JSON 4xx.
    for path in (f"/api/runs/{rid}/files/../../cosmos.db",
                 f"/api/runs/{rid}/files/%2e%2e/%2e%2e/cosmos.db",
                 f"/api/runs/{rid}/files/..%2F..%2Fcosmos.db",
                 f"/api/runs/{rid}/files/outputs/../../../cosmos.db",
                 f"/api/runs/{rid}/files/%2Fetc%2Fpasswd",
                 f"/api/runs/{rid}/files/",
                 f"/api/runs/{rid}/files/nope.txt",
                 "/api/runs/rs_0123456789abcdef/files/run.log",
                 "/api/runs/..%2f..%2fcosmos.db/files/x"):
        status, headers, body = ui.request("GET", path)
        assert 400 <= status < 500, (path, status)
        assert headers["Content-Type"].startswith("application/json"), path
        assert b"SQLite format" not in body

    # Lists and filters.
    assert ui.json("GET", "/api/runs")["total"] == 1
    assert ui.json("GET", "/api/runs?status=succeeded")["items"][0]["id"] == rid
    assert ui.json("GET", "/api/runs?status=failed")["total"] == 0
    assert ui.json("GET", f"/api/runs?prompt={pid}")["total"] == 1
    assert ui.json("GET", "/api/runs?host=local")["total"] == 1
    assert ui.json("GET", "/api/runs?host=elsewhere")["total"] == 0
    assert ui.json("GET", f"/api/runs?q={rid[3:9]}")["total"] == 1
    today = run["created_at"][:10]
    assert ui.json("GET", f"/api/runs?since={today}")["total"] == 1
    assert ui.json("GET", f"/api/runs?since={today}T00:00:00.000Z&until=2999-01-01")["total"] == 1
    assert ui.json("GET", f"/api/runs?until={today}")["total"] == 0
    ui.error("GET", "/api/runs?status=sleeping", 400, "invalid_input")
    ui.error("GET", "/api/runs?offset=x", 400, "invalid_input")
    ui.error("GET", "/api/runs/rs_0123456789abcdef", 404, "not_found")
    ui.error("GET", "/api/runs/not-an-id", 404, "not_found")
    assert ui.json("GET", f"/api/prompts/{pid}")["runs"][0]["id"] == rid
    gallery = ui.json("GET", "/api/gallery")
    assert gallery["total"] == 1
    item = gallery["items"][0]
    assert item["run"]["id"] == rid and item["output_url"] == output["url"]
    assert item["input_url"].endswith("/color.mp4") and item["poster_url"]
    assert ui.json("GET", f"/api/gallery?run={rid}")["items"][0]["run"]["id"] == rid
    ui.error("GET", "/api/gallery?run=rs_0123456789abcdef", 404)
    # Re-run with changes: the child records its parent.
    # (the form sends the parent's whole params back, changed where the user moved a slider)
    params = dict(shown["params"])
    params["weights"] = dict(params["weights"], depth=0.3)
    params["seed"] = 99
    child = ui.json("POST", "/api/runs", {"prompt_id": pid, "parent_run_id": rid,
                                          "params": params}, expect=201)
    assert child["run"]["parent_run_id"] == rid
    assert child["run"]["params"]["weights"]["depth"] == 0.3
    assert child["run"]["params"]["seed"] == 99
    assert child["run"]["params"]["num_steps"] == shown["params"]["num_steps"]
    # A finished run cannot be cancelled.
    ui.error("POST", f"/api/runs/{rid}/cancel", 409, "conflict", body={})
    ui.error("POST", "/api/runs/rs_0123456789abcdef/cancel", 404, body={})
    cancelled = ui.json("POST", f"/api/runs/{child['run']['id']}/cancel", {})
    assert cancelled["state"] == "cancelled" and cancelled["run_status"] == "cancelled"


def test_rating_a_run_sets_filters_and_streams(web, input_set):
    """POST /api/runs/{id}/rating sets and clears a run's rating (as `cosmos rate`) under the
    write endpoints' rules; ?rating / ?min_rating filter the runs list and ?min_rating the
    gallery; the change reaches open event streams as a `run` event."""
    cosmos, ui = web
    pid = create_prompt(ui, input_set)["id"]
    queued = [ui.json("POST", "/api/runs", {"prompt_id": pid, "params": {"seed": i + 1}},
                      expect=201)["run"]["id"] for i in range(2)]
    done = cosmos.json("--config", cosmos.config, "inference", pid)[0]
    assert done["status"] == "succeeded" and done["rating"] is None
    events = EventStream(ui)
    try:
        rated = ui.json("POST", f"/api/runs/{done['id']}/rating", {"rating": 5})
        assert rated["id"] == done["id"] and rated["rating"] == 5
        deadline = time.time() + 20
        while True:
            event, data, _ = events.events.get(timeout=max(0.1, deadline - time.time()))
            if event == "run" and data["id"] == done["id"] and data["rating"] == 5:
                break
    finally:
        events.close()
    assert ui.json("POST", f"/api/runs/{queued[0]}/rating", {"rating": 3})["rating"] == 3
    assert ui.json("POST", f"/api/runs/{queued[1]}/rating", {"rating": 1})["rating"] == 1
    assert cosmos.json("show", done["id"])["rating"] == 5  # the CLI sees the same

    def ids(path):
        data = ui.json("GET", path)
        assert data["total"] == len(data["items"]), data
        return {r["id"] for r in data["items"]}
    assert ids("/api/runs?min_rating=3") == {done["id"], queued[0]}
    assert ids("/api/runs?rating=1") == {queued[1]}
    assert ids("/api/runs?min_rating=2&status=queued") == {queued[0]}
    assert ids("/api/runs") == {done["id"], *queued}
    gallery = ui.json("GET", "/api/gallery?min_rating=5")
    assert gallery["total"] == 1 and gallery["items"][0]["run"]["rating"] == 5
    assert ui.json("GET", "/api/gallery?min_rating=4")["total"] == 1
    cleared = ui.json("POST", f"/api/runs/{done['id']}/rating", {"rating": None})
    assert cleared["rating"] is None
    assert ui.json("GET", "/api/gallery?min_rating=1")["total"] == 0
    assert ui.json("GET", "/api/gallery")["total"] == 1

    # Bad values are 400 naming the field, unknown runs 404; nothing changed.
    for body in ({"rating": 0}, {"rating": 6}, {"rating": 4.5}, {"rating": "4"}, {},
                 {"rating": 4, "stars": 4}):
        ui.error("POST", f"/api/runs/{queued[0]}/rating", 400, "invalid_input", body=body)
    ui.error("POST", "/api/runs/rs_0123456789abcdef/rating", 404, "not_found", body={"rating": 2})
    ui.error("POST", "/api/runs/not-an-id/rating", 404, "not_found", body={"rating": 2})
    for query in ("min_rating=6", "rating=0", "min_rating=x"):
        ui.error("GET", f"/api/runs?{query}", 400, "invalid_input")
    ui.error("GET", "/api/gallery?min_rating=9", 400, "invalid_input")
    # The write rules of every state-changing endpoint: CSRF header, JSON body, same origin.
    ui.error("POST", f"/api/runs/{queued[0]}/rating", 403, "csrf", body={"rating": 5}, csrf=False)
    ui.error("POST", f"/api/runs/{queued[0]}/rating", 403, "csrf", body={"rating": 5},
             content_type="text/plain")
    ui.error("POST", f"/api/runs/{queued[0]}/rating", 403, "cross_origin", body={"rating": 5},
             headers={"Origin": "http://evil.example"})
    assert cosmos.json("show", queued[0])["rating"] == 3


def test_queue_control_and_hosts(web, input_set):
    cosmos, ui = web
    pid = create_prompt(ui, input_set)["id"]
    assert ui.json("POST", "/api/queue/pause", {}) == {"paused": True}
    assert cosmos.json("queue")["paused"] is True
    runs = [ui.json("POST", "/api/runs", {"prompt_id": pid, "params": {"seed": i + 1}},
                    expect=201)["run"]["id"] for i in range(3)]
    q = ui.json("GET", "/api/queue")
    assert q["paused"] is True and [j["run"] for j in q["items"]] == runs
    assert [j["position"] for j in q["items"]] == [1, 2, 3]
    moved = ui.json("POST", f"/api/queue/{runs[2]}/move", {"position": 1})
    assert [j["run"] for j in moved["items"]] == [runs[2], runs[0], runs[1]]
    assert [j["run"] for j in cosmos.json("queue")["jobs"]] == [runs[2], runs[0], runs[1]]
    moved = ui.json("POST", f"/api/queue/{runs[1]}/move", {"priority": 5})
    assert moved["items"][0]["run"] == runs[1] and moved["items"][0]["priority"] == 5
    ui.error("POST", f"/api/queue/{runs[1]}/move", 400, body={})
    ui.error("POST", f"/api/queue/{runs[1]}/move", 400, body={"position": "first"})
    ui.error("POST", f"/api/queue/{runs[1]}/move", 400, body={"position": 0})
    ui.error("POST", "/api/queue/rs_0123456789abcdef/move", 404, body={"position": 1})
    ui.error("POST", "/api/queue/pause", 403, "csrf", body={}, csrf=False)
    job = ui.json("POST", f"/api/queue/{runs[0]}/pause", {})
    assert job["paused"] is True
    job = ui.json("POST", f"/api/queue/{runs[0]}/resume", {})
    assert job["paused"] is False
    job_id = ui.json("GET", "/api/queue")["items"][0]["job"]
    cancelled = ui.json("POST", f"/api/queue/{job_id}/cancel", {})
    assert cancelled["job"] == job_id and cancelled["state"] == "cancelled"
    ui.error("POST", f"/api/queue/{job_id}/cancel", 409, "conflict", body={})
    ui.error("POST", "/api/queue/job_0123456789abcdef/cancel", 404, body={})
    assert ui.json("POST", "/api/queue/resume") == {"paused": False}  # no body: {}
    # A run created by the CLI and never queued: no job, nothing to cancel.
    pending = cosmos.json("create", "run", pid)["id"]
    shown = ui.json("GET", f"/api/runs/{pending}")
    assert shown["status"] == "pending" and shown["job"] is None and shown["spec"] is None
    ui.error("POST", f"/api/runs/{pending}/cancel", 409, "conflict", body={})
    ui.error("POST", "/api/runs/nonsense/cancel", 404, "not_found", body={})
    assert cosmos.json("queue")["paused"] is False
    # Enhance: queues an enhance run of the prompt.
    ui.json("POST", "/api/queue/pause", {})
    enhanced = ui.json("POST", f"/api/prompts/{pid}/enhance", {}, expect=201)
    assert enhanced["run"]["kind"] == "enhance" and enhanced["job"]["state"] == "queued"
    ui.error("POST", "/api/prompts/ps_0123456789abcdef/enhance", 404, body={})
    ui.error("POST", f"/api/prompts/{pid}/enhance", 400, body={"bogus": 1})
    # Hosts: the configured local host, probed in the background (the emulator's nvidia-smi).
    deadline = time.time() + 30
    while True:
        hosts = ui.json("GET", "/api/hosts")["items"]
        local = next(h for h in hosts if h["name"] == "local")
        if local["reachable"] is not None or time.time() > deadline:
            break
        time.sleep(0.2)
    assert local["kind"] == "local" and local["gpus"] == 2
    assert local["reachable"] is True
    # Probed with the host's environment: the emulator's nvidia-smi reports its 2 GPUs.
    assert [g["index"] for g in local["gpu_stats"]] == [0, 1], local
    assert {"name", "utilization_percent", "memory_used_mib", "memory_total_mib"} <= set(
        local["gpu_stats"][0])
    assert local["probed_at"]


def test_non_loopback_bind_requires_the_token(emulated):
    cosmos = emulated
    ui = Ui(cosmos, "ui", "--bind", "0.0.0.0", "--port", "0")
    try:
        token_file = cosmos.data_dir / "ui-token"
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        token = token_file.read_text().strip()
        assert len(token) >= 32
        assert token not in "".join(ui.stderr_lines)
        assert str(token_file) in "".join(ui.stderr_lines)
        ui.error("GET", "/api/health", 401, "token")
        ui.error("GET", "/", 401, "token")
        ui.error("GET", "/api/runs", 401, "token", headers={"Authorization": "Bearer wrong"})
        ui.error("GET", "/api/health?token=wrong", 401, "token")
        ui.error("POST", "/api/queue/pause", 401, "token", body={})
        # Bearer header.
        status, _, body = ui.request("GET", "/api/health",
                                     headers={"Authorization": f"Bearer {token}"})
        assert status == 200 and json.loads(body)["token_required"] is True
        # ?token= once: an HttpOnly cookie, then plain requests work.
        status, headers, _ = ui.request("GET", f"/?token={token}")
        assert status in (302, 303) and headers["Location"] == "/"
        cookie = next(v for v in headers.get_all("Set-Cookie") if v.startswith("cosmos_token="))
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        status, _, _ = ui.request("GET", "/api/runs")
        assert status == 200
        # The redirect never leaves the site.
        saved, ui.cookies = ui.cookies, {}
        status, headers, _ = ui.request("GET", f"//evil.example/?token={token}")
        assert status == 303 and headers["Location"] == "/"
        ui.cookies = saved
        # Still CSRF-checked.
        ui.error("POST", "/api/queue/pause", 403, "csrf", body={}, csrf=False)
        assert ui.json("POST", "/api/queue/pause", {}) == {"paused": True}
    finally:
        ui.stop()
    # The same token on the next start.
    again = Ui(cosmos, "ui", "--bind", "0.0.0.0", "--port", "0")
    try:
        assert (cosmos.data_dir / "ui-token").read_text().strip() == token
        again.token = token
        assert again.json("GET", "/api/health")["token_required"] is True
    finally:
        again.stop()


def test_port_taken_help_and_clean_stop(emulated):
    cosmos = emulated
    ui = Ui(cosmos, "ui", "--port", "0")
    try:
        proc = cosmos.run("ui", "--port", ui.port, check=False, timeout=30)
        assert proc.returncode == 5, proc.stderr
        assert "--port 0" in proc.stderr
        # Closed event streams free their threads: more of them than the server has threads
        # never starve the API.
        for _ in range(80):
            EventStream(ui).close()
        time.sleep(1.5)
        assert ui.json("GET", "/api/health")["token_required"] is False
        streams = [EventStream(ui) for _ in range(3)]
        time.sleep(0.3)
    finally:
        started = time.time()
        ui.stop()  # SIGTERM with streams open: a clean, quick stop
        assert time.time() - started < 10
    for s in streams:
        s.close()
    help_text = cosmos.run("ui", "--help").stdout
    assert "ui-token" in help_text and "127.0.0.1:8765" in help_text
    assert "--bind" in cosmos.run("serve", "--help").stdout
