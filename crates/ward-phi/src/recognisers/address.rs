//! Street address lines ("42 Oak St., Apt 4B", "1200 N. Main Street") and post-office boxes.

use regex::Regex;

use crate::finding::Recogniser;
use crate::lexicon::Lexicon;
use crate::scan::{Case, Scan};
use crate::PhiLabel;

pub(crate) struct AddressRecogniser {
    street: Regex,
    post_box: Regex,
}

/// Suffixes that are also ordinary words or abbreviations ("Dr." is a doctor, "St." a saint):
/// the street name before them must be capitalised.
const AMBIGUOUS_SUFFIXES: &[&str] = &[
    "dr", "st", "ct", "pl", "way", "run", "row", "path", "point", "pt", "loop", "hill", "ridge", "sq", "ter", "cir",
    "trl", "park", "grove", "walk", "place", "square", "court", "crossing", "xing", "pike", "trail", "alley", "plaza",
    "circle", "heights", "hts", "view", "lane", "ln",
];
const SUFFIXES: &str = "street|avenue|ave|road|rd|boulevard|blvd|drive|parkway|pkwy|highway|hwy|terrace|lane|ln|dr|st|ct|pl|way|run|row|path|point|pt|loop|hill|ridge|sq|ter|cir|trl|park|grove|walk|place|square|court|crossing|xing|pike|trail|alley|plaza|circle|heights|hts|view|expressway|freeway|turnpike";
const FUNCTION_WORDS: &[&str] = &[
    "the", "a", "an", "to", "of", "and", "or", "per", "by", "on", "in", "at", "down", "up", "for", "with", "from",
    "into", "her", "his", "their", "my", "our", "your", "this", "that", "times", "x",
];

impl AddressRecogniser {
    pub fn new() -> Self {
        let street = format!(
            r"(?-u:\b)[0-9]{{1,6}}[a-z]?(?:-[0-9]{{1,4}})?\s+((?:[a-z0-9.'-]+\s+){{0,4}}?)({SUFFIXES})(?-u:\b)\.?(?:\s+(?:n|s|e|w|ne|nw|se|sw)(?-u:\b)\.?)?(?:,?\s*(?:apt|apartment|suite|ste|unit|#|bldg|building|fl|floor|rm|room|lot|space|trlr)\.?\s*#?\s*[a-z0-9][a-z0-9-]*)?"
        );
        AddressRecogniser {
            street: Regex::new(&street).expect("valid pattern"),
            post_box: Regex::new(r"(?-u:\b)(?:p\.?\s?o\.?\s*box|post\s+office\s+box|pob)\s*#?\s*[0-9]+(?-u:\b)").expect("valid pattern"),
        }
    }

    pub fn scan(&self, scan: &mut Scan<'_>, lexicon: &Lexicon) {
        let mut found = Vec::new();
        for captures in self.street.captures_iter(&scan.lower) {
            let whole = captures.get(0).expect("group 0");
            let (name, suffix) = (captures.get(1).expect("name group"), captures.get(2).expect("suffix group"));
            if street_name_fits(scan, lexicon, name.start(), name.end(), suffix.as_str()) {
                found.push((whole.start(), whole.end(), 0.9));
            }
        }
        for post_box in self.post_box.find_iter(&scan.lower) {
            found.push((post_box.start(), post_box.end(), 0.95));
        }
        for (start, end, confidence) in found {
            scan.push(start, end, PhiLabel::Address, Recogniser::Address, confidence);
        }
    }
}

/// The words between the house number and the suffix must read as a street name.
fn street_name_fits(scan: &Scan<'_>, lexicon: &Lexicon, start: usize, end: usize, suffix: &str) -> bool {
    let first = scan.token_at_or_after(start);
    let last = scan.token_at_or_after(end);
    let ambiguous = AMBIGUOUS_SUFFIXES.contains(&suffix);
    if first == last {
        // "12 Street" alone is not an address, but "12 St" after a capitalised name never occurs either.
        return false;
    }
    (first..last).all(|index| {
        let word = scan.word(index);
        let token = &scan.tokens[index];
        let ordinal = token.has_digit && ["st", "nd", "rd", "th"].iter().any(|ending| word.ends_with(ending));
        let directional = matches!(word, "n" | "s" | "e" | "w" | "north" | "south" | "east" | "west" | "old" | "new");
        let capitalised = matches!(token.case, Case::Capitalised | Case::Upper | Case::Letter);
        if FUNCTION_WORDS.contains(&word) || lexicon.is_clinical(word) {
            return false;
        }
        ordinal || directional || capitalised || (!ambiguous && token.has_alpha && !token.has_digit)
    })
}

#[cfg(test)]
mod tests {
    use crate::testing::{check, labels};
    use crate::PhiLabel;

    #[test]
    fn street_lines_and_post_boxes() {
        check("lives at 42 Oak St., Apt 4B now", &[("42 Oak St., Apt 4B", PhiLabel::Address)]);
        check("1200 N. Main Street", &[("1200 N. Main Street", PhiLabel::Address)]);
        check("moved to 77 west elm avenue", &[("77 west elm avenue", PhiLabel::Address)]);
        check("send to PO Box 4411", &[("PO Box 4411", PhiLabel::Address)]);
        check("at 9 Martin Luther King Jr Blvd", &[("9 Martin Luther King Jr Blvd", PhiLabel::Address)]);
    }

    #[test]
    fn doses_and_walks_are_not_addresses() {
        for text in ["take 2 tabs per dr smith", "walked 2 blocks down the road", "5 mg lasix dr", "3 st segment changes"] {
            assert!(!labels(text).contains(&PhiLabel::Address), "{text}");
        }
    }
}
