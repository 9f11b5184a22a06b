#!/usr/bin/env python3
"""sluiced's /metrics as Prometheus itself reads it: promtool's linter
passes the exposition of a sluiced with backends and a (fake) data plane,
and a real Prometheus server, scraping it every second, answers a query
through its HTTP API with sluice's series. Both come from Debian's
prometheus package (scripts/setup.sh)."""
import json
import os
import shutil
import subprocess
import tempfile
import urllib.parse
import urllib.request

from sluicetest import Backend, Sluiced, check, free_port, run, say, spawn, wait_until

FAKE_DP = os.environ["FAKE_DP"]
BACKENDS = ["127.0.0.61", "127.0.0.62"]


def start_sluiced(name):
    """A sluiced with two healthy HTTP backends and two fake lcores, so that
    every family it exports has samples."""
    port = free_port()
    backends = Backend(BACKENDS, port)
    d = Sluiced(name)
    d.write_config({
        "source": {"ipv4": "192.0.2.1"}, "nexthop_mac": "02:00:5e:00:53:01",
        "vips": [{"address": "10.0.0.10", "port": 80, "table_size": 1009,
                  "health": {"type": "http", "path": "/healthz", "port": port,
                             "interval_ms": 200, "timeout_ms": 100},
                  "backends": [{"address": a} for a in BACKENDS]}]})
    d.start()
    dp = spawn([FAKE_DP, d.instance, "2"], stdout=subprocess.PIPE)
    check(dp.stdout.readline().strip() == b"ready", "fake_dp did not start")
    wait_until(lambda: d.ctl_ok("status")["dataplane"]["alive"], 5, "the data plane")
    wait_until(lambda: "sluice_dataplane_heartbeat_age_seconds " in d.metrics(), 5,
               "the heartbeat in /metrics")
    return d, backends, dp


def query(port, q):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": q})
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            body = json.load(r)
    except OSError:
        return None
    check(body.get("status") == "success", f"{q}: {body}")
    return body["data"]["result"]


def main():
    promtool, prometheus = shutil.which("promtool"), shutil.which("prometheus")
    check(promtool and prometheus, "promtool and prometheus missing: run scripts/setup.sh")
    d, _, _ = start_sluiced("prom")

    text = d.metrics()
    r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=30)
    check(r.returncode == 0, f"promtool check metrics: {r.stdout}{r.stderr}")
    say(f"promtool check metrics: {len(text.splitlines())} lines, no problem")

    tmp = tempfile.mkdtemp(prefix="sluice-prom-")
    try:
        conf = os.path.join(tmp, "prometheus.yml")
        with open(conf, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: sluice\n    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{d.metrics_port}']\n")
        port = free_port()
        log = open(os.path.join(d.dir, "prometheus.log"), "w")
        prom = spawn([prometheus, f"--config.file={conf}",
                      f"--storage.tsdb.path={os.path.join(tmp, 'data')}",
                      f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                     stdout=log, stderr=log)
        log.close()
        series, secs = wait_until(lambda: prom.poll() is None and query(port, "sluice_backend_up"),
                                  60, "Prometheus to scrape sluice_backend_up", interval=0.5)
        check(prom.poll() is None, f"prometheus exited with {prom.returncode}")
        got = sorted((s["metric"]["vip"], s["metric"]["backend"], s["value"][1]) for s in series)
        say(f"Prometheus answered after {secs:.1f} s: {got}")
        check([b for _, b, _ in got] == BACKENDS and all(v == "1" for *_, v in got),
              f"sluice_backend_up through Prometheus: {got}")
        up = query(port, 'up{job="sluice"}')
        check(up and up[0]["value"][1] == "1", f"the scrape target is not up: {up}")
        # The histogram's buckets and the data plane's state, as stored.
        h = query(port, "count(sluice_publish_latency_seconds_bucket)")
        check(h and int(h[0]["value"][1]) > 2, f"publish latency buckets: {h}")
        dp = query(port, "sluice_dataplane_up")
        check(dp and dp[0]["value"][1] == "1", f"sluice_dataplane_up: {dp}")
        prom.terminate()
        check(prom.wait(timeout=30) == 0, f"prometheus stopped with {prom.returncode}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    check(d.stop() == 0, "clean stop")


if __name__ == "__main__":
    run(main)
