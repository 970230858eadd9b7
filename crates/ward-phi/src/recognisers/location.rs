//! Places smaller than a state: cities and towns (a gazetteer of US places), counties, and ZIP
//! codes; "City, ST 12345" anchors both. State and country names are not PHI.

use regex::Regex;

use super::{address, name_slots};
use crate::finding::Recogniser;
use crate::lexicon::{Kinds, Lexicon, STATES};
use crate::scan::{ends_with_word, Case, Scan};
use crate::PhiLabel;

pub(crate) struct LocationRecogniser {
    state_anchors: [Regex; 2],
    zip_by_cue: Regex,
    zip_plus_four: Regex,
    county: Regex,
}

/// Words right before a lowercase place that make it a place ("lives in boston").
pub(crate) const PLACE_CUES: &[&str] = &[
    "in",
    "from",
    "to",
    "near",
    "at",
    "lives",
    "living",
    "resides",
    "residing",
    "moved",
    "born",
    "visiting",
    "outside",
    "around",
    "of",
    "towards",
    "toward",
    "relocated",
    "hometown",
];

impl LocationRecogniser {
    pub fn new() -> Self {
        let zip = "[0-9]{5}(?:-[0-9]{4})?";
        let state = STATES
            .iter()
            .map(|(name, _)| name.replace(' ', r"\s+"))
            .collect::<Vec<_>>()
            .join("|");
        LocationRecogniser {
            // A state after a comma, with or without a ZIP after it, or after spaces with a ZIP.
            state_anchors: [
                format!(r"(,\s*)({state}|[a-z]{{2}})(?-u:\b)\.?(?:,?\s+({zip})(?-u:\b))?"),
                format!(r"(?:^|[^,\s])(\s+)({state}|[a-z]{{2}})(?-u:\b)\.?,?\s+({zip})(?-u:\b)"),
            ]
            .map(|pattern| Regex::new(&pattern).expect("valid pattern")),
            zip_by_cue: Regex::new(r"(?-u:\b)(?:zip|zipcode|zip code|postal code)\s*(?:code)?\s*:?\s*#?\s*([0-9]{5}(?:-[0-9]{4})?)(?-u:\b)")
                .expect("valid pattern"),
            zip_plus_four: Regex::new(r"(?-u:\b)[0-9]{5}-[0-9]{4}(?-u:\b)").expect("valid pattern"),
            county: Regex::new(r"(?-u:\b)(county|parish|borough)(?-u:\b)").expect("valid pattern"),
        }
    }

    pub fn scan(&self, scan: &mut Scan<'_>, lexicon: &Lexicon) {
        let mut found: Vec<(usize, usize, f32)> = Vec::new();
        self.city_state_zip(scan, &mut found);
        for captures in self.zip_by_cue.captures_iter(&scan.lower) {
            let zip = captures.get(1).expect("zip group");
            found.push((zip.start(), zip.end(), 0.95));
        }
        for zip in self.zip_plus_four.find_iter(&scan.lower) {
            found.push((zip.start(), zip.end(), 0.8));
        }
        for county in self.county.find_iter(&scan.lower) {
            let index = scan.token_at_or_after(county.start());
            let words =
                capitalised_run_before(scan, index, 3).max(bracketed_words_before(scan, index));
            if words > 0 {
                found.push((scan.tokens[index - words].start, county.end(), 0.9));
            }
        }
        gazetteer(scan, lexicon, &mut found);
        cued_places(scan, lexicon, &mut found);
        towns_after_addresses(scan, lexicon, &mut found);
        for (start, end, confidence) in found {
            scan.push(
                start,
                end,
                PhiLabel::Location,
                Recogniser::Location,
                confidence,
            );
        }
    }

    /// "Springfield, IL 62704", "Austin, Texas", "Boston MA 02118": the city before the state and
    /// the ZIP after it are PHI, the state is not.
    fn city_state_zip(&self, scan: &Scan<'_>, found: &mut Vec<(usize, usize, f32)>) {
        // Only around a state word: the patterns run on a window from the word before it to the
        // ZIP after it, and must place the state on that very word.
        for index in 1..scan.tokens.len() {
            // Both patterns need a comma before the state or a ZIP (five characters) after it:
            // "in", "me", "or" with neither need no search.
            if !scan.is(index, Kinds::STATE) {
                continue;
            }
            let comma_before = scan.gap_before(index).trim_end().ends_with(',');
            let number_after = || {
                scan.tokens[index + 1..scan.tokens.len().min(index + 5)]
                    .iter()
                    .any(|token| token.has_digit && token.end - token.start == 5)
            };
            if !(comma_before || number_after()) {
                continue;
            }
            // ", in 2 weeks", ", or": a two-letter word is a state's code only in capitals or
            // before a ZIP (checked again on the match below; no state's name has a two-letter
            // first word).
            let two_letters = scan.tokens[index].core_end - scan.tokens[index].start == 2;
            if two_letters && !Lexicon::is_state_code(scan.original(index)) && !number_after() {
                continue;
            }
            let Some(captures) = self
                .state_anchors
                .iter()
                .find_map(|anchor| scan.captures_around(anchor, (index - 1, index + 5), 2, index))
            else {
                continue;
            };
            let separator = captures.get(1).expect("separator group");
            let state = captures.get(2).expect("state group");
            let zip = captures.get(3);
            let code = state.as_str().len() == 2;
            // "ID# 4471": a number sign makes the code an identifier's cue.
            if scan.lower[state.end()..].starts_with('#') {
                continue;
            }
            let original_state = &scan.text[state.start()..state.end()];
            if code
                && !(Lexicon::is_state_code(original_state)
                    || zip.is_some()
                        && Lexicon::is_state_code(&original_state.to_ascii_uppercase()))
            {
                continue;
            }
            if !code
                && !original_state.starts_with(|c: char| c.is_ascii_uppercase())
                && zip.is_none()
            {
                continue;
            }
            if let Some(zip) = zip {
                found.push((zip.start(), zip.end(), 0.9));
            }
            let index = scan.token_at_or_after(separator.start());
            let words = capitalised_run_before(scan, index, 3);
            if words > 0 {
                found.push((
                    scan.tokens[index - words].start,
                    scan.tokens[index - 1].core_end,
                    0.85,
                ));
            } else if zip.is_some() && index > 0 && !scan.is(index - 1, Kinds::CLINICAL) {
                // lowercase "springfield, il 62704": the ZIP vouches for the word before the state.
                found.push((
                    scan.tokens[index - 1].start,
                    scan.tokens[index - 1].core_end,
                    0.7,
                ));
            }
        }
    }
}

/// Phrases after which capitalised words are a town ("lives in Matthewhaven", "from Port Donaldside").
const RESIDENCE_CUES: &[&str] = &[
    "lives in",
    "living in",
    "resides in",
    "residing in",
    "moved to",
    "moved from",
    "relocated to",
    "from",
    "visiting",
    "born in",
    "grew up in",
    "hometown",
    "hometown of",
    "we are in",
    "i am in",
    "i'm in",
    "is in",
    "staying in",
    "lives near",
    "near",
    "outside of",
    "outside",
    "town of",
    "city of",
    "village of",
    "in",
];

/// Capitalised words right after a residence cue, not English and not a state, are a town; so is a
/// word before "county" in lowercase text when it is a known place.
fn cued_places(scan: &Scan<'_>, lexicon: &Lexicon, found: &mut Vec<(usize, usize, f32)>) {
    for index in 1..scan.tokens.len() {
        let token = &scan.tokens[index];
        // Every residence cue ends with a place cue word: most words are ruled out by one test.
        if token.case != Case::Capitalised
            || !scan.is(index - 1, Kinds::PLACE_CUE)
            || !scan.joined_by_space(index - 1)
        {
            continue;
        }
        let before = scan.lower_before(token.start, 16).trim_end();
        let Some(cue) = RESIDENCE_CUES
            .iter()
            .find(|cue| ends_with_word(before, cue))
        else {
            continue;
        };
        let mut last = index;
        while last + 1 < scan.tokens.len()
            && last - index < 2
            && scan.joined_by_space(last)
            && scan.tokens[last + 1].case == Case::Capitalised
        {
            last += 1;
        }
        let phrase = &scan.lower[token.start..scan.tokens[last].core_end];
        // "in Denver with": an eponym that the gazetteer knows, with no head noun after it.
        let known_place = lexicon.is_place(phrase) && !scan.head_noun_after(last);
        let words_ok = (index..=last).all(|i| {
            !scan.is(i, Kinds::NATIONALITY) && (known_place || !scan.is(i, Kinds::CLINICAL))
        });
        let novel =
            (index..=last).any(|i| !scan.is(i, Kinds::ENGLISH)) || named_town(scan, index, last);
        let weak_cue = matches!(*cue, "in" | "from" | "near" | "outside");
        if !words_ok
            || !novel
            || lexicon.is_state_or_country(phrase)
            || scan.is(index, Kinds::CALENDAR)
        {
            continue;
        }
        // After "in" or "from", only a word that looks made up or is a known place: not "in March".
        if weak_cue && scan.is(index, Kinds::FIRST_NAME) && index == last {
            continue;
        }
        found.push((
            token.start,
            scan.tokens[last].core_end,
            if weak_cue { 0.5 } else { 0.65 },
        ));
    }
    lowercase_cued_places(scan, lexicon, found);
    for index in 1..scan.tokens.len() {
        let token = &scan.tokens[index];
        if token.core_end - token.start == 6
            && matches!(scan.word(index), "county" | "parish")
            && scan.tokens[index - 1].case == Case::Lower
            && scan.joined_by_space(index - 1)
            && !scan.is(index - 1, Kinds::ENGLISH | Kinds::CLINICAL)
        {
            found.push((scan.tokens[index - 1].start, scan.tokens[index].end, 0.7));
        }
    }
}

/// Residence cues strong enough to make lowercase words a town ("he lives in turnerton with").
const STRONG_LOWERCASE_CUES: &[&str] = &[
    "lives in",
    "living in",
    "resides in",
    "residing in",
    "moved to",
    "relocated to",
    "staying in",
    "born in",
    "grew up in",
    "we are in",
];
/// Words that open a town's name ("north caleb", "fort wayne", "port georgehaven").
const PLACE_PREFIXES: &[&str] = &[
    "north", "south", "east", "west", "new", "port", "lake", "fort", "mount", "saint", "st", "san",
    "santa", "el", "la", "los", "las",
];

/// In lowercase text, one or two words after a strong residence cue that are no common words, or
/// a known place.
fn lowercase_cued_places(scan: &Scan<'_>, lexicon: &Lexicon, found: &mut Vec<(usize, usize, f32)>) {
    let count = scan.tokens.len();
    for index in 1..count {
        let token = &scan.tokens[index];
        if token.case != Case::Lower
            || !scan.is(index - 1, Kinds::PLACE_CUE)
            || !scan.joined_by_space(index - 1)
        {
            continue;
        }
        let before = scan.lower_before(token.start, 16).trim_end();
        if !STRONG_LOWERCASE_CUES
            .iter()
            .any(|cue| ends_with_word(before, cue))
        {
            continue;
        }
        let mut last = index;
        if PLACE_PREFIXES.contains(&scan.word(index))
            && index + 1 < count
            && scan.joined_by_space(index)
            && scan.tokens[index + 1].case == Case::Lower
        {
            last = index + 1;
        }
        let phrase = &scan.lower[token.start..scan.tokens[last].core_end];
        let words_ok = (index..=last).all(|i| {
            !scan.tokens[i].has_digit
                && !scan.is(
                    i,
                    Kinds::CLINICAL | Kinds::NATIONALITY | Kinds::CALENDAR | Kinds::FUNCTION_WORD,
                )
        });
        let novel = !scan.is(last, Kinds::ENGLISH) && scan.word(last).len() >= 3
            || named_town(scan, index, last);
        if words_ok && (novel || lexicon.is_place(phrase)) && !lexicon.is_state_or_country(phrase) {
            found.push((token.start, scan.tokens[last].core_end, 0.6));
        } else if let Some((place_last, place_end)) = place_at(scan, lexicon, index) {
            // "lives in little rock", "in st. paul": a gazetteer place of several words.
            if place_last > index
                && !lexicon.is_state_or_country(&scan.lower[token.start..place_end])
            {
                found.push((token.start, place_end, 0.6));
            }
        }
    }
}

/// "West Amber", "lake warren": a place prefix and a given name or surname make up a town.
fn named_town(scan: &Scan<'_>, first: usize, last: usize) -> bool {
    last == first + 1
        && PLACE_PREFIXES.contains(&scan.word(first))
        && scan.is(last, Kinds::FIRST_NAME | Kinds::LAST_NAME)
        && !scan.is(last, Kinds::CLINICAL | Kinds::FUNCTION_WORD)
}

/// "(salt lake county)": the words inside the bracket before "county", any case (up to three).
fn bracketed_words_before(scan: &Scan<'_>, index: usize) -> usize {
    let mut count = 0;
    while count < 3 && index > count {
        let at = index - count - 1;
        let token = &scan.tokens[at];
        if token.has_digit || !token.has_alpha || scan.is(at, Kinds::FUNCTION_WORD) {
            return 0;
        }
        count += 1;
        let gap = scan.gap_before(at).trim_end();
        if gap.ends_with('(') {
            return count;
        }
        if !scan.joined_by_space(at.saturating_sub(1)) || at == 0 {
            return 0;
        }
    }
    0
}

/// Words that end a town after an address ("..., Independence, phone 555").
const AFTER_TOWN: &[&str] = &["phone", "tel", "cell", "with", "and", "ph", "fax"];

/// "staying at 54 Rolling Hills Ct, port bailey, phone", "Apt 459 in Rochester with", "Post Office
/// Box 1681, Kalamazoo 65503": the town after a street line or post box, and a ZIP right after it.
fn towns_after_addresses(scan: &Scan<'_>, lexicon: &Lexicon, found: &mut Vec<(usize, usize, f32)>) {
    let ends: Vec<usize> = scan
        .findings
        .iter()
        .filter(|finding| finding.label == PhiLabel::Address)
        .map(|finding| finding.end)
        .collect();
    for end in ends {
        let mut first = scan.token_at_or_after(end);
        if first >= scan.tokens.len() {
            continue;
        }
        let gap = &scan.lower[end..scan.tokens[first].start];
        if gap.trim() == ""
            && scan.word(first) == "in"
            && gap.len() <= 2
            && first + 1 < scan.tokens.len()
        {
            first += 1;
        } else if gap.trim() != "," || gap.contains('\n') {
            continue;
        }
        let mut last = None;
        let mut index = first;
        while index < scan.tokens.len() && index < first + 3 {
            let token = &scan.tokens[index];
            let word = scan.word(index);
            if token.has_digit
                || !token.has_alpha
                || scan.is(index, Kinds::FUNCTION_WORD | Kinds::STATE)
                    && (!PLACE_PREFIXES.contains(&word) || token.case == Case::Upper)
                || AFTER_TOWN.contains(&word)
                || address::UNITS.contains(&word)
            {
                break;
            }
            last = Some(index);
            if !scan.joined_by_space(index) {
                break;
            }
            index += 1;
        }
        let Some(last) = last else {
            continue;
        };
        let phrase = &scan.lower[scan.tokens[first].start..scan.tokens[last].core_end];
        if lexicon.is_state_or_country(phrase) {
            continue;
        }
        found.push((scan.tokens[first].start, scan.tokens[last].core_end, 0.7));
        // "Kalamazoo 65503": a ZIP right after the town (a ZIP+4 is found on its own).
        if let Some(zip) = scan.tokens.get(last + 1) {
            let word = scan.word(last + 1);
            let five = word.len() == 5 && word.bytes().all(|b| b.is_ascii_digit());
            if five && scan.joined_by_space(last) {
                found.push((zip.start, zip.end, 0.8));
            }
        }
    }
}

/// How many capitalised, non-clinical words (up to `limit`) end right before token `index`.
fn capitalised_run_before(scan: &Scan<'_>, index: usize, limit: usize) -> usize {
    let mut count = 0;
    while count < limit && index > count {
        let at = index - count - 1;
        let token = &scan.tokens[at];
        let capitalised = matches!(token.case, Case::Capitalised | Case::Upper);
        // "Rochester, MN", "Clark County": an eponym right before the state or county is the place.
        if !capitalised || scan.is(at, Kinds::CLINICAL) && count > 0 || token.has_digit {
            break;
        }
        if count > 0 && !scan.joined_by_space(at) {
            break;
        }
        count += 1;
    }
    count
}

/// Towns and cities from the gazetteer, screened for the ones that are also words or eponyms.
fn gazetteer(scan: &mut Scan<'_>, lexicon: &Lexicon, found: &mut Vec<(usize, usize, f32)>) {
    let mut not_phi = Vec::new();
    let mut first = 0;
    while first < scan.tokens.len() {
        // Most words start no place: skip them without a call.
        let starts_place = scan.tokens[first].kinds.place_tokens() > 0;
        let Some((last, end)) = starts_place
            .then(|| place_at(scan, lexicon, first))
            .flatten()
        else {
            first += 1;
            continue;
        };
        let start = scan.tokens[first].start;
        // "Ms. Washington", "Georgia notes improvement": after a title or before a verb of
        // report it is a person, which the name recogniser decides.
        let after_title = first > 0 && scan.is(first - 1, Kinds::TITLE);
        let reports = last + 1 < scan.tokens.len()
            && scan.joined_by_space(last)
            && name_slots::REPORT_VERBS.contains(&scan.word(last + 1));
        if lexicon.is_state_or_country(&scan.lower[start..end]) {
            if !after_title && !reports {
                not_phi.push((start, end));
            }
        } else if let Some(confidence) = place_confidence(scan, first, last) {
            found.push((start, end, confidence));
        }
        first = last + 1;
    }
    scan.not_phi.extend(not_phi);
}

/// The longest gazetteer place that starts at token `first` (with or without a possessive "'s"
/// at its end): its last token and its end.
fn place_at(scan: &Scan<'_>, lexicon: &Lexicon, first: usize) -> Option<(usize, usize)> {
    let longest = scan.tokens[first].kinds.place_tokens();
    let start = scan.tokens[first].start;
    (first..scan.tokens.len().min(first + longest))
        .rev()
        .find_map(|last| {
            let token = &scan.tokens[last];
            let possessive = token.possessive();
            (lexicon.is_place(&scan.lower[start..token.core_end])
                || possessive && lexicon.is_place(&scan.lower[start..token.end]))
            .then_some((last, token.core_end))
        })
}

/// How sure a place word is a place: capitalised and not an English word, or after a place cue;
/// `None` for an eponym ("Lyme disease") or a common word.
fn place_confidence(scan: &Scan<'_>, first: usize, last: usize) -> Option<f32> {
    if last + 1 < scan.tokens.len() && scan.is(last + 1, Kinds::HEAD_NOUN) {
        return None;
    }
    let capitalised = matches!(scan.tokens[first].case, Case::Capitalised | Case::Upper);
    let cued = first > 0 && scan.is(first - 1, Kinds::PLACE_CUE);
    let confidence = if last > first {
        let all_english = (first..=last).all(|i| scan.is(i, Kinds::ENGLISH));
        match (capitalised, all_english) {
            (true, _) => 0.85,
            (false, false) if cued => 0.6,
            _ => return None,
        }
    } else {
        // "lives in Denver": an eponym that is a town and a surname, after "in", "from" or "near".
        let cued_eponym = scan.is(first, Kinds::CLINICAL)
            && scan.is(first, Kinds::LAST_NAME)
            && first > 0
            && matches!(scan.word(first - 1), "in" | "from" | "near")
            && capitalised
            && !scan.starts_sentence(first);
        if cued_eponym {
            return Some(0.55);
        }
        if scan.is(first, Kinds::CLINICAL) || scan.word(first).len() < 4 {
            return None;
        }
        let english = scan.is(first, Kinds::ENGLISH);
        match (capitalised, english) {
            (true, false) => 0.7,
            (true, true) if cued && !scan.starts_sentence(first) => 0.5,
            (false, false) if cued => 0.6,
            _ => return None,
        }
    };
    Some(confidence)
}

#[cfg(test)]
mod tests {
    use crate::testing::{check, labels};
    use crate::PhiLabel;

    #[test]
    fn lowercase_towns_after_residence_cues() {
        check(
            "he lives in turnerton with his niece",
            &[("turnerton", PhiLabel::Location)],
        );
        check(
            "she moved to north caleb with her son",
            &[("north caleb", PhiLabel::Location)],
        );
        for text in [
            "lives in a nursing home",
            "lives in assisted living",
            "moved to hospice care",
            "lives in texas with her son",
        ] {
            assert!(!labels(text).contains(&PhiLabel::Location), "{text}");
        }
    }

    #[test]
    fn city_state_zip_lines() {
        check(
            "Springfield, IL 62704",
            &[
                ("Springfield", PhiLabel::Location),
                ("62704", PhiLabel::Location),
            ],
        );
        check("from Austin, Texas", &[("Austin", PhiLabel::Location)]);
        check("zip code: 02118", &[("02118", PhiLabel::Location)]);
        check(
            "lives in Cook County",
            &[("Cook County", PhiLabel::Location)],
        );
        check(
            "moved here from boston last year",
            &[("boston", PhiLabel::Location)],
        );
        check(
            "Salt Lake City is cold",
            &[("Salt Lake City", PhiLabel::Location)],
        );
        check(
            "lives in Matthewhaven with",
            &[("Matthewhaven", PhiLabel::Location)],
        );
        check(
            "from fulton county -",
            &[("fulton county", PhiLabel::Location)],
        );
    }

    #[test]
    fn states_countries_and_eponyms_are_not_locations() {
        for text in [
            "lives in Texas",
            "travel to Mexico",
            "Lyme disease",
            "Glasgow Coma Scale 15",
            "a mobile phone",
            "in pain",
        ] {
            assert!(labels(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn towns_after_addresses_eponym_towns_and_bracketed_counties() {
        check(
            "staying at 54 Rolling Hills Ct, port bailey, phone 555",
            &[
                ("54 Rolling Hills Ct", PhiLabel::Address),
                ("port bailey", PhiLabel::Location),
            ],
        );
        check(
            "update to Post Office Box 1681, Kalamazoo 65503",
            &[
                ("Post Office Box 1681", PhiLabel::Address),
                ("Kalamazoo", PhiLabel::Location),
                ("65503", PhiLabel::Location),
            ],
        );
        check(
            "Mr Fox lives in Denver with",
            &[("Fox", PhiLabel::Name), ("Denver", PhiLabel::Location)],
        );
        check(
            "she lives in West Amber with",
            &[("West Amber", PhiLabel::Location)],
        );
        check(
            "from fresno (butler parish) tested",
            &[
                ("fresno", PhiLabel::Location),
                ("butler parish", PhiLabel::Location),
            ],
        );
        for text in ["ran out of Norco yesterday", "a Denver shunt was placed"] {
            assert!(!labels(text).contains(&PhiLabel::Location), "{text}");
        }
    }
}
