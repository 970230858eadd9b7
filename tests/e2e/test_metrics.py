"""`GET /metrics` on the real `ward serve` after a mixed workload (answered, streamed, PHI-bearing
and refused calls), parsed by the official Prometheus client's OpenMetrics parser: every family
docs/metrics.md documents is there with its documented labels, and the counts match the workload.
"""

import json
import re
import urllib.error
import urllib.request

import openai
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from conftest import MODEL, ROOT

DOCUMENTED = re.compile(r"^\| `(ward_[a-z_]+)` \| (counter|gauge|histogram) \| ([^|]*) \|", re.M)


def documented_families():
    text = (ROOT / "docs" / "metrics.md").read_text()
    families = {}
    for name, kind, labels in DOCUMENTED.findall(text):
        family = name[: -len("_total")] if kind == "counter" else name
        families[family] = (kind, set() if "none" in labels else {label.strip() for label in labels.split(",")})
    return families


def scrape(ward):
    with urllib.request.urlopen(ward.base_url + "/metrics", timeout=30) as response:
        assert response.headers["content-type"].startswith("application/openmetrics-text")
        return {family.name: family for family in text_string_to_metric_families(response.read().decode())}


def count(families, name, suffix, **labels):
    return sum(
        sample.value
        for sample in families[name].samples
        if sample.name == name + suffix and all(sample.labels.get(key) == value for key, value in labels.items())
    )


def test_metrics_carry_every_documented_family_after_a_mixed_workload(ward):
    before = scrape(ward)
    client = openai.OpenAI(base_url=ward.base_url + "/v1", api_key="unused", max_retries=0)
    client.chat.completions.create(model=MODEL, max_tokens=8, messages=[{"role": "user", "content": "Say hi."}])
    stream = client.chat.completions.create(model=MODEL, max_tokens=8, stream=True, messages=[{"role": "user", "content": "Count to three."}])
    assert "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    client.chat.completions.create(
        model="auto", max_tokens=8, messages=[{"role": "user", "content": "Summarise: Ottoline Brackenridge-Vale, MRN 66120385, knee pain."}]
    )
    try:
        client.chat.completions.create(model="no-such-model", max_tokens=4, messages=[{"role": "user", "content": "Hi"}])
        raise AssertionError("an unknown model must be refused")
    except openai.NotFoundError:
        pass

    families = scrape(ward)
    documented = documented_families()
    assert len(documented) == 17
    for name, (kind, labels) in documented.items():
        assert name in families, f"{name} documented but not exported"
        assert families[name].type == kind, name
        for sample in families[name].samples:
            assert set(sample.labels) - {"le"} == labels, f"{name}: {sample.labels}"
    undocumented = {name for name in families if name.startswith("ward_")} - set(documented)
    assert not undocumented, f"exported but not documented: {undocumented}"

    requests = "ward_requests"

    def grew(**labels):
        return count(families, requests, "_total", **labels) - (count(before, requests, "_total", **labels) if requests in before else 0)

    assert grew(endpoint="/v1/chat/completions", status="200", tier="local", backend="embedded") == 3
    assert grew(phi="yes", status="200") == 1
    assert grew(status="404") == 1
    assert count(families, "ward_phi_findings", "_total", category="MRN") >= 1
    assert count(families, "ward_refusals", "_total", reason="not_found") >= 1
    assert count(families, "ward_generation_tokens_per_second", "_count", backend="embedded") >= 3
    assert count(families, "ward_backend_ready", "", backend="embedded", locality="local") == 1
    assert count(families, "ward_in_flight_requests", "", backend="embedded") == 0
    exposition = json.dumps([[sample.labels for sample in family.samples] for family in families.values()])
    assert "Brackenridge" not in exposition and "66120385" not in exposition
