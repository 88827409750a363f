//! Paid apps: the ledger of what tenants pay for the apps they install (tables `subscriptions`
//! and `charges`). A one-time app is charged once at install; a monthly app starts a
//! subscription charged for its first month at install and at each renewal; uninstalling ends it
//! at the end of the paid period (no refund, no further charge). Each charge keeps the
//! platform's fee (its revenue share, 20 % by default) and the developer's share, for the
//! organization's monthly statement and the developer's payout statement.
//!
//! Money moves through a [`PaymentProvider`]; [`RecordingProvider`] records each charge and
//! accepts it, for local runs and tests (no card is charged). A real provider (a card processor's
//! API with the tenant's saved payment method) implements the same trait.

pub mod provider;

use serde::Serialize;
use utoipa::ToSchema;

pub use provider::{ChargeRequest, PaymentError, PaymentProvider, Receipt, RecordingProvider};

use crate::catalog::apps::App;
use crate::catalog::manifest::Pricing;
use crate::platform::{PlatformError, Result, format_time};
use crate::store::{Store, new_id, now_ms};

/// The platform's revenue share when the configuration does not set one.
pub const DEFAULT_PLATFORM_SHARE_PERCENT: u32 = 20;

/// A paid app's price, as the tenant confirms it at install.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub price_cents: u32,
    /// ISO 4217, as the manifest gives it (`EUR`).
    pub currency: String,
}

/// What installing an app with `pricing` costs, or `None` for a free one.
pub fn price_of(pricing: &Pricing) -> Option<Price> {
    match pricing {
        Pricing::Free => None,
        Pricing::OneTime {
            price_cents,
            currency,
        }
        | Pricing::Monthly {
            price_cents,
            currency,
        } => Some(Price {
            price_cents: *price_cents,
            currency: currency.clone(),
        }),
    }
}

/// The price in words: `Free`, `9.00 EUR a month`, `49.00 EUR once`.
pub fn describe(pricing: &Pricing) -> String {
    match pricing {
        Pricing::Free => "Free".into(),
        Pricing::OneTime {
            price_cents,
            currency,
        } => format!("{:.2} {currency} once", f64::from(*price_cents) / 100.0),
        Pricing::Monthly {
            price_cents,
            currency,
        } => format!("{:.2} {currency} a month", f64::from(*price_cents) / 100.0),
    }
}

/// Checks the tenant confirmed exactly the app's price (nothing to confirm for a free app).
pub fn check_accepted(app_name: &str, pricing: &Pricing, accepted: Option<&Price>) -> Result<()> {
    match (price_of(pricing), accepted) {
        (None, _) => Ok(()),
        (Some(price), Some(given)) if *given == price => Ok(()),
        (Some(price), _) => Err(PlatformError::Invalid(format!(
            "{app_name} costs {}: confirm it with \"accept_price\": {{\"price_cents\": {}, \"currency\": \"{}\"}}",
            describe(pricing),
            price.price_cents,
            price.currency
        ))),
    }
}

/// One calendar month after `ms` (the 31st becomes the month's last day).
pub fn month_after(ms: i64) -> i64 {
    let Ok(at) = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) else {
        return ms + 30 * 86_400_000;
    };
    let (year, month) = match at.month() {
        time::Month::December => (at.year() + 1, time::Month::January),
        m => (at.year(), m.next()),
    };
    let day = at.day().min(month.length(year));
    time::Date::from_calendar_date(year, month, day)
        .map(|date| {
            let next = at.replace_date(date);
            (next.unix_timestamp_nanos() / 1_000_000) as i64
        })
        .unwrap_or(ms + 30 * 86_400_000)
}

/// The ledger, with the provider money moves through and the platform's share.
pub struct Billing {
    pub provider: Box<dyn PaymentProvider>,
    pub platform_share_percent: u32,
}

/// A subscription (or a one-time purchase) of an installation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Subscription {
    pub id: String,
    pub installation_id: String,
    pub app_id: String,
    /// `one-time` or `monthly`.
    pub plan: String,
    pub price_cents: i64,
    pub currency: String,
    /// `active`, `ending` (uninstalled; runs to the end of the paid period) or `ended`.
    pub state: String,
    pub started_at: String,
    /// The end of the paid month (monthly plans).
    pub paid_until: Option<String>,
    /// Why it ended early: the app was suspended, or renewals were declined.
    pub ended_reason: Option<String>,
}

impl Billing {
    /// Starts paying for a just-made installation of a paid app: records the subscription and
    /// charges the first payment. Nothing for a free app.
    pub async fn start(
        &self,
        store: &Store,
        org_id: &str,
        installation_id: &str,
        app: &App,
        pricing: &Pricing,
    ) -> Result<Option<Subscription>> {
        let (plan, price_cents, currency) = match pricing {
            Pricing::Free => return Ok(None),
            Pricing::OneTime {
                price_cents,
                currency,
            } => ("one-time", *price_cents, currency),
            Pricing::Monthly {
                price_cents,
                currency,
            } => ("monthly", *price_cents, currency),
        };
        let now = now_ms();
        let period_end = (plan == "monthly").then(|| month_after(now));
        let id = new_id("sub");
        crate::store::query(
            "INSERT INTO subscriptions (id, org_id, app_id, app_name, installation_id, developer_org_id, plan, price_cents, \
             currency, state, started_at, period_start, period_end) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', $10, $10, $11)",
        )
        .bind(&id)
        .bind(org_id)
        .bind(&app.id)
        .bind(&app.name)
        .bind(installation_id)
        .bind(&app.owner_org_id)
        .bind(plan)
        .bind(i64::from(price_cents))
        .bind(currency)
        .bind(now)
        .bind(period_end)
        .execute(store.writer())
        .await?;
        if let Err(declined) = self.charge(store, &id, now, period_end).await {
            // Nothing is owed for what was never paid: no subscription is left behind.
            crate::store::query("DELETE FROM subscriptions WHERE id = $1")
                .bind(&id)
                .execute(store.writer())
                .await?;
            return Err(declined);
        }
        subscription(store, &id).await.map(Some)
    }

    /// Charges one payment of a subscription (its first, or a renewal) and writes it in the
    /// ledger with the platform's fee.
    async fn charge(
        &self,
        store: &Store,
        subscription_id: &str,
        period_start: i64,
        period_end: Option<i64>,
    ) -> Result<()> {
        let (org_id, app_id, app_name, developer_org_id, plan, price_cents, currency): (
            String,
            String,
            String,
            String,
            String,
            i64,
            String,
        ) = crate::store::query_as(
            "SELECT org_id, app_id, app_name, developer_org_id, plan, price_cents, currency FROM subscriptions WHERE id = $1",
        )
        .bind(subscription_id)
        .fetch_one(store.reader())
        .await?;
        let description = match period_end {
            Some(end) => format!(
                "{app_name}, {} to {}",
                &format_time(period_start)[..10],
                &format_time(end)[..10]
            ),
            None => format!("{app_name}, one-time purchase"),
        };
        let request = ChargeRequest {
            org_id: org_id.clone(),
            amount_cents: price_cents,
            currency: currency.clone(),
            description: description.clone(),
            idempotency_key: format!("{subscription_id}:{period_start}"),
        };
        let receipt =
            self.provider.charge(&request).await.map_err(|e| {
                PlatformError::Conflict(format!("the payment for {app_name} was declined: {e}"))
            })?;
        let fee = (price_cents * i64::from(self.platform_share_percent.min(100)) + 50) / 100;
        crate::store::query(
            "INSERT INTO charges (id, subscription_id, org_id, app_id, app_name, developer_org_id, plan, amount_cents, currency, \
             platform_fee_cents, description, period_start, period_end, charged_at, provider_ref) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(new_id("chg"))
        .bind(subscription_id)
        .bind(&org_id)
        .bind(&app_id)
        .bind(&app_name)
        .bind(&developer_org_id)
        .bind(&plan)
        .bind(price_cents)
        .bind(&currency)
        .bind(fee)
        .bind(&description)
        .bind(period_start)
        .bind(period_end)
        // Billed on the day its period starts (a renewal runs within a minute of it).
        .bind(period_start)
        .bind(&receipt.reference)
        .execute(store.writer())
        .await?;
        Ok(())
    }

    /// An upgrade changed the app's pricing from `from` to `to`: a monthly price changes from
    /// the next renewal; a version that became free ends the subscription with the paid
    /// month; a new paid plan ends the old one and starts (and charges) the new one.
    pub async fn reprice(
        &self,
        store: &Store,
        org_id: &str,
        installation_id: &str,
        app: &App,
        from: &Pricing,
        to: &Pricing,
    ) -> Result<()> {
        match (from, to) {
            _ if from == to => Ok(()),
            (Pricing::OneTime { .. }, Pricing::OneTime { .. }) => Ok(()),
            (
                Pricing::Monthly { .. },
                Pricing::Monthly {
                    price_cents,
                    currency,
                },
            ) => {
                crate::store::query(
                    "UPDATE subscriptions SET price_cents = $1, currency = $2 WHERE installation_id = $3 AND state = 'active'",
                )
                .bind(i64::from(*price_cents))
                .bind(currency)
                .bind(installation_id)
                .execute(store.writer())
                .await?;
                Ok(())
            }
            _ => {
                let mut conn = store.writer().acquire().await?;
                end(&mut conn, installation_id).await?;
                drop(conn);
                self.start(store, org_id, installation_id, app, to)
                    .await
                    .map(|_| ())
            }
        }
    }

    /// Renews the monthly subscriptions whose paid month is over (charging the next one), and
    /// ends those uninstalled, or of an app reviewers suspended, whose paid month is over. Run about once a minute on each node;
    /// the provider's idempotency key makes a renewal raced by two nodes charge once.
    pub async fn renew_due(&self, store: &Store, now: i64) -> Result<Renewals> {
        crate::store::query("UPDATE subscriptions SET state = 'ended', ended_at = $1 WHERE state = 'ending' AND ends_at <= $1")
            .bind(now)
            .execute(store.writer())
            .await?;
        let due: Vec<(String, String, String, String, i64, i64, i64)> = crate::store::query_as(
            "SELECT id, org_id, installation_id, app_id, period_start, period_end, declines FROM subscriptions \
             WHERE state = 'active' AND plan = 'monthly' AND period_end <= $1 AND (retry_at IS NULL OR retry_at <= $1)",
        )
        .bind(now)
        .fetch_all(store.reader())
        .await?;
        let mut renewals = Renewals::default();
        for (id, org_id, installation_id, app_id, period_start, period_end, declines) in due {
            // An app suspended by reviewers is not paid for any more: its subscriptions end
            // with the month already paid.
            if crate::catalog::apps::get(store, &app_id)
                .await
                .is_ok_and(|app| app.status != "active")
            {
                self.end_now(store, &id, now, "the app was suspended").await?;
                continue;
            }
            let next_end = month_after(period_end);
            // Claim the renewal: only the node whose update moved the period charges it.
            let claimed = crate::store::query(
                "UPDATE subscriptions SET period_start = $1, period_end = $2 WHERE id = $3 AND period_end = $1 AND state = 'active'",
            )
            .bind(period_end)
            .bind(next_end)
            .bind(&id)
            .execute(store.writer())
            .await?;
            if claimed.rows_affected() != 1 {
                continue;
            }
            match self.charge(store, &id, period_end, Some(next_end)).await {
                Ok(()) => {
                    crate::store::query(
                        "UPDATE subscriptions SET declines = 0, retry_at = NULL WHERE id = $1",
                    )
                    .bind(&id)
                    .execute(store.writer())
                    .await?;
                    renewals.renewed += 1;
                }
                // Declined (or the provider is down): not a free month. The period goes back
                // and the renewal is tried again a day later; after the third decline the
                // subscription ends unpaid and the installation is paused.
                Err(e) => {
                    tracing::warn!(subscription = %id, error = %e, "a renewal was not charged");
                    crate::store::query(
                        "UPDATE subscriptions SET period_start = $1, period_end = $2, declines = declines + 1, retry_at = $3 \
                         WHERE id = $4 AND period_end = $5",
                    )
                    .bind(period_start)
                    .bind(period_end)
                    .bind(now + RETRY_AFTER_DECLINE_MS)
                    .bind(&id)
                    .bind(next_end)
                    .execute(store.writer())
                    .await?;
                    if declines + 1 >= MAX_DECLINES {
                        self.end_now(store, &id, now, &format!("unpaid: {e}")).await?;
                        renewals.lapsed.push(Lapsed {
                            org_id,
                            installation_id,
                        });
                    }
                }
            }
        }
        Ok(renewals)
    }

    async fn end_now(&self, store: &Store, id: &str, now: i64, reason: &str) -> Result<()> {
        crate::store::query(
            "UPDATE subscriptions SET state = 'ended', ended_at = $1, ended_reason = $2 WHERE id = $3 AND state = 'active'",
        )
        .bind(now)
        .bind(reason)
        .bind(id)
        .execute(store.writer())
        .await?;
        Ok(())
    }
}

/// Declines in a row after which a subscription ends unpaid.
pub const MAX_DECLINES: i64 = 3;
/// How long after a declined renewal it is tried again.
const RETRY_AFTER_DECLINE_MS: i64 = 24 * 3_600_000;

/// What a round of renewals did.
#[derive(Debug, Default)]
pub struct Renewals {
    pub renewed: usize,
    /// Subscriptions that ended unpaid: their installations are to be paused.
    pub lapsed: Vec<Lapsed>,
}

/// An installation whose subscription ended unpaid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lapsed {
    pub org_id: String,
    pub installation_id: String,
}

/// Uninstalling (in its transaction): a monthly subscription runs to the end of its paid
/// month, then ends; a one-time purchase ends now (it was paid in full).
pub async fn end(
    conn: &mut crate::store::Conn,
    installation_id: &str,
) -> std::result::Result<(), crate::store::Error> {
    crate::store::query(
        "UPDATE subscriptions SET state = 'ending', ends_at = period_end WHERE installation_id = $1 AND state = 'active' AND plan = 'monthly'",
    )
    .bind(installation_id)
    .execute(&mut *conn)
    .await?;
    crate::store::query(
        "UPDATE subscriptions SET state = 'ended', ended_at = $1 WHERE installation_id = $2 AND state = 'active' AND plan = 'one-time'",
    )
    .bind(now_ms())
    .bind(installation_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

type SubscriptionRow = (
    String,
    String,
    String,
    String,
    i64,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
);

fn subscription_of(
    (id, installation_id, app_id, plan, price_cents, currency, state, started_at, period_end, ended_reason): SubscriptionRow,
) -> Subscription {
    Subscription {
        ended_reason,
        id,
        installation_id,
        app_id,
        paid_until: period_end.map(format_time),
        plan,
        price_cents,
        currency,
        state,
        started_at: format_time(started_at),
    }
}

const SUBSCRIPTION_COLUMNS: &str =
    "id, installation_id, app_id, plan, price_cents, currency, state, started_at, period_end, ended_reason";

async fn subscription(store: &Store, id: &str) -> Result<Subscription> {
    let row: SubscriptionRow = crate::store::query_as(&format!(
        "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = $1"
    ))
    .bind(id)
    .fetch_one(store.reader())
    .await?;
    Ok(subscription_of(row))
}

/// The organization's subscriptions, newest first.
pub async fn subscriptions(store: &Store, org_id: &str) -> Result<Vec<Subscription>> {
    let rows: Vec<SubscriptionRow> = crate::store::query_as(&format!(
        "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE org_id = $1 ORDER BY started_at DESC, id DESC"
    ))
    .bind(org_id)
    .fetch_all(store.reader())
    .await?;
    Ok(rows.into_iter().map(subscription_of).collect())
}

/// One line of a statement.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Line {
    pub charged_at: String,
    pub app_id: String,
    pub app_name: String,
    /// What was paid for: `Monthly Stats, 2026-12-06 to 2027-01-06`.
    pub description: String,
    pub amount_cents: i64,
    /// The platform's revenue share of the amount.
    pub platform_fee_cents: i64,
    /// What the developer is paid.
    pub developer_cents: i64,
    pub currency: String,
}

/// A month's statement: what an organization paid, or what a developer earned.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Statement {
    /// `2026-12`.
    pub month: String,
    pub lines: Vec<Line>,
    /// Totals per currency.
    pub totals: Vec<Total>,
}

/// A statement's totals in one currency.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Total {
    pub currency: String,
    pub amount_cents: i64,
    pub platform_fee_cents: i64,
    pub developer_cents: i64,
}

/// The first and the next month's first millisecond of `month` (`2026-12`), UTC.
fn month_bounds(month: &str) -> Result<(i64, i64)> {
    let bad = || PlatformError::Invalid(format!("`month` must look like 2026-12, not `{month}`"));
    let (year, number) = month.split_once('-').ok_or_else(bad)?;
    let year: i32 = year.parse().map_err(|_| bad())?;
    let number: u8 = number.parse().map_err(|_| bad())?;
    let month = time::Month::try_from(number).map_err(|_| bad())?;
    let start = time::Date::from_calendar_date(year, month, 1).map_err(|_| bad())?;
    let start = (start.midnight().assume_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    Ok((start, month_after(start)))
}

/// The current month, as statements name it.
pub fn this_month() -> String {
    format_time(now_ms())[..7].to_owned()
}

/// Whose statement.
pub enum Of<'a> {
    /// What the organization paid.
    Payer(&'a str),
    /// What the developer organization earned from its apps.
    Developer(&'a str),
}

/// The statement of `month` (`2026-12`).
pub async fn statement(store: &Store, of: Of<'_>, month: &str) -> Result<Statement> {
    let (start, end) = month_bounds(month)?;
    let (column, org) = match of {
        Of::Payer(org) => ("org_id", org),
        Of::Developer(org) => ("developer_org_id", org),
    };
    let rows: Vec<(i64, String, String, String, i64, i64, String)> = crate::store::query_as(&format!(
        "SELECT charged_at, app_id, app_name, description, amount_cents, platform_fee_cents, currency FROM charges \
         WHERE {column} = $1 AND charged_at >= $2 AND charged_at < $3 ORDER BY charged_at, id"
    ))
    .bind(org)
    .bind(start)
    .bind(end)
    .fetch_all(store.reader())
    .await?;
    let lines: Vec<Line> = rows
        .into_iter()
        .map(
            |(at, app_id, app_name, description, amount, fee, currency)| Line {
                charged_at: format_time(at),
                app_id,
                app_name,
                description,
                amount_cents: amount,
                platform_fee_cents: fee,
                developer_cents: amount - fee,
                currency,
            },
        )
        .collect();
    let mut totals: Vec<Total> = Vec::new();
    for line in &lines {
        let total = match totals.iter_mut().position(|t| t.currency == line.currency) {
            Some(at) => &mut totals[at],
            None => {
                totals.push(Total {
                    currency: line.currency.clone(),
                    amount_cents: 0,
                    platform_fee_cents: 0,
                    developer_cents: 0,
                });
                totals.last_mut().expect("just pushed")
            }
        };
        total.amount_cents += line.amount_cents;
        total.platform_fee_cents += line.platform_fee_cents;
        total.developer_cents += line.developer_cents;
    }
    Ok(Statement {
        month: month.to_owned(),
        lines,
        totals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> i64 {
        crate::platform::parse_time(text).unwrap()
    }

    #[test]
    fn a_month_after_is_the_same_day_or_the_months_last() {
        assert_eq!(
            format_time(month_after(ms("2026-12-06T10:00:00Z"))),
            "2027-01-06T10:00:00Z"
        );
        assert_eq!(
            format_time(month_after(ms("2027-01-31T00:00:00Z"))),
            "2027-02-28T00:00:00Z"
        );
        assert_eq!(
            month_bounds("2026-12").unwrap(),
            (ms("2026-12-01T00:00:00Z"), ms("2027-01-01T00:00:00Z"))
        );
        assert!(month_bounds("2026-13").is_err() && month_bounds("december").is_err());
    }

    #[test]
    fn a_paid_app_needs_its_exact_price_confirmed() {
        let monthly = Pricing::Monthly {
            price_cents: 900,
            currency: "EUR".into(),
        };
        let refused = check_accepted("Stats", &monthly, None).unwrap_err().to_string();
        assert!(refused.contains("costs 9.00 EUR a month"), "{refused}");
        let cheaper = Price {
            price_cents: 100,
            currency: "EUR".into(),
        };
        assert!(check_accepted("Stats", &monthly, Some(&cheaper)).is_err());
        let exact = Price {
            price_cents: 900,
            currency: "EUR".into(),
        };
        assert!(check_accepted("Stats", &monthly, Some(&exact)).is_ok());
        assert!(check_accepted("Free", &Pricing::Free, None).is_ok());
    }
}
