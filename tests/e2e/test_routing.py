"""End to end: Ward as a gateway in front of a real local engine (a second `ward serve` running
the model) and a recording OpenAI-wire "cloud" on loopback, driven by the official clients.

It proves, through real sockets and real generation: PHI goes to the local engine and never to the
cloud, clean complex work goes to the cloud and simple work stays local, the headers say so, a PHI
request naming the cloud model is refused, `deidentify` sends only surrogates and the client sees
its own values, and PHI fails closed when the local engine is gone.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import ollama
import openai
import pytest

from conftest import WardProcess, free_port

CLOUD_KEY = "sk-e2e-cloud-key"
COMPLEX = (
    "Give a differential diagnosis for exertional chest pain with a normal ECG, weigh the "
    "workup options, and justify each step considering chronic kidney disease."
)
SIMPLE = "What does BID stand for?"
# Synthetic PHI: the values the cloud must never receive.
PHI_CASES = [
    ("Patient Maria Castellano, MRN 48213377, reports chest pain. Summarise.", ["Castellano", "48213377"]),
    ("Summarise: Rahul Lindqvist, DOB 03/05/1961, call back at (617) 555-0142.", ["Lindqvist", "03/05/1961", "555-0142"]),
    ("Draft a note for Keisha Oyelaran, SSN 219-09-9999, seen at 14 Elm Street, Salem.", ["Oyelaran", "219-09-9999", "14 Elm Street"]),
]


class RecordingCloud:
    """An OpenAI-wire upstream that records every request and streams back "Echo: " plus the
    last user message it received, in a few chunks."""

    def __init__(self):
        self.requests = []
        cloud = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self.reply(200, "application/json", json.dumps({"object": "list", "data": []}).encode())

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
                cloud.requests.append({"path": self.path, "authorization": self.headers.get("authorization"), "body": body})
                request = json.loads(body)
                last_user = [m["content"] for m in request["messages"] if m["role"] == "user"][-1]
                text = "Echo: " + last_user
                pieces = [text[i : i + 7] for i in range(0, len(text), 7)]
                events = [{"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]} for piece in pieces]
                events.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                events.append({"choices": [], "usage": {"prompt_tokens": 20, "completion_tokens": len(pieces)}})
                stream = "".join(f"data: {json.dumps(event)}\n\n" for event in events) + "data: [DONE]\n\n"
                self.reply(200, "text/event-stream", stream.encode())

            def reply(self, status, content_type, payload):
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def bodies(self):
        return [request["body"] for request in self.requests]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def gateway_config(engine_url, cloud_url, deidentify=False):
    """A two-axis config: the engine is local, the cloud is cloud; with `deidentify`, every
    request goes to the cloud tier, pseudonymised."""
    backends = f'''
[[backends]]
name = "engine"
kind = "openai"
locality = "local"
model = "{engine_url[1]}"
urls = ["{engine_url[0]}/v1"]
first_token_timeout_seconds = 240
health_check_seconds = 0

[[backends]]
name = "frontier"
kind = "openai"
locality = "cloud"
model = "frontier-model"
urls = ["{cloud_url}/v1"]
api_key_env = "WARD_E2E_CLOUD_KEY"
'''
    if deidentify:
        return backends + '''
[[tiers]]
name = "private-cloud"
backends = ["frontier"]
deidentify = true

[routing]
phi = "private-cloud"
simple = "private-cloud"
moderate = "private-cloud"
complex = "private-cloud"
'''
    return backends + '''
[[tiers]]
name = "private"
backends = ["engine"]

[[tiers]]
name = "small"
backends = ["engine"]

[[tiers]]
name = "frontier"
backends = ["frontier"]

[routing]
phi = "private"
simple = "small"
moderate = "small"
complex = "frontier"
'''


def start_gateway(tmp_path_factory, config):
    path = tmp_path_factory.mktemp("gateway") / "ward.toml"
    path.write_text(config)
    return WardProcess(None, ["--config", str(path)], env={"WARD_E2E_CLOUD_KEY": CLOUD_KEY})


@pytest.fixture(scope="module")
def cloud():
    server = RecordingCloud()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gateway(ward, model, cloud, tmp_path_factory):
    server = start_gateway(tmp_path_factory, gateway_config((ward.base_url, model), cloud.base_url))
    yield server
    assert server.stop() == 0


def client_of(server):
    return openai.OpenAI(base_url=server.base_url + "/v1", api_key="unused", max_retries=0, timeout=300)


def assert_cloud_never_saw(cloud, values):
    for body in cloud.bodies():
        for value in values:
            assert value not in body, "a PHI value reached the cloud"


def test_phi_goes_to_the_real_local_engine_and_never_to_the_cloud(gateway, cloud):
    client = client_of(gateway)
    for index, (message, values) in enumerate(PHI_CASES):
        messages = [{"role": "user", "content": message}]
        if index % 2 == 0:
            raw = client.chat.completions.with_raw_response.create(model="auto", messages=messages, max_tokens=8, temperature=0)
            text = raw.parse().choices[0].message.content
        else:
            raw = client.chat.completions.with_raw_response.create(model="auto", messages=messages, max_tokens=8, temperature=0, stream=True)
            text = "".join(chunk.choices[0].delta.content or "" for chunk in raw.parse() if chunk.choices)
        assert raw.headers["x-ward-tier"] == "private"
        assert raw.headers["x-ward-backend"] == "engine"
        assert raw.headers["x-ward-phi"] != "none"
        assert text.strip(), "the real engine answered"
    # PHI in an earlier turn, in the system message, through the Ollama client.
    reply = ollama.Client(host=gateway.base_url, timeout=300).chat(
        model="auto",
        messages=[
            {"role": "system", "content": "Patient: Ingrid Nakamura, MRN 77120934."},
            {"role": "user", "content": "Say hello."},
        ],
        options={"num_predict": 8, "temperature": 0},
    )
    assert reply.message.content.strip()
    assert_cloud_never_saw(cloud, [value for _, values in PHI_CASES for value in values] + ["Nakamura", "77120934"])


def test_clean_complex_work_goes_to_the_cloud_and_simple_work_stays_local(gateway, cloud):
    client = client_of(gateway)
    before = len(cloud.requests)
    raw = client.chat.completions.with_raw_response.create(model="auto", messages=[{"role": "user", "content": COMPLEX}])
    assert (raw.headers["x-ward-tier"], raw.headers["x-ward-backend"], raw.headers["x-ward-phi"]) == ("frontier", "frontier", "none")
    assert raw.headers["x-ward-complexity"] == "complex"
    assert raw.parse().choices[0].message.content == "Echo: " + COMPLEX
    sent = cloud.requests[before]
    assert sent["authorization"] == f"Bearer {CLOUD_KEY}"
    assert json.loads(sent["body"])["model"] == "frontier-model"
    # The Ollama client streams from the OpenAI-wire cloud, translated to NDJSON.
    streamed = "".join(part.message.content for part in ollama.Client(host=gateway.base_url, timeout=300).chat(model="auto", messages=[{"role": "user", "content": COMPLEX}], stream=True))
    assert streamed == "Echo: " + COMPLEX

    raw = client.chat.completions.with_raw_response.create(model="auto", messages=[{"role": "user", "content": SIMPLE}], max_tokens=8, temperature=0)
    assert (raw.headers["x-ward-tier"], raw.headers["x-ward-backend"]) == ("small", "engine")
    assert raw.parse().choices[0].message.content.strip()
    assert len(cloud.requests) == before + 2


def test_a_phi_request_naming_the_cloud_model_is_refused(gateway, cloud):
    before = len(cloud.requests)
    with pytest.raises(openai.PermissionDeniedError) as refused:
        client_of(gateway).chat.completions.create(model="frontier-model", messages=[{"role": "user", "content": PHI_CASES[0][0]}])
    assert refused.value.code == "policy_violation"
    assert "Castellano" not in str(refused.value)
    assert len(cloud.requests) == before


def test_deidentify_sends_only_surrogates_and_the_client_sees_its_own_values(cloud, tmp_path_factory):
    gateway = start_gateway(tmp_path_factory, gateway_config(("http://127.0.0.1:9", "unused"), cloud.base_url, deidentify=True))
    try:
        client = client_of(gateway)
        before = len(cloud.requests)
        for message, _ in PHI_CASES:
            raw = client.chat.completions.with_raw_response.create(model="auto", messages=[{"role": "user", "content": message}])
            assert raw.headers["x-ward-backend"] == "frontier" and raw.headers["x-ward-phi"] != "none"
            assert raw.parse().choices[0].message.content == "Echo: " + message
            stream = client.chat.completions.create(model="auto", messages=[{"role": "user", "content": message}], stream=True)
            assert "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices) == "Echo: " + message
        assert len(cloud.requests) == before + 2 * len(PHI_CASES)
        assert_cloud_never_saw(cloud, [value for _, values in PHI_CASES for value in values])
    finally:
        assert gateway.stop() == 0


def test_phi_fails_closed_when_the_local_engine_is_gone(cloud, tmp_path_factory):
    dead = f"http://127.0.0.1:{free_port()}"
    gateway = start_gateway(tmp_path_factory, gateway_config((dead, "gone-model"), cloud.base_url))
    try:
        before = len(cloud.requests)
        with pytest.raises(openai.APIStatusError) as failed:
            client_of(gateway).chat.completions.create(model="auto", messages=[{"role": "user", "content": COMPLEX + " " + PHI_CASES[1][0]}])
        assert failed.value.status_code == 503
        assert "never sent to a cloud backend" in failed.value.message
        assert len(cloud.requests) == before
    finally:
        assert gateway.stop() == 0
