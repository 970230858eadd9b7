"""`ward eval` end to end with the real default model: a rubric case graded by the embedded model
as judge (in process), a suite sent to a running Ward by URL with its gate, the HTML report
rendered by headless Chromium, and `ward eval sample --from-audit` turning recorded calls into a
pseudonymised suite. Inputs are synthetic, written for these tests.
"""

import datetime
import json
import os
import shutil
import subprocess
import urllib.request

import pytest

from conftest import MODEL, ROOT, WARD_BIN
from test_lifecycle import run_cli

# Where CI keeps what these tests produce for review (the report page and its screenshot).
ARTIFACTS = ROOT / "target" / "ward-eval" / "e2e"

RUBRIC_CASE = {
    "id": "bid-meaning",
    "messages": [{"role": "user", "content": "In a prescription, what does the abbreviation BID mean? Answer in one sentence."}],
    "max_tokens": 60,
    "expect": {"rubric": "The answer says that BID means twice a day (two times daily)."},
}

URL_SUITE = [
    {
        "id": "refill",
        "profile": "classify",
        "input": "Hello, I have two pills of my levothyroxine left, could you send a refill to my pharmacy?",
        "expect": {"label": "medication-refill"},
    },
    {
        "id": "phi-summary",
        "profile": "summarize",
        "input": "Teodora Quillanmere-Ashby (MRN 77120453) was seen on 02/11/2025 for ankle sprain; ice, brace, ibuprofen 400 mg as needed.",
        "max_tokens": 80,
        "expect": {"phi": True},
    },
    {
        "id": "never-passes",
        "messages": [{"role": "user", "content": "Say hello."}],
        "max_tokens": 8,
        "expect": {"contains": ["zanzibar-quokka"]},
    },
]


def write_suite(path, cases):
    path.write_text("# written by tests/e2e/test_eval.py\n" + "\n".join(json.dumps(case) for case in cases) + "\n")


def test_a_rubric_case_is_graded_by_the_embedded_model_as_judge(tmp_path):
    suite = tmp_path / "rubric.jsonl"
    write_suite(suite, [RUBRIC_CASE])
    out = tmp_path / "report"
    # No --judge: the first local backend, the embedded model, judges.
    result = run_cli("eval", str(suite), "--model", MODEL, "--out", str(out), timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    case = report["targets"][0]["cases"][0]
    verdict = case["judge"]
    assert verdict["judge"] == MODEL
    assert [message["role"] for message in verdict["prompt"]] == ["system", "user"]
    assert RUBRIC_CASE["expect"]["rubric"] in verdict["prompt"][1]["content"]
    assert "what does the abbreviation BID mean" in verdict["prompt"][1]["content"]
    # The judge answered under the verdict schema, so its answer is JSON with a 1-5 score.
    assert verdict["error"] is None, verdict
    assert json.loads(verdict["answer"])["score"] == verdict["score"]
    assert verdict["score"] in range(1, 6)
    rubric = [check for check in case["checks"] if check["check"] == "rubric"]
    assert len(rubric) == 1 and rubric[0]["passed"] == (verdict["score"] >= 4)
    assert "## Judge verdicts" in (out / "report.md").read_text()


@pytest.fixture(scope="module")
def url_report(ward, tmp_path_factory):
    folder = tmp_path_factory.mktemp("url-eval")
    suite = folder / "suite.jsonl"
    write_suite(suite, URL_SUITE)
    out = folder / "report"
    result = run_cli("eval", str(suite), "--url", ward.base_url, "--model", MODEL, "--out", str(out), "--min-score", "0.9", timeout=900)
    return result, out


def test_a_suite_runs_against_a_ward_by_url_and_misses_its_gate(url_report):
    result, out = url_report
    # `never-passes` keeps the mean score under 0.9: the gate fails the run, the report is written.
    assert result.returncode == 1, result.stderr[-3000:]
    assert "missed its gate" in result.stderr and "--min-score 0.900" in result.stderr
    report = json.loads((out / "report.json").read_text())
    cases = {case["case"]: case for case in report["targets"][0]["cases"]}
    assert cases["never-passes"]["passed"] is False
    phi = cases["phi-summary"]
    assert phi["passed"], phi["checks"]
    assert phi["served"]["tier"] == "local" and phi["served"]["backend"] == "embedded"
    assert phi["served"]["profile"].startswith("summarize@")
    assert cases["refill"]["served"]["profile"].startswith("classify@")
    assert report["targets"][0]["summary"]["prompt_tokens"] > 0


def test_the_report_page_renders_in_headless_chromium(url_report):
    _, out = url_report
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (CI installs it)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = ARTIFACTS / "report.html"
    shutil.copy(out / "report.html", page)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files"]
    dom = subprocess.run([browser, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "<th>" + MODEL + "</th>" in dom.stdout
    assert "never-passes" in dom.stdout and 'class="fail"' in dom.stdout
    screenshot = ARTIFACTS / "report.png"
    screenshot.unlink(missing_ok=True)
    shot = subprocess.run(
        [browser, *flags, "--window-size=1280,1000", f"--screenshot={screenshot}", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert screenshot.stat().st_size > 10_000


def post(ward, path, body):
    request = urllib.request.Request(ward.base_url + path, data=json.dumps(body).encode(), headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=600) as response:
        assert response.status == 200
        return json.loads(response.read())


def test_recorded_calls_become_a_pseudonymised_suite(ward, tmp_path):
    since = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=2)).isoformat()
    dictation = "Ximena Forsythe-Larkspur, MRN 90314472, seen 04/02/2025: wheeze for 2 days, albuterol helps."
    post(ward, "/v1/notes", {"profile": "apso-note", "dictation": dictation, "max_tokens": 24})
    post(
        ward,
        "/v1/chat/completions",
        {"model": MODEL, "max_tokens": 4, "messages": [{"role": "user", "content": "Draft a reminder for Mr. Bartholomew Quenneville-Oyelaran, phone 617-555-0187."}]},
    )
    suite = tmp_path / "sampled.jsonl"
    result = run_cli("eval", "sample", "--from-audit", "--since", since, "--n", "50", "--out", str(suite))
    assert result.returncode == 0, result.stderr[-3000:]
    text = suite.read_text()
    for value in ["Forsythe", "Larkspur", "90314472", "04/02/2025", "Quenneville", "555-0187"]:
        assert value not in text, f"{value} survived pseudonymisation"
    cases = [json.loads(line) for line in text.splitlines() if line and not line.startswith("#")]
    note = next(case for case in cases if case.get("profile") == "apso-note" and "albuterol helps" in case["input"])
    assert note["expect"]["sections"] is True and note["tags"] == ["from-audit"]
    chat = next(case for case in cases if "Draft a reminder" in json.dumps(case.get("messages", [])))
    assert chat["expect"] == {}
    # The sampling itself is on record.
    tail = run_cli("audit", "tail", "--count", "5")
    assert "cli:eval sample --from-audit" in tail.stdout, tail.stdout
