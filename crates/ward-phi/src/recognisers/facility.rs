//! Hospital, clinic and practice names: capitalised words before a facility word ("Riverside
//! Medical Center", "St. Mary's Hospital", "Hospital of the University of X") and well-known
//! institutions by name.

use regex::Regex;

use crate::finding::Recogniser;
use crate::lexicon::Lexicon;
use crate::scan::{Case, Scan};
use crate::PhiLabel;

pub(crate) struct FacilityRecogniser {
    keyword: Regex,
}

/// Facility words that are too common to stand for a facility unless capitalised.
const WEAK_KEYWORDS: &[&str] = &["health", "associates", "practice", "pharmacy", "memorial", "laboratories", "group", "physicians", "partners"];
/// Capitalised words that belong in a facility name but do not identify one on their own.
const GENERIC: &[&str] = &[
    "the", "a", "an", "our", "my", "his", "her", "their", "your", "this", "that", "local", "nearby", "community",
    "general", "regional", "university", "memorial", "county", "city", "state", "national", "children's", "childrens",
    "women's", "veterans", "va", "medical", "health", "family", "primary", "care", "urgent", "emergency", "new", "main",
    "central", "north", "south", "east", "west", "outpatient", "inpatient", "walk-in", "same-day", "teaching", "private",
    "public", "rural", "specialty", "other", "another", "previous", "prior", "same", "his", "any", "which",
];
const CONNECTORS: &[&str] = &["of", "and", "&", "the", "for", "at"];

impl FacilityRecogniser {
    pub fn new() -> Self {
        let keyword = r"(?-u:\b)(medical cent(?:er|re)s?|health cent(?:er|re)|health system|healthcare|health care|hospitals?|clinics?|infirmary|hospice|nursing home|nursing (?:and|&) rehabilitation(?: cent(?:er|re))?|rehabilitation (?:cent(?:er|re)|hospital|institute)|rehab(?: cent(?:er|re))?|care cent(?:er|re)|surgery cent(?:er|re)|surgical cent(?:er|re)|cancer cent(?:er|re)|cancer institute|heart institute|eye institute|medical group|medical associates|physicians group|family practice|family medicine|pediatrics|health partners|sanatorium|dialysis cent(?:er|re)|imaging cent(?:er|re)|medical plaza|medical office|memorial|laboratories|pharmacy|associates|practice|health|physicians|partners)(?-u:\b)";
        FacilityRecogniser { keyword: Regex::new(keyword).expect("valid pattern") }
    }

    pub fn scan(&self, scan: &mut Scan<'_>, lexicon: &Lexicon) {
        let mut found = Vec::new();
        for keyword in self.keyword.find_iter(&scan.lower) {
            let first_keyword_token = scan.token_at_or_after(keyword.start());
            let last_keyword_token = scan.token_at_or_after(keyword.end()).saturating_sub(1);
            if first_keyword_token >= scan.tokens.len() {
                continue;
            }
            let keyword_capitalised = matches!(scan.tokens[first_keyword_token].case, Case::Capitalised | Case::Upper);
            let weak = WEAK_KEYWORDS.contains(&keyword.as_str());
            if weak && !keyword_capitalised {
                continue;
            }
            let end_token = name_continuation(scan, last_keyword_token);
            let start_token = match name_start(scan, lexicon, first_keyword_token, keyword_capitalised) {
                Some(start) => start,
                // "Hospital of the University of Pennsylvania": the name comes after the keyword.
                None if end_token > last_keyword_token && keyword_capitalised => first_keyword_token,
                None => continue,
            };
            found.push((scan.tokens[start_token].start, scan.tokens[end_token].end, if weak { 0.7 } else { 0.85 }));
        }
        for institution in lexicon.institutions.find_iter(&scan.lower) {
            if scan.isolated(institution.start(), institution.end()) {
                found.push((institution.start(), institution.end(), 0.9));
            }
        }
        for (start, end, confidence) in found {
            scan.push(start, end, PhiLabel::Facility, Recogniser::Facility, confidence);
        }
    }
}

/// Walks back from the facility word over its name; `None` when no word in it is distinctive.
fn name_start(scan: &Scan<'_>, lexicon: &Lexicon, keyword_token: usize, keyword_capitalised: bool) -> Option<usize> {
    let mut start = keyword_token;
    let mut distinctive = false;
    let mut index = keyword_token;
    while index > 0 && keyword_token - index < 6 {
        let candidate = index - 1;
        if !scan.joined_by_space(candidate) && !scan.gap_after(candidate).trim().is_empty() && scan.gap_after(candidate).trim() != "." {
            break;
        }
        let word = scan.word(candidate);
        let token = &scan.tokens[candidate];
        let capitalised = matches!(token.case, Case::Capitalised | Case::Upper | Case::Letter);
        if CONNECTORS.contains(&word) && candidate > 0 && start == candidate + 1 && index != keyword_token {
            // "Brigham and Women's": a connector is only kept when a name word comes before it.
            if matches!(scan.tokens[candidate - 1].case, Case::Capitalised | Case::Upper) {
                index -= 1;
                continue;
            }
            break;
        }
        let lowercase_name = !keyword_capitalised
            && token.case == Case::Lower
            && !lexicon.is_english(word)
            && (lexicon.is_last_name(word) || lexicon.is_first_name(word) || word.ends_with("view") || word.ends_with("side"));
        if !(capitalised || lowercase_name) || lexicon.is_clinical(word) || token.has_digit {
            break;
        }
        if !GENERIC.contains(&word) && !(matches!(word, "st" | "saint" | "mt" | "mount")) {
            distinctive = true;
        }
        start = candidate;
        index -= 1;
    }
    distinctive.then_some(start)
}

/// "Hospital of the University of Pennsylvania": an "of" phrase of capitalised words after the keyword.
fn name_continuation(scan: &Scan<'_>, keyword_end_token: usize) -> usize {
    let mut end = keyword_end_token;
    let mut index = keyword_end_token + 1;
    if index < scan.tokens.len() && scan.word(index) == "of" && scan.joined_by_space(keyword_end_token) {
        index += 1;
        if index < scan.tokens.len() && scan.word(index) == "the" {
            index += 1;
        }
        while index < scan.tokens.len() && end - keyword_end_token < 6 {
            let capitalised = matches!(scan.tokens[index].case, Case::Capitalised | Case::Upper);
            if capitalised && scan.joined_by_space(index - 1) {
                end = index;
                index += 1;
            } else if scan.word(index) == "of" && scan.joined_by_space(index - 1) {
                index += 1;
            } else {
                break;
            }
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use crate::testing::{check, labels};
    use crate::PhiLabel;

    #[test]
    fn named_facilities() {
        check("admitted to Riverside Medical Center", &[("Riverside Medical Center", PhiLabel::Facility)]);
        check("from St. Mary's Hospital today", &[("St. Mary's Hospital", PhiLabel::Facility)]);
        check("Lakeview Family Practice", &[("Lakeview Family Practice", PhiLabel::Facility)]);
        check("transferred to Mayo Clinic", &[("Mayo Clinic", PhiLabel::Facility)]);
        check("seen at Hospital of the University of Pennsylvania", &[("Hospital of the University of Pennsylvania", PhiLabel::Facility)]);
        check("records from johns hopkins", &[("johns hopkins", PhiLabel::Facility)]);
    }

    #[test]
    fn generic_facility_words_are_not_facilities() {
        for text in ["went to the clinic", "Our hospital policy", "the cardiology clinic", "mental health", "General Hospital policy", "a walk-in clinic"] {
            assert!(labels(text).is_empty(), "{text}");
        }
    }
}
