//! Labels new tasks from words in their title: "fix the login bug" gets `bug`.

use bazaar_sdk::{Error, Event, Plugin, config, log, tasks};
use std::collections::BTreeMap;

/// The built-in rules: a word in the title and the label it brings.
const RULES: [(&str, &str); 6] = [
    ("bug", "bug"),
    ("fix", "bug"),
    ("crash", "bug"),
    ("doc", "docs"),
    ("urgent", "urgent"),
    ("asap", "urgent"),
];

/// The labels a title earns, added to `existing` without duplicates. `extra` are rules from the
/// installation's config (JSON object `{"word": "label"}`).
pub fn labels_for(title: &str, existing: &[String], extra: &BTreeMap<String, String>) -> Vec<String> {
    let title = title.to_lowercase();
    let mut labels = existing.to_vec();
    let rules = RULES
        .iter()
        .map(|(w, l)| (*w, *l))
        .chain(extra.iter().map(|(w, l)| (w.as_str(), l.as_str())));
    for (word, label) in rules {
        if title.contains(word) && !labels.iter().any(|l| l == label) {
            labels.push(label.to_owned());
        }
    }
    labels
}

struct AutoLabeller;

impl Plugin for AutoLabeller {
    fn on_event(event: Event) -> Result<(), Error> {
        if event.kind != "task.created" {
            return Ok(());
        }
        let extra: BTreeMap<String, String> = match config::get("rules") {
            Some(json) => serde_json::from_str(&json)?,
            None => BTreeMap::new(),
        };
        let task = tasks::get(&event.subject_id)?;
        let labels = labels_for(&task.title, &task.labels, &extra);
        if labels != task.labels {
            tasks::set_labels(&task.id, &labels)?;
            log::info(&format!("labelled {} with {}", task.id, labels.join(", ")));
        }
        Ok(())
    }
}

bazaar_sdk::export_plugin!(AutoLabeller);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_bring_labels_once_and_keep_existing_ones() {
        let none = BTreeMap::new();
        assert_eq!(labels_for("Fix the crash", &[], &none), ["bug"]);
        assert_eq!(
            labels_for("URGENT: docs", &["web".into()], &none),
            ["web", "docs", "urgent"]
        );
        let extra = BTreeMap::from([("invoice".to_owned(), "billing".to_owned())]);
        assert_eq!(labels_for("Invoice totals", &[], &extra), ["billing"]);
        assert!(labels_for("Plan the offsite", &[], &none).is_empty());
    }
}
