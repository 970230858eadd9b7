"""`ward pull` from the command line: a hub imitation on loopback and a local file, into a fresh
store. (PyPI pulls run in CI's set-up, which fetches the test models with `ward pull`.)"""

import hashlib
import http.server
import os
import struct
import subprocess
import threading

import pytest

from conftest import ROOT, WARD_BIN


def tiny_gguf(architecture=b"llama", context_length=2048):
    """A header-only GGUF: version 3, no tensors, the two keys Ward requires."""
    def string(value):
        return struct.pack("<Q", len(value)) + value

    kv = string(b"general.architecture") + struct.pack("<I", 8) + string(architecture)
    kv += string(architecture + b".context_length") + struct.pack("<I", 4) + struct.pack("<I", context_length)
    return b"GGUF" + struct.pack("<IQQ", 3, 0, 2) + kv + b"\0" * 4096


@pytest.fixture()
def hub():
    payload = tiny_gguf()
    digest = hashlib.sha256(payload).hexdigest()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_HEAD(self):
            if self.path != "/acme/tiny-GGUF/resolve/main/tiny-q4.gguf":
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(302)
            self.send_header("location", "/cdn/tiny-q4.gguf")
            self.send_header("x-linked-etag", f'"{digest}"')
            self.send_header("x-linked-size", str(len(payload)))
            self.end_headers()

        def do_GET(self):
            if self.path in ("/cdn/tiny-q4.gguf", "/acme/tiny-GGUF/resolve/main/tiny-q4.gguf"):
                self.send_response(200)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            else:
                self.send_response(404)
                self.end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", digest
    server.shutdown()


def ward(home, *args, endpoint=None):
    env = dict(os.environ, WARD_HOME=str(home))
    if endpoint:
        env["WARD_HF_ENDPOINT"] = endpoint
    return subprocess.run([WARD_BIN, *args], capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)


def test_pull_from_the_hub_and_from_a_file(tmp_path, hub):
    endpoint, digest = hub
    result = ward(tmp_path, "pull", "hf:acme/tiny-GGUF/tiny-q4.gguf", endpoint=endpoint)
    assert result.returncode == 0, result.stderr
    assert digest in result.stdout
    local = tmp_path / "notes-model.gguf"
    local.write_bytes(tiny_gguf(context_length=4096))
    result = ward(tmp_path, "pull", f"file:{local}", "--name", "clinic-model:1b")
    assert result.returncode == 0, result.stderr
    listing = ward(tmp_path, "models").stdout
    assert "tiny-q4" in listing and "clinic-model:1b" in listing and "4096" in listing


def test_bad_pulls_say_what_to_fix(tmp_path, hub):
    endpoint, _ = hub
    missing = ward(tmp_path, "pull", "hf:acme/tiny-GGUF/absent.gguf", endpoint=endpoint)
    assert missing.returncode == 1 and "404" in missing.stderr
    not_gguf = tmp_path / "notes.txt"
    not_gguf.write_text("not a model")
    refused = ward(tmp_path, "pull", f"file:{not_gguf}")
    assert refused.returncode == 1 and "GGUF" in refused.stderr
    wrong_hash = ward(tmp_path, "pull", "hf:acme/tiny-GGUF/tiny-q4.gguf", "--sha256", "0" * 64, endpoint=endpoint)
    assert wrong_hash.returncode == 1 and "sha256" in wrong_hash.stderr
    bad_ref = ward(tmp_path, "pull", "ftp:whatever")
    assert bad_ref.returncode == 1 and "pypi:" in bad_ref.stderr
    assert "no models" in ward(tmp_path, "models").stdout
