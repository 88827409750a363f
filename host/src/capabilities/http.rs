//! `bazaar:platform/http` (scope `network`): outbound requests to the hosts the manifest
//! declares, never to private networks.
//!
//! A URL must be `http` or `https` and its host must match a declared host exactly, or be a
//! subdomain of a `*.example.com` entry. Names are resolved by our own resolver, which drops
//! loopback, private, link-local (cloud metadata), CGNAT and other non-public addresses on every
//! request, so DNS rebinding cannot reach them either. Redirects are not followed; time,
//! request count and response size are capped.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::platform::Scope;
use crate::runtime::bindings::Error;
use crate::runtime::bindings::bazaar::platform::http::{Host, Method, Request, Response};
use crate::runtime::state::PluginState;

/// True for addresses on the public internet; false for every range a plugin must not reach.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            let nat64 = s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0];
            if nat64 {
                let [a, b] = s[6].to_be_bytes();
                let [c, d] = s[7].to_be_bytes();
                return is_public_v4(Ipv4Addr::new(a, b, c, d));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] == 0x2001 && s[1] == 0x0db8)) // documentation
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254/16, cloud metadata
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // CGNAT
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240)
}

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

/// Resolves names and keeps only public addresses (unless private ones are allowed).
struct PublicOnlyResolver {
    allow_private: bool,
}

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

fn client(allow_private: bool) -> Result<reqwest::Client, Error> {
    static PUBLIC: OnceLock<Option<reqwest::Client>> = OnceLock::new();
    static PRIVATE: OnceLock<Option<reqwest::Client>> = OnceLock::new();
    let cell = if allow_private { &PRIVATE } else { &PUBLIC };
    cell.get_or_init(|| {
        reqwest::Client::builder()
            .dns_resolver(Arc::new(PublicOnlyResolver { allow_private }))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("Bazaar/", env!("CARGO_PKG_VERSION")))
            .build()
            .ok()
    })
    .clone()
    .ok_or_else(|| Error::Internal("the HTTP client could not start".into()))
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
    async fn send(&mut self, request: Request) -> wasmtime::Result<Result<Response, Error>> {
        if let Err(e) = self.enter(Some(Scope::Network)) {
            return Ok(Err(e));
        }
        self.http_requests += 1;
        if self.http_requests > self.limits.max_http_requests {
            return Ok(Err(Error::LimitExceeded(format!(
                "more than {} HTTP requests in one invocation",
                self.limits.max_http_requests
            ))));
        }
        Ok(send(
            &self.http,
            request,
            self.limits.max_http_response_bytes,
            self.limits.timeout_ms,
        )
        .await)
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
    let mut builder = client(policy.allow_private)?
        .request(method, url)
        .timeout(Duration::from_millis(timeout_ms));
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    if let Some(body) = request.body {
        builder = builder.body(body);
    }
    let mut response = builder.send().await.map_err(|e| {
        if e.is_timeout() {
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
    fn private_and_special_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "224.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} must be refused");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip} is public");
        }
    }

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
