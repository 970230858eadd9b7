//! The word lists the recognisers consult, embedded in the binary and indexed once.
//! Sources and licences: `crates/ward-phi/data/README.md`.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use rustc_hash::FxHashSet;

const FIRST_NAMES: &str = include_str!("../data/first_names.txt");
const LAST_NAMES: &str = include_str!("../data/last_names.txt");
const US_PLACES: &str = include_str!("../data/us_places.txt");
const ENGLISH_WORDS: &str = include_str!("../data/english_words.txt");
const CLINICAL_TERMS: &str = include_str!("../data/clinical_terms.txt");
const INSTITUTIONS: &str = include_str!("../data/institutions.txt");

/// US states and territories, full names and postal codes: not PHI on their own (Safe Harbor
/// keeps the state), but they anchor "City, ST 12345".
pub(crate) const STATES: [(&str, &str); 56] = [
    ("alabama", "AL"),
    ("alaska", "AK"),
    ("arizona", "AZ"),
    ("arkansas", "AR"),
    ("california", "CA"),
    ("colorado", "CO"),
    ("connecticut", "CT"),
    ("delaware", "DE"),
    ("district of columbia", "DC"),
    ("florida", "FL"),
    ("georgia", "GA"),
    ("hawaii", "HI"),
    ("idaho", "ID"),
    ("illinois", "IL"),
    ("indiana", "IN"),
    ("iowa", "IA"),
    ("kansas", "KS"),
    ("kentucky", "KY"),
    ("louisiana", "LA"),
    ("maine", "ME"),
    ("maryland", "MD"),
    ("massachusetts", "MA"),
    ("michigan", "MI"),
    ("minnesota", "MN"),
    ("mississippi", "MS"),
    ("missouri", "MO"),
    ("montana", "MT"),
    ("nebraska", "NE"),
    ("nevada", "NV"),
    ("new hampshire", "NH"),
    ("new jersey", "NJ"),
    ("new mexico", "NM"),
    ("new york", "NY"),
    ("north carolina", "NC"),
    ("north dakota", "ND"),
    ("ohio", "OH"),
    ("oklahoma", "OK"),
    ("oregon", "OR"),
    ("pennsylvania", "PA"),
    ("rhode island", "RI"),
    ("south carolina", "SC"),
    ("south dakota", "SD"),
    ("tennessee", "TN"),
    ("texas", "TX"),
    ("utah", "UT"),
    ("vermont", "VT"),
    ("virginia", "VA"),
    ("washington", "WA"),
    ("west virginia", "WV"),
    ("wisconsin", "WI"),
    ("wyoming", "WY"),
    ("puerto rico", "PR"),
    ("guam", "GU"),
    ("virgin islands", "VI"),
    ("american samoa", "AS"),
    ("northern mariana islands", "MP"),
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

/// A month or weekday name, or a month's usual abbreviation: a date word, never a place.
pub(crate) fn is_calendar_word(word: &str) -> bool {
    MONTHS.contains(&word)
        || WEEKDAYS.contains(&word)
        || (3..=4).contains(&word.len()) && MONTHS.iter().any(|month| month.starts_with(word))
}

pub(crate) struct Lexicon {
    first_names: FxHashSet<&'static str>,
    last_names: FxHashSet<&'static str>,
    english: FxHashSet<&'static str>,
    clinical: FxHashSet<&'static str>,
    not_places: FxHashSet<&'static str>,
    nationalities: FxHashSet<&'static str>,
    /// US places over the lowercased text, longest match first.
    pub places: AhoCorasick,
    /// Well-known institutions over the lowercased text.
    pub institutions: AhoCorasick,
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
        .build(patterns)
        .expect("the embedded word lists build an automaton")
}

impl Lexicon {
    pub fn new() -> Self {
        let mut not_places: FxHashSet<&'static str> = COUNTRIES.iter().copied().collect();
        not_places.extend(COUNTRY_PHRASES.iter().copied());
        not_places.extend(NATIONALITIES.iter().copied());
        not_places.extend(STATES.iter().map(|(name, _)| *name));
        Lexicon {
            first_names: entries(FIRST_NAMES).collect(),
            last_names: entries(LAST_NAMES).collect(),
            english: entries(ENGLISH_WORDS).collect(),
            clinical: entries(CLINICAL_TERMS).collect(),
            not_places,
            nationalities: NATIONALITIES.iter().copied().collect(),
            // States and countries are patterns too, so "North Dakota" is never read as the town "North".
            places: automaton(
                lines(US_PLACES)
                    .chain(STATES.iter().map(|(name, _)| *name))
                    .chain(COUNTRIES.iter().copied())
                    .chain(COUNTRY_PHRASES.iter().copied()),
            ),
            institutions: automaton(lines(INSTITUTIONS)),
        }
    }

    pub fn is_first_name(&self, word: &str) -> bool {
        self.first_names.contains(word)
    }

    pub fn is_last_name(&self, word: &str) -> bool {
        self.last_names.contains(word)
    }

    /// An ordinary English word ("will", "brown", "rose" are names too, so they need context).
    pub fn is_english(&self, word: &str) -> bool {
        self.english.contains(word) || self.english.contains(word.trim_end_matches('s'))
    }

    /// Clinical vocabulary, eponyms and drug names: never a name or place on their own.
    pub fn is_clinical(&self, word: &str) -> bool {
        self.clinical.contains(word)
    }

    /// A state or country name: a place, but not PHI.
    pub fn is_state_or_country(&self, place: &str) -> bool {
        self.not_places.contains(place)
    }

    /// A language, nationality or religion ("Spanish-speaking"): never a name.
    pub fn is_nationality(&self, word: &str) -> bool {
        self.nationalities.contains(word)
    }

    /// The postal code of a state written as `word` (upper case, as addresses write it).
    pub fn is_state_code(word: &str) -> bool {
        STATES.iter().any(|(_, code)| *code == word)
    }
}
