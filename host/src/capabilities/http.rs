//! `bazaar:platform/http` (scope `network`): outbound requests to the hosts the manifest
//! declares, never to private networks.
//!
//! A URL must be `http` or `https` and its host must match a declared host exactly, or be a
//! subdomain of a `*.example.com` entry. Names are resolved by our own resolver, which drops
//! loopback, private, link-local (cloud metadata), CGNAT and other non-public addresses on every
//! request, so DNS rebinding cannot reach them either. Redirects are not followed; time,
//! request count and response size are capped.

use std::net::IpAddr;
use std::time::Duration;

use super::answer;
use crate::policy::Interface;
use crate::runtime::bindings::Error;
use crate::runtime::bindings::bazaar::platform::http::{Host, Method, Request, Response};
use crate::runtime::state::PluginState;
use crate::webhooks::address::{self, is_public};

/// Whether `host` is one the manifest declares.
pub fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    allowed.iter().any(|pattern| {
        let pattern = pattern.to_ascii_lowercase();
        match pattern.strip_prefix("*.") {
            Some(suffix) => host.len() > suffix.len() && host.ends_with(&format!(".{suffix}")),
            None => host == pattern,
        }
    })
}

/// Which hosts an installation may call.
#[derive(Debug, Clone)]
pub struct HttpPolicy {
    allowed_hosts: Vec<String>,
    allow_private: bool,
}

impl HttpPolicy {
    pub fn new(allowed_hosts: Vec<String>, allow_private: bool) -> Self {
        HttpPolicy {
            allowed_hosts,
            allow_private,
        }
    }

    /// Checks a URL against the policy before anything is sent.
    pub fn check(&self, url: &str) -> Result<reqwest::Url, Error> {
        let parsed =
            reqwest::Url::parse(url).map_err(|e| Error::Invalid(format!("`{url}` is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::Forbidden(format!(
                "only http and https URLs are allowed, not {}",
                parsed.scheme()
            )));
        }
        let host = match parsed.host() {
            Some(url::Host::Domain(d)) => d.to_owned(),
            Some(url::Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip))?,
            Some(url::Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip))?,
            None => return Err(Error::Invalid(format!("`{url}` has no host"))),
        };
        if !host_allowed(&host, &self.allowed_hosts) {
            return Err(Error::Forbidden(format!(
                "{host} is not among the hosts the app's manifest declares ({})",
                if self.allowed_hosts.is_empty() {
                    "none".to_owned()
                } else {
                    self.allowed_hosts.join(", ")
                }
            )));
        }
        Ok(parsed)
    }

    fn check_ip(&self, ip: IpAddr) -> Result<String, Error> {
        if !self.allow_private && !is_public(ip) {
            return Err(Error::Forbidden(format!("{ip} is not a public address")));
        }
        Ok(ip.to_string())
    }
}

impl Host for PluginState {
    #[tracing::instrument(name = "host_call", skip_all, fields(interface = "http", function = "send", installation = %self.installation.id, outcome = tracing::field::Empty))]
    async fn send(&mut self, request: Request) -> wasmtime::Result<Result<Response, Error>> {
        if let Err(e) = self.enter(Interface::Http) {
            return answer(Err(e));
        }
        self.http_requests += 1;
        if self.http_requests > self.limits.max_http_requests {
            return answer(Err(self.limit_hit(format!(
                "more than {} HTTP requests in one invocation",
                self.limits.max_http_requests
            ))));
        }
        answer(
            send(
                &self.http,
                request,
                self.limits.max_http_response_bytes,
                self.limits.timeout_ms,
            )
            .await,
        )
    }
}

async fn send(
    policy: &HttpPolicy,
    request: Request,
    max_body: usize,
    timeout_ms: u64,
) -> Result<Response, Error> {
    let url = policy.check(&request.url)?;
    let method = match request.method {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
    };
    let mut builder = address::client(policy.allow_private)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_declared_hosts_and_their_wildcard_subdomains() {
        let allowed = vec!["hooks.slack.com".to_owned(), "*.example.com".to_owned()];
        assert!(host_allowed("hooks.slack.com", &allowed));
        assert!(host_allowed("HOOKS.slack.com.", &allowed));
        assert!(host_allowed("api.example.com", &allowed));
        assert!(
            !host_allowed("example.com", &allowed),
            "the wildcard covers subdomains only"
        );
        assert!(!host_allowed("evilexample.com", &allowed));
        assert!(!host_allowed("hooks.slack.com.evil.net", &allowed));
    }

    #[test]
    fn urls_are_checked_before_sending() {
        let policy = HttpPolicy::new(vec!["api.example.com".into()], false);
        assert!(policy.check("https://api.example.com/x").is_ok());
        assert!(matches!(
            policy.check("ftp://api.example.com/x"),
            Err(Error::Forbidden(_))
        ));
        assert!(matches!(
            policy.check("http://169.254.169.254/latest/meta-data"),
            Err(Error::Forbidden(_))
        ));
        assert!(matches!(
            policy.check("http://other.example.org/"),
            Err(Error::Forbidden(_))
        ));
        let dev = HttpPolicy::new(vec!["127.0.0.1".into()], true);
        assert!(dev.check("http://127.0.0.1:8080/").is_ok());
    }
}
