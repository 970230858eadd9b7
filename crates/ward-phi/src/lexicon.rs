//! The word lists the recognisers consult, embedded in the binary and indexed once.
//! Sources and licences: `crates/ward-phi/data/README.md`.

use std::borrow::Cow;
use std::ops::BitOr;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Anchored, Input, MatchKind, StartKind};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::recognisers::{address, age, dates, facility, identifiers, location, name_slots, names};
use crate::scan::tokenize;

const FIRST_NAMES: &str = include_str!("../data/first_names.txt");
const LAST_NAMES: &str = include_str!("../data/last_names.txt");
const US_PLACES: &str = include_str!("../data/us_places.txt");
const ENGLISH_WORDS: &str = include_str!("../data/english_words.txt");
const CLINICAL_TERMS: &str = include_str!("../data/clinical_terms.txt");
const MEDICAL_WORDS: &str = include_str!("../data/medical_words.txt");
const INSTITUTIONS: &str = include_str!("../data/institutions.txt");

/// US states and territories, full names and postal codes (lowercased): not PHI on their own (Safe Harbor
/// keeps the state), but they anchor "City, ST 12345".
pub(crate) const STATES: [(&str, &str); 56] = [
    ("alabama", "al"),
    ("alaska", "ak"),
    ("arizona", "az"),
    ("arkansas", "ar"),
    ("california", "ca"),
    ("colorado", "co"),
    ("connecticut", "ct"),
    ("delaware", "de"),
    ("district of columbia", "dc"),
    ("florida", "fl"),
    ("georgia", "ga"),
    ("hawaii", "hi"),
    ("idaho", "id"),
    ("illinois", "il"),
    ("indiana", "in"),
    ("iowa", "ia"),
    ("kansas", "ks"),
    ("kentucky", "ky"),
    ("louisiana", "la"),
    ("maine", "me"),
    ("maryland", "md"),
    ("massachusetts", "ma"),
    ("michigan", "mi"),
    ("minnesota", "mn"),
    ("mississippi", "ms"),
    ("missouri", "mo"),
    ("montana", "mt"),
    ("nebraska", "ne"),
    ("nevada", "nv"),
    ("new hampshire", "nh"),
    ("new jersey", "nj"),
    ("new mexico", "nm"),
    ("new york", "ny"),
    ("north carolina", "nc"),
    ("north dakota", "nd"),
    ("ohio", "oh"),
    ("oklahoma", "ok"),
    ("oregon", "or"),
    ("pennsylvania", "pa"),
    ("rhode island", "ri"),
    ("south carolina", "sc"),
    ("south dakota", "sd"),
    ("tennessee", "tn"),
    ("texas", "tx"),
    ("utah", "ut"),
    ("vermont", "vt"),
    ("virginia", "va"),
    ("washington", "wa"),
    ("west virginia", "wv"),
    ("wisconsin", "wi"),
    ("wyoming", "wy"),
    ("puerto rico", "pr"),
    ("guam", "gu"),
    ("virgin islands", "vi"),
    ("american samoa", "as"),
    ("northern mariana islands", "mp"),
];

/// Languages and nationalities: capitalised like names, never PHI.
const NATIONALITIES: &[&str] = &[
    "english",
    "spanish",
    "french",
    "german",
    "italian",
    "portuguese",
    "russian",
    "ukrainian",
    "polish",
    "chinese",
    "mandarin",
    "cantonese",
    "japanese",
    "korean",
    "vietnamese",
    "tagalog",
    "filipino",
    "hindi",
    "urdu",
    "bengali",
    "punjabi",
    "arabic",
    "farsi",
    "persian",
    "hebrew",
    "turkish",
    "greek",
    "armenian",
    "somali",
    "amharic",
    "swahili",
    "haitian",
    "creole",
    "american",
    "african",
    "asian",
    "hispanic",
    "latino",
    "latina",
    "caucasian",
    "european",
    "mexican",
    "cuban",
    "canadian",
    "indian",
    "irish",
    "scottish",
    "british",
    "jewish",
    "muslim",
    "christian",
    "catholic",
    "baptist",
    "asl",
    "navajo",
    "hmong",
    "laotian",
    "cambodian",
    "thai",
    "burmese",
    "nepali",
    "dutch",
];

const COUNTRY_PHRASES: &[&str] = &[
    "el salvador",
    "costa rica",
    "dominican republic",
    "south africa",
    "new zealand",
    "united states",
    "united kingdom",
    "hong kong",
    "saudi arabia",
    "sri lanka",
    "south korea",
    "north korea",
];

/// Country names that are also the names of small US towns; as countries they are not PHI.
const COUNTRIES: &[&str] = &[
    "america",
    "canada",
    "mexico",
    "cuba",
    "peru",
    "chile",
    "brazil",
    "china",
    "japan",
    "india",
    "russia",
    "poland",
    "holland",
    "ireland",
    "scotland",
    "england",
    "wales",
    "france",
    "germany",
    "italy",
    "spain",
    "greece",
    "egypt",
    "jordan",
    "lebanon",
    "syria",
    "israel",
    "palestine",
    "vietnam",
    "korea",
    "norway",
    "sweden",
    "denmark",
    "finland",
    "belgium",
    "panama",
    "colombia",
    "jamaica",
    "haiti",
    "nigeria",
    "kenya",
    "ghana",
    "ethiopia",
    "somalia",
    "morocco",
    "turkey",
    "iran",
    "iraq",
    "thailand",
    "laos",
    "cambodia",
    "myanmar",
    "nepal",
    "afghanistan",
    "uzbekistan",
    "kazakhstan",
    "romania",
    "hungary",
    "austria",
    "switzerland",
    "portugal",
    "netherlands",
    "croatia",
    "serbia",
    "bosnia",
    "albania",
    "bulgaria",
    "czechia",
    "slovakia",
    "lithuania",
    "latvia",
    "estonia",
    "belarus",
    "moldova",
    "senegal",
    "liberia",
    "sudan",
    "eritrea",
    "uganda",
    "tanzania",
    "rwanda",
    "congo",
    "cameroon",
    "zimbabwe",
    "zambia",
    "ecuador",
    "bolivia",
    "paraguay",
    "uruguay",
    "belize",
    "barbados",
    "trinidad",
    "bahamas",
    "taiwan",
    "malaysia",
    "singapore",
    "yemen",
    "oman",
    "qatar",
    "kuwait",
    "tunisia",
    "algeria",
    "libya",
    "mongolia",
    "fiji",
    "samoa",
    "iran",
    "iraq",
    "pakistan",
    "bangladesh",
    "philippines",
    "indonesia",
    "australia",
    "guatemala",
    "honduras",
    "nicaragua",
    "venezuela",
    "argentina",
    "ukraine",
    "armenia",
    "georgia",
    "usa",
];

/// Words after a name or place that make it an eponym ("Lyme disease", "Glasgow Coma Scale").
pub(crate) const HEAD_NOUNS: &[&str] = &[
    "disease",
    "syndrome",
    "sign",
    "signs",
    "test",
    "scale",
    "score",
    "criteria",
    "rule",
    "rules",
    "palsy",
    "fracture",
    "cyst",
    "lymphoma",
    "sarcoma",
    "tumor",
    "tumour",
    "procedure",
    "maneuver",
    "manoeuvre",
    "operation",
    "protocol",
    "classification",
    "stage",
    "reflex",
    "phenomenon",
    "triad",
    "murmur",
    "node",
    "nodes",
    "diverticulum",
    "ulcer",
    "shunt",
    "catheter",
    "position",
    "method",
    "index",
    "formula",
    "equation",
    "solution",
    "chromosome",
    "virus",
    "fever",
    "disorder",
    "dystrophy",
    "anomaly",
    "malformation",
    "coma",
    "ankle",
    "knee",
    "encephalopathy",
    "ataxia",
    "chorea",
    "aneurysm",
    "body",
    "bodies",
    "cell",
    "cells",
    "granules",
    "spots",
    "nodules",
    "lines",
    "law",
    "effect",
    "incision",
    "retractor",
    "forceps",
    "tube",
    "tubes",
    "bag",
    "stockings",
    "hose",
    "splint",
    "dressing",
    "deformity",
    "contracture",
    "esophagus",
    "block",
    "space",
    "canal",
    "duct",
    "gland",
    "glands",
    "angle",
    "point",
    "sinus",
    "scheme",
    "staging",
    "system",
    "approach",
    "repair",
    "graft",
    "filter",
];

/// Month names, in calendar order.
pub(crate) const MONTHS: [&str; 12] = [
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
const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// The word lists a lowercased word belongs to, found with one hash lookup per token; the top
/// four bits hold how many tokens the longest place starting with the word has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Kinds(u64);

impl Kinds {
    pub const FIRST_NAME: Kinds = Kinds(1);
    pub const LAST_NAME: Kinds = Kinds(1 << 1);
    /// An ordinary English word ("will", "brown", "rose" are names too, so they need context).
    pub const ENGLISH: Kinds = Kinds(1 << 2);
    /// Clinical vocabulary, eponyms and drug names: never a name or place on their own.
    pub const CLINICAL: Kinds = Kinds(1 << 3);
    /// A language, nationality or religion ("Spanish-speaking"): never a name.
    pub const NATIONALITY: Kinds = Kinds(1 << 4);
    /// A month or weekday name, or a month's usual abbreviation: a date word, never a place.
    pub const CALENDAR: Kinds = Kinds(1 << 5);
    pub const HEAD_NOUN: Kinds = Kinds(1 << 6);
    pub const FUNCTION_WORD: Kinds = Kinds(1 << 7);
    pub const TITLE: Kinds = Kinds(1 << 8);
    pub const STRONG_CUE: Kinds = Kinds(1 << 9);
    pub const RELATION: Kinds = Kinds(1 << 10);
    pub const HEADER_CUE: Kinds = Kinds(1 << 11);
    pub const PARTICLE: Kinds = Kinds(1 << 12);
    pub const SUBJECT_VERB: Kinds = Kinds(1 << 13);
    pub const WEAK_CUE: Kinds = Kinds(1 << 14);
    pub const PERSON_VERB: Kinds = Kinds(1 << 15);
    pub const CREDENTIAL: Kinds = Kinds(1 << 16);
    pub const NAME_SUFFIX: Kinds = Kinds(1 << 17);
    pub const PLACE_CUE: Kinds = Kinds(1 << 18);
    /// A state's postal code (in any case) or the first word of its name.
    pub const STATE: Kinds = Kinds(1 << 19);
    pub const STREET_SUFFIX: Kinds = Kinds(1 << 20);
    /// A word that opens or closes a name slot ("patient", "for", "dob", "is"): the slot rules
    /// look only at these, at titles, credentials, numbers and possessives.
    pub const SLOT_WORD: Kinds = Kinds(1 << 21);
    /// The first word of a well-known institution's name.
    pub const INSTITUTION: Kinds = Kinds(1 << 22);
    /// The first word of an identifier's cue ("mrn", "member", "driver's").
    pub const ID_CUE: Kinds = Kinds(1 << 23);
    /// A weekday's name or an abbreviation of it ("fri", "tues", "thurs").
    pub const WEEKDAY: Kinds = Kinds(1 << 24);
    /// The first word of a facility keyword ("medical", "hospital", "women").
    pub const FACILITY_START: Kinds = Kinds(1 << 25);
    /// A word an age over 89 may start with ("aged", "ninety", "nonagenarian", "in").
    pub const AGE_START: Kinds = Kinds(1 << 26);
    /// A word other than a month or weekday that a date may start with ("the", "last", "fifth").
    pub const DATE_START: Kinds = Kinds(1 << 27);
    /// A word other than a cue that a name may follow (`names::OPENERS`).
    pub const NAME_OPENER: Kinds = Kinds(1 << 28);
    /// A word that makes a weekday after it a date ("on", "since", "every").
    pub const WEEKDAY_CUE: Kinds = Kinds(1 << 29);
    /// A digit read out as a word ("oh", "four").
    pub const DIGIT_WORD: Kinds = Kinds(1 << 30);
    /// Every kind of word that the patterns tried at `Scan::word_starts` open with.
    pub const PATTERN_OPENER: Kinds = Kinds::AGE_START
        .union(Kinds::ID_CUE)
        .union(Kinds::DIGIT_WORD)
        .union(Kinds::FACILITY_START)
        .union(Kinds::WEEKDAY_CUE)
        .union(Kinds::DATE_START)
        .union(Kinds::CALENDAR)
        .union(Kinds::WEEKDAY);

    /// The most tokens a place that starts with this word has (0: none starts with it).
    pub fn place_tokens(self) -> usize {
        (self.0 >> 60) as usize
    }

    fn with_place_tokens(self, tokens: usize) -> Kinds {
        let tokens = tokens.min(15).max(self.place_tokens()) as u64;
        Kinds(self.0 & 0x0fff_ffff_ffff_ffff | tokens << 60)
    }

    /// Both sets of kinds, in a constant.
    pub const fn union(self, other: Kinds) -> Kinds {
        Kinds(self.0 | other.0)
    }

    /// Whether the word is in any of `kinds`.
    pub fn any(self, kinds: Kinds) -> bool {
        self.0 & kinds.0 != 0
    }
}

impl BitOr for Kinds {
    type Output = Kinds;
    fn bitor(self, other: Kinds) -> Kinds {
        self.union(other)
    }
}

/// The small vocabularies the recognisers keep beside their code, indexed with the word lists.
const VOCABULARIES: &[(&[&str], Kinds)] = &[
    (NATIONALITIES, Kinds::NATIONALITY),
    (&MONTHS, Kinds::CALENDAR),
    (&WEEKDAYS, Kinds::CALENDAR),
    (HEAD_NOUNS, Kinds::HEAD_NOUN),
    (names::FUNCTION_WORDS, Kinds::FUNCTION_WORD),
    (names::TITLES, Kinds::TITLE),
    (names::STRONG_CUES, Kinds::STRONG_CUE),
    (names::RELATIONS, Kinds::RELATION),
    (names::HEADER_CUES, Kinds::HEADER_CUE),
    (names::PARTICLES, Kinds::PARTICLE),
    (names::SUBJECT_VERBS, Kinds::SUBJECT_VERB),
    (names::WEAK_CUES, Kinds::WEAK_CUE),
    (names::PERSON_VERBS, Kinds::PERSON_VERB),
    (names::CREDENTIALS, Kinds::CREDENTIAL),
    (names::NAME_SUFFIXES, Kinds::NAME_SUFFIX),
    (names::OPENERS, Kinds::NAME_OPENER),
    (location::PLACE_CUES, Kinds::PLACE_CUE),
    (dates::WEEKDAY_WORDS, Kinds::WEEKDAY),
    (age::START_WORDS, Kinds::AGE_START),
    (dates::START_WORDS, Kinds::DATE_START),
    (dates::WEEKDAY_CUES, Kinds::WEEKDAY_CUE),
    (identifiers::DIGIT_WORDS, Kinds::DIGIT_WORD),
];

pub(crate) struct Lexicon {
    /// Every listed word of up to seven bytes, packed into a number: most words are short, and
    /// a number hashes and compares in a few instructions.
    short_words: PackedWords,
    /// The longer words, borrowed from the embedded lists (a few are worked out at start-up).
    long_words: FxHashMap<Cow<'static, str>, Kinds>,
    /// State, country and nationality names, one word or several ("new york", "spanish").
    not_places: FxHashSet<&'static str>,
    /// US places, states and countries, lowercased.
    places: FxHashSet<&'static str>,
    /// Well-known institutions, searched from the words that start one.
    institutions: AhoCorasick,
}

fn entries(list: &'static str) -> impl Iterator<Item = &'static str> {
    list.lines()
        .filter(|line| !line.starts_with('#'))
        .flat_map(str::split_whitespace)
}

fn lines(list: &'static str) -> impl Iterator<Item = &'static str> {
    list.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

fn automaton(patterns: impl Iterator<Item = &'static str>) -> AhoCorasick {
    AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostLongest)
        .start_kind(StartKind::Anchored)
        .build(patterns)
        .expect("the embedded word lists build an automaton")
}

/// A word of up to seven bytes as a number: its bytes, and its length in the last byte.
fn packed(word: &str) -> Option<u64> {
    let bytes = word.as_bytes();
    let length = bytes.len();
    // Read straight from the word, in overlapping pieces that together cover it: a number
    // read back from a buffer just written byte by byte waits for those stores.
    let word = match length {
        0 => 0,
        1..=3 => {
            let byte = |at: usize| u64::from(bytes[at]) << (8 * at);
            byte(0) | byte(length / 2) | byte(length - 1)
        }
        4..=7 => {
            let four = |at: usize| {
                let piece: [u8; 4] = bytes[at..at + 4].try_into().expect("four bytes");
                u64::from(u32::from_le_bytes(piece)) << (8 * at)
            };
            four(0) | four(length - 4)
        }
        _ => return None,
    };
    Some(word | (length as u64) << 56)
}

/// The word lists split into the packed short words and the longer ones.
fn split_by_length(
    kinds: FxHashMap<Cow<'static, str>, Kinds>,
) -> (PackedWords, FxHashMap<Cow<'static, str>, Kinds>) {
    let mut short_words = Vec::new();
    let mut long_words = FxHashMap::default();
    for (word, kind) in kinds {
        match packed(&word) {
            Some(packed) => short_words.push((packed, kind)),
            None => {
                long_words.insert(word, kind);
            }
        }
    }
    (PackedWords::new(&short_words), long_words)
}

/// Packed words and their kinds in one open-addressed table, each word in the slot its hash
/// names or the next free one after it. A hash map keeps its control bytes apart from its
/// entries, so a lookup there reads two places in a table of megabytes; here it reads one.
struct PackedWords {
    /// Each slot a packed word (0 for none: a packed word holds its length) and its kinds.
    slots: Vec<(u64, Kinds)>,
    /// How far to shift a hash to index the slots (a power of two, at most half full).
    shift: u32,
}

impl PackedWords {
    fn new(words: &[(u64, Kinds)]) -> Self {
        let bits = (words.len() * 2)
            .max(2)
            .next_power_of_two()
            .trailing_zeros();
        let mut table = PackedWords {
            slots: vec![(0, Kinds::default()); 1 << bits],
            shift: 64 - bits,
        };
        for &(word, kinds) in words {
            let mut at = table.home(word);
            while table.slots[at].0 != 0 {
                at = (at + 1) & (table.slots.len() - 1);
            }
            table.slots[at] = (word, kinds);
        }
        table
    }

    /// The slot `word` belongs in, from the high bits of a multiplicative hash.
    fn home(&self, word: u64) -> usize {
        (word.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift) as usize
    }

    fn get(&self, word: u64) -> Option<&Kinds> {
        let mut at = self.home(word);
        loop {
            let (slot, kinds) = &self.slots[at];
            if *slot == word {
                return Some(kinds);
            }
            if *slot == 0 {
                return None;
            }
            at = (at + 1) & (self.slots.len() - 1);
        }
    }
}

impl Lexicon {
    pub fn new() -> Self {
        let mut kinds: FxHashMap<Cow<'static, str>, Kinds> = FxHashMap::default();
        let mut add = |word: &'static str, kind: Kinds| {
            let entry = kinds.entry(Cow::Borrowed(word)).or_default();
            *entry = *entry | kind;
        };
        for (list, kind) in [
            (FIRST_NAMES, Kinds::FIRST_NAME),
            (LAST_NAMES, Kinds::LAST_NAME),
            (ENGLISH_WORDS, Kinds::ENGLISH),
            (CLINICAL_TERMS, Kinds::CLINICAL),
            (MEDICAL_WORDS, Kinds::CLINICAL),
        ] {
            entries(list).for_each(|word| add(word, kind));
        }
        for (list, kind) in VOCABULARIES {
            list.iter().for_each(|word| add(word, *kind));
        }
        name_slots::slot_words().for_each(|word| add(word, Kinds::SLOT_WORD));
        address::SUFFIXES
            .split('|')
            .for_each(|suffix| add(suffix, Kinds::STREET_SUFFIX));
        for (name, code) in STATES {
            add(name.split(' ').next().unwrap_or(name), Kinds::STATE);
            add(code, Kinds::STATE);
        }
        // "jan", "sept": the abbreviations are the three- and four-letter prefixes.
        for month in MONTHS {
            add(&month[..3], Kinds::CALENDAR);
            add(&month[..4.min(month.len())], Kinds::CALENDAR);
        }
        let phrases = lines(INSTITUTIONS)
            .map(|institution| (institution, Kinds::INSTITUTION))
            .chain(identifiers::cue_words().map(|cue| (cue, Kinds::ID_CUE)));
        for (phrase, kind) in phrases {
            if let Some(first) = tokenize(phrase).first().filter(|first| first.start == 0) {
                add(&phrase[..first.core_end], kind);
            }
        }
        for word in facility::keyword_first_words() {
            let entry = kinds.entry(Cow::Owned(word)).or_default();
            *entry = *entry | Kinds::FACILITY_START;
        }
        // States and countries are places too, so "North Dakota" is never read as the town "North".
        let mut places = FxHashSet::default();
        let all_places = lines(US_PLACES)
            .chain(STATES.iter().map(|(name, _)| *name))
            .chain(COUNTRIES.iter().copied())
            .chain(COUNTRY_PHRASES.iter().copied());
        for place in all_places {
            let tokens = tokenize(place);
            let Some(first) = tokens.first().filter(|first| first.start == 0) else {
                continue;
            };
            places.insert(place);
            let entry = kinds
                .entry(Cow::Borrowed(&place[..first.core_end]))
                .or_default();
            *entry = entry.with_place_tokens(tokens.len());
        }
        let mut not_places: FxHashSet<&'static str> = COUNTRIES.iter().copied().collect();
        not_places.extend(COUNTRY_PHRASES.iter().copied());
        not_places.extend(NATIONALITIES.iter().copied());
        not_places.extend(STATES.iter().map(|(name, _)| *name));
        let (short_words, long_words) = split_by_length(kinds);
        Lexicon {
            short_words,
            long_words,
            not_places,
            places,
            institutions: automaton(lines(INSTITUTIONS)),
        }
    }

    /// The word lists `word` (lowercased) is in; a plural counts as an English word when the
    /// word without its final s's is one.
    pub fn kinds(&self, word: &str) -> Kinds {
        // The scan lowercases ASCII only; "Ó", "ÁLVAREZ" need full lowercasing to be found.
        if !word.is_ascii() && word.chars().any(char::is_uppercase) {
            let lower = word.to_lowercase();
            if lower != word {
                return self.kinds(&lower);
            }
        }
        let kinds = self.listed(word);
        if kinds.any(Kinds::ENGLISH) || !word.ends_with('s') {
            return kinds;
        }
        let singular = word.trim_end_matches('s');
        if self.listed(singular).any(Kinds::ENGLISH) {
            kinds | Kinds::ENGLISH
        } else {
            kinds
        }
    }

    /// The word lists `word` is in, as it is written.
    fn listed(&self, word: &str) -> Kinds {
        let found = match packed(word) {
            Some(packed) => self.short_words.get(packed),
            None => self.long_words.get(word),
        };
        found.copied().unwrap_or_default()
    }

    /// The end of the longest well-known institution that starts at byte `start` of `lower`.
    pub fn institution_at(&self, lower: &str, start: usize) -> Option<usize> {
        let input = Input::new(lower).range(start..).anchored(Anchored::Yes);
        self.institutions.find(input).map(|found| found.end())
    }

    /// A place in the gazetteer (a state or country too), lowercased as the text has it.
    pub fn is_place(&self, phrase: &str) -> bool {
        self.places.contains(phrase)
    }

    /// A state, country or nationality name, one word or several: never PHI on its own.
    pub fn is_state_or_country(&self, place: &str) -> bool {
        self.not_places.contains(place)
    }

    /// The postal code of a state written as `word` (upper case, as addresses write it).
    pub fn is_state_code(word: &str) -> bool {
        word.bytes().all(|b| b.is_ascii_uppercase())
            && STATES
                .iter()
                .any(|(_, code)| code.eq_ignore_ascii_case(word))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_words_hold_their_bytes_and_length() {
        for word in ["", "a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg"] {
            let mut expected = [0u8; 8];
            expected[..word.len()].copy_from_slice(word.as_bytes());
            expected[7] = word.len() as u8;
            assert_eq!(packed(word), Some(u64::from_le_bytes(expected)), "{word}");
        }
        assert_eq!(packed("abcdefgh"), None);
    }

    #[test]
    fn the_packed_table_finds_every_word_it_holds_and_no_other() {
        let words: Vec<(u64, Kinds)> = (0..5000u64)
            .map(|n| (packed(&format!("w{n}")).unwrap(), Kinds(n + 1)))
            .collect();
        let table = PackedWords::new(&words);
        for (word, kinds) in &words {
            assert_eq!(table.get(*word), Some(kinds));
        }
        for n in 5000..6000u64 {
            assert_eq!(table.get(packed(&format!("w{n}")).unwrap()), None);
        }
    }
}
