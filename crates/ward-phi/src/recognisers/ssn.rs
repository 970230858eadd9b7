//! Social Security numbers: NNN-NN-NNNN checked against the issuing rules, or nine digits after a cue.

use regex::Regex;

use crate::finding::Recogniser;
use crate::scan::{ByteSet, Scan};
use crate::PhiLabel;

pub(crate) struct SsnRecogniser {
    pattern: Regex,
}

/// What a run of digits holding an SSN may hold.
const RUN_BYTES: ByteSet = ByteSet::of(b"0123456789- ", true);

const CUES: &[&str] = &[
    "ssn",
    "ss#",
    "ss #",
    "social security",
    "social",
    "ss no",
    "soc sec",
];

impl SsnRecogniser {
    pub fn new() -> Self {
        SsnRecogniser {
            pattern: Regex::new(r"[0-9]{3}[- ]?[0-9]{2}[- ]?[0-9]{4}").expect("valid pattern"),
        }
    }

    pub fn scan(&self, scan: &mut Scan<'_>) {
        let mut found = Vec::new();
        for whole in scan.matches_in_digit_runs(&self.pattern, &RUN_BYTES, (9, 0)) {
            let (start, end) = (whole.start(), whole.end());
            if !scan.isolated(start, end) || scan.continues_number(start, end, b"-.") {
                continue;
            }
            // Both separators or neither, and the same: "123-45-6789", "123 45 6789", "123456789".
            let separators: Vec<u8> = whole
                .as_str()
                .bytes()
                .filter(|b| !b.is_ascii_digit())
                .collect();
            let alike =
                matches!(separators[..], [] | [_, _]) && separators.first() == separators.last();
            let dashed = separators == b"--";
            if !(dashed || scan.cue_before(start, 24, CUES)) || !alike {
                continue;
            }
            let digits: Vec<u8> = whole
                .as_str()
                .bytes()
                .filter(u8::is_ascii_digit)
                .map(|b| b - b'0')
                .collect();
            if is_issuable(&digits) {
                found.push((start, end, PhiLabel::Ssn, 0.97));
            } else {
                // Shaped like an SSN but never issued (an ITIN, a test number): still an identifier.
                found.push((start, end, PhiLabel::OtherId, 0.7));
            }
        }
        for (start, end, label, confidence) in found {
            scan.push(start, end, label, Recogniser::Ssn, confidence);
        }
    }
}

/// The Social Security Administration never issues area 000, 666 or 900-999, group 00 or serial 0000.
pub(crate) fn is_issuable(digits: &[u8]) -> bool {
    if digits.len() != 9 {
        return false;
    }
    let area = u32::from(digits[0]) * 100 + u32::from(digits[1]) * 10 + u32::from(digits[2]);
    let group = digits[3] * 10 + digits[4];
    let serial = digits[5..]
        .iter()
        .fold(0u32, |acc, d| acc * 10 + u32::from(*d));
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

#[cfg(test)]
mod tests {
    use crate::testing::{check, labels};
    use crate::PhiLabel;

    #[test]
    fn issuable_dashed_and_cued_numbers_are_ssns() {
        check("SSN 123-45-6789 on file", &[("123-45-6789", PhiLabel::Ssn)]);
        check(
            "social security number: 219 09 9999",
            &[("219 09 9999", PhiLabel::Ssn)],
        );
        check("ssn 078051120.", &[("078051120", PhiLabel::Ssn)]);
    }

    #[test]
    fn never_issued_numbers_are_other_identifiers_and_plain_numbers_are_not_ssns() {
        check("id 666-12-3456", &[("666-12-3456", PhiLabel::OtherId)]);
        assert!(!labels("scores 123 45 6789 and 12-34-5678").contains(&PhiLabel::Ssn));
    }
}
