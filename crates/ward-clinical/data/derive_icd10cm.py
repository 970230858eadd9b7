#!/usr/bin/env python3
"""Derive Ward's ICD-10-CM table (icd10cm-2026.tsv.gz) from the official CDC/NCHS tabular XML.

Usage:
    python3 derive_icd10cm.py TABULAR_XML CODE_LIST [OUTPUT]

TABULAR_XML is icd10c-tabular-April-1-2026.xml and CODE_LIST is code-list-April-2026.txt, both
from the data/ folder of the PyPI package simple-icd-10-cm 1.5.0. OUTPUT defaults to
icd10cm-2026.tsv.gz beside this script. See README.md in this folder for the format.

The script checks its output against CODE_LIST (the same codes, chapters and blocks aside) and
exits non-zero, writing nothing, when they differ. Standard library only; the output is
byte-for-byte deterministic.
"""

import gzip
import io
import os
import re
import sys
import xml.etree.ElementTree as ET

EXPECTED_VERSION = "2026"


def clean(text):
    """One line of text: whitespace runs (tabs and newlines included) become one space."""
    return re.sub(r"\s+", " ", text or "").strip()


def undotted(code):
    return code.replace(".", "")


def seven_character_table(diag):
    """The diag's own <sevenChrDef> as [(character, meaning)], or None when it has none."""
    definition = diag.find("sevenChrDef")
    if definition is None:
        return None
    table = []
    for element in definition:
        if element.tag == "extension":
            table.append((element.attrib["char"], clean(element.text)))
        elif element.tag == "note":
            # A note qualifies the extension just before it (e.g. "stable" / "Old central retinal
            # vein occlusion").
            if not table:
                fail(f"{diag.findtext('name')}: <sevenChrDef> note before any extension")
            character, meaning = table[-1]
            table[-1] = (character, f"{meaning} / {clean(element.text)}")
    return table


def seven_character_applies(code, character):
    """The one restriction the tabular list states only in prose, in the <notes> of category S06:
    "7th characters D and S do not apply to codes in category S06 with 6th character 7 - death
    due to brain injury prior to regaining consciousness, or 8 - death due to other cause prior
    to regaining consciousness." The check against the code list catches any new such rule."""
    if code.startswith("S06.") and len(code) == 7 and code[6] in "78":
        return character not in "DS"
    return True


def inclusion_terms(diag):
    """Other names of the condition: the <inclusionTerm> notes and the <includes> notes, in
    document order. An <includes> note that ends with a full stop is an instruction ("This
    category is to be used when ..."), not a term, and is left out."""
    terms = []
    for element in diag:
        if element.tag not in ("inclusionTerm", "includes"):
            continue
        for note in element.findall("note"):
            term = clean(note.text).replace("|", "/")
            if not term or (element.tag == "includes" and term.endswith(".")):
                continue
            terms.append(term)
    return " | ".join(terms)


def walk(diag, inherited_seven, rows):
    """Append (code, billable, description, extra) rows for diag and everything under it."""
    code = clean(diag.findtext("name"))
    description = clean(diag.findtext("desc"))
    if not code or not description:
        fail(f"a <diag> without name or description (near {code!r})")
    own_seven = seven_character_table(diag)
    seven = own_seven if own_seven is not None else inherited_seven
    children = diag.findall("diag")
    extra = inclusion_terms(diag)
    if children:
        rows.append((code, 0, description, extra))
        for child in children:
            walk(child, seven, rows)
    elif seven is not None:
        # A leaf that takes a 7th character is not itself billable; each completed code is.
        rows.append((code, 0, description, extra))
        padded = code if "." in code else code + "."
        padded = padded.ljust(7, "X")
        for character, meaning in seven:
            if not seven_character_applies(padded, character):
                continue
            rows.append((padded + character, 1, f"{description}, {meaning}", ""))
    else:
        rows.append((code, 1, description, extra))


def fail(message):
    sys.stderr.write(f"derive_icd10cm: {message}\n")
    sys.exit(1)


def derive(xml_path):
    root = ET.parse(xml_path).getroot()
    version = clean(root.findtext("version"))
    if version != EXPECTED_VERSION:
        fail(f"expected ICD-10-CM version {EXPECTED_VERSION}, the XML says {version!r}")
    rows = []
    for chapter in root.findall("chapter"):
        for section in chapter.findall("section"):
            for diag in section.findall("diag"):
                walk(diag, None, rows)
    return rows


def check_against_code_list(rows, code_list_path):
    with open(code_list_path, encoding="utf-8") as handle:
        listed = {line.split()[0] for line in handle if line.strip()}
    # Chapters are numbers ("1".."22") and blocks are ranges ("A00-A09"); the rest are codes.
    expected = {code for code in listed if not code.isdigit() and "-" not in code}
    derived = [undotted(code) for code, _, _, _ in rows]
    duplicates = len(derived) - len(set(derived))
    derived = set(derived)
    missing = sorted(expected - derived)
    unexpected = sorted(derived - expected)
    if duplicates or missing or unexpected:
        fail(
            f"the derived table does not match {os.path.basename(code_list_path)}: "
            f"{duplicates} duplicates, {len(missing)} missing (first: {missing[:10]}), "
            f"{len(unexpected)} unexpected (first: {unexpected[:10]})"
        )


def write(rows, output_path):
    text = io.StringIO()
    for code, billable, description, extra in rows:
        for field in (code, description, extra):
            if "\t" in field or "\n" in field:
                fail(f"{code}: a field contains a tab or newline")
        text.write(f"{code}\t{billable}\t{description}\t{extra}\n")
    raw = io.BytesIO()
    # mtime=0 and no file name in the header: the same input always gives the same bytes.
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
        gz.write(text.getvalue().encode("utf-8"))
    with open(output_path, "wb") as handle:
        handle.write(raw.getvalue())


def main(argv):
    if len(argv) not in (3, 4):
        sys.stderr.write(__doc__)
        return 2
    output_path = argv[3] if len(argv) == 4 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "icd10cm-2026.tsv.gz"
    )
    rows = derive(argv[1])
    check_against_code_list(rows, argv[2])
    write(rows, output_path)
    billable = sum(1 for row in rows if row[1])
    print(f"wrote {output_path}: {len(rows)} codes, {billable} billable")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
