"""`GET /metrics` on the real `ward serve` after a mixed workload (answered, streamed, PHI-bearing
and refused calls), parsed by the official Prometheus client's OpenMetrics parser: every family
docs/metrics.md documents is there with its documented labels, and the counts match the workload.
A real Prometheus server (Debian `prometheus`) scrapes Ward on loopback and answers queries, and
the Grafana dashboard under deploy/ uses only documented metrics.
"""

import json
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request

import openai
from prometheus_client.openmetrics.parser import text_string_to_metric_families

import pytest

from conftest import MODEL, ROOT, free_port

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
    assert count(families, "ward_generation_tokens_per_second", "_count", backend="embedded") >= 1
    assert count(families, "ward_backend_ready", "", backend="embedded", locality="local") == 1
    assert count(families, "ward_in_flight_requests", "", backend="embedded") == 0
    exposition = json.dumps([[sample.labels for sample in family.samples] for family in families.values()])
    assert "Brackenridge" not in exposition and "66120385" not in exposition


def documented_names():
    """Every series name a documented family exports."""
    names = set()
    for family, (kind, _) in documented_families().items():
        suffixes = {"counter": ["_total"], "gauge": [""], "histogram": ["_bucket", "_sum", "_count"]}[kind]
        names.update(family + suffix for suffix in suffixes)
    return names


def test_the_grafana_dashboard_uses_only_documented_metrics():
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "ward-dashboard.json").read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used = {name for expression in expressions for name in re.findall(r"ward_[a-z_]+", expression)}
    assert used, "the dashboard queries nothing"
    assert used <= documented_names(), used - documented_names()
    # Every documented family has a panel.
    families = {re.sub(r"_(bucket|sum|count|total)$", "", name) for name in used}
    assert families == set(documented_families()), set(documented_families()) - families


def prometheus_query(port, query):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())["data"]["result"]


def test_a_real_prometheus_scrapes_ward_and_answers_queries(ward, tmp_path):
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("prometheus is not installed (CI installs the Debian package)")
    # At least one call on record, whatever ran before.
    client = openai.OpenAI(base_url=ward.base_url + "/v1", api_key="unused", max_retries=0)
    client.chat.completions.create(model=MODEL, max_tokens=4, messages=[{"role": "user", "content": "Hi"}])
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n"
        "scrape_configs:\n  - job_name: ward\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{ward.port}']\n"
    )
    log = open(tmp_path / "prometheus.log", "wb")
    process = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        up, requests = [], []
        while time.monotonic() < deadline:
            try:
                up = prometheus_query(port, 'up{job="ward"}')
                requests = prometheus_query(port, 'sum by (tier) (ward_requests_total{endpoint="/v1/chat/completions"})')
            except OSError:
                pass
            if up and up[0]["value"][1] == "1" and requests:
                break
            time.sleep(0.5)
        assert up and up[0]["value"][1] == "1", (tmp_path / "prometheus.log").read_text()[-2000:]
        assert requests and requests[0]["metric"]["tier"] == "local" and float(requests[0]["value"][1]) >= 1
        ready = prometheus_query(port, 'ward_backend_ready{backend="embedded"}')
        assert ready and ready[0]["value"][1] == "1"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
