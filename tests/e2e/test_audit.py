"""API keys and the audit log, end to end: the real `ward serve` and `ward keys` / `ward audit`
commands, the official clients, a fast OpenAI-wire engine on loopback, and the audit store in
SQLite and (when WARD_TEST_POSTGRES_URL names a server, as in CI) PostgreSQL."""

import base64
import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
import uuid

import ollama
import openai
import pytest

from conftest import WARD_BIN, WardProcess, free_port
from test_routing import RecordingCloud

PHI_VALUES = ["Philippa Vandermolen", "7734019", "Cedar Hollow Road"]
PHI_MESSAGE = "Pt Philippa Vandermolen, MRN 7734019, lives at 41 Cedar Hollow Road; summarise her visit."


class AuditHome:
    """A Ward home of its own (keys, audit key file, auth secret) with its audit store in SQLite
    or in a fresh PostgreSQL database."""

    def __init__(self, tmp_path, kind):
        self.home = tmp_path / "ward-home"
        self.home.mkdir()
        self.kind = kind
        self.env = {"WARD_HOME": str(self.home), "WARD_LOG": "warn"}
        if kind == "postgres":
            admin = os.environ["WARD_TEST_POSTGRES_URL"]
            self.database = "ward_e2e_" + uuid.uuid4().hex[:12]
            self.psql(admin, f"CREATE DATABASE {self.database}")
            self.url = admin.rsplit("/", 1)[0] + "/" + self.database
            self.env["WARD_AUDIT_URL"] = self.url
        else:
            self.db = self.home / "ward-audit.db"

    @staticmethod
    def psql(url, statement):
        subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qc", statement], check=True, capture_output=True)

    def tamper(self, statement):
        if self.kind == "postgres":
            self.psql(self.url, statement)
        else:
            with sqlite3.connect(self.db) as connection:
                connection.executescript(statement)

    def ward(self, *args, env=None, check=True):
        result = subprocess.run(
            [WARD_BIN, *args], capture_output=True, text=True, timeout=120, env={**os.environ, **self.env, **(env or {})}
        )
        if check:
            assert result.returncode == 0, result.stderr
        return result

    def create_key(self, role, *extra):
        result = self.ward("keys", "create", "--name", f"e2e-{role}", "--role", role, *extra)
        return result.stdout.strip().splitlines()[-1]

    def records(self, *extra):
        lines = self.ward("audit", "export", *extra).stdout.splitlines()
        return [json.loads(line) for line in lines]


def stores():
    kinds = ["sqlite"]
    if os.environ.get("WARD_TEST_POSTGRES_URL"):
        kinds.append("postgres")
    elif os.environ.get("CI"):
        pytest.fail("CI must run the audit tests against PostgreSQL too (WARD_TEST_POSTGRES_URL)")
    return kinds


@pytest.fixture(params=stores())
def audit_home(request, tmp_path):
    return AuditHome(tmp_path, request.param)


@pytest.fixture
def engine():
    """A fast local engine speaking the OpenAI wire, so that load tests measure Ward."""
    upstream = RecordingCloud()
    yield upstream
    upstream.stop()


def engine_config(tmp_path, engine):
    config = tmp_path / "ward.toml"
    config.write_text(
        f"""
[[backends]]
name = "engine"
kind = "openai"
locality = "local"
model = "echo-model"
urls = ["{engine.base_url}/v1"]
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
    return config


def serve(audit_home, tmp_path, engine, key):
    config = engine_config(tmp_path, engine)
    return WardProcess(None, ["--config", str(config)], env=audit_home.env, api_key=key)


def test_keys_gate_the_official_clients_and_revocation_takes_effect(audit_home, tmp_path, engine):
    clinician = audit_home.create_key("clinician")
    auditor = audit_home.create_key("auditor")
    ward = serve(audit_home, tmp_path, engine, clinician)
    try:
        # A key exists, so auth is on even on loopback.
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=ward.base_url + "/v1", api_key="not-a-ward-key").chat.completions.create(
                model="auto", messages=[{"role": "user", "content": "hi"}]
            )
        with pytest.raises(openai.PermissionDeniedError):
            openai.OpenAI(base_url=ward.base_url + "/v1", api_key=auditor).chat.completions.create(
                model="auto", messages=[{"role": "user", "content": "hi"}]
            )
        client = openai.OpenAI(base_url=ward.base_url + "/v1", api_key=clinician)
        answer = client.chat.completions.create(model="auto", messages=[{"role": "user", "content": "Define triage."}])
        assert answer.choices[0].message.content == "Echo: Define triage."
        ollama_client = ollama.Client(host=ward.base_url, headers={"Authorization": f"Bearer {clinician}"})
        assert ollama_client.chat(model="auto", messages=[{"role": "user", "content": "hello"}])["message"]["content"] == "Echo: hello"
        with pytest.raises(ollama.ResponseError) as refused:
            ollama.Client(host=ward.base_url).chat(model="auto", messages=[{"role": "user", "content": "hello"}])
        assert refused.value.status_code == 401

        key_id = clinician.split("_")[1]
        audit_home.ward("keys", "revoke", key_id)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.chat.completions.create(model="auto", messages=[{"role": "user", "content": "again"}])
            except openai.AuthenticationError as error:
                assert "revoked" in str(error)
                break
            assert time.monotonic() < deadline, "the revoked key still works"
            time.sleep(0.2)
    finally:
        assert ward.stop() == 0
    records = audit_home.records()
    assert {record["key_id"] for record in records} == {key_id}
    assert all(record["status"] == 200 and record["tier"] == "local" for record in records)
    assert audit_home.ward("audit", "verify").returncode == 0


def test_a_public_address_without_auth_is_refused(audit_home):
    result = audit_home.ward(
        "serve", "--listen", f"0.0.0.0:{free_port()}", env={"WARD_AUTH_REQUIRED": "false"}, check=False
    )
    assert result.returncode != 0
    assert "--insecure-no-auth" in result.stderr


def test_sigkill_under_load_keeps_every_answered_call_and_the_chain(audit_home, tmp_path, engine):
    key = audit_home.create_key("service")
    ward = serve(audit_home, tmp_path, engine, key)
    answered = []
    stop = threading.Event()
    lock = threading.Lock()

    def load(worker):
        client = openai.OpenAI(base_url=ward.base_url + "/v1", api_key=key, max_retries=0, timeout=10)
        number = 0
        while not stop.is_set():
            number += 1
            try:
                if number % 3 == 0:
                    with client.chat.completions.with_streaming_response.create(
                        model="auto", stream=True, messages=[{"role": "user", "content": f"{PHI_MESSAGE} {worker}-{number}"}]
                    ) as response:
                        body = response.read().decode()
                        if "[DONE]" in body:
                            with lock:
                                answered.append(response.headers["x-ward-request-id"])
                else:
                    response = client.chat.completions.with_raw_response.create(
                        model="auto", messages=[{"role": "user", "content": f"note {worker}-{number}"}]
                    )
                    response.parse()
                    with lock:
                        answered.append(response.headers["x-ward-request-id"])
            except Exception:  # noqa: BLE001 - after the kill, any transport error ends the worker
                if stop.is_set():
                    return
                raise

    workers = [threading.Thread(target=load, args=(worker,)) for worker in range(8)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 60
    while len(answered) < 300 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    ward.process.send_signal(signal.SIGKILL)
    ward.process.wait()
    for worker in workers:
        worker.join(timeout=30)
    ward.log.close()
    assert len(answered) >= 300, f"only {len(answered)} answers before the kill"

    verify = audit_home.ward("audit", "verify", check=False)
    assert verify.returncode == 0, verify.stderr
    recorded = {record["id"]: record for record in audit_home.records()}
    missing = [request_id for request_id in answered if request_id not in recorded]
    assert not missing, f"{len(missing)} answered calls have no record"
    assert all(recorded[request_id]["status"] == 200 for request_id in answered)


def test_content_is_encrypted_at_rest_and_decrypting_is_recorded(audit_home, tmp_path, engine):
    key = audit_home.create_key("clinician")
    ward = serve(audit_home, tmp_path, engine, key)
    try:
        client = openai.OpenAI(base_url=ward.base_url + "/v1", api_key=key)
        for _ in range(5):
            client.chat.completions.create(model="auto", messages=[{"role": "user", "content": PHI_MESSAGE}])
    finally:
        assert ward.stop() == 0

    if audit_home.kind == "sqlite":
        raw = b"".join(path.read_bytes() for path in audit_home.home.glob("ward-audit.db*"))
    else:
        dump = subprocess.run(["pg_dump", audit_home.url], capture_output=True, check=True)
        raw = dump.stdout
    assert b"/v1/chat/completions" in raw, "metadata is in clear"
    for value in PHI_VALUES:
        assert value.encode() not in raw, f"{value} is readable in the audit store"

    records = audit_home.records()
    assert len(records) == 5 and all("content" not in record for record in records)
    assert all(record["phi"].get("NAME") for record in records)
    decrypted = audit_home.records("--decrypt")
    assert PHI_VALUES[0] in decrypted[0]["content"]["request"]["messages"][0]["content"]
    assert decrypted[0]["content"]["response"] == "Echo: " + PHI_MESSAGE
    # The decrypting export left its own record.
    actions = [record for record in audit_home.records() if record["outcome"] == "action"]
    assert len(actions) == 1 and actions[0]["endpoint"].startswith("cli:audit export --decrypt")

    # Another key: a clean refusal that names the key, no garbage.
    other_key = audit_home.home / "other.key"
    other_key.write_text(base64.b64encode(os.urandom(32)).decode())
    wrong = audit_home.ward("audit", "export", "--decrypt", env={"WARD_AUDIT_KEY": other_key.read_text()}, check=False)
    assert wrong.returncode != 0
    assert "not in the key file" in wrong.stderr
    assert audit_home.ward("audit", "verify").returncode == 0


def test_verify_names_the_record_that_was_edited_deleted_or_moved(audit_home, tmp_path, engine):
    key = audit_home.create_key("service")
    ward = serve(audit_home, tmp_path, engine, key)
    try:
        client = openai.OpenAI(base_url=ward.base_url + "/v1", api_key=key)
        for number in range(12):
            client.chat.completions.create(model="auto", messages=[{"role": "user", "content": f"note {number}"}])
    finally:
        assert ward.stop() == 0
    assert audit_home.ward("audit", "verify").returncode == 0

    def broken():
        result = audit_home.ward("audit", "verify", check=False)
        assert result.returncode == 1, result.stdout
        return result.stderr

    audit_home.tamper("UPDATE audit_records SET meta = replace(meta, '\"status\":200', '\"status\":500') WHERE seq = 5")
    assert "record 5 " in broken() and "altered" in broken()
    audit_home.tamper("UPDATE audit_records SET meta = replace(meta, '\"status\":500', '\"status\":200') WHERE seq = 5")
    assert audit_home.ward("audit", "verify").returncode == 0

    audit_home.tamper(
        "UPDATE audit_records SET seq = -1 WHERE seq = 8; UPDATE audit_records SET seq = 8 WHERE seq = 9; UPDATE audit_records SET seq = 9 WHERE seq = -1;"
    )
    assert "record 8 " in broken()
    audit_home.tamper(
        "UPDATE audit_records SET seq = -1 WHERE seq = 8; UPDATE audit_records SET seq = 8 WHERE seq = 9; UPDATE audit_records SET seq = 9 WHERE seq = -1;"
    )
    assert audit_home.ward("audit", "verify").returncode == 0

    audit_home.tamper("DELETE FROM audit_records WHERE seq = 3")
    assert "record 4 " in broken()


def test_purge_keeps_the_rest_verifiable(audit_home, tmp_path, engine):
    key = audit_home.create_key("service")
    ward = serve(audit_home, tmp_path, engine, key)
    try:
        client = openai.OpenAI(base_url=ward.base_url + "/v1", api_key=key)
        for number in range(4):
            client.chat.completions.create(model="auto", messages=[{"role": "user", "content": f"old {number}"}])
        cut = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() + 1)) + "Z"
        time.sleep(1.5)
        for number in range(3):
            client.chat.completions.create(model="auto", messages=[{"role": "user", "content": f"new {number}"}])
    finally:
        assert ward.stop() == 0
    purged = audit_home.ward("audit", "purge", "--before", cut)
    assert "purged 4 records" in purged.stdout
    verify = audit_home.ward("audit", "verify")
    assert "3 records" in verify.stdout and "purged" in verify.stdout
    assert len(audit_home.records()) == 3
    tail = audit_home.ward("audit", "tail", "-n", "2").stdout.splitlines()
    assert [json.loads(line)["seq"] for line in tail] == [6, 7]
