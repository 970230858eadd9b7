//! The fabrication check: every number (doses, vitals, lab values, dates, durations) and every
//! medication in a model's output must be traceable to its input. Whatever is not gets a warning
//! that names it, so the clinician knows exactly what to verify.
//!
//! Numbers compare by value (`10` = `10.0`, `1,000` = `1000`); the input's spelled numbers
//! ("twice", "five") and month names count as their values. A dose whose number is in the input
//! only with another unit (`500 mg` in the note, `500 mcg` in the dictation) is a fabrication
//! too. Codes, `[CLARIFY: ...]` items and list numbering are not facts and are skipped.

use std::collections::BTreeSet;
use std::ops::Range;
use std::sync::OnceLock;

use regex::Regex;

use super::clarify_spans;
use crate::icd10;

const MEDICATIONS: &str = include_str!("../../data/medications.txt");

/// Endings of generic drug names (stems); a word of 7+ letters ending so is taken for a drug.
const DRUG_STEMS: &[&str] = &[
    "pril",
    "sartan",
    "olol",
    "alol",
    "statin",
    "dipine",
    "gliptin",
    "gliflozin",
    "glutide",
    "parin",
    "xaban",
    "gatran",
    "oxetine",
    "azepam",
    "azolam",
    "triptan",
    "prazole",
    "tidine",
    "cillin",
    "mycin",
    "cycline",
    "conazole",
    "navir",
    "clovir",
    "mab",
    "tinib",
    "semide",
    "thiazide",
    "olone",
    "asone",
    "lukast",
    "terol",
    "tropium",
    "codone",
    "morphone",
    "afil",
    "profen",
    "oxacin",
];

/// Units that make a number a dose; a dose must match its unit as well as its value.
const DOSE_UNITS: &[&str] = &[
    "mg", "mcg", "µg", "ug", "g", "gram", "grams", "kg", "ml", "l", "units", "unit", "iu", "meq",
    "mmol", "puffs", "puff", "tablets", "tablet", "tabs", "tab", "capsules", "capsule", "drops",
    "mg/kg", "mg/dl", "%",
];

const SPELLED: &[(&str, f64)] = &[
    ("once", 1.0),
    ("twice", 2.0),
    ("thrice", 3.0),
    ("one", 1.0),
    ("two", 2.0),
    ("three", 3.0),
    ("four", 4.0),
    ("five", 5.0),
    ("six", 6.0),
    ("seven", 7.0),
    ("eight", 8.0),
    ("nine", 9.0),
    ("ten", 10.0),
    ("eleven", 11.0),
    ("twelve", 12.0),
    ("thirteen", 13.0),
    ("fourteen", 14.0),
    ("fifteen", 15.0),
    ("sixteen", 16.0),
    ("seventeen", 17.0),
    ("eighteen", 18.0),
    ("nineteen", 19.0),
    ("twenty", 20.0),
    ("thirty", 30.0),
    ("forty", 40.0),
    ("fifty", 50.0),
    ("sixty", 60.0),
    ("seventy", 70.0),
    ("eighty", 80.0),
    ("ninety", 90.0),
    ("hundred", 100.0),
    ("half", 0.5),
    ("dozen", 12.0),
    ("single", 1.0),
    ("double", 2.0),
    ("bid", 2.0),
    ("tid", 3.0),
    ("qid", 4.0),
    ("daily", 1.0),
];

const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// The month (1 to 12) a whole word names: the full name or its three-letter abbreviation
/// ("sept" too). Words that merely begin like one ("febrile", "sepsis") are not months.
fn month_of(word: &str) -> Option<f64> {
    MONTHS
        .iter()
        .position(|month| {
            word == *month || word == &month[..3] || (word == "sept" && month.starts_with("sept"))
        })
        .map(|month| (month + 1) as f64)
}

fn number_pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| {
        Regex::new(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?").expect("number pattern compiles")
    })
}

fn word_pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| Regex::new(r"[A-Za-z][A-Za-z\-]*").expect("word pattern compiles"))
}

fn medication_names() -> &'static BTreeSet<&'static str> {
    static NAMES: OnceLock<BTreeSet<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        MEDICATIONS
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect()
    })
}

/// A number in a text, with the unit written right after it (lower case), if any.
#[derive(Debug, Clone, PartialEq)]
struct Quantity {
    value: f64,
    unit: Option<String>,
    span: Range<usize>,
}

fn parse_number(text: &str) -> Option<f64> {
    text.replace(',', "").parse().ok()
}

/// The unit word after byte `end`: `500 mg`, `500mg`, `7.2%`, `10 mg/kg`.
fn unit_after(text: &str, end: usize) -> Option<String> {
    let rest = &text[end..];
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    let unit: String = rest
        .chars()
        .take_while(|c| c.is_alphabetic() || *c == '%' || *c == '/' || *c == 'µ')
        .collect();
    let unit = unit.trim_end_matches('/').to_lowercase();
    (!unit.is_empty()).then_some(unit)
}

/// Numbers of `text` that are facts: not part of a word or code (`B12`, `COVID-19`, `E11.9`),
/// not a list number at the start of a line.
fn quantities(text: &str, skip: &[Range<usize>]) -> Vec<Quantity> {
    let bytes = text.as_bytes();
    number_pattern()
        .find_iter(text)
        .filter_map(|found| {
            let span = found.range();
            if skip
                .iter()
                .any(|range| range.start < span.end && span.start < range.end)
            {
                return None;
            }
            let before = text[..span.start].chars().next_back();
            let glued = match before {
                Some(c) if c.is_alphabetic() => true,
                Some('-') => text[..span.start - 1]
                    .chars()
                    .next_back()
                    .is_some_and(char::is_alphabetic),
                Some('.') => text[..span.start - 1]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_ascii_digit()),
                _ => false,
            };
            if glued {
                return None;
            }
            let line_start = text[..span.start].rfind('\n').map_or(0, |at| at + 1);
            let list_marker = text[line_start..span.start]
                .trim_start_matches([' ', '\t', '-', '*'])
                .is_empty()
                && matches!(bytes.get(span.end), Some(b'.') | Some(b')'))
                && !bytes.get(span.end + 1).is_some_and(u8::is_ascii_digit);
            if list_marker {
                return None;
            }
            Some(Quantity {
                value: parse_number(found.as_str())?,
                unit: unit_after(text, span.end),
                span,
            })
        })
        .collect()
}

fn is_medication(word: &str) -> bool {
    medication_names().contains(word)
        || (word.len() >= 7 && DRUG_STEMS.iter().any(|stem| word.ends_with(stem)))
}

/// Medication names in `text`, lower case, with their span; two-word names are found too.
fn medications(text: &str, skip: &[Range<usize>]) -> Vec<(String, Range<usize>)> {
    let words: Vec<(String, Range<usize>)> = word_pattern()
        .find_iter(text)
        .filter(|found| {
            !skip
                .iter()
                .any(|range| range.start <= found.start() && found.end() <= range.end)
        })
        .map(|found| (found.as_str().to_lowercase(), found.range()))
        .collect();
    let mut found = Vec::new();
    let mut index = 0;
    while index < words.len() {
        if let Some((next, next_span)) = words.get(index + 1) {
            let pair = format!("{} {}", words[index].0, next);
            if medication_names().contains(pair.as_str()) {
                found.push((pair, words[index].1.start..next_span.end));
                index += 2;
                continue;
            }
        }
        if is_medication(&words[index].0) {
            found.push(words[index].clone());
        }
        index += 1;
    }
    found
}

/// What the input says, in comparable form.
struct Evidence {
    values: Vec<f64>,
    /// Value and unit of every number written with a unit.
    with_units: Vec<(f64, String)>,
    words: BTreeSet<String>,
    lower: String,
}

impl Evidence {
    fn of(input: &str) -> Evidence {
        let mut values = Vec::new();
        let mut with_units = Vec::new();
        for quantity in quantities(input, &[]) {
            values.push(quantity.value);
            if let Some(unit) = quantity.unit {
                with_units.push((quantity.value, unit));
            }
        }
        let lower = input.to_lowercase();
        let words: BTreeSet<String> = word_pattern()
            .find_iter(&lower)
            .map(|found| found.as_str().to_owned())
            .collect();
        for word in &words {
            if let Some((_, value)) = SPELLED.iter().find(|(spelled, _)| spelled == word) {
                values.push(*value);
            }
            if let Some(month) = month_of(word) {
                values.push(month);
            }
        }
        Evidence {
            values,
            with_units,
            words,
            lower,
        }
    }

    fn has_value(&self, value: f64) -> bool {
        self.values.iter().any(|known| (known - value).abs() < 1e-9)
    }
}

fn is_dose_unit(unit: &str) -> bool {
    DOSE_UNITS.contains(&unit)
}

/// A short quote of the fact: the number with its unit, or the medication name.
fn quote(text: &str, span: &Range<usize>, unit: Option<&str>) -> String {
    match unit {
        Some(unit) => {
            let end = text[span.end..]
                .to_lowercase()
                .find(unit)
                .map_or(span.end, |at| span.end + at + unit.len());
            text[span.start..end.min(text.len())].to_owned()
        }
        None => text[span.clone()].to_owned(),
    }
}

/// One warning per fact of `output` that `input` does not support, in order of appearance.
pub fn warnings(input: &str, output: &str) -> Vec<String> {
    let evidence = Evidence::of(input);
    let mut skip: Vec<Range<usize>> = clarify_spans(output);
    skip.extend(
        icd10::find_codes_in(output)
            .into_iter()
            .map(|(span, _)| span),
    );
    let mut found: Vec<(usize, String)> = Vec::new();
    let mut seen = BTreeSet::new();
    for quantity in quantities(output, &skip) {
        let shown = quote(output, &quantity.span, quantity.unit.as_deref());
        if !seen.insert(shown.to_lowercase()) {
            continue;
        }
        if !evidence.has_value(quantity.value) {
            found.push((
                quantity.span.start,
                format!("\"{shown}\" is not in the input"),
            ));
            continue;
        }
        if let Some(unit) = quantity.unit.as_deref().filter(|unit| is_dose_unit(unit)) {
            let units_in_input: Vec<&str> = evidence
                .with_units
                .iter()
                .filter(|(value, other)| {
                    (value - quantity.value).abs() < 1e-9 && is_dose_unit(other)
                })
                .map(|(_, other)| other.as_str())
                .collect();
            if !units_in_input.is_empty() && !units_in_input.contains(&unit) {
                found.push((
                    quantity.span.start,
                    format!(
                        "\"{shown}\" does not match the input, which gives {} {}",
                        quantity.value, units_in_input[0]
                    ),
                ));
            }
        }
    }
    for (name, span) in medications(output, &skip) {
        if !seen.insert(name.clone()) {
            continue;
        }
        let named = if name.contains(' ') {
            evidence.lower.contains(&name)
        } else {
            evidence.words.contains(&name)
        };
        if !named {
            found.push((
                span.start,
                format!("medication \"{}\" is not in the input", &output[span]),
            ));
        }
    }
    found.sort_by_key(|(at, _)| *at);
    found.into_iter().map(|(_, warning)| warning).collect()
}

/// Does a dose (a number with a dose unit) follow `span` within a few words?
fn dose_follows(text: &str, span: &Range<usize>) -> bool {
    let after: String = text[span.end..].chars().take(48).collect();
    // The dose belongs to this medication only within its own clause.
    let end = [", ", ". ", ";", "\n"]
        .iter()
        .filter_map(|separator| after.find(separator))
        .min()
        .unwrap_or(after.len());
    let window = &after[..end];
    quantities(window, &[])
        .iter()
        .any(|quantity| quantity.unit.as_deref().is_some_and(is_dose_unit))
}

/// Medications the output names without a dose that neither the output nor the input gives
/// anywhere: the clinician has to supply them. One item per medication, e.g.
/// `dose of atorvastatin is not stated`; medications an existing `[CLARIFY]` item already names
/// are left out.
pub fn missing_doses(input: &str, output: &str, flagged: &[String]) -> Vec<String> {
    let skip = clarify_spans(output);
    let mut dosed: BTreeSet<String> = BTreeSet::new();
    for (text, skip) in [(input, &[][..]), (output, &skip[..])] {
        for (name, span) in medications(text, skip) {
            if dose_follows(text, &span) {
                dosed.insert(name);
            }
        }
    }
    let mut missing = Vec::new();
    for (name, _) in medications(output, &skip) {
        let already = flagged
            .iter()
            .any(|item| item.to_lowercase().contains(&name));
        let item = format!("dose of {name} is not stated");
        if !dosed.contains(&name) && !already && !missing.contains(&item) {
            missing.push(item);
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    const DICTATION: &str = "58 year old with type 2 diabetes, A1c 7.2% on 3/4. Taking metformin 500 mg twice daily and lisinopril 10 mg. BP 142/88, pulse 76. Follow up in three months.";

    #[test]
    fn a_faithful_note_has_no_warnings() {
        let note = "Assessment: 58-year-old with type 2 diabetes, A1c 7.2% (March 4).\nICD-10-CM: E11.9\nPlan:\n1. Continue metformin 500 mg BID.\n2. Lisinopril 10.0 mg daily.\n3. Return in 3 months. BP 142/88, HR 76.\n[CLARIFY: 2024 or 2025 for the A1c date]";
        assert_eq!(warnings(DICTATION, note), Vec::<String>::new());
    }

    #[test]
    fn an_injected_number_is_named() {
        let note = "Plan: metformin 1000 mg twice daily; LDL 130 mg/dL.";
        let found = warnings(DICTATION, note);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("1000 mg"), "{found:?}");
        assert!(
            found[1].contains("130 mg/dl") || found[1].contains("130 mg/dL"),
            "{found:?}"
        );
    }

    #[test]
    fn an_invented_medication_is_named() {
        let found = warnings(
            DICTATION,
            "Plan: start atorvastatin; add empagliflozin. Continue Metformin.",
        );
        assert_eq!(
            found,
            [
                "medication \"atorvastatin\" is not in the input",
                "medication \"empagliflozin\" is not in the input"
            ]
        );
    }

    #[test]
    fn a_dose_with_another_unit_is_a_fabrication() {
        let found = warnings("levothyroxine 50 mcg daily", "levothyroxine 50 mg daily");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("50 mg") && found[0].contains("mcg"),
            "{found:?}"
        );
    }

    #[test]
    fn codes_words_and_thousands_are_not_mistaken() {
        let input = "vitamin B12 low, WBC 12,500, COVID-19 negative";
        let note = "B12 deficiency (D51.9). WBC 12500. COVID-19 negative. ICD-10-CM: D519";
        assert!(
            warnings(input, note).is_empty(),
            "{:?}",
            warnings(input, note)
        );
    }

    #[test]
    fn a_medication_without_any_dose_is_flagged_once() {
        let input = "Start atorvastatin, dose not decided. Continue metformin 500 mg.";
        let note = "Plan: start atorvastatin. Continue metformin. Atorvastatin teaching done.";
        assert_eq!(
            missing_doses(input, note, &[]),
            ["dose of atorvastatin is not stated"]
        );
        let flagged = vec!["atorvastatin dose".to_owned()];
        assert!(missing_doses(input, note, &flagged).is_empty());
        assert!(missing_doses("lisinopril", "lisinopril 10 mg daily", &[]).is_empty());
    }

    #[test]
    fn spelled_numbers_in_the_input_support_digits_in_the_note() {
        assert!(warnings(
            "cough for five days, ibuprofen twice a day",
            "Cough x5 days; ibuprofen 2 times daily"
        )
        .is_empty());
    }

    #[test]
    fn only_whole_month_words_stand_for_months() {
        assert!(warnings("seen on Sept 3 and March 4", "Seen 9/3 and 3/4.").is_empty());
        // "febrile", "sepsis" and "novolog" begin like months but support nothing.
        let found = warnings(
            "febrile, sepsis workup, novolog sliding scale",
            "Febrile. Novolog 11 units before meals; recheck in 2 days.",
        );
        assert!(
            found.iter().any(|warning| warning.contains("11")),
            "{found:?}"
        );
        assert!(
            found.iter().any(|warning| warning.contains('2')),
            "{found:?}"
        );
    }
}
