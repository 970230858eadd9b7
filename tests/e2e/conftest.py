"""End-to-end fixtures: the real `ward serve` binary on a free loopback port with a real model.

Environment (set by `cargo xtask ci`):
  WARD_BIN       path to the ward binary (default: target/debug/ward)
  WARD_HOME      Ward's home; its model store must already hold the models below
  WARD_E2E_MODEL        model for the client tests (default: qwen2.5-coder:1.5b)
  WARD_E2E_SMALL_MODEL  model for the shutdown and CLI tests (default: smollm2:135m)
"""

import os
import pathlib
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
WARD_BIN = os.environ.get("WARD_BIN", str(ROOT / "target" / "debug" / "ward"))
MODEL = os.environ.get("WARD_E2E_MODEL", "qwen2.5-coder:1.5b")
SMALL_MODEL = os.environ.get("WARD_E2E_SMALL_MODEL", "smollm2:135m")
READY_TIMEOUT_S = 300


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class WardProcess:
    """A `ward serve` child process; stopped with SIGTERM, as an operator would. With `model`
    None, the model (or the backends) come from the config named in `extra_args`; `api_key` is
    sent to /ready when auth is on; `tls_context` (an `ssl.SSLContext`) when it serves HTTPS."""

    def __init__(self, model, extra_args=(), env=None, api_key=None, tls_context=None):
        self.api_key = api_key
        self.tls_context = tls_context
        self.port = free_port()
        self.base_url = f"{'https' if tls_context else 'http'}://127.0.0.1:{self.port}"
        self.log_path = ROOT / "target" / f"e2e-ward-{self.port}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(self.log_path, "wb")
        model_args = ["--model", model] if model else []
        self.process = subprocess.Popen(
            [WARD_BIN, "serve", "--listen", f"127.0.0.1:{self.port}", *model_args, *extra_args],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
        )
        self.wait_ready()

    def wait_ready(self):
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"ward serve exited early; see {self.log_path}:\n{self.log_path.read_text()[-3000:]}")
            try:
                request = urllib.request.Request(self.base_url + "/ready")
                if self.api_key:
                    request.add_header("Authorization", f"Bearer {self.api_key}")
                with urllib.request.urlopen(request, timeout=2, context=self.tls_context) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"ward serve not ready after {READY_TIMEOUT_S}s; see {self.log_path}")

    def stop(self, timeout=60):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        return self.process.returncode


@pytest.fixture(scope="session")
def ward():
    server = WardProcess(MODEL)
    yield server
    assert server.stop() == 0, f"ward serve did not exit cleanly; see {server.log_path}"


@pytest.fixture(scope="session")
def model():
    return MODEL
