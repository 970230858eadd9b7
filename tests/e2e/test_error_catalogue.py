"""Bad requests over a real socket: each gets a clear error in its API's shape, and the server
stays healthy afterwards."""

import http.client
import json
import socket
import time

import pytest


def request(ward, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", ward.port, timeout=120)
    payload = body.encode() if isinstance(body, str) else body
    connection.request(method, path, body=payload, headers={"content-type": "application/json", **(headers or {})})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data


def chat_body(model, **extra):
    return json.dumps({"model": model, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2, **extra})


CASES = [
    ("POST", "/v1/chat/completions", "{not json", 400, "malformed JSON"),
    ("POST", "/v1/chat/completions", '{"model": "m", "messages": [', 400, "ends early"),
    ("POST", "/v1/chat/completions", '{"model": "m"}', 400, "messages"),
    ("POST", "/v1/chat/completions", '{"model": "m", "messages": [{"role": "user", "content": 5}]}', 400, "messages[0].content"),
    ("POST", "/v1/chat/completions", chat_body("no-such-model"), 404, "not found"),
    ("GET", "/v1/chat/completions", None, 405, "not allowed"),
    ("DELETE", "/v1/models", None, 405, "not allowed"),
    ("GET", "/v1/unknown", None, 404, "no route"),
]


@pytest.mark.parametrize("method,path,body,status,needle", CASES)
def test_openai_errors(ward, method, path, body, status, needle):
    got, data = request(ward, method, path, body)
    assert got == status, data
    error = json.loads(data)["error"]
    assert needle in error["message"]
    assert set(error) == {"message", "type", "param", "code"}


@pytest.mark.parametrize(
    "path,body,status",
    [
        ("/api/chat", "[1, 2", 400),
        ("/api/chat", '{"model": "no-such-model", "messages": [{"role": "user", "content": "x"}]}', 404),
        ("/api/generate", '{"model": "no-such-model", "prompt": "x"}', 404),
        ("/api/show", '{"model": "no-such-model"}', 404),
    ],
)
def test_ollama_errors(ward, path, body, status):
    got, data = request(ward, "POST", path, body)
    assert got == status, data
    assert isinstance(json.loads(data)["error"], str)


def test_oversized_body_is_refused_with_413(ward, model):
    big = json.dumps({"model": model, "messages": [{"role": "user", "content": "a" * (5 * 1024 * 1024)}]})
    got, data = request(ward, "POST", "/v1/chat/completions", big)
    assert got == 413
    assert "limit" in json.loads(data)["error"]["message"]


def test_prompt_longer_than_the_context_is_a_400(ward, model):
    long_prompt = "word " * 40000
    got, data = request(ward, "POST", "/v1/chat/completions", json.dumps({"model": model, "messages": [{"role": "user", "content": long_prompt}]}))
    assert got == 400
    assert "context window" in json.loads(data)["error"]["message"]


def test_truncated_request_body_does_not_hurt_the_server(ward, model):
    with socket.create_connection(("127.0.0.1", ward.port), timeout=10) as sock:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{\"model\": ")
    assert_healthy(ward, model)


def test_client_leaving_mid_stream_frees_the_engine(ward, model):
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "Write a very long story."}], "max_tokens": 2000, "stream": True})
    with socket.create_connection(("127.0.0.1", ward.port), timeout=60) as sock:
        sock.sendall(
            f"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n{body}".encode()
        )
        received = b""
        while received.count(b"data: ") < 3:
            received += sock.recv(4096)
    # Had the 2000-token generation gone on, this short request would wait behind it.
    started = time.monotonic()
    assert_healthy(ward, model)
    assert time.monotonic() - started < 30


def assert_healthy(ward, model):
    got, _ = request(ward, "GET", "/health")
    assert got == 200
    got, data = request(ward, "POST", "/v1/chat/completions", chat_body(model))
    assert got == 200, data
