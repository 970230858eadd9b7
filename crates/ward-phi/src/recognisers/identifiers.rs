//! Record, plan, account, licence, vehicle, device and other identifiers: by cue word, by check
//! digit (NPI, DEA, VIN) and, last, any long number or long letter-digit code.

use regex::Regex;

use crate::finding::Recogniser;
use crate::lexicon::Kinds;
use crate::scan::{contains_word, Case, Scan};
use crate::PhiLabel;

pub(crate) struct IdentifierRecogniser {
    /// Six or more digits read out one by one in a dictation ("four one three seven ..."); six
    /// only after a record-number cue.
    spoken_digits: Regex,
    /// A run of cues (group 1), connective noise, and a value with a digit in it (group 2).
    cued: Regex,
    /// `cued` in three, each anchored: the run of cues, the noise after it, the value.
    cue_run: Regex,
    connective: Regex,
    value: Regex,
    /// A GS1 unique device identifier: "(01)" and 14 digits, then more "(AI)value" parts.
    udi: Regex,
    /// "PALM-NTYTKR", "iris-7513-hl" after a biometric cue: codes that may have no digit.
    biometric: Regex,
}

/// Cue words, longest first within a family, each with the label its value gets.
const CUES: &[(&str, PhiLabel)] = &[
    ("medical record number", PhiLabel::Mrn),
    ("medical record no", PhiLabel::Mrn),
    ("medical record", PhiLabel::Mrn),
    ("med rec", PhiLabel::Mrn),
    ("mrn", PhiLabel::Mrn),
    ("m r n", PhiLabel::Mrn),
    ("mr#", PhiLabel::Mrn),
    ("mr #", PhiLabel::Mrn),
    ("chart", PhiLabel::Mrn),
    ("record", PhiLabel::Mrn),
    ("patient id", PhiLabel::Mrn),
    ("patient identifier", PhiLabel::Mrn),
    ("pt id", PhiLabel::Mrn),
    ("hospital number", PhiLabel::Mrn),
    ("unit number", PhiLabel::Mrn),
    ("member id", PhiLabel::HealthPlanId),
    ("member number", PhiLabel::HealthPlanId),
    ("member", PhiLabel::HealthPlanId),
    ("subscriber id", PhiLabel::HealthPlanId),
    ("subscriber", PhiLabel::HealthPlanId),
    ("policy number", PhiLabel::HealthPlanId),
    ("policy", PhiLabel::HealthPlanId),
    ("insurance id", PhiLabel::HealthPlanId),
    ("insurance", PhiLabel::HealthPlanId),
    ("health plan", PhiLabel::HealthPlanId),
    ("plan id", PhiLabel::HealthPlanId),
    ("group number", PhiLabel::HealthPlanId),
    ("group", PhiLabel::HealthPlanId),
    ("grp", PhiLabel::HealthPlanId),
    ("medicare", PhiLabel::HealthPlanId),
    ("medicaid", PhiLabel::HealthPlanId),
    ("mbi", PhiLabel::HealthPlanId),
    ("hicn", PhiLabel::HealthPlanId),
    ("beneficiary", PhiLabel::HealthPlanId),
    ("account number", PhiLabel::AccountNumber),
    ("account", PhiLabel::AccountNumber),
    ("acct", PhiLabel::AccountNumber),
    ("billing", PhiLabel::AccountNumber),
    ("invoice", PhiLabel::AccountNumber),
    ("claim", PhiLabel::AccountNumber),
    ("encounter", PhiLabel::AccountNumber),
    ("visit", PhiLabel::AccountNumber),
    ("dea", PhiLabel::LicenseNumber),
    ("npi", PhiLabel::LicenseNumber),
    ("license", PhiLabel::LicenseNumber),
    ("licence", PhiLabel::LicenseNumber),
    ("lic", PhiLabel::LicenseNumber),
    ("driver's license", PhiLabel::LicenseNumber),
    ("dl", PhiLabel::LicenseNumber),
    ("certificate", PhiLabel::LicenseNumber),
    ("registration", PhiLabel::LicenseNumber),
    ("vin", PhiLabel::VehicleId),
    ("vehicle", PhiLabel::VehicleId),
    ("license plate", PhiLabel::VehicleId),
    ("plate", PhiLabel::VehicleId),
    ("tag", PhiLabel::VehicleId),
    ("serial number", PhiLabel::DeviceId),
    ("serial", PhiLabel::DeviceId),
    ("s/n", PhiLabel::DeviceId),
    ("sn", PhiLabel::DeviceId),
    ("device id", PhiLabel::DeviceId),
    ("device", PhiLabel::DeviceId),
    ("udi", PhiLabel::DeviceId),
    ("imei", PhiLabel::DeviceId),
    ("model", PhiLabel::DeviceId),
    ("lot", PhiLabel::DeviceId),
    ("implant", PhiLabel::DeviceId),
    ("pacemaker", PhiLabel::DeviceId),
    ("fingerprint", PhiLabel::BiometricId),
    ("biometric", PhiLabel::BiometricId),
    ("retina", PhiLabel::BiometricId),
    ("retinal", PhiLabel::BiometricId),
    ("voiceprint", PhiLabel::BiometricId),
    ("iris", PhiLabel::BiometricId),
    ("palm", PhiLabel::BiometricId),
    ("passport", PhiLabel::OtherId),
    ("case", PhiLabel::OtherId),
    ("reference", PhiLabel::OtherId),
    ("ref", PhiLabel::OtherId),
    ("confirmation", PhiLabel::OtherId),
    ("ticket", PhiLabel::OtherId),
    ("employee", PhiLabel::OtherId),
    ("badge", PhiLabel::OtherId),
    ("student", PhiLabel::OtherId),
    ("accession", PhiLabel::OtherId),
    ("specimen", PhiLabel::OtherId),
    ("order", PhiLabel::OtherId),
    ("id", PhiLabel::OtherId),
    ("identifier", PhiLabel::OtherId),
    ("no", PhiLabel::OtherId),
    ("number", PhiLabel::OtherId),
    ("#", PhiLabel::OtherId),
];

/// The cue phrases, for the lexicon to mark the words they start with.
pub(crate) fn cue_words() -> impl Iterator<Item = &'static str> {
    CUES.iter().map(|(cue, _)| *cue)
}

impl IdentifierRecogniser {
    pub fn new() -> Self {
        let mut cues: Vec<&str> = CUES.iter().map(|(cue, _)| *cue).collect();
        cues.sort_by_key(|cue| std::cmp::Reverse(cue.len()));
        let alternation = cues
            .iter()
            .map(|cue| regex::escape(cue))
            .collect::<Vec<_>>()
            .join("|");
        // Segments joined by "-", "." or "/", a digit in one of them, then more numbers after spaces.
        let segments = r"(?:(?:[a-z0-9]+[-./])*[a-z]*[0-9][a-z0-9]*(?:[-./][a-z0-9]+)*|[a-z0-9]+(?:[-./][a-z0-9]+)*(?: [0-9][a-z0-9-]{2,})+)";
        let value = format!(r"{segments}(?: [0-9][a-z0-9-]{{2,}})*");
        // cue, then connective noise ("#", "no.", "number:", "is"), then a value with a digit in it.
        let cue_run = format!(r"(?:{alternation})(?:[\s:]+(?:{alternation}))*");
        let connective = r"(?:\s*(?:#|no\.?|num(?:ber)?|nbr|id|code|is|was|of|:|=|-|\.)\s*)*\s*";
        let digit = format!("(?:{})", DIGIT_WORDS.join("|"));
        IdentifierRecogniser {
            spoken_digits: Regex::new(&format!(
                r"^(?:(?-u:\b)(?:{digit}[\s,-]+){{5,}}{digit}(?-u:\b))"
            ))
                .expect("valid pattern"),
            cued: Regex::new(&format!("^(?:({cue_run}){connective}({value}))"))
                .expect("valid pattern"),
            cue_run: Regex::new(&format!("^(?:{cue_run})")).expect("valid pattern"),
            connective: Regex::new(&format!("^(?:{connective})")).expect("valid pattern"),
            value: Regex::new(&format!("^(?:{value})")).expect("valid pattern"),
            udi: Regex::new(r"\(01\)[0-9]{14}(?:\([0-9]{2,4}\)[a-z0-9]+)*").expect("valid pattern"),
            biometric: Regex::new(r"(?-u:\b)(?:fingerprint|voiceprint|biometric|retina|iris scan|palm ?print|face ?print)(?:\s+(?:template|id|scan|print|hash))*\s*(?:#|:|id|is)?\s*([a-z]{2,}(?:-[a-z0-9]+){1,3})(?-u:\b)").expect("valid pattern"),
        }
    }

    pub fn scan(&self, scan: &mut Scan<'_>) {
        let mut found = Vec::new();
        // A cue starts a word: the pattern is tried, anchored, only where one may start.
        let cued = scan.tried_at(&cue_starts(scan), |_, rest| {
            self.cued_at(rest).map(|found| (found, found.2))
        });
        for (at, (cue_end, value_start, value_end)) in cued {
            let cue = &scan.lower[at..at + cue_end];
            let (value_start, value_end) = (at + value_start, at + value_end);
            // "pacemaker serial number": the most specific cue in the run names the label.
            let label = CUES
                .iter()
                .filter(|(text, _)| contains_word(cue, text))
                .map(|(_, label)| *label)
                .find(|label| *label != PhiLabel::OtherId)
                .unwrap_or(PhiLabel::OtherId);
            let value_text = &scan.lower[value_start..value_end];
            let digits = value_text.bytes().filter(u8::is_ascii_digit).count();
            let weak_cue = matches!(
                cue.trim(),
                "no" | "number" | "#" | "order" | "case" | "model" | "group" | "grp" | "record"
            );
            let enough = if weak_cue {
                digits >= 4
            } else {
                digits >= 2 || (digits >= 1 && value_text.len() >= 4)
            };
            if !enough || looks_like_a_measurement(scan, value_end) {
                continue;
            }
            // "iris-6600-hx": a cue word glued to the value is part of it.
            let mut start = value_start;
            if scan.lower[..start].ends_with('-') {
                start = scan.lower[..start - 1]
                    .rfind(|c: char| !c.is_ascii_alphanumeric())
                    .map_or(0, |at| at + 1);
            }
            // "plate 115 RAJ": the letters after a plate's digits belong to it.
            let mut end = value_end;
            if label == PhiLabel::VehicleId && value_text.bytes().all(|b| b.is_ascii_digit()) {
                let rest = &scan.lower[end..];
                let letters = rest.strip_prefix(' ').map_or(0, |after| {
                    after.bytes().take_while(u8::is_ascii_alphabetic).count()
                });
                let ends_word = rest
                    .as_bytes()
                    .get(1 + letters)
                    .is_none_or(|b| !b.is_ascii_alphanumeric());
                if (2..=4).contains(&letters) && ends_word {
                    end += 1 + letters;
                }
            }
            found.push((
                start,
                end,
                label,
                Recogniser::CuedIdentifier,
                if weak_cue { 0.7 } else { 0.9 },
            ));
        }
        for udi in self.udi.find_iter(&scan.lower) {
            found.push((
                udi.start(),
                udi.end(),
                PhiLabel::DeviceId,
                Recogniser::CuedIdentifier,
                0.9,
            ));
        }
        for captures in self.biometric.captures_iter(&scan.lower) {
            let code = captures.get(1).expect("code group");
            // Written in capitals or holding a digit: a code, not a word such as "normal-appearing".
            let original = &scan.text[code.start()..code.end()];
            let tail = original.split_once('-').map_or("", |(_, tail)| tail);
            let coded = original.bytes().any(|b| b.is_ascii_digit())
                || tail.bytes().all(|b| !b.is_ascii_lowercase());
            if coded {
                found.push((
                    code.start(),
                    code.end(),
                    PhiLabel::BiometricId,
                    Recogniser::CuedIdentifier,
                    0.85,
                ));
            }
        }
        for (start, end) in codes(scan) {
            let text = &scan.lower[start..end];
            if !scan.isolated(start, end) {
                continue;
            }
            if let Some(label) = checked_identifier(text) {
                found.push((start, end, label, Recogniser::CheckedIdentifier, 0.9));
                continue;
            }
            let digits = text.bytes().filter(u8::is_ascii_digit).count();
            let letters = text.bytes().filter(u8::is_ascii_alphabetic).count();
            let decimal = scan.continues_number(start, end, b".");
            let long_number = letters == 0 && digits >= 7 && !decimal;
            let long_code = letters > 0
                && digits >= 5
                && text.len() >= 6
                && !looks_like_a_measurement(scan, end);
            if long_number || long_code {
                found.push((start, end, PhiLabel::OtherId, Recogniser::LongNumber, 0.6));
            } else if letters == 0 && digits == 6 && bracketed_after_a_name(scan, start, end) {
                found.push((start, end, PhiLabel::Mrn, Recogniser::LongNumber, 0.7));
            }
        }
        for (start, end) in self.spoken_digits(scan) {
            let label = if scan.cue_before(
                start,
                30,
                &["reached", "phone", "call", "number is", "cell", "callback"],
            ) {
                PhiLabel::Phone
            } else if scan.cue_before(
                start,
                30,
                &["m r n", "mrn", "medical record", "record number"],
            ) {
                PhiLabel::Mrn
            } else {
                // Six digits read out are a record number only after its cue.
                if scan.lower[start..end]
                    .split([' ', ',', '-'])
                    .filter(|w| !w.is_empty())
                    .count()
                    < 7
                {
                    continue;
                }
                PhiLabel::OtherId
            };
            found.push((start, end, label, Recogniser::LongNumber, 0.8));
        }
        for (start, end, label, recogniser, confidence) in found {
            scan.push(start, end, label, recogniser, confidence);
        }
    }

    /// Where `cued`, anchored at the start of `rest`, ends its cue run and where its value starts
    /// and ends. Its first choice of cue run, then of noise, then the value after them are the
    /// groups a search for them would find, each part found on its own without backtracking;
    /// should no value follow those first choices, the whole pattern is searched for its groups.
    fn cued_at(&self, rest: &str) -> Option<(usize, usize, usize)> {
        if !self.cued.is_match(rest) {
            return None;
        }
        let run = self.cue_run.find(rest).map_or(0, |run| run.end());
        let start = run
            + self
                .connective
                .find(&rest[run..])
                .map_or(0, |noise| noise.end());
        if let Some(value) = self.value.find(&rest[start..]) {
            return Some((run, start, start + value.end()));
        }
        let groups = self.cued.captures(rest)?;
        let (cue, value) = (groups.get(1)?, groups.get(2)?);
        Some((cue.end(), value.start(), value.end()))
    }

    /// Six or more digits read out as words ("four one five, two two ..."), as a search of the
    /// whole text finds them: the pattern is tried only where a digit word starts.
    fn spoken_digits(&self, scan: &Scan<'_>) -> Vec<(usize, usize)> {
        let starts = scan.word_starts(|_, token| token.kinds.any(Kinds::DIGIT_WORD));
        scan.anchored_matches(&self.spoken_digits, &starts)
    }
}

/// The digits as words, as they are read out (`Kinds::DIGIT_WORD`).
pub(crate) const DIGIT_WORDS: &[&str] = &[
    "zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];

/// Where a cue may start, in order: a word that starts a cue phrase ("palm-p8g3df" and
/// "patient-id" hold one too), and a "#" after no letter or digit.
fn cue_starts(scan: &Scan<'_>) -> Vec<usize> {
    let bytes = scan.lower.as_bytes();
    let mut starts = scan.word_starts(|_, token| token.kinds.any(Kinds::ID_CUE));
    starts.extend(
        memchr::memchr_iter(b'#', bytes)
            .filter(|at| *at == 0 || !bytes[at - 1].is_ascii_alphanumeric()),
    );
    starts.sort_unstable();
    starts.dedup();
    starts
}

/// "Rose Down (788015)", "GARRETT, BLAKE (844482)", "bill brown (804191)": a number in brackets
/// right after a name word is the person's record number ("PLT (250000)", "Platelets (250000)"
/// are not: lab names).
fn bracketed_after_a_name(scan: &Scan<'_>, start: usize, end: usize) -> bool {
    let index = scan.token_at_or_after(start);
    if index == 0 || index >= scan.tokens.len() || scan.gap_before(index) != " (" {
        return false;
    }
    if !scan.lower[end..].starts_with(')') {
        return false;
    }
    let before = &scan.tokens[index - 1];
    let word = scan.word(index - 1);
    if scan.is(index - 1, Kinds::CLINICAL)
        || word.ends_with('s') && scan.is(index - 1, Kinds::ENGLISH)
    {
        return false;
    }
    match before.case {
        Case::Capitalised => true,
        Case::Upper => word.len() >= 5,
        Case::Lower => scan.is(index - 1, Kinds::FIRST_NAME | Kinds::LAST_NAME),
        _ => false,
    }
}

/// Runs of ASCII letters and digits joined by single hyphens ("ab12-3456"), left to right, each
/// as long as it goes; the runs without a digit are left out unless they could be a VIN. Only the
/// stretches of letters, digits and hyphens around a token with a digit or of 17 bytes or more
/// are walked: no other stretch holds such a run, and each begins and ends where a run must.
fn codes(scan: &Scan<'_>) -> Vec<(usize, usize)> {
    let bytes = scan.lower.as_bytes();
    let alphanumeric = |at: usize| bytes.get(at).is_some_and(u8::is_ascii_alphanumeric);
    let code_byte = |at: usize| alphanumeric(at) || bytes.get(at) == Some(&b'-');
    let mut found = Vec::new();
    // Every byte before `at` is walked.
    let mut at = 0;
    let candidates = scan
        .tokens
        .iter()
        .filter(|token| token.has_digit || token.end - token.start >= 17);
    for token in candidates {
        if token.end <= at {
            continue;
        }
        let mut from = token.start.max(at);
        while from > at && code_byte(from - 1) {
            from -= 1;
        }
        let mut to = token.end;
        while code_byte(to) {
            to += 1;
        }
        at = from;
        while at < to {
            if !bytes[at].is_ascii_alphanumeric() {
                at += 1;
                continue;
            }
            let start = at;
            let mut digit = false;
            loop {
                while alphanumeric(at) {
                    digit |= bytes[at].is_ascii_digit();
                    at += 1;
                }
                if bytes.get(at) == Some(&b'-') && alphanumeric(at + 1) {
                    at += 1;
                } else {
                    break;
                }
            }
            if digit || at - start == 17 {
                found.push((start, at));
            }
        }
    }
    found
}

/// "policy 2 mg", "group 3 x 10" or "id 40 units": a number followed by a unit is not an identifier.
fn looks_like_a_measurement(scan: &Scan<'_>, end: usize) -> bool {
    const UNITS: &[&str] = &[
        "mg", "mcg", "ml", "units", "kg", "lb", "lbs", "cm", "mm", "%", "days", "weeks", "years",
        "hours", "times", "x",
    ];
    let after = scan.lower[end..].trim_start();
    UNITS.iter().any(|unit| {
        after.starts_with(unit)
            && !after[unit.len()..].starts_with(|c: char| c.is_ascii_alphanumeric())
    })
}

/// A code whose own check digit proves what it is: NPI (Luhn), DEA number, VIN.
fn checked_identifier(code: &str) -> Option<PhiLabel> {
    let bytes = code.as_bytes();
    if bytes.len() == 10
        && bytes.iter().all(u8::is_ascii_digit)
        && matches!(bytes[0], b'1' | b'2')
        && npi_check(bytes)
    {
        return Some(PhiLabel::LicenseNumber);
    }
    if bytes.len() == 9
        && bytes[..2].iter().all(u8::is_ascii_alphabetic)
        && bytes[2..].iter().all(u8::is_ascii_digit)
        && dea_check(bytes)
    {
        return Some(PhiLabel::LicenseNumber);
    }
    if bytes.len() == 17 && vin_check(bytes) {
        return Some(PhiLabel::VehicleId);
    }
    None
}

/// NPI: Luhn over the prefix 80840 followed by the ten digits.
pub(crate) fn npi_check(digits: &[u8]) -> bool {
    let mut sum = 24; // the Luhn contribution of the 80840 prefix
    for (position, digit) in digits.iter().rev().map(|b| u32::from(b - b'0')).enumerate() {
        sum += if position % 2 == 1 {
            let doubled = digit * 2;
            doubled / 10 + doubled % 10
        } else {
            digit
        };
    }
    sum % 10 == 0
}

/// DEA: two letters, six digits and a check digit = (d1+d3+d5 + 2(d2+d4+d6)) mod 10.
fn dea_check(code: &[u8]) -> bool {
    let digit = |i: usize| u32::from(code[2 + i] - b'0');
    let sum = digit(0) + digit(2) + digit(4) + 2 * (digit(1) + digit(3) + digit(5));
    sum % 10 == digit(6)
}

/// VIN: 17 characters without I, O or Q, whose ninth is the weighted check digit (or X).
pub(crate) fn vin_check(code: &[u8]) -> bool {
    const WEIGHTS: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
    let value = |b: u8| -> Option<u32> {
        match b.to_ascii_uppercase() {
            d @ b'0'..=b'9' => Some(u32::from(d - b'0')),
            b'A' | b'J' => Some(1),
            b'B' | b'K' | b'S' => Some(2),
            b'C' | b'L' | b'T' => Some(3),
            b'D' | b'M' | b'U' => Some(4),
            b'E' | b'N' | b'V' => Some(5),
            b'F' | b'W' => Some(6),
            b'G' | b'P' | b'X' => Some(7),
            b'H' | b'Y' => Some(8),
            b'R' | b'Z' => Some(9),
            _ => None,
        }
    };
    let mut sum = 0;
    for (byte, weight) in code.iter().zip(WEIGHTS) {
        match value(*byte) {
            Some(v) => sum += v * weight,
            None => return false,
        }
    }
    let check = sum % 11;
    let expected = if check == 10 {
        b'X'
    } else {
        b'0' + check as u8
    };
    code[8].to_ascii_uppercase() == expected && code.iter().any(u8::is_ascii_alphabetic)
}

#[cfg(test)]
mod tests {
    use crate::testing::{check, labels};
    use crate::PhiLabel;
    use proptest::prelude::*;

    /// The runs `codes` finds, by a walk over every byte of the text.
    fn codes_of_the_whole_text(lower: &str) -> Vec<(usize, usize)> {
        let bytes = lower.as_bytes();
        let alphanumeric = |at: usize| bytes.get(at).is_some_and(u8::is_ascii_alphanumeric);
        let (mut found, mut at) = (Vec::new(), 0);
        while at < bytes.len() {
            if !alphanumeric(at) {
                at += 1;
                continue;
            }
            let (start, mut digit) = (at, false);
            while alphanumeric(at) || bytes.get(at) == Some(&b'-') && alphanumeric(at + 1) {
                digit |= bytes[at].is_ascii_digit();
                at += 1;
            }
            if digit || at - start == 17 {
                found.push((start, at));
            }
        }
        found
    }

    proptest! {
        /// Walking only the stretches around number tokens and long tokens finds every code.
        #[test]
        fn codes_around_tokens_are_the_codes_of_the_whole_text(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "a", "b7", "12", "-", "--", "'", "x-", " ", ".", "\u{e9}", "abcdefghij", "klmnopq",
                "1hgcm82633a004352", "o'b", "-4", "(", "\n",
            ]), 0..30)
        ) {
            let text = pieces.concat();
            let scan = crate::scan::Scan::new(&text, &crate::Detector::shared().lexicon);
            prop_assert_eq!(super::codes(&scan), codes_of_the_whole_text(&scan.lower));
        }

        /// Tried only where a digit word starts, the spoken-digits pattern finds what a search of
        /// the whole text finds.
        #[test]
        fn spoken_digits_from_their_starts_are_those_of_the_whole_text(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "one ", "two, ", "oh-", "nine ", "zero", "six", " ", "-", "x", "\n", "é", "_", "ones",
            ]), 0..30)
        ) {
            let text = pieces.concat();
            let detector = crate::Detector::shared();
            let scan = crate::scan::Scan::new(&text, &detector.lexicon);
            let whole = crate::testing::unanchored(&detector.identifiers.spoken_digits);
            let expected: Vec<(usize, usize)> = whole
                .find_iter(&scan.lower)
                .map(|found| (found.start(), found.end()))
                .collect();
            prop_assert_eq!(detector.identifiers.spoken_digits(&scan), expected);
        }

        /// The cue run, noise and value found part by part are the groups of the whole pattern.
        #[test]
        fn cued_parts_found_one_by_one_are_the_groups_of_the_whole_pattern(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "mrn", "medical record", "number", "no", "no.", "id", "member", "#", ":", " ", "  ",
                "-", ".", "is", "code", "12", "4471", "ab", "x7", "-3", "/", "\n", "é", "of",
            ]), 0..16)
        ) {
            let text = pieces.concat();
            let identifiers = &crate::Detector::shared().identifiers;
            for at in (0..text.len()).filter(|at| text.is_char_boundary(*at)) {
                let rest = &text[at..];
                let expected = identifiers.cued.captures(rest).map(|groups| {
                    let (cue, value) = (groups.get(1).unwrap(), groups.get(2).unwrap());
                    (cue.end(), value.start(), value.end())
                });
                prop_assert_eq!(identifiers.cued_at(rest), expected, "at {}", at);
            }
        }
    }

    #[test]
    fn identifiers_after_cue_words() {
        check(
            "Member ID: ZX51840H | Grp: 65448",
            &[
                ("ZX51840H", PhiLabel::HealthPlanId),
                ("65448", PhiLabel::HealthPlanId),
            ],
        );
        check("MRN: 4827193", &[("4827193", PhiLabel::Mrn)]);
        check("Med Rec # A-00482719", &[("A-00482719", PhiLabel::Mrn)]);
        check(
            "member ID XGH448229101",
            &[("XGH448229101", PhiLabel::HealthPlanId)],
        );
        check(
            "policy #: 99-8812-7",
            &[("99-8812-7", PhiLabel::HealthPlanId)],
        );
        check("acct 000938271", &[("000938271", PhiLabel::AccountNumber)]);
        check(
            "pacemaker serial number PM2231987X",
            &[("PM2231987X", PhiLabel::DeviceId)],
        );
        check("plate 7ABC123 seen", &[("7ABC123", PhiLabel::VehicleId)]);
        check(
            "fingerprint id FP-88213",
            &[("FP-88213", PhiLabel::BiometricId)],
        );
        // A cue inside a hyphenated word, and "#" after a space.
        check("patient-id 4471823", &[("4471823", PhiLabel::OtherId)]);
        check("ticket # 88213944", &[("88213944", PhiLabel::OtherId)]);
    }

    #[test]
    fn a_cue_is_a_whole_word() {
        // "id" in "Idaho", "billing" in "billings": the ZIP is a place, not an identifier.
        check(
            "Boise, Idaho 83702",
            &[("Boise", PhiLabel::Location), ("83702", PhiLabel::Location)],
        );
        check("billings 82774 total", &[]);
        check("acid 10 mmol", &[]);
    }

    #[test]
    fn plates_device_identifiers_and_biometric_codes() {
        check("plate 832 RCL seen", &[("832 RCL", PhiLabel::VehicleId)]);
        check(
            "UDI (01)04921343465474(17)210221(10)SUZY9D(21)AE39V1UH - which implant",
            &[(
                "(01)04921343465474(17)210221(10)SUZY9D(21)AE39V1UH",
                PhiLabel::DeviceId,
            )],
        );
        check(
            "voiceprint ID PALM-NTYTKR failed",
            &[("PALM-NTYTKR", PhiLabel::BiometricId)],
        );
        check(
            "fingerprint id iris-6600-hx didn't match",
            &[("iris-6600-hx", PhiLabel::BiometricId)],
        );
        check("fingerprint is normal-appearing", &[]);
    }

    #[test]
    fn check_digits_identify_npi_dea_and_vin_without_cues() {
        check(
            "prescriber 1245319599 signed",
            &[("1245319599", PhiLabel::LicenseNumber)],
        );
        check(
            "reg AB1234563 ok",
            &[("AB1234563", PhiLabel::LicenseNumber)],
        );
        check(
            "car 1M8GDM9AXKP042788 parked",
            &[("1M8GDM9AXKP042788", PhiLabel::VehicleId)],
        );
    }

    #[test]
    fn long_numbers_are_identifiers_but_doses_and_lab_values_are_not() {
        check(
            "ref 20230419887 attached",
            &[("20230419887", PhiLabel::OtherId)],
        );
        check(
            "can be reached at four one three seven three one oh four four eight per",
            &[(
                "four one three seven three one oh four four eight",
                PhiLabel::Phone,
            )],
        );
        assert!(labels(
            "policy change: take 2 tabs; group 3 had 40 units; grp 2 met; WBC 11.3; plt 250000; PLT (250000); Platelets (250000)"
        )
        .is_empty());
        assert!(labels("the order of tests; case 1 of 3; record 4 mg").is_empty());
        check(
            "medical record number eight five zero six two eight strength is",
            &[("eight five zero six two eight", PhiLabel::Mrn)],
        );
        check(
            "patient name strong, scott m r n 163453 date of birth",
            &[("strong, scott", PhiLabel::Name), ("163453", PhiLabel::Mrn)],
        );
        assert!(labels("repeat two two one one three three times").is_empty());
    }
}
