//! Person names: first- and last-name dictionaries (US Census), titles ("Dr.", "Mrs."), initials
//! ("J. Smith", "Anna S."), credentials ("Lee, MD"), context ("pt", "wife", "seen by", possessives),
//! then every other mention of a name already found. A stop list of English and clinical words
//! keeps "Parkinson's disease", "Bell's palsy" and "Wilson's disease" from being names.

use rustc_hash::FxHashSet;

use super::name_slots;
use crate::finding::Recogniser;
use crate::lexicon::{Kinds, Lexicon};
use crate::scan::{Case, Scan};
use crate::PhiLabel;

pub(crate) const TITLES: &[&str] = &[
    "dr",
    "doctor",
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "prof",
    "professor",
    "rev",
];
/// Words that introduce a person (family relations are in `RELATIONS`): whatever capitalised
/// words follow are a name.
pub(crate) const STRONG_CUES: &[&str] = &[
    "named",
    "dear",
    "hi",
    "hello",
    "hey",
    "thanks",
    "cc",
    "attn",
    "sincerely",
    "regards",
    "signed",
    "dictated",
    "cosigned",
    "transcribed",
    "neighbor",
    "neighbour",
    "roommate",
    "friend",
    "pcp",
    "attending",
    "surgeon",
    "resident",
    "provider",
    "physician",
    "np",
    "rn",
    "pa",
    "md",
];
/// Family and household relations: "nephew xiulan called".
pub(crate) const RELATIONS: &[&str] = &[
    "wife",
    "husband",
    "son",
    "daughter",
    "mother",
    "father",
    "mom",
    "dad",
    "spouse",
    "partner",
    "fiance",
    "fiancee",
    "girlfriend",
    "boyfriend",
    "grandson",
    "granddaughter",
    "grandmother",
    "grandfather",
    "grandma",
    "grandpa",
    "aunt",
    "uncle",
    "niece",
    "nephew",
    "cousin",
    "sibling",
    "stepson",
    "stepdaughter",
    "caregiver",
    "guardian",
    "brother",
    "sister",
];
/// Header fields whose value is a person ("RE: Kunda, Jyoti", "Referring: Dr. X").
pub(crate) const HEADER_CUES: &[&str] = &[
    "re",
    "pt",
    "patient",
    "name",
    "from",
    "to",
    "cc",
    "provider",
    "referring",
    "attending",
    "pcp",
    "physician",
    "contact",
    "author",
    "signed",
    "resident",
    "nurse",
    "surgeon",
    "consultant",
    "member",
    "subscriber",
    "guarantor",
    "insured",
    "emergency",
    "care",
];
/// Particles inside names ("van der", "de la"): part of a name, never one alone.
pub(crate) const PARTICLES: &[&str] = &[
    "van", "von", "der", "den", "de", "del", "della", "la", "le", "da", "di", "du", "bin", "ibn",
    "al", "el", "dos", "das", "ó", "mac",
];
/// Verbs that follow a patient's name at the start of a sentence ("Victor notes improvement").
pub(crate) const SUBJECT_VERBS: &[&str] = &[
    "reports",
    "notes",
    "states",
    "denies",
    "presents",
    "complains",
    "endorses",
    "returns",
    "arrives",
    "agrees",
    "understands",
    "verbalized",
    "verbalizes",
    "called",
    "emailed",
    "tolerated",
    "was",
    "is",
    "has",
    "had",
    "continues",
    "remains",
    "feels",
    "says",
    "said",
    "wants",
    "needs",
    "asked",
    "asks",
    "declined",
    "declines",
    "refuses",
    "refused",
    "underwent",
    "lives",
    "works",
    "presented",
    "came",
    "comes",
];

/// Words that often introduce a person: dictionary names that follow are names.
pub(crate) const WEAK_CUES: &[&str] = &[
    "patient",
    "pt",
    "by",
    "with",
    "to",
    "for",
    "from",
    "per",
    "and",
    "contact",
    "call",
    "called",
    "ask",
    "tell",
    "told",
    "spoke",
    "saw",
    "see",
    "seen",
    "visited",
    "visit",
    "met",
    "discussed",
    "notify",
    "notified",
    "informed",
    "page",
    "paged",
    "text",
    "email",
    "emailed",
    "about",
    "re",
    "regarding",
    "of",
    "is",
    "was",
    "as",
];
/// Verbs that turn "by" or "with" into a strong cue ("seen by", "spoke with").
pub(crate) const PERSON_VERBS: &[&str] = &[
    "seen",
    "referred",
    "accompanied",
    "evaluated",
    "examined",
    "signed",
    "dictated",
    "reviewed",
    "spoke",
    "discussed",
    "met",
    "consulted",
    "brought",
    "visited",
    "cosigned",
    "attended",
    "performed",
    "treated",
    "followed",
    "managed",
    "covered",
    "talked",
    "lives",
    "married",
    "staying",
    "transcribed",
    "written",
    "prepared",
    "ordered",
    "approved",
];
pub(crate) const CREDENTIALS: &[&str] = &[
    "md", "do", "rn", "np", "pa", "pa-c", "dds", "dmd", "phd", "lpn", "cnm", "crna", "mph", "facp",
    "facc", "dnp", "aprn", "fnp", "fnp-c", "pharmd", "lcsw", "msw", "mbbs", "dpm", "od", "psyd",
    "cma", "rma", "lvn", "cnp", "crnp", "cns", "rd", "rph", "slp", "otr", "dpt", "emt", "ccc-slp",
    "lmft", "lpc", "mft", "cnm", "facs", "facog", "bsn", "msn", "cna",
];
pub(crate) const NAME_SUFFIXES: &[&str] = &["jr", "sr", "ii", "iii", "iv"];
/// Words other than cues that a name may follow ("Dear Will", "name is", "seen by", "spoke with").
pub(crate) const OPENERS: &[&str] = &["dear", "name", "by", "with"];

pub(crate) struct NameRecogniser;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    /// After a title or a family relation: any word that is not an ordinary word is a name.
    Title,
    /// After a title or a word that introduces a person.
    Strong,
    /// After a word that often precedes a person.
    Weak,
    /// No context: the dictionaries alone.
    None,
}

impl NameRecogniser {
    pub fn scan(&self, scan: &mut Scan<'_>, lexicon: &Lexicon) {
        let mut spans: Vec<(usize, usize, f32)> = Vec::new();
        let count = scan.tokens.len();
        let mut index = 0;
        while index < count {
            if let Some((first, last, confidence)) = candidate_at(scan, lexicon, index) {
                let (first, last) = extend(scan, lexicon, first, last);
                let phrase = &scan.lower[scan.tokens[first].start..scan.tokens[last].core_end];
                // "Ms. Washington", "Dr. Georgia Lee": after a title a state's name is a person's.
                let after_title = first > 0 && scan.is(first - 1, Kinds::TITLE);
                if !eponym_follows(scan, last)
                    && (after_title || !lexicon.is_state_or_country(phrase))
                {
                    spans.push((first, last, confidence));
                    index = last + 1;
                    continue;
                }
            }
            index += 1;
        }
        credentialed(scan, &mut spans);
        name_slots::fill_slots(scan, &mut spans);
        name_slots::message_names(scan, &mut spans);
        spelled_out(scan, &mut spans);
        named_in_email(scan, &mut spans);
        propagate(scan, &mut spans);
        for (first, last, confidence) in spans {
            let (start, end) = (scan.tokens[first].start, scan.tokens[last].core_end);
            if scan.not_phi.iter().any(|(s, e)| *s <= start && end <= *e) {
                continue;
            }
            scan.push(start, end, PhiLabel::Name, Recogniser::Name, confidence);
        }
    }
}

/// The name that starts at or right after token `index`, as a token range and a confidence.
fn candidate_at(scan: &Scan<'_>, lexicon: &Lexicon, index: usize) -> Option<(usize, usize, f32)> {
    // A number is no name and no cue word.
    let token = &scan.tokens[index];
    if token.has_digit || !token.has_alpha {
        return None;
    }
    let cue_kinds =
        Kinds::TITLE | Kinds::RELATION | Kinds::STRONG_CUE | Kinds::WEAK_CUE | Kinds::HEADER_CUE;
    // Most words are no cue: only the dictionaries can start a name there.
    if !scan.is(index, cue_kinds | Kinds::NAME_OPENER) {
        return dictionary_name(scan, lexicon, index);
    }
    let word = scan.word(index);
    // "Dear Will,": a given name after "Dear", even one that is a common word ("Dear Patient" is not).
    if word == "dear"
        && scan
            .tokens
            .get(index + 1)
            .is_some_and(|next| next.case == Case::Capitalised)
        && scan.is(index + 1, Kinds::FIRST_NAME)
    {
        return Some((index + 1, index + 1, 0.8));
    }
    // Title or cue, then a run of name words.
    let header_cue = scan.gap_after(index).trim_start().starts_with(':')
        && scan.is(index, Kinds::WEAK_CUE | Kinds::HEADER_CUE);
    let context = if scan.is(index, Kinds::TITLE) && !scan.tokens[index].possessive()
        || scan.is(index, Kinds::RELATION)
    {
        Context::Title
    } else if header_cue
        || scan.is(index, Kinds::STRONG_CUE) && scan.tokens[index].case != Case::Upper
        || is_name_label(scan, index)
        || matches!(word, "by" | "with") && index > 0 && scan.is(index - 1, Kinds::PERSON_VERB)
    {
        Context::Strong
    } else if scan.is(index, Kinds::WEAK_CUE) {
        Context::Weak
    } else {
        Context::None
    };
    // "with his son. Last echo": a sentence ends what a cue other than a title introduces.
    if context != Context::None
        && (context == Context::Title && scan.is(index, Kinds::TITLE)
            || !scan.gap_after(index).contains(['.', '!', '?', ';', '\n']))
    {
        let mut next = index + 1;
        if next < scan.tokens.len() && scan.word(next) == "is" && word == "name" {
            next += 1;
        }
        if let Some(last) = name_run(scan, next, context) {
            let capitalised = scan.tokens[next].case != Case::Lower;
            let confidence = match context {
                Context::Strong => 0.9,
                _ if capitalised => 0.8,
                // "from boston": a place cue too; let a place recogniser's label win.
                _ => 0.55,
            };
            return Some((next, last, confidence));
        }
    }
    dictionary_name(scan, lexicon, index)
}

/// "Name:", "Patient Name:", "name is".
fn is_name_label(scan: &Scan<'_>, index: usize) -> bool {
    scan.word(index) == "name"
        && (scan.gap_after(index).contains(':')
            || scan.tokens.get(index + 1).is_some() && scan.word(index + 1) == "is")
}

/// Up to three name words from token `first` on; the last index, or `None` if the first is not one.
fn name_run(scan: &Scan<'_>, first: usize, context: Context) -> Option<usize> {
    let mut last = None;
    let mut index = first;
    let mut commas = 0;
    while index < scan.tokens.len() && index < first + 5 {
        let gap = scan.gap_before(index);
        // "Kunda, Jyoti": one comma after the first word of a strong-cue name.
        let last_first_comma = index == first + 1
            && scan.comma_after(first)
            && commas == 0
            && context != Context::Weak
            && !scan.line_ends_after(first);
        if last_first_comma {
            commas += 1;
        } else if index > first
            && !(scan.joined_by_space(index - 1)
                || is_initial(scan, index - 1) && scan.gap_after(index - 1).trim() == ".")
        {
            break;
        }
        if gap.contains(['\n', ';', '(', ')', ':']) && index > first
            || gap.contains('\n')
            || gap.contains(',') && index > first && !last_first_comma
        {
            break;
        }
        if scan.is(index, Kinds::PARTICLE)
            && (index > first || context != Context::Weak)
            && index + 1 < scan.tokens.len()
            && scan.joined_by_space(index)
        {
            index += 1;
            continue;
        }
        let after_given_name = index > first && scan.is(index - 1, Kinds::FIRST_NAME);
        // "His sister Lucie Blot": after a title or relation, a capitalised word that follows a
        // given name is the surname, even one that is a common word.
        // "from Georgia last year": a surname is written as the given name before it.
        let same_case =
            scan.tokens[index].case != Case::Lower || scan.tokens[index - 1].case == Case::Lower;
        let surname = after_given_name
            && same_case
            && (scan.is(index, Kinds::LAST_NAME)
                || context == Context::Title && scan.tokens[index].case == Case::Capitalised)
            && !scan.is(
                index,
                Kinds::CLINICAL | Kinds::FUNCTION_WORD | Kinds::HEAD_NOUN,
            );
        // "Contact: Chip Jakubiuk": after a strong cue, a common word is a given name when a
        // surname that is no common word follows.
        let given_before_surname = index == first
            && context != Context::Weak
            && index + 1 < scan.tokens.len()
            && scan.joined_by_space(index)
            && scan.tokens[index].case == Case::Capitalised
            && scan.tokens[index + 1].case == Case::Capitalised
            && !scan.is(index, Kinds::CLINICAL | Kinds::FUNCTION_WORD)
            && !scan.is(
                index + 1,
                Kinds::ENGLISH | Kinds::CLINICAL | Kinds::FUNCTION_WORD,
            )
            && !scan.tokens[index + 1].has_digit;
        let accepted = is_initial(scan, index)
            || surname
            || given_before_surname
            || is_name_word(scan, index, context);
        if !accepted {
            break;
        }
        last = Some(index);
        index += 1;
    }
    // A lone initial is not a name, nor a name that ends in a comma.
    last.filter(|&end| !(end == first && is_initial(scan, first)))
}

/// "J." (a capital letter and a full stop), anywhere in a name.
fn is_initial(scan: &Scan<'_>, index: usize) -> bool {
    scan.tokens[index].case == Case::Letter && scan.full_stop_after(index)
}

/// An initial with more of the name after it on the same line.
fn initial_joins(scan: &Scan<'_>, index: usize) -> bool {
    is_initial(scan, index) && !scan.line_ends_after(index)
}

/// "k." in a lowercase name ("timothy k. robertson", "hunt, danielle w.").
fn lowercase_initial(scan: &Scan<'_>, index: usize) -> bool {
    let token = &scan.tokens[index];
    token.case == Case::Lower && token.end - token.start == 1 && scan.full_stop_after(index)
}

fn is_name_word(scan: &Scan<'_>, index: usize, context: Context) -> bool {
    let token = &scan.tokens[index];
    if token.has_digit || !token.has_alpha {
        return false;
    }
    let word = scan.word(index);
    if word.len() < 2 || scan.is(index, Kinds::TITLE | Kinds::CREDENTIAL) {
        return false;
    }
    let in_dictionary = scan.is(index, Kinds::FIRST_NAME | Kinds::LAST_NAME);
    let english = scan.is(index, Kinds::ENGLISH);
    let clinical = scan.is(index, Kinds::CLINICAL);
    let foreign = !word.is_ascii() && !english && !clinical;
    match (token.case, context) {
        // "her niece May reports": after a title or relation, a capitalised given name inside
        // a sentence is a name, even one that is a function word.
        (Case::Capitalised | Case::Upper, Context::Title) => {
            (!scan.is(index, Kinds::FUNCTION_WORD)
                || scan.is(index, Kinds::FIRST_NAME) && !scan.starts_sentence(index))
                && (!english || in_dictionary)
        }
        (Case::Lower, Context::Title) => {
            !scan.is(index, Kinds::FUNCTION_WORD) && !clinical && (!english || in_dictionary)
        }
        (Case::Capitalised, _) if foreign => true,
        (Case::Capitalised | Case::Upper, Context::Strong) => {
            !scan.is(index, Kinds::FUNCTION_WORD) && !clinical && (in_dictionary || !english)
        }
        (Case::Capitalised, Context::Weak) => {
            !clinical && in_dictionary && !scan.is(index, Kinds::FUNCTION_WORD)
        }
        (Case::Upper, Context::Weak) => !clinical && in_dictionary && !english && word.len() >= 4,
        // "from: gabriel concepción": after a strong cue, a dictionary name or a word with
        // letters English does not use.
        (Case::Lower, Context::Strong) => {
            !clinical
                && !scan.is(index, Kinds::FUNCTION_WORD)
                && (in_dictionary || foreign)
                && !english
        }
        // Census surnames include clinical words ("melena"); a lowercase word alone must be a given name.
        (Case::Lower, _) => !clinical && scan.is(index, Kinds::FIRST_NAME) && !english,
        _ => false,
    }
}

/// Pronouns, articles, auxiliaries, sign-offs and department words: never part of a name.
pub(crate) const FUNCTION_WORDS: &[&str] = &[
    "the",
    "a",
    "an",
    "and",
    "or",
    "of",
    "to",
    "in",
    "on",
    "at",
    "by",
    "for",
    "with",
    "is",
    "was",
    "has",
    "had",
    "he",
    "she",
    "they",
    "his",
    "her",
    "their",
    "we",
    "i",
    "you",
    "it",
    "this",
    "that",
    "who",
    "will",
    "would",
    "can",
    "could",
    "should",
    "may",
    "might",
    "not",
    "no",
    "yes",
    "as",
    "be",
    "are",
    "were",
    "been",
    "about",
    "from",
    "re",
    "please",
    "today",
    "tomorrow",
    "yesterday",
    "also",
    "just",
    "said",
    "says",
    "reports",
    "states",
    "denies",
    "presents",
    "present",
    "here",
    "there",
    "all",
    "my",
    "your",
    "our",
    "its",
    "if",
    "then",
    "so",
    "ok",
    "okay",
    "hi",
    "how",
    "what",
    "when",
    "where",
    "why",
    "which",
    "i've",
    "i'm",
    "i'd",
    "i'll",
    "von",
    "van",
    "de",
    "del",
    "della",
    "la",
    "le",
    "da",
    "di",
    "du",
    "bin",
    "al",
    "el",
    "st",
    "dear",
    "thanks",
    "thank",
    "regards",
    "sincerely",
    "team",
    "staff",
    "office",
    "department",
    "dept",
    "clinic",
    "service",
    "services",
    "line",
    "desk",
    "center",
    "unit",
    "nursing",
    "administration",
    "colleague",
    "colleagues",
];

/// A name without a cue: first name + last name, "Last, First", an initial with a surname, or one
/// distinctive dictionary surname.
fn dictionary_name(
    scan: &Scan<'_>,
    lexicon: &Lexicon,
    index: usize,
) -> Option<(usize, usize, f32)> {
    // `candidate_at` has refused numbers and tokens without a letter.
    let token = &scan.tokens[index];
    // A lowercase common word, or a clinical or function word that is no surname, starts no
    // name of the dictionaries' shapes below (an initial aside).
    let listed_name = scan.is(index, Kinds::FIRST_NAME | Kinds::LAST_NAME);
    if !listed_name
        && token.case != Case::Letter
        && (token.case == Case::Lower && scan.is(index, Kinds::ENGLISH)
            || scan.is(index, Kinds::CLINICAL | Kinds::FUNCTION_WORD))
    {
        return None;
    }
    let word = scan.word(index);
    let capitalised =
        matches!(token.case, Case::Capitalised) || token.case == Case::Upper && word.len() >= 4;
    let count = scan.tokens.len();

    // J. Smith
    if initial_joins(scan, index)
        && index + 1 < count
        && !(index > 0 && scan.tokens[index - 1].has_digit)
    {
        let next = index + 1;
        if scan.tokens[next].case == Case::Capitalised
            && !scan.is(next, Kinds::CLINICAL)
            && scan.is(next, Kinds::LAST_NAME)
            && !scan.is(next, Kinds::FUNCTION_WORD)
        {
            return Some((index, next, 0.85));
        }
        return None;
    }
    let english = scan.is(index, Kinds::ENGLISH);
    // Last, First ("Addison, May", "CLARK, ELIZABETH", "deluca, samantha")
    if index + 1 < count && scan.comma_after(index) && !scan.line_ends_after(index) {
        let next = index + 1;
        let given = scan.word(next);
        let same_case = scan.tokens[next].case == token.case
            && matches!(token.case, Case::Capitalised | Case::Upper | Case::Lower);
        // "CLARK, ELIZABETH": a surname that is also an eponym, when a given name follows.
        let surname_like = scan.is(index, Kinds::LAST_NAME)
            || !english && !scan.is(index, Kinds::CLINICAL) && word.len() >= 3;
        let lowercase_ok = token.case != Case::Lower
            || (!english || !scan.is(next, Kinds::ENGLISH)) && !scan.is(index, Kinds::CLINICAL);
        if same_case
            && surname_like
            && lowercase_ok
            && scan.is(next, Kinds::FIRST_NAME)
            && !scan.is(index, Kinds::FUNCTION_WORD)
            && !scan.is(next, Kinds::FUNCTION_WORD)
            && !lexicon.is_state_or_country(given)
        {
            return Some((index, next, 0.8));
        }
    }
    if scan.is(index, Kinds::CLINICAL | Kinds::FUNCTION_WORD) || word.len() < 2 {
        return None;
    }
    let first_name = scan.is(index, Kinds::FIRST_NAME);

    // First [M.] Last
    if first_name && index + 1 < count && (scan.joined_by_space(index)) {
        let mut next = index + 1;
        let initial = if token.case == Case::Lower {
            lowercase_initial(scan, next)
        } else {
            is_initial(scan, next)
        };
        if initial && !scan.line_ends_after(next) && next + 1 < count {
            next += 1;
        }
        let surname = scan.word(next);
        let surname_token = &scan.tokens[next];
        let surname_known = scan.is(next, Kinds::LAST_NAME | Kinds::FIRST_NAME);
        let surname_english = scan.is(next, Kinds::ENGLISH);
        // "Clifford Clark": an eponym after a given name is a surname (a head noun after it still blocks).
        let plausible_surname = (!scan.is(next, Kinds::CLINICAL)
            || scan.is(next, Kinds::LAST_NAME))
            && !scan.is(next, Kinds::FUNCTION_WORD)
            && !surname_token.has_digit;
        let both_capitalised =
            capitalised && matches!(surname_token.case, Case::Capitalised | Case::Upper);
        let both_lower = token.case == Case::Lower && surname_token.case == Case::Lower;
        if plausible_surname && both_capitalised && (surname_known || !surname_english) {
            return Some((index, next, 0.85));
        }
        let surname_fits =
            surname_known && !(english && surname_english) || !english && !surname_english;
        if plausible_surname
            && both_lower
            && surname_fits
            && !scan.is(next, Kinds::CLINICAL)
            && word.len() >= 3
            && surname.len() >= 3
        {
            return Some((index, next, 0.7));
        }
    }
    // "Amope Walker": an unknown capitalised word before a capitalised surname; "Szymon
    // Nalewajek": two capitalised words that no list knows and no place starts with.
    if token.case == Case::Capitalised
        && !english
        && !first_name
        && word.len() >= 3
        && index + 1 < count
        && scan.joined_by_space(index)
    {
        let next = index + 1;
        let unknown = |at: usize| {
            !scan.is(at, Kinds::ENGLISH | Kinds::CLINICAL | Kinds::LAST_NAME)
                && scan.tokens[at].kinds.place_tokens() == 0
                && scan.word(at).len() >= 3
        };
        // Not a field's label ("Priary Insrance:") nor a drug before its dose ("Janvia 100 mg").
        let label_or_dose = scan.gap_after(next).trim_start().starts_with(':')
            || scan
                .tokens
                .get(next + 1)
                .is_some_and(|after| after.has_digit);
        if scan.tokens[next].case == Case::Capitalised
            && !scan.is(next, Kinds::FUNCTION_WORD)
            && (scan.is(next, Kinds::LAST_NAME)
                || unknown(index) && unknown(next) && !label_or_dose)
        {
            return Some((index, next, 0.7));
        }
    }
    // "rika tanaka": two lowercase words that are no English words, the second a surname.
    if token.case == Case::Lower
        && !english
        && word.len() >= 3
        && index + 1 < count
        && scan.joined_by_space(index)
    {
        let next = index + 1;
        let surname = scan.word(next);
        if scan.tokens[next].case == Case::Lower
            && scan.is(next, Kinds::LAST_NAME)
            && !scan.is(next, Kinds::ENGLISH | Kinds::CLINICAL)
            && surname.len() >= 3
        {
            return Some((index, next, 0.6));
        }
    }
    // Anna S.
    if capitalised
        && first_name
        && index + 1 < count
        && scan.joined_by_space(index)
        && is_initial(scan, index + 1)
    {
        return Some((index, index + 1, 0.8));
    }
    // One distinctive surname or given name, capitalised, that is not an English word.
    if capitalised
        && (first_name || scan.is(index, Kinds::LAST_NAME))
        && !english
        && word.len() >= 3
    {
        return Some((index, index, 0.6));
    }
    // "Thảo", "Yetişal": a capitalised word with letters English does not use.
    if token.case == Case::Capitalised
        && !word.is_ascii()
        && !english
        && !scan.is(index, Kinds::NATIONALITY)
    {
        return Some((index, index, 0.6));
    }
    // "Victor notes improvement": a capitalised word that opens a sentence as its subject.
    if token.case == Case::Capitalised
        && scan.starts_sentence(index)
        && index + 1 < count
        && scan.joined_by_space(index)
    {
        let subject_like = first_name || scan.is(index, Kinds::LAST_NAME) || !english;
        if scan.is(index + 1, Kinds::SUBJECT_VERB)
            && subject_like
            && !scan.is(index, Kinds::RELATION | Kinds::WEAK_CUE | Kinds::HEADER_CUE)
        {
            return Some((index, index, 0.6));
        }
    }
    // "steven reports": in lowercase text a given name that is no English word is a name.
    if token.case == Case::Lower
        && first_name
        && !english
        && word.len() >= 4
        && !lexicon.is_state_or_country(word)
    {
        return Some((index, index, 0.5));
    }
    // "Okafor's daughter": a capitalised possessive that is not an eponym.
    if capitalised && token.possessive() && !english && !scan.starts_sentence(index) {
        return Some((index, index, 0.55));
    }
    None
}

/// Grows a name over initials, unknown capitalised surnames and suffixes ("Maria T. Okafor-Reyes Jr").
fn extend(scan: &Scan<'_>, lexicon: &Lexicon, mut first: usize, mut last: usize) -> (usize, usize) {
    let count = scan.tokens.len();
    while last + 1 < count && last - first < 4 {
        let next = last + 1;
        let initial = |index| {
            is_initial(scan, index)
                || scan.tokens[last].case == Case::Lower && lowercase_initial(scan, index)
        };
        let joined = scan.joined_by_space(last)
            || initial(last) && scan.gap_after(last).trim() == "." && !scan.line_ends_after(last);
        if !joined || scan.tokens[last].possessive() {
            break;
        }
        let token = &scan.tokens[next];
        // "Cliff Hodgkin, NP", "Xiuying Crohn": an eponym right after a given name is a surname,
        // unless a head noun makes it the disease.
        let eponym_surname = token.case == Case::Capitalised
            && scan.is(next, Kinds::CLINICAL)
            && scan.is(last, Kinds::FIRST_NAME)
            && last == first
            && !token.possessive()
            && !scan.head_noun_after(next);
        // "eloisa niño", "dawid dreszer": in lowercase text, after a given name, a word that is
        // no common or clinical word is the surname.
        let lowercase_surname = token.case == Case::Lower
            && scan.tokens[last].case == Case::Lower
            && scan.is(last, Kinds::FIRST_NAME)
            && !token.has_digit
            && scan.word(next).len() >= 3
            && !scan.is(
                next,
                Kinds::ENGLISH
                    | Kinds::CLINICAL
                    | Kinds::FUNCTION_WORD
                    | Kinds::TITLE
                    | Kinds::CREDENTIAL,
            );
        let grows = initial(next)
            || scan.is(next, Kinds::NAME_SUFFIX) && token.case != Case::Lower
            || eponym_surname
            || lowercase_surname
            || token.case == Case::Capitalised
                && !scan.is(next, Kinds::CLINICAL | Kinds::FUNCTION_WORD)
                && (scan.is(next, Kinds::LAST_NAME) || !scan.is(next, Kinds::ENGLISH));
        if grows {
            last = next;
            continue;
        }
        // "lorraine de la cruz", "Ludwig van Beethoven": particles, then a surname in the same case.
        let mut after = next;
        while after < count && after - next < 2 && scan.is(after, Kinds::PARTICLE) {
            after += 1;
        }
        let surname_follows = after > next
            && after < count
            && (next..after).all(|i| scan.joined_by_space(i))
            && scan.tokens[after].case == scan.tokens[last].case
            && matches!(scan.tokens[after].case, Case::Capitalised | Case::Lower)
            && !scan.is(after, Kinds::CLINICAL | Kinds::FUNCTION_WORD)
            && (scan.is(after, Kinds::LAST_NAME) || !scan.is(after, Kinds::ENGLISH));
        if !surname_follows {
            break;
        }
        last = after;
    }
    while first > 0
        && scan.joined_by_space(first - 1)
        && scan.tokens[first].case == Case::Capitalised
    {
        let previous = first - 1;
        let word = scan.word(previous);
        if scan.tokens[previous].case == Case::Capitalised
            && !scan.is(
                previous,
                Kinds::ENGLISH | Kinds::CLINICAL | Kinds::FUNCTION_WORD | Kinds::TITLE,
            )
            && !lexicon.is_state_or_country(word)
        {
            first = previous;
        } else {
            break;
        }
    }
    (first, last)
}

/// "Wilson's disease", "Stevens Johnson syndrome": a clinical head noun after the name.
/// "Lou Gehrig's disease": the head noun may come after more capitalised words of the eponym.
fn eponym_follows(scan: &Scan<'_>, last: usize) -> bool {
    let mut index = last;
    for _ in 0..3 {
        let next = index + 1;
        if next >= scan.tokens.len() || !scan.gap_after(index).trim().is_empty() {
            return false;
        }
        if scan.is(next, Kinds::HEAD_NOUN) {
            return true;
        }
        if scan.tokens[next].case != Case::Capitalised {
            return false;
        }
        index = next;
    }
    false
}

/// "Maria Lopez, MD", "K. Osei RN": capitalised words before a credential.
fn credentialed(scan: &Scan<'_>, spans: &mut Vec<(usize, usize, f32)>) {
    for index in 1..scan.tokens.len() {
        if !scan.is(index, Kinds::CREDENTIAL) {
            continue;
        }
        let gap = scan.gap_before(index).trim();
        if !(gap.is_empty() || gap == ",") {
            continue;
        }
        if !name_slots::written_in_capitals(scan, index) {
            lowercase_credentialed(scan, index, spans);
            continue;
        }
        let mut first = index;
        while first > 0 && index - first < 3 {
            let candidate = first - 1;
            let token = &scan.tokens[candidate];
            let name_like = matches!(token.case, Case::Capitalised)
                && !scan.is(candidate, Kinds::FUNCTION_WORD)
                && (!scan.is(candidate, Kinds::CLINICAL) || scan.is(candidate, Kinds::LAST_NAME))
                || is_initial(scan, candidate);
            let joined = candidate + 1 == index
                || scan.joined_by_space(candidate)
                || initial_joins(scan, candidate);
            if !name_like || !joined {
                break;
            }
            first = candidate;
        }
        if first < index && !spans.iter().any(|(a, b, _)| *a <= first && first <= *b) {
            spans.push((first, index - 1, 0.85));
        }
    }
}

/// "ornella vezzali md dictating", "raf corstiaens, cma": lowercase words before a lowercase
/// credential that a comma sets off or "dictating" follows.
fn lowercase_credentialed(scan: &Scan<'_>, index: usize, spans: &mut Vec<(usize, usize, f32)>) {
    let comma = scan.gap_before(index).trim() == ",";
    let dictating = index + 1 < scan.tokens.len() && scan.word(index + 1).starts_with("dictat");
    if !(comma || dictating) || scan.tokens[index].case != Case::Lower {
        return;
    }
    let mut first = index;
    while first > 0 && index - first < 3 {
        let candidate = first - 1;
        let name_like = scan.tokens[candidate].case == Case::Lower
            && !scan.tokens[candidate].has_digit
            && scan.word(candidate).len() >= 2
            && !scan.is(
                candidate,
                Kinds::FUNCTION_WORD | Kinds::CLINICAL | Kinds::CREDENTIAL,
            )
            && (!scan.is(candidate, Kinds::ENGLISH)
                || scan.is(candidate, Kinds::FIRST_NAME | Kinds::LAST_NAME));
        let joined = candidate + 1 == index || scan.joined_by_space(candidate);
        if !name_like || !joined {
            break;
        }
        first = candidate;
    }
    // Two words at least: one lowercase word before "md" is too weak a sign.
    if index - first >= 2 && !spans.iter().any(|(a, b, _)| *a <= first && first <= *b) {
        spans.push((first, index - 1, 0.7));
    }
}

/// "last name spelled g u e r r a": the letters of a name read out one by one after "spelled".
fn spelled_out(scan: &Scan<'_>, spans: &mut Vec<(usize, usize, f32)>) {
    // Every cue holds "spell": a text without it needs no look at its words.
    if memchr::memmem::find(scan.lower.as_bytes(), b"spell").is_none() {
        return;
    }
    let count = scan.tokens.len();
    for index in 0..count {
        if !matches!(
            scan.word(index),
            "spelled" | "spelling" | "spells" | "spell"
        ) {
            continue;
        }
        let mut first = index + 1;
        while first < count && matches!(scan.word(first), "out" | "as" | "it" | "is") {
            first += 1;
        }
        let single_letter = |at: usize| {
            let token = &scan.tokens[at];
            token.end - token.start == 1 && token.has_alpha
        };
        let mut last = first;
        while last + 1 < count
            && single_letter(last)
            && single_letter(last + 1)
            && matches!(scan.gap_after(last).trim(), "" | "-" | "." | ",")
            && !scan.line_ends_after(last)
        {
            last += 1;
        }
        // "K-O-W-A-L-S-K-I" is one word to the tokenizer.
        let hyphenated = first < count && {
            let letters: Vec<&str> = scan.original(first).split('-').collect();
            letters.len() >= 3
                && letters.iter().all(|letter| {
                    letter.chars().count() == 1 && letter.chars().all(char::is_alphabetic)
                })
        };
        if first < count && (last > first && single_letter(first) || hyphenated) {
            spans.push((first, last, 0.8));
            // "dictation for art cushing last name spelled c u s h i n g": the spelled word, and
            // the given name before it, are the name wherever they stand before.
            let spelled: String = (first..=last)
                .map(|at| scan.word(at))
                .collect::<String>()
                .replace('-', "");
            if let Some(surname) = (0..index).rev().find(|&at| scan.word(at) == spelled) {
                let given = surname > 0
                    && scan.joined_by_space(surname - 1)
                    && scan.tokens[surname - 1].has_alpha
                    && !scan.is(
                        surname - 1,
                        Kinds::FUNCTION_WORD | Kinds::WEAK_CUE | Kinds::STRONG_CUE,
                    );
                spans.push((if given { surname - 1 } else { surname }, surname, 0.8));
            }
        }
    }
}

/// "email frank at frank38@live.com", "reply to wade? he emailed from wademoody10@": a name word
/// that an email address in the text is made of (whole, or at the start or end of one part).
fn named_in_email(scan: &Scan<'_>, spans: &mut Vec<(usize, usize, f32)>) {
    // The web recogniser ran first: its email findings are the addresses.
    let emails: Vec<(usize, usize)> = scan
        .findings
        .iter()
        .filter(|finding| finding.label == PhiLabel::Email)
        .map(|finding| (finding.start, finding.end))
        .collect();
    if emails.is_empty() {
        return;
    }
    let parts: Vec<&str> = emails
        .iter()
        .filter_map(|(start, end)| scan.lower[*start..*end].split_once('@'))
        .flat_map(|(local, _)| local.split(|c: char| !c.is_alphabetic()))
        .filter(|part| part.len() >= 3)
        .collect();
    let made_of = |word: &str| {
        parts.iter().any(|part| {
            *part == word
                || part.len() >= word.len() + 3 && (part.starts_with(word) || part.ends_with(word))
        })
    };
    let count = scan.tokens.len();
    let mut index = 0;
    while index < count {
        let token = &scan.tokens[index];
        let inside = emails
            .iter()
            .any(|(start, end)| token.start < *end && *start < token.end);
        let word = scan.word(index);
        let name_like = !token.has_digit
            && word.len() >= 3
            && !scan.is(
                index,
                Kinds::FUNCTION_WORD
                    | Kinds::CLINICAL
                    | Kinds::TITLE
                    | Kinds::WEAK_CUE
                    | Kinds::STRONG_CUE,
            )
            && (scan.is(index, Kinds::FIRST_NAME | Kinds::LAST_NAME)
                || !scan.is(index, Kinds::ENGLISH));
        if inside || !name_like || !made_of(word) {
            index += 1;
            continue;
        }
        let mut last = index;
        while last + 1 < count && scan.joined_by_space(last) && made_of(scan.word(last + 1)) {
            last += 1;
        }
        spans.push((index, last, 0.75));
        index = last + 1;
    }
}

/// Every other mention of a distinctive word already found in a name is that name too.
fn propagate(scan: &Scan<'_>, spans: &mut Vec<(usize, usize, f32)>) {
    let mut known: FxHashSet<&str> = FxHashSet::default();
    // "Re: Hardy, Martin ... Martin's son called": a common word that a firm cue made a name
    // is that name again where it is written the same way and stands as a person does.
    let mut known_words: FxHashSet<&str> = FxHashSet::default();
    for (first, last, confidence) in spans.iter() {
        for index in *first..=*last {
            let word = scan.word(index);
            if word.len() < 3 || scan.is(index, Kinds::CLINICAL | Kinds::FUNCTION_WORD) {
                continue;
            }
            if !scan.is(index, Kinds::ENGLISH) {
                known.insert(word);
            } else if *confidence >= 0.8 && scan.tokens[index].case == Case::Capitalised {
                known_words.insert(scan.original(index));
            }
        }
    }
    if known.is_empty() && known_words.is_empty() {
        return;
    }
    // Each word's first letter and length, as bits: most words share neither with a known name
    // and need no hashing.
    let mut shapes = [0u64; 32];
    let shape = |first: u8, length: usize| (usize::from(first & 31), 1u64 << (length & 63));
    for word in known.iter().chain(known_words.iter()) {
        let (letter, length) = shape(word.as_bytes()[0], word.len());
        shapes[letter] |= length;
    }
    let stands_as_person = |index: usize| {
        scan.tokens[index].possessive()
            || !scan.starts_sentence(index)
            || index + 1 < scan.tokens.len()
                && scan.joined_by_space(index)
                && scan.is(index + 1, Kinds::SUBJECT_VERB)
    };
    let found = spans.len();
    let lower = scan.lower.as_bytes();
    for (index, token) in scan.tokens.iter().enumerate() {
        // The shape of `scan.word(index)`, read off the token without slicing the text.
        let (letter, length) = shape(lower[token.start], token.core_end - token.start);
        if shapes[letter] & length == 0
            || spans[..found]
                .iter()
                .any(|(first, last, _)| (*first..=*last).contains(&index))
        {
            continue;
        }
        let word = scan.word(index);
        if known.contains(word)
            || known_words.contains(scan.original(index))
                && !scan.head_noun_after(index)
                && stands_as_person(index)
        {
            spans.push((index, index, 0.7));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{check, labels};
    use crate::PhiLabel;

    #[test]
    fn names_without_cues_and_their_second_mentions() {
        check(
            "pls help - Szymon Nalewajek asked us to update his address",
            &[("Szymon Nalewajek", PhiLabel::Name)],
        );
        check(
            "Re: Hardy, Martin - MRN 478846\n\nMartin's son called.",
            &[
                ("Hardy, Martin", PhiLabel::Name),
                ("478846", PhiLabel::Mrn),
                ("Martin", PhiLabel::Name),
            ],
        );
        check(
            "Her niece May reports that she has been dizzy",
            &[("May", PhiLabel::Name)],
        );
        check(
            "His sister Lucie Blot reports that he has been",
            &[("Lucie Blot", PhiLabel::Name)],
        );
        check(
            "heart regular rate and rhythm period carol reports the symptoms started",
            &[("carol", PhiLabel::Name)],
        );
        check(
            "## HPI\nGeorgia notes improvement in her cough.",
            &[("Georgia", PhiLabel::Name)],
        );
        for text in [
            "- Strat Janvia 100 mg daily.",
            "Priary Insrance: Molina",
            "on exam the mark reports nothing",
            "She moved from Georgia last year.",
        ] {
            assert!(labels(text).is_empty(), "{text}: {:?}", labels(text));
        }
    }

    #[test]
    fn names_with_titles_cues_and_credentials() {
        check("seen by Dr. Okafor today", &[("Okafor", PhiLabel::Name)]);
        check("Mrs. Hope Brown called", &[("Hope Brown", PhiLabel::Name)]);
        check("wife Rose is at bedside", &[("Rose", PhiLabel::Name)]);
        check(
            "Patient Name: Nguyen Van Thanh",
            &[("Nguyen Van Thanh", PhiLabel::Name)],
        );
        check(
            "Signed, Priya Raman, MD",
            &[("Priya Raman", PhiLabel::Name)],
        );
        check("dr okafor called", &[("okafor", PhiLabel::Name)]);
        // A state's name after a title is a person's.
        check(
            "Ms. Washington lives alone",
            &[("Washington", PhiLabel::Name)],
        );
        // A common word after a strong cue, when a surname that is no common word follows.
        check(
            "Contact: Chip Jakubiuk",
            &[("Chip Jakubiuk", PhiLabel::Name)],
        );
        check(
            "from: gabriel concepción",
            &[("gabriel concepción", PhiLabel::Name)],
        );
    }

    #[test]
    fn lowercase_names_in_dictations() {
        check(
            "the patient eloisa niño was last seen",
            &[("eloisa niño", PhiLabel::Name)],
        );
        check(
            "this is ornella vezzali md dictating",
            &[("ornella vezzali", PhiLabel::Name)],
        );
        check(
            "note from maurycy siedlaczek, cma",
            &[("maurycy siedlaczek", PhiLabel::Name)],
        );
        // One lowercase word before a credential, or none of the cues, is not enough.
        check("follow up with md as needed", &[]);
        check("please do dictating later", &[]);
    }

    #[test]
    fn names_spelled_out_letter_by_letter() {
        check(
            "last name spelled g u e r r a she reports",
            &[("g u e r r a", PhiLabel::Name)],
        );
        check(
            "spelled out: K-O-W-A-L-S-K-I.",
            &[("K-O-W-A-L-S-K-I", PhiLabel::Name)],
        );
        check("spelled correctly on the label", &[]);
    }

    #[test]
    fn irish_particles_in_capitals() {
        check(
            "Referred to Dr. Bernadette Ó Féinneadha today",
            &[("Bernadette Ó Féinneadha", PhiLabel::Name)],
        );
    }

    #[test]
    fn names_from_the_dictionaries() {
        check(
            "summarize the visit for john smith please",
            &[("john smith", PhiLabel::Name)],
        );
        check(
            "Maria Q. Gonzalez presented",
            &[("Maria Q. Gonzalez", PhiLabel::Name)],
        );
        check("Gonzalez, Maria", &[("Gonzalez, Maria", PhiLabel::Name)]);
        check("per J. Smith", &[("J. Smith", PhiLabel::Name)]);
        check("Anna S. was here", &[("Anna S", PhiLabel::Name)]);
        check("Mark Green has", &[("Mark Green", PhiLabel::Name)]);
    }

    #[test]
    fn initials_particles_and_eponym_surnames_stay_inside_the_name() {
        check(
            "Name: Russell, Patrick C.\nDOB",
            &[("Russell, Patrick C", PhiLabel::Name)],
        );
        check(
            "this is hunt, danielle w. md dictating",
            &[("hunt, danielle w", PhiLabel::Name)],
        );
        check(
            "on timothy k. robertson today",
            &[("timothy k. robertson", PhiLabel::Name)],
        );
        check(
            "psychiatry note on lorraine de la cruz today",
            &[("lorraine de la cruz", PhiLabel::Name)],
        );
        check(
            "Signed: Cliff Hodgkin, NP",
            &[("Cliff Hodgkin", PhiLabel::Name)],
        );
        check(
            "NAME: CLARK, ELIZABETH\n",
            &[("CLARK, ELIZABETH", PhiLabel::Name)],
        );
        check("Dear Will,\nYour labs", &[("Will", PhiLabel::Name)]);
        for text in ["Dear Patient,", "history of Crohn disease"] {
            assert!(!labels(text).contains(&PhiLabel::Name), "{text}");
        }
        check("Maria has Hodgkin lymphoma", &[("Maria", PhiLabel::Name)]);
    }

    #[test]
    fn a_name_found_once_is_found_everywhere() {
        check(
            "Mr. Okafor is 54. Okafor reports pain; okafor's wife agrees.",
            &[
                ("Okafor", PhiLabel::Name),
                ("Okafor", PhiLabel::Name),
                ("okafor", PhiLabel::Name),
            ],
        );
    }

    #[test]
    fn eponyms_drugs_and_common_words_are_not_names() {
        for text in [
            "history of Parkinson's disease",
            "Bell's palsy on the left",
            "Wilson's disease workup",
            "Stevens-Johnson syndrome",
            "started Lasix and Eliquis",
            "will mark the chart",
            "Hodgkin lymphoma in remission",
            "Crohn's flare",
            "Chief Complaint: chest pain",
            "Patient denies fever",
        ] {
            assert!(!labels(text).contains(&PhiLabel::Name), "{text}");
        }
    }

    #[test]
    fn names_spelled_out_and_in_email_addresses() {
        check(
            "dictation for art cushing last name spelled c u s h i n g strength",
            &[
                ("art cushing", PhiLabel::Name),
                ("c u s h i n g", PhiLabel::Name),
            ],
        );
        check(
            "email frank at frank38@live.com a summary",
            &[
                ("frank", PhiLabel::Name),
                ("frank38@live.com", PhiLabel::Email),
            ],
        );
        check(
            "please email info at info@clinic.org",
            &[("info@clinic.org", PhiLabel::Email)],
        );
    }
}
