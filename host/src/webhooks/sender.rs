//! Sends one signed webhook attempt and classifies how it went.
//!
//! The request goes through the public-only client of [`super::address`] (no redirects, a
//! connect timeout, a total timeout), and only the first KB of the answer is read and kept.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::address::{self, is_public, is_refused_address};
use super::signing;

/// How much of a receiver's answer the delivery log keeps.
pub const RESPONSE_EXCERPT_BYTES: usize = 1024;

/// One webhook to send.
pub struct Outgoing<'a> {
    pub url: &'a str,
    /// The event id: `webhook-id`, the same on every retry.
    pub id: &'a str,
    pub body: &'a [u8],
    /// Signing secrets, current first (two during a rotation's grace period).
    pub secrets: &'a [String],
}

/// How a webhook attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookOutcome {
    /// A 2xx answer.
    Ok,
    /// Any other status except 410.
    HttpError,
    /// 410 Gone: the receiver asks to stop; the subscription is disabled.
    Gone,
    Timeout,
    /// The connection could not be made (refused, reset, TLS failure).
    ConnectError,
    /// The URL resolves to a loopback, private, link-local or other non-public address.
    AddressRefused,
    /// The URL cannot be used at all.
    InvalidUrl,
}

impl WebhookOutcome {
    pub fn class(self) -> &'static str {
        match self {
            WebhookOutcome::Ok => "ok",
            WebhookOutcome::HttpError => "http_error",
            WebhookOutcome::Gone => "gone",
            WebhookOutcome::Timeout => "timeout",
            WebhookOutcome::ConnectError => "connect_error",
            WebhookOutcome::AddressRefused => "address_refused",
            WebhookOutcome::InvalidUrl => "invalid_url",
        }
    }

    /// Whether a later attempt may succeed. A refused address stays refused: retrying would
    /// only probe the private network again.
    pub fn retryable(self) -> bool {
        matches!(
            self,
            WebhookOutcome::HttpError | WebhookOutcome::Timeout | WebhookOutcome::ConnectError
        )
    }
}

/// What one attempt produced, for the delivery log.
#[derive(Debug, Clone)]
pub struct Sent {
    pub outcome: WebhookOutcome,
    pub status: Option<u16>,
    /// The first KB of the response body (lossy UTF-8).
    pub excerpt: String,
    pub message: String,
    /// The receiver's `Retry-After`, if it sent one.
    pub retry_after: Option<Duration>,
    pub duration: Duration,
}

/// Sends `outgoing`, signed at the current time.
pub async fn send(outgoing: &Outgoing<'_>, timeout: Duration, allow_private: bool) -> Sent {
    let started = Instant::now();
    let failed = |outcome, message: String| Sent {
        outcome,
        status: None,
        excerpt: String::new(),
        message,
        retry_after: None,
        duration: started.elapsed(),
    };
    let url = match reqwest::Url::parse(outgoing.url) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => url,
        Ok(url) => {
            return failed(
                WebhookOutcome::InvalidUrl,
                format!("{} is not http(s)", url.scheme()),
            );
        }
        Err(e) => return failed(WebhookOutcome::InvalidUrl, format!("not a URL: {e}")),
    };
    // IP literals never reach the resolver: check them here.
    let literal = match url.host() {
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        _ => None,
    };
    if let Some(ip) = literal
        && !allow_private
        && !is_public(ip)
    {
        return failed(
            WebhookOutcome::AddressRefused,
            format!("{ip} is not a public address"),
        );
    }
    let Some(client) = address::client(allow_private) else {
        return failed(
            WebhookOutcome::ConnectError,
            "the HTTP client could not start".into(),
        );
    };
    let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let secrets: Vec<&str> = outgoing.secrets.iter().map(String::as_str).collect();
    let signature = match signing::sign(&secrets, outgoing.id, timestamp, outgoing.body) {
        Ok(signature) => signature,
        Err(e) => return failed(WebhookOutcome::InvalidUrl, e.to_string()),
    };
    let request = client
        .post(url)
        .timeout(timeout)
        .header("content-type", "application/json")
        .header("webhook-id", outgoing.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(outgoing.body.to_vec());
    let mut response = match request.send().await {
        Ok(response) => response,
        Err(e) if is_refused_address(&e) => {
            return failed(WebhookOutcome::AddressRefused, root_cause(&e));
        }
        Err(e) if e.is_timeout() => {
            return failed(
                WebhookOutcome::Timeout,
                format!("no answer within {} ms", timeout.as_millis()),
            );
        }
        Err(e) => return failed(WebhookOutcome::ConnectError, root_cause(&e)),
    };
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    let mut excerpt = Vec::new();
    while excerpt.len() < RESPONSE_EXCERPT_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
            _ => break,
        }
    }
    excerpt.truncate(RESPONSE_EXCERPT_BYTES);
    let outcome = if status.is_success() {
        WebhookOutcome::Ok
    } else if status == reqwest::StatusCode::GONE {
        WebhookOutcome::Gone
    } else {
        WebhookOutcome::HttpError
    };
    Sent {
        outcome,
        status: Some(status.as_u16()),
        excerpt: String::from_utf8_lossy(&excerpt).into_owned(),
        message: format!("the receiver answered {status}"),
        retry_after,
        duration: started.elapsed(),
    }
}

/// `Retry-After` as seconds or as an HTTP date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let date = time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    let wait = date - time::OffsetDateTime::now_utc();
    Some(Duration::from_secs(wait.whole_seconds().max(0) as u64))
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        let soon = time::OffsetDateTime::now_utc() + time::Duration::seconds(90);
        let date = soon
            .format(&time::format_description::well_known::Rfc2822)
            .unwrap();
        let parsed = parse_retry_after(&date).unwrap();
        assert!((85..=90).contains(&parsed.as_secs()), "{parsed:?}");
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[tokio::test]
    async fn private_literals_are_refused_before_any_connection() {
        let secrets = [signing::new_secret()];
        for url in [
            "http://127.0.0.1:9/",
            "http://169.254.169.254/latest",
            "http://[::1]/",
        ] {
            let outgoing = Outgoing {
                url,
                id: "evt_1",
                body: b"{}",
                secrets: &secrets,
            };
            let sent = send(&outgoing, Duration::from_secs(1), false).await;
            assert_eq!(sent.outcome, WebhookOutcome::AddressRefused, "{url}");
            assert!(!sent.outcome.retryable());
        }
    }
}
