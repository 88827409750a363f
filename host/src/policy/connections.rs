//! A manifest's `connections`: accounts or keys a tenant connects so that a plugin can call a
//! vendor's API as them, through the host, without ever holding the credential.
//!
//! ```toml
//! [[connections]]
//! name = "github"
//! title = "Your GitHub account"
//! kind = "oauth2"
//! hosts = ["api.github.com"]
//! authorize_url = "https://github.com/login/oauth/authorize"
//! token_url = "https://github.com/login/oauth/access_token"
//! scopes = ["repo"]
//!
//! [[connections]]
//! name = "pagerduty"
//! title = "A PagerDuty API key"
//! kind = "api-key"
//! hosts = ["api.pagerduty.com"]
//! header = "Authorization"
//! prefix = "Token token="
//! ```

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::egress::host_allowed;

/// How the tenant connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectionKind {
    /// The tenant signs in at the vendor (OAuth 2.0 authorization code with PKCE); Bazaar is the
    /// OAuth client, keeps the tokens sealed and refreshes them.
    Oauth2,
    /// The tenant pastes a key, sent in one header.
    ApiKey,
}

/// One connection a plugin may use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionSpec {
    /// The name the plugin sends requests through: lowercase letters, digits and dashes.
    pub name: String,
    /// What the tenant connects, in words ("Your GitHub account").
    pub title: String,
    pub kind: ConnectionKind,
    /// The only hosts the credential is sent to; each must be within `allowed_hosts`.
    pub hosts: Vec<String>,
    /// `oauth2`: where the tenant's browser signs in.
    #[serde(default)]
    pub authorize_url: Option<String>,
    /// `oauth2`: where Bazaar exchanges the code and refreshes tokens.
    #[serde(default)]
    pub token_url: Option<String>,
    /// `oauth2`: the vendor's scopes to ask for.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// `oauth2`: more parameters of the vendor's sign-in URL (Google: `access_type = "offline"`
    /// and `prompt = "consent"` for a refresh token).
    #[serde(default)]
    pub authorize_params: std::collections::BTreeMap<String, String>,
    /// `api-key`: the header the key goes in (`Authorization`, `X-Postmark-Server-Token`).
    #[serde(default)]
    pub header: Option<String>,
    /// `api-key`: written before the key in the header (`Bearer `, `Token token=`).
    #[serde(default)]
    pub prefix: Option<String>,
}

impl ConnectionSpec {
    /// The header the credential goes in: `Authorization` for OAuth 2.0 tokens.
    pub fn header(&self) -> &str {
        match self.kind {
            ConnectionKind::Oauth2 => "Authorization",
            ConnectionKind::ApiKey => self.header.as_deref().unwrap_or("Authorization"),
        }
    }

    /// The header's value for `secret` (a token or a key).
    pub fn header_value(&self, secret: &str) -> String {
        match self.kind {
            ConnectionKind::Oauth2 => format!("Bearer {secret}"),
            ConnectionKind::ApiKey => format!("{}{secret}", self.prefix.as_deref().unwrap_or("")),
        }
    }

    /// Whether the credential may be sent to `host`.
    pub fn covers(&self, host: &str) -> bool {
        host_allowed(host, &self.hosts)
    }

    /// In words, for the consent page and the review.
    pub fn describe(&self) -> String {
        let how = match self.kind {
            ConnectionKind::Oauth2 => "you sign in and Bazaar keeps the token",
            ConnectionKind::ApiKey => "you enter a key and Bazaar keeps it",
        };
        format!(
            "{} ({how}; used only for {}; the app never sees it)",
            self.title,
            self.hosts.join(", ")
        )
    }
}

/// Problems of meaning in `connections`: each field and what is wrong with it.
pub fn validate(
    connections: &[ConnectionSpec],
    allowed_hosts: &[String],
    plugin: bool,
) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    let mut at =
        |i: usize, field: &str, message: String| errors.push((format!("connections[{i}].{field}"), message));
    for (i, c) in connections.iter().enumerate() {
        if !plugin {
            at(i, "name", "only plugins use connections".into());
        }
        let name_ok = (2..=40).contains(&c.name.len())
            && c.name.starts_with(|ch: char| ch.is_ascii_lowercase())
            && c.name
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-');
        if !name_ok {
            at(
                i,
                "name",
                "use 2 to 40 lowercase letters, digits and dashes, starting with a letter".into(),
            );
        }
        if connections[..i].iter().any(|other| other.name == c.name) {
            at(i, "name", format!("`{}` is declared twice", c.name));
        }
        let title = c.title.trim().chars().count();
        if !(1..=80).contains(&title) {
            at(i, "title", format!("must be 1 to 80 characters (it is {title})"));
        }
        if c.hosts.is_empty() {
            at(i, "hosts", "name at least one host the credential is for".into());
        }
        for host in &c.hosts {
            if !host_allowed(host.trim_start_matches("*."), allowed_hosts) && !allowed_hosts.contains(host) {
                at(i, "hosts", format!("`{host}` is not in allowed_hosts"));
            }
        }
        match c.kind {
            ConnectionKind::Oauth2 => {
                for (field, url) in [("authorize_url", &c.authorize_url), ("token_url", &c.token_url)] {
                    match url {
                        None => at(i, field, "an oauth2 connection needs it".into()),
                        Some(url) => {
                            if let Err(message) = check_endpoint(url) {
                                at(i, field, message);
                            }
                        }
                    }
                }
                if c.header.is_some() || c.prefix.is_some() {
                    at(
                        i,
                        "header",
                        "an oauth2 token is always sent as `Authorization: Bearer`".into(),
                    );
                }
                const OURS: [&str; 7] = [
                    "response_type",
                    "client_id",
                    "redirect_uri",
                    "scope",
                    "state",
                    "code_challenge",
                    "code_challenge_method",
                ];
                for key in c.authorize_params.keys().filter(|k| OURS.contains(&k.as_str())) {
                    at(i, "authorize_params", format!("`{key}` is set by Bazaar"));
                }
            }
            ConnectionKind::ApiKey => {
                let oauth_only = c.authorize_url.is_some()
                    || c.token_url.is_some()
                    || !c.scopes.is_empty()
                    || !c.authorize_params.is_empty();
                if oauth_only {
                    at(
                        i,
                        "kind",
                        "authorize_url, token_url, scopes and authorize_params belong to oauth2 connections"
                            .into(),
                    );
                }
                let header = c.header.as_deref().unwrap_or("Authorization");
                let token = !header.is_empty()
                    && header
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
                if !token
                    || matches!(
                        header.to_ascii_lowercase().as_str(),
                        "host" | "content-length" | "cookie"
                    )
                {
                    at(i, "header", format!("`{header}` cannot carry a key"));
                }
                if c.prefix
                    .as_deref()
                    .is_some_and(|p| p.chars().any(char::is_control))
                {
                    at(i, "prefix", "no control characters".into());
                }
            }
        }
    }
    errors
}

/// An OAuth endpoint: `https://`, or `http://` on a loopback address for local development.
fn check_endpoint(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err("must be an https:// URL".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn github() -> ConnectionSpec {
        ConnectionSpec {
            name: "github".into(),
            title: "Your GitHub account".into(),
            kind: ConnectionKind::Oauth2,
            hosts: vec!["api.github.com".into()],
            authorize_url: Some("https://github.com/login/oauth/authorize".into()),
            token_url: Some("https://github.com/login/oauth/access_token".into()),
            scopes: vec!["repo".into()],
            authorize_params: Default::default(),
            header: None,
            prefix: None,
        }
    }

    #[test]
    fn a_sound_connection_passes_and_its_credential_goes_only_to_its_hosts() {
        let hosts = vec!["api.github.com".to_owned()];
        assert!(validate(&[github()], &hosts, true).is_empty());
        let c = github();
        assert!(c.covers("api.github.com") && !c.covers("evil.example.com") && !c.covers("github.com"));
        assert_eq!(c.header_value("t0k"), "Bearer t0k");
        let key = ConnectionSpec {
            kind: ConnectionKind::ApiKey,
            authorize_url: None,
            token_url: None,
            scopes: vec![],
            header: Some("X-Postmark-Server-Token".into()),
            ..github()
        };
        assert_eq!(
            (key.header(), key.header_value("k").as_str()),
            ("X-Postmark-Server-Token", "k")
        );
    }

    #[test]
    fn unsound_connections_are_refused_field_by_field() {
        let mut outside = github();
        outside.hosts = vec!["evil.example.com".into()];
        let mut plain_http = github();
        plain_http.name = "second".into();
        plain_http.token_url = Some("http://github.com/token".into());
        let mut cookie = github();
        cookie.name = "third".into();
        cookie.kind = ConnectionKind::ApiKey;
        cookie.authorize_url = None;
        cookie.token_url = None;
        cookie.scopes = vec![];
        cookie.header = Some("Cookie".into());
        let errors = validate(
            &[outside, plain_http, cookie, github()],
            &["api.github.com".into()],
            true,
        );
        let fields: Vec<_> = errors.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "connections[0].hosts",
                "connections[1].token_url",
                "connections[2].header",
                "connections[3].name"
            ],
            "{errors:?}"
        );
        assert!(
            !validate(&[github()], &["api.github.com".into()], false).is_empty(),
            "external apps have none"
        );
    }
}
