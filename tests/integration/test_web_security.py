"""The web UI server against hostile clients: the real `cosmos ui` process, driven with raw
sockets where a browser or http.client would not send what an attacker sends. DNS rebinding
(Host header variants) and cross-origin writes, event streams and slow header senders that
would starve the request threads, oversized and chunked bodies, files of an input folder that
are not its videos, and the gallery's total (docs/ui.md, "Access rules")."""
import os
import socket
import sqlite3
import time

import pytest

from conftest import write_config
from test_web_api import Ui, create_prompt


@pytest.fixture
def web(emulated, input_set):
    cosmos = emulated
    cosmos.config = write_config(cosmos, cosmos.emulator_dir)
    ui = Ui(cosmos, "ui", "--port", "0")
    ui.json("GET", "/api/health")  # takes the CSRF cookie
    yield cosmos, ui
    ui.stop()


def connect(ui, timeout=30):
    return socket.create_connection(("127.0.0.1", ui.port), timeout=timeout)


def read_response(sock):
    """Reads until the server closes: (status, headers dict lower-cased, body)."""
    data = b""
    try:
        while True:
            part = sock.recv(65536)
            if not part:
                break
            data += part
    except ConnectionResetError:
        pass
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 "), data[:300]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def raw(ui, head_lines, body=b"", method="GET", path="/api/health"):
    """One request with exactly these header lines (and Connection: close)."""
    framed = any(l.lower().startswith(("content-length:", "transfer-encoding:")) for l in head_lines)
    if body and not framed:
        head_lines = head_lines + [f"Content-Length: {len(body)}"]
    sock = connect(ui)
    try:
        text = f"{method} {path} HTTP/1.1\r\n" + "".join(l + "\r\n" for l in head_lines)
        sock.sendall(text.encode("latin-1") + b"Connection: close\r\n\r\n" + body)
        return read_response(sock)
    finally:
        sock.close()


def write_headers(ui):
    """The header lines a page of this server sends with a state-changing request."""
    return [f"Host: 127.0.0.1:{ui.port}", "Content-Type: application/json",
            f"Cookie: cosmos_csrf={ui.cookies['cosmos_csrf']}",
            f"X-Cosmos-CSRF: {ui.cookies['cosmos_csrf']}"]


def test_host_header_is_parsed_and_compared_exactly(web):
    _, ui = web
    port = ui.port
    other = port + 1 if port < 65535 else port - 1
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}", f"[::1]:{port}"):
        status, _, body = raw(ui, [f"Host: {host}"])
        assert status == 200, (host, body)
    # Names a rebinding page could own, other ports, the default port, trailing dots.
    for host in (f"127.0.0.1.evil.example:{port}", "127.0.0.1.evil.example", f"localhost.evil:{port}",
                 f"127.0.0.1:{other}", "127.0.0.1", "localhost", f"localhost.:{port}",
                 f"127.0.0.1.:{port}", f"evil.example:{port}", f"127.1:{port}"):
        status, headers, body = raw(ui, [f"Host: {host}"])
        assert status == 403, (host, status, body)
        assert headers["content-type"].startswith("application/json") and b"forbidden" in body
    # Malformed: user info, a name glued to a bracketed address, bad ports, spaces, empty.
    for host in (f"127.0.0.1:{port}@evil", f"[::1].evil:{port}", f"[::1]evil:{port}", f"[::1:{port}",
                 f"127.0.0.1:{port}:{port}", "127.0.0.1:0", "127.0.0.1:99999", f"127.0.0.1 :{port}",
                 f"127.0.0.1:+{port}", ""):
        status, _, body = raw(ui, [f"Host: {host}"])
        assert status == 400, (host, status, body)
        assert b"Host" in body
    # No Host header, and two of them (both fine alone).
    assert raw(ui, [])[0] == 400
    assert raw(ui, [f"Host: 127.0.0.1:{port}", f"Host: 127.0.0.1:{port}"])[0] == 400
    assert raw(ui, [f"Host: 127.0.0.1:{port}", "Host: evil.example"])[0] == 400


def test_state_changing_requests_need_the_servers_own_origin(web):
    _, ui = web
    port = ui.port
    own = f"http://127.0.0.1:{port}"
    for origin in ("http://evil.example", "null", f"http://127.0.0.1:{port + 1}",
                   f"http://localhost:{port}", f"https://127.0.0.1:{port}",
                   f"http://127.0.0.1.evil.example:{port}", f"{own}/path", f"{own}@evil"):
        status, _, body = raw(ui, write_headers(ui) + [f"Origin: {origin}"], b"{}", "POST",
                              "/api/queue/pause")
        assert status == 403 and b"cross_origin" in body, (origin, status, body)
    # Without Origin: Sec-Fetch-Site and Referer speak for the page.
    for extra in ("Sec-Fetch-Site: cross-site", "Sec-Fetch-Site: same-site",
                  "Referer: http://evil.example/queue", f"Referer: http://localhost:{port}/"):
        status, _, body = raw(ui, write_headers(ui) + [extra], b"{}", "POST", "/api/queue/pause")
        assert status == 403 and b"cross_origin" in body, (extra, status, body)
    # A rebinding page's POST names its own host: refused by the Host check first.
    status, _, _ = raw(ui, [f"Host: 127.0.0.1.evil.example:{port}"] + write_headers(ui)[1:] +
                       [f"Origin: http://127.0.0.1.evil.example:{port}"], b"{}", "POST",
                       "/api/queue/pause")
    assert status == 403
    assert ui.json("GET", "/api/queue")["paused"] is False  # nothing above changed it
    # The server's own pages, and clients that send no origin at all (curl, scripts).
    for extra in ([f"Origin: {own}"], [f"Origin: HTTP://127.0.0.1:{port}"],
                  ["Sec-Fetch-Site: same-origin", f"Referer: {own}/queue"], []):
        status, _, body = raw(ui, write_headers(ui) + extra, b"{}", "POST", "/api/queue/pause")
        assert status == 200, (extra, status, body)
    # Reading stays open to any origin of a loopback name (the browser keeps the answer).
    status, _, _ = raw(ui, [f"Host: 127.0.0.1:{port}", "Origin: http://evil.example"])
    assert status == 200


def test_token_server_checks_host_form_and_origin(emulated):
    cosmos = emulated
    ui = Ui(cosmos, "ui", "--bind", "0.0.0.0", "--port", "0")
    try:
        token = (cosmos.data_dir / "ui-token").read_text().strip()
        ui.token = token
        ui.json("GET", "/api/health")
        auth = f"Authorization: Bearer {token}"
        # Any well-formed name reaches a token server (it has a name on the network).
        assert raw(ui, [f"Host: cosmos.lan:{ui.port}", auth])[0] == 200
        assert raw(ui, [f"Host: 127.0.0.1:{ui.port}@evil", auth])[0] == 400
        assert raw(ui, [auth])[0] == 400
        hdrs = write_headers(ui) + [auth]
        status, _, body = raw(ui, hdrs + ["Origin: http://evil.example"], b"{}", "POST",
                              "/api/queue/pause")
        assert status == 403 and b"cross_origin" in body
        status, _, _ = raw(ui, hdrs + [f"Origin: http://127.0.0.1:{ui.port}"], b"{}", "POST",
                           "/api/queue/pause")
        assert status == 200
    finally:
        ui.stop()


def open_stream(ui):
    sock = connect(ui, timeout=20)
    sock.sendall(f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{ui.port}\r\n\r\n".encode())
    got = b""
    while b"connected" not in got:
        part = sock.recv(4096)
        assert part, got
        got += part
    assert got.startswith(b"HTTP/1.1 200"), got[:200]
    return sock


def test_event_streams_and_slow_senders_do_not_starve_the_api(web, input_set):
    _, ui = web
    streams, slow = [], []
    try:
        # More streams than the server had request threads, and slow header senders.
        for _ in range(300):
            streams.append(open_stream(ui))
        for i in range(50):
            sock = connect(ui)
            sock.sendall(f"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:{ui.port}\r\nX-{i}: ".encode())
            slow.append(sock)
        for _ in range(20):
            assert ui.json("GET", "/api/health")["token_required"] is False
        create_prompt(ui, input_set)
        assert ui.json("GET", "/api/prompts")["total"] == 1
        # Up to the cap more streams open; past it a clear 503 with Retry-After.
        for _ in range(200):
            streams.append(open_stream(ui))
        status, headers, body = raw(ui, [f"Host: 127.0.0.1:{ui.port}"], path="/api/events")
        assert status == 503 and headers["retry-after"] == "5", (status, body)
        assert b"event streams" in body
        assert ui.json("GET", "/api/health")["token_required"] is False
        # A closed stream gives its place back.
        streams.pop().close()
        deadline = time.time() + 30
        while True:
            sock = connect(ui)
            sock.sendall(f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{ui.port}\r\n\r\n".encode())
            first = sock.recv(12)  # "HTTP/1.1 200" (the stream itself never ends)
            sock.close()
            if not first.startswith(b"HTTP/1.1 503") or time.time() > deadline:
                break
            time.sleep(0.5)
        assert first.startswith(b"HTTP/1.1 200"), first
    finally:
        for sock in streams + slow:
            sock.close()


def test_slow_and_oversized_headers_are_cut_off(web):
    _, ui = web
    # One byte every 0.5 s keeps a per-read timeout happy forever; the header deadline does not.
    sock = connect(ui, timeout=5)
    sock.sendall(f"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:{ui.port}\r\nX-Slow: ".encode())
    started = time.time()
    answer = b""
    try:
        while time.time() - started < 40:
            sock.sendall(b"a")
            time.sleep(0.5)
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        answer = sock.recv(65536)
    except (ConnectionResetError, socket.timeout):
        pass
    sock.close()
    assert time.time() - started < 40, "the server kept reading a header sent byte by byte"
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer[:200]
    # Too large a header block (many lines short enough for each line limit), and too many.
    status, _, body = raw(ui, [f"Host: 127.0.0.1:{ui.port}"] + [f"X-{i}: {'a' * 1000}" for i in range(64)])
    assert status == 431 and b"exceed" in body
    status, _, _ = raw(ui, [f"Host: 127.0.0.1:{ui.port}"] + [f"X-{i}: a" for i in range(150)])
    assert status == 431
    assert ui.json("GET", "/api/health")["token_required"] is False


def peak_rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_request_bodies_are_capped_chunked_or_not(web, input_set):
    _, ui = web
    before = peak_rss_kib(ui.proc.pid)
    # 64 MiB chunked: refused with 413 once past the 8 MiB cap, never held whole.
    sock = connect(ui)
    head = "POST /api/prompts HTTP/1.1\r\n" + "".join(l + "\r\n" for l in write_headers(ui))
    sock.sendall(head.encode() + b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"100000\r\n" + b" " * 0x100000 + b"\r\n"
    try:
        for _ in range(64):
            sock.sendall(chunk)
        sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    status, _, body = read_response(sock)
    sock.close()
    assert status == 413 and b"exceeds" in body, (status, body[:300])
    grown = peak_rss_kib(ui.proc.pid) - before
    assert grown < 32 * 1024, f"peak memory grew by {grown} KiB for a refused body"
    # A Content-Length past the cap is refused before any of the body is read.
    status, _, _ = raw(ui, write_headers(ui) + ["Content-Length: 1073741824"], method="POST",
                       path="/api/prompts")
    assert status == 413
    # Framing that could smuggle a request, and encodings the server does not speak.
    status, _, _ = raw(ui, write_headers(ui) + ["Content-Length: 2", "Transfer-Encoding: chunked"],
                       b"0\r\n\r\n", "POST", "/api/prompts")
    assert status == 400
    status, _, _ = raw(ui, write_headers(ui) + ["Content-Length: 2", "Content-Length: 3"], b"{}",
                       "POST", "/api/prompts")
    assert status == 400
    status, _, _ = raw(ui, write_headers(ui) + ["Transfer-Encoding: gzip, chunked"], b"0\r\n\r\n",
                       "POST", "/api/prompts")
    assert status == 501
    # A chunked body within the cap is read as any other.
    text = ('{"prompt": "chunked harbour", "input_dir": "%s"}' % input_set).encode()
    body = b"".join(b"%x\r\n%s\r\n" % (len(text[i:i + 7]), text[i:i + 7])
                    for i in range(0, len(text), 7)) + b"0\r\n\r\n"
    status, _, reply = raw(ui, write_headers(ui) + ["Transfer-Encoding: chunked"], body, "POST",
                           "/api/prompts")
    assert status == 201 and b"chunked harbour" in reply, reply


def test_input_files_are_only_the_sets_videos_and_previews(web, input_set):
    _, ui = web
    pid = create_prompt(ui, input_set)["id"]
    for name in ("color.mp4", "depth.mp4", "segmentation.mp4"):
        status, _, body = ui.request("GET", f"/api/inputs/{pid}/files/{name}")
        assert status == 200 and body == (input_set / name).read_bytes(), name
    previews = input_set / "previews"
    previews.mkdir()
    (previews / "color.thumb.png").write_bytes(b"\x89PNG-thumb")
    status, _, body = ui.request("GET", f"/api/inputs/{pid}/files/previews/color.thumb.png")
    assert status == 200 and body == b"\x89PNG-thumb"
    # Everything else in (or reachable from) the folder.
    outside = input_set.parent / "outside.mp4"
    outside.write_bytes(b"SECRET-outside")
    (input_set / "notes.txt").write_bytes(b"SECRET-notes")
    (input_set / ".hidden.mp4").write_bytes(b"SECRET-hidden")
    (input_set / "extra.mp4").write_bytes(b"SECRET-extra")
    (previews / "notes.png").write_bytes(b"SECRET-preview")
    (input_set / "sub").mkdir()
    (input_set / "sub" / "color.mp4").write_bytes(b"SECRET-sub")
    os.symlink(outside, input_set / "link.mp4")
    os.symlink(outside, previews / "depth.thumb.png")
    for name in ("notes.txt", ".hidden.mp4", "extra.mp4", "link.mp4", "sub/color.mp4",
                 "sub%2Fcolor.mp4", "previews/notes.png", "previews/depth.thumb.png",
                 "previews%2Fcolor.thumb.png", "../outside.mp4", "%2e%2e/outside.mp4",
                 "..%2Foutside.mp4", "%2Fetc%2Fpasswd", "/etc/passwd", f"{input_set}/color.mp4",
                 "./color.mp4", "previews/../notes.txt", "color.mp4%00", "COLOR.MP4", ""):
        status, headers, body = ui.request("GET", f"/api/inputs/{pid}/files/{name}")
        assert status == 404, (name, status, body[:200])
        assert headers["Content-Type"].startswith("application/json"), name
        assert b"SECRET" not in body and b"input set" in body, (name, body)


def test_gallery_total_counts_exactly_what_it_lists(web, input_set):
    cosmos, ui = web
    pid = create_prompt(ui, input_set)["id"]
    video = cosmos.root / "out.mp4"
    video.write_bytes(b"video")
    db = sqlite3.connect(cosmos.data_dir / "cosmos.db")
    rows = [("succeeded", str(video))] * 5 + [("succeeded", None)] * 4 + [("failed", None)] * 2
    for i, (status, output) in enumerate(rows):
        db.execute("INSERT INTO runs (id, prompt_id, kind, status, params, created_at, updated_at,"
                   " progress, output_video) VALUES (?, ?, 'transfer', ?, '{}', ?, ?, 1.0, ?)",
                   (f"rs_{i:016x}", pid, status, f"2026-01-01T00:00:{i:02d}.000Z",
                    f"2026-01-01T00:00:{i:02d}.000Z", output))
    db.commit()
    db.close()
    seen = []
    for offset in range(0, 8, 2):
        page = ui.json("GET", f"/api/gallery?limit=2&offset={offset}")
        assert page["total"] == 5, page["total"]
        assert len(page["items"]) == min(2, max(0, 5 - offset)), (offset, page["items"])
        seen += [item["run"]["id"] for item in page["items"]]
    assert seen == [f"rs_{i:016x}" for i in (4, 3, 2, 1, 0)]
    # The deep link of a succeeded run without a video: nothing to show, and total says so.
    one = ui.json("GET", f"/api/gallery?run=rs_{6:016x}")
    assert one == {"items": [], "total": 0}
    assert ui.json("GET", f"/api/gallery?run=rs_{1:016x}")["total"] == 1
