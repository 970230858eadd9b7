"""HTTPS: `ward serve` with a certificate and key (PEM) serves the official client over TLS, and
SIGHUP makes it present a renewed certificate without a restart or a dropped request."""

import hashlib
import signal
import ssl
import subprocess
import time
import urllib.request

import openai

from conftest import WardProcess
from test_audit import engine_config
from test_routing import RecordingCloud


def make_certificate(directory, name):
    """A self-signed certificate for 127.0.0.1, written as NAME.crt and NAME.key."""
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN=ward-test-{name}",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )
    return cert, key


def served_fingerprint(port):
    pem = ssl.get_server_certificate(("127.0.0.1", port))
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def fingerprint(cert_path):
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(cert_path.read_text())).hexdigest()


def test_https_serves_the_client_and_sighup_reloads_the_certificate(tmp_path):
    first_cert, first_key = make_certificate(tmp_path, "first")
    second_cert, second_key = make_certificate(tmp_path, "second")
    live_cert, live_key = tmp_path / "live.crt", tmp_path / "live.key"
    live_cert.write_bytes(first_cert.read_bytes())
    live_key.write_bytes(first_key.read_bytes())
    home = tmp_path / "home"
    home.mkdir()
    engine = RecordingCloud()
    context = ssl.create_default_context(cafile=str(first_cert))
    ward = WardProcess(
        None,
        ["--config", str(engine_config(tmp_path, engine))],
        env={"WARD_HOME": str(home), "WARD_TLS_CERT": str(live_cert), "WARD_TLS_KEY": str(live_key)},
        tls_context=context,
    )
    try:
        assert served_fingerprint(ward.port) == fingerprint(first_cert)
        client = openai.OpenAI(
            base_url=ward.base_url + "/v1", api_key="unused", http_client=openai.DefaultHttpxClient(verify=context)
        )
        answer = client.chat.completions.create(model="auto", messages=[{"role": "user", "content": "over TLS"}])
        assert answer.choices[0].message.content == "Echo: over TLS"

        # Plain HTTP on the TLS port is refused.
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{ward.port}/health", timeout=5) as response:
                plain_status = response.status
        except Exception:  # noqa: BLE001 - any refusal is right here
            plain_status = None
        assert plain_status != 200

        # A broken file on SIGHUP keeps the old certificate in service.
        live_key.write_text("not a key")
        ward.process.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert served_fingerprint(ward.port) == fingerprint(first_cert)

        live_cert.write_bytes(second_cert.read_bytes())
        live_key.write_bytes(second_key.read_bytes())
        ward.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while served_fingerprint(ward.port) != fingerprint(second_cert):
            assert time.monotonic() < deadline, "the renewed certificate was not picked up"
            time.sleep(0.1)
        renewed = openai.OpenAI(
            base_url=ward.base_url + "/v1",
            api_key="unused",
            http_client=openai.DefaultHttpxClient(verify=ssl.create_default_context(cafile=str(second_cert))),
        )
        assert renewed.chat.completions.create(model="auto", messages=[{"role": "user", "content": "renewed"}]).choices[0].message.content == "Echo: renewed"
    finally:
        assert ward.stop() == 0
        engine.stop()
