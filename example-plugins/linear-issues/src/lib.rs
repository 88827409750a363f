//! Creates a Linear issue for each task carrying the installation's label (`linear` unless set),
//! with Linear's GraphQL mutation `issueCreate`, through the tenant's API-key connection (sent
//! in `Authorization` by the host: the plugin never sees it). It keeps each task's issue, so a
//! retried delivery or a later update never creates a second.

use bazaar_sdk::http::Method;
use bazaar_sdk::{Error, Event, Plugin, config, connections, kv, log};
use serde::Deserialize;

/// The mutation, as Linear's API reference writes it.
pub const ISSUE_CREATE: &str = "mutation IssueCreate($input: IssueCreateInput!) { \
    issueCreate(input: $input) { success issue { id identifier url } } }";

#[derive(Deserialize)]
struct TaskPayload {
    id: String,
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    labels: Vec<String>,
}

/// The GraphQL request for a task.
pub fn request(team_id: &str, task_id: &str, title: &str, description: &str) -> serde_json::Value {
    let mut text = description.trim().to_owned();
    if !text.is_empty() {
        text.push_str("\n\n");
    }
    text.push_str(&format!("Created by Bazaar for task `{task_id}`."));
    serde_json::json!({
        "query": ISSUE_CREATE,
        "variables": { "input": { "teamId": team_id, "title": title, "description": text } }
    })
}

/// What Linear's answer means: the issue's identifier (`ENG-12`), or why not. GraphQL errors
/// come with HTTP 200 or 400 and an `extensions.code`: `RATELIMITED` passes (retried),
/// `AUTHENTICATION_ERROR` is final until the tenant connects a valid key.
pub fn created(status: u16, body: &[u8]) -> Result<String, Error> {
    let answer: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let code = answer["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default();
    let message = answer["errors"][0]["message"].as_str().unwrap_or_default();
    if status == 429 || code == "RATELIMITED" {
        return Err(Error::Unavailable("Linear's rate limit: retried later".into()));
    }
    if status == 401 || code == "AUTHENTICATION_ERROR" {
        return Err(Error::Forbidden(
            "Linear refused the API key: connect a valid one on the app's page".into(),
        ));
    }
    if status >= 500 {
        return Err(Error::Unavailable(format!("Linear answered {status}")));
    }
    if !message.is_empty() {
        return Err(Error::Invalid(format!("Linear refused the issue: {message}")));
    }
    let created = &answer["data"]["issueCreate"];
    match (
        created["success"].as_bool(),
        created["issue"]["identifier"].as_str(),
    ) {
        (Some(true), Some(identifier)) => Ok(identifier.to_owned()),
        _ => Err(Error::Invalid(format!(
            "Linear did not create the issue ({status})"
        ))),
    }
}

struct LinearIssues;

impl Plugin for LinearIssues {
    fn on_event(event: Event) -> Result<(), Error> {
        if event.kind != "task.created" && event.kind != "task.updated" {
            return Ok(());
        }
        let task: TaskPayload = event.payload()?;
        let label = config::get("label")
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| "linear".into());
        if !task.labels.contains(&label) {
            return Ok(());
        }
        let key = format!("issue:{}", task.id);
        if kv::get(&key)?.is_some() {
            return Ok(());
        }
        let url = config::get("api_url")
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "https://api.linear.app/graphql".into());
        let body = serde_json::to_vec(&request(
            &config::require("team_id")?,
            &task.id,
            &task.title,
            &task.description,
        ))?;
        let answer = connections::send(
            "linear",
            Method::Post,
            &url,
            &[("content-type", "application/json")],
            Some(body),
        )?;
        let identifier = created(answer.status, &answer.body)?;
        kv::set(&key, identifier.as_bytes())?;
        log::info(&format!("created {identifier} for task {}", task.id));
        Ok(())
    }
}

bazaar_sdk::export_plugin!(LinearIssues);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_answers_become_the_right_outcome() {
        let ok =
            br#"{"data":{"issueCreate":{"success":true,"issue":{"id":"1","identifier":"ENG-7","url":"u"}}}}"#;
        assert_eq!(created(200, ok).ok().as_deref(), Some("ENG-7"));
        let limited =
            br#"{"errors":[{"message":"Rate limit exceeded","extensions":{"code":"RATELIMITED"}}]}"#;
        assert!(matches!(created(400, limited), Err(Error::Unavailable(_))));
        let auth = br#"{"errors":[{"message":"Authentication required","extensions":{"code":"AUTHENTICATION_ERROR"}}]}"#;
        assert!(matches!(created(400, auth), Err(Error::Forbidden(_))));
        let bad =
            br#"{"errors":[{"message":"Argument Validation Error","extensions":{"code":"INVALID_INPUT"}}]}"#;
        assert!(matches!(created(400, bad), Err(Error::Invalid(m)) if m.contains("Argument Validation")));
        assert!(matches!(created(503, b""), Err(Error::Unavailable(_))));
    }

    #[test]
    fn the_request_is_the_documented_mutation() {
        let r = request("team-1", "tsk_1", "Fix login", "");
        assert!(
            r["query"]
                .as_str()
                .unwrap()
                .contains("issueCreate(input: $input)")
        );
        assert_eq!(r["variables"]["input"]["teamId"], "team-1");
        assert_eq!(r["variables"]["input"]["title"], "Fix login");
    }
}
