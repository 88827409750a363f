//! Usage analytics: per subscriber, hour and target, the attempts made, successes, failures by
//! class, fuel used and a duration histogram (for p50/p95). Workers add up attempts in memory
//! and merge them into `usage_hourly` about once a second, so analytics cost no write per
//! delivery. Rows stay after an uninstall: the developer's figures do not shrink.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use utoipa::ToSchema;

use crate::platform::{Result, format_time};
use crate::store::Store;

const HOUR_MS: i64 = 3_600_000;
/// Histogram buckets per doubling of the duration: each bucket is about 19% wide.
const SUB_BUCKETS: f64 = 4.0;

/// A duration histogram: bucket index → count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram(BTreeMap<u32, u64>);

impl Histogram {
    fn bucket(duration_us: u64) -> u32 {
        if duration_us <= 1 {
            0
        } else {
            ((duration_us as f64).log2() * SUB_BUCKETS).floor() as u32 + 1
        }
    }

    /// The upper bound of a bucket, in µs.
    fn upper_us(bucket: u32) -> f64 {
        if bucket == 0 {
            1.0
        } else {
            (f64::from(bucket) / SUB_BUCKETS).exp2()
        }
    }

    pub fn record(&mut self, duration_us: u64) {
        *self.0.entry(Self::bucket(duration_us)).or_default() += 1;
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (bucket, count) in &other.0 {
            *self.0.entry(*bucket).or_default() += count;
        }
    }

    /// The `q` quantile (0..=1) in milliseconds, as the upper bound of its bucket.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        let total: u64 = self.0.values().sum();
        if total == 0 {
            return None;
        }
        let rank = ((total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (bucket, count) in &self.0 {
            seen += count;
            if seen >= rank {
                return Some((Self::upper_us(*bucket) / 1000.0 * 1000.0).round() / 1000.0);
            }
        }
        None
    }

    fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "{}".into())
    }

    fn from_json(text: &str) -> Histogram {
        Histogram(serde_json::from_str(text).unwrap_or_default())
    }
}

/// Counters for one subscriber, hour and target.
#[derive(Debug, Clone, Default)]
pub struct Usage {
    pub org_id: String,
    pub app_id: Option<String>,
    pub invocations: u64,
    pub successes: u64,
    pub fuel_used: u64,
    pub failures: BTreeMap<String, u64>,
    pub durations: Histogram,
}

impl Usage {
    fn merge(&mut self, other: &Usage) {
        self.invocations += other.invocations;
        self.successes += other.successes;
        self.fuel_used += other.fuel_used;
        for (class, n) in &other.failures {
            *self.failures.entry(class.clone()).or_default() += n;
        }
        self.durations.merge(&other.durations);
    }
}

/// Attempts added up in memory until the next flush.
#[derive(Debug, Default)]
pub struct Tally {
    rows: HashMap<(String, i64, String), Usage>,
}

/// One attempt, as analytics see it.
pub struct Sample<'a> {
    pub subscriber_id: &'a str,
    pub org_id: &'a str,
    pub app_id: Option<&'a str>,
    pub target: &'a str,
    pub at_ms: i64,
    pub outcome: &'a str,
    pub fuel_used: u64,
    pub duration_us: u64,
}

impl Tally {
    pub fn add(&mut self, s: &Sample<'_>) {
        let hour = s.at_ms - s.at_ms.rem_euclid(HOUR_MS);
        let usage = self
            .rows
            .entry((s.subscriber_id.to_owned(), hour, s.target.to_owned()))
            .or_insert_with(|| Usage {
                org_id: s.org_id.to_owned(),
                app_id: s.app_id.map(str::to_owned),
                ..Usage::default()
            });
        usage.invocations += 1;
        if s.outcome == "ok" {
            usage.successes += 1;
        } else {
            *usage.failures.entry(s.outcome.to_owned()).or_default() += 1;
        }
        usage.fuel_used += s.fuel_used;
        usage.durations.record(s.duration_us);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Merges the tally into `usage_hourly` and empties it. On failure the tally is kept for
    /// the next flush.
    pub async fn flush(&mut self, store: &Store) -> Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let mut conn = store.writer().acquire().await?;
        let mut tx = conn.begin().await?;
        for ((subscriber, hour, target), usage) in &self.rows {
            let existing: Option<(i64, i64, i64, String, String)> = crate::store::query_as(
                "SELECT invocations, successes, fuel_used, failures, durations FROM usage_hourly \
                 WHERE subscriber_id = $1 AND hour = $2 AND target = $3",
            )
            .bind(subscriber)
            .bind(hour)
            .bind(target)
            .fetch_optional(&mut *tx)
            .await?;
            let mut merged = usage.clone();
            if let Some((invocations, successes, fuel, failures, durations)) = existing {
                merged.merge(&Usage {
                    invocations: invocations as u64,
                    successes: successes as u64,
                    fuel_used: fuel as u64,
                    failures: serde_json::from_str(&failures).unwrap_or_default(),
                    durations: Histogram::from_json(&durations),
                    ..Usage::default()
                });
            }
            crate::store::query(
                "INSERT INTO usage_hourly (subscriber_id, hour, target, org_id, app_id, invocations, successes, fuel_used, failures, durations) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (subscriber_id, hour, target) DO UPDATE SET invocations = excluded.invocations, \
                 successes = excluded.successes, fuel_used = excluded.fuel_used, failures = excluded.failures, durations = excluded.durations",
            )
            .bind(subscriber)
            .bind(hour)
            .bind(target)
            .bind(&merged.org_id)
            .bind(merged.app_id.as_deref())
            .bind(merged.invocations as i64)
            .bind(merged.successes as i64)
            .bind(merged.fuel_used as i64)
            .bind(serde_json::to_string(&merged.failures).unwrap_or_else(|_| "{}".into()))
            .bind(merged.durations.to_json())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.rows.clear();
        Ok(())
    }
}

/// Usage of one target over one hour (or a whole period, in `totals`).
#[derive(Debug, Serialize, ToSchema)]
pub struct UsagePoint {
    /// Start of the hour (RFC 3339); absent in totals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hour: Option<String>,
    /// `plugin` (invocations of the component) or `webhook` (HTTP deliveries).
    pub target: String,
    pub invocations: u64,
    pub successes: u64,
    /// Failed attempts by outcome class (`fuel_exhausted`, `http_error`, ...).
    pub failures: BTreeMap<String, u64>,
    /// Fuel the plugin burned (0 for webhooks).
    pub fuel_used: u64,
    /// Median and 95th percentile duration, in milliseconds (bucket upper bounds, ±19%).
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
}

/// Hourly series and totals over a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct Analytics {
    pub from: String,
    pub to: String,
    pub hours: Vec<UsagePoint>,
    pub totals: Vec<UsagePoint>,
    /// The developer's view only: installations whose webhook receiver answered 410 Gone and
    /// that get no webhooks until their tenant re-enables them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhooks_disabled: Option<u64>,
}

/// Whose usage to read.
pub enum UsageOf<'a> {
    /// One installation (its tenant's view).
    Subscriber(&'a str),
    /// Every installation of an app (its developer's view, no tenant data).
    App(&'a str),
}

/// Usage between `from` and `to` (ms), hour by hour and in total.
pub async fn read(store: &Store, scope: UsageOf<'_>, from: i64, to: i64) -> Result<Analytics> {
    let (column, value) = match scope {
        UsageOf::Subscriber(id) => ("subscriber_id", id),
        UsageOf::App(id) => ("app_id", id),
    };
    let rows: Vec<(i64, String, i64, i64, i64, String, String)> = crate::store::query_as(&format!(
        "SELECT hour, target, invocations, successes, fuel_used, failures, durations FROM usage_hourly \
         WHERE {column} = $1 AND hour >= $2 AND hour < $3 ORDER BY hour"
    ))
    .bind(value)
    .bind(from - from.rem_euclid(HOUR_MS))
    .bind(to)
    .fetch_all(store.reader())
    .await?;
    let mut hours: BTreeMap<(i64, String), Usage> = BTreeMap::new();
    let mut totals: BTreeMap<String, Usage> = BTreeMap::new();
    for (hour, target, invocations, successes, fuel, failures, durations) in rows {
        let usage = Usage {
            invocations: invocations as u64,
            successes: successes as u64,
            fuel_used: fuel as u64,
            failures: serde_json::from_str(&failures).unwrap_or_default(),
            durations: Histogram::from_json(&durations),
            ..Usage::default()
        };
        totals.entry(target.clone()).or_default().merge(&usage);
        hours.entry((hour, target)).or_default().merge(&usage);
    }
    let point = |hour: Option<i64>, target: String, u: Usage| UsagePoint {
        hour: hour.map(format_time),
        target,
        invocations: u.invocations,
        successes: u.successes,
        fuel_used: u.fuel_used,
        p50_ms: u.durations.quantile_ms(0.5),
        p95_ms: u.durations.quantile_ms(0.95),
        failures: u.failures,
    };
    Ok(Analytics {
        from: format_time(from),
        to: format_time(to),
        hours: hours
            .into_iter()
            .map(|((hour, target), u)| point(Some(hour), target, u))
            .collect(),
        totals: totals
            .into_iter()
            .map(|(target, u)| point(None, target, u))
            .collect(),
        webhooks_disabled: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_land_within_a_bucket_of_the_truth() {
        let mut h = Histogram::default();
        for us in 1..=1000u64 {
            h.record(us * 10); // 10 µs .. 10 ms, uniform
        }
        let p50 = h.quantile_ms(0.5).unwrap();
        let p95 = h.quantile_ms(0.95).unwrap();
        assert!((5.0..=6.0).contains(&p50), "p50 {p50}");
        assert!((9.5..=11.4).contains(&p95), "p95 {p95}");
        assert_eq!(Histogram::default().quantile_ms(0.5), None);
    }

    #[test]
    fn merged_histograms_survive_their_json_form() {
        let mut a = Histogram::default();
        a.record(100);
        a.record(100_000);
        let b = Histogram::from_json(&a.to_json());
        assert_eq!(a, b);
        let mut c = b.clone();
        c.merge(&a);
        assert_eq!(c.0.values().sum::<u64>(), 4);
    }
}
