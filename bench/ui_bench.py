"""Times the web UI server (bench/ui.sh fills the database first).

Server time is measured as a client on loopback sees it: one new HTTP connection per request
(as a browser opening the page), N requests per endpoint, median and p95. References in the same
invocation:
  - python's http.server serving the same bytes from a file (what a static server costs here);
  - `cosmos list runs --json --limit 50` on the same database as a whole process (the CLI).
SSE latency: a client holds /api/events?run=ID open; the bench appends a line to that running
run's run.log (one write) and measures until the `log` event carrying it arrives; 50 lines.
"""
import argparse
import http.client
import http.server
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def get(port, path):
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    res = conn.getresponse()
    body = res.read()
    conn.close()
    assert res.status == 200, (path, res.status, body[:200])
    return (time.perf_counter() - t0) * 1000, body


def time_get(port, path, n):
    get(port, path)  # warm up
    times = [get(port, path)[0] for _ in range(n)]
    return statistics.median(times), pct(times, 95)


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cosmos", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--running", required=True, help="a running run whose run.log is appended")
    ap.add_argument("--requests", type=int, default=int(os.environ.get("BENCH_REQUESTS", 100)))
    ap.add_argument("--lines", type=int, default=50)
    args = ap.parse_args()
    env = dict(os.environ)
    proc = subprocess.Popen([args.cosmos, "ui", "--port", "0"], env=env, stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True)
    try:
        line = proc.stderr.readline()
        m = re.search(r"listening on http://[^:]+:(\d+)/", line)
        assert m, line
        port = int(m.group(1))
        threading.Thread(target=lambda: proc.stderr.read(), daemon=True).start()

        # Reference server: the same bytes as static files.
        ref_dir = Path(args.data_dir) / "bench-static"
        ref_dir.mkdir(exist_ok=True)
        endpoints = [("GET / (runs page shell)", "/", "index.html"),
                     ("GET /api/runs?limit=50", "/api/runs?limit=50", "runs.json"),
                     ("GET /api/runs?status=failed&host=gpu0&limit=50",
                      "/api/runs?status=failed&host=gpu0&limit=50", "failed.json"),
                     ("GET /api/runs?q=guardrail&since=2026-01-01T01:00:00.000Z&limit=50",
                      "/api/runs?q=guardrail&since=2026-01-01T01:00:00.000Z&limit=50", "q.json")]
        for _, path, name in endpoints:
            _, body = get(port, path)
            (ref_dir / name).write_bytes(body)
        total = json.loads((ref_dir / "runs.json").read_text())["total"]
        handler = lambda *a, **kw: Quiet(*a, directory=str(ref_dir), **kw)  # noqa: E731
        static = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=static.serve_forever, daemon=True).start()
        sport = static.server_address[1]

        print(f"database: {total} runs; {args.requests} requests per endpoint, new connection each")
        print(f"{'endpoint':62} {'median ms':>9} {'p95 ms':>7} {'static ms':>9} {'ratio':>6}  target")
        for label, path, name in endpoints:
            med, p95 = time_get(port, path, args.requests)
            smed, _ = time_get(sport, "/" + name, args.requests)
            ok = "yes" if p95 < 200 else "NO"
            print(f"{label:62} {med:9.2f} {p95:7.2f} {smed:9.2f} {med / smed:6.2f}  < 200 ms: {ok}")
        static.shutdown()

        cli = []
        for _ in range(10):
            t0 = time.perf_counter()
            subprocess.run([args.cosmos, "list", "runs", "--json", "--limit", "50"], env=env,
                           stdout=subprocess.DEVNULL, check=True)
            cli.append((time.perf_counter() - t0) * 1000)
        med_api, _ = time_get(port, "/api/runs?limit=50", 20)
        print(f"{'reference: cosmos list runs --json --limit 50 (process)':62} "
              f"{statistics.median(cli):9.2f} {pct(cli, 95):7.2f} {'':9} "
              f"{med_api / statistics.median(cli):6.2f}  (API / CLI)")

        # SSE latency.
        log = Path(args.data_dir) / "runs" / args.running / "run.log"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", f"/api/events?run={args.running}")
        res = conn.getresponse()
        assert res.status == 200
        received = {}
        lock = threading.Condition()

        def reader():
            try:
                read_events()
            except (OSError, ValueError):  # the stream is closed at the end
                pass

        def read_events():
            event = None
            for raw in res.fp:
                text = raw.decode().rstrip("\n")
                if text.startswith("event: "):
                    event = text[7:]
                elif text.startswith("data: ") and event == "log":
                    now = time.perf_counter()
                    data = json.loads(text[6:])
                    with lock:
                        for token in re.findall(r"bench-line-(\d+)", data["text"]):
                            received[int(token)] = now
                        lock.notify_all()

        threading.Thread(target=reader, daemon=True).start()
        time.sleep(0.5)  # the stream is open and the hub tails the log
        lat = []
        with open(log, "a") as out:
            for i in range(args.lines):
                t0 = time.perf_counter()
                out.write(f"bench-line-{i} step {i}/{args.lines} loss=0.123\n")
                out.flush()
                with lock:
                    lock.wait_for(lambda: i in received, timeout=5)
                    assert i in received, f"line {i} never arrived"
                    lat.append((received[i] - t0) * 1000)
                # Lines arrive at arbitrary moments of the server's poll period.
                time.sleep(random.uniform(0.01, 0.06))
        conn.close()
        ok = "yes" if pct(lat, 95) < 100 else "NO"
        print(f"{'run.log line -> SSE log event (' + str(args.lines) + ' lines)':62} "
              f"{statistics.median(lat):9.2f} {pct(lat, 95):7.2f} {'':9} {'':6}  < 100 ms: {ok}")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
