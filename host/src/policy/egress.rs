//! Where outbound requests may go, decided once for every egress: a plugin's `http` calls
//! (the hosts its manifest declares) and Bazaar's own webhooks and REST hooks. Only public
//! addresses, unless a development switch allows private ones; the network side
//! (`crate::webhooks::address`) applies [`is_public`] again after every DNS resolution.

use std::net::{IpAddr, Ipv4Addr};

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

/// Why a plugin's request may not be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EgressRefusal {
    /// Not a URL a request can go to.
    #[error("{0}")]
    Invalid(String),
    /// A scheme, host or address the policy does not allow.
    #[error("{0}")]
    Forbidden(String),
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

    /// Whether private addresses are allowed (local development only).
    pub fn allows_private(&self) -> bool {
        self.allow_private
    }

    /// Checks a URL against the policy before anything is sent.
    pub fn check(&self, url: &str) -> Result<reqwest::Url, EgressRefusal> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| EgressRefusal::Invalid(format!("`{url}` is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(EgressRefusal::Forbidden(format!(
                "only http and https URLs are allowed, not {}",
                parsed.scheme()
            )));
        }
        let host = match parsed.host() {
            Some(url::Host::Domain(d)) => d.to_owned(),
            Some(url::Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip))?,
            Some(url::Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip))?,
            None => return Err(EgressRefusal::Invalid(format!("`{url}` has no host"))),
        };
        if !host_allowed(&host, &self.allowed_hosts) {
            return Err(EgressRefusal::Forbidden(format!(
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

    fn check_ip(&self, ip: IpAddr) -> Result<String, EgressRefusal> {
        if !self.allow_private && !is_public(ip) {
            return Err(EgressRefusal::Forbidden(format!("{ip} is not a public address")));
        }
        Ok(ip.to_string())
    }
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
            Err(EgressRefusal::Forbidden(_))
        ));
        assert!(matches!(
            policy.check("http://169.254.169.254/latest/meta-data"),
            Err(EgressRefusal::Forbidden(_))
        ));
        assert!(matches!(
            policy.check("http://other.example.org/"),
            Err(EgressRefusal::Forbidden(_))
        ));
        let dev = HttpPolicy::new(vec!["127.0.0.1".into()], true);
        assert!(dev.check("http://127.0.0.1:8080/").is_ok());
    }

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
}
