"""Ward's FHIR and DOCX exports checked by outside tools, without a model: the FHIR R4 JSON schema
(Node), the US Core fields, python-docx and LibreOffice.

The samples come from `cargo test -p ward-clinical --test it` run with WARD_EXPORT_SAMPLES_DIR set
(a synthetic note, no patient data); `cargo xtask ci` runs that first and passes the same folder
here. Without the variable these tests skip, except under CI, where a missing sample is a failure.
"""

import base64
import json
import os
import pathlib

import pytest

from exports import docx_text, docx_to_pdf, us_core_checks, validate_fhir


@pytest.fixture(scope="module")
def samples():
    folder = os.environ.get("WARD_EXPORT_SAMPLES_DIR")
    if not folder:
        if os.environ.get("CI"):
            pytest.fail("CI must set WARD_EXPORT_SAMPLES_DIR (cargo xtask ci does)")
        pytest.skip("WARD_EXPORT_SAMPLES_DIR is not set; run the ward-clinical `it` test with it first")
    folder = pathlib.Path(folder)
    names = ["sample.document-reference.json", "sample.bundle.json", "sample.docx"]
    missing = [name for name in names if not (folder / name).is_file()]
    assert not missing, f"missing in {folder}: {missing}; run cargo test -p ward-clinical --test it"
    return folder


def load(samples, name):
    return json.loads((samples / name).read_text(encoding="utf-8"))


def test_document_reference_is_valid_r4_and_us_core(samples):
    document_reference = load(samples, "sample.document-reference.json")
    validate_fhir(document_reference)
    text = us_core_checks(document_reference)
    assert "[CLARIFY: smoking history]" in text
    assert "µg" in text, "non-ASCII text survives base64"


def test_bundle_is_a_valid_r4_document(samples):
    bundle = load(samples, "sample.bundle.json")
    validate_fhir(bundle)
    assert bundle["type"] == "document"
    assert bundle["identifier"]["value"] and bundle["timestamp"]
    entries = bundle["entry"]
    assert [entry["resource"]["resourceType"] for entry in entries] == [
        "Composition",
        "Device",
        "DocumentReference",
    ]
    assert all(entry["fullUrl"].startswith("urn:uuid:") for entry in entries)

    composition = entries[0]["resource"]
    assert composition["status"] == "preliminary"
    authors = [author["reference"] for author in composition["author"]]
    assert entries[1]["fullUrl"] in authors, "the AI Device is an author"
    sections = {section["title"]: section for section in composition["section"]}
    assert list(sections) == ["Subjective", "Objective", "Assessment", "Plan"]
    assert sections["Plan"]["code"]["coding"][0] == {"system": "http://loinc.org", "code": "18776-5"}
    assert sections["Assessment"]["text"]["div"].startswith('<div xmlns="http://www.w3.org/1999/xhtml">')
    assert "&lt;2 weeks" in sections["Assessment"]["text"]["div"]

    document_reference = entries[2]["resource"]
    data = document_reference["content"][0]["attachment"]["data"]
    assert "Plan:" in base64.b64decode(data).decode("utf-8")


def test_docx_has_headings_and_highlighted_flags(samples):
    headings, paragraphs, highlighted_runs = docx_text(samples / "sample.docx")
    assert headings[0] == ("Heading 1", "SOAP progress note")
    for title in ["Subjective", "Objective", "Assessment", "Plan", "Flagged items", "ICD-10-CM codes"]:
        assert ("Heading 2", title) in headings, headings
    assert any("AI-generated draft, not signed" in paragraph for paragraph in paragraphs)
    assert any("J20.9" in paragraph for paragraph in paragraphs), "the code table"
    for flagged in [
        "[CLARIFY: smoking history]",
        "[CLARIFY: follow-up interval]",
        "smoking history",
        "follow-up interval",
        '"HR 92" does not appear in the dictation.',
    ]:
        assert flagged in highlighted_runs, highlighted_runs
    assert not any("Albuterol" in run for run in highlighted_runs), "only flags are highlighted"


def test_docx_renders_to_pdf(samples, tmp_path):
    pdf = docx_to_pdf(samples / "sample.docx", tmp_path)
    assert pdf.stat().st_size > 1000
