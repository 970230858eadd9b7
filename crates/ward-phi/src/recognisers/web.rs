//! Email addresses, URLs and IP addresses (v4 checked octet by octet, v6 by the standard parser).

use std::net::Ipv6Addr;

use regex::Regex;

use crate::finding::Recogniser;
use crate::scan::{ByteSet, Scan};
use crate::PhiLabel;

pub(crate) struct WebRecogniser {
    email: Regex,
    url: Regex,
    ipv4: Regex,
    ipv6: Regex,
}

/// What a run of digits holding an IPv4 address may hold.
const IPV4_BYTES: ByteSet = ByteSet::of(b"0123456789.", false);

const TOP_LEVEL_DOMAINS: &str =
    "com|org|net|edu|gov|mil|io|us|info|biz|co|me|health|care|app|ai|uk|ca|de|fr|au";

impl WebRecogniser {
    pub fn new() -> Self {
        let url = format!(
            r"(?:https?|ftp)://[^\s<>\x22'`]+|www\.[^\s<>\x22'`]+|(?-u:\b)[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:{TOP_LEVEL_DOMAINS})(?-u:\b)(?:/[^\s<>\x22'`]*)?"
        );
        WebRecogniser {
            email: Regex::new(r"[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}")
                .expect("valid pattern"),
            url: Regex::new(&url).expect("valid pattern"),
            ipv4: Regex::new(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}")
                .expect("valid pattern"),
            ipv6: Regex::new(
                r"[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?:(?::|\.)[0-9]{1,3}(?:\.[0-9]{1,3}){3})?",
            )
            .expect("valid pattern"),
        }
    }

    pub fn scan(&self, scan: &mut Scan<'_>) {
        let mut found = Vec::new();
        let lower = scan.lower.as_str();
        // Each pattern runs only when the character it cannot do without is in the text.
        let bytes = lower.as_bytes();
        // A dot between a letter or digit and a letter ("example.com") ends one token and has
        // the next start right after it: the tokens find it without a search for every dot.
        let dotted_word = lower.contains("://")
            || scan.tokens.windows(2).any(|pair| {
                let dot = pair[0].end;
                pair[1].start == dot + 1
                    && bytes[dot] == b'.'
                    && bytes[dot - 1].is_ascii_alphanumeric()
                    && bytes[dot + 1].is_ascii_alphabetic()
            });
        let hex_or_colon = |b: &u8| b.is_ascii_hexdigit() || *b == b':';
        let colon_between_hex = memchr::memchr_iter(b':', bytes).any(|at| {
            at > 0 && hex_or_colon(&bytes[at - 1]) && bytes.get(at + 1).is_some_and(hex_or_colon)
        });
        let at_sign = memchr::memchr(b'@', bytes).is_some();
        let emails = at_sign.then(|| self.email.find_iter(lower));
        for email in emails.into_iter().flatten() {
            found.push((
                email.start(),
                email.end(),
                PhiLabel::Email,
                Recogniser::Email,
                0.99,
            ));
        }
        let urls = dotted_word.then(|| self.url.find_iter(lower));
        for url in urls.into_iter().flatten() {
            let end = url.start() + trim_trailing_punctuation(url.as_str());
            let inside_email = found
                .iter()
                .any(|(s, e, ..)| *s <= url.start() && url.start() < *e);
            if !inside_email && end > url.start() && !is_file_name(&lower[url.start()..end]) {
                found.push((url.start(), end, PhiLabel::Url, Recogniser::Url, 0.95));
            }
        }
        let ipv4 = scan.matches_in_digit_runs(&self.ipv4, &IPV4_BYTES, (4, 3));
        let ipv4 = ipv4.into_iter().filter(|ip| {
            let octets_fit = ip
                .as_str()
                .split('.')
                .all(|octet| octet.parse::<u16>().is_ok_and(|value| value <= 255));
            octets_fit && !scan.continues_number(ip.start(), ip.end(), b".")
        });
        let ipv6 = colon_between_hex.then(|| self.ipv6.find_iter(lower));
        let ipv6 = ipv6.into_iter().flatten().filter(|ip| {
            ip.as_str().matches(':').count() >= 2 && ip.as_str().parse::<Ipv6Addr>().is_ok()
        });
        for ip in ipv4.chain(ipv6) {
            if scan.isolated(ip.start(), ip.end()) {
                let (start, end) = (ip.start(), ip.end());
                found.push((start, end, PhiLabel::IpAddress, Recogniser::IpAddress, 0.95));
            }
        }
        for (start, end, label, recogniser, confidence) in found {
            scan.push(start, end, label, recogniser, confidence);
        }
    }
}

/// Sentence punctuation after a URL belongs to the sentence ("see www.x.org.").
fn trim_trailing_punctuation(url: &str) -> usize {
    url.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}'])
        .len()
}

/// "report.doc" or "notes.in" are not web addresses; a bare domain needs a real-looking host.
fn is_file_name(candidate: &str) -> bool {
    if candidate.contains("://") || candidate.starts_with("www.") {
        return false;
    }
    let host = candidate.split('/').next().unwrap_or(candidate);
    let labels: Vec<&str> = host.split('.').collect();
    labels.len() < 2 || labels[0].len() < 2 || labels.iter().any(|label| label.is_empty())
}

#[cfg(test)]
mod tests {
    use crate::testing::{check, labels};
    use crate::PhiLabel;

    #[test]
    fn emails_urls_and_addresses() {
        check(
            "mail j.smith42@example.org now",
            &[("j.smith42@example.org", PhiLabel::Email)],
        );
        check(
            "portal https://mychart.example.com/p?id=4.",
            &[("https://mychart.example.com/p?id=4", PhiLabel::Url)],
        );
        check(
            "see www.janedoe.net, or",
            &[("www.janedoe.net", PhiLabel::Url)],
        );
        check(
            "blog janedoe.com/about",
            &[("janedoe.com/about", PhiLabel::Url)],
        );
        check(
            "from 192.168.10.24 at",
            &[("192.168.10.24", PhiLabel::IpAddress)],
        );
        check(
            "ipv6 2001:db8:85a3::8a2e:370:7334 ok",
            &[("2001:db8:85a3::8a2e:370:7334", PhiLabel::IpAddress)],
        );
    }

    #[test]
    fn versions_times_and_decimals_are_not_addresses() {
        assert!(labels("at 10:30:45 v1.2.3 and 300.1.2.3 and e.g. i.e. 4.5 mg").is_empty());
    }
}
