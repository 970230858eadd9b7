//! Integration tests of ward-clinical through its public API. The export test also writes sample
//! exports for the end-to-end checkers (tests/e2e/test_exports.py: FHIR R4 schema, US Core fields,
//! python-docx, LibreOffice) when `WARD_EXPORT_SAMPLES_DIR` names a folder.

mod exports;
