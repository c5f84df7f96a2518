"""cosmos-emulator's Cosmos 3 server mode against the public contract (docs/emulator.md "Cosmos 3
server mode"): the emulator runs as a real server process on 127.0.0.1 and is driven over HTTP
with urllib, as any client of vLLM-Omni's Videos API and vLLM's chat completions would; the
videos are checked with the real ffprobe / ffmpeg."""
import base64
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from conftest import ffprobe, have, make_video

pytestmark = pytest.mark.skipif(not have("ffmpeg") or not have("ffprobe"),
                                reason="needs the ffmpeg and ffprobe CLIs")

GENERATOR = ["vllm", "serve", "nvidia/Cosmos3-Nano", "--omni", "--model-class-name",
             "Cosmos3OmniDiffusersPipeline"]
REASONER = ["vllm", "serve", "nvidia/Cosmos3-Nano", "--hf-overrides",
            '{"architectures": ["Cosmos3ReasonerForConditionalGeneration"]}']
READY = re.compile(r"INFO:     Uvicorn running on http://127\.0\.0\.1:(\d+) \(Press CTRL\+C to quit\)")


class Server:
    """One emulated server process; its output is collected by a reader thread."""

    def __init__(self, emulator, tmp_path, args, env=None, port=0):
        self.record = tmp_path / "record.jsonl"
        self.lines = []
        full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "COSMOS_EMULATOR_TIME_SCALE": "1",
                    "COSMOS_EMULATOR_SERVER_LOAD_SECONDS": "0.2",
                    "COSMOS_EMULATOR_STEP_SECONDS": "0.001",
                    "COSMOS_EMULATOR_GPU_DIR": str(tmp_path / "gpus"),
                    "COSMOS_EMULATOR_RECORD": str(self.record)}
        full_env.update(env or {})
        argv = [emulator, *args]
        if "--port" not in args:
            argv += ["--port", str(port)]
        self.proc = subprocess.Popen(argv, env=full_env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.port = None
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)
            if m := READY.search(line):
                self.port = int(m.group(1))
            if "Application startup complete." in line:
                self.ready.set()

    def wait_ready(self):
        deadline = time.time() + 60
        while not self.ready.is_set():
            assert self.proc.poll() is None, self.output()
            assert time.time() < deadline, self.output()
            time.sleep(0.02)
        assert self.port, self.output()
        return self

    def output(self):
        return "".join(self.lines)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=30)
        time.sleep(0.05)  # the reader thread takes the last lines
        return rc

    def events(self, event=None):
        if not self.record.exists():
            return []
        lines = [json.loads(line) for line in self.record.read_text().splitlines()]
        return [e for e in lines if event is None or e["event"] == event]

    # --- HTTP ---
    def request(self, method, path, body=None, headers=None):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=body,
                                     method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=60) as res:
                return res.status, res.headers, res.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def json(self, method, path, body=None, headers=None):
        status, _, data = self.request(method, path, body, headers)
        return status, json.loads(data) if data else None

    def create(self, fields, files=None, headers=None, path="/v1/videos"):
        body, ctype = multipart(fields, files or {})
        return self.json("POST", path, body, {"Content-Type": ctype, **(headers or {})})

    def wait_status(self, vid, statuses, timeout=60):
        deadline = time.time() + timeout
        while True:
            status, job = self.json("GET", f"/v1/videos/{vid}")
            assert status == 200, job
            if job["status"] in statuses:
                return job
            assert time.time() < deadline, job
            time.sleep(0.02)

    def chat(self, messages, **extra):
        body = json.dumps({"model": "nvidia/Cosmos3-Nano", "messages": messages,
                           "max_tokens": 512, "temperature": 0, **extra}).encode()
        return self.json("POST", "/v1/chat/completions", body,
                         {"Content-Type": "application/json"})


def multipart(fields, files):
    """multipart/form-data built by hand: text fields verbatim, files as (name, bytes, type)."""
    boundary = uuid.uuid4().hex
    out = b""
    for name, value in fields.items():
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                ).encode() + str(value).encode() + b"\r\n"
    for name, (filename, data, ctype) in files.items():
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; "
                f"filename=\"{filename}\"\r\nContent-Type: {ctype}\r\n\r\n").encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def start(emulator_bin, tmp_path):
    servers = []

    def _start(args=GENERATOR, env=None, port=0, ready=True):
        server = Server(emulator_bin, tmp_path, args, env, port)
        servers.append(server)
        return server.wait_ready() if ready else server

    yield _start
    for s in servers:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()


def mean_rgb(path, frame):
    """The mean colour of one frame, decoded by the ffmpeg CLI."""
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-vf",
                          f"select=eq(n\\,{frame}),scale=1:1", "-frames:v", "1", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return tuple(out[:3])


def two_colour_video(path, first="red", second="blue", frames=10, size="320x192", fps=10):
    subprocess.run(["ffmpeg", "-v", "error", "-y",
                    "-f", "lavfi", "-i", f"color=c={first}:s={size}:r={fps}",
                    "-f", "lavfi", "-i", f"color=c={second}:s={size}:r={fps}",
                    "-filter_complex", f"[0]trim=end_frame={frames}[a];[1]trim=end_frame={frames}[b];"
                    "[a][b]concat=n=2:v=1[v]", "-map", "[v]", "-c:v", "libx264",
                    "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_port_refuses_until_the_model_has_loaded_and_the_model_loads_once(start):
    port = free_port()
    server = start(port=port, ready=False, env={"COSMOS_EMULATOR_SERVER_LOAD_SECONDS": "1.5"})
    refused = 0
    while not server.ready.is_set():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            if not server.ready.is_set():
                pytest.fail("connected before 'Application startup complete.'\n" + server.output())
        except ConnectionRefusedError:
            refused += 1
        assert server.proc.poll() is None, server.output()
        time.sleep(0.05)
    assert refused > 0
    server.wait_ready()
    assert server.port == port
    out = server.output()
    assert out.index("Uvicorn running on") < out.index("Application startup complete.")
    assert server.request("GET", "/health")[0] == 200
    status, models = server.json("GET", "/v1/models")
    assert status == 200 and models["data"][0]["id"] == "nvidia/Cosmos3-Nano"
    loads = server.events("model_load")
    assert len(loads) == 1
    assert loads[0]["mode"] == "vllm" and loads[0]["role"] == "generator"
    assert loads[0]["port"] == port and loads[0]["pid"] == server.proc.pid
    assert loads[0]["gpus"] == [0]
    assert any({"method": "GET", "path": "/health", "auth": "none_required",
                "status": 200}.items() <= e.items() for e in server.events("request"))


def test_text_to_video_job_runs_to_a_real_mp4_with_the_prompt_intact(start, tmp_path):
    server = start()
    prompt = "a red car; it drives\nat night; \"quoted\" & more"
    status, job = server.create({"prompt": prompt, "size": "320x192", "num_frames": "9",
                                 "fps": "16", "seed": "7", "num_inference_steps": "4",
                                 "extra_params": '{"use_resolution_template": true}'})
    assert status == 200, job
    assert job["object"] == "video" and job["status"] == "queued" and job["id"].startswith("video-")
    assert abs(job["created_at"] - time.time()) < 60
    done = server.wait_status(job["id"], {"completed", "failed"})
    assert done["status"] == "completed", done
    assert done["progress"] == 100 and done["seed"] == 7 and done["prompt"] == prompt
    assert (done["size"], done["num_frames"], done["fps"]) == ("320x192", 9, 16)
    status, headers, data = server.request("GET", f"/v1/videos/{job['id']}/content")
    assert status == 200 and headers["Content-Type"] == "video/mp4"
    (tmp_path / "out.mp4").write_bytes(data)
    info = ffprobe(tmp_path / "out.mp4")
    assert (info["codec"], info["width"], info["height"], info["frames"], info["fps"]) == \
        ("h264", 320, 192, 9, 16.0)
    [rec] = server.events("video_job")
    assert rec["id"] == job["id"] and rec["form"]["prompt"] == prompt
    assert rec["form"]["num_frames"] == "9" and rec["input_reference"] is None
    assert rec["extra_params"] == {"use_resolution_template": True}
    status, listing = server.json("GET", "/v1/videos")
    assert listing["object"] == "list" and [j["id"] for j in listing["data"]] == [job["id"]]


def test_video_to_video_follows_the_input_and_takes_its_frames_and_size(start, tmp_path):
    server = start()
    source = two_colour_video(tmp_path / "in.mp4", frames=10)  # 10 red then 10 blue frames
    status, job = server.create({"prompt": "stylise it"},
                                {"input_reference": ("in.mp4", source.read_bytes(), "video/mp4")})
    assert status == 200, job
    done = server.wait_status(job["id"], {"completed", "failed"})
    assert done["status"] == "completed", done
    assert (done["num_frames"], done["size"]) == (20, "320x192")
    status, _, data = server.request("GET", f"/v1/videos/{job['id']}/content")
    out = tmp_path / "out.mp4"
    out.write_bytes(data)
    assert (ffprobe(out)["frames"], ffprobe(out)["width"]) == (20, 320)
    r, g, b = mean_rgb(out, 0)
    assert r > 150 and b < 100, (r, g, b)  # red, tinted
    r, g, b = mean_rgb(out, 19)
    assert b > 100 and r < b, (r, g, b)  # blue, tinted
    assert mean_rgb(out, 0) != mean_rgb(source, 0)  # a copy, but not the same pixels
    [rec] = server.events("video_job")
    assert rec["input_reference"] == {"filename": "in.mp4", "bytes": source.stat().st_size,
                                      "frames": 20, "width": 320, "height": 192}
    # Resampled in time and size when asked.
    status, job = server.create({"prompt": "longer", "num_frames": "40", "size": "832x480"},
                                {"input_reference": ("in.mp4", source.read_bytes(), "video/mp4")})
    assert server.wait_status(job["id"], {"completed", "failed"})["status"] == "completed"
    out.write_bytes(server.request("GET", f"/v1/videos/{job['id']}/content")[2])
    info = ffprobe(out)
    assert (info["frames"], info["width"], info["height"]) == (40, 832, 480)
    assert mean_rgb(out, 5)[0] > 150 and mean_rgb(out, 35)[2] > 100


BAD_FIELDS = [
    ("num_frames", {"num_frames": "4"}), ("num_frames", {"num_frames": "301"}),
    ("num_frames", {"num_frames": "ten"}), ("fps", {"fps": "25"}), ("size", {"size": "640x480"}),
    ("size", {"size": "big"}), ("width", {"width": "100", "height": "100"}),
    ("height", {"width": "832"}), ("num_inference_steps", {"num_inference_steps": "0"}),
    ("guidance_scale", {"guidance_scale": "-1"}), ("flow_shift", {"flow_shift": "x"}),
    ("seed", {"seed": "-1"}), ("max_sequence_length", {"max_sequence_length": "0"}),
    ("extra_params", {"extra_params": "[1, 2]"}),
    ("extra_params", {"extra_params": '{"guardrails": "no"}'}), ("prompt", {"prompt": " "}),
]


def test_every_out_of_range_value_is_refused_with_400_naming_the_param(start, tmp_path):
    server = start()
    for param, fields in BAD_FIELDS:
        status, body = server.create({"prompt": "ok", **fields})
        assert status == 400, (fields, body)
        assert body["error"]["param"] == param, (fields, body)
        assert body["error"]["type"] == "BadRequestError" and body["error"]["code"] == 400
        assert body["error"]["message"]
    status, body = server.create({"prompt": "x"},
                                 {"input_reference": ("a.mp4", b"not a video", "video/mp4")})
    assert status == 400 and body["error"]["param"] == "input_reference", body
    status, body = server.create({"negative_prompt": "no prompt"})
    assert status == 400 and body["error"]["param"] == "prompt"
    assert server.events("video_job") == []
    assert server.json("GET", "/v1/videos")[1]["data"] == []


def test_api_key_is_required_and_never_recorded_or_printed(start, emulator_bin):
    key = "sk-emulated-" + uuid.uuid4().hex
    server = start(env={"VLLM_API_KEY": key})
    assert server.request("GET", "/health")[0] == 200
    assert server.request("GET", "/v1/models")[0] == 401
    assert server.request("GET", "/v1/models", headers={"Authorization": "Bearer nope"})[0] == 401
    status, body = server.create({"prompt": "x"})
    assert status == 401
    ok = {"Authorization": f"Bearer {key}"}
    assert server.request("GET", "/v1/models", headers=ok)[0] == 200
    status, job = server.create({"prompt": "x", "size": "320x192", "num_frames": "5"}, headers=ok)
    assert status == 200, job
    cmdline = Path(f"/proc/{server.proc.pid}/cmdline").read_bytes().decode()
    assert server.stop() == 0  # the request lines are written after each answer: all there now
    auths = [(e["path"], e["auth"], e["status"]) for e in server.events("request")]
    assert sorted(auths) == sorted([
        ("/health", "none_required", 200), ("/v1/models", "missing", 401),
        ("/v1/models", "wrong", 401), ("/v1/videos", "missing", 401), ("/v1/models", "ok", 200),
        ("/v1/videos", "ok", 200)])
    for text in (server.record.read_text(), server.output(), cmdline):
        assert key not in text


def test_delete_aborts_the_running_job_and_the_queued_one_runs_next(start):
    server = start(env={"COSMOS_EMULATOR_STEP_SECONDS": "100"})
    fields = {"prompt": "slow", "size": "320x192", "num_frames": "5"}
    first = server.create(fields)[1]
    second = server.create(fields)[1]
    assert server.wait_status(first["id"], {"in_progress"})["status"] == "in_progress"
    time.sleep(0.3)
    assert server.json("GET", f"/v1/videos/{second['id']}")[1]["status"] == "queued"
    status, body = server.json("GET", f"/v1/videos/{first['id']}/content")
    assert status == 409 and body["error"]["param"] == "video_id"
    status, body = server.json("DELETE", f"/v1/videos/{first['id']}")
    assert (status, body) == (200, {"id": first["id"], "object": "video.deleted", "deleted": True})
    assert server.json("GET", f"/v1/videos/{first['id']}")[0] == 404
    assert server.wait_status(second["id"], {"in_progress"})["status"] == "in_progress"
    assert server.json("DELETE", f"/v1/videos/{second['id']}")[0] == 200
    assert server.json("DELETE", f"/v1/videos/{second['id']}")[0] == 404
    assert server.json("GET", "/v1/videos")[1]["data"] == []


def test_concurrency_two_runs_two_jobs_at_once(start):
    server = start(env={"COSMOS_EMULATOR_STEP_SECONDS": "100",
                        "COSMOS_EMULATOR_SERVER_CONCURRENCY": "2"})
    fields = {"prompt": "slow", "size": "320x192", "num_frames": "5"}
    ids = [server.create(fields)[1]["id"] for _ in range(3)]
    for vid in ids[:2]:
        server.wait_status(vid, {"in_progress"})
    time.sleep(0.3)
    assert server.json("GET", f"/v1/videos/{ids[2]}")[1]["status"] == "queued"
    assert server.stop() == 0


def test_guardrail_blocks_the_prompt_unless_extra_params_turns_it_off(start):
    server = start(env={"COSMOS_EMULATOR_BLOCK_PROMPT": "forbidden thing"})
    fields = {"prompt": "a forbidden thing happens", "size": "320x192", "num_frames": "5"}
    job = server.create(fields)[1]
    done = server.wait_status(job["id"], {"completed", "failed"})
    assert done["status"] == "failed" and done["error"]["code"] == "guardrail_blocked", done
    assert "Guardrail" in done["error"]["message"]
    assert server.json("GET", f"/v1/videos/{job['id']}/content")[0] == 409
    job = server.create({**fields, "extra_params": '{"guardrails": false}'})[1]
    assert server.wait_status(job["id"], {"completed", "failed"})["status"] == "completed"


def test_sync_endpoint_returns_the_mp4(start, tmp_path):
    server = start()
    body, ctype = multipart({"prompt": "sync", "size": "192x320", "num_frames": "6", "fps": "10"},
                            {})
    status, headers, data = server.request("POST", "/v1/videos/sync", body,
                                           {"Content-Type": ctype})
    assert status == 200 and headers["Content-Type"] == "video/mp4"
    (tmp_path / "s.mp4").write_bytes(data)
    info = ffprobe(tmp_path / "s.mp4")
    assert (info["width"], info["height"], info["frames"], info["fps"]) == (192, 320, 6, 10.0)


def test_oom_fails_the_job_and_the_server_keeps_serving(start):
    server = start(env={"COSMOS_EMULATOR_FAIL": "oom"})
    job = server.create({"prompt": "x", "size": "320x192", "num_frames": "5"})[1]
    done = server.wait_status(job["id"], {"completed", "failed"})
    assert done["status"] == "failed" and "CUDA out of memory" in done["error"]["message"]
    assert server.request("GET", "/health")[0] == 200


def test_crash_kills_the_whole_server_with_a_traceback(start):
    server = start(env={"COSMOS_EMULATOR_FAIL": "crash"})
    server.create({"prompt": "x", "size": "320x192", "num_frames": "5"})
    assert server.proc.wait(timeout=30) == 1
    time.sleep(0.1)
    assert "RuntimeError: CUDA error: an illegal memory access" in server.output()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()


def test_sigterm_shuts_down_gracefully_and_sigint_too(start):
    for sig in (signal.SIGTERM, signal.SIGINT):
        server = start(env={"COSMOS_EMULATOR_STEP_SECONDS": "100"})
        server.create({"prompt": "slow", "size": "320x192", "num_frames": "5"})
        server.proc.send_signal(sig)
        assert server.proc.wait(timeout=30) == 0
        time.sleep(0.1)
        out = server.output()
        assert "INFO:     Shutting down" in out and "Finished server process" in out


def flicker_video(path, frames=12):
    """Alternating black and white frames: nothing real moves like that."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "nullsrc=s=320x192:r=12,geq=lum='255*mod(N,2)':cb=128:cr=128",
                    "-frames:v", str(frames),
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)],
                   check=True)
    return path


def video_part(url):
    return {"type": "video_url", "video_url": {"url": url}}


def answer(body):
    return body["choices"][0]["message"]["content"]


def test_reasoner_enhances_captions_and_scores_plausibility(start, tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    server = start(REASONER + ["--allowed-local-media-path", str(media)])
    red = two_colour_video(media / "red.mp4", "red", "red", frames=8)  # 16 frames
    noisy = flicker_video(tmp_path / "flicker.mp4")

    status, body = server.chat([{"role": "user", "content":
                                 'Rewrite this prompt to be more detailed: "a cat on a sofa"'}])
    assert status == 200, body
    assert body["object"] == "chat.completion" and body["choices"][0]["finish_reason"] == "stop"
    assert answer(body).startswith("a cat on a sofa") and len(answer(body)) > 60
    assert body["usage"]["completion_tokens"] > 0

    status, body = server.chat([{"role": "user", "content": [
        video_part(f"file://{red}"), {"type": "text", "text": "Describe this video."}]}])
    assert status == 200, body
    assert all(w in answer(body) for w in ("16 frames", "320x192", "10 fps", "red")), answer(body)

    status, smooth = server.chat([
        {"role": "system", "content": "You judge videos."},
        {"role": "user", "content": [video_part(f"file://{red}"),
                                     {"type": "text", "text": "Is this physically plausible?"}]}])
    data_url = "data:video/mp4;base64," + base64.b64encode(noisy.read_bytes()).decode()
    status2, rough = server.chat([{"role": "user", "content": [
        video_part(data_url), {"type": "text", "text": "Rate its physical plausibility 1-5."}]}])
    assert status == status2 == 200, (smooth, rough)
    for body in (smooth, rough):
        assert re.match(r"<think>\n.*\n</think>\nScore: [1-5]\nReason: .+", answer(body), re.S), \
            answer(body)
    assert "Score: 5" in answer(smooth) and "Score: 1" in answer(rough)
    # Deterministic: the same request, the same answer.
    assert answer(server.chat([{"role": "user", "content": [
        video_part(data_url), {"type": "text", "text": "Rate its physical plausibility 1-5."}]}])[1]) \
        == answer(rough)

    tasks = [(e["task"], e["videos"]) for e in server.events("chat")]
    assert tasks == [("enhance", 0), ("caption", 1), ("plausibility", 1), ("plausibility", 1),
                     ("plausibility", 1)]


def test_reasoner_refuses_files_outside_the_allowed_path_and_serves_no_videos(start, tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    outside = make_video(tmp_path / "outside.mp4", frames=5)
    server = start(REASONER + ["--allowed-local-media-path", str(media)])
    for url in (f"file://{outside}", f"file://{media}/../outside.mp4", "https://example.com/a.mp4"):
        status, body = server.chat([{"role": "user", "content": [
            video_part(url), {"type": "text", "text": "Describe this video."}]}])
        assert status == 400 and body["error"]["type"] == "BadRequestError", (url, body)
    status, body = server.chat([{"role": "user", "content": "hi"}], max_tokens=0)
    assert status == 400 and body["error"]["param"] == "max_tokens"
    status, body = server.json("POST", "/v1/chat/completions",
                               json.dumps({"model": "other", "messages": []}).encode(),
                               {"Content-Type": "application/json"})
    assert status == 404 and "other" in body["error"]["message"]
    assert server.create({"prompt": "x"})[0] == 404
    assert server.events("model_load")[0]["role"] == "reasoner"
    # Without --allowed-local-media-path no file:// URL is taken.
    server.stop()
    server = start(REASONER)
    status, body = server.chat([{"role": "user", "content": [
        video_part(f"file://{outside}"), {"type": "text", "text": "Describe this video."}]}])
    assert status == 400 and "allowed-local-media-path" in body["error"]["message"]


def test_reasoner_guardrail_answers_a_refusal(start):
    server = start(REASONER, env={"COSMOS_EMULATOR_BLOCK_PROMPT": "forbidden thing"})
    status, body = server.chat([{"role": "user", "content":
                                 "Rewrite this prompt: a forbidden thing happens"}])
    assert status == 200 and "can't help" in answer(body)
    assert "forbidden" not in answer(body)
    assert server.events("chat")[0]["blocked"] is True


def test_sglang_serves_the_generator_and_answers_chat_with_404(start, tmp_path):
    server = start(["sglang", "serve", "--model-path", "nvidia/Cosmos3-Nano", "--num-gpus", "2",
                    "--host", "127.0.0.1"])
    status, job = server.create({"prompt": "x", "size": "320x192", "num_frames": "5"})
    assert status == 200, job
    assert server.wait_status(job["id"], {"completed", "failed"})["status"] == "completed"
    assert server.chat([{"role": "user", "content": "hi"}])[0] == 404
    [load] = server.events("model_load")
    assert (load["mode"], load["role"], load["gpus"]) == ("sglang", "generator", [0, 1])


@pytest.mark.parametrize("args, message", [
    (GENERATOR + ["--bogus"], "unrecognized arguments: --bogus"),
    (["vllm", "serve", "nvidia/Cosmos3-Nano"], "no role"),
    (["vllm", "serve", "Qwen/Qwen3-8B", "--omni"], "not a Cosmos 3 model"),
    (GENERATOR + ["--port", "http"], "argument --port: invalid int value: 'http'"),
    (["sglang", "serve", "--port", "1"], "the following arguments are required: --model-path"),
    (["vllm", "run"], "invalid choice: 'run'"),
])
def test_bad_command_lines_exit_2_with_usage(emulator_bin, tmp_path, args, message):
    r = subprocess.run([emulator_bin, *args], capture_output=True, text=True, timeout=30,
                       env={"PATH": "/usr/bin:/bin", "COSMOS_EMULATOR_RECORD": str(tmp_path / "r")})
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("usage: ") and message in r.stderr, r.stderr
    assert not (tmp_path / "r").exists()
