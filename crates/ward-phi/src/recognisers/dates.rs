//! Dates in clinical forms: numeric, ISO, written and abbreviated months, ordinals, partial dates
//! ("March 5th", "3/5", "Feb 2023") and relative dates that pin a day ("last Friday", "yesterday").
//! A bare year is not PHI.

use regex::Regex;

use crate::finding::Recogniser;
use crate::lexicon::Kinds;
use crate::scan::{contains_word, Scan};
use crate::PhiLabel;

pub(crate) struct DateRecogniser {
    /// Every numeric and written form, anchored: tried only where `date_starts` says one may start.
    pattern: Regex,
    /// "on Monday", anchored: tried at the `WEEKDAY_CUES`.
    weekday_after_preposition: Regex,
    month_alone: Regex,
}

const MONTH: &str = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?";
const ORDINAL_WORD: &str = r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|twenty[- ](?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)|thirtieth|thirty[- ]first)";
const CARDINAL_WORD: &str = r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[\s-](?:one|two|three|four|five|six|seven|eight|nine))?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)";
const WEEKDAY: &str = r"(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?";

/// Words before "7/10" or "5/5" that make it a score, not a date.
const SCORE_CUES: &[&str] = &[
    "pain",
    "strength",
    "power",
    "motor",
    "score",
    "scale",
    "rated",
    "rates",
    "grade",
    "murmur",
    "bp",
    "reflexes",
    "ratio",
    "vision",
    "acuity",
    "apgar",
    "gcs",
    "mmse",
    "moca",
    "phq",
    "gad",
    "x",
    "sbp",
    "dbp",
    "blood pressure",
    "severity",
    "level",
    "intensity",
];
/// Words after "2/6" that make it a score or a dose.
const SCORE_FOLLOWERS: &[&str] = &[
    "strength",
    "power",
    "murmur",
    "pain",
    "scale",
    "score",
    "reflexes",
    "motor",
    "sem",
    "holosystolic",
    "systolic",
    "diastolic",
    "tabs",
    "tab",
    "tablets",
    "pills",
    "dose",
    "doses",
    "times",
    "days",
    "of",
    "mmhg",
    "bilaterally",
    "ratio",
    "split",
    "cup",
    "cups",
    "inch",
    "inches",
    "tsp",
    "tbsp",
];
/// Words before "3/5" that make it a date.
const DATE_CUES: &[&str] = &[
    "on",
    "since",
    "from",
    "until",
    "till",
    "through",
    "dated",
    "date",
    "dob",
    "dos",
    "seen",
    "admitted",
    "discharged",
    "visit",
    "appt",
    "appointment",
    "surgery",
    "born",
    "due",
    "starting",
    "started",
    "effective",
    "last",
    "next",
    "before",
    "after",
    "by",
    "of",
    "expires",
    "exp",
    "collected",
    "received",
    "scheduled",
    "labs",
];

impl DateRecogniser {
    pub fn new() -> Self {
        // "nineteen seventy seven", "two thousand nineteen", "twenty twenty four"
        let spoken_year = format!(
            r"(?:(?:nineteen|twenty)\s+(?:hundred|oh\s+{CARDINAL_WORD}|{CARDINAL_WORD})|two\s+thousand(?:\s+(?:and\s+)?{CARDINAL_WORD})?)"
        );
        let day_word = format!(r"(?:{ORDINAL_WORD}|{CARDINAL_WORD})");
        let weekday_prefix = format!(r"(?:{WEEKDAY},?\s+)?");
        let alternatives = [
            // spoken dates in dictation: "september eleventh two thousand seventeen"
            format!(r"(?-u:\b)(?:january|february|march|april|may|june|july|august|september|october|november|december)\s+(?:the\s+)?{day_word}(?:,?\s+{spoken_year})?(?-u:\b)"),
            format!(r"(?-u:\b)(?:the\s+)?{ORDINAL_WORD}\s+of\s+{MONTH}(?:,?\s+{spoken_year})?(?-u:\b)"),
            // 03/05/2023, 3-5-23, 03.05.2023 (same separator twice)
            format!(r"(?-u:\b){weekday_prefix}[0-9]{{1,2}}/[0-9]{{1,2}}/(?:[0-9]{{4}}|[0-9]{{2}})(?-u:\b)"),
            r"(?-u:\b)[0-9]{1,2}-[0-9]{1,2}-(?:[0-9]{4}|[0-9]{2})(?-u:\b)".to_string(),
            r"(?-u:\b)[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{4}(?-u:\b)".to_string(),
            // 2023-03-05, 2023/3/5, 20230305 is left to the long-number rule
            r"(?-u:\b)(?:19|20)[0-9]{2}[-/.][0-9]{1,2}[-/.][0-9]{1,2}(?:t[0-9]{2}(?::[0-9]{2}){0,2}z?)?(?-u:\b)".to_string(),
            // 05-Mar-2023, 5 Mar 2023, 05mar2023, 5th of March 2023, 5 March
            format!(r"(?-u:\b){weekday_prefix}(?:the\s+)?[0-9]{{1,2}}(?:st|nd|rd|th)?(?:\s+of)?[\s-]*{MONTH}(?:[\s,-]*(?:[0-9]{{4}}|'?[0-9]{{2}}))?(?-u:\b)"),
            // March 5th, 2023 / Mar. 5 '23 / March the 5th / March 5
            format!(r"(?-u:\b){weekday_prefix}{MONTH}(?:\s+the\s+|\s*)[0-9]{{1,2}}(?:st|nd|rd|th)?(?:,?\s*(?:[0-9]{{4}}|'[0-9]{{2}}))?(?-u:\b)"),
            // the fifth of March / March fifth
            format!(r"(?-u:\b)(?:the\s+)?{ORDINAL_WORD}\s+of\s+{MONTH}(?-u:\b)"),
            format!(r"(?-u:\b){MONTH}\s+(?:the\s+)?{ORDINAL_WORD}(?-u:\b)"),
            // Feb 2023, March of 2023, 03/2023
            format!(r"(?-u:\b){MONTH}(?:,?\s+of\s+|,?\s*)(?:19|20)[0-9]{{2}}(?-u:\b)"),
            r"(?-u:\b)(?:0?[1-9]|1[0-2])/(?:19|20)[0-9]{2}(?-u:\b)".to_string(),
            // partial numeric 3/5 (screened below), "Fri 5/23"
            format!(r"(?-u:\b){weekday_prefix}[0-9]{{1,2}}/[0-9]{{1,2}}(?-u:\b)"),
            // relative dates that pin a day
            format!(r"(?-u:\b)(?:this\s+past|this\s+coming|last|this|next|past|previous|coming|(?:early|late)(?: on)?)\s+{WEEKDAY}(?:\s+(?:morning|afternoon|evening|night))?(?-u:\b)"),
            format!(r"(?-u:\b){WEEKDAY}\s+(?:morning|afternoon|evening|night)(?-u:\b)"),
            r"(?-u:\b)(?:the\s+day\s+before\s+yesterday|yesterday|tomorrow|day\s+before\s+yesterday)(?-u:\b)".to_string(),
        ];
        DateRecogniser {
            // A date stays on one line: "16\n\nDec. 16" is a number above a date.
            pattern: Regex::new(&format!(
                "^(?:{})",
                alternatives.join("|").replace(r"\s", r"[\s&&[^\n\r]]")
            ))
            .expect("valid pattern"),
            weekday_after_preposition: Regex::new(&format!(
                r"^(?:(?-u:\b)(?:on|since|until|till|by|this|every)\s+({WEEKDAY})(?-u:\b))"
            ))
            .expect("valid pattern"),
            month_alone: Regex::new(r"(?-u:\b)(?:in|since|during|early|late|mid|until|till|through|last|next|this|of|by|before|after)[\s-]+(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|aug|sept?|oct|nov|dec)(?-u:\b)")
                .expect("valid pattern"),
        }
    }

    pub fn scan(&self, scan: &mut Scan<'_>) {
        let mut found = Vec::new();
        let accepted = |start: usize, end: usize| {
            let text = &scan.lower[start..end];
            // "on may third" is a date; "may be" is not.
            let ordinal_after = || {
                text.split_whitespace().nth(1).is_some_and(|word| {
                    word.len() >= 5 && word.ends_with("th")
                        || matches!(word, "first" | "second" | "third")
                })
            };
            let may_the_verb = contains_word(text, "may")
                && text.split_whitespace().count() <= 2
                && !ordinal_after()
                && !text.bytes().any(|b| b.is_ascii_digit())
                && !scan.text[start..end].contains('M');
            !scan.continues_number(start, end, b"./-:")
                && plausible(scan, text, start, end)
                && !may_the_verb
        };
        for (start, end) in self.dates(scan, accepted) {
            found.push((start, end, 0.9));
        }
        // The two patterns below open with common words ("on", "in"): each runs only when the
        // text has a weekday or a month for it to find.
        let weekday = |index: usize| scan.is(index, Kinds::WEEKDAY);
        let month = |index: usize| scan.is(index, Kinds::CALENDAR) && !weekday(index);
        // "on Monday": the weekday alone is the date.
        if (0..scan.tokens.len()).any(weekday) {
            for (start, end) in self.weekdays_after_cues(scan) {
                if accepted(start, end) {
                    found.push((start, end, 0.9));
                }
            }
        }
        let months = (0..scan.tokens.len()).any(month);
        let alone = months.then(|| self.month_alone.captures_iter(&scan.lower));
        for captures in alone.into_iter().flatten() {
            let month = captures.get(1).expect("month group");
            // A month on its own must be written as a name ("in March"), not a verb ("march in").
            if scan.text[month.start()..].starts_with(|c: char| c.is_ascii_uppercase()) {
                found.push((month.start(), month.end(), 0.7));
            }
        }
        for (start, end, confidence) in found {
            scan.push(start, end, PhiLabel::Date, Recogniser::Date, confidence);
        }
    }

    /// The dates that `accepted` keeps, as a search of the whole text finds them: the leftmost
    /// match first, and after a rejected one ("52 May 16" in "davis-52 May 16, 2023") the search
    /// goes on from the next start, so the date inside is not hidden.
    fn dates(
        &self,
        scan: &Scan<'_>,
        accepted: impl Fn(usize, usize) -> bool,
    ) -> Vec<(usize, usize)> {
        scan.tried_at(&date_starts(scan), |start, rest| {
            let end = start + self.pattern.find(rest)?.end();
            accepted(start, end).then_some((end, end - start))
        })
    }

    /// The weekdays after a `WEEKDAY_CUES` word ("on Monday"), as a search of the whole text
    /// finds them: the pattern opens with a cue, so it is tried only where one starts.
    fn weekdays_after_cues(&self, scan: &Scan<'_>) -> Vec<(usize, usize)> {
        let starts = scan.word_starts(|_, token| token.kinds.any(Kinds::WEEKDAY_CUE));
        let found = scan.anchored_captures(&self.weekday_after_preposition, &starts);
        found
            .into_iter()
            .map(|(at, captures)| {
                let weekday = captures.get(1).expect("weekday group");
                (at + weekday.start(), at + weekday.end())
            })
            .collect()
    }
}

/// The words that make a weekday after them a date (`Kinds::WEEKDAY_CUE`).
pub(crate) const WEEKDAY_CUES: &[&str] = &["on", "since", "until", "till", "by", "this", "every"];

/// Where a date may start. Every form opens with a word boundary and then a month or weekday as a
/// whole word (or glued to a number: "mar5"), one of the `START_WORDS`, or a number: one or two
/// digits before a separator, a space, an ordinal's suffix or a month ("3/5", "5 March", "5th",
/// "05mar"), or a year from 1900 to 2099 before a separator ("2023-03-05").
fn date_starts(scan: &Scan<'_>) -> Vec<usize> {
    let lower = scan.lower.as_str();
    scan.word_starts(|_, token| {
        if token
            .kinds
            .any(Kinds::DATE_START | Kinds::CALENDAR | Kinds::WEEKDAY)
        {
            return true;
        }
        if !token.has_digit {
            return false;
        }
        let word = &lower[token.start..];
        let digits = word.bytes().take_while(u8::is_ascii_digit).count();
        match digits {
            0 => true,
            // A separator, an ordinal's suffix or a month's first letter; or spaces in the line
            // and hyphens, then a month or "of" ("5 March", "5 - Mar", "5 of March").
            1 | 2 => {
                let in_line = |c: char| c.is_whitespace() && !matches!(c, '\n' | '\r');
                let mut rest = word[digits..].chars();
                match rest.next() {
                    Some(c) if "/-.sntrjfmaod".contains(c) => true,
                    Some(c) if in_line(c) => rest
                        .find(|c| !in_line(*c) && *c != '-')
                        .is_some_and(|c| "jfmasond".contains(c)),
                    _ => false,
                }
            }
            4 => {
                (word.starts_with("19") || word.starts_with("20"))
                    && matches!(word.as_bytes().get(4), Some(b'/' | b'-' | b'.'))
            }
            _ => false,
        }
    })
}

/// The words other than months and weekdays that a date may open with (`Kinds::DATE_START`).
pub(crate) const START_WORDS: &[&str] = &[
    "the",
    "this",
    "past",
    "last",
    "next",
    "previous",
    "coming",
    "early",
    "late",
    "yesterday",
    "tomorrow",
    "day",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
    "twenty",
    "thirtieth",
    "thirty",
];

/// Every spelling of a weekday that the `WEEKDAY` pattern accepts (`Kinds::WEEKDAY`).
pub(crate) const WEEKDAY_WORDS: &[&str] = &[
    "mon",
    "monday",
    "tue",
    "tueday",
    "tues",
    "tuesday",
    "wed",
    "wedday",
    "wednes",
    "wednesday",
    "thu",
    "thuday",
    "thurs",
    "thursday",
    "fri",
    "friday",
    "sat",
    "satday",
    "satur",
    "saturday",
    "sun",
    "sunday",
];

fn plausible(scan: &Scan<'_>, text: &str, start: usize, end: usize) -> bool {
    let numbers: Vec<u32> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|part| part.parse().ok())
        .collect();
    let all_numeric = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'/' | b'-' | b'.'));
    if !all_numeric {
        // "Fri 5/23": a weekday before a month and a day.
        if let [month, day] = numbers[..] {
            if text.contains('/') {
                return (1..=12).contains(&month) && (1..=31).contains(&day);
            }
        }
        // Written months: a day, if any, must be 1-31.
        return numbers
            .iter()
            .all(|n| *n <= 31 || (1900..=2100).contains(n));
    }
    match numbers.as_slice() {
        [year, month, day, ..] if *year >= 1000 => {
            (1..=12).contains(month) && (1..=31).contains(day)
        }
        [first, second, _year] => {
            let (first, second) = (*first, *second);
            ((1..=12).contains(&first) && (1..=31).contains(&second))
                || ((1..=31).contains(&first) && (1..=12).contains(&second))
        }
        [month, year] if *year >= 1900 => (1..=12).contains(month),
        [month, day] => partial_date(scan, *month, *day, start, end),
        _ => false,
    }
}

/// "3/5" is a date unless it reads as a score ("pain 7/10", "5/5 strength"), a fraction or "24/7".
fn partial_date(scan: &Scan<'_>, month: u32, day: u32, start: usize, end: usize) -> bool {
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return false;
    }
    let before = scan.lower_before(start, 24);
    let last_word = before
        .split(|c: char| !c.is_ascii_alphanumeric())
        .rfind(|w| !w.is_empty())
        .unwrap_or("");
    if DATE_CUES.contains(&last_word) {
        return true;
    }
    // Scores are never zero-padded: "03/05" is a date.
    if scan.lower[start..end].starts_with('0') || scan.lower[start..end].contains("/0") {
        return true;
    }
    let after = &scan.lower[end..];
    let next_word = after
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| !w.is_empty())
        .unwrap_or("");
    let fraction = day <= 4 && month < day;
    let score = day == 10
        || day == 5 && month <= 5
        || day == 6 && month <= 6
        || (month == day && month <= 5);
    let cued_score = SCORE_CUES.iter().any(|cue| contains_word(before, cue))
        || SCORE_FOLLOWERS.contains(&next_word);
    !(fraction || score || cued_score)
}

#[cfg(test)]
mod tests {
    use crate::testing::{check, labels, unanchored};
    use crate::PhiLabel;

    #[test]
    fn numeric_and_iso_dates() {
        check("DOB 04/12/1961.", &[("04/12/1961", PhiLabel::Date)]);
        check("seen 4-12-61 and", &[("4-12-61", PhiLabel::Date)]);
        check(
            "on 2023-03-05T10:30 z",
            &[("2023-03-05T10:30", PhiLabel::Date)],
        );
        check("12.05.2023", &[("12.05.2023", PhiLabel::Date)]);
    }

    #[test]
    fn written_and_partial_dates() {
        check(
            "admitted March 5th, 2023",
            &[("March 5th, 2023", PhiLabel::Date)],
        );
        check(
            "on the 5th of March",
            &[("the 5th of March", PhiLabel::Date)],
        );
        check("due 12 Jan 2024", &[("12 Jan 2024", PhiLabel::Date)]);
        check("since Feb 2023", &[("Feb 2023", PhiLabel::Date)]);
        check("f/u on 3/5", &[("3/5", PhiLabel::Date)]);
        check("started in June", &[("June", PhiLabel::Date)]);
        check("Sept. 9", &[("Sept. 9", PhiLabel::Date)]);
        check(
            "Thursday, July 21, 2016",
            &[("Thursday, July 21, 2016", PhiLabel::Date)],
        );
        check("labs (03/05): pH 7.40", &[("03/05", PhiLabel::Date)]);
        check("on May 3", &[("May 3", PhiLabel::Date)]);
        check("next infusion Fri 5/23.", &[("Fri 5/23", PhiLabel::Date)]);
        check("Labs (1/6): ferritin 661", &[("1/6", PhiLabel::Date)]);
        check("seen on may third for", &[("may third", PhiLabel::Date)]);
    }

    #[test]
    fn relative_dates_that_pin_a_day() {
        check("fell last Friday", &[("last Friday", PhiLabel::Date)]);
        check(
            "fell this past Sunday",
            &[("this past Sunday", PhiLabel::Date)],
        );
        check(
            "dob september eleventh two thousand seventeen ok",
            &[("september eleventh two thousand seventeen", PhiLabel::Date)],
        );
        check(
            "on june fifteen twenty twenty for",
            &[("june fifteen twenty twenty", PhiLabel::Date)],
        );
        check(
            "the fourteenth of may nineteen twenty six",
            &[("the fourteenth of may nineteen twenty six", PhiLabel::Date)],
        );
        check("worse since yesterday", &[("yesterday", PhiLabel::Date)]);
        check(
            "seen on Monday morning",
            &[("Monday morning", PhiLabel::Date)],
        );
        check(
            "Fax: 2923267617 ext 16\n\nDec. 16, 2019",
            &[
                ("2923267617 ext 16", PhiLabel::Fax),
                ("Dec. 16, 2019", PhiLabel::Date),
            ],
        );
        check(
            "gofundme.com/f/help-52 May 16, 2023",
            &[
                ("gofundme.com/f/help-52", PhiLabel::Url),
                ("May 16, 2023", PhiLabel::Date),
            ],
        );
    }

    #[test]
    fn years_scores_fractions_and_verbs_are_not_dates() {
        for text in [
            "diagnosed in 2015",
            "pain 7/10",
            "strength 5/5 throughout",
            "2/6 systolic murmur",
            "take 1/2 tab",
            "available 24/7",
            "you may want to march",
            "BP 128/82",
            "every 4-6 hours",
            "Fri 13/40",
            "Sat 7/35",
            "you may both come",
        ] {
            assert!(labels(text).is_empty(), "{text}");
        }
    }

    /// Texts made of the pieces dates are made of, glued and spaced every way.
    fn date_texts() -> impl proptest::strategy::Strategy<Value = String> {
        let pieces = [
            "3",
            "12",
            "05",
            "2023",
            "1961",
            "/",
            "-",
            ".",
            " ",
            ", ",
            "'",
            "\n",
            "march",
            "Mar",
            "may",
            "sept",
            "5th",
            "the",
            "of",
            "on",
            "last",
            "this",
            "Friday",
            "thurs",
            "twenty",
            "first",
            "yesterday",
            "day",
            "morning",
            "x",
            "mid-",
            "é",
            "\u{a0}",
            "_",
            "since",
            "every",
            "mon",
            "sun-",
            "12.",
            "3/",
            "05-",
            "1961-",
            "2023.",
            "5 ",
            "7x",
        ];
        let words = proptest::collection::vec(proptest::sample::select(pieces.to_vec()), 0..24)
            .prop_map(|pieces| pieces.concat());
        // Numbers between separators, so that numeric dates and near misses are common.
        let number = proptest::sample::select(vec!["3", "12", "05", "31", "2023", "1961", "5th"]);
        let separator = proptest::sample::select(vec![
            "/",
            "-",
            ".",
            " ",
            ", ",
            "x",
            "",
            " of ",
            " of march",
            " march ",
            " - jan",
            " may",
            " week ",
        ]);
        let numbers = proptest::collection::vec((number, separator), 0..8).prop_map(|pairs| {
            pairs
                .iter()
                .flat_map(|(number, separator)| [*number, *separator])
                .collect::<String>()
        });
        prop_oneof![words, numbers]
    }

    use proptest::prelude::*;

    proptest! {
        /// Tried only at `date_starts`, the pattern finds what a search of the whole text finds,
        /// also after a rejected match.
        #[test]
        fn dates_found_from_their_starts_are_the_whole_text_dates(text in date_texts()) {
            let detector = crate::Detector::shared();
            let dates = &detector.dates;
            let scan = crate::scan::Scan::new(&text, &detector.lexicon);
            let whole = unanchored(&dates.pattern);
            // Rejecting some matches that start with a digit tries the search after a rejection.
            let accepted = |start: usize, end: usize| {
                !scan.lower[start..].starts_with(|c: char| c.is_ascii_digit()) || !(start + end).is_multiple_of(3)
            };
            let mut expected = Vec::new();
            let mut from = 0;
            while let Some(found) = whole.find_at(&scan.lower, from) {
                let (start, end) = (found.start(), found.end());
                if accepted(start, end) {
                    expected.push((start, end));
                    from = end;
                } else {
                    from = start + scan.lower[start..].chars().next().map_or(1, char::len_utf8);
                }
            }
            prop_assert_eq!(dates.dates(&scan, accepted), expected);
            let whole = unanchored(&dates.weekday_after_preposition);
            let expected: Vec<(usize, usize)> = whole
                .captures_iter(&scan.lower)
                .map(|captures| captures.get(1).unwrap())
                .map(|weekday| (weekday.start(), weekday.end()))
                .collect();
            prop_assert_eq!(dates.weekdays_after_cues(&scan), expected);
        }
    }
}
