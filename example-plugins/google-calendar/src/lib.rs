//! Puts each task's due date in Google Calendar as an all-day event, through Google's Calendar
//! API v3 and the tenant's Google connection. The event's id is derived from the task's (Google
//! lets a client choose it), so creating is idempotent: a retried delivery finds `409` and the
//! plugin moves the existing event instead (`PATCH`).

use bazaar_sdk::http::Method;
use bazaar_sdk::{Error, Event, Plugin, config, connections, log};
use serde::Deserialize;

#[derive(Deserialize)]
struct TaskPayload {
    id: String,
    title: String,
    #[serde(default)]
    due_date: Option<String>,
}

/// Google's event ids are 5 to 1024 characters of base32hex (`0-9`, `a-v`): the task id's bytes
/// in base32hex, after the prefix `task`.
pub fn event_id(task_id: &str) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";
    let mut out = String::from("task");
    let (mut buffer, mut bits) = (0u32, 0u32);
    for byte in task_id.bytes() {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The day after `date` (`YYYY-MM-DD`): an all-day event's exclusive end.
pub fn next_day(date: &str) -> Result<String, Error> {
    let bad = || Error::Invalid(format!("`{date}` is not a date (YYYY-MM-DD)"));
    let mut parts = date.splitn(3, '-').map(|p| p.parse::<u32>().map_err(|_| bad()));
    let (y, m, d) = (
        parts.next().ok_or_else(bad)??,
        parts.next().ok_or_else(bad)??,
        parts.next().ok_or_else(bad)??,
    );
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if d == 0 || d > days {
        return Err(bad());
    }
    Ok(match (d == days, m == 12) {
        (false, _) => format!("{y:04}-{m:02}-{:02}", d + 1),
        (true, false) => format!("{y:04}-{:02}-01", m + 1),
        (true, true) => format!("{:04}-01-01", y + 1),
    })
}

/// The event resource for a task due on `date`.
pub fn event(task_id: &str, title: &str, date: &str) -> Result<serde_json::Value, Error> {
    Ok(serde_json::json!({
        "id": event_id(task_id),
        "summary": format!("Due: {title}"),
        "description": format!("Task {task_id}, from Bazaar."),
        "start": { "date": date },
        "end": { "date": next_day(date)? },
        "transparency": "transparent",
    }))
}

/// What Google's answer means. Rate limits come as `429`, or `403` with reason
/// `rateLimitExceeded` / `userRateLimitExceeded`; they and 5xx pass (retried). `401` is final
/// until the tenant connects again.
pub fn outcome(status: u16, body: &[u8]) -> Result<(), Error> {
    let answer: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let reason = answer["error"]["errors"][0]["reason"]
        .as_str()
        .unwrap_or_default();
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    match status {
        200..=299 => Ok(()),
        429 => Err(Error::Unavailable("Google's rate limit: retried later".into())),
        403 if reason.ends_with("ateLimitExceeded") => {
            Err(Error::Unavailable(format!("Google's rate limit ({reason})")))
        }
        401 => Err(Error::Forbidden(
            "Google refused the connected account (401): connect Google again on the app's page".into(),
        )),
        500..=599 => Err(Error::Unavailable(format!("Google answered {status}"))),
        _ => Err(Error::Invalid(format!(
            "Google refused the event ({status}): {message}"
        ))),
    }
}

fn calendar_url() -> String {
    let api = config::get("api_url")
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "https://www.googleapis.com".into());
    let calendar = config::get("calendar_id")
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "primary".into());
    let calendar: String = calendar
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect();
    format!(
        "{}/calendar/v3/calendars/{calendar}/events",
        api.trim_end_matches('/')
    )
}

struct GoogleCalendar;

impl Plugin for GoogleCalendar {
    fn on_event(event: Event) -> Result<(), Error> {
        if event.kind != "task.created" && event.kind != "task.updated" {
            return Ok(());
        }
        let task: TaskPayload = event.payload()?;
        let Some(date) = task.due_date.as_deref().filter(|d| !d.is_empty()) else {
            return Ok(());
        };
        let body = self::event(&task.id, &task.title, date)?;
        let json = [("content-type", "application/json")];
        let created = connections::send(
            "google",
            Method::Post,
            &calendar_url(),
            &json,
            Some(serde_json::to_vec(&body)?),
        )?;
        if created.status == 409 {
            // Made before (a retry, or a due date that moved): move it.
            let url = format!("{}/{}", calendar_url(), event_id(&task.id));
            let moved = connections::send(
                "google",
                Method::Patch,
                &url,
                &json,
                Some(serde_json::to_vec(&body)?),
            )?;
            outcome(moved.status, &moved.body)?;
            log::info(&format!("moved the event of task {} to {date}", task.id));
            return Ok(());
        }
        outcome(created.status, &created.body)?;
        log::info(&format!("task {} is in the calendar on {date}", task.id));
        Ok(())
    }
}

bazaar_sdk::export_plugin!(GoogleCalendar);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_base32hex_and_stable() {
        let id = event_id("tsk_01j9abc");
        assert!(
            id.len() >= 5 && id.chars().all(|c| c.is_ascii_digit() || ('a'..='v').contains(&c)),
            "{id}"
        );
        assert_eq!(id, event_id("tsk_01j9abc"));
        assert_ne!(id, event_id("tsk_01j9abd"));
    }

    #[test]
    fn all_day_events_end_the_next_day() {
        assert_eq!(next_day("2026-12-31").ok().as_deref(), Some("2027-01-01"));
        assert_eq!(next_day("2028-02-28").ok().as_deref(), Some("2028-02-29"));
        assert_eq!(next_day("2026-02-28").ok().as_deref(), Some("2026-03-01"));
        assert_eq!(next_day("2026-04-30").ok().as_deref(), Some("2026-05-01"));
        assert!(next_day("2026-02-30").is_err() && next_day("soon").is_err());
    }

    #[test]
    fn answers_are_classified() {
        let limited =
            br#"{"error":{"errors":[{"reason":"rateLimitExceeded"}],"message":"Rate Limit Exceeded"}}"#;
        assert!(matches!(outcome(403, limited), Err(Error::Unavailable(_))));
        let denied = br#"{"error":{"errors":[{"reason":"forbidden"}],"message":"Forbidden"}}"#;
        assert!(matches!(outcome(403, denied), Err(Error::Invalid(_))));
        assert!(matches!(outcome(401, b""), Err(Error::Forbidden(_))));
        assert!(outcome(200, b"{}").is_ok());
    }
}
