"""Costs, traces and the web console on the real `ward serve`, after a scripted workload through
the official client: PHI to an owned local GPU backend, simple work to the same GPU, complex work
to a priced cloud backend, one refusal; a second owned backend stays idle.

Ward sends its spans to a recording OTLP/HTTP collector on loopback: one trace per call, named by
the audit record's id, with no request text.

`ward report costs` (JSON, CSV, table) is checked against figures recomputed here from the records
`ward audit export` prints. The console is driven in headless Chromium (Playwright with Debian's
`chromium`): it refuses without a key and refuses a clinician key, an admin sees every page with
charts drawn from the workload, an auditor with the decrypt right reads a record's content but not
the keys page. Each page is saved as a screenshot under target/ward-console/ for review.
"""

import csv
import datetime
import io
import json
import math
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import openai
import pytest

from conftest import ROOT, WARD_BIN, WardProcess
from test_routing import COMPLEX, SIMPLE, RecordingCloud

CLOUD_KEY = "sk-e2e-console-cloud"
DAYS_PER_MONTH = 30.436875
SHOTS = ROOT / "target" / "ward-console"
PHI_MESSAGES = [
    "Summarise: Tobias Wrenfield-Achebe, MRN 55102938, seen for gout.",
    "Pt Henrietta Olumide, DOB 07/14/1958, phone (508) 555-0187, needs a letter.",
    "Draft a referral for Casimir Duquesne, SSN 219-09-9999.",
]


def config_text(engine_url):
    return f"""
[[backends]]
name = "gpu"
kind = "openai"
locality = "local"
model = "gpu-model"
urls = ["{engine_url}/v1"]
health_check_seconds = 0
cost = {{ fixed_per_month = 620.0 }}

[[backends]]
name = "spare"
kind = "openai"
locality = "local"
model = "spare-model"
urls = ["{engine_url}/v1"]
health_check_seconds = 0
cost = {{ fixed_per_month = 310.0 }}

[[backends]]
name = "frontier"
kind = "openai"
locality = "cloud"
model = "frontier-model"
urls = ["{engine_url}/v1"]
api_key_env = "WARD_E2E_CLOUD_KEY"
health_check_seconds = 0
cost = {{ input_per_million = 3.0, output_per_million = 15.0 }}

[[tiers]]
name = "phi"
backends = ["gpu", "spare"]

[[tiers]]
name = "small"
backends = ["gpu"]

[[tiers]]
name = "frontier"
backends = ["frontier"]

[routing]
phi = "phi"
simple = "small"
moderate = "small"
complex = "frontier"

[costs]
reference = {{ name = "reference-model", input_per_million = 2.5, output_per_million = 10.0 }}
"""


def rfc3339(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Collector:
    """An OpenTelemetry collector's OTLP/HTTP JSON endpoint that keeps every span it is sent."""

    def __init__(self):
        self.spans = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
                assert self.path == "/v1/traces" and self.headers["content-type"] == "application/json"
                for resource in body["resourceSpans"]:
                    service = resource["resource"]["attributes"][0]["value"]["stringValue"]
                    for scope in resource["scopeSpans"]:
                        collector.spans.extend({**span, "service": service} for span in scope["spans"])
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Deployment:
    def __init__(self, home):
        self.home = home
        self.engine = RecordingCloud()
        self.collector = Collector()
        self.config = home / "ward.toml"
        self.config.write_text(config_text(self.engine.base_url))
        self.env = {
            "WARD_HOME": str(home),
            "WARD_LOG": "warn",
            "WARD_E2E_CLOUD_KEY": CLOUD_KEY,
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.collector.url,
            "OTEL_SERVICE_NAME": "ward-e2e",
        }
        self.admin = self.create_key("e2e-admin", "admin")
        self.auditor = self.create_key("e2e-auditor", "auditor", "--decrypt")
        self.clinician = self.create_key("e2e-clinician", "clinician")
        self.reader = self.create_key("e2e-reader", "auditor")
        self.server = WardProcess(None, ["--config", str(self.config)], env=self.env, api_key=self.admin)

    def ward(self, *args):
        result = subprocess.run(
            [WARD_BIN, "--config", str(self.config), *args],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **self.env},
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def create_key(self, name, role, *extra):
        return self.ward("keys", "create", "--name", name, "--role", role, *extra).strip().splitlines()[-1]

    def stop(self):
        assert self.server.stop() == 0
        self.engine.stop()
        self.collector.stop()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    deployment = Deployment(tmp_path_factory.mktemp("console-home"))
    deployment.since = rfc3339(datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=1))
    client = openai.OpenAI(base_url=deployment.server.base_url + "/v1", api_key=deployment.clinician, max_retries=0)
    for message in PHI_MESSAGES:
        client.chat.completions.create(model="auto", messages=[{"role": "user", "content": message}])
    stream = client.chat.completions.create(model="auto", stream=True, messages=[{"role": "user", "content": PHI_MESSAGES[0]}])
    assert "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    for _ in range(3):
        client.chat.completions.create(model="auto", messages=[{"role": "user", "content": SIMPLE}])
    for _ in range(2):
        client.chat.completions.create(model="auto", messages=[{"role": "user", "content": COMPLEX}])
    with pytest.raises(openai.PermissionDeniedError):
        client.chat.completions.create(model="frontier-model", messages=[{"role": "user", "content": PHI_MESSAGES[2]}])
    # Now, not later: a period that runs into the future is costed only up to now.
    deployment.until = rfc3339(datetime.datetime.now(datetime.timezone.utc))
    yield deployment
    deployment.stop()


def parse(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def nearest_rank(values, quantile):
    ordered = sorted(values)
    return ordered[max(1, math.ceil(quantile * len(ordered))) - 1] if ordered else None


def expected_costs(records, since, until):
    """The cost report recomputed from exported records, without Ward's code."""
    days = (parse(until) - parse(since)).total_seconds() / 86400
    months = days / DAYS_PER_MONTH
    monthly = {"gpu": 620.0, "spare": 310.0}
    calls = [record for record in records if record.get("tier") and record["outcome"] != "action"]
    answered_on = {}
    for record in calls:
        if record["outcome"] == "ok":
            answered_on[record["backend"]] = answered_on.get(record["backend"], 0) + 1
    tiers = {}
    for record in calls:
        tier = tiers.setdefault(record["tier"], {"queries": 0, "prompt": 0, "completion": 0, "token_cost": 0.0, "fixed": 0.0, "latencies": []})
        tier["prompt"] += record.get("prompt_tokens") or 0
        tier["completion"] += record.get("completion_tokens") or 0
        tier["token_cost"] += record.get("cost_usd") or 0.0
        if record["outcome"] == "ok":
            tier["queries"] += 1
            tier["latencies"].append(record["latency"]["total_ms"])
            backend = record["backend"]
            tier["fixed"] += monthly.get(backend, 0.0) * months / answered_on[backend]
    for tier in tiers.values():
        tier["counterfactual"] = (tier["prompt"] * 2.5 + tier["completion"] * 10.0) / 1e6
        tier["cost"] = tier["token_cost"] + tier["fixed"]
    idle = sum(usd * months for name, usd in monthly.items() if name not in answered_on)
    total_cost = sum(tier["cost"] for tier in tiers.values()) + idle
    counterfactual = sum(tier["counterfactual"] for tier in tiers.values())
    local = answered_on.get("gpu", 0) + answered_on.get("spare", 0)
    local_reference = sum(
        (record["prompt_tokens"] * 2.5 + record["completion_tokens"] * 10.0) / 1e6
        for record in calls
        if record["outcome"] == "ok" and record["backend"] in monthly
    )
    per_query = local_reference / local
    return {
        "days": days,
        "tiers": tiers,
        "idle": idle,
        "total_cost": total_cost,
        "counterfactual": counterfactual,
        "local_share": local / sum(answered_on.values()),
        "break_even_per_day": (620.0 + 310.0) / DAYS_PER_MONTH / per_query,
        "local_per_day": local / days,
    }


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def test_cost_report_matches_figures_recomputed_from_the_records(deployment):
    period = ["--since", deployment.since, "--until", deployment.until]
    records = [json.loads(line) for line in deployment.ward("audit", "export", *period).splitlines()]
    # Cloud calls carry their price: 3 and 15 dollars per million tokens.
    cloud = [record for record in records if record.get("backend") == "frontier"]
    assert len(cloud) == 2
    for record in cloud:
        assert close(record["cost_usd"], (record["prompt_tokens"] * 3.0 + record["completion_tokens"] * 15.0) / 1e6)
    expected = expected_costs(records, deployment.since, deployment.until)
    assert {name: tier["queries"] for name, tier in expected["tiers"].items()} == {"phi": 4, "small": 3, "frontier": 2}

    report = json.loads(deployment.ward("report", "costs", *period, "--format", "json"))
    assert close(report["days"], expected["days"])
    assert report["reference"]["name"] == "reference-model"
    assert [tier["tier"] for tier in report["tiers"]] == sorted(expected["tiers"])
    for tier in report["tiers"]:
        mine = expected["tiers"][tier["tier"]]
        assert tier["queries"] == mine["queries"]
        assert (tier["prompt_tokens"], tier["completion_tokens"]) == (mine["prompt"], mine["completion"])
        assert close(tier["share"], mine["queries"] / 9)
        assert close(tier["token_cost_usd"], mine["token_cost"])
        assert close(tier["fixed_cost_usd"], mine["fixed"])
        assert close(tier["cost_usd"], mine["cost"])
        assert close(tier["counterfactual_usd"], mine["counterfactual"])
        assert close(tier["p50_ms"], nearest_rank(mine["latencies"], 0.5))
        assert close(tier["p95_ms"], nearest_rank(mine["latencies"], 0.95))
    assert {tier["tier"]: tier["locality"] for tier in report["tiers"]} == {"phi": "local", "small": "local", "frontier": "cloud"}
    assert report["idle_backends"] == ["spare"]
    assert close(report["idle_fixed_usd"], expected["idle"])
    assert close(report["total"]["cost_usd"], expected["total_cost"])
    assert close(report["total"]["counterfactual_usd"], expected["counterfactual"])
    assert close(report["saving_usd"], expected["counterfactual"] - expected["total_cost"])
    assert close(report["local_share"], expected["local_share"])
    assert close(report["break_even"]["queries_per_day"], expected["break_even_per_day"])
    assert close(report["break_even"]["local_queries_per_day"], expected["local_per_day"])

    rows = list(csv.DictReader(io.StringIO(deployment.ward("report", "costs", *period, "--format", "csv"))))
    assert [row["tier"] for row in rows] == sorted(expected["tiers"]) + ["total"]
    assert math.isclose(float(rows[-1]["cost_usd"]), expected["total_cost"], abs_tol=1e-6)
    assert math.isclose(float(rows[-1]["all_cloud_usd"]), expected["counterfactual"], abs_tol=1e-6)

    table = deployment.ward("report", "costs", *period)
    assert "All-cloud reference: reference-model" in table
    assert "spare" in table and "Break-even" in table
    assert any(line.startswith("frontier") and "cloud" in line for line in table.splitlines())


def test_a_bad_period_is_refused_with_a_clear_message(deployment):
    result = subprocess.run(
        [WARD_BIN, "--config", str(deployment.config), "report", "costs", "--since", "last week"],
        capture_output=True, text=True, timeout=60, env={**os.environ, **deployment.env},
    )
    assert result.returncode == 1
    assert "--since 'last week': give a date" in result.stderr


def test_each_call_is_a_trace_named_by_its_audit_record(deployment):
    period = ["--since", deployment.since, "--until", deployment.until]
    calls = [
        json.loads(line)
        for line in deployment.ward("audit", "export", *period).splitlines()
        if json.loads(line)["outcome"] != "action"
    ]
    deadline = time.monotonic() + 10  # spans leave in batches, at least once a second
    while time.monotonic() < deadline and len({span["traceId"] for span in deployment.collector.spans}) < len(calls):
        time.sleep(0.2)
    spans = deployment.collector.spans
    by_trace = {}
    for span in spans:
        by_trace.setdefault(span["traceId"], []).append(span)
    assert set(by_trace) == {record["id"].replace("-", "") for record in calls}
    for record in calls:
        trace = by_trace[record["id"].replace("-", "")]
        (call,) = [span for span in trace if "parentSpanId" not in span]
        attributes = {item["key"]: next(iter(item["value"].values())) for item in call["attributes"]}
        assert call["service"] == "ward-e2e" and call["name"] == record["endpoint"]
        assert attributes["ward.request_id"] == record["id"]
        assert attributes["http.response.status_code"] == str(record["status"])
        assert attributes.get("ward.tier") == record.get("tier")
        assert call["status"]["code"] == (1 if record["outcome"] == "ok" else 2)
        assert int(call["endTimeUnixNano"]) - int(call["startTimeUnixNano"]) >= record["latency"]["total_ms"] * 1e6
        upstream = [span for span in trace if span.get("parentSpanId") == call["spanId"]]
        assert len(upstream) == (1 if record.get("backend") and record["outcome"] == "ok" else 0)
    # Ids, labels and counts only: no message text reaches the collector.
    text = json.dumps(spans)
    for message in PHI_MESSAGES + [COMPLEX, SIMPLE]:
        for word in message.replace(",", " ").split():
            if len(word) > 8:
                assert word not in text, word


def money(value):
    return f"${value:.2f}" if abs(value) >= 100 else f"${value:.4f}"


def get(url, key=None):
    request = urllib.request.Request(url)
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_console_data_needs_an_admin_or_auditor_key(deployment):
    base = deployment.server.base_url
    assert get(base + "/ui/api/costs")[0] == 401
    status, body = get(base + "/ui/api/overview", deployment.clinician)
    assert status == 403 and json.loads(body)["error"]["message"] == "a clinician key may not use /ui/api/overview"
    assert get(base + "/ui/api/keys", deployment.auditor)[0] == 403
    assert get(base + "/ui/api/keys", deployment.admin)[0] == 200
    # Decrypted content must not stay in the browser's cache.
    request = urllib.request.Request(base + "/ui/api/audit", headers={"Authorization": f"Bearer {deployment.admin}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["cache-control"] == "no-store"
        assert "default-src 'self'" in response.headers["content-security-policy"]
    assert get(base + "/ui/api/overview?minutes=0", deployment.admin)[0] == 400
    # The assets hold no data and load before signing in; the cookie is not a key elsewhere.
    assert get(base + "/ui/assets/console.js")[0] == 200
    request = urllib.request.Request(base + "/v1/models", headers={"Cookie": f"ward_console={deployment.admin}"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 401


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright import sync_api
    except ImportError:
        sync_api = None
    if not (chromium and sync_api):
        missing = "pip install playwright, apt install chromium"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the console in a browser: {missing}")
        pytest.skip(missing)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--headless"])
        yield browser
        browser.close()


def sign_in(page, base, key):
    page.goto(base + "/ui")
    page.fill("#key", key)
    with page.expect_navigation():
        page.click("button[type=submit]")


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_console_refuses_without_a_key_and_refuses_a_clinician(deployment, browser):
    base = deployment.server.base_url
    page = browser.new_page()
    response = page.goto(base + "/ui/costs")
    assert response.status == 401
    assert "An API key is required".lower() in page.inner_text(".refusal").lower()
    assert page.locator("#key").count() == 1
    shot(page, "sign-in")
    sign_in(page, base, deployment.clinician)
    assert "a clinician key may not use the console" in page.inner_text(".refusal")
    sign_in(page, base, "ward_nope_nope")
    assert "invalid API key" in page.inner_text(".refusal")
    page.close()


def test_an_admin_sees_every_page_with_the_workload(deployment, browser):
    base = deployment.server.base_url
    errors = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda response: errors.append(f"{response.status} {response.url}") if response.status >= 400 else None)
    sign_in(page, base, deployment.admin)
    assert page.url == base + "/ui"
    errors.clear()  # the sign-in page itself came with a 401

    # Overview: charts drawn from the workload.
    page.wait_for_selector("svg[data-chart=calls] rect")
    tiers = set(page.eval_on_selector_all("svg[data-chart=calls] rect", "rects => rects.map(r => r.dataset.tier)"))
    assert {"phi", "small", "frontier"} <= tiers
    calls = sum(page.eval_on_selector_all("svg[data-chart=calls] rect", "rects => rects.map(r => Number(r.dataset.value))"))
    assert calls >= 10
    assert page.locator("svg[data-chart=phi] rect[data-label=NAME]").count() == 1
    assert page.locator("svg[data-chart=refusals] rect[data-label=policy_violation]").count() == 1
    assert page.locator("svg[data-chart=locality] rect").count() == 2
    assert page.locator("svg[data-chart=cost] rect[data-label=frontier]").count() == 1
    assert page.inner_text("[data-field=local_share]") == "77.8%"
    shot(page, "overview")

    # Costs: the same figures `ward report costs` prints for the same days.
    today = datetime.datetime.now(datetime.timezone.utc).date()
    since, until = today.isoformat(), (today + datetime.timedelta(days=1)).isoformat()
    report = json.loads(deployment.ward("report", "costs", "--since", since, "--until", until, "--format", "json"))
    page.goto(f"{base}/ui/costs?since={since}&until={until}")
    page.wait_for_selector("table[data-table=costs] tr.total")
    total = page.locator("table[data-table=costs] tr.total")
    # Both periods end at their own "now", milliseconds apart: owned hardware's cost may differ
    # in the last digit.
    shown = float(total.locator("[data-field=cost_usd]").inner_text().lstrip("$"))
    assert math.isclose(shown, report["total"]["cost_usd"], abs_tol=0.001)
    assert total.locator("[data-field=counterfactual_usd]").inner_text() == money(report["total"]["counterfactual_usd"])
    assert total.locator("[data-field=queries]").inner_text() == str(report["total"]["queries"])
    assert "Break-even" in page.inner_text("[data-summary=costs]")
    assert page.locator("svg[data-chart=counterfactual] rect").count() == 6
    shot(page, "costs")

    page.goto(base + "/ui/backends")
    page.wait_for_selector("table[data-table=backends]")
    assert page.locator("tr[data-backend]").count() == 3
    assert page.locator("tr[data-backend=frontier] [data-field=locality]").inner_text() == "cloud"
    assert page.locator("tr[data-backend=spare] [data-field=fixed_per_month]").inner_text() == "$310.00"
    shot(page, "backends")

    page.goto(base + "/ui/audit")
    page.wait_for_selector("table[data-table=audit] tr[data-id]")
    assert page.locator("tr[data-id]").count() >= 10
    page.locator("tr[data-id]", has_text="frontier").first.click()
    page.click("#show-content")
    # Admin keys hold the decrypt right: the cloud call's question, decrypted.
    assert "differential diagnosis" in page.wait_for_selector("pre[data-content]").inner_text()
    shot(page, "audit")

    page.goto(base + "/ui/profiles")
    page.wait_for_selector("table[data-table=profiles]")
    assert "apso-note" in page.inner_text("table[data-table=profiles]")
    shot(page, "profiles")

    page.goto(base + "/ui/keys")
    page.wait_for_selector("tr[data-key]")
    names = page.eval_on_selector_all("tr[data-key]", "rows => rows.map(r => r.dataset.key)")
    assert {"e2e-admin", "e2e-auditor", "e2e-clinician"} <= set(names)
    assert "ward_" not in page.inner_text("table[data-table=keys]").replace("ward keys", "")
    shot(page, "keys")

    assert not errors, errors
    with page.expect_navigation():
        page.click("header button")
    assert page.locator("#key").count() == 1
    page.close()


def test_an_auditor_reads_content_only_with_the_decrypt_right_and_never_keys(deployment, browser):
    base = deployment.server.base_url
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base, deployment.reader)
    page.goto(base + "/ui/audit")
    page.locator("tr[data-id]").first.click()
    page.click("#show-content")
    assert "decrypt right" in page.inner_text("[data-content-refused]")
    context.close()

    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base, deployment.auditor)
    assert page.locator("header nav a[href='/ui/keys']").count() == 0
    assert page.goto(base + "/ui/keys").status == 403
    page.goto(base + "/ui/audit")
    page.wait_for_selector("tr[data-id]")
    # The newest PHI call: its request and answer, decrypted.
    phi_row = page.locator("tr[data-id]", has_text="NAME").first
    phi_row.click()
    page.click("#show-content")
    content = page.wait_for_selector("pre[data-content]").inner_text()
    assert any(name in content for name in ("Tobias Wrenfield-Achebe", "Henrietta Olumide", "Casimir Duquesne"))
    context.close()
    # The content read is recorded (and committed) before its answer is sent.
    exported = [json.loads(line) for line in deployment.ward("audit", "export").splitlines()]
    assert any(record["outcome"] == "action" and "content=true" in record["endpoint"] for record in exported)
