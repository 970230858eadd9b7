//! Fuzz target: arbitrary bytes through the PHI detector and every redaction mode.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| ward_phi::scan_and_redact_for_fuzzing(bytes));
