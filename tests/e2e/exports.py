"""Checkers for Ward's FHIR and DOCX exports, shared by the end-to-end tests.

- `validate_fhir`: the official FHIR R4 JSON schema, through `node tests/fhir/validate.js`
  (install its packages once with `npm ci --prefix tests/fhir`; `cargo xtask ci` does).
- `us_core_checks`: the US Core DocumentReference fields Ward promises, and the AI provenance tag.
- `docx_text`: what python-docx reads from a DOCX: headings, paragraphs, highlighted runs.
- `docx_to_pdf`: a LibreOffice rendering, proof that an office suite opens the file.
"""

import base64
import json
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
FHIR_VALIDATOR = ROOT / "tests" / "fhir" / "validate.js"
US_CORE_DOCUMENT_REFERENCE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-documentreference"
US_CORE_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
LOINC = "http://loinc.org"
OBSERVATION_VALUE = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
IHE_FORMAT_CODE = "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode"
VALIDATOR_TIMEOUT_S = 120
PDF_TIMEOUT_S = 180


def validate_fhir(resource: dict) -> None:
    """Raises AssertionError with the validator's output unless `resource` (and, for a Bundle,
    each entry's resource) is valid against the FHIR R4 JSON schema."""
    with tempfile.TemporaryDirectory(prefix="ward-fhir-") as folder:
        path = pathlib.Path(folder) / f"{resource.get('resourceType', 'resource')}.json"
        path.write_text(json.dumps(resource), encoding="utf-8")
        result = subprocess.run(
            ["node", str(FHIR_VALIDATOR), str(path)],
            capture_output=True,
            text=True,
            timeout=VALIDATOR_TIMEOUT_S,
        )
    if result.returncode != 0:
        hint = ""
        if "Cannot find module" in result.stderr:
            hint = "\n(run `npm ci --prefix tests/fhir` to install the validator)"
        raise AssertionError(f"FHIR R4 schema validation failed:\n{result.stdout}{result.stderr}{hint}")


def _codings(concept: dict) -> list:
    return (concept or {}).get("coding", [])


def us_core_checks(document_reference: dict, require_subject: bool = True) -> str:
    """Asserts the US Core DocumentReference fields and Ward's AI provenance; returns the note text
    decoded from the attachment. US Core requires a subject; Ward never invents one, so a note
    exported without one is checked with `require_subject=False` (and claims no US Core profile)."""
    resource = document_reference
    assert resource.get("resourceType") == "DocumentReference", resource.get("resourceType")
    meta = resource.get("meta", {})
    if require_subject:
        assert US_CORE_DOCUMENT_REFERENCE in meta.get("profile", []), meta
        subject = resource.get("subject", {})
        assert subject.get("reference"), f"no subject reference: {subject}"
    else:
        assert "subject" in resource or US_CORE_DOCUMENT_REFERENCE not in meta.get("profile", []), (
            "claims US Core without a subject"
        )

    assert any(
        coding.get("system") == OBSERVATION_VALUE and coding.get("code") == "AIAST"
        for coding in meta.get("security", []) + meta.get("tag", [])
    ), f"no AIAST (AI asserted) label in meta: {meta}"

    identifiers = resource.get("identifier", [])
    assert identifiers and all(i.get("system") and i.get("value") for i in identifiers), identifiers
    assert resource.get("status") == "current", resource.get("status")
    assert resource.get("docStatus") == "preliminary", "Ward never signs a note"
    type_codings = _codings(resource.get("type"))
    assert any(c.get("system") == LOINC and c.get("code") for c in type_codings), type_codings
    assert any(
        coding.get("system") == US_CORE_CATEGORY and coding.get("code") == "clinical-note"
        for category in resource.get("category", [])
        for coding in _codings(category)
    ), resource.get("category")
    assert resource.get("date"), "no date"

    authors = resource.get("author", [])
    assert authors, "no author"
    contained = {item.get("id"): item for item in resource.get("contained", [])}
    devices = [
        contained.get(author.get("reference", "")[1:])
        for author in authors
        if author.get("reference", "").startswith("#")
    ]
    devices = [device for device in devices if device and device.get("resourceType") == "Device"]
    assert devices, f"the AI is not an author (a contained Device): {authors}"
    assert any(name.get("name") for name in devices[0].get("deviceName", [])), devices[0]

    contents = resource.get("content", [])
    assert contents, "no content"
    attachment = contents[0].get("attachment", {})
    assert attachment.get("contentType", "").startswith("text/plain"), attachment.get("contentType")
    assert attachment.get("language"), "no attachment language"
    assert attachment.get("creation"), "no attachment creation time"
    assert attachment.get("data"), "no attachment data"
    text = base64.b64decode(attachment["data"], validate=True).decode("utf-8")
    assert text.strip(), "empty note"
    if "size" in attachment:
        assert attachment["size"] == len(text.encode("utf-8")), attachment["size"]
    format_coding = contents[0].get("format", {})
    assert format_coding.get("system") == IHE_FORMAT_CODE and format_coding.get("code"), format_coding
    return text


def docx_text(path):
    """(headings, paragraphs, highlighted_runs) of a DOCX as python-docx reads it: headings are
    (style name, text) pairs, e.g. ("Heading 2", "Plan"); paragraphs are the other non-empty
    paragraphs, table cells included; highlighted_runs the text of each highlighted run."""
    import docx  # python-docx; imported here so the FHIR checks work without it

    document = docx.Document(str(path))
    paragraphs_in_order = list(document.paragraphs)
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                paragraphs_in_order.extend(cell.paragraphs)
    headings, paragraphs, highlighted_runs = [], [], []
    for paragraph in paragraphs_in_order:
        style = paragraph.style.name if paragraph.style is not None else ""
        if style == "Title" or style.startswith("Heading"):
            headings.append((style, paragraph.text))
        elif paragraph.text.strip():
            paragraphs.append(paragraph.text)
        highlighted_runs.extend(
            run.text for run in paragraph.runs if run.font.highlight_color is not None and run.text
        )
    return headings, paragraphs, highlighted_runs


def docx_to_pdf(path, outdir) -> pathlib.Path:
    """Renders a DOCX to PDF with headless LibreOffice (a private profile, so it neither needs nor
    touches a user's); returns the PDF's path."""
    path, outdir = pathlib.Path(path), pathlib.Path(outdir)
    program = shutil.which("libreoffice") or shutil.which("soffice")
    assert program, "LibreOffice is not installed (apt-get install libreoffice-writer-nogui)"
    outdir.mkdir(parents=True, exist_ok=True)
    profile = pathlib.Path(tempfile.mkdtemp(prefix="ward-libreoffice-"))
    command = [
        program,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--convert-to",
        "pdf",
        "--outdir",
        str(outdir),
        str(path),
    ]
    # Its own session, so a timeout ends soffice.bin too, not only the launcher script.
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        output, _ = process.communicate(timeout=PDF_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        raise AssertionError(f"LibreOffice did not convert {path} in {PDF_TIMEOUT_S}s:\n{output}")
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    pdf = outdir / f"{path.stem}.pdf"
    assert process.returncode == 0, f"LibreOffice failed ({process.returncode}):\n{output}"
    assert pdf.is_file() and pdf.stat().st_size > 0, f"no PDF from LibreOffice:\n{output}"
    assert pdf.read_bytes()[:5] == b"%PDF-", f"{pdf} is not a PDF"
    return pdf
