//! Clinical profiles (baked system prompts), output checks, ICD-10-CM table, FHIR and DOCX export. Filled by a later issue.
