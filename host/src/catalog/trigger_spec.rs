//! A manifest's `triggers`: URLs where a tool calls the plugin back (GitHub's issue closed,
//! PagerDuty's incident resolved), each with how the host checks that the caller is that tool
//! before the plugin runs.
//!
//! ```toml
//! [[triggers]]
//! name = "github"
//! title = "GitHub issue events"
//! auth = "github"            # X-Hub-Signature-256: sha256=HMAC(secret, body)
//! ```

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How the host tells the real caller from anyone else, with the trigger's secret (made by
/// Bazaar per installation; the tenant pastes it into the tool's webhook settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TriggerAuth {
    /// GitHub webhooks: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`.
    Github,
    /// PagerDuty webhooks v3: `X-PagerDuty-Signature: v1=<hex HMAC-SHA256 of the body>` (one
    /// of several, comma-separated, while a secret rotates).
    Pagerduty,
    /// The secret itself in a header (`header`, `X-Bazaar-Secret` unless set), for tools that
    /// sign nothing.
    SharedSecret,
}

/// One inbound web trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerSpec {
    /// Its URL's last segment: lowercase letters, digits and dashes.
    pub name: String,
    /// What calls it, in words ("GitHub issue events").
    pub title: String,
    pub auth: TriggerAuth,
    /// `shared-secret`: the header carrying the secret.
    #[serde(default)]
    pub header: Option<String>,
}

impl TriggerSpec {
    /// The header a `shared-secret` trigger reads.
    pub fn secret_header(&self) -> String {
        self.header
            .clone()
            .unwrap_or_else(|| "x-bazaar-secret".into())
            .to_ascii_lowercase()
    }

    /// How the caller proves itself, in words, for the installed-app page.
    pub fn describe_auth(&self) -> String {
        match self.auth {
            TriggerAuth::Github => "signed by GitHub with the secret (X-Hub-Signature-256)".into(),
            TriggerAuth::Pagerduty => "signed by PagerDuty with the secret (X-PagerDuty-Signature)".into(),
            TriggerAuth::SharedSecret => format!("the secret in the {} header", self.secret_header()),
        }
    }
}

/// Problems of meaning in `triggers`: each field and what is wrong with it.
pub fn validate(triggers: &[TriggerSpec], plugin: bool) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    let mut at =
        |i: usize, field: &str, message: String| errors.push((format!("triggers[{i}].{field}"), message));
    for (i, t) in triggers.iter().enumerate() {
        if !plugin {
            at(i, "name", "only plugins answer web triggers".into());
        }
        let name_ok = (2..=40).contains(&t.name.len())
            && t.name.starts_with(|c: char| c.is_ascii_lowercase())
            && t.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !name_ok {
            at(
                i,
                "name",
                "use 2 to 40 lowercase letters, digits and dashes, starting with a letter".into(),
            );
        }
        if triggers[..i].iter().any(|other| other.name == t.name) {
            at(i, "name", format!("`{}` is declared twice", t.name));
        }
        let title = t.title.trim().chars().count();
        if !(1..=80).contains(&title) {
            at(i, "title", format!("must be 1 to 80 characters (it is {title})"));
        }
        match (t.auth, &t.header) {
            (TriggerAuth::SharedSecret, Some(h))
                if h.is_empty() || !h.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
            {
                at(i, "header", format!("`{h}` is not a header name"))
            }
            (TriggerAuth::Github | TriggerAuth::Pagerduty, Some(_)) => at(
                i,
                "header",
                "only shared-secret triggers name their header".into(),
            ),
            _ => {}
        }
    }
    errors
}
