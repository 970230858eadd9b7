"""Structured output end to end: the official `openai` and `ollama` packages against `ward serve`
with the real default model. The embedded engine constrains generation with a grammar derived
from the schema, and Ward validates the answer before it is sent, so every answer here must parse
and satisfy its schema; the answers themselves (which label the model picks) are not judged."""

import json
import typing

import ollama
import openai
import pydantic
import pytest

TRIAGE_SCHEMA = {
    "type": "object",
    "properties": {
        "urgency": {"type": "string", "enum": ["emergency", "urgent", "routine"]},
        "suspected_condition": {"type": "string"},
        "heart_rate": {"type": "integer"},
        "needs_ecg": {"type": "boolean"},
    },
    "required": ["urgency", "suspected_condition", "heart_rate", "needs_ecg"],
    "additionalProperties": False,
}

PROMPT = (
    "Triage this referral: 58-year-old with crushing chest pain for 30 minutes, "
    "sweating, heart rate 118."
)


def assert_triage(value):
    assert isinstance(value, dict), value
    assert set(value) == set(TRIAGE_SCHEMA["required"]), value
    assert value["urgency"] in ("emergency", "urgent", "routine"), value
    assert isinstance(value["suspected_condition"], str), value
    assert isinstance(value["heart_rate"], int) and not isinstance(value["heart_rate"], bool), value
    assert isinstance(value["needs_ecg"], bool), value


@pytest.fixture(scope="module")
def client(ward):
    return openai.OpenAI(base_url=ward.base_url + "/v1", api_key="unused", max_retries=0, timeout=300)


def test_json_schema_with_enum_and_required_fields(client, model):
    response = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": PROMPT}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "triage", "schema": TRIAGE_SCHEMA, "strict": True},
        },
        max_tokens=200,
        temperature=0,
    )
    choice = response.choices[0]
    assert choice.finish_reason == "stop"
    assert_triage(json.loads(choice.message.content))


class Triage(pydantic.BaseModel):
    urgency: typing.Literal["emergency", "urgent", "routine"]
    suspected_condition: str
    heart_rate: int
    needs_ecg: bool


def test_parse_with_a_pydantic_model(client, model):
    # The SDK's own structured-output helper: it sends a strict json_schema and parses the answer.
    completion = client.chat.completions.parse(
        model=model,
        messages=[{"role": "user", "content": PROMPT}],
        response_format=Triage,
        max_tokens=200,
        temperature=0,
    )
    parsed = completion.choices[0].message.parsed
    assert isinstance(parsed, Triage)
    assert_triage(parsed.model_dump())


def test_json_object(client, model):
    response = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Give the patient's name and age as JSON: Ana, 41."}],
        response_format={"type": "json_object"},
        max_tokens=120,
        temperature=0,
    )
    value = json.loads(response.choices[0].message.content)
    assert isinstance(value, dict) and value, value


def test_streaming_delivers_the_validated_json(client, model):
    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": PROMPT}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "triage", "schema": TRIAGE_SCHEMA, "strict": True},
        },
        max_tokens=200,
        temperature=0,
        stream=True,
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert_triage(json.loads(text))


def test_a_malformed_response_format_is_a_400_naming_the_field(client, model):
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "x"}],
            response_format={"type": "json_schema", "json_schema": {"name": "t", "schema": {"type": 12}}},
        )
    assert raised.value.body["param"] == "response_format.json_schema.schema"


def test_ollama_client_with_a_schema_format(ward, model):
    client = ollama.Client(host=ward.base_url, timeout=300)
    response = client.chat(
        model=model,
        messages=[{"role": "user", "content": PROMPT}],
        format=TRIAGE_SCHEMA,
        stream=False,
        options={"temperature": 0, "num_predict": 200},
    )
    assert response.done_reason == "stop"
    assert_triage(json.loads(response.message.content))
    generated = client.generate(model=model, prompt="Ana, 41, asthma. As JSON.", format="json", options={"temperature": 0, "num_predict": 120})
    assert isinstance(json.loads(generated.response), dict)
