//! When a project is archived, writes it and its tasks as JSON to the installation's files.

use bazaar_sdk::{Error, Event, Plugin, files, log, projects, tasks};

/// The export document of a project.
pub fn document(project: &bazaar_sdk::Project, tasks: &[bazaar_sdk::Task]) -> serde_json::Value {
    serde_json::json!({
        "project": { "id": project.id, "name": project.name, "description": project.description },
        "tasks": tasks.iter().map(|t| serde_json::json!({
            "id": t.id, "title": t.title, "status": t.status, "labels": t.labels, "due_date": t.due_date,
        })).collect::<Vec<_>>(),
    })
}

struct ProjectExport;

impl Plugin for ProjectExport {
    fn on_event(event: Event) -> Result<(), Error> {
        if event.kind != "project.archived" {
            return Ok(());
        }
        let project = projects::get(&event.subject_id)?;
        let tasks = tasks::list_by_project(&project.id, 100)?;
        let name = format!("exports/{}.json", project.id);
        files::write(&name, &serde_json::to_vec_pretty(&document(&project, &tasks))?)?;
        log::info(&format!(
            "exported {} tasks of {} to {name}",
            tasks.len(),
            project.name
        ));
        Ok(())
    }
}

bazaar_sdk::export_plugin!(ProjectExport);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_holds_the_project_and_its_tasks() {
        let project = bazaar_sdk::Project {
            id: "prj_1".into(),
            name: "Site".into(),
            description: "old".into(),
            status: "archived".into(),
            created_at: String::new(),
        };
        let task = bazaar_sdk::Task {
            id: "tsk_1".into(),
            project_id: "prj_1".into(),
            title: "Move DNS".into(),
            description: String::new(),
            status: "completed".into(),
            labels: vec!["ops".into()],
            due_date: None,
            created_at: String::new(),
        };
        let doc = document(&project, &[task]);
        assert_eq!(doc["project"]["name"], "Site");
        assert_eq!(doc["tasks"][0]["labels"][0], "ops");
    }
}
