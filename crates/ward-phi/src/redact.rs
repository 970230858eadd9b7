//! Redaction of findings: `mask` ("[NAME]"), `tag` ("[NAME_1]", one number per distinct value) and
//! pseudonymisation (consistent surrogates, dates shifted by one offset per conversation, and a
//! mapping that puts the real values back into a model's answer).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use rustc_hash::{FxHashMap, FxHasher};

use crate::lexicon::MONTHS;
use crate::{Finding, PhiLabel};

/// How `redact` replaces a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedactionMode {
    /// `[NAME]`
    Mask,
    /// `[NAME_1]`, the same number for the same value within one text.
    Tag,
}

impl FromStr for RedactionMode {
    type Err = String;

    fn from_str(mode: &str) -> Result<Self, Self::Err> {
        match mode {
            "mask" => Ok(RedactionMode::Mask),
            "tag" => Ok(RedactionMode::Tag),
            other => Err(format!("unknown redaction mode {other:?}: use mask or tag")),
        }
    }
}

/// `text` with every finding replaced; text outside findings is unchanged.
pub fn redact(text: &str, findings: &[Finding], mode: RedactionMode) -> String {
    Tagger::default().apply(text, findings, mode)
}

/// Detects and redacts `text`, then rescans the result until the detector finds nothing more
/// (a placeholder can change the context of what stood next to it), so applying it twice
/// changes nothing.
pub fn redact_text(detector: &crate::Detector, text: &str, mode: RedactionMode) -> String {
    let mut tagger = Tagger::default();
    let mut current = tagger.apply(text, &detector.detect(text), mode);
    for _ in 0..4 {
        let findings = detector.detect(&current);
        if findings.is_empty() {
            break;
        }
        current = tagger.apply(&current, &findings, mode);
    }
    current
}

/// Tag numbers shared by every pass over one text.
#[derive(Default)]
struct Tagger {
    tags: FxHashMap<(PhiLabel, String), usize>,
    per_label: FxHashMap<PhiLabel, usize>,
}

impl Tagger {
    fn apply(&mut self, text: &str, findings: &[Finding], mode: RedactionMode) -> String {
        let Tagger { tags, per_label } = self;
        replace_findings(text, findings, |finding, value| match mode {
            RedactionMode::Mask => format!("[{}]", finding.label),
            RedactionMode::Tag => {
                let number = *tags
                    .entry((finding.label, normalise(value)))
                    .or_insert_with(|| {
                        let counter = per_label.entry(finding.label).or_insert(0);
                        *counter += 1;
                        *counter
                    });
                format!("[{}_{number}]", finding.label)
            }
        })
    }
}

fn replace_findings(
    text: &str,
    findings: &[Finding],
    mut replacement: impl FnMut(&Finding, &str) -> String,
) -> String {
    let mut output = String::with_capacity(text.len());
    let mut cursor = 0;
    for finding in findings {
        if finding.start < cursor
            || finding.end > text.len()
            || !text.is_char_boundary(finding.start)
            || !text.is_char_boundary(finding.end)
        {
            continue;
        }
        output.push_str(&text[cursor..finding.start]);
        output.push_str(&replacement(finding, &text[finding.start..finding.end]));
        cursor = finding.end;
    }
    output.push_str(&text[cursor..]);
    output
}

fn normalise(value: &str) -> String {
    value
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Byte ranges of placeholders that redaction wrote ("[NAME]", "[DATE_2]"): never PHI themselves.
pub(crate) fn placeholders(text: &str) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    for open in memchr::memchr_iter(b'[', text.as_bytes()) {
        let rest = &text[open + 1..];
        let Some(close) = rest.find(']') else { break };
        let inner = &rest[..close];
        let label = inner.trim_end_matches(|c: char| c.is_ascii_digit());
        let label = label
            .strip_suffix('_')
            .filter(|_| label.len() < inner.len())
            .unwrap_or(inner);
        if label.parse::<PhiLabel>().is_ok() {
            ranges.push((open, open + close + 2));
        }
    }
    ranges
}

/// One value and the surrogate that stands for it.
#[derive(Clone, PartialEq, Eq)]
pub struct Surrogate {
    pub label: PhiLabel,
    pub original: String,
    pub surrogate: String,
}

impl fmt::Debug for Surrogate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Surrogate")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

/// Consistent surrogates for one conversation. The mapping stays in memory: it is only handed out
/// by [`Pseudonymiser::mapping`], and `Debug` never prints it.
pub struct Pseudonymiser {
    conversation_key: u64,
    date_shift_days: i64,
    by_value: FxHashMap<(PhiLabel, String), usize>,
    surrogates: Vec<Surrogate>,
}

impl fmt::Debug for Pseudonymiser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pseudonymiser")
            .field("surrogates", &self.surrogates.len())
            .finish_non_exhaustive()
    }
}

/// Restores original values in a streamed answer; made by [`Pseudonymiser::restorer`].
pub struct Restorer {
    automaton: Option<AhoCorasick>,
    originals: Vec<String>,
    longest: usize,
    pending: String,
}

impl fmt::Debug for Restorer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Restorer")
            .field("pending_bytes", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl Restorer {
    /// Takes the next piece of the answer and returns the text that is now final, restored.
    pub fn push(&mut self, piece: &str) -> String {
        self.pending.push_str(piece);
        let Some(automaton) = &self.automaton else {
            return std::mem::take(&mut self.pending);
        };
        // A match starting before `cut` would have to end within the text we have, so text up to
        // `cut` is final, unless a match crosses it: then that match waits for more text.
        let mut cut = self
            .pending
            .len()
            .saturating_sub(self.longest.saturating_sub(1));
        while !self.pending.is_char_boundary(cut) {
            cut -= 1;
        }
        for found in automaton.find_iter(&self.pending) {
            if found.start() < cut && found.end() > cut {
                cut = found.start();
                break;
            }
        }
        let tail = self.pending.split_off(cut);
        let ready = std::mem::replace(&mut self.pending, tail);
        self.restore(&ready)
    }

    /// The held-back rest, restored, once the answer is complete.
    pub fn finish(&mut self) -> String {
        let rest = std::mem::take(&mut self.pending);
        self.restore(&rest)
    }

    fn restore(&self, text: &str) -> String {
        let Some(automaton) = &self.automaton else {
            return text.to_owned();
        };
        let mut output = String::with_capacity(text.len());
        automaton.replace_all_with(text, &mut output, |found, _, dst| {
            dst.push_str(&self.originals[found.pattern().as_usize()]);
            true
        });
        output
    }
}

const GIVEN_NAMES: &[&str] = &[
    "Avery", "Jordan", "Morgan", "Casey", "Riley", "Quinn", "Harper", "Rowan", "Emerson", "Finley",
    "Hayden", "Reese", "Skyler", "Dakota", "Peyton", "Sawyer", "Blair", "Elliot", "Marlowe",
    "Lennox",
];
const FAMILY_NAMES: &[&str] = &[
    "Ashford",
    "Bramley",
    "Calloway",
    "Dunmore",
    "Ellery",
    "Fairbanks",
    "Garrow",
    "Halloway",
    "Ingram",
    "Kesler",
    "Langford",
    "Merriweather",
    "Northcott",
    "Oakley",
    "Pemberton",
    "Quimby",
    "Radley",
    "Stanton",
    "Thorne",
    "Whitlock",
];
const TOWNS: &[&str] = &[
    "Fairview",
    "Riverton",
    "Oakdale",
    "Maplewood",
    "Brookfield",
    "Lakeside",
    "Cedar Falls",
    "Hillcrest",
    "Westbrook",
    "Pine Ridge",
    "Millbrook",
    "Ashland",
    "Clearwater",
    "Greendale",
    "Kingsford",
    "Stonebridge",
];
const STREETS: &[&str] = &[
    "Maple", "Cedar", "Birch", "Willow", "Juniper", "Aspen", "Linden", "Hawthorn", "Sycamore",
    "Chestnut",
];
const STREET_TYPES: &[&str] = &["Street", "Avenue", "Road", "Lane", "Drive", "Court"];

impl Pseudonymiser {
    /// A pseudonymiser for one conversation; the same key gives the same surrogates and date shift.
    pub fn new(conversation_key: u64) -> Self {
        let magnitude = 30 + (mix(conversation_key, "date shift") % 336) as i64;
        let date_shift_days = if mix(conversation_key, "direction").is_multiple_of(2) {
            magnitude
        } else {
            -magnitude
        };
        Pseudonymiser {
            conversation_key,
            date_shift_days,
            by_value: FxHashMap::default(),
            surrogates: Vec::new(),
        }
    }

    /// The number of days every date in this conversation moves by.
    pub fn date_shift_days(&self) -> i64 {
        self.date_shift_days
    }

    /// `text` with each finding swapped for its surrogate; the same value always gets the same one.
    pub fn pseudonymise(&mut self, text: &str, findings: &[Finding]) -> String {
        replace_findings(text, findings, |finding, value| {
            self.surrogate_for(finding.label, value)
        })
    }

    /// Puts the original values back into `answer` wherever a surrogate appears.
    pub fn reidentify(&self, answer: &str) -> String {
        self.restorer().restore(answer)
    }

    /// Puts the original values back into an answer that arrives in pieces (a stream): text that
    /// could still turn out to be part of a surrogate is held back until it is certain.
    pub fn restorer(&self) -> Restorer {
        let pairs: Vec<(String, String)> = self
            .surrogates
            .iter()
            .filter(|s| s.surrogate != s.original && !s.surrogate.is_empty())
            .map(|s| (s.surrogate.clone(), s.original.clone()))
            .collect();
        let automaton = (!pairs.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .ascii_case_insensitive(true)
                .build(pairs.iter().map(|(surrogate, _)| surrogate))
                .expect("surrogates build an automaton")
        });
        let longest = pairs
            .iter()
            .map(|(surrogate, _)| surrogate.len())
            .max()
            .unwrap_or(0);
        Restorer {
            automaton,
            originals: pairs.into_iter().map(|(_, original)| original).collect(),
            longest,
            pending: String::new(),
        }
    }

    /// Every value replaced so far with its surrogate. Handle with care: this is PHI.
    pub fn mapping(&self) -> &[Surrogate] {
        &self.surrogates
    }

    fn surrogate_for(&mut self, label: PhiLabel, value: &str) -> String {
        let key = (label, normalise(value));
        if let Some(&index) = self.by_value.get(&key) {
            let surrogate = &self.surrogates[index].surrogate;
            return if matches!(label, PhiLabel::Name | PhiLabel::Location) {
                match_case(value, surrogate)
            } else {
                surrogate.clone()
            };
        }
        let mut attempt = 0u64;
        let surrogate = loop {
            let candidate = self.make_surrogate(label, value, attempt);
            let clash = self.surrogates.iter().any(|s| {
                s.surrogate.eq_ignore_ascii_case(&candidate) && normalise(&s.original) != key.1
            });
            if !clash && !candidate.eq_ignore_ascii_case(value) || attempt > 16 {
                break candidate;
            }
            attempt += 1;
        };
        self.by_value.insert(key, self.surrogates.len());
        self.surrogates.push(Surrogate {
            label,
            original: value.to_string(),
            surrogate: surrogate.clone(),
        });
        surrogate
    }

    fn make_surrogate(&self, label: PhiLabel, value: &str, attempt: u64) -> String {
        let seed = mix(
            self.conversation_key ^ attempt.wrapping_mul(0x9e37_79b9_7f4a_7c15),
            &normalise(value),
        );
        let pick = |list: &[&'static str], salt: u64| {
            list[(seed.rotate_left(salt as u32 * 7) % list.len() as u64) as usize]
        };
        match label {
            PhiLabel::Name => {
                let words = value
                    .split_whitespace()
                    .filter(|w| w.trim_end_matches('.').len() > 1)
                    .count();
                let surrogate = if words >= 2 {
                    format!("{} {}", pick(GIVEN_NAMES, 1), pick(FAMILY_NAMES, 2))
                } else {
                    pick(FAMILY_NAMES, 2).to_string()
                };
                match_case(value, &surrogate)
            }
            PhiLabel::Date => {
                shift_date(value, self.date_shift_days).unwrap_or_else(|| value.to_string())
            }
            // Safe Harbor aggregates every age over 89 into "90 or older".
            PhiLabel::Age => match value.find(|c: char| c.is_ascii_digit()) {
                Some(start) => {
                    let end = value[start..]
                        .find(|c: char| !c.is_ascii_digit())
                        .map_or(value.len(), |len| start + len);
                    format!("{}90{}", &value[..start], &value[end..])
                }
                None => "over 89".to_string(),
            },
            PhiLabel::Email => format!(
                "{}.{}@example.org",
                pick(GIVEN_NAMES, 1).to_lowercase(),
                pick(FAMILY_NAMES, 2).to_lowercase()
            ),
            PhiLabel::Url => format!("https://example.org/{:06x}", seed & 0xff_ffff),
            PhiLabel::IpAddress if value.contains(':') => format!("2001:db8::{:x}", seed & 0xffff),
            PhiLabel::IpAddress => format!("192.0.2.{}", 1 + seed % 254),
            PhiLabel::Phone | PhiLabel::Fax => fictional_phone(value, seed),
            PhiLabel::Ssn => {
                // Area numbers 900-999 are never issued.
                let mut digits = reshape(value, seed);
                if let Some(first) = digits.find(|c: char| c.is_ascii_digit()) {
                    digits.replace_range(first..first + 1, "9");
                }
                digits
            }
            PhiLabel::Address => format!(
                "{} {} {}",
                100 + seed % 9800,
                pick(STREETS, 3),
                pick(STREET_TYPES, 4)
            ),
            PhiLabel::Location if value.bytes().any(|b| b.is_ascii_digit()) => reshape(value, seed),
            PhiLabel::Location => {
                let town = pick(TOWNS, 5);
                let lower = value.to_lowercase();
                let surrogate = match ["county", "parish", "borough"]
                    .iter()
                    .find(|unit| lower.ends_with(*unit))
                {
                    Some(_) => format!("{town} {}", value.rsplit(' ').next().unwrap_or("County")),
                    None => town.to_string(),
                };
                match_case(value, &surrogate)
            }
            PhiLabel::Facility => {
                let kind = value
                    .rsplit(' ')
                    .next()
                    .filter(|w| w.len() > 2)
                    .unwrap_or("Clinic");
                format!("{} {kind}", pick(TOWNS, 6))
            }
            PhiLabel::Mrn
            | PhiLabel::HealthPlanId
            | PhiLabel::AccountNumber
            | PhiLabel::LicenseNumber
            | PhiLabel::VehicleId
            | PhiLabel::DeviceId
            | PhiLabel::BiometricId
            | PhiLabel::OtherId => reshape(value, seed),
        }
    }
}

fn mix(key: u64, value: &str) -> u64 {
    let mut hasher = FxHasher::default();
    key.hash(&mut hasher);
    value.hash(&mut hasher);
    let mut x = hasher.finish();
    // splitmix64 finaliser: FxHash alone leaves low bits poorly mixed.
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The same shape as `value` (digits stay digits, letters stay letters in their case) with new characters.
fn reshape(value: &str, seed: u64) -> String {
    let mut state = seed;
    value
        .chars()
        .map(|c| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let roll = (state >> 33) as u32;
            if c.is_ascii_digit() {
                char::from(b'0' + (roll % 10) as u8)
            } else if c.is_ascii_uppercase() {
                char::from(b'A' + (roll % 26) as u8)
            } else if c.is_ascii_lowercase() {
                char::from(b'a' + (roll % 26) as u8)
            } else {
                c
            }
        })
        .collect()
}

/// A number in the 555-01xx range reserved for fiction, written like the original.
fn fictional_phone(value: &str, seed: u64) -> String {
    let reshaped = reshape(value, seed);
    let digit_positions: Vec<usize> = reshaped
        .char_indices()
        .filter(|(_, c)| c.is_ascii_digit())
        .map(|(i, _)| i)
        .collect();
    if digit_positions.len() < 10 {
        return reshaped;
    }
    let mut bytes = reshaped.into_bytes();
    let local = &digit_positions[digit_positions.len() - 10..];
    for (position, digit) in local.iter().zip(b"55501") {
        bytes[*position] = *digit;
    }
    String::from_utf8(bytes).expect("ASCII digits replaced ASCII digits")
}

fn match_case(original: &str, surrogate: &str) -> String {
    let letters: Vec<char> = original.chars().filter(|c| c.is_alphabetic()).collect();
    if !letters.is_empty() && letters.iter().all(|c| c.is_lowercase()) {
        surrogate.to_lowercase()
    } else if letters.len() > 1 && letters.iter().all(|c| c.is_uppercase()) {
        surrogate.to_uppercase()
    } else {
        surrogate.to_string()
    }
}

/// Shifts a date written in one of the common forms by `days`, keeping its form; `None` for forms
/// without a day to shift ("yesterday", "last Friday" stay as they are).
fn shift_date(value: &str, days: i64) -> Option<String> {
    let trimmed = value.trim();
    let lower = trimmed.to_lowercase();
    let numbers: Vec<(usize, usize, u32)> = number_runs(trimmed);
    let month_word = MONTHS.iter().position(|month| {
        lower
            .split(|c: char| !c.is_alphabetic())
            .any(|word| word.len() >= 3 && month.starts_with(word))
    });
    // Which number is the year, the month (when written as a number) and the day.
    let (year, month, day, year_index, month_index, day_index) =
        match (month_word, numbers.as_slice()) {
            (None, [a, b, c]) if a.2 >= 1000 => (a.2 as i64, b.2, c.2, Some(0), Some(1), 2),
            (None, [a, b, c]) => (expand_year(c.2, c.1 - c.0), a.2, b.2, Some(2), Some(0), 1),
            (None, [a, b]) if b.2 < 100 => (2001, a.2, b.2, None, Some(0), 1),
            (Some(month), [day]) if day.2 <= 31 => (2001, month as u32 + 1, day.2, None, None, 0),
            (Some(month), [day, year]) if day.2 <= 31 => {
                let year = expand_year(year.2, year.1 - year.0);
                (year, month as u32 + 1, day.2, Some(1), None, 0)
            }
            (Some(month), [year, day]) if year.2 >= 1000 => {
                (year.2 as i64, month as u32 + 1, day.2, Some(0), None, 1)
            }
            _ => return None,
        };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let (new_year, new_month, new_day) = civil_from_days(days_from_civil(year, month, day) + days);
    let mut output = trimmed.to_string();
    // Rewrite from the right so earlier offsets stay valid.
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let (day_start, day_end, _) = numbers[day_index];
    edits.push((day_start, day_end, pad(new_day, day_end - day_start)));
    if let Some(year_index) = year_index {
        let (start, end, _) = numbers[year_index];
        let width = end - start;
        let year_text = if width <= 2 {
            format!("{:02}", new_year.rem_euclid(100))
        } else {
            new_year.to_string()
        };
        edits.push((start, end, year_text));
    }
    match (month_index, month_word) {
        (Some(index), _) => {
            let (start, end, _) = numbers[index];
            edits.push((start, end, pad(new_month, end - start)));
        }
        (None, Some(old)) => {
            let name = MONTHS[old];
            if let Some((start, end)) = month_word_span(&lower, name) {
                let written = &trimmed[start..end];
                let full = MONTHS[new_month as usize - 1];
                let replacement = if end - start >= name.len() {
                    full.to_string()
                } else {
                    full[..(end - start).min(full.len())].to_string()
                };
                edits.push((start, end, match_case_first(written, &replacement)));
            }
        }
        (None, None) => {}
    }
    edits.sort_by_key(|edit| std::cmp::Reverse(edit.0));
    for (start, end, text) in edits {
        output.replace_range(start..end, &text);
    }
    Some(output)
}

fn number_runs(text: &str) -> Vec<(usize, usize, u32)> {
    let mut runs = Vec::new();
    let bytes = text.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index].is_ascii_digit() {
            let start = index;
            while index < bytes.len() && bytes[index].is_ascii_digit() {
                index += 1;
            }
            if let Ok(value) = text[start..index].parse() {
                runs.push((start, index, value));
            }
        } else {
            index += 1;
        }
    }
    runs
}

fn month_word_span(lower: &str, month: &str) -> Option<(usize, usize)> {
    let mut offset = 0;
    for word in lower.split(|c: char| !c.is_alphabetic()) {
        let start = offset;
        offset += word.len() + 1;
        if word.len() >= 3 && month.starts_with(word) {
            return Some((start, start + word.len()));
        }
    }
    None
}

fn match_case_first(original: &str, replacement: &str) -> String {
    if original
        .chars()
        .all(|c| !c.is_alphabetic() || c.is_uppercase())
        && original.len() > 1
    {
        return replacement.to_uppercase();
    }
    let mut chars = replacement.chars();
    match (original.chars().next(), chars.next()) {
        (Some(first), Some(head)) if first.is_uppercase() => {
            head.to_uppercase().chain(chars).collect()
        }
        _ => replacement.to_string(),
    }
}

fn pad(value: u32, width: usize) -> String {
    format!("{value:0width$}")
}

fn expand_year(year: u32, width: usize) -> i64 {
    match width {
        0..=2 if year < 50 => 2000 + i64::from(year),
        0..=2 => 1900 + i64::from(year),
        _ => i64::from(year),
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (day clamped to the month's length).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let day = day.min(days_in_month(year, month));
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect;

    #[test]
    fn mask_and_tag() {
        let text = "John Smith (MRN 4827193) saw Dr. Okafor; John Smith agreed.";
        let findings = detect(text);
        assert_eq!(
            redact(text, &findings, RedactionMode::Mask),
            "[NAME] (MRN [MRN]) saw Dr. [NAME]; [NAME] agreed."
        );
        assert_eq!(
            redact(text, &findings, RedactionMode::Tag),
            "[NAME_1] (MRN [MRN_1]) saw Dr. [NAME_2]; [NAME_1] agreed."
        );
    }

    #[test]
    fn dates_shift_by_one_offset_and_keep_their_form() {
        assert_eq!(shift_date("03/05/2023", 10).as_deref(), Some("03/15/2023"));
        assert_eq!(shift_date("2023-12-25", 10).as_deref(), Some("2024-01-04"));
        assert_eq!(
            shift_date("March 5th, 2023", -5).as_deref(),
            Some("February 28th, 2023")
        );
        assert_eq!(shift_date("5 Mar 2023", 31).as_deref(), Some("5 Apr 2023"));
        assert_eq!(shift_date("3/5", 1).as_deref(), Some("3/6"));
        assert_eq!(shift_date("12/31/99", 1).as_deref(), Some("01/01/00"));
        assert_eq!(shift_date("last Friday", 3), None);
    }

    #[test]
    fn pseudonyms_are_consistent_and_reversible() {
        let mut pseudonymiser = Pseudonymiser::new(42);
        let first = "Maria Lopez, DOB 04/12/1961, phone 555-867-5309.";
        let second = "Is maria lopez due on 05/01/2024?";
        let out_first = pseudonymiser.pseudonymise(first, &detect(first));
        let out_second = pseudonymiser.pseudonymise(second, &detect(second));
        assert!(
            !out_first.contains("Lopez") && !out_second.contains("lopez"),
            "{out_first} / {out_second}"
        );
        let surrogate = &pseudonymiser.mapping()[0].surrogate;
        assert!(
            out_second.contains(&surrogate.to_lowercase()),
            "{out_second}"
        );
        // Intervals survive: both dates moved by the same number of days.
        let shift = pseudonymiser.date_shift_days();
        assert_eq!(
            pseudonymiser
                .mapping()
                .iter()
                .filter(|s| s.label == PhiLabel::Date)
                .count(),
            2
        );
        assert!(shift.abs() >= 30);
        assert_eq!(pseudonymiser.reidentify(&out_first), first);
        assert!(format!("{pseudonymiser:?}").find("Lopez").is_none());
    }

    #[test]
    fn placeholders_are_recognised() {
        assert_eq!(
            placeholders("a [NAME] b [DATE_12] [nope] [x"),
            vec![(2, 8), (11, 20)]
        );
    }
}
