//! Opens a GitHub issue for each task carrying the installation's label (`github` unless set),
//! through the tenant's connected GitHub account, as GitHub's REST API documents it
//! (`POST /repos/{owner}/{repo}/issues`, `Accept: application/vnd.github+json`,
//! `X-GitHub-Api-Version: 2022-11-28`). It keeps the issue number of each task, so a retried
//! delivery or a later update never opens a second issue. The repository's webhook (trigger
//! `github`, signed with `X-Hub-Signature-256`, checked by Bazaar) tells it when an issue
//! closes: the task is completed.

use bazaar_sdk::http::Method;
use bazaar_sdk::triggers::{self, Answer, Inbound};
use bazaar_sdk::{Error, Event, Plugin, config, connections, kv, log, tasks};
use serde::Deserialize;

/// The version of GitHub's REST API the requests are written for.
pub const API_VERSION: &str = "2022-11-28";

#[derive(Deserialize)]
struct TaskPayload {
    id: String,
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    labels: Vec<String>,
}

/// The body of GitHub's "create an issue" request for a task.
pub fn issue_body(task_id: &str, title: &str, description: &str) -> serde_json::Value {
    let mut body = description.trim().to_owned();
    if !body.is_empty() {
        body.push_str("\n\n");
    }
    body.push_str(&format!("_Opened by Bazaar for task `{task_id}`._"));
    serde_json::json!({ "title": title, "body": body })
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// What GitHub's answer to "create an issue" means: the issue's number, or why not. Rate limits
/// (`429`, or `403` with `Retry-After` or no requests remaining) and server errors are passing
/// (`unavailable`: the delivery is retried); a refused token is final until the tenant connects
/// again.
pub fn created(
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
    repository: &str,
) -> Result<u64, Error> {
    let message = || {
        serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let rate_limited = status == 429
        || (status == 403
            && (header(headers, "retry-after").is_some()
                || header(headers, "x-ratelimit-remaining") == Some("0")));
    match status {
        201 => serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v["number"].as_u64())
            .ok_or_else(|| Error::Internal("GitHub created the issue but sent no number".into())),
        _ if rate_limited => Err(Error::Unavailable(format!(
            "GitHub's rate limit: retry after {} s",
            header(headers, "retry-after").unwrap_or("60")
        ))),
        401 => Err(Error::Forbidden(
            "GitHub refused the connected account (401): connect GitHub again on the app's page".into(),
        )),
        403 => Err(Error::Forbidden(format!(
            "the connected account may not open issues in {repository}: {}",
            message()
        ))),
        404 => Err(Error::Invalid(format!(
            "{repository} does not exist or the connected account cannot see it"
        ))),
        410 => Err(Error::Invalid(format!("issues are turned off in {repository}"))),
        422 => Err(Error::Invalid(format!("GitHub refused the issue: {}", message()))),
        500..=599 => Err(Error::Unavailable(format!("GitHub answered {status}"))),
        other => Err(Error::Invalid(format!("GitHub answered {other}: {}", message()))),
    }
}

/// `owner/name`, checked, so that the URL has exactly that path.
pub fn repository(value: &str) -> Result<String, Error> {
    let valid = value.split('/').count() == 2
        && value.split('/').all(|part| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        });
    if valid {
        Ok(value.to_owned())
    } else {
        Err(Error::Invalid(format!(
            "`{value}` is not a repository: write owner/name"
        )))
    }
}

/// The part of GitHub's `issues` webhook payload the plugin reads.
#[derive(Deserialize)]
struct IssuesEvent {
    action: String,
    issue: Issue,
    repository: Repository,
}

#[derive(Deserialize)]
struct Issue {
    number: u64,
}

#[derive(Deserialize)]
struct Repository {
    full_name: String,
}

/// What to do about one webhook delivery from GitHub, by its `X-GitHub-Event`.
pub enum Webhook {
    /// GitHub's test delivery when the webhook is added.
    Ping,
    /// An issue of this repository closed.
    Closed { repository: String, number: u64 },
    /// Anything else: acknowledged, nothing done.
    Ignored(String),
}

/// Reads a webhook delivery.
pub fn webhook(event: Option<&str>, body: &[u8]) -> Result<Webhook, Error> {
    match event {
        Some("ping") => Ok(Webhook::Ping),
        Some("issues") => {
            let issues: IssuesEvent = serde_json::from_slice(body)
                .map_err(|e| Error::Invalid(format!("not an issues event: {e}")))?;
            Ok(match issues.action.as_str() {
                "closed" => Webhook::Closed {
                    repository: issues.repository.full_name,
                    number: issues.issue.number,
                },
                other => Webhook::Ignored(format!("issues.{other}")),
            })
        }
        other => Ok(Webhook::Ignored(other.unwrap_or("no X-GitHub-Event").to_owned())),
    }
}

struct GithubIssues;

impl Plugin for GithubIssues {
    fn on_event(event: Event) -> Result<(), Error> {
        if event.kind != "task.created" && event.kind != "task.updated" {
            return Ok(());
        }
        let task: TaskPayload = event.payload()?;
        let label = config::get("label")
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| "github".into());
        if !task.labels.contains(&label) {
            return Ok(());
        }
        let key = format!("issue:{}", task.id);
        if let Some(number) = kv::get_json::<u64>(&key)? {
            log::debug(&format!("task {} already has issue #{number}", task.id));
            return Ok(());
        }
        let repository = repository(&config::require("repository")?)?;
        let api = config::get("api_url")
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "https://api.github.com".into());
        let body = serde_json::to_vec(&issue_body(&task.id, &task.title, &task.description))?;
        let answer = connections::send(
            "github",
            Method::Post,
            &format!("{}/repos/{repository}/issues", api.trim_end_matches('/')),
            &[
                ("accept", "application/vnd.github+json"),
                ("x-github-api-version", API_VERSION),
                ("content-type", "application/json"),
                ("user-agent", "bazaar-github-issues"),
            ],
            Some(body),
        )?;
        let number = created(answer.status, &answer.headers, &answer.body, &repository)?;
        kv::set_json(&key, &number)?;
        kv::set(&format!("task:{repository}#{number}"), task.id.as_bytes())?;
        log::info(&format!("opened {repository}#{number} for task {}", task.id));
        Ok(())
    }

    fn on_request(request: Inbound) -> Result<Answer, Error> {
        let repository = repository(&config::require("repository")?)?;
        match webhook(triggers::header(&request, "x-github-event"), &request.body)? {
            Webhook::Ping => Ok(triggers::text(200, "pong")),
            Webhook::Ignored(what) => Ok(triggers::text(202, &format!("nothing to do for {what}"))),
            Webhook::Closed {
                repository: from,
                number,
            } if from.eq_ignore_ascii_case(&repository) => {
                let Some(task) = kv::get(&format!("task:{repository}#{number}"))? else {
                    return Ok(triggers::text(
                        202,
                        &format!("{repository}#{number} is no task's issue"),
                    ));
                };
                let task = String::from_utf8_lossy(&task).into_owned();
                match tasks::complete(&task) {
                    Ok(_) => {
                        log::info(&format!("{repository}#{number} closed: task {task} completed"));
                        Ok(triggers::json(200, &serde_json::json!({ "completed": task })))
                    }
                    Err(Error::NotFound(_)) => {
                        Ok(triggers::text(202, &format!("task {task} no longer exists")))
                    }
                    Err(e) => Err(e),
                }
            }
            Webhook::Closed { repository: from, .. } => Ok(triggers::text(
                202,
                &format!("{from} is not the repository this app watches"),
            )),
        }
    }
}

bazaar_sdk::export_plugin!(GithubIssues);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_answers_become_the_right_outcome() {
        let h = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(created(201, &[], br#"{"number": 12}"#, "a/b").ok(), Some(12));
        assert!(
            matches!(created(429, &h(&[("Retry-After", "3")]), b"{}", "a/b"), Err(Error::Unavailable(m)) if m.contains('3'))
        );
        assert!(matches!(
            created(403, &h(&[("x-ratelimit-remaining", "0")]), b"{}", "a/b"),
            Err(Error::Unavailable(_))
        ));
        assert!(
            matches!(created(403, &[], br#"{"message":"Resource not accessible"}"#, "a/b"), Err(Error::Forbidden(m)) if m.contains("Resource not accessible"))
        );
        assert!(
            matches!(created(401, &[], b"{}", "a/b"), Err(Error::Forbidden(m)) if m.contains("connect GitHub again"))
        );
        assert!(matches!(
            created(502, &[], b"", "a/b"),
            Err(Error::Unavailable(_))
        ));
        assert!(matches!(
            created(422, &[], br#"{"message":"Validation Failed"}"#, "a/b"),
            Err(Error::Invalid(_))
        ));
    }

    #[test]
    fn the_repository_is_owner_slash_name_and_nothing_else() {
        assert_eq!(repository("acme/web").ok().as_deref(), Some("acme/web"));
        for bad in [
            "acme",
            "acme/web/../../x",
            "acme/..",
            "acme/",
            "/web",
            "acme/we b",
            "acme/web?x=1",
        ] {
            assert!(repository(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn webhooks_are_read_by_their_event_header() {
        let closed = br#"{"action":"closed","issue":{"number":4},"repository":{"full_name":"acme/web"}}"#;
        assert!(matches!(
            webhook(Some("issues"), closed),
            Ok(Webhook::Closed { number: 4, .. })
        ));
        let opened = br#"{"action":"opened","issue":{"number":4},"repository":{"full_name":"acme/web"}}"#;
        assert!(matches!(webhook(Some("issues"), opened), Ok(Webhook::Ignored(w)) if w == "issues.opened"));
        assert!(matches!(webhook(Some("ping"), b"{}"), Ok(Webhook::Ping)));
        assert!(matches!(webhook(Some("push"), b"{}"), Ok(Webhook::Ignored(_))));
        assert!(webhook(Some("issues"), b"not json").is_err());
    }

    #[test]
    fn the_issue_links_back_to_its_task() {
        let body = issue_body("tsk_1", "Fix login", "It fails on Safari");
        assert_eq!(body["title"], "Fix login");
        assert!(
            body["body"]
                .as_str()
                .unwrap()
                .starts_with("It fails on Safari\n\n")
        );
        assert!(body["body"].as_str().unwrap().contains("`tsk_1`"));
    }
}
