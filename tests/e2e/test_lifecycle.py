"""Process-level behaviour: graceful shutdown with a stream in flight, and the CLI."""

import json
import socket
import subprocess
import threading
import time

from conftest import ROOT, SMALL_MODEL, WARD_BIN, WardProcess


def test_sigterm_lets_the_in_flight_stream_finish():
    server = WardProcess(SMALL_MODEL)
    body = json.dumps({"model": SMALL_MODEL, "messages": [{"role": "user", "content": "Tell me a story."}], "max_tokens": 64, "temperature": 0, "stream": True})
    received = []

    def stream():
        with socket.create_connection(("127.0.0.1", server.port), timeout=120) as sock:
            sock.sendall(
                f"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {len(body)}\r\n\r\n{body}".encode()
            )
            while chunk := sock.recv(4096):
                received.append(chunk)

    reader = threading.Thread(target=stream)
    reader.start()
    deadline = time.monotonic() + 120
    while b"data: " not in b"".join(received):
        assert time.monotonic() < deadline, "no token streamed"
        time.sleep(0.01)
    assert server.stop() == 0
    reader.join(timeout=60)
    assert b"data: [DONE]" in b"".join(received)


def run_cli(*args, timeout=300):
    return subprocess.run([WARD_BIN, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def test_one_shot_run_prints_an_answer():
    result = run_cli("run", SMALL_MODEL, "Say hello.", "--max-tokens", "8", "--temperature", "0")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def test_models_lists_the_store():
    result = run_cli("models", "--available")
    assert result.returncode == 0, result.stderr
    assert SMALL_MODEL in result.stdout
    assert "gemma3:270m" in result.stdout


def test_check_config_accepts_the_example_and_names_bad_keys(tmp_path):
    ok = run_cli("serve", "--check-config", "--config", str(ROOT / "config" / "ward.example.toml"))
    assert ok.returncode == 0, ok.stderr
    bad = tmp_path / "ward.toml"
    bad.write_text('[server]\nlisten = "not-an-address"\n')
    result = run_cli("serve", "--check-config", "--config", str(bad))
    assert result.returncode == 1
    assert "server.listen" in result.stderr


def test_unknown_model_is_a_clear_cli_error():
    result = run_cli("run", "no-such-model", "hi")
    assert result.returncode == 1
    assert "ward pull" in result.stderr


def test_help_explains_each_command():
    for command, needle in [("serve", "--listen"), ("pull", "hf:"), ("models", "--available"), ("run", "PROMPT")]:
        result = run_cli(command, "--help")
        assert result.returncode == 0
        assert needle in result.stdout


def test_interactive_run_keeps_the_conversation_until_bye():
    result = subprocess.run(
        [WARD_BIN, "run", SMALL_MODEL, "--max-tokens", "6", "--temperature", "0"],
        input="Hello there.\nAnd again.\n/bye\n",
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.count(">>> ") == 3
    # Each answer ends with a newline; both turns were answered.
    assert result.stdout.count("\n") >= 2 and result.stdout.strip()
