"""Benchmark: the web UI's API while many event streams and slow header senders are open.

Starts `cosmos ui --port 0` on a fresh data dir, then measures GET /api/health requests answered
per second (one new connection each, sequential, for --seconds) three times in the same
invocation: with nothing else open (the reference), with --streams open /api/events streams,
and with those streams plus --slow clients that send half a header and stop. Prints each rate
and its ratio to the reference. A request that gets no answer within 5 s counts as failed (a
starved server answers none: rate 0). Usage: python3 bench/ui_streams.py [--cosmos build/cosmos]
"""
import argparse
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def open_stream(port):
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    got = b""
    try:
        while b"connected" not in got:
            part = sock.recv(4096)
            if not part:
                return sock, False
            got += part
    except OSError:
        return sock, False
    return sock, got.startswith(b"HTTP/1.1 200")


def health(port):
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(f"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                     "Connection: close\r\n\r\n".encode())
        data = b""
        while True:
            part = sock.recv(65536)
            if not part:
                break
            data += part
        sock.close()
        return data.startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def rate(port, seconds):
    ok = failed = 0
    end = time.time() + seconds
    while time.time() < end:
        if health(port):
            ok += 1
        else:
            failed += 1
    return ok / seconds, failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cosmos", default=str(Path(__file__).resolve().parent.parent / "build/cosmos"))
    ap.add_argument("--streams", type=int, default=300)
    ap.add_argument("--slow", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=5)
    args = ap.parse_args()
    work = tempfile.mkdtemp()
    env = dict(os.environ, COSMOS_DATA_DIR=f"{work}/data", HOME=work, NO_COLOR="1",
               XDG_CONFIG_HOME=f"{work}/.config")
    proc = subprocess.Popen([args.cosmos, "ui", "--port", "0"], env=env, stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True)
    port = None
    for line in proc.stderr:
        m = re.search(r"listening on http://[^:]+:(\d+)/", line)
        if m:
            port = int(m.group(1))
            break
    socks = []
    try:
        ref, _ = rate(port, args.seconds)
        print(f"reference (nothing open): {ref:.0f} requests/s")
        opened = 0
        for _ in range(args.streams):
            sock, ok = open_stream(port)
            socks.append(sock)
            opened += ok
            if not ok:
                break
        with_streams, failed = rate(port, args.seconds)
        print(f"{opened}/{args.streams} streams open: {with_streams:.0f} requests/s "
              f"({failed} unanswered), ratio {with_streams / ref:.2f}")
        for i in range(args.slow):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-{i}: ".encode())
            socks.append(sock)
        both, failed = rate(port, args.seconds)
        print(f"+ {args.slow} slow header senders: {both:.0f} requests/s ({failed} unanswered), "
              f"ratio {both / ref:.2f}")
    finally:
        for sock in socks:
            sock.close()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
