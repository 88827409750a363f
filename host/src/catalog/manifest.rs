//! An app's manifest: what it is, what it asks for and why. Parsed strictly from TOML or JSON
//! (unknown fields are refused), then checked for meaning; every error names its field.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use super::trigger_spec::{TriggerAuth, TriggerSpec};
use crate::platform::Scope;
use crate::platform::outbox::kinds;
use crate::policy;
pub use crate::policy::connections::{ConnectionKind, ConnectionSpec};
use crate::runtime::Limits;

/// What kind of business an app is in, for browsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Communication,
    Storage,
    Analytics,
    Crm,
    Automation,
    Payment,
    Productivity,
    DeveloperTools,
    Other,
}

/// A scope the app asks for, and the sentence the installer reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopeRequest {
    pub name: String,
    /// Why the app needs it, shown on the consent screen.
    pub purpose: String,
}

/// How a configuration field is entered and kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Text,
    /// Sealed at rest, never returned by the API; readable only by the plugin.
    Secret,
    Select,
    Toggle,
}

/// One field of the installation's configuration form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigField {
    pub key: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub placeholder: Option<String>,
    /// The choices of a `select` field.
    #[serde(default)]
    pub options: Vec<String>,
}

/// Limits the app asks for, within the platform's maximums.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestedLimits {
    pub fuel: Option<u64>,
    pub memory_mb: Option<u32>,
    pub timeout_ms: Option<u64>,
}

/// What installing the app costs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "plan", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Pricing {
    Free,
    OneTime { price_cents: u32, currency: String },
    Monthly { price_cents: u32, currency: String },
}

/// An app's manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    /// URL-safe unique name: lowercase letters, digits and dashes.
    pub slug: String,
    /// One sentence for the catalog card.
    pub description: String,
    #[serde(default)]
    pub long_description: String,
    pub category: Category,
    #[serde(default)]
    pub icon: Option<String>,
    #[serde(default)]
    pub screenshots: Vec<String>,
    /// Where tenants get help (an https:// page, or `mailto:`).
    #[serde(default)]
    pub support_url: Option<String>,
    /// The app's privacy policy (https://).
    #[serde(default)]
    pub privacy_url: Option<String>,
    #[serde(default)]
    pub scopes: Vec<ScopeRequest>,
    #[serde(default)]
    pub config: Vec<ConfigField>,
    /// Event kinds the app subscribes to.
    #[serde(default)]
    pub events: Vec<String>,
    /// Synchronous hooks a plugin implements (`validate-task`).
    #[serde(default)]
    pub hooks: Vec<String>,
    /// Hosts a plugin may call with `http` (`api.example.com`, `*.example.com`).
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Where a plugin shows UI in Bazaar's pages (contract 0.2.0 on; its component exports
    /// `extension`).
    #[serde(default)]
    pub ui: Vec<ExtensionPoint>,
    /// Accounts or keys the tenant connects, attached by the host to requests for their hosts;
    /// the plugin names a connection and never sees its credential.
    #[serde(default)]
    pub connections: Vec<ConnectionSpec>,
    /// URLs where tools call the plugin back, each checked by the host before the plugin runs.
    #[serde(default)]
    pub triggers: Vec<TriggerSpec>,
    #[serde(default)]
    pub limits: Option<RequestedLimits>,
    pub pricing: Pricing,
    /// External apps: OAuth redirect URIs, matched exactly.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// External apps: where signed webhooks are sent.
    #[serde(default)]
    pub webhook_url: Option<String>,
}

/// A place in Bazaar's pages where a plugin's UI appears.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ExtensionPoint {
    /// A panel on each task's page.
    TaskPanel,
    /// A card on each project's page.
    ProjectCard,
    /// A section of the installation's settings page.
    SettingsPage,
}

impl ExtensionPoint {
    pub const ALL: [ExtensionPoint; 3] = [
        ExtensionPoint::TaskPanel,
        ExtensionPoint::ProjectCard,
        ExtensionPoint::SettingsPage,
    ];

    /// Its name in manifests and URLs (`task-panel`).
    pub fn name(self) -> &'static str {
        match self {
            ExtensionPoint::TaskPanel => "task-panel",
            ExtensionPoint::ProjectCard => "project-card",
            ExtensionPoint::SettingsPage => "settings-page",
        }
    }

    /// Where it appears, for the consent page ("a panel on each task's page").
    pub fn describe(self) -> &'static str {
        match self {
            ExtensionPoint::TaskPanel => "a panel on each task's page",
            ExtensionPoint::ProjectCard => "a card on each project's page",
            ExtensionPoint::SettingsPage => "a section of its settings page",
        }
    }
}

impl std::str::FromStr for ExtensionPoint {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        ExtensionPoint::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| format!("`{s}` is not a place for UI (task-panel, project-card, settings-page)"))
    }
}

/// One problem with a manifest, tied to its field (`scopes[1].purpose`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

fn at(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// Hooks a plugin may implement.
pub const HOOKS: [&str; 1] = ["validate-task"];

impl Manifest {
    /// Parses TOML, refusing unknown fields; the error names the field and the line.
    pub fn from_toml(text: &str) -> Result<Manifest, FieldError> {
        let deserializer = toml::Deserializer::new(text);
        serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let field = e.path().to_string();
            let message = e.inner().message().to_owned();
            let line = e
                .inner()
                .span()
                .map(|span| text[..span.start].lines().count().max(1));
            let message = match line {
                Some(line) => format!("{message} (line {line})"),
                None => message,
            };
            at(if field == "." { "manifest".into() } else { field }, message)
        })
    }

    /// Parses JSON, refusing unknown fields; the error names the field.
    pub fn from_json(text: &str) -> Result<Manifest, FieldError> {
        let deserializer = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let field = e.path().to_string();
            at(
                if field == "." { "manifest".into() } else { field },
                e.inner().to_string(),
            )
        })
    }

    /// Parses either form: JSON when it starts with `{`, TOML otherwise.
    pub fn parse(text: &str) -> Result<Manifest, FieldError> {
        if text.trim_start().starts_with('{') {
            Self::from_json(text)
        } else {
            Self::from_toml(text)
        }
    }

    /// The scopes asked for, parsed (call after [`Manifest::validate`]).
    pub fn scope_set(&self) -> crate::platform::ScopeSet {
        self.scopes.iter().filter_map(|s| s.name.parse().ok()).collect()
    }

    /// The limits a plugin of this app runs under.
    pub fn limits(&self) -> Limits {
        let base = Limits::EVENT;
        let Some(asked) = self.limits else { return base };
        Limits {
            fuel: asked.fuel.unwrap_or(base.fuel),
            memory_bytes: asked
                .memory_mb
                .map(|mb| (mb as usize) << 20)
                .unwrap_or(base.memory_bytes),
            timeout_ms: asked.timeout_ms.unwrap_or(base.timeout_ms),
            ..base
        }
    }

    /// Every problem of meaning, each tied to its field; empty when the manifest is sound.
    /// `plugin` says whether the app is a plugin (hooks, hosts, limits) or an external app
    /// (redirect URIs, webhook URL).
    pub fn validate(&self, plugin: bool) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut text = |field: &str, value: &str, min: usize, max: usize| {
            let n = value.trim().chars().count();
            if n < min || n > max {
                errors.push(at(
                    field,
                    format!("must be {min} to {max} characters (it is {n})"),
                ));
            }
        };
        text("name", &self.name, 1, 60);
        text("description", &self.description, 10, 200);
        text("long_description", &self.long_description, 0, 20_000);
        let slug_ok = self.slug.len() >= 2
            && self.slug.len() <= 50
            && self.slug.starts_with(|c: char| c.is_ascii_lowercase())
            && self
                .slug
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !slug_ok {
            errors.push(at(
                "slug",
                "use 2 to 50 lowercase letters, digits and dashes, starting with a letter",
            ));
        }
        if let Some(url) = &self.support_url
            && !(url.starts_with("https://") || url.starts_with("mailto:"))
        {
            errors.push(at("support_url", "must be an https:// URL or a mailto: address"));
        }
        if let Some(url) = &self.privacy_url
            && !url.starts_with("https://")
        {
            errors.push(at("privacy_url", "must be an https:// URL"));
        }
        for (i, url) in self.icon.iter().chain(&self.screenshots).enumerate() {
            if !url.starts_with("https://") {
                let field = if i == 0 && self.icon.is_some() {
                    "icon".to_owned()
                } else {
                    format!("screenshots[{i}]")
                };
                errors.push(at(field, "must be an https:// URL"));
            }
        }
        self.validate_scopes(&mut errors);
        self.validate_events(plugin, &mut errors);
        self.validate_config(&mut errors);
        self.validate_hosts(plugin, &mut errors);
        self.validate_ui(plugin, &mut errors);
        let nested = crate::policy::connections::validate(&self.connections, &self.allowed_hosts, plugin)
            .into_iter()
            .chain(super::trigger_spec::validate(&self.triggers, plugin));
        errors.extend(nested.map(|(field, message)| at(field, message)));
        self.validate_limits(plugin, &mut errors);
        self.validate_pricing(&mut errors);
        self.validate_external(plugin, &mut errors);
        errors
    }

    fn validate_ui(&self, plugin: bool, errors: &mut Vec<FieldError>) {
        if !plugin && !self.ui.is_empty() {
            errors.push(at("ui", "only plugins show UI in Bazaar's pages"));
        }
        for (i, point) in self.ui.iter().enumerate() {
            if self.ui[..i].contains(point) {
                errors.push(at(
                    format!("ui[{i}]"),
                    format!("`{}` is listed twice", point.name()),
                ));
            }
        }
    }

    fn validate_scopes(&self, errors: &mut Vec<FieldError>) {
        let mut seen = Vec::new();
        for (i, request) in self.scopes.iter().enumerate() {
            match request.name.parse::<Scope>() {
                Err(e) => errors.push(at(format!("scopes[{i}].name"), e.to_string())),
                Ok(scope) if !policy::app_may_hold(scope) => errors.push(at(
                    format!("scopes[{i}].name"),
                    format!("`{scope}` manages the organization itself and cannot be granted to apps"),
                )),
                Ok(scope) if seen.contains(&scope) => errors.push(at(
                    format!("scopes[{i}].name"),
                    format!("`{scope}` is asked for twice"),
                )),
                Ok(scope) => seen.push(scope),
            }
            let purpose = request.purpose.trim().chars().count();
            if !(10..=300).contains(&purpose) {
                errors.push(at(
                    format!("scopes[{i}].purpose"),
                    "say in 10 to 300 characters why the app needs this scope; the installer reads it",
                ));
            }
        }
    }

    fn validate_events(&self, plugin: bool, errors: &mut Vec<FieldError>) {
        let scopes = self.scope_set();
        for (i, kind) in self.events.iter().enumerate() {
            if !kinds::ALL.contains(&kind.as_str()) {
                errors.push(at(
                    format!("events[{i}]"),
                    format!("unknown event kind `{kind}`; known: {}", kinds::ALL.join(", ")),
                ));
                continue;
            }
            if let Some(needed) = policy::event_rule(kind).and_then(|rule| rule.app_needs())
                && !scopes.contains(needed)
            {
                errors.push(at(
                    format!("events[{i}]"),
                    format!("receiving `{kind}` needs the `{needed}` scope; ask for it"),
                ));
            }
        }
        for (i, hook) in self.hooks.iter().enumerate() {
            if !plugin {
                errors.push(at(format!("hooks[{i}]"), "only plugins implement hooks"));
            } else if !HOOKS.contains(&hook.as_str()) {
                errors.push(at(
                    format!("hooks[{i}]"),
                    format!("unknown hook `{hook}`; known: {}", HOOKS.join(", ")),
                ));
            }
        }
    }

    fn validate_config(&self, errors: &mut Vec<FieldError>) {
        for (i, field) in self.config.iter().enumerate() {
            let key_ok = field.key.starts_with(|c: char| c.is_ascii_lowercase())
                && field.key.len() <= 64
                && field
                    .key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !key_ok {
                errors.push(at(
                    format!("config[{i}].key"),
                    "use lowercase letters, digits and underscores, starting with a letter",
                ));
            }
            if self.config[..i].iter().any(|f| f.key == field.key) {
                errors.push(at(
                    format!("config[{i}].key"),
                    format!("`{}` is defined twice", field.key),
                ));
            }
            if field.label.trim().is_empty() {
                errors.push(at(format!("config[{i}].label"), "must not be empty"));
            }
            match (field.kind, field.options.is_empty()) {
                (FieldType::Select, true) => {
                    errors.push(at(format!("config[{i}].options"), "a select field needs options"))
                }
                (FieldType::Select, false) => {}
                (_, false) => errors.push(at(
                    format!("config[{i}].options"),
                    "only select fields have options",
                )),
                (_, true) => {}
            }
        }
    }

    fn validate_hosts(&self, plugin: bool, errors: &mut Vec<FieldError>) {
        let network = self.scope_set().contains(Scope::Network);
        for (i, host) in self.allowed_hosts.iter().enumerate() {
            let name = host.strip_prefix("*.").unwrap_or(host);
            let valid = name.contains('.')
                && name.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                        && !label.starts_with('-')
                });
            if !valid {
                errors.push(at(
                    format!("allowed_hosts[{i}]"),
                    "give a host name like api.example.com or *.example.com (no scheme, path or port)",
                ));
            }
        }
        if !plugin && !self.allowed_hosts.is_empty() {
            errors.push(at(
                "allowed_hosts",
                "only plugins make outbound calls through Bazaar",
            ));
        }
        if network && self.allowed_hosts.is_empty() {
            errors.push(at(
                "allowed_hosts",
                "the `network` scope needs at least one declared host",
            ));
        }
        if !network && !self.allowed_hosts.is_empty() {
            errors.push(at("allowed_hosts", "declaring hosts needs the `network` scope"));
        }
    }

    fn validate_limits(&self, plugin: bool, errors: &mut Vec<FieldError>) {
        let Some(asked) = self.limits else { return };
        if !plugin {
            errors.push(at("limits", "only plugins have run limits"));
        }
        let max = Limits::MAX;
        if asked.fuel.is_some_and(|f| f == 0 || f > max.fuel) {
            errors.push(at("limits.fuel", format!("must be 1 to {}", max.fuel)));
        }
        if asked
            .memory_mb
            .is_some_and(|m| m == 0 || (m as usize) << 20 > max.memory_bytes)
        {
            errors.push(at(
                "limits.memory_mb",
                format!("must be 1 to {}", max.memory_bytes >> 20),
            ));
        }
        if asked.timeout_ms.is_some_and(|t| t == 0 || t > max.timeout_ms) {
            errors.push(at(
                "limits.timeout_ms",
                format!("must be 1 to {}", max.timeout_ms),
            ));
        }
    }

    fn validate_pricing(&self, errors: &mut Vec<FieldError>) {
        if let Pricing::OneTime {
            price_cents,
            currency,
        }
        | Pricing::Monthly {
            price_cents,
            currency,
        } = &self.pricing
        {
            if *price_cents == 0 {
                errors.push(at(
                    "pricing.price_cents",
                    "a paid plan needs a price; use plan = \"free\" otherwise",
                ));
            }
            if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
                errors.push(at(
                    "pricing.currency",
                    "use a three-letter ISO 4217 code such as EUR or USD",
                ));
            }
        }
    }

    fn validate_external(&self, plugin: bool, errors: &mut Vec<FieldError>) {
        if plugin {
            if !self.redirect_uris.is_empty() {
                errors.push(at("redirect_uris", "only external apps have OAuth redirect URIs"));
            }
            if self.webhook_url.is_some() {
                errors.push(at("webhook_url", "only external apps receive webhooks"));
            }
            return;
        }
        if self.redirect_uris.is_empty() {
            errors.push(at(
                "redirect_uris",
                "an external app needs at least one OAuth redirect URI",
            ));
        }
        for (i, uri) in self.redirect_uris.iter().enumerate() {
            if let Err(message) = check_redirect_uri(uri) {
                errors.push(at(format!("redirect_uris[{i}]"), message));
            }
        }
        // Like redirect URIs: https, or http to localhost for development. Where it resolves
        // is checked again on every delivery.
        if let Some(url) = &self.webhook_url
            && let Err(e) = check_redirect_uri(url)
        {
            errors.push(at("webhook_url", &e));
        }
    }
}

/// A redirect URI must be absolute, https (http only for localhost), and carry no fragment.
pub fn check_redirect_uri(uri: &str) -> Result<(), String> {
    let parsed = url::Url::parse(uri).map_err(|e| format!("`{uri}` is not an absolute URL: {e}"))?;
    if parsed.fragment().is_some() {
        return Err("must not contain a fragment (#...)".into());
    }
    let local = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if local => Ok(()),
        _ => Err("must use https (http is allowed only for localhost)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "Notifier"
slug = "notifier"
description = "Tells a channel about new tasks."
category = "communication"
events = ["task.created"]
allowed_hosts = ["hooks.example.com"]

[[scopes]]
name = "tasks:read"
purpose = "Read the title of each new task."

[[scopes]]
name = "network"
purpose = "Post the message to your chat service."

[[config]]
key = "channel"
label = "Channel"
type = "select"
options = ["general", "random"]

[pricing]
plan = "monthly"
price_cents = 500
currency = "EUR"
"#;

    #[test]
    fn a_sound_manifest_parses_from_toml_and_json_alike() {
        let manifest = Manifest::parse(GOOD).unwrap();
        assert!(
            manifest.validate(true).is_empty(),
            "{:?}",
            manifest.validate(true)
        );
        let json = serde_json::to_string(&manifest).unwrap();
        assert_eq!(Manifest::parse(&json).unwrap(), manifest);
    }

    #[test]
    fn unknown_and_mistyped_fields_are_refused_with_their_path() {
        let err = Manifest::from_toml(&GOOD.replace("purpose = \"Read", "purpos = \"Read")).unwrap_err();
        assert_eq!(err.field, "scopes[0].purpos");
        assert!(err.message.contains("purpos"), "{err}");
        let err = Manifest::from_toml(&GOOD.replace("category = \"communication\"", "category = \"chat\""))
            .unwrap_err();
        assert_eq!(err.field, "category");
        assert!(err.message.contains("line 5"), "{err}");
        let err = Manifest::from_json(r#"{"name": 3}"#).unwrap_err();
        assert_eq!(err.field, "name");
    }

    #[test]
    fn meaning_is_checked_field_by_field() {
        let mut m = Manifest::parse(GOOD).unwrap();
        m.scopes[0].name = "keys:write".into();
        m.scopes[1].purpose = "x".into();
        m.events.push("task.exploded".into());
        m.allowed_hosts.push("https://evil.example.com/path".into());
        m.config[0].options.clear();
        m.limits = Some(RequestedLimits {
            fuel: None,
            memory_mb: Some(100_000),
            timeout_ms: None,
        });
        let fields: Vec<String> = m.validate(true).into_iter().map(|e| e.field).collect();
        for expected in [
            "scopes[0].name",
            "scopes[1].purpose",
            "events[1]",
            "allowed_hosts[1]",
            "config[0].options",
            "limits.memory_mb",
        ] {
            assert!(
                fields.contains(&expected.to_owned()),
                "{expected} missing from {fields:?}"
            );
        }
    }

    #[test]
    fn events_need_the_read_scope_of_their_resource() {
        let mut m = Manifest::parse(GOOD).unwrap();
        m.scopes.retain(|s| s.name != "tasks:read");
        let errors = m.validate(true);
        assert!(
            errors
                .iter()
                .any(|e| e.field == "events[0]" && e.message.contains("tasks:read")),
            "{errors:?}"
        );
    }

    /// The manifest check asks the same rule as fan-out: an app subscribing to `app.*` needs
    /// no scope (it hears about its own installation), and is never asked for one it could
    /// not be granted.
    #[test]
    fn app_events_need_no_scope_an_app_cannot_hold() {
        let mut m = Manifest::parse(GOOD).unwrap();
        m.events = vec!["app.installed".into(), "app.upgraded".into()];
        let errors = m.validate(true);
        assert!(
            errors.iter().all(|e| !e.field.starts_with("events")),
            "{errors:?}"
        );
    }

    #[test]
    fn external_apps_need_exact_safe_redirect_uris() {
        assert!(check_redirect_uri("https://app.example.com/callback").is_ok());
        assert!(check_redirect_uri("http://localhost:3000/cb").is_ok());
        assert!(check_redirect_uri("http://app.example.com/cb").is_err());
        assert!(check_redirect_uri("https://app.example.com/cb#x").is_err());
        assert!(check_redirect_uri("/relative").is_err());
        let mut m = Manifest::parse(GOOD).unwrap();
        m.allowed_hosts.clear();
        m.scopes.retain(|s| s.name != "network");
        let errors = m.validate(false);
        assert!(errors.iter().any(|e| e.field == "redirect_uris"), "{errors:?}");
    }
}
