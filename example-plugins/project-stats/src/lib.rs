//! Keeps per-project task counts in the installation's key-value store, and shows them on each
//! project's page (a `project-card`).

use bazaar_sdk::ui::{self, Block, Context};
use bazaar_sdk::{Error, Event, Plugin, kv};
use serde::{Deserialize, Serialize};

/// Counts for one project, stored as JSON under `stats/<project id>`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub created: u64,
    pub completed: u64,
    pub reopened: u64,
    /// Ids of events already counted, newest last, so a retried delivery is not counted twice.
    pub seen: Vec<String>,
}

impl Stats {
    /// The card's blocks: the counts, and what is still open.
    pub fn card(&self) -> Vec<Block> {
        let open = self
            .created
            .saturating_add(self.reopened)
            .saturating_sub(self.completed);
        vec![
            ui::heading("Task counts"),
            ui::fields([
                ("Created", self.created.to_string()),
                ("Completed", self.completed.to_string()),
                ("Reopened", self.reopened.to_string()),
                ("Still open", open.to_string()),
            ]),
        ]
    }

    /// Counts one event; false when it was already counted or is not about tasks.
    pub fn count(&mut self, event_id: &str, kind: &str) -> bool {
        if self.seen.iter().any(|s| s == event_id) {
            return false;
        }
        match kind {
            "task.created" => self.created += 1,
            "task.completed" => self.completed += 1,
            "task.reopened" => self.reopened += 1,
            _ => return false,
        }
        self.seen.push(event_id.to_owned());
        if self.seen.len() > 50 {
            self.seen.remove(0);
        }
        true
    }
}

#[derive(Deserialize)]
struct TaskPayload {
    project_id: String,
}

struct ProjectStats;

impl Plugin for ProjectStats {
    fn on_event(event: Event) -> Result<(), Error> {
        if event.resource() != "task" {
            return Ok(());
        }
        let task: TaskPayload = event.payload()?;
        let key = format!("stats/{}", task.project_id);
        let mut stats: Stats = kv::get_json(&key)?.unwrap_or_default();
        if stats.count(&event.id, &event.kind) {
            kv::set_json(&key, &stats)?;
        }
        Ok(())
    }

    fn render(context: Context) -> Result<Vec<Block>, Error> {
        let stats: Option<Stats> = kv::get_json(&format!("stats/{}", context.subject_id))?;
        Ok(match stats {
            Some(stats) => stats.card(),
            None => vec![ui::text(
                "No task counted yet: counts start with the next task created here.",
            )],
        })
    }
}

bazaar_sdk::export_plugin!(ProjectStats);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_counts_once_and_the_memory_of_ids_is_bounded() {
        let mut stats = Stats::default();
        assert!(stats.count("evt_1", "task.created"));
        assert!(
            !stats.count("evt_1", "task.created"),
            "a retried delivery is not counted again"
        );
        assert!(stats.count("evt_2", "task.completed"));
        assert!(!stats.count("evt_3", "project.created"));
        for n in 0..100 {
            stats.count(&format!("evt_x{n}"), "task.reopened");
        }
        assert_eq!((stats.created, stats.completed, stats.reopened), (1, 1, 100));
        assert_eq!(stats.seen.len(), 50);
    }
}
