//! Telephone and fax numbers in North American and international shapes; a fax is known by its cue.

use regex::Regex;

use crate::finding::Recogniser;
use crate::scan::{Scan, NUMBER_BYTES};
use crate::PhiLabel;

pub(crate) struct PhoneRecogniser {
    pattern: Regex,
}

const FAX_CUES: &[&str] = &["fax", "f", "facsimile", "fx", "telefax"];
const PHONE_CUES: &[&str] = &[
    "phone",
    "tel",
    "telephone",
    "call",
    "cell",
    "mobile",
    "ph",
    "p",
    "contact",
    "number",
    "home",
    "work",
    "pager",
];

impl PhoneRecogniser {
    pub fn new() -> Self {
        let pattern = concat!(
            // North American: optional +1 / 1 / 001, area code (parenthesised or not), 3 + 4 digits.
            r"(?:(?:\+\s?1|001|1)[\s.-]?)?(?:\(\s?[0-9]{3}\s?\)\s?|[0-9]{3}[\s.-]?)[0-9]{3}[\s.-]?[0-9]{4}",
            r"(?:\s?(?:x|ext\.?|extension)\s?[0-9]{1,5})?",
            // International: +CC then 6-12 more digits in groups.
            r"|\+[0-9]{1,3}(?:[\s.-]?\(?[0-9]{1,4}\)?){2,5}",
        );
        PhoneRecogniser {
            pattern: Regex::new(pattern).expect("valid pattern"),
        }
    }

    pub fn scan(&self, scan: &mut Scan<'_>) {
        let mut found = Vec::new();
        for candidate in scan.matches_in_digit_runs(&self.pattern, &NUMBER_BYTES, (10, 0)) {
            let (start, end) = (candidate.start(), candidate.end());
            let digits = candidate
                .as_str()
                .bytes()
                .filter(u8::is_ascii_digit)
                .count();
            if !(10..=16).contains(&digits)
                || !scan.isolated(start, end)
                || scan.continues_number(start, end, b"./-")
            {
                continue;
            }
            let has_separator = candidate
                .as_str()
                .bytes()
                .any(|b| matches!(b, b' ' | b'-' | b'.' | b'(' | b'+'));
            let label = if scan.cue_before(start, 16, FAX_CUES) {
                PhiLabel::Fax
            } else {
                PhiLabel::Phone
            };
            // Ten bare digits could be another identifier; the label matters less than the catch.
            let confidence = if has_separator || scan.cue_before(start, 16, PHONE_CUES) {
                0.95
            } else {
                0.75
            };
            found.push((start, end, label, confidence));
        }
        for (start, end, label, confidence) in found {
            scan.push(start, end, label, Recogniser::Phone, confidence);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{check, labels};
    use crate::PhiLabel;

    #[test]
    fn phone_numbers_in_many_shapes() {
        check(
            "call (555) 123-4567 today",
            &[("(555) 123-4567", PhiLabel::Phone)],
        );
        check("cell: 555.123.4567", &[("555.123.4567", PhiLabel::Phone)]);
        check(
            "+1 555 123 4567 ext. 22",
            &[("+1 555 123 4567 ext. 22", PhiLabel::Phone)],
        );
        check(
            "001-203-555-0199x123",
            &[("001-203-555-0199x123", PhiLabel::Phone)],
        );
        check("ph 5551234567", &[("5551234567", PhiLabel::Phone)]);
        check(
            "whatsapp +44 20 7946 0958",
            &[("+44 20 7946 0958", PhiLabel::Phone)],
        );
    }

    #[test]
    fn a_fax_is_known_by_its_cue() {
        check("Fax: 555-987-6543", &[("555-987-6543", PhiLabel::Fax)]);
        check("f (555) 987-6543", &[("(555) 987-6543", PhiLabel::Fax)]);
    }

    #[test]
    fn short_numbers_and_lab_values_are_not_phones() {
        assert!(labels("BP 128/82, HR 88, K 4.1, 12-4567 units, 1.2345678").is_empty());
    }
}
