"""The official `ollama` Python package against `ward serve`, unchanged but for host."""

import ollama
import pytest


@pytest.fixture(scope="module")
def client(ward):
    return ollama.Client(host=ward.base_url, timeout=300)


def test_list_and_show_and_ps(client, model):
    names = [entry.model for entry in client.list().models]
    assert model in names
    shown = client.show(model)
    assert shown.details.format == "gguf"
    assert shown.template and "im_start" in shown.template
    assert shown.modelinfo["general.architecture"] == "qwen2"
    running = [entry.model for entry in client.ps().models]
    assert running == [model]


def test_chat_non_streaming(client, model):
    response = client.chat(
        model=model,
        messages=[{"role": "user", "content": "Give one word for a fast heart rate."}],
        stream=False,
        options={"temperature": 0, "num_predict": 16},
    )
    assert response.done is True
    assert response.message.role == "assistant"
    assert response.message.content.strip()
    assert response.done_reason in ("stop", "length")
    assert response.prompt_eval_count > 5
    assert 0 < response.eval_count <= 16
    assert response.total_duration > response.eval_duration > 0


def test_chat_streaming(client, model):
    parts = list(
        client.chat(
            model=model,
            messages=[{"role": "user", "content": "List three antibiotics."}],
            stream=True,
            options={"temperature": 0, "num_predict": 20},
        )
    )
    assert all(part.done is False for part in parts[:-1])
    assert parts[-1].done is True
    assert 0 < parts[-1].eval_count <= 20
    assert "".join(p.message.content for p in parts).strip()


def test_generate_with_num_predict_and_stop(client, model):
    response = client.generate(model=model, prompt="Write a long story.", options={"num_predict": 5, "temperature": 0})
    assert response.done is True
    assert response.done_reason == "length"
    assert response.eval_count == 5
    full = client.generate(model=model, prompt="Count from 1 to 10 separated by commas.", options={"num_predict": 60, "temperature": 0})
    assert "5" in full.response
    stopped = client.generate(
        model=model, prompt="Count from 1 to 10 separated by commas.", options={"num_predict": 60, "temperature": 0, "stop": ["5"]}
    )
    assert "5" not in stopped.response
    assert stopped.done_reason == "stop"


def test_generate_streaming_and_raw(client, model):
    parts = list(client.generate(model=model, prompt="The capital of France is", raw=True, stream=True, options={"num_predict": 6, "temperature": 0}))
    assert parts[-1].done is True
    assert "".join(p.response for p in parts)


def test_version_and_errors(client):
    assert client._client.get("/api/version").json()["version"]
    with pytest.raises(ollama.ResponseError) as missing:
        client.chat(model="no-such-model", messages=[{"role": "user", "content": "Hi"}])
    assert missing.value.status_code == 404
