//! The labelled prompts of `data/complexity.jsonl`, read once for the classifier's accuracy test
//! and its bench (which includes this file by path).

use ward_router::Complexity;

pub struct Case {
    pub text: String,
    pub label: Complexity,
    pub split: String,
}

pub fn cases() -> Vec<Case> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/complexity.jsonl");
    let text = std::fs::read_to_string(&path).expect("data/complexity.jsonl exists");
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).expect("valid JSON line");
            Case {
                text: value["text"].as_str().expect("text").to_owned(),
                label: Complexity::parse(value["label"].as_str().expect("label"))
                    .expect("known label"),
                split: value["split"].as_str().expect("split").to_owned(),
            }
        })
        .collect()
}
