//! Street address lines ("42 Oak St., Apt 4B", "1200 N. Main Street") and post-office boxes.

use regex::Regex;

use crate::finding::Recogniser;
use crate::lexicon::Kinds;
use crate::scan::{Case, Scan};
use crate::PhiLabel;

pub(crate) struct AddressRecogniser {
    /// A whole street line: a house number, up to four words (group 1), a suffix (group 2), then
    /// what may follow it.
    street: Regex,
    /// `HOUSE_NUMBER` and `NAME` as the whole text given to it.
    number_and_name: Regex,
    /// `AFTER_SUFFIX` at the start of the text given to it.
    after_suffix: Regex,
    post_box: Regex,
}

/// Suffixes that are also ordinary words or abbreviations ("Dr." is a doctor, "St." a saint):
/// the street name before them must be capitalised.
const AMBIGUOUS_SUFFIXES: &[&str] = &[
    "dr",
    "st",
    "ct",
    "pl",
    "way",
    "run",
    "row",
    "path",
    "point",
    "pt",
    "loop",
    "hill",
    "ridge",
    "sq",
    "ter",
    "cir",
    "trl",
    "park",
    "grove",
    "walk",
    "place",
    "square",
    "court",
    "crossing",
    "xing",
    "pike",
    "trail",
    "alley",
    "plaza",
    "circle",
    "heights",
    "hts",
    "view",
    "lane",
    "ln",
    // USPS Publication 28 suffixes that are ordinary words too.
    "bayou",
    "beach",
    "bend",
    "bluff",
    "bluffs",
    "bottom",
    "branch",
    "bridge",
    "brook",
    "brooks",
    "burg",
    "burgs",
    "camp",
    "canyon",
    "cape",
    "circles",
    "cliff",
    "cliffs",
    "club",
    "common",
    "commons",
    "corner",
    "corners",
    "course",
    "courts",
    "cove",
    "coves",
    "creek",
    "crescent",
    "crest",
    "curve",
    "dale",
    "dam",
    "divide",
    "drives",
    "estate",
    "estates",
    "extension",
    "extensions",
    "falls",
    "ferry",
    "field",
    "fields",
    "flat",
    "flats",
    "ford",
    "fords",
    "forest",
    "forge",
    "forges",
    "fork",
    "forks",
    "fort",
    "garden",
    "gardens",
    "gateway",
    "glen",
    "glens",
    "green",
    "greens",
    "groves",
    "harbor",
    "harbors",
    "haven",
    "hills",
    "hollow",
    "inlet",
    "island",
    "islands",
    "isle",
    "junction",
    "key",
    "keys",
    "knoll",
    "knolls",
    "lake",
    "lakes",
    "land",
    "landing",
    "light",
    "lights",
    "lock",
    "locks",
    "lodge",
    "mall",
    "manor",
    "manors",
    "meadow",
    "meadows",
    "mews",
    "mill",
    "mills",
    "mission",
    "mount",
    "mountain",
    "mountains",
    "neck",
    "orchard",
    "oval",
    "pass",
    "passage",
    "pine",
    "pines",
    "plain",
    "plains",
    "points",
    "port",
    "ports",
    "prairie",
    "ramp",
    "ranch",
    "rapids",
    "rest",
    "ridges",
    "river",
    "route",
    "rue",
    "shoal",
    "shoals",
    "shore",
    "shores",
    "spring",
    "springs",
    "spur",
    "squares",
    "station",
    "stream",
    "summit",
    "trace",
    "track",
    "trailer",
    "tunnel",
    "union",
    "valley",
    "valleys",
    "via",
    "views",
    "village",
    "villages",
    "ville",
    "vista",
    "wall",
    "wells",
];
/// Street suffixes (the Kinds::STREET_SUFFIX vocabulary).
pub(crate) const SUFFIXES: &str = "street|avenue|ave|road|rd|boulevard|blvd|drive|parkway|pkwy|highway|hwy|terrace|lane|ln|dr|st|ct|pl|way|run|row|path|point|pt|loop|hill|ridge|sq|ter|cir|trl|park|grove|walk|place|square|court|crossing|xing|pike|trail|alley|plaza|circle|heights|hts|view|expressway|freeway|turnpike|trafficway|underpass|stravenue|throughway|viaduct|skyway|causeway|motorway|crossroad|bypass|overpass|bayou|beach|bend|bluff|bluffs|bottom|branch|bridge|brook|brooks|burg|burgs|camp|canyon|cape|circles|cliff|cliffs|club|common|commons|corner|corners|course|courts|cove|coves|creek|crescent|crest|curve|dale|dam|divide|drives|estate|estates|extension|extensions|falls|ferry|field|fields|flat|flats|ford|fords|forest|forge|forges|fork|forks|fort|garden|gardens|gateway|glen|glens|green|greens|groves|harbor|harbors|haven|hills|hollow|inlet|island|islands|isle|junction|key|keys|knoll|knolls|lake|lakes|land|landing|light|lights|lock|locks|lodge|mall|manor|manors|meadow|meadows|mews|mill|mills|mission|mount|mountain|mountains|neck|orchard|oval|pass|passage|pine|pines|plain|plains|points|port|ports|prairie|ramp|ranch|rapids|rest|ridges|river|route|rue|shoal|shoals|shore|shores|spring|springs|spur|squares|station|stream|summit|trace|track|trailer|tunnel|union|valley|valleys|via|views|village|villages|ville|vista|wall|wells";
/// A house number and the spaces after it ("1200 ", "42b ", "12-3 ").
const HOUSE_NUMBER: &str = r"[0-9]{1,6}[a-z]?(?:-[0-9]{1,4})?[ \t]+";
/// Up to four words of a street's name before its suffix, each followed by spaces.
const NAME: &str = r"(?:[a-z0-9.'-]+[ \t]+){0,4}";
/// What may follow a street suffix: a full stop, a direction, up to two unit parts ("Apt 4B").
const AFTER_SUFFIX: &str = r"\.?(?:\s+(?:n|s|e|w|ne|nw|se|sw)(?-u:\b)\.?)?(?:,?\s*(?:apt|apartment|suite|ste|unit|#|bldg|building|fl|floor|rm|room|lot|space|trlr)\.?\s*#?\s*[a-z0-9][a-z0-9-]*){0,2}";
const FUNCTION_WORDS: &[&str] = &[
    "the", "a", "an", "to", "of", "and", "or", "per", "by", "on", "in", "at", "down", "up", "for",
    "with", "from", "into", "her", "his", "their", "my", "our", "your", "this", "that", "times",
    "x",
];

impl AddressRecogniser {
    pub fn new() -> Self {
        AddressRecogniser {
            street: Regex::new(&format!(
                r"(?-u:\b){HOUSE_NUMBER}({NAME})({SUFFIXES})(?-u:\b){AFTER_SUFFIX}"
            ))
            .expect("valid pattern"),
            number_and_name: Regex::new(&format!(r"^{HOUSE_NUMBER}{NAME}\z"))
                .expect("valid pattern"),
            after_suffix: Regex::new(&format!("^{AFTER_SUFFIX}")).expect("valid pattern"),
            post_box: Regex::new(r"(?-u:\b)(?:(?:rr|rural\s+route|hc|star\s+route)\s*[0-9]+,?\s*)?(?:p\.?\s?o\.?\s*box|post\s+office\s+box|pob|box)\s*#?\s*[0-9]+(?-u:\b)").expect("valid pattern"),
        }
    }

    pub fn scan(&self, scan: &mut Scan<'_>) {
        let mut found = Vec::new();
        for index in 1..scan.tokens.len() {
            let Some((start, name_start, end)) = self.line_at(scan, index) else {
                continue;
            };
            let cued = scan.cue_before(start, 24, ADDRESS_CUES);
            let suffix = scan.tokens[index].start;
            if street_name_fits(scan, name_start, suffix, scan.word(index), cued) {
                found.push((start, end, 0.9));
            }
        }
        // Every form of a post box has "box" or "pob" in it: a text with neither needs no search.
        let boxed = scan.lower.contains("box") || scan.lower.contains("pob");
        let post_boxes = boxed.then(|| self.post_box.find_iter(&scan.lower));
        for post_box in post_boxes.into_iter().flatten() {
            let plain_box = scan.lower[post_box.start()..].starts_with("box");
            if !plain_box || scan.cue_before(post_box.start(), 24, ADDRESS_CUES) {
                found.push((post_box.start(), post_box.end(), 0.95));
            }
        }
        cued_street_lines(scan, &mut found);
        for (start, end, confidence) in found {
            scan.push(
                start,
                end,
                PhiLabel::Address,
                Recogniser::Address,
                confidence,
            );
        }
    }

    /// The street line whose suffix is token `index`, as the first match of `street` from six
    /// words before it finds it: its start, where its name starts, and its end.
    ///
    /// Only the line's span is searched for. Where the name and suffix lie is read from the
    /// suffix word, which a search for groups would backtrack for, except in the rare line
    /// with a second suffix after this one ("12 Oak St Apt Park").
    fn line_at(&self, scan: &Scan<'_>, index: usize) -> Option<(usize, usize, usize)> {
        let window = (index.saturating_sub(6), index + 6);
        // A street line starts with a house number and a space or tab, so a suffix with no such
        // number in the words before it ("Dr. Okafor", "MRN 4471. Follow up with Dr.", "bed
        // rest") needs no search.
        let house_number = |before: usize| {
            let token = &scan.tokens[before];
            token.has_digit && matches!(scan.lower.as_bytes().get(token.end), Some(b' ' | b'\t'))
        };
        if !scan.is(index, Kinds::STREET_SUFFIX) || !(window.0..index).any(house_number) {
            return None;
        }
        let suffix = &scan.tokens[index];
        // "st_x": the suffix must end a word, and "_" is a word's character to a pattern.
        if scan.lower[suffix.core_end..].starts_with('_') {
            return None;
        }
        let to = scan.tokens[window.1.min(scan.tokens.len() - 1)].end;
        let line = self
            .street
            .find_at(&scan.lower[..to], scan.tokens[window.0].start)?;
        // The house number and name run up to this word, and what may follow a suffix ends the
        // line: "5867 Main Pkwy, Suite 433 New Haven" is no street ending in "Haven".
        let number_and_name = &scan.lower[line.start()..suffix.start.max(line.start())];
        let after = &scan.lower[suffix.core_end..to];
        let tail = self.after_suffix.find(after).map_or(0, |tail| tail.end());
        if !self.number_and_name.is_match(number_and_name) || line.end() != suffix.core_end + tail {
            return None;
        }
        let second_suffix = scan.tokens[index + 1..]
            .iter()
            .take_while(|token| token.start < line.end())
            .any(|token| token.kinds.any(Kinds::STREET_SUFFIX));
        if second_suffix {
            scan.captures_around(&self.street, window, 2, index)?;
        }
        let name = number_and_name
            .trim_start_matches(|c| c != ' ' && c != '\t')
            .trim_start_matches([' ', '\t']);
        Some((line.start(), suffix.start - name.len(), line.end()))
    }
}

/// Words before a house number that make what follows an address ("lives at 42 Perry Field").
const ADDRESS_CUES: &[&str] = &[
    "lives at",
    "living at",
    "resides at",
    "residing at",
    "address",
    "addr",
    "located at",
    "moved to",
    "mail to",
    "send to",
    "ship to",
    "deliver to",
    "home at",
    "staying at",
    "lives",
    "at",
    "to",
];
/// Words that start the unit part of a street line ("Apt 4B", "Bldg 5").
pub(crate) const UNITS: &[&str] = &[
    "apt",
    "apartment",
    "suite",
    "ste",
    "unit",
    "bldg",
    "building",
    "fl",
    "floor",
    "rm",
    "room",
    "lot",
    "space",
    "trlr",
];

/// "lives at 8651 Arthur Lodge", "Address: 97993 W Carolyn Tunnel, Apartment 10": a house number and
/// capitalised words after an address cue, or alone on a line above a "City, ST" line.
fn cued_street_lines(scan: &Scan<'_>, found: &mut Vec<(usize, usize, f32)>) {
    for &index in &scan.numbers {
        let token = &scan.tokens[index];
        // Up to six characters: digits, then one more at most ("42", "12b").
        let number = scan.word(index).as_bytes();
        let digits = number
            .iter()
            .take_while(|byte| byte.is_ascii_digit())
            .count();
        let house_number = number.len() <= 6 && digits >= 1 && number.len() - digits <= 1;
        if !house_number || !scan.joined_by_space(index) {
            continue;
        }
        let line_start =
            scan.starts_sentence(index) && scan.gap_before(index).contains('\n') || index == 0;
        let mut last = index;
        let mut words = 0;
        while last + 1 < scan.tokens.len() && words < 5 && scan.joined_by_space(last) {
            let next = &scan.tokens[last + 1];
            let word = scan.word(last + 1);
            let directional = matches!(word, "n" | "s" | "e" | "w" | "ne" | "nw" | "se" | "sw");
            let ordinal = next.has_digit
                && ["st", "nd", "rd", "th"]
                    .iter()
                    .any(|end| word.ends_with(end));
            if !(matches!(next.case, Case::Capitalised | Case::Upper) || directional || ordinal)
                || eponym(scan, last + 1) && !directional
            {
                break;
            }
            last += 1;
            words += 1;
        }
        let named = words >= 1
            && !(words == 1
                && matches!(
                    scan.word(last),
                    "n" | "s" | "e" | "w" | "north" | "south" | "east" | "west"
                ));
        if !named {
            continue;
        }
        let cued = index > 0 && {
            let before = scan.lower_before(token.start, 20);
            let before = before.trim_end().trim_end_matches(':').trim_end();
            ADDRESS_CUES.iter().any(|cue| before.ends_with(cue))
        };
        let line_ends =
            scan.line_ends_after(last) || last + 1 == scan.tokens.len() || scan.comma_after(last);
        if !(cued || line_start && line_ends && words >= 2) {
            continue;
        }
        // ", Bldg 3, Apt 26" / " #12"
        let mut end = scan.tokens[last].end;
        for _ in 0..3 {
            let gap = scan.gap_after(last);
            if gap.contains('\n') || gap.trim().len() > 1 {
                break;
            }
            if last + 2 < scan.tokens.len() && UNITS.contains(&scan.word(last + 1)) {
                last += 2;
            } else if gap.trim() == "#" && last + 1 < scan.tokens.len() {
                last += 1;
            } else {
                break;
            }
            end = scan.tokens[last].end;
        }
        found.push((token.start, end, if cued { 0.9 } else { 0.65 }));
    }
}

/// A clinical word that is no surname: "Turner Flats" and "Baker Green" are streets.
fn eponym(scan: &Scan<'_>, index: usize) -> bool {
    scan.is(index, Kinds::CLINICAL) && !scan.is(index, Kinds::LAST_NAME)
}

/// The words between the house number and the suffix must read as a street name.
/// After an address cue ("lives at 68 cannon forge") a lowercase name fits any suffix.
fn street_name_fits(scan: &Scan<'_>, start: usize, end: usize, suffix: &str, cued: bool) -> bool {
    let first = scan.token_at_or_after(start);
    let last = scan.token_at_or_after(end);
    let ambiguous = AMBIGUOUS_SUFFIXES.contains(&suffix) && !cued;
    if first == last {
        // "12 Street" alone is not an address, but "12 St" after a capitalised name never occurs either.
        return false;
    }
    (first..last).all(|index| {
        let word = scan.word(index);
        let token = &scan.tokens[index];
        let ordinal = token.has_digit
            && ["st", "nd", "rd", "th"]
                .iter()
                .any(|ending| word.ends_with(ending));
        let directional = matches!(
            word,
            "n" | "s" | "e" | "w" | "north" | "south" | "east" | "west" | "old" | "new"
        );
        let capitalised = matches!(token.case, Case::Capitalised | Case::Upper | Case::Letter);
        // "County Road 12 Ter": a route number.
        let route_number = token.has_digit
            && index > first
            && matches!(
                scan.word(index - 1),
                "road" | "rd" | "route" | "highway" | "hwy"
            );
        if FUNCTION_WORDS.contains(&word) || eponym(scan, index) {
            return false;
        }
        ordinal
            || directional
            || capitalised
            || route_number
            || (!ambiguous && token.has_alpha && !token.has_digit)
    })
}

#[cfg(test)]
mod tests {
    use crate::lexicon::Kinds;
    use crate::testing::{check, labels};
    use crate::PhiLabel;

    #[test]
    fn street_lines_and_post_boxes() {
        check(
            "lives at 42 Oak St., Apt 4B now",
            &[("42 Oak St., Apt 4B", PhiLabel::Address)],
        );
        check(
            "1200 N. Main Street",
            &[("1200 N. Main Street", PhiLabel::Address)],
        );
        check(
            "moved to 77 west elm avenue",
            &[("77 west elm avenue", PhiLabel::Address)],
        );
        check("send to PO Box 4411", &[("PO Box 4411", PhiLabel::Address)]);
        check(
            "at 9 Martin Luther King Jr Blvd",
            &[("9 Martin Luther King Jr Blvd", PhiLabel::Address)],
        );
        check(
            "lives at 8651 Arthur Lodge in",
            &[("8651 Arthur Lodge", PhiLabel::Address)],
        );
        check(
            "Address: 33 Hill Ln, Apartment 29",
            &[("33 Hill Ln, Apartment 29", PhiLabel::Address)],
        );
        check(
            "Lives at RR 4 Box 339",
            &[("RR 4 Box 339", PhiLabel::Address)],
        );
    }

    #[test]
    fn uncommon_street_suffixes() {
        check(
            "lives at 63875 Jonathan Haven Suite 315 now",
            &[("63875 Jonathan Haven Suite 315", PhiLabel::Address)],
        );
        check(
            "16 James Underpass Lot 30",
            &[("16 James Underpass Lot 30", PhiLabel::Address)],
        );
        // The unit number before a town whose name ends in a suffix opens no second street.
        check(
            "update my address to 5867 Main Pkwy, Suite 433 New Haven, AZ 87301",
            &[
                ("5867 Main Pkwy, Suite 433", PhiLabel::Address),
                ("New Haven", PhiLabel::Location),
                ("87301", PhiLabel::Location),
            ],
        );
    }

    #[test]
    fn doses_and_walks_are_not_addresses() {
        for text in [
            "take 2 tabs per dr smith",
            "walked 2 blocks down the road",
            "5 mg lasix dr",
            "3 st segment changes",
            "went to 2 West for",
            "a box of 12 gloves",
            "had 2 falls last month",
            "3 spring allergies",
            "walked 2 blocks to the park",
        ] {
            assert!(!labels(text).contains(&PhiLabel::Address), "{text}");
        }
    }

    #[test]
    fn eponym_streets_units_and_lowercase_lines_after_a_cue() {
        check(
            "Address: 2728 Turner Flats, Reading, SC 43645",
            &[
                ("2728 Turner Flats", PhiLabel::Address),
                ("Reading", PhiLabel::Location),
                ("43645", PhiLabel::Location),
            ],
        );
        check(
            "lives alone at 68 cannon forge, apt 37a - safe",
            &[("68 cannon forge, apt 37a", PhiLabel::Address)],
        );
        check(
            "lives at 238 County Road 12 Ter.",
            &[("238 County Road 12 Ter", PhiLabel::Address)],
        );
        assert!(labels("walk 2 blocks down the road to the park").is_empty());
    }

    /// Texts of house numbers, street words, suffixes and unit parts, mostly between spaces.
    fn street_texts() -> impl proptest::strategy::Strategy<Value = String> {
        let words = [
            "12", "5867", "4b", "12-3", "433", "main", "oak", "n", "new", "st", "pkwy", "park",
            "haven", "dr", "apt", "suite", "ne", "lives at", "st_x", "o'hara", "é",
        ];
        let gaps = [" ", " ", " ", "  ", "\t", ", ", ". ", ".", "#", "\n"];
        let word = proptest::sample::select(words.to_vec());
        let gap = proptest::sample::select(gaps.to_vec());
        proptest::collection::vec((word, gap), 0..12).prop_map(|pairs| {
            pairs
                .into_iter()
                .flat_map(|(word, gap)| [word, gap])
                .collect::<String>()
        })
    }

    use proptest::prelude::*;

    proptest! {
        /// The line read from its suffix is the one the search for groups finds around it.
        #[test]
        fn lines_read_from_their_suffix_are_the_lines_found_with_groups(text in street_texts()) {
            let detector = crate::Detector::shared();
            let scan = crate::scan::Scan::new(&text, &detector.lexicon);
            for index in 1..scan.tokens.len() {
                let window = (index.saturating_sub(6), index + 6);
                let expected = scan
                    .is(index, Kinds::STREET_SUFFIX)
                    .then(|| scan.captures_around(&detector.address.street, window, 2, index))
                    .flatten()
                    .map(|groups| {
                        let (line, name) = (groups.get(0).unwrap(), groups.get(1).unwrap());
                        (line.start(), name.start(), line.end())
                    });
                prop_assert_eq!(detector.address.line_at(&scan, index), expected, "{}", index);
            }
        }
    }
}
