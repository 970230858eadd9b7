#!/usr/bin/env python3
"""Ward's own overhead, as Ward reports it and as an external load generator sees it.

An OpenAI-wire upstream on loopback answers every chat at once. `hey` (Debian package) sends the
same chat request straight to the upstream, then through `ward serve` (PHI scan, routing, audit
record committed before the answer). The external overhead is the mean latency through Ward
minus the mean latency direct; Ward's is the mean of its `ward_overhead_seconds` histogram over
the same calls (total minus upstream, from `GET /metrics`). Both come from one run.

    python3 bench/overhead.py [--requests 3000] [--concurrency 1,4] [--upstream-ms 0,2] [--out bench/overhead]

--upstream-ms makes the upstream think that long before each answer, as a model does.

Writes results.json and results.md under --out. WARD_BIN names the binary (default
target/release/ward, else target/debug/ward).
"""

import argparse
import csv
import io
import json
import os
import pathlib
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAT = {"model": "auto", "max_tokens": 16, "messages": [{"role": "user", "content": "What does BID stand for?"}]}
ANSWER = "Twice a day (bis in die)."


class Upstream:
    """Answers every POST with a short SSE stream and usage after `think` seconds, keeping
    connections alive."""

    def __init__(self, think=0.0):
        events = [
            {"choices": [{"index": 0, "delta": {"content": ANSWER}, "finish_reason": None}]},
            {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
            {"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 8}},
        ]
        stream = ("".join(f"data: {json.dumps(event)}\n\n" for event in events) + "data: [DONE]\n\n").encode()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                # Headers and body leave in two writes: without this, Nagle and delayed ACKs
                # add 40 ms to every answer.
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args):
                pass

            def do_GET(self):
                self.reply(b'{"object":"list","data":[]}', "application/json")

            def do_POST(self):
                self.rfile.read(int(self.headers.get("content-length", 0)))
                if think:
                    time.sleep(think)
                self.reply(stream, "text/event-stream")

            def reply(self, payload, content_type):
                self.send_response(200)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ward_binary():
    if os.environ.get("WARD_BIN"):
        return os.environ["WARD_BIN"]
    for profile in ("release", "debug"):
        candidate = ROOT / "target" / profile / "ward"
        if candidate.exists():
            return str(candidate)
    sys.exit("no ward binary: build one (cargo build --release) or set WARD_BIN")


class Ward:
    """`ward serve` in a home of its own, in front of `upstream`."""

    def __init__(self, upstream_url, home):
        config = pathlib.Path(home) / "ward.toml"
        config.write_text(
            f"""
[[backends]]
name = "engine"
kind = "openai"
locality = "local"
model = "echo"
urls = ["{upstream_url}/v1"]
health_check_seconds = 0

[[tiers]]
name = "local"
backends = ["engine"]

[routing]
phi = "local"
simple = "local"
moderate = "local"
complex = "local"
"""
        )
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log = open(pathlib.Path(home) / "ward.log", "wb")
        self.process = subprocess.Popen(
            [ward_binary(), "--config", str(config), "serve", "--listen", self.url.removeprefix("http://")],
            env={**os.environ, "WARD_HOME": str(home), "WARD_LOG": "warn"},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/ready", timeout=1):
                    return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        self.stop()
        # The home is a temporary directory that goes with the exit: show the log's tail here.
        tail = (pathlib.Path(home) / "ward.log").read_text(errors="replace")[-3000:]
        sys.exit(f"ward serve did not start:\n{tail}")

    def overhead(self):
        """(sum of seconds, count) of ward_overhead_seconds and ward_upstream_duration_seconds, over every label."""
        with urllib.request.urlopen(self.url + "/metrics", timeout=10) as response:
            text = response.read().decode()
        figures = {}
        for family in ("ward_overhead_seconds", "ward_upstream_duration_seconds"):
            for part in ("sum", "count"):
                pattern = rf"^{family}_{part}(?:{{[^}}]*}})? ([0-9.eE+-]+)$"
                figures[f"{family}_{part}"] = sum(float(value) for value in re.findall(pattern, text, re.M))
        return figures

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.log.close()


def hey(url, requests, concurrency):
    """Per-request latencies in seconds, from hey's CSV; every request must succeed."""
    output = subprocess.run(
        ["hey", "-n", str(requests), "-c", str(concurrency), "-m", "POST", "-T", "application/json",
         "-d", json.dumps(CHAT), "-o", "csv", url],
        capture_output=True, text=True, check=True, timeout=600,
    ).stdout
    rows = list(csv.DictReader(io.StringIO(output)))
    statuses = {row["status-code"] for row in rows}
    if statuses != {"200"} or len(rows) != requests:
        raise RuntimeError(f"hey got statuses {statuses} for {len(rows)} of {requests} requests")
    return [float(row["response-time"]) for row in rows]


def measure(requests, concurrency, upstream_ms):
    """One run at one concurrency: external and Ward's own mean overhead, in milliseconds."""
    if not shutil.which("hey"):
        raise RuntimeError("hey is not installed (apt install hey)")
    upstream = Upstream(upstream_ms / 1000.0)
    with tempfile.TemporaryDirectory(prefix="ward-overhead-") as home:
        ward = Ward(upstream.url, home)
        try:
            warm = max(50, requests // 10)
            hey(upstream.url + "/v1/chat/completions", warm, concurrency)
            hey(ward.url + "/v1/chat/completions", warm, concurrency)
            direct = hey(upstream.url + "/v1/chat/completions", requests, concurrency)
            before = ward.overhead()
            through = hey(ward.url + "/v1/chat/completions", requests, concurrency)
            after = ward.overhead()
        finally:
            ward.stop()
            upstream.stop()
    delta = {name: after[name] - before[name] for name in after}
    if delta["ward_overhead_seconds_count"] != requests:
        raise RuntimeError(f"Ward counted {delta['ward_overhead_seconds_count']} calls, hey sent {requests}")
    ms = lambda seconds: seconds * 1000.0  # noqa: E731
    return {
        "requests": requests,
        "concurrency": concurrency,
        "upstream_think_ms": upstream_ms,
        "direct_mean_ms": ms(statistics.fmean(direct)),
        "direct_p50_ms": ms(statistics.median(direct)),
        "through_ward_mean_ms": ms(statistics.fmean(through)),
        "through_ward_p50_ms": ms(statistics.median(through)),
        "external_overhead_mean_ms": ms(statistics.fmean(through) - statistics.fmean(direct)),
        "ward_overhead_mean_ms": ms(delta["ward_overhead_seconds_sum"] / requests),
        "ward_upstream_mean_ms": ms(delta["ward_upstream_duration_seconds_sum"] / requests),
    }


def markdown(runs, binary):
    lines = [
        "# Ward's overhead: its own histogram against an external load generator",
        "",
        "`python3 bench/overhead.py`: hey sends the same chat straight to a loopback upstream and",
        "through `ward serve`; external overhead = mean through Ward - mean direct; Ward's = the mean",
        "of `ward_overhead_seconds` over the same calls. Milliseconds.",
        "",
        f"Binary: `{pathlib.Path(binary).relative_to(ROOT) if pathlib.Path(binary).is_relative_to(ROOT) else pathlib.Path(binary).name}` "
        f"({'release' if 'release' in binary else 'debug'} build), {os.cpu_count()} cores.",
        "",
        "| concurrency | upstream think | requests | direct mean | through Ward mean | external overhead | Ward's overhead histogram | Ward's upstream histogram |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        lines.append(
            f"| {run['concurrency']} | {run['upstream_think_ms']:g} | {run['requests']} | {run['direct_mean_ms']:.3f} | {run['through_ward_mean_ms']:.3f} | "
            f"{run['external_overhead_mean_ms']:.3f} | {run['ward_overhead_mean_ms']:.3f} | {run['ward_upstream_mean_ms']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", default="1,4", help="comma-separated worker counts")
    parser.add_argument("--upstream-ms", default="0,2", help="comma-separated upstream think times, ms")
    parser.add_argument("--out", default=str(ROOT / "bench" / "overhead"))
    options = parser.parse_args()
    runs = [
        measure(options.requests, int(level), float(think))
        for think in options.upstream_ms.split(",")
        for level in options.concurrency.split(",")
    ]
    out = pathlib.Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    binary = ward_binary()
    (out / "results.json").write_text(json.dumps({"build": "release" if "release" in binary else "debug", "runs": runs}, indent=2) + "\n")
    (out / "results.md").write_text(markdown(runs, binary))
    print(markdown(runs, binary))


if __name__ == "__main__":
    main()
