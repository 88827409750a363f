//! One `Config`, from embedded defaults, then an optional TOML file, then `BAZAAR_*` environment
//! variables, then command-line flags; validated before anything starts.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Keys the file and the environment may set (`BAZAAR_LISTEN`, `BAZAAR_DATA_DIR`, ...).
const KEYS: [&str; 11] = [
    "secret_key",
    "otlp_endpoint",
    "public_url",
    "allow_private_network",
    "node_id",
    "listen",
    "data_dir",
    "database_url",
    "max_body_bytes",
    "shutdown_grace_secs",
    "log",
];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// Folder for the embedded database and, later, the component cache.
    pub data_dir: PathBuf,
    /// A `postgres://` URL to use PostgreSQL instead of the embedded SQLite database.
    pub database_url: Option<String>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How long in-flight requests may take to finish after SIGTERM.
    pub shutdown_grace_secs: u64,
    /// Log filter, `tracing` syntax (`info`, `bazaar=debug,info`).
    pub log: String,
    /// Base64 key (32 bytes) that seals secret configuration values. Every node of a cluster
    /// needs the same one; a single node creates `secret.key` in the data folder when unset.
    pub secret_key: Option<String>,
    /// The URL people and apps reach this server at (`https://bazaar.example.com`): the OAuth
    /// issuer. When unset, the request's `Host` is used.
    pub public_url: Option<String>,
    /// Development only: lets plugins' `http` calls and webhooks reach loopback and private
    /// addresses (a local receiver). Never set it in production.
    pub allow_private_network: bool,
    /// This node's name in delivery leases and the attempt log; a random one when unset. Give
    /// each node of a cluster a stable one so that, after a crash, it takes back its own claims
    /// at once instead of waiting for their leases to expire.
    pub node_id: Option<String>,
    /// An OpenTelemetry collector's OTLP/HTTP address (`http://collector:4318`): every plugin
    /// call and host call is sent there as a span. Unset: no trace leaves the process.
    pub otlp_endpoint: Option<String>,
    /// Event delivery workers.
    pub delivery: DeliveryConfig,
    /// Request rate limits on `/v1`, per plan.
    pub rate_limits: RateLimitConfig,
    /// Paid apps (the `[billing]` table).
    #[serde(default)]
    pub billing: BillingConfig,
}

/// Paid apps: the platform's revenue share of each charge.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BillingConfig {
    /// Percent of each charge the platform keeps; the developer is paid the rest.
    pub platform_share_percent: u32,
}

impl Default for BillingConfig {
    fn default() -> Self {
        BillingConfig {
            platform_share_percent: crate::billing::DEFAULT_PLATFORM_SHARE_PERCENT,
        }
    }
}

/// Token buckets per API key, per app installation and per signed-in user (the
/// `[rate_limits]` table). An organization's `plan` picks the limits; each node counts its
/// own requests.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    pub enabled: bool,
    /// Limits by plan name; organizations start on `standard`.
    pub plans: std::collections::BTreeMap<String, PlanLimits>,
    /// Callers without credentials (the public catalog), counted per address.
    pub anonymous: PlanLimits,
    /// Verified requests to one installation's web trigger (each runs the plugin).
    pub triggers: PlanLimits,
    /// Reverse proxies in front of this node: a request from one of them is counted by the
    /// client address it gives in `X-Forwarded-For` (the rightmost one that is not a trusted
    /// proxy). From anyone else `X-Forwarded-For` is ignored, so it cannot be used to dodge the
    /// limit.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// One plan's bucket: `burst` requests at once, refilled at `per_minute`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PlanLimits {
    pub per_minute: u32,
    pub burst: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        let plan = |per_minute, burst| PlanLimits { per_minute, burst };
        RateLimitConfig {
            enabled: true,
            plans: [
                ("standard".to_owned(), plan(6_000, 1_000)),
                ("pro".to_owned(), plan(60_000, 5_000)),
            ]
            .into_iter()
            .collect(),
            anonymous: plan(600, 60),
            triggers: plan(600, 60),
            trusted_proxies: Vec::new(),
        }
    }
}

/// How this node delivers events (the `[delivery]` table of the configuration file).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    /// Whether this node runs delivery workers at all.
    pub enabled: bool,
    /// Subscribers served at once on this node; each subscriber gets one delivery at a time.
    pub concurrency: usize,
    /// Deliveries claimed per query.
    pub batch: usize,
    /// How long a claim lasts; another node retries a claim whose lease expired.
    pub lease_secs: u64,
    /// How often an idle worker looks for new events.
    pub poll_ms: u64,
    /// Waits between attempts; after the last one a delivery is dead-lettered. Each wait is
    /// jittered by ±20%, and a receiver's `Retry-After` can lengthen it.
    pub retry_schedule_secs: Vec<f64>,
    /// A subscriber whose deliveries have only failed for this long is paused (installation)
    /// or disabled (REST hook).
    pub pause_after_secs: u64,
    /// Total time a webhook receiver has to answer.
    pub webhook_timeout_ms: u64,
    /// Succeeded and dead deliveries (with their attempts) are deleted this long after their
    /// last attempt. Events stay in the event log; usage analytics stay.
    pub retention_hours: u64,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            enabled: true,
            concurrency: 32,
            batch: 64,
            lease_secs: 60,
            poll_ms: 100,
            retry_schedule_secs: vec![5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0],
            pause_after_secs: 5 * 24 * 3600,
            webhook_timeout_ms: 15_000,
            retention_hours: 30 * 24,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            database_url: None,
            max_body_bytes: 1024 * 1024,
            shutdown_grace_secs: 30,
            log: "info".into(),
            secret_key: None,
            public_url: None,
            allow_private_network: false,
            node_id: None,
            otlp_endpoint: None,
            delivery: DeliveryConfig::default(),
            rate_limits: RateLimitConfig::default(),
            billing: BillingConfig::default(),
        }
    }
}

/// A configuration that cannot be used, and why.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(String),
    #[error("invalid configuration: {0}")]
    Parse(String),
    #[error("invalid configuration: `database_url` must start with postgres:// or sqlite: (got `{0}`)")]
    DatabaseUrl(String),
    #[error("invalid configuration: `max_body_bytes` must be between 1 KiB and 64 MiB")]
    BodyLimit,
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Values given on the command line; each one, when present, wins over every other source.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

impl Config {
    /// Loads and validates the configuration.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError::MissingFile(file.display().to_string()));
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        let config: Config = figment
            .merge(Env::prefixed("BAZAAR_").only(&KEYS))
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(|e| ConfigError::Parse(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.database_url {
            let ok = ["postgres://", "postgresql://", "sqlite:"]
                .iter()
                .any(|p| url.starts_with(p));
            if !ok {
                return Err(ConfigError::DatabaseUrl(url.clone()));
            }
        }
        if !(1024..=64 * 1024 * 1024).contains(&self.max_body_bytes) {
            return Err(ConfigError::BodyLimit);
        }
        if !self.rate_limits.plans.contains_key("standard")
            || self
                .rate_limits
                .plans
                .values()
                .any(|p| p.per_minute == 0 || p.burst == 0)
        {
            return Err(ConfigError::Invalid(
                "[rate_limits.plans] needs a `standard` plan, and every plan per_minute and burst above 0"
                    .into(),
            ));
        }
        let d = &self.delivery;
        if d.concurrency == 0 || d.batch == 0 || d.lease_secs == 0 || d.poll_ms == 0 {
            return Err(ConfigError::Invalid(
                "[delivery] concurrency, batch, lease_secs and poll_ms must be above 0".into(),
            ));
        }
        if d.retry_schedule_secs.iter().any(|s| !s.is_finite() || *s < 0.0) {
            return Err(ConfigError::Invalid(
                "[delivery] retry_schedule_secs holds non-negative numbers of seconds".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's Jail decides its closures' error type
mod tests {
    use super::*;

    #[test]
    fn sources_apply_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("bazaar.toml", "listen = \"127.0.0.1:9000\"\nlog = \"debug\"")?;
            jail.set_env("BAZAAR_LOG", "warn");
            let overrides = Overrides {
                data_dir: Some("/tmp/x".into()),
                ..Default::default()
            };
            let config = Config::load(Some(Path::new("bazaar.toml")), &overrides).unwrap();
            assert_eq!(config.listen.port(), 9000);
            assert_eq!(config.log, "warn");
            assert_eq!(config.data_dir, PathBuf::from("/tmp/x"));
            Ok(())
        });
    }

    #[test]
    fn typos_and_bad_values_are_refused_with_the_reason() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("bazaar.toml", "listn = \"127.0.0.1:9000\"")?;
            let err = Config::load(Some(Path::new("bazaar.toml")), &Overrides::default());
            assert!(err.unwrap_err().to_string().contains("listn"));
            jail.create_file("bazaar.toml", "database_url = \"mysql://x\"")?;
            let err = Config::load(Some(Path::new("bazaar.toml")), &Overrides::default());
            assert!(err.unwrap_err().to_string().contains("postgres://"));
            jail.create_file("bazaar.toml", "listen = \"nowhere\"")?;
            let err = Config::load(Some(Path::new("bazaar.toml")), &Overrides::default());
            assert!(err.unwrap_err().to_string().contains("listen"));
            Ok(())
        });
    }
}
