//! Reaching only the addresses [`crate::policy::egress`] allows (plugins' `http` capability,
//! webhooks, REST hooks): public ones, checked after DNS resolution on every request, so a name
//! that later resolves to loopback or cloud metadata (DNS rebinding) is refused too.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

pub use crate::policy::egress::is_public;

/// A name that resolves only to addresses outbound requests must not reach.
#[derive(Debug, thiserror::Error)]
#[error("{0} resolves to no public address")]
pub struct NoPublicAddress(pub String);

/// Whether a request error comes from [`NoPublicAddress`] (or a refused IP literal).
pub fn is_refused_address(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if e.is::<NoPublicAddress>() {
            return true;
        }
        cause = e.source();
    }
    false
}

/// Checks a webhook or REST hook target before it is stored or called: an absolute http(s)
/// URL without credentials, whose host (an IP literal, or every address its name resolves to)
/// is public unless `allow_private`.
pub async fn check_target(url: &str, allow_private: bool) -> Result<reqwest::Url, TargetRefusal> {
    let invalid = |m: String| Err(TargetRefusal::Invalid(m));
    let parsed = match reqwest::Url::parse(url) {
        Ok(parsed) => parsed,
        Err(e) => return invalid(format!("`{url}` is not an absolute URL: {e}")),
    };
    if !matches!(parsed.scheme(), "http" | "https") {
        return invalid(format!(
            "only http and https URLs are allowed, not {}",
            parsed.scheme()
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return invalid("the URL must not carry credentials".into());
    }
    if allow_private {
        return Ok(parsed);
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(url::Host::Domain(name)) => tokio::net::lookup_host((name, port))
            .await
            .map_err(|e| TargetRefusal::Unresolved(format!("{name} cannot be resolved: {e}")))?
            .collect(),
        None => return invalid(format!("`{url}` has no host")),
    };
    match addrs.iter().find(|a| !is_public(a.ip())) {
        Some(private) => Err(TargetRefusal::Private(format!(
            "{} resolves to {}, which is not a public address",
            parsed.host_str().unwrap_or_default(),
            private.ip()
        ))),
        None if addrs.is_empty() => Err(TargetRefusal::Unresolved(
            "the host resolves to no address".into(),
        )),
        None => Ok(parsed),
    }
}

/// Why a webhook target is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetRefusal {
    /// Not an http(s) URL Bazaar could call.
    #[error("{0}")]
    Invalid(String),
    /// It reaches a loopback, private, link-local (metadata) or other non-public address.
    #[error("{0}")]
    Private(String),
    /// Its name does not resolve now (it may later; each attempt checks again).
    #[error("{0}")]
    Unresolved(String),
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
                return Err(Box::new(NoPublicAddress(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The shared outbound client: public addresses only (unless `allow_private`), no redirects,
/// a connect timeout; callers set their own total timeout per request.
pub fn client(allow_private: bool) -> Option<reqwest::Client> {
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
}
