//! Hospital, clinic and practice names: capitalised words before a facility word ("Riverside
//! Medical Center", "St. Mary's Hospital", "Hospital of the University of X") and well-known
//! institutions by name.

use regex::Regex;
use regex_syntax::hir::literal::{ExtractKind, Extractor};

use crate::finding::Recogniser;
use crate::lexicon::{Kinds, Lexicon};
use crate::scan::{tokenize, Case, Scan};
use crate::PhiLabel;

pub(crate) struct FacilityRecogniser {
    keyword: Regex,
}

/// Facility words that are too common to stand for a facility unless capitalised.
const WEAK_KEYWORDS: &[&str] = &[
    "health",
    "associates",
    "practice",
    "pharmacy",
    "memorial",
    "laboratories",
    "group",
    "physicians",
    "partners",
    "center",
    "centre",
    "centers",
    "institute",
    "primary care",
    "urgent care",
    "cardiology",
    "dermatology",
    "endocrinology",
    "orthopedics",
    "orthopaedics",
    "neurology",
    "oncology",
    "urology",
    "pulmonary",
    "pulmonology",
    "gastroenterology",
    "rheumatology",
    "nephrology",
    "ophthalmology",
    "optometry",
    "radiology",
    "imaging",
    "pediatrics",
    "surgery",
    "surgical",
    "dialysis",
    "rehabilitation",
    "podiatry",
    "allergy",
    "obstetrics",
    "gynecology",
    "mental health",
    "behavioral health",
    "physical therapy",
    "family medicine",
    "internal medicine",
    "pain management",
    "ob/gyn",
    "ob-gyn",
    "obgyn",
];
/// Facility nouns that make a keyword strong in lowercase even when its first word is weak
/// ("rehabilitation hospital", "health system", "center").
const STRONG_ENDINGS: &[&str] = &[
    "center",
    "centre",
    "centers",
    "institute",
    "hospital",
    "hospitals",
    "clinic",
    "clinics",
    "system",
    "systems",
];
/// Words before a lowercase facility name that end it ("seen at lutheran heart institute").
const BOUNDARIES: &[&str] = &[
    "at", "from", "to", "in", "the", "with", "by", "for", "a", "an", "our", "his", "her", "their",
    "your", "my", "this", "that", "and",
];
/// Capitalised words that belong in a facility name but do not identify one on their own.
const GENERIC: &[&str] = &[
    "the",
    "a",
    "an",
    "our",
    "my",
    "his",
    "her",
    "their",
    "your",
    "this",
    "that",
    "local",
    "nearby",
    "community",
    "general",
    "regional",
    "university",
    "memorial",
    "county",
    "city",
    "state",
    "national",
    "children's",
    "childrens",
    "women's",
    "veterans",
    "va",
    "medical",
    "health",
    "family",
    "primary",
    "care",
    "urgent",
    "emergency",
    "new",
    "main",
    "central",
    "north",
    "south",
    "east",
    "west",
    "outpatient",
    "inpatient",
    "walk-in",
    "same-day",
    "teaching",
    "private",
    "public",
    "rural",
    "specialty",
    "other",
    "another",
    "previous",
    "prior",
    "same",
    "his",
    "any",
    "which",
    "sleep",
    "eye",
    "heart",
    "kidney",
    "cancer",
    "women",
    "children",
    "pain",
    "wound",
    "vein",
    "spine",
    "skin",
    "foot",
    "breast",
    "lung",
    "liver",
    "brain",
    "vascular",
    "dental",
    "diabetes",
    "weight",
    "wellness",
    "surgery",
    "surgical",
    "diagnostic",
    "diagnostics",
    "specialists",
    "poison",
    "control",
    "crisis",
    "help",
    "call",
    "service",
    "support",
    "disease",
    "prevention",
    "trauma",
    "burn",
    "stroke",
    "transplant",
    "infusion",
    "student",
    "employee",
    "consultants",
    "home",
    "outside",
    "nearest",
    "different",
    "clinic",
    "hospital",
    "institute",
    "center",
    "centre",
];
const CONNECTORS: &[&str] = &["of", "and", "&", "the", "for"];

/// A facility's keyword: a finite set of phrases, each opening with a word boundary.
const KEYWORD: &str = r"(?-u:\b)(cent(?:er|re)s?|institute|primary care|urgent care|kidney care|(?:cardiology|dermatology|endocrinology|orthopa?edics|neurology|oncology|urology|pulmonary|pulmonology|gastroenterology|rheumatology|nephrology|ophthalmology|optometry|radiology|imaging|pediatrics|surgery|surgical|dialysis|rehabilitation|podiatry|allergy|obstetrics|gynecology|women's health|behavioral health|mental health|physical therapy|sleep medicine|family medicine|internal medicine|pain management|ob[/-]?gyn)(?: (?:associates|group|partners|clinic|center|specialists|consultants|hospital|institute))?|medical cent(?:er|re)s?|health cent(?:er|re)|health systems?|healthcare|health care|hospitals?|clinics?|infirmary|hospice|nursing home|nursing (?:and|&) rehabilitation(?: cent(?:er|re))?|rehabilitation (?:cent(?:er|re)|hospital|institute)|rehab(?: cent(?:er|re))?|care cent(?:er|re)|surgery cent(?:er|re)|surgical cent(?:er|re)|cancer cent(?:er|re)|cancer institute|heart institute|eye institute|medical group|medical associates|physicians group|senior living|assisted living|family practice|family medicine|pediatrics|health partners|sanatorium|dialysis cent(?:er|re)|imaging cent(?:er|re)|medical plaza|medical office|memorial|laboratories|pharmacy|associates|practice|health|physicians|partners)(?-u:\b)";

/// The first word of every keyword phrase ("medical", "women", "ob-gyn"), read from the
/// pattern's literal prefixes: a keyword is tried only where a token is one of them.
pub(crate) fn keyword_first_words() -> Vec<String> {
    let hir = regex_syntax::parse(KEYWORD).expect("valid pattern");
    let mut extractor = Extractor::new();
    extractor
        .kind(ExtractKind::Prefix)
        .limit_total(4096)
        .limit_literal_len(256);
    let prefixes = extractor.extract(&hir);
    let phrases = prefixes
        .literals()
        .filter(|_| prefixes.is_exact())
        .expect("the facility keywords are a finite set of phrases");
    phrases
        .iter()
        .filter_map(|phrase| {
            let phrase = std::str::from_utf8(phrase.as_bytes()).ok()?;
            let first = tokenize(phrase).into_iter().next()?;
            Some(phrase[first.start..first.core_end].to_string())
        })
        .collect()
}

/// Where a keyword may start: the words that start one, and the starts inside hyphenated or
/// non-ASCII tokens that `Scan::word_starts` always gives.
fn keyword_starts(scan: &Scan<'_>) -> Vec<usize> {
    scan.word_starts(|_, token| token.kinds.any(Kinds::FACILITY_START))
}

impl FacilityRecogniser {
    pub fn new() -> Self {
        FacilityRecogniser {
            keyword: Regex::new(&format!("^(?:{KEYWORD})")).expect("valid pattern"),
        }
    }

    pub fn scan(&self, scan: &mut Scan<'_>, lexicon: &Lexicon) {
        let mut found = Vec::new();
        for (keyword_start, keyword_end) in
            scan.anchored_matches(&self.keyword, &keyword_starts(scan))
        {
            let keyword = &scan.lower[keyword_start..keyword_end];
            let first_keyword_token = scan.token_at_or_after(keyword_start);
            let last_keyword_token = scan.token_at_or_after(keyword_end).saturating_sub(1);
            if first_keyword_token >= scan.tokens.len() {
                continue;
            }
            let keyword_capitalised = matches!(
                scan.tokens[first_keyword_token].case,
                Case::Capitalised | Case::Upper
            );
            // "cardiology associates" is as weak as "cardiology".
            let first_word = keyword.split(' ').next().unwrap_or_default();
            let weak = WEAK_KEYWORDS.contains(&keyword) || WEAK_KEYWORDS.contains(&first_word);
            let last_word = keyword.rsplit(' ').next().unwrap_or_default();
            // "seen at red oak primary care": in lowercase text, the words between "at" and a
            // facility word name it, common words or not; so does a place after it ("children's
            // hospital of philadelphia"), and a line of its own ("meadowbrook pulmonary
            // associates" under a signature).
            if !keyword_capitalised {
                let place_end = place_after(scan, lexicon, last_keyword_token);
                let end_token = place_end.unwrap_or(last_keyword_token);
                let named = place_end.is_some();
                let start = placed_name_start(scan, first_keyword_token, named)
                    .or_else(|| own_line_start(scan, first_keyword_token, end_token, named));
                if let Some(start_token) = start {
                    found.push((
                        scan.tokens[start_token].start,
                        scan.tokens[end_token].end,
                        0.8,
                    ));
                    continue;
                }
            }
            if weak && !keyword_capitalised && !STRONG_ENDINGS.contains(&last_word) {
                continue;
            }
            let end_token = name_continuation(scan, last_keyword_token);
            let (start_token, distinctive) =
                name_start(scan, first_keyword_token, keyword_capitalised);
            // "Children's Hospital of Philadelphia": the name comes after the keyword, and the
            // generic words before it belong to it.
            let named_after = end_token > last_keyword_token && keyword_capitalised;
            if !(distinctive || named_after) {
                continue;
            }
            found.push((
                scan.tokens[start_token].start,
                scan.tokens[end_token].end,
                if weak { 0.88 } else { 0.9 },
            ));
        }
        let mut index = 0;
        while index < scan.tokens.len() {
            let start = scan.tokens[index].start;
            let institution = scan
                .is(index, Kinds::INSTITUTION)
                .then(|| lexicon.institution_at(&scan.lower, start))
                .flatten()
                .filter(|end| scan.isolated(start, *end));
            if let Some(end) = institution {
                found.push((start, end, 0.9));
                index = scan.token_at_or_after(end);
            } else {
                index += 1;
            }
        }
        for (start, end, confidence) in found {
            scan.push(
                start,
                end,
                PhiLabel::Facility,
                Recogniser::Facility,
                confidence,
            );
        }
    }
}

/// Walks back from the facility word over its name: where the name starts, and whether a word in
/// it is distinctive.
fn name_start(scan: &Scan<'_>, keyword_token: usize, keyword_capitalised: bool) -> (usize, bool) {
    let mut start = keyword_token;
    let mut distinctive = false;
    let mut index = keyword_token;
    while index > 0 && keyword_token - index < 6 {
        let candidate = index - 1;
        let gap = scan.gap_after(candidate).trim();
        let abbreviation = matches!(scan.word(candidate), "st" | "mt" | "ft");
        let separated = !(scan.joined_by_space(candidate)
            || gap.is_empty()
            || gap == "&"
            || gap == "." && abbreviation);
        if separated || scan.line_ends_after(candidate) {
            break;
        }
        let word = scan.word(candidate);
        let token = &scan.tokens[candidate];
        let capitalised = matches!(token.case, Case::Capitalised | Case::Upper | Case::Letter);
        if CONNECTORS.contains(&word)
            && candidate > 0
            && start == candidate + 1
            && index != keyword_token
        {
            // "Brigham and Women's": a connector is only kept when a name word comes before it.
            let before = &scan.tokens[candidate - 1];
            if matches!(before.case, Case::Capitalised | Case::Upper)
                || !keyword_capitalised
                    && before.case == Case::Lower
                    && !BOUNDARIES.contains(&scan.word(candidate - 1))
            {
                index -= 1;
                continue;
            }
            break;
        }
        let lowercase_word =
            !keyword_capitalised && token.case == Case::Lower && !BOUNDARIES.contains(&word);
        let lowercase_distinctive = lowercase_word
            && !scan.is(candidate, Kinds::CLINICAL)
            && (!scan.is(candidate, Kinds::ENGLISH)
                || scan.is(candidate, Kinds::LAST_NAME | Kinds::FIRST_NAME));
        let lowercase_fits = lowercase_word
            && (lowercase_distinctive
                || GENERIC.contains(&word)
                || matches!(word, "st" | "saint" | "mt" | "mount" | "of"));
        // "van der Steen Pediatrics": a particle before a capitalised name word or a particle.
        let particle = keyword_capitalised
            && token.case == Case::Lower
            && scan.is(candidate, Kinds::PARTICLE)
            && start == candidate + 1
            && (matches!(scan.tokens[start].case, Case::Capitalised | Case::Upper)
                || scan.is(start, Kinds::PARTICLE));
        if particle {
            start = candidate;
            index -= 1;
            continue;
        }
        if !(capitalised || lowercase_fits) || token.has_digit {
            break;
        }
        // "Rochester Hospital", "Murphy Kidney Care": an eponym that is also a surname names one.
        let eponym_surname = capitalised && scan.is(candidate, Kinds::LAST_NAME);
        let generic = GENERIC.contains(&word)
            || matches!(word, "st" | "saint" | "mt" | "mount")
            || scan.is(candidate, Kinds::CLINICAL) && !eponym_surname;
        if capitalised && !generic || lowercase_distinctive && !GENERIC.contains(&word) {
            distinctive = true;
        }
        start = candidate;
        index -= 1;
    }
    (start, distinctive)
}

/// Words before a lowercase facility name that say a place follows ("seen at", "send a copy to
/// doctor baker at", "transferred from", "transfer care to").
const PLACE_OPENERS: &[&str] = &["at", "from", "to"];

/// Whether lowercase token `index`, just before a facility word, can be part of its name:
/// "of" inside it, "our" of "our lady of", and words that are neither function words nor
/// clinical vocabulary (surnames may be common words: "lane physical therapy").
fn lowercase_name_word(scan: &Scan<'_>, index: usize, keyword_token: usize) -> bool {
    let token = &scan.tokens[index];
    let word = scan.word(index);
    token.case == Case::Lower
        && !token.has_digit
        && (!scan.is(index, Kinds::FUNCTION_WORD | Kinds::CLINICAL)
            || word == "of" && index + 1 < keyword_token
            || word == "our" && scan.word(index + 1) == "lady"
            || scan.is(index, Kinds::LAST_NAME) && !scan.is(index, Kinds::FUNCTION_WORD))
}

/// Where a lowercase facility name starts when "at", "from" or "to" comes right before its words
/// and one of them is more than a generic word (or a place follows the facility word, `named`):
/// "at red oak primary care", not "at the clinic".
fn placed_name_start(scan: &Scan<'_>, keyword_token: usize, named: bool) -> Option<usize> {
    lowercase_name_start(scan, keyword_token, named, |index| {
        index > 0
            && scan.joined_by_space(index - 1)
            && PLACE_OPENERS.contains(&scan.word(index - 1))
    })
}

/// Where a lowercase facility name starts when it is a line of its own, as under a signature
/// ("huang & peters orthopedics", "university of evergreen hospital"), or the part of a
/// contact between commas before its phone ("dr. willis, lane physical therapy, phone ..."),
/// with a word that is more than a generic one (or a place after the facility word, `named`).
fn own_line_start(
    scan: &Scan<'_>,
    keyword_token: usize,
    end_token: usize,
    named: bool,
) -> Option<usize> {
    let line_ends = end_token + 1 == scan.tokens.len() || scan.line_ends_after(end_token);
    let contact_follows = scan.comma_after(end_token)
        && end_token + 1 < scan.tokens.len()
        && matches!(
            scan.word(end_token + 1),
            "phone" | "tel" | "ph" | "fax" | "cell"
        );
    if !(line_ends || contact_follows) {
        return None;
    }
    lowercase_name_start(scan, keyword_token, named, |index| {
        let gap = scan.gap_before(index);
        index == 0 || gap.contains('\n') || contact_follows && gap.trim() == ","
    })
}

/// Walks back from facility word `keyword_token` over at most five lowercase name words joined
/// by spaces or "&" until `opens(index)` says the name starts at `index`: that start, when one
/// of its words is more than a generic one (or `named` already).
fn lowercase_name_start(
    scan: &Scan<'_>,
    keyword_token: usize,
    mut named: bool,
    opens: impl Fn(usize) -> bool,
) -> Option<usize> {
    let mut index = keyword_token;
    while index > 0 && keyword_token - index < 5 && !opens(index) {
        let candidate = index - 1;
        let joined = scan.joined_by_space(candidate) || scan.gap_after(candidate).trim() == "&";
        if !joined || !lowercase_name_word(scan, candidate, keyword_token) {
            return None;
        }
        let word = scan.word(candidate);
        named |= !GENERIC.contains(&word) && !matches!(word, "of" | "our");
        index -= 1;
    }
    (opens(index) && named && index < keyword_token).then_some(index)
}

/// The last token of a known place after a lowercase facility word: "hospital of philadelphia".
fn place_after(scan: &Scan<'_>, lexicon: &Lexicon, keyword_end_token: usize) -> Option<usize> {
    let first = keyword_end_token + 2;
    if first >= scan.tokens.len()
        || scan.word(keyword_end_token + 1) != "of"
        || !scan.joined_by_space(keyword_end_token)
        || !scan.joined_by_space(keyword_end_token + 1)
    {
        return None;
    }
    let mut place = None;
    for last in first..scan.tokens.len().min(first + 3) {
        if last > first && !scan.joined_by_space(last - 1) {
            break;
        }
        if scan.tokens[last].case == Case::Lower
            && lexicon.is_place(&scan.lower[scan.tokens[first].start..scan.tokens[last].end])
        {
            place = Some(last);
        }
    }
    place
}

/// "Hospital of the University of Pennsylvania": an "of" phrase of capitalised words after the keyword.
fn name_continuation(scan: &Scan<'_>, keyword_end_token: usize) -> usize {
    let mut end = keyword_end_token;
    let mut index = keyword_end_token + 1;
    if index < scan.tokens.len()
        && scan.word(index) == "of"
        && scan.joined_by_space(keyword_end_token)
    {
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
    use crate::scan::Scan;
    use crate::testing::{check, labels, unanchored};
    use crate::{Detector, PhiLabel};
    use proptest::prelude::*;

    #[test]
    fn keywords_are_tried_where_their_first_words_stand() {
        let words = super::keyword_first_words();
        for word in [
            "center", "centres", "medical", "women", "ob", "ob-gyn", "obgyn", "health",
        ] {
            assert!(words.iter().any(|w| w == word), "{word} missing");
        }
        assert!(words.iter().all(|word| !word.contains(' ')));
    }

    proptest! {
        /// Trying the keyword only at the words that start one finds what a search of the
        /// whole text finds.
        #[test]
        fn keywords_at_their_first_words_are_the_keywords_of_the_whole_text(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "medical", "center", "centers", "women's", "health", "ob", "/", "-", "gyn", "care",
                "primary", "family", "practice", " ", "  ", ", ", "\n", "_", "\u{e9}", "x", "2",
                "nursing", "&", "and", "rehabilitation", "Hospital", "clinics", "'s", "pre",
            ]), 0..24)
        ) {
            let text = pieces.concat();
            let detector = Detector::shared();
            let scan = Scan::new(&text, &detector.lexicon);
            let anchored =
                scan.anchored_matches(&detector.facility.keyword, &super::keyword_starts(&scan));
            let whole: Vec<(usize, usize)> = unanchored(&detector.facility.keyword)
                .find_iter(&scan.lower)
                .map(|found| (found.start(), found.end()))
                .collect();
            prop_assert_eq!(anchored, whole);
        }
    }

    #[test]
    fn named_facilities() {
        check(
            "admitted to Riverside Medical Center",
            &[("Riverside Medical Center", PhiLabel::Facility)],
        );
        check(
            "from St. Mary's Hospital today",
            &[("St. Mary's Hospital", PhiLabel::Facility)],
        );
        check(
            "Lakeview Family Practice",
            &[("Lakeview Family Practice", PhiLabel::Facility)],
        );
        check(
            "transferred to Mayo Clinic",
            &[("Mayo Clinic", PhiLabel::Facility)],
        );
        check(
            "seen at Hospital of the University of Pennsylvania",
            &[(
                "Hospital of the University of Pennsylvania",
                PhiLabel::Facility,
            )],
        );
        check(
            "records from johns hopkins",
            &[("johns hopkins", PhiLabel::Facility)],
        );
        check(
            "RN, Graves & Xu Dialysis Center",
            &[("Graves & Xu Dialysis Center", PhiLabel::Facility)],
        );
        check(
            "seen at Three Rivers Endocrinology on",
            &[("Three Rivers Endocrinology", PhiLabel::Facility)],
        );
        check(
            "seen at lutheran heart institute",
            &[("lutheran heart institute", PhiLabel::Facility)],
        );
        check(
            "at saint francis regional medical center tonight",
            &[("saint francis regional medical center", PhiLabel::Facility)],
        );
    }

    #[test]
    fn specialty_practices_systems_and_names_after_the_keyword() {
        check(
            "Follow up at Jopich Pain Management on 7/12",
            &[
                ("Jopich Pain Management", PhiLabel::Facility),
                ("7/12", PhiLabel::Date),
            ],
        );
        check(
            "Pine Valley OB/GYN",
            &[("Pine Valley OB/GYN", PhiLabel::Facility)],
        );
        check(
            "seen at lakeview rehabilitation hospital today",
            &[("lakeview rehabilitation hospital", PhiLabel::Facility)],
        );
        check(
            "Site: Children's Hospital of Philadelphia",
            &[("Children's Hospital of Philadelphia", PhiLabel::Facility)],
        );
    }

    #[test]
    fn generic_facility_words_are_not_facilities() {
        for text in [
            "pain management was discussed",
            "referred to ob/gyn",
            "went to the clinic",
            "Our hospital policy",
            "the cardiology clinic",
            "mental health",
            "General Hospital policy",
            "a walk-in clinic",
            "the sleep center",
            "call the Poison Control Center",
            "the cancer center",
        ] {
            assert!(labels(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn lowercase_names_after_at_and_eponym_surnames() {
        check(
            "please send a copy to doctor baker at red oak primary care period",
            &[
                ("baker", PhiLabel::Name),
                ("red oak primary care", PhiLabel::Facility),
            ],
        );
        check(
            "seen at sunrise health system on",
            &[("sunrise health system", PhiLabel::Facility)],
        );
        check(
            "Imaging performed at Rochester Hospital today",
            &[("Rochester Hospital", PhiLabel::Facility)],
        );
        for text in [
            "seen at urgent care",
            "followed at the pain management clinic",
            "at home health",
        ] {
            assert!(labels(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn lowercase_names_after_to_on_their_own_line_or_before_a_phone() {
        let cases: &[(&str, &str)] = &[
            (
                "send a copy to doctor buszka at our lady of lourdes hospital today",
                "our lady of lourdes hospital",
            ),
            (
                "she was seen at university of desert springs medical center on monday",
                "university of desert springs medical center",
            ),
            (
                "transfer care to sandy hollow endocrinology?",
                "sandy hollow endocrinology",
            ),
            (
                "seen at children's hospital of tulsa",
                "children's hospital of tulsa",
            ),
            (
                "ivy lamb, pharmd\nuniversity of evergreen hospital\nphone: 555-0100",
                "university of evergreen hospital",
            ),
            (
                "kenneth bradford, rn\nhuang & peters orthopedics",
                "huang & peters orthopedics",
            ),
            (
                "make a referral to dr. willis, lane physical therapy, phone 555-0100",
                "lane physical therapy",
            ),
            (
                "van der Steen Pediatrics\n80086 Highland Blvd",
                "van der Steen Pediatrics",
            ),
        ];
        // Covered by a facility finding (one that may also take in a name next to it).
        for (text, facility) in cases {
            let start = text.find(facility).unwrap();
            let found = crate::detect(text);
            assert!(
                found
                    .iter()
                    .any(|finding| finding.label == PhiLabel::Facility
                        && finding.start <= start
                        && finding.end >= start + facility.len()),
                "{text}: {found:?}"
            );
        }
        for text in [
            "referred to physical therapy",
            "go to the clinic today",
            "Plan:\nfollow up with cardiology\n",
            "home health\nphysical therapy\n",
            "discussed with pain management, phone call tomorrow",
            "the hospital of choice",
        ] {
            assert!(
                !labels(text).contains(&PhiLabel::Facility),
                "{text}: {:?}",
                labels(text)
            );
        }
    }
}
