//! Name slots: places the context says hold a person's name, whatever words fill them. A title
//! ("Dr. Contractor"), a person field ("Patient: Addison, Cash"), a credential after the name
//! ("Evan Z. Stokes MD"), a date of birth or record number after it ("holly lamb dob 5/13/76") or a
//! patient cue before it ("pt Keer, Jagrati, acct ...") make ordinary words and eponyms names,
//! which the dictionaries alone must refuse.

use crate::lexicon::Kinds;
use crate::scan::{starts_with_word, Case, Scan};

/// How much a slot vouches for what fills it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cue {
    /// One ordinary word is enough ("Dr. Sandal", "Patient: Will").
    Firm,
    /// A word that looks like a name is needed ("re: mallet, rémy"), or a given name and a
    /// surname from the dictionaries ("the patient hope lamb (ssn ...").
    Loose,
    /// "pt", "patient": as loose, and one lowercase word is not enough ("patient vetbalized").
    Patient,
    /// The object of a request ("text veronica stokes at ...", "a work note for adeyi
    /// awodiran"): as a patient cue, and the name must end where a phrase does.
    Object,
}

/// What a word can be inside a slot.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fill {
    /// In a name dictionary and no common word, or a word no list knows: a name anywhere.
    Name,
    /// A common word, an eponym or a month that is also a name ("Star", "Crohn", "May").
    Ordinary,
    /// "J.": part of a name, never one alone.
    Initial,
    /// "van", "de la": part of a name, never one alone.
    Particle,
}

/// Words after which a person's name follows a colon: the value of a person field.
const FIRM_FIELDS: &[&str] = &[
    "patient",
    "pt",
    "name",
    "author",
    "contact",
    "subscriber",
    "insured",
    "guarantor",
    "attending",
    "referring",
    "pcp",
    "provider",
    "physician",
    "resident",
    "surgeon",
    "nurse",
    "signed",
];
/// Fields that often hold a person but may hold a subject line ("RE: refill request").
const LOOSE_FIELDS: &[&str] = &["re", "from", "to", "cc", "attn"];
/// Words after a name that make it one: a date of birth, a record number, an age.
const FIRM_ANCHORS: &[&str] = &["dob", "d.o.b", "date of birth", "mrn", "m r n", "mr#"];
const LOOSE_ANCHORS: &[&str] = &[
    "date of service",
    "medical record",
    "ssn",
    "acct",
    "account",
    "was last seen",
    "needs a",
];
/// Verbs of speech whose subject at the start of a sentence is a person (all in `SUBJECT_VERBS`).
const SPEECH_VERBS: &[&str] = &[
    "says",
    "said",
    "reports",
    "states",
    "notes",
    "denies",
    "endorses",
    "complains",
    "called",
];
/// Verbs of report, whose subject is a person ("Georgia notes", "period carol reports").
pub(crate) const REPORT_VERBS: &[&str] = &[
    "reports",
    "notes",
    "states",
    "denies",
    "endorses",
    "complains",
    "says",
];
/// Words that make the word after them a noun, not a subject's name ("the mark reports").
const DETERMINERS: &[&str] = &[
    "the", "a", "an", "his", "her", "their", "my", "your", "our", "its", "this", "that", "these",
    "those", "no", "any", "each", "every", "which", "whose",
];
/// Words after which a request names the person it is about: "text", "tell", "for".
const OBJECT_OPENERS: &[&str] = &[
    "for", "text", "call", "called", "tell", "email", "remind", "schedule", "refer", "add",
];
/// Requests that name one person by a single word ("tell jordan that", "email crystal at").
const ADDRESSING: &[&str] = &["tell", "email", "text", "call", "remind"];

/// "how should i tell jordan that", "email crystal at cstill@...": one given name, or one word no
/// list knows, between a request and "that" or "at".
fn addressee(scan: &Scan<'_>, opener: usize) -> Option<usize> {
    let name = opener + 1;
    if name + 1 >= scan.tokens.len() || !scan.joined_by_space(opener) || !scan.joined_by_space(name)
    {
        return None;
    }
    let known = match fill(scan, name)? {
        Fill::Name => true,
        Fill::Ordinary => scan.is(name, Kinds::FIRST_NAME),
        _ => false,
    };
    (known && matches!(scan.word(name + 1), "that" | "at")).then_some(name)
}

/// "text from tijs van der loo:", "VM from Emanuelly da Cunha (A3357421)": "from" after a
/// message names its sender.
fn message_before(scan: &Scan<'_>, from: usize) -> bool {
    from > 0
        && matches!(
            scan.word(from - 1),
            "text" | "vm" | "voicemail" | "message" | "msg" | "email" | "call" | "note" | "letter"
        )
}

/// Words that may follow the name a request is about ("text X at", "the plan for X after").
const AFTER_OBJECT: &[&str] = &[
    "at", "who", "after", "about", "keeps", "is", "isn't", "has", "was", "needs", "wants", "to",
    "that", "he", "she", "will", "would", "can", "could", "should", "doesn't", "didn't", "expired",
];
/// Most words a slot holds.
const MOST_WORDS: usize = 4;

/// The words the slot rules start from: fields, openers, verbs of speech, the first word of each
/// anchor, and the words of an age after a name ("age 43", "who is a ...").
pub(crate) fn slot_words() -> impl Iterator<Item = &'static str> {
    let anchors = FIRM_ANCHORS
        .iter()
        .chain(LOOSE_ANCHORS)
        .filter_map(|anchor| anchor.split([' ', '.', '#']).next());
    [
        FIRM_FIELDS,
        LOOSE_FIELDS,
        OBJECT_OPENERS,
        SPEECH_VERBS,
        &["age", "who", "is"],
    ]
    .into_iter()
    .flatten()
    .copied()
    .chain(anchors)
}

/// Finds the names that fill slots and adds them to `spans` (token ranges and confidences).
pub(super) fn fill_slots(scan: &Scan<'_>, spans: &mut Vec<(usize, usize, f32)>) {
    let count = scan.tokens.len();
    for index in 0..count {
        let token = &scan.tokens[index];
        let slot_kinds = Kinds::SLOT_WORD | Kinds::TITLE | Kinds::CREDENTIAL;
        if !(token.has_digit || token.possessive() || scan.is(index, slot_kinds)) {
            continue;
        }
        let word = scan.word(index);
        // Slots opened by the words before them; no field, title or request holds a digit.
        let opened = if token.has_digit {
            None
        } else if scan.is(index, Kinds::TITLE) && !scan.tokens[index].possessive() {
            // A lowercase common word is no fill, so "doctor visit" stays clear.
            Some((index + 1, Cue::Firm))
        } else if scan.gap_after(index).trim_start().starts_with(':')
            && !scan.line_ends_after(index)
        {
            if FIRM_FIELDS.contains(&word) {
                Some((index + 1, Cue::Firm))
            } else if LOOSE_FIELDS.contains(&word) {
                Some((index + 1, Cue::Loose))
            } else {
                None
            }
        } else if word == "name" && index > 0 && scan.word(index - 1) == "patient" {
            // "patient name van de veen, alyssa": the field without its colon.
            Some((index + 1, Cue::Firm))
        } else if matches!(word, "pt" | "patient") && scan.joined_by_space(index) {
            Some((index + 1, Cue::Patient))
        } else if scan.joined_by_space(index)
            && (OBJECT_OPENERS.contains(&word) || word == "from" && message_before(scan, index))
        {
            Some((index + 1, Cue::Object))
        } else {
            None
        };
        if !token.has_digit && ADDRESSING.contains(&word) {
            if let Some(name) = addressee(scan, index) {
                push(spans, name, name, 0.75);
            }
        }
        if let Some((first, cue)) = opened {
            if first < count {
                if let Some(last) = run_forward(scan, first, cue) {
                    push(spans, first, last, 0.85);
                }
            }
        }
        // Slots closed by the words after them.
        if let Some(cue) = anchor_at(scan, index) {
            if let Some(first) = run_backward(scan, index, cue) {
                // "peripheral neuropathy 26 y/o": one word before an age must be a known name.
                let known = first + 1 < index
                    || scan.is(first, Kinds::FIRST_NAME | Kinds::LAST_NAME)
                    || !(age_at(scan, index) || described_by_age(scan, index));
                if known {
                    push(spans, first, index - 1, 0.8);
                }
            }
        }
        // "autumn banks says", "Salami, Durodola called": a name opening a sentence as the
        // subject of a verb of speech.
        if index > 0 && scan.is(index, Kinds::SUBJECT_VERB) && SPEECH_VERBS.contains(&word) {
            let subject = run_backward(scan, index, Cue::Loose)
                .filter(|first| scan.starts_sentence(*first))
                .or_else(|| given_name_subject(scan, index).then_some(index - 1));
            if let Some(first) = subject {
                push(spans, first, index - 1, 0.7);
            }
        }
        // "carmen wilson's course": a possessive closes a slot that holds it.
        // One word must be a known name that is no common or clinical word ("Hashimoto's").
        let possessive_name = scan.is(index, Kinds::FIRST_NAME | Kinds::LAST_NAME)
            && !scan.is(index, Kinds::ENGLISH | Kinds::CLINICAL)
            || index > 0
                && scan.is(index - 1, Kinds::FIRST_NAME)
                && scan.joined_by_space(index - 1);
        if scan.tokens[index].possessive() && possessive_name && !scan.head_noun_after(index) {
            if let Some(first) = run_backward(scan, index + 1, Cue::Loose) {
                push(spans, first, index, 0.75);
            }
        }
    }
}

/// Words that greet the person a message is written to ("hi oeshi,").
const GREETINGS: &[&str] = &["hi", "hello", "hey", "dear"];
/// Words of a sign-off line ("Thanks,", "Best regards,", "Respectfully,").
const VALEDICTION_WORDS: &[&str] = &[
    "thanks",
    "thank",
    "you",
    "best",
    "kind",
    "warm",
    "warmest",
    "regards",
    "sincerely",
    "respectfully",
    "cheers",
    "warmly",
    "yours",
    "truly",
    "many",
    "take",
    "care",
    "thx",
];
/// How many words a sign-off line holds at most ("thank you so much" is a sentence).
const MOST_VALEDICTION_WORDS: usize = 3;

/// Names that the shape of a message gives away: the name a greeting line addresses ("hi
/// oeshi,", "Hello Will Baker,"), the name under a sign-off ("Thanks,\nAanuoluwapo Aloba"), the
/// name on the last line of a message or above "Sent from my iPhone", the name a writer gives
/// for themselves ("This is sonny d. wise, I'm a patient of ...", "this is will church md
/// dictating") and a name in brackets after an account or case number ("case #2022-854345
/// (brook lamb)").
pub(super) fn message_names(scan: &Scan<'_>, spans: &mut Vec<(usize, usize, f32)>) {
    let count = scan.tokens.len();
    for index in 0..count {
        let token = &scan.tokens[index];
        let greeting = scan.is(index, Kinds::STRONG_CUE) && GREETINGS.contains(&scan.word(index));
        let this = token.end - token.start == 4 && scan.word(index) == "this";
        let line_start = index == 0 || scan.line_ends_after(index - 1);
        let bracket = token.start > 0 && scan.text.as_bytes()[token.start - 1] == b'(';
        // Most words start no line, follow no bracket and greet no one.
        if !(line_start || bracket || greeting || this) {
            continue;
        }
        if greeting {
            if let Some(last) = greeting_at(scan, index) {
                push(spans, index + 1, last, 0.85);
                continue;
            }
        }
        if line_start {
            let line_last = line_end(scan, index);
            if let Some((first, last)) = signed_after(scan, index, line_last)
                .or_else(|| closing_line(scan, index, line_last))
                .or_else(|| credential_line(scan, index, line_last))
            {
                push(spans, first, last, 0.85);
                continue;
            }
        }
        if bracket {
            if let Some(last) = bracketed(scan, index) {
                push(spans, index, last, 0.8);
            }
        } else if let Some((first, last)) = introduced(scan, index) {
            push(spans, first, last, 0.8);
        }
    }
}

/// The last token of the line that token `first` is on.
fn line_end(scan: &Scan<'_>, first: usize) -> usize {
    let mut last = first;
    while last + 1 < scan.tokens.len() && !scan.line_ends_after(last) {
        last += 1;
    }
    last
}

/// The words of a name from token `first` to token `last` at most: what each word can be, or
/// `None` when one cannot be part of a name. One "Last, First" comma may sit between them.
fn fills_between(scan: &Scan<'_>, first: usize, last: usize) -> Option<Vec<Fill>> {
    if last + 1 - first > MOST_WORDS {
        return None;
    }
    let mut fills = Vec::with_capacity(last + 1 - first);
    let mut comma_used = false;
    for index in first..=last {
        if index > first && !joined(scan, index - 1) {
            if comma_used || !last_first_comma(scan, index - 1) {
                return None;
            }
            comma_used = true;
        }
        fills.push(fill(scan, index)?);
    }
    // "Dear Reviewer,", "Thanks,\nThe Care Team": one word at least must be a name.
    let known = (first..=last).any(|at| {
        fills[at - first] == Fill::Name || scan.is(at, Kinds::FIRST_NAME | Kinds::LAST_NAME)
    });
    (known && fills.last() != Some(&Fill::Particle)).then_some(fills)
}

/// "hi oeshi,", "Hello Will Baker,", "portal message: dear heather, your a1c": a greeting that
/// opens a sentence, then a name that a comma or the line's end closes. The name's last token.
fn greeting_at(scan: &Scan<'_>, greeting: usize) -> Option<usize> {
    if !scan.starts_sentence(greeting) || !scan.joined_by_space(greeting) {
        return None;
    }
    let mut last = greeting + 1;
    while last + 1 < scan.tokens.len() && last - greeting < MOST_WORDS && joined(scan, last) {
        last += 1;
    }
    let end = scan.gap_after(last).trim_start_matches([' ', '\t']);
    let closes = last + 1 == scan.tokens.len() || end.starts_with([',', '!', ':', '\n']);
    (closes && fills_between(scan, greeting + 1, last).is_some()).then_some(last)
}

/// "Jordan, RN, BSN", "holly hall rn": a line (tokens `first` to `last`) that holds a name and
/// then credentials.
fn credential_line(scan: &Scan<'_>, first: usize, last: usize) -> Option<(usize, usize)> {
    let name_end = name_on_line(scan, first, last)?;
    (name_end < last).then_some((first, name_end))
}

/// The last token of the name that the line from token `first` to `last` holds, then perhaps
/// credentials.
fn name_on_line(scan: &Scan<'_>, first: usize, last: usize) -> Option<usize> {
    let name_end = credentials_end(scan, first, last)?;
    fills_between(scan, first, name_end).map(|_| name_end)
}

/// "Thanks,\nAanuoluwapo Aloba", "Respectfully,\n\nSani, Triya M. MD": the line after a
/// sign-off line (tokens `first` to `last`) holds a name, then perhaps credentials.
fn signed_after(scan: &Scan<'_>, first: usize, last: usize) -> Option<(usize, usize)> {
    let valediction = last - first < MOST_VALEDICTION_WORDS
        && (first..=last).all(|at| VALEDICTION_WORDS.contains(&scan.word(at)))
        && matches!(scan.gap_after(last).trim(), "" | "," | "!" | ".");
    if !valediction || last + 1 >= scan.tokens.len() {
        return None;
    }
    let name = last + 1;
    name_on_line(scan, name, line_end(scan, name)).map(|name_end| (name, name_end))
}

/// "martha hodgkin\n\nsent from my iphone", "...?\n\nZinal K. Kohli": a line of its own
/// (tokens `first` to `last`) after a blank line that ends the message or comes before "Sent
/// from", and holds nothing but a name the dictionaries know.
fn closing_line(scan: &Scan<'_>, first: usize, last: usize) -> Option<(usize, usize)> {
    if first == 0 || !scan.gap_before(first).contains("\n\n") {
        return None;
    }
    let closes = last + 1 == scan.tokens.len()
        || scan.word(last + 1) == "sent"
            && last + 2 < scan.tokens.len()
            && scan.word(last + 2) == "from";
    if !closes || last == first {
        return None;
    }
    let fills = fills_between(scan, first, last)?;
    accepted(scan, first, &fills, Cue::Loose).then_some((first, last))
}

/// The last name word of a line from `first` to `last` that may end in credentials ("Short,
/// Chip, MD, FACC"): the token before the first credential.
fn credentials_end(scan: &Scan<'_>, first: usize, last: usize) -> Option<usize> {
    let credential = (first + 1..=last).find(|at| scan.is(*at, Kinds::CREDENTIAL));
    match credential {
        Some(at) => (at..=last)
            .all(|rest| scan.is(rest, Kinds::CREDENTIAL))
            .then_some(at - 1),
        None => Some(last),
    }
}

/// "This is sonny d. wise, I'm a patient of", "this is will church md facc dictating", "this is
/// xia he do dictating": a writer or a dictating doctor giving their own name. The name may
/// hold a given name that is a function word ("will", "he").
fn introduced(scan: &Scan<'_>, this: usize) -> Option<(usize, usize)> {
    let count = scan.tokens.len();
    let first = this + 2;
    if first >= count
        || scan.word(this + 1) != "is"
        || !scan.starts_sentence(this)
        || !scan.joined_by_space(this)
        || !scan.joined_by_space(this + 1)
    {
        return None;
    }
    let name_word = |at: usize| {
        fill(scan, at).is_some()
            || scan.is(at, Kinds::FUNCTION_WORD)
                && scan.is(at, Kinds::FIRST_NAME | Kinds::LAST_NAME)
                && scan.word(at).len() >= 2
    };
    if !name_word(first) {
        return None;
    }
    let mut last = first;
    while last + 1 < count
        && last + 1 - first < MOST_WORDS - 1
        && joined(scan, last)
        && !scan.is(last + 1, Kinds::CREDENTIAL)
        && name_word(last + 1)
    {
        last += 1;
    }
    if last + 1 >= count {
        return None;
    }
    let next = last + 1;
    let after = scan.word(next);
    let comma = scan.comma_after(last);
    // What a writer says after their name: "I'm", "calling", "md dictating".
    let closes = comma
        && (after == "i'm" || after == "i" && next + 1 < count && scan.word(next + 1) == "am")
        || scan.joined_by_space(last)
            && (matches!(after, "calling" | "dictating")
                || scan.is(next, Kinds::CREDENTIAL)
                    && next + 1 < count
                    && (scan.word(next + 1).starts_with("dictat")
                        || scan.is(next + 1, Kinds::CREDENTIAL)));
    closes.then_some((first, last))
}

/// "case #2022-854345 (brook lamb)", "the wrong chart (tripathi, bhanumati)": a bracketed name
/// after a number, an address or a chart. Token `first` follows the opening bracket.
fn bracketed(scan: &Scan<'_>, first: usize) -> Option<usize> {
    if first == 0 {
        return None;
    }
    let before = first - 1;
    // The text before the bracket ends in a number, an email address or a chart.
    let written_before = scan.text[..scan.tokens[first].start].trim_end_matches(['(', ' ']);
    let email_before = written_before
        .rsplit(char::is_whitespace)
        .next()
        .is_some_and(|word| word.contains('@'));
    let after_record = scan.tokens[before].has_digit
        || email_before
        || matches!(scan.word(before), "chart" | "account" | "record");
    if !after_record {
        return None;
    }
    let mut last = first;
    while last + 1 < scan.tokens.len()
        && last - first < MOST_WORDS
        && !scan.gap_after(last).contains(')')
    {
        last += 1;
    }
    if !scan
        .gap_after(last)
        .trim_start_matches('.')
        .starts_with(')')
        || last == first
    {
        return None;
    }
    let fills = fills_between(scan, first, last)?;
    accepted(scan, first, &fills, Cue::Loose).then_some(last)
}

/// "mark reports the symptoms started", "May notes improvement": a given name alone before a
/// verb of report opens a sentence as its subject, even one that is a common word, but not
/// as a question ("Will reports be faxed?").
fn given_name_subject(scan: &Scan<'_>, verb: usize) -> bool {
    let name = verb - 1;
    let reporting = REPORT_VERBS.contains(&scan.word(verb));
    let auxiliary_after = verb + 1 < scan.tokens.len()
        && matches!(scan.word(verb + 1), "be" | "to" | "are" | "were" | "and");
    // Dictations run sentences together ("on room air mark reports"): any word but a
    // determiner may come before the subject.
    let determiner_before = name > 0 && DETERMINERS.contains(&scan.word(name - 1));
    reporting
        && !auxiliary_after
        && scan.joined_by_space(name)
        && (scan.starts_sentence(name) || !determiner_before && !scan.is(name - 1, Kinds::TITLE))
        && scan.is(name, Kinds::FIRST_NAME)
        && !scan.is(name, CUE_WORDS)
        && !scan.tokens[name].has_digit
}

fn push(spans: &mut Vec<(usize, usize, f32)>, first: usize, last: usize, confidence: f32) {
    if !spans.iter().any(|(a, b, _)| *a <= first && last <= *b) {
        spans.push((first, last, confidence));
    }
}

/// The slot that closes at token `index`: "dob", "date of birth", "mrn", "(ssn", "'s" excluded.
fn anchor_at(scan: &Scan<'_>, index: usize) -> Option<Cue> {
    let token = &scan.tokens[index];
    if index == 0 {
        return None;
    }
    // A number closes a slot only as an age: no anchor word or credential holds a digit.
    if token.has_digit {
        return age_at(scan, index).then_some(Cue::Loose);
    }
    // Most words open no anchor: the lexicon says so without comparing phrases.
    if !scan.is(index, Kinds::SLOT_WORD | Kinds::CREDENTIAL) {
        return None;
    }
    let rest = &scan.lower[token.start..];
    let slot_word = scan.is(index, Kinds::SLOT_WORD);
    let opens = |anchors: &[&str]| slot_word && anchors.iter().any(|a| starts_with_word(rest, a));
    if opens(FIRM_ANCHORS) {
        Some(Cue::Firm)
    } else if opens(LOOSE_ANCHORS)
        || age_at(scan, index)
        || credential_at(scan, index)
        || described_by_age(scan, index)
    {
        Some(Cue::Loose)
    } else {
        None
    }
}

/// "63m", "90 y/o", "(46yo)", "64-year-old", "age: 43": an age right after a name.
fn age_at(scan: &Scan<'_>, index: usize) -> bool {
    let word = scan.word(index);
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    if word == "age" {
        return scan
            .tokens
            .get(index + 1)
            .is_some_and(|next| next.has_digit)
            && scan
                .gap_after(index)
                .trim()
                .trim_start_matches(':')
                .is_empty();
    }
    if !(1..=3).contains(&digits) {
        return false;
    }
    // "385f:9647:..." is an address, not an age.
    let (token, bytes) = (&scan.tokens[index], scan.text.as_bytes());
    let separator_at = |at: Option<usize>| {
        at.and_then(|at| bytes.get(at))
            .is_some_and(|byte| matches!(byte, b':' | b'.' | b'/'))
    };
    if separator_at(Some(token.end)) || separator_at(token.start.checked_sub(1)) {
        return false;
    }
    match &word[digits..] {
        "yo" | "y" | "m" | "f" | "yr" | "yrs" | "-yo" => true,
        unit if unit.starts_with("-year") => true,
        "" if index + 1 < scan.tokens.len() => {
            // Every unit starts with "y", "m" or "f": most numbers need no closer look.
            let unit_start = scan.lower.as_bytes()[scan.tokens[index + 1].start];
            if !matches!(unit_start, b'y' | b'm' | b'f') {
                return false;
            }
            let (gap, unit) = (scan.gap_after(index).trim(), scan.word(index + 1));
            gap.is_empty()
                && matches!(
                    unit,
                    "yo" | "y" | "m" | "f" | "yr" | "yrs" | "year" | "years" | "year-old"
                )
                || gap == "-" && matches!(unit, "year-old" | "yo")
        }
        _ => false,
    }
}

/// Number words an age is spoken in ("a seventy five year old").
const NUMBER_WORDS: &[&str] = &[
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "seventy",
    "eighty",
    "ninety",
];

/// "Yong Du is a 64-year-old man", "jason becker who is a thirty six year old male": a person
/// described by an age right after the name.
fn described_by_age(scan: &Scan<'_>, index: usize) -> bool {
    // The sentence goes on with "who is" or "is": no number.
    if scan.tokens[index].has_digit {
        return false;
    }
    let word_at = |at: usize| (at < scan.tokens.len()).then(|| scan.word(at));
    let mut next = index;
    if scan.word(next) == "who" {
        next += 1;
    }
    if word_at(next) != Some("is") {
        return false;
    }
    next += 1;
    if matches!(word_at(next), Some("a" | "an")) {
        next += 1;
    }
    if next >= scan.tokens.len() {
        return false;
    }
    if age_at(scan, next) {
        return true;
    }
    // Spoken: up to two number words, then "year old" or "years old".
    let mut numbers = 0;
    while numbers < 2 && word_at(next).is_some_and(|word| NUMBER_WORDS.contains(&word)) {
        numbers += 1;
        next += 1;
    }
    numbers > 0 && matches!(word_at(next), Some("year" | "years" | "year-old"))
}

/// "Evan Z. Stokes MD", "dale m. green md dictating": a credential that ends a name, not a
/// state's code before a ZIP ("Baltimore, MD 21201").
fn credential_at(scan: &Scan<'_>, index: usize) -> bool {
    if !scan.is(index, Kinds::CREDENTIAL) {
        return false;
    }
    let after = scan.gap_after(index);
    let next = index + 1;
    let last_token = next == scan.tokens.len();
    let next_word = if last_token { "" } else { scan.word(next) };
    let number_after = !last_token && scan.tokens[next].has_digit;
    // "Lee, md on 2/9/2017", "Lee, rn, bsn", not "positive for pertussis, do we report".
    let phrase_ends = last_token
        || after.contains('\n')
        || after.trim_start().starts_with([',', '.', ';'])
        || next_word == "on"
        || scan.is(next, Kinds::CREDENTIAL);
    let comma_before = scan.gap_before(index).trim() == ",";
    !number_after
        && (written_in_capitals(scan, index)
            || next_word.starts_with("dictat")
            // "holly rivers md facc": credentials come in runs.
            || !last_token && scan.is(next, Kinds::CREDENTIAL) && scan.joined_by_space(index)
            || comma_before && phrase_ends)
}

/// "MD", "PhD": a credential written with two capitals or more, as credentials are.
pub(super) fn written_in_capitals(scan: &Scan<'_>, index: usize) -> bool {
    scan.original(index)
        .chars()
        .filter(char::is_ascii_uppercase)
        .count()
        >= 2
}

/// Words that say something about a name rather than being one.
const CUE_WORDS: Kinds = Kinds::TITLE
    .union(Kinds::CREDENTIAL)
    .union(Kinds::HEAD_NOUN)
    .union(Kinds::NATIONALITY)
    .union(Kinds::STRONG_CUE)
    .union(Kinds::RELATION)
    .union(Kinds::HEADER_CUE)
    .union(Kinds::SUBJECT_VERB)
    .union(Kinds::PERSON_VERB)
    .union(Kinds::WEAK_CUE)
    .union(Kinds::NAME_SUFFIX);

/// What token `index` can be in a slot, or `None` when it cannot be part of a name.
fn fill(scan: &Scan<'_>, index: usize) -> Option<Fill> {
    let token = &scan.tokens[index];
    if token.has_digit || !token.has_alpha {
        return None;
    }
    let gap_after = scan.gap_after(index);
    if matches!(token.case, Case::Letter) && gap_after.starts_with('.')
        || token.case == Case::Lower && token.end - token.start == 1 && gap_after.starts_with('.')
    {
        return Some(Fill::Initial);
    }
    if token.end - token.start == 1 {
        return None;
    }
    if scan.is(index, Kinds::PARTICLE) || scan.word(index) == "st" && gap_after.starts_with('.') {
        return Some(Fill::Particle);
    }
    if scan.is(index, CUE_WORDS) {
        return None;
    }
    let named = scan.is(index, Kinds::FIRST_NAME | Kinds::LAST_NAME);
    let capitalised = matches!(token.case, Case::Capitalised | Case::Upper);
    // "May", "Will", "June": a month or a function word is a name only written as one and
    // listed as one, and never before a number ("May 5").
    if scan.is(index, Kinds::FUNCTION_WORD | Kinds::CALENDAR) {
        let number_after = scan
            .tokens
            .get(index + 1)
            .is_some_and(|next| next.has_digit);
        return (capitalised && named && !number_after).then_some(Fill::Ordinary);
    }
    let english = scan.is(index, Kinds::ENGLISH);
    let clinical = clinical_at(scan, index);
    let distinctive = !english && !clinical;
    match token.case {
        _ if distinctive => Some(Fill::Name),
        Case::Capitalised | Case::Upper => Some(Fill::Ordinary),
        Case::Lower if named || clinical && !english => Some(Fill::Ordinary),
        _ => None,
    }
}

/// Endings of disease, procedure and drug names ("bronchiolitis", "cardiomyopathy", "atorvastatin").
const CLINICAL_ENDINGS: &[&str] = &[
    "itis",
    "osis",
    "opathy",
    "emia",
    "aemia",
    "ectomy",
    "otomy",
    "ostomy",
    "plasty",
    "algia",
    "uria",
    "penia",
    "iasis",
    "plegia",
    "megaly",
    "scopy",
    "graphy",
    "rrhea",
    "lysis",
    "statin",
    "olol",
    "pril",
    "sartan",
    "prazole",
    "cillin",
    "mycin",
    "cycline",
    "floxacin",
    "gliflozin",
];

/// Whether token `index` is clinical vocabulary, listed or shaped like it.
fn clinical_at(scan: &Scan<'_>, index: usize) -> bool {
    let word = scan.word(index);
    scan.is(index, Kinds::CLINICAL)
        || word.len() >= 7 && CLINICAL_ENDINGS.iter().any(|ending| word.ends_with(ending))
}

/// Whether `fills` make a name under `cue`.
fn accepted(scan: &Scan<'_>, first: usize, fills: &[Fill], cue: Cue) -> bool {
    let words = fills
        .iter()
        .filter(|fill| matches!(fill, Fill::Name | Fill::Ordinary))
        .count();
    if words == 0 {
        return false;
    }
    let names = fills.iter().filter(|fill| **fill == Fill::Name).count();
    match cue {
        Cue::Firm => true,
        // One word after "for" is as often a drug or a disease ("for COVID at home").
        Cue::Object if words < 2 => false,
        // "hope lamb": a given name and a surname from the dictionaries, both ordinary words.
        Cue::Loose | Cue::Patient | Cue::Object => {
            let last = first + fills.len() - 1;
            // "Moody, Rose": a surname, a comma, a given name.
            let surname_comma_given = (first..last).any(|at| {
                last_first_comma(scan, at)
                    && scan.is(first, Kinds::LAST_NAME)
                    && scan.is(at + 1, Kinds::FIRST_NAME)
            });
            names > 0
                || words >= 2
                    && (surname_comma_given
                        || scan.is(first, Kinds::FIRST_NAME) && scan.is(last, Kinds::LAST_NAME))
        }
    }
}

/// Whether tokens `index` and `index + 1` belong to one name: a space, or the full stop of an initial.
fn joined(scan: &Scan<'_>, index: usize) -> bool {
    scan.joined_by_space(index)
        || (matches!(fill(scan, index), Some(Fill::Initial)) || scan.word(index) == "st")
            && scan.gap_after(index).trim() == "."
            && !scan.line_ends_after(index)
}

/// "Kunda, Jyoti": the one comma of a "Last, First" name.
fn last_first_comma(scan: &Scan<'_>, index: usize) -> bool {
    scan.comma_after(index) && !scan.line_ends_after(index)
}

/// "pt: young, will": after a surname and its comma, a given name that is a function word.
fn given_after_comma(scan: &Scan<'_>, index: usize) -> bool {
    scan.is(index, Kinds::FUNCTION_WORD)
        && scan.is(index, Kinds::FIRST_NAME)
        && scan.word(index).len() >= 3
}

/// The name that fills the slot opening at token `first`: its last token.
fn run_forward(scan: &Scan<'_>, first: usize, cue: Cue) -> Option<usize> {
    let gap = scan.gap_before(first);
    if gap.contains('\n') || gap.trim().trim_start_matches([':', '.']).trim() != "" {
        return None;
    }
    let mut fills = Vec::new();
    let mut index = first;
    let mut comma_used = false;
    while index < scan.tokens.len() && fills.len() < MOST_WORDS {
        let Some(kind) = fill(scan, index).or_else(|| {
            (comma_used && last_first_comma(scan, index - 1) && given_after_comma(scan, index))
                .then_some(Fill::Ordinary)
        }) else {
            break;
        };
        fills.push(kind);
        if joined(scan, index) {
            index += 1;
        } else if !comma_used
            && last_first_comma(scan, index)
            && index + 1 < scan.tokens.len()
            && (fill(scan, index + 1).is_some_and(|next| matches!(next, Fill::Name | Fill::Ordinary))
                || given_after_comma(scan, index + 1))
            && anchor_at(scan, index + 1).is_none()
            // "van der Linden, Emir": one surname, particles and all.
            && fills.iter().filter(|fill| **fill != Fill::Particle).count() == 1
        {
            comma_used = true;
            index += 1;
        } else {
            break;
        }
    }
    // A particle ends no name ("van" in "Dr. Smith van"), except after a firm cue ("doctor dussen
    // van", "Dr. De"), where a capitalised particle alone is a surname.
    if cue != Cue::Firm {
        while matches!(fills.last(), Some(Fill::Particle)) {
            fills.pop();
        }
    } else if !fills.is_empty()
        && fills.iter().all(|fill| *fill == Fill::Particle)
        && scan.tokens[first].case == Case::Capitalised
    {
        fills.truncate(1);
        fills[0] = Fill::Ordinary;
    }
    if fills.is_empty() {
        return None;
    }
    let last = first + fills.len() - 1;
    let one_lowercase_word = fills.len() == 1 && scan.tokens[first].case == Case::Lower;
    // "re: ferritin 548 result": a word before a number is a test and its value.
    let value_after = last + 1 < scan.tokens.len()
        && scan.joined_by_space(last)
        && scan.tokens[last + 1].has_digit;
    let fits = match cue {
        Cue::Patient => !one_lowercase_word && accepted(scan, first, &fills, Cue::Loose),
        Cue::Object => {
            phrase_ends_after(scan, last)
                // An eponym that is a surname too may stand ("text veronica stokes at").
                && (first..=last).all(|at| {
                    !clinical_at(scan, at) || scan.is(at, Kinds::FIRST_NAME | Kinds::LAST_NAME)
                })
                && accepted(scan, first, &fills, cue)
        }
        Cue::Loose => !value_after && accepted(scan, first, &fills, cue),
        Cue::Firm => accepted(scan, first, &fills, cue),
    };
    (fits && !scan.head_noun_after(last)).then_some(last)
}

/// Whether a phrase ends after token `last`: punctuation, the end of the text, or a word that
/// goes on about the person ("at (555) ...", "who is", "after his fall").
fn phrase_ends_after(scan: &Scan<'_>, last: usize) -> bool {
    let next = last + 1;
    next == scan.tokens.len()
        || scan
            .gap_after(last)
            .trim_start_matches(' ')
            .starts_with([',', '?', ';', '.', '(', ':', '\n', '!'])
        || scan.tokens[last].possessive()
        || scan.joined_by_space(last)
            && (AFTER_OBJECT.contains(&scan.word(next)) || scan.is(next, Kinds::SUBJECT_VERB))
}

/// The name that fills the slot closing at token `anchor`: its first token.
/// `anchor` may be one past the last token, for a possessive that ends the text.
fn run_backward(scan: &Scan<'_>, anchor: usize, cue: Cue) -> Option<usize> {
    let gap = if anchor < scan.tokens.len() {
        scan.gap_before(anchor)
    } else {
        ""
    };
    let trimmed = gap.trim();
    // "wei, na s. mrn": the full stop of an initial.
    let initial_before =
        trimmed == "." && anchor > 0 && fill(scan, anchor - 1) == Some(Fill::Initial);
    let separated = initial_before || matches!(trimmed, "" | "," | "(" | "-" | ", (" | "- " | ",(");
    let new_line = gap.contains('\n');
    if !separated || new_line && !trimmed.is_empty() {
        return None;
    }
    let mut fills = Vec::new();
    let mut first = anchor;
    let mut comma_used = false;
    while first > 0 && fills.len() < MOST_WORDS {
        let candidate = first - 1;
        if candidate + 1 < anchor {
            let comma = !comma_used && last_first_comma(scan, candidate) && fills.len() <= 2;
            if !(joined(scan, candidate) || comma) {
                break;
            }
            comma_used |= comma;
        }
        let Some(kind) = fill(scan, candidate) else {
            break;
        };
        fills.push(kind);
        first = candidate;
    }
    fills.reverse();
    while matches!(fills.first(), Some(Fill::Particle | Fill::Initial)) {
        fills.remove(0);
        first += 1;
    }
    if fills.is_empty() {
        return None;
    }
    // A name on a line of its own before "dob" on the next: the line holds nothing else.
    if new_line && (cue != Cue::Firm || !scan.starts_sentence(first)) {
        return None;
    }
    // "Sex: Female\nMRN", "Payer: Medicare  Member ID": the value of some other field.
    // "Additional Notes: Yong Du is a 64-year-old man": a sentence, not a field's value.
    let sentence = anchor < scan.tokens.len() && matches!(scan.word(anchor), "is" | "who");
    let other_field = first > 0
        && !sentence
        && scan.gap_after(first - 1).trim_start().starts_with(':')
        && !FIRM_FIELDS.contains(&scan.word(first - 1))
        && !LOOSE_FIELDS.contains(&scan.word(first - 1));
    // What follows a name is weaker than what precedes it ("My MRN is"): one ordinary word
    // is never enough. Before a date of birth or a record number, two capitalised words are
    // ("Cash Temple, DOB 04/02/1988").
    let capitalised_pair = cue == Cue::Firm
        && fills.iter().filter(|fill| **fill != Fill::Initial).count() >= 2
        && (first..first + fills.len()).all(|at| scan.tokens[at].case != Case::Lower);
    (!other_field && (capitalised_pair || accepted(scan, first, &fills, Cue::Loose)))
        .then_some(first)
}

#[cfg(test)]
mod tests {
    use crate::testing::{check, labels};
    use crate::PhiLabel;

    fn names(text: &str) -> Vec<&str> {
        crate::detect(text)
            .into_iter()
            .filter(|finding| finding.label == PhiLabel::Name)
            .map(|finding| &text[finding.start..finding.end])
            .collect()
    }

    #[test]
    fn titles_and_person_fields_make_ordinary_words_names() {
        assert_eq!(
            names("Outside records from Dr. Contractor were reviewed"),
            ["Contractor"]
        );
        assert_eq!(names("follow up with doctor crohn in two weeks"), ["crohn"]);
        assert_eq!(names("referred to Dr. De (cardiology)"), ["De"]);
        assert_eq!(names("attn dr. st. clair"), ["st. clair"]);
        assert_eq!(
            names("Name: Chakradhar Sandal\nD.O.B.: 2/14/62"),
            ["Chakradhar Sandal"]
        );
        assert_eq!(names("pt: stone, drew t.\n"), ["stone, drew t"]);
        assert_eq!(names("Patient: Addison, Cash\n"), ["Addison, Cash"]);
        assert_eq!(names("Pt José Díaz, MRN 4827193"), ["José Díaz"]);
    }

    #[test]
    fn what_follows_a_name_closes_its_slot() {
        assert_eq!(
            names("summarize the visit for holly lamb dob 5/13/1976"),
            ["holly lamb"]
        );
        assert_eq!(
            names("pt Keer, Jagrati, acct 8761-627858"),
            ["Keer, Jagrati"]
        );
        assert_eq!(names("Modupe Ogunwobi 20 f from waco"), ["Modupe Ogunwobi"]);
        assert_eq!(
            names("Dictated by Evan Z. Stokes MD. Transcribed"),
            ["Evan Z. Stokes"]
        );
        assert_eq!(
            names("this is dale m. green md dictating on patient"),
            ["dale m. green"]
        );
        assert_eq!(
            names("a summary of carmen wilson's hospital course"),
            ["carmen wilson"]
        );
    }

    #[test]
    fn an_age_a_credential_run_or_a_birth_date_after_a_name_makes_it_one() {
        assert_eq!(
            names("Yong Du is a 64-year-old man with hypertension"),
            ["Yong Du"]
        );
        assert!(
            names("dictating for jason becker who is a thirty six year old male")
                .contains(&"jason becker")
        );
        assert_eq!(
            names("this is holly rivers md facc dictating"),
            ["holly rivers"]
        );
        assert_eq!(
            names("does Cash Temple, DOB 04/02/1988, need a booster?"),
            ["Cash Temple"]
        );
        assert_eq!(
            names("Pt: van der Linden, Emir\n"),
            ["van der Linden, Emir"]
        );
    }

    #[test]
    fn a_sentence_subject_or_the_object_of_a_request_is_a_name() {
        assert_eq!(
            names("autumn banks says the kiosk rejected her scan"),
            ["autumn banks"]
        );
        assert_eq!(
            names("afebrile. mark reports the symptoms started"),
            ["mark"]
        );
        assert_eq!(
            names("Salami, Durodola called Thursday morning"),
            ["Salami, Durodola"]
        );
        assert_eq!(
            names("pls help - text veronica stokes at (837) 931-9411"),
            ["veronica stokes"]
        );
        assert_eq!(
            names("need a work note for adeyi awodiran, out july 16"),
            ["adeyi awodiran"]
        );
        assert_eq!(
            names("social security number for Moody, Rose is on file"),
            ["Moody, Rose"]
        );
        assert_eq!(
            names("home monitoring hub for xiuying song reports an outage"),
            ["xiuying song"]
        );
        assert_eq!(
            names("pull the chart for wei, na s. mrn 259008325"),
            ["wei, na s"]
        );
        assert_eq!(
            names("summarize the visit for i\u{307}lkim ertaş dob 03/16/1991"),
            ["i\u{307}lkim ertaş"]
        );
    }

    #[test]
    fn greetings_sign_offs_and_introductions_name_people() {
        assert_eq!(names("hi oeshi,\n\nwe noticed a sign-in"), ["oeshi"]);
        assert_eq!(
            names("Hello Will Baker,\n\nWe have your address"),
            ["Will Baker"]
        );
        assert_eq!(
            names("portal message: dear heather, your a1c was 8.9%"),
            ["heather"]
        );
        assert_eq!(
            names("Should I be seen?\n\nThanks,\nAanuoluwapo Aloba\nbirthday 09/20/1940"),
            ["Aanuoluwapo Aloba"]
        );
        assert_eq!(
            names("Respectfully,\n\nSani, Triya M. MD\n"),
            ["Sani, Triya M"]
        );
        assert_eq!(
            names("is metformin ok?\n\nmartha hodgkin\n\nsent from my iphone"),
            ["martha hodgkin"]
        );
        assert_eq!(
            names("call with questions.\n\nholly hall rn\n"),
            ["holly hall"]
        );
        assert_eq!(
            names("This is sonny d. wise, I'm a patient of the clinic."),
            ["sonny d. wise"]
        );
        assert_eq!(
            names("this is will church md facc dictating"),
            ["will church"]
        );
        assert_eq!(
            names("case #2022-854345 (brook lamb) - summarize the incident"),
            ["brook lamb"]
        );
        assert_eq!(
            names("portal account qiang.he@att.net (Qiang He) logged in"),
            ["Qiang He"]
        );
        assert_eq!(
            names("text from tijs van der loo: i was seen"),
            ["tijs van der loo"]
        );
        assert_eq!(
            names("how should i tell eun-ji that her biopsy"),
            ["eun-ji"]
        );
        assert_eq!(names("pt: young, will\ndob: 06-22-1971"), ["young, will"]);
        assert_eq!(
            names("Additional Notes: Yong Du is a 64-year-old man"),
            ["Yong Du"]
        );
    }

    #[test]
    fn message_shapes_refuse_what_is_no_name() {
        for text in [
            "Dear Reviewer,\n\nThis medication is medically necessary.",
            "hi team,\nplease call the pharmacy",
            "Hello everyone, the clinic opens at 9.",
            "Thanks,\nThe Care Team",
            "Best regards,\nFront Desk",
            "this is a reminder, I'm sorry",
            "labs (left knee) were normal",
            "tell them that the results are in",
            "email pharmacy at the usual address",
            "Chest PA and lateral\n\nNormal heart size",
        ] {
            assert!(names(text).is_empty(), "{text}: {:?}", names(text));
        }
    }

    #[test]
    fn slots_refuse_what_is_no_name() {
        for text in [
            "Sex: Female\nMRN: 31836445",
            "audit log shows MRN 138364 opened",
            "A 19yo man, dob 03.29.2002, diverticulitis",
            "rewrite this for the patient portal: thanks",
            "Pt requesting callback re: ferritin 548 result",
            "tested positive for pertussis, do we report to the county?",
            "peripheral neuropathy 26 y/o from Utah",
            "Social History\nBorn in Peru",
            "his Parkinson's is worse; Hashimoto's thyroiditis",
            "the doctor visit went well",
            "Will reports be faxed to the clinic?",
            "She is a 45-year-old woman with asthma",
            "is a referral for physical therapy needed?",
            "schedule follow up in two weeks; call back tomorrow",
            "Pain is a 7 out of 10. Patient reports relief.",
            "Family history is notable for Mallory-Weiss tear in a sibling.",
            "admitted for atrial fibrillation in 2019",
            "icd-10 code for hypertensive heart and kidney disease",
            "She lives with her son. Last echo on 3/23 showed an EF of 40%.",
        ] {
            assert!(names(text).is_empty(), "{text}: {:?}", names(text));
        }
        check(
            "Insurance: Medicare Advantage, ID# 063802115",
            &[("063802115", PhiLabel::OtherId)],
        );
        assert!(labels("Lou Gehrig's disease").is_empty());
    }
}
