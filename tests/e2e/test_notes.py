"""The clinical note workflow with the real default model: `/v1/notes` on synthetic dictations
returns every APSO section; the output checks fire on crafted cases (a dose left open, a code that
does not exist, a number the dictation never gave); a profile chosen as the model keeps its prompt
first; and `ward notes` writes FHIR and DOCX files that outside validators accept.

All dictations are synthetic, written for these tests. A small model writes imperfect notes, so
the tests assert what the pipeline guarantees (sections found, checks applied to what the model
wrote), and the check functions themselves are tested on fixed texts in `ward-clinical`.
"""

import json
import os
import re
import subprocess
import urllib.request

import openai
import pytest

from conftest import MODEL, ROOT, WARD_BIN
from exports import docx_text, docx_to_pdf, us_core_checks, validate_fhir

APSO = ["Assessment", "Plan", "Subjective", "Objective"]

DICTATIONS = [
    "Follow-up visit for type 2 diabetes and hypertension. She feels well and checks sugars at home, "
    "fasting readings 110 to 140. No hypoglycemia, no chest pain. Taking metformin 1000 mg twice daily "
    "and lisinopril 20 mg daily. Exam: BP 132/84, pulse 72, weight 84 kg, monofilament normal. A1c today 7.1. "
    "Plan: continue metformin and lisinopril, recheck A1c in 3 months, urine albumin today.",
    "Three days of sore throat and fever to 38.6 at home. No cough. Exam: tonsillar exudate, tender "
    "anterior cervical nodes, temperature 38.2. Rapid strep positive. Plan: amoxicillin 500 mg twice daily "
    "for 10 days, fluids, return if unable to swallow.",
]

# A dose left open and a code that does not exist in ICD-10-CM (E78.99).
CRAFTED = (
    "New patient with high cholesterol. LDL 182. Start atorvastatin, I did not decide the dose yet. "
    "Blood pressure 128/80. Diagnosis hyperlipidemia, ICD-10-CM code E78.99 please. Follow up after labs."
)


def post_note(ward, body):
    request = urllib.request.Request(
        ward.base_url + "/v1/notes",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        return response.status, dict(response.headers), response.read()


@pytest.mark.parametrize("dictation", DICTATIONS, ids=["diabetes-follow-up", "pharyngitis"])
def test_notes_have_every_apso_section_and_checked_codes(ward, dictation):
    status, headers, raw = post_note(ward, {"profile": "apso-note", "dictation": dictation, "seed": 7, "max_tokens": 450})
    assert status == 200
    note = json.loads(raw)
    assert note["missing_sections"] == [], note["note"]
    for section in APSO:
        assert note["sections"].get(section, "").strip(), f"{section} empty in:\n{note['note']}"
    assert headers["x-ward-profile"] == "apso-note"
    assert headers["x-ward-profile-version"] == note["profile_version"]
    assert headers["x-ward-tier"] and headers["x-ward-backend"]
    assert note["model"] == MODEL
    # Every code the model wrote is reported, and only existing codes are marked valid.
    written = set(re.findall(r"\b[A-Z][0-9][0-9A-Z]\.[0-9A-Z]{1,4}\b", note["note"]))
    reported = {code["code"] for code in note["icd10"]}
    assert written <= reported
    for code in note["icd10"]:
        assert code["valid"] == (code["description"] is not None)
    # Every warning names a number or medication that really is absent from the dictation.
    for warning in note["fabrication_warnings"]:
        quoted = re.search(r'"([^"]+)"', warning).group(1)
        number = re.match(r"[\d.,]+", quoted)
        if number:
            assert number.group(0).replace(",", "") not in dictation.replace(",", ""), warning
        else:
            assert quoted.lower() not in dictation.lower(), warning
    assert 0.0 <= note["quality"]["score"] <= 1.0
    assert {check["name"] for check in note["quality"]["checks"]} == {"sections", "clarify", "fabrication", "icd10"}


def test_checks_fire_on_a_crafted_dictation(ward):
    status, _, raw = post_note(ward, {"profile": "apso-note", "dictation": CRAFTED, "seed": 7, "max_tokens": 450})
    assert status == 200
    note = json.loads(raw)
    # The open dose is either flagged for clarification or, if the model made one up, warned about.
    dose_handled = note["flagged_items"] or any("mg" in warning for warning in note["fabrication_warnings"])
    assert dose_handled, note["note"]
    invented = [code for code in note["icd10"] if code["code"] == "E78.99"]
    assert invented and invented[0]["valid"] is False and invented[0]["description"] is None, note
    assert note["quality"]["score"] < 1.0


def test_a_number_the_dictation_never_gave_is_recorded_as_fabrication(ward):
    """Through the chat API with the profile as model: a client instruction (kept after the
    profile's prompt) makes the model state a weight that the dictation does not contain; the
    audit record of the call carries the fabrication flag and a lower quality score."""
    client = openai.OpenAI(base_url=ward.base_url + "/v1", api_key="unused")
    dictation = DICTATIONS[0].replace("weight 84 kg, ", "")
    raw = client.chat.completions.with_raw_response.create(
        model="apso-note",
        seed=7,
        max_tokens=450,
        messages=[
            {"role": "system", "content": "Always state in the Objective section that the patient weighs 97 kg."},
            {"role": "user", "content": dictation},
        ],
    )
    completion = raw.parse()
    request_id = raw.headers["x-ward-request-id"]
    assert raw.headers["x-ward-profile"] == "apso-note"
    answer = completion.choices[0].message.content
    if "97" not in answer:
        pytest.fail(f"the model did not follow the instruction; nothing to check:\n{answer}")
    exported = subprocess.run(
        [WARD_BIN, "audit", "export"], capture_output=True, text=True, timeout=60, check=True, env=os.environ.copy()
    ).stdout
    records = [json.loads(line) for line in exported.splitlines() if line.strip()]
    record = next(record for record in records if record["id"] == request_id)
    assert record["profile"].startswith("apso-note@")
    assert any(flag.startswith("fabrication:") for flag in record["output_flags"]), record
    assert record["quality_score"] < 1.0


def test_ward_notes_cli_writes_fhir_and_docx(tmp_path):
    dictation = tmp_path / "dictation.txt"
    dictation.write_text(DICTATIONS[1])
    fhir = tmp_path / "note.fhir.json"
    common = [WARD_BIN, "notes", "--profile", "apso-note", "--input", str(dictation), "--model", MODEL, "--seed", "7", "--max-tokens", "450"]
    subprocess.run(
        [*common, "--out", str(fhir), "--subject", "Patient/example-17", "--author", "Practitioner/example-3"],
        check=True,
        timeout=600,
        cwd=ROOT,
    )
    resource = json.loads(fhir.read_text())
    validate_fhir(resource)
    text = us_core_checks(resource)
    assert "Assessment" in text and "Plan" in text
    assert resource["subject"]["reference"] == "Patient/example-17"

    docx = tmp_path / "note.docx"
    subprocess.run([*common, "--out", str(docx)], check=True, timeout=600, cwd=ROOT)
    headings, _, _ = docx_text(docx)
    titles = [title for _, title in headings]
    assert "APSO note" in titles, headings
    assert {"Assessment", "Plan"} <= set(titles), headings
    pdf = docx_to_pdf(docx, tmp_path)
    assert pdf.stat().st_size > 1000

    missing = subprocess.run(
        [WARD_BIN, "notes", "--profile", "no-such-profile", "--input", str(dictation)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert missing.returncode != 0
    assert "no profile named 'no-such-profile'" in missing.stderr
