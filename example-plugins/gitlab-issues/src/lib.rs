//! Creates a GitLab issue for each task carrying the installation's label (`gitlab` unless set),
//! with GitLab's REST API v4 (`POST /api/v4/projects/:id/issues`, the project's path URL-encoded
//! as the id) through the tenant's token connection (`PRIVATE-TOKEN`, added by the host). It keeps
//! each task's issue, so a retried delivery or a later update never creates a second.

use bazaar_sdk::http::Method;
use bazaar_sdk::{Error, Event, Plugin, config, connections, kv, log};
use serde::Deserialize;

#[derive(Deserialize)]
struct TaskPayload {
    id: String,
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    labels: Vec<String>,
}

/// The project's id as GitLab takes it in a path: a number, or the path with `/` as `%2F`.
pub fn project_id(project: &str) -> Result<String, Error> {
    let valid = !project.is_empty()
        && !project.starts_with('/')
        && !project.ends_with('/')
        && project.split('/').all(|part| part != "." && part != "..")
        && project
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
    if !valid {
        return Err(Error::Invalid(format!(
            "`{project}` is not a GitLab project id or path"
        )));
    }
    Ok(project.replace('/', "%2F"))
}

/// The body of "create an issue".
pub fn issue(task_id: &str, title: &str, description: &str, labels: &[String]) -> serde_json::Value {
    let mut text = description.trim().to_owned();
    if !text.is_empty() {
        text.push_str("\n\n");
    }
    text.push_str(&format!("_Created by Bazaar for task `{task_id}`._"));
    serde_json::json!({ "title": title, "description": text, "labels": labels.join(",") })
}

/// What GitLab's answer means: the issue's `iid`, or why not.
pub fn created(status: u16, body: &[u8]) -> Result<u64, Error> {
    let answer: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    match status {
        201 => answer["iid"]
            .as_u64()
            .ok_or_else(|| Error::Internal("GitLab created the issue but sent no iid".into())),
        429 => Err(Error::Unavailable("GitLab's rate limit: retried later".into())),
        401 => Err(Error::Forbidden(
            "GitLab refused the token (401): connect a valid one on the app's page".into(),
        )),
        403 => Err(Error::Forbidden(
            "the token may not create issues in this project".into(),
        )),
        404 => Err(Error::Invalid(
            "the project does not exist or the token cannot see it".into(),
        )),
        500..=599 => Err(Error::Unavailable(format!("GitLab answered {status}"))),
        _ => Err(Error::Invalid(format!(
            "GitLab refused the issue ({status}): {}",
            answer["message"]
        ))),
    }
}

struct GitlabIssues;

impl Plugin for GitlabIssues {
    fn on_event(event: Event) -> Result<(), Error> {
        if event.kind != "task.created" && event.kind != "task.updated" {
            return Ok(());
        }
        let task: TaskPayload = event.payload()?;
        let label = config::get("label")
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| "gitlab".into());
        if !task.labels.contains(&label) {
            return Ok(());
        }
        let key = format!("issue:{}", task.id);
        if kv::get(&key)?.is_some() {
            return Ok(());
        }
        let api = config::get("api_url")
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "https://gitlab.com".into());
        let url = format!(
            "{}/api/v4/projects/{}/issues",
            api.trim_end_matches('/'),
            project_id(&config::require("project")?)?
        );
        let body = serde_json::to_vec(&issue(&task.id, &task.title, &task.description, &task.labels))?;
        let answer = connections::send(
            "gitlab",
            Method::Post,
            &url,
            &[("content-type", "application/json")],
            Some(body),
        )?;
        let iid = created(answer.status, &answer.body)?;
        kv::set(&key, iid.to_string().as_bytes())?;
        log::info(&format!("created issue #{iid} for task {}", task.id));
        Ok(())
    }
}

bazaar_sdk::export_plugin!(GitlabIssues);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projects_are_ids_or_encoded_paths() {
        assert_eq!(project_id("42").ok().as_deref(), Some("42"));
        assert_eq!(project_id("acme/web").ok().as_deref(), Some("acme%2Fweb"));
        for bad in ["", "/web", "acme/", "acme/../x", "acme/web?x", "a b"] {
            assert!(project_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn answers_are_classified() {
        assert_eq!(created(201, br#"{"iid":3}"#).ok(), Some(3));
        assert!(matches!(created(429, b""), Err(Error::Unavailable(_))));
        assert!(matches!(created(401, b""), Err(Error::Forbidden(_))));
        assert!(matches!(created(502, b""), Err(Error::Unavailable(_))));
    }
}
