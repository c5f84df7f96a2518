"""/metrics scraped by a real Prometheus (Debian's package, started here on loopback) while
`cosmos serve` works a queue on the emulator: queries through Prometheus's HTTP API return the
run counts by status and model and the GPU utilisation series of the host's GPUs; the format
is what Prometheus accepts (it would mark the target down otherwise), and the endpoint follows
the API's access rules (a token off loopback)."""
import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from conftest import wait_for, write_config
from test_web_api import Ui

pytestmark = pytest.mark.skipif(shutil.which("prometheus") is None,
                                reason="prometheus not installed (scripts/install-deps.sh)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Prometheus:
    def __init__(self, root, target_port, token_file=None):
        self.port = free_port()
        root.mkdir(parents=True, exist_ok=True)
        auth = ""
        if token_file:
            auth = f"    authorization:\n      credentials_file: {token_file}\n"
        (root / "prometheus.yml").write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            "scrape_configs:\n  - job_name: cosmos\n" + auth +
            f"    static_configs:\n      - targets: ['127.0.0.1:{target_port}']\n")
        self.log = open(root / "prometheus.log", "w")
        self.proc = subprocess.Popen(
            ["prometheus", f"--config.file={root / 'prometheus.yml'}",
             f"--storage.tsdb.path={root / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while True:
            try:
                self.get("/-/ready")
                return
            except OSError:
                assert time.time() < deadline and self.proc.poll() is None, "prometheus never ready"
                time.sleep(0.2)

    def get(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
            return r.read()

    def query(self, expr):
        body = json.loads(self.get("/api/v1/query?" + urllib.parse.urlencode({"query": expr})))
        assert body["status"] == "success", body
        return body["data"]["result"]

    def target_health(self):
        body = json.loads(self.get("/api/v1/targets"))
        return [(t["health"], t.get("lastError", "")) for t in body["data"]["activeTargets"]]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


def test_prometheus_scrapes_runs_and_gpu_utilisation_during_a_queue_run(emulated, input_set,
                                                                        tmp_path):
    cosmos = emulated
    cosmos.config = write_config(cosmos, cosmos.emulator_dir,
                                 extra_env={"COSMOS_EMULATOR_TIME_SCALE": "0.3",
                                            "COSMOS_EMULATOR_GPUS": "2"})
    pid = cosmos.json("create", "prompt", "harbour at dawn", input_set)["id"]
    runs = [q["run"] for q in cosmos.json("inference", pid, pid, pid, pid, "--queue")]
    serve = Ui(cosmos, "serve", "--port", "0", "--poll", "0.1", "--probe-every", "1")
    prom = None
    try:
        prom = Prometheus(tmp_path / "prom", serve.port)
        wait_for("the target up", lambda: prom.query('up{job="cosmos"} == 1'))
        # While the runs go: the GPUs the runs hold read busy through Prometheus.
        busy = wait_for("a busy GPU", lambda: prom.query(
            'cosmos_gpu_utilization_ratio{host="local"} > 0.5'))
        assert {r["metric"]["gpu"] for r in busy} <= {"0", "1"}
        wait_for("the runs finished", lambda: all(
            cosmos.json("show", r)["status"] in ("succeeded", "failed") for r in runs), 300)
        succeeded = wait_for("4 succeeded runs", lambda: [
            r for r in prom.query('cosmos_runs{status="succeeded",model="transfer1"}')
            if r["value"][1] == "4"])
        assert succeeded[0]["metric"]["job"] == "cosmos"
        assert wait_for("the queue drained", lambda: [
            r for r in prom.query('cosmos_queue_jobs{state="queued"}') if r["value"][1] == "0"])
        loads = {cosmos.json("show", r).get("batch_id") or r for r in runs}  # a batch: one load
        assert prom.query("cosmos_model_loads_total")[0]["value"][1] == str(len(loads))
        histogram = prom.query('cosmos_run_duration_seconds_count{model="transfer1"}')
        assert histogram[0]["value"][1] == "4"
        # Both GPUs have a series, and over the run their utilisation was high and then 0.
        series = prom.query("max_over_time(cosmos_gpu_utilization_ratio[5m])")
        assert {r["metric"]["gpu"] for r in series} == {"0", "1"}, series
        assert all(float(r["value"][1]) >= 0.88 for r in series), series
        assert prom.query("cosmos_gpu_memory_total_bytes")[0]["value"][1] == str(81559 << 20)
        assert prom.query('cosmos_host_up{host="local"}')[0]["value"][1] == "1"
        # No run id ever became a label.
        names = json.loads(prom.get("/api/v1/labels"))["data"]
        assert set(names) <= {"__name__", "instance", "job", "status", "model", "state", "host",
                              "gpu", "le", "version"}, names
        assert [h for h, _ in prom.target_health()] == ["up"], prom.target_health()
    finally:
        if prom:
            prom.stop()
        serve.stop()


def test_metrics_follow_the_api_access_rules(emulated, tmp_path):
    # Off loopback the token is required: Prometheus scrapes with it from a credentials file;
    # without it the scrape is refused (401) and the target reads down.
    cosmos = emulated
    cosmos.config = write_config(cosmos, cosmos.emulator_dir)
    ui = Ui(cosmos, "ui", "--port", "0", "--bind", "0.0.0.0")
    proms = []
    try:
        status, headers, body = ui.request("GET", "/metrics")
        assert status == 401, (status, body)
        assert b"cosmos_runs" not in body
        token_file = cosmos.data_dir / "ui-token"
        ui.token = token_file.read_text().strip()
        status, headers, body = ui.request("GET", "/metrics")
        assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
        assert b"# TYPE cosmos_runs gauge" in body
        assert ui.token.encode() not in body
        with_token = Prometheus(tmp_path / "with", ui.port, token_file=token_file)
        proms.append(with_token)
        without = Prometheus(tmp_path / "without", ui.port)
        proms.append(without)
        wait_for("scraped with the token", lambda: with_token.query('up{job="cosmos"} == 1'))
        wait_for("refused without it", lambda: [
            e for h, e in without.target_health() if h == "down" and "401" in e])
    finally:
        for p in proms:
            p.stop()
        ui.stop()
