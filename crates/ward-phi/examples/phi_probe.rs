//! Prints the findings for each argument: a quick look while tuning recognisers.

fn main() {
    for text in std::env::args().skip(1) {
        let findings = ward_phi::detect(&text);
        let shown: Vec<String> = findings
            .iter()
            .map(|f| {
                format!(
                    "{:?}={} ({})",
                    &text[f.start..f.end],
                    f.label,
                    f.recogniser.as_str()
                )
            })
            .collect();
        println!("{text:?}\n  -> {}", shown.join(", "));
    }
}
