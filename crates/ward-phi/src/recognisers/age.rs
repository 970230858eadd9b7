//! Ages over 89 ("92-year-old", "94 yo", "age 91", "nonagenarian"); ages up to 89 are not PHI.

use regex::Regex;

use crate::finding::Recogniser;
use crate::lexicon::Kinds;
use crate::scan::Scan;
use crate::PhiLabel;

pub(crate) struct AgeRecogniser {
    pattern: Regex,
}

/// The words an age over 89 may start with (`Kinds::AGE_START`); the others start with a number.
pub(crate) const START_WORDS: &[&str] = &[
    "age",
    "aged",
    "ages",
    "in",
    "ninety",
    "one",
    "nonagenarian",
    "centenarian",
    "supercentenarian",
];

impl AgeRecogniser {
    pub fn new() -> Self {
        let over_89 = r"(?:9[0-9]|1[0-1][0-9]|120)";
        let alternatives = [
            // 92-year-old, 92 years old, 92 yrs, 92 y/o, 92yo, 92 yoF, 92-yr-old
            format!(r"(?-u:\b){over_89}(?:[\s-]*(?:y/o[mf]?|y\.o\.|yo[mf]?|y/o)|[\s-]*(?:years?|yrs?|y)(?:[\s-]*(?:old|of age))?|\s?(?:male|female|m|f))"),
            // age 91, aged 95, age: 101
            format!(r"(?-u:\b)(?:age|aged|ages|age of)\s*:?\s*({over_89})(?-u:\b)"),
            // in her 90s, nineties
            r"(?-u:\b)(?:in\s+(?:his|her|their)\s+)(?:90s|nineties|100s)(?-u:\b)".to_string(),
            r"(?-u:\b)(?:nonagenarian|centenarian|supercentenarian)(?-u:\b)".to_string(),
            r"(?-u:\b)(?:ninety|one hundred)(?:[\s-](?:one|two|three|four|five|six|seven|eight|nine))?[\s-](?:year|yr)s?[\s-]old(?-u:\b)".to_string(),
            // read out digit by digit: "one oh two years old"
            r"(?-u:\b)one\s+(?:oh|zero|one)\s+(?:oh|zero|one|two|three|four|five|six|seven|eight|nine)[\s-](?:year|yr)s?[\s-]old(?-u:\b)".to_string(),
        ];
        AgeRecogniser {
            pattern: Regex::new(&format!("^(?:{})", alternatives.join("|")))
                .expect("valid pattern"),
        }
    }

    pub fn scan(&self, scan: &mut Scan<'_>) {
        let mut found = Vec::new();
        // Every form starts with a number from 90 to 120 and a unit, or with one of a few words.
        let next_is = |index: usize, words: &[&str]| {
            index + 1 < scan.tokens.len() && words.contains(&scan.word(index + 1))
        };
        let starts = scan.word_starts(|index, token| {
            if !(token.has_digit || token.kinds.any(Kinds::AGE_START)) {
                return false;
            }
            let word = &scan.lower.as_bytes()[token.start..token.core_end];
            let digits = || word.iter().take_while(|b| b.is_ascii_digit()).count();
            // After the number, spaces or hyphens and then "y" ("yo", "years"), "m" or "f".
            let unit_after = |digits: usize| {
                scan.lower[token.start + digits..]
                    .trim_start_matches(|c: char| c.is_whitespace() || c == '-')
                    .starts_with(['y', 'm', 'f'])
            };
            match word {
                [b'9', _, ..] => digits() == 2 && unit_after(2),
                [b'1', b'0' | b'1', _, ..] | [b'1', b'2', b'0', ..] => {
                    digits() == 3 && unit_after(3)
                }
                b"in" => next_is(index, &["his", "her", "their"]),
                b"one" => next_is(index, &["oh", "zero", "one", "hundred"]),
                // Another number, or one of the other `START_WORDS`.
                _ => !token.has_digit,
            }
        });
        for (at, captures) in scan.anchored_captures(&self.pattern, &starts) {
            let span = captures
                .get(1)
                .unwrap_or_else(|| captures.get(0).expect("group 0"));
            let span = at + span.start()..at + span.end();
            let end = span.start + scan.lower[span.clone()].trim_end().len();
            // "92 mg" or "93 ml" go on past the match: a dose, not an age.
            if scan.lower[end..].starts_with(|c: char| c.is_alphanumeric() || c == '%') {
                continue;
            }
            // "T 99 F" is a temperature.
            if scan.cue_before(
                span.start,
                14,
                &["t", "temp", "tmax", "temperature", "fever", "febrile"],
            ) {
                continue;
            }
            found.push((span.start, end));
        }
        for (start, end) in found {
            scan.push(start, end, PhiLabel::Age, Recogniser::Age, 0.9);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{check, labels};
    use crate::PhiLabel;

    #[test]
    fn ages_over_89() {
        check("a 92-year-old woman", &[("92-year-old", PhiLabel::Age)]);
        check("94 yo M", &[("94 yo", PhiLabel::Age)]);
        check("age 91, lives alone", &[("91", PhiLabel::Age)]);
        check("pt 97F with", &[("97F", PhiLabel::Age)]);
        check("a nonagenarian", &[("nonagenarian", PhiLabel::Age)]);
        check(
            "he is a one oh two years old gentleman",
            &[("one oh two years old", PhiLabel::Age)],
        );
    }

    #[test]
    fn ages_up_to_89_and_other_numbers_are_not_ages() {
        for text in [
            "a 67-year-old man",
            "age 89",
            "SpO2 95% on RA",
            "90 mg daily",
            "HR 98, 99.1 F",
            "Temp 99 F",
            "one of two years old children",
        ] {
            assert!(labels(text).is_empty(), "{text}");
        }
    }
}
