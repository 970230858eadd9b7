"""The official `openai` Python package against `ward serve`, unchanged but for base_url."""

import openai
import pytest


@pytest.fixture(scope="module")
def client(ward):
    return openai.OpenAI(base_url=ward.base_url + "/v1", api_key="unused", max_retries=0, timeout=300)


def test_models_list_names_the_served_model(client, model):
    ids = [entry.id for entry in client.models.list().data]
    assert model in ids


def test_chat_completion_shape_and_usage(client, model):
    response = client.chat.completions.create(
        model=model,
        messages=[
            {"role": "system", "content": "You are a concise clinical assistant."},
            {"role": "user", "content": "In one sentence, what is hypertension?"},
        ],
        max_tokens=40,
        temperature=0,
    )
    assert response.object == "chat.completion"
    assert response.model == model
    choice = response.choices[0]
    assert choice.message.role == "assistant"
    assert isinstance(choice.message.content, str) and choice.message.content.strip()
    assert choice.finish_reason in ("stop", "length")
    usage = response.usage
    assert usage.prompt_tokens > 10
    assert 0 < usage.completion_tokens <= 40
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_max_tokens_ends_with_length(client, model):
    response = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Write a long essay about the history of medicine."}],
        max_completion_tokens=5,
        temperature=0,
    )
    assert response.choices[0].finish_reason == "length"
    assert response.usage.completion_tokens == 5


def test_stop_string_ends_the_answer_before_it(client, model):
    kwargs = dict(
        model=model,
        messages=[{"role": "user", "content": "Count from 1 to 10, digits separated by commas, nothing else."}],
        max_tokens=60,
        temperature=0,
    )
    full = client.chat.completions.create(**kwargs).choices[0].message.content
    assert "5" in full, full
    stopped = client.chat.completions.create(stop=["5"], **kwargs)
    text = stopped.choices[0].message.content
    assert "5" not in text
    assert stopped.choices[0].finish_reason == "stop"
    assert full.startswith(text)


def test_streaming_with_usage(client, model):
    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Name two vital signs."}],
        max_tokens=24,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip()
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finish and finish[-1] in ("stop", "length")
    last = chunks[-1]
    assert last.choices == []
    assert last.usage.completion_tokens > 0 and last.usage.prompt_tokens > 0


def test_streaming_and_non_streaming_agree_under_greedy_sampling(client, model):
    kwargs = dict(model=model, messages=[{"role": "user", "content": "Say hello."}], max_tokens=12, temperature=0)
    whole = client.chat.completions.create(**kwargs).choices[0].message.content
    streamed = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(stream=True, **kwargs) if c.choices)
    assert whole == streamed


def test_legacy_completions(client, model):
    response = client.completions.create(model=model, prompt="def add(a, b):\n    return", max_tokens=8, temperature=0)
    assert response.object == "text_completion"
    assert response.choices[0].text
    assert response.choices[0].finish_reason in ("stop", "length")
    assert response.usage.completion_tokens <= 8
    streamed = list(client.completions.create(model=model, prompt="1, 2, 3,", max_tokens=6, temperature=0, stream=True))
    assert "".join(c.choices[0].text for c in streamed if c.choices)


def test_ward_headers_say_where_the_call_went(client, model):
    raw = client.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": "Hi"}], max_tokens=2
    )
    assert raw.headers["x-ward-request-id"]
    assert raw.headers["x-ward-backend"] == "embedded"
    assert raw.headers["x-ward-tier"] == "local"


def test_auto_model_is_served(client, model):
    response = client.chat.completions.create(model="auto", messages=[{"role": "user", "content": "Hi"}], max_tokens=2)
    assert response.model == model


def test_errors_arrive_as_openai_exceptions(client, model):
    with pytest.raises(openai.NotFoundError) as not_found:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "Hi"}])
    assert "not found" in not_found.value.body["message"]
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}], n=2)
    assert bad.value.body["param"] == "n"
