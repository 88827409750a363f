//! Labels new tasks from words in their title: "fix the login bug" gets `bug`. On each task's
//! page (a `task-panel`) it shows the labels the title earns and a button to add them.

use bazaar_sdk::ui::{self, Block, Context, Reply, Values};
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

/// The installation's extra rules.
fn extra_rules() -> Result<BTreeMap<String, String>, Error> {
    Ok(match config::get("rules") {
        Some(json) => serde_json::from_str(&json)?,
        None => BTreeMap::new(),
    })
}

struct AutoLabeller;

impl Plugin for AutoLabeller {
    fn on_event(event: Event) -> Result<(), Error> {
        if event.kind != "task.created" {
            return Ok(());
        }
        let extra = extra_rules()?;
        let task = tasks::get(&event.subject_id)?;
        let labels = labels_for(&task.title, &task.labels, &extra);
        if labels != task.labels {
            tasks::set_labels(&task.id, &labels)?;
            log::info(&format!("labelled {} with {}", task.id, labels.join(", ")));
        }
        Ok(())
    }

    fn render(context: Context) -> Result<Vec<Block>, Error> {
        let task = tasks::get(&context.subject_id)?;
        let labels = labels_for(&task.title, &task.labels, &extra_rules()?);
        let missing: Vec<String> = labels.into_iter().filter(|l| !task.labels.contains(l)).collect();
        let mut blocks = vec![ui::text(format!("Title: **{}**", task.title))];
        if missing.is_empty() {
            blocks.push(ui::text("The title earns no label it does not have."));
        } else {
            blocks.push(ui::text("The title earns these labels:"));
            blocks.push(ui::bullets(missing));
            blocks.push(ui::button("Add the labels", "apply"));
        }
        Ok(blocks)
    }

    fn on_action(context: Context, action: String, _values: Values) -> Result<Reply, Error> {
        if action != "apply" {
            return Err(Error::Invalid(format!("unknown action `{action}`")));
        }
        let task = tasks::get(&context.subject_id)?;
        let labels = labels_for(&task.title, &task.labels, &extra_rules()?);
        let added: Vec<String> = labels
            .iter()
            .filter(|l| !task.labels.contains(l))
            .cloned()
            .collect();
        if added.is_empty() {
            return Ok(Reply::Notice("Nothing to add.".into()));
        }
        tasks::set_labels(&task.id, &labels)?;
        log::info(&format!(
            "labelled {} with {} from its page",
            task.id,
            added.join(", ")
        ));
        Ok(Reply::Notice(format!("Added: {}", added.join(", "))))
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
