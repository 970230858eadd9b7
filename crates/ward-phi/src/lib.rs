//! PHI detection, redaction and pseudonymisation for Ward: pure functions over text, no IO. Filled by a later issue.
