//! `bazaar:platform/http` (scope `network`): outbound requests to the hosts the manifest
//! declares, never to private networks.
//!
//! The URL is checked against [`HttpPolicy`] (the declared hosts, public addresses only) before
//! anything is sent; names are resolved by the public-only resolver on every request, so DNS
//! rebinding cannot reach private addresses either. Redirects are not followed; time, request
//! count and response size are capped.

use std::time::Duration;

use super::{HostResult, answer};
use crate::policy::Interface;
use crate::policy::egress::{EgressRefusal, HttpPolicy};
use crate::runtime::bindings::Error;
use crate::runtime::bindings::platform::http::{Host, Method, Request, Response};
use crate::runtime::state::PluginState;
use crate::webhooks::address;

impl Host for PluginState {
    #[tracing::instrument(name = "host_call", skip_all, parent = self.guest_spans.parent(), fields(interface = "http", function = "send", outcome = tracing::field::Empty))]
    async fn send(&mut self, request: Request) -> HostResult<Response> {
        answer(
            async {
                self.enter(Interface::Http)?;
                self.count_http_request()?;
                let sent = self
                    .taped(Interface::Http, "send", async |s| {
                        let limits = s.limits;
                        send(
                            &s.http,
                            request,
                            limits.max_http_response_bytes,
                            limits.timeout_ms,
                        )
                        .await
                    })
                    .await;
                self.note_retry_after(&sent);
                sent
            }
            .await,
        )
    }
}

impl PluginState {
    /// Remembers the longest `Retry-After` of a `429` or `503` answer this call received: a
    /// delivery the plugin leaves to be retried waits at least that long.
    pub(super) fn note_retry_after(&mut self, sent: &Result<Response, Error>) {
        let Ok(response) = sent else { return };
        if response.status != 429 && response.status != 503 {
            return;
        }
        if let Some(wait) = response
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("retry-after"))
            .and_then(|(_, value)| crate::webhooks::sender::parse_retry_after(value))
        {
            self.retry_after = Some(self.retry_after.map_or(wait, |known| known.max(wait)));
        }
    }

    /// Counts one outbound request (`http` and `connections` together) against the limit.
    pub(super) fn count_http_request(&mut self) -> Result<(), Error> {
        self.http_requests += 1;
        if self.http_requests > self.limits.max_http_requests {
            return Err(self.limit_hit(format!(
                "more than {} HTTP requests in one invocation",
                self.limits.max_http_requests
            )));
        }
        Ok(())
    }
}

/// Sends `request` under the egress `policy`, with the response capped at `max_body` bytes.
pub(super) async fn send(
    policy: &HttpPolicy,
    request: Request,
    max_body: usize,
    timeout_ms: u64,
) -> Result<Response, Error> {
    let url = policy.check(&request.url).map_err(|refusal| match refusal {
        EgressRefusal::Invalid(m) => Error::Invalid(m),
        EgressRefusal::Forbidden(m) => Error::Forbidden(m),
    })?;
    let method = match request.method {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
    };
    let mut builder = address::client(policy.allows_private())
        .ok_or_else(|| Error::Internal("the HTTP client could not start".into()))?
        .request(method, url)
        .timeout(Duration::from_millis(timeout_ms));
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    if let Some(body) = request.body {
        builder = builder.body(body);
    }
    let mut response = builder.send().await.map_err(|e| {
        // A declared name that resolves only to private addresses is refused egress, the same
        // as a literal private address: `forbidden`, final, not a retry.
        if address::is_refused_address(&e) {
            Error::Forbidden(root_cause(&e))
        } else if e.is_timeout() {
            Error::Unavailable(format!("the request timed out: {e}"))
        } else if e.is_connect() {
            Error::Unavailable(format!("could not connect: {}", root_cause(&e)))
        } else {
            Error::Invalid(format!("the request failed: {}", root_cause(&e)))
        }
    })?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Error::Unavailable(format!("reading the response: {e}")))?
    {
        if body.len() + chunk.len() > max_body {
            return Err(Error::LimitExceeded(format!(
                "the response body is larger than {max_body} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
