//! Paid apps on the pages: the installed-apps page shows what the organization pays (its
//! subscriptions and this month's statement); the developer portal shows what the
//! organization's apps earned this month after the platform's share.

use super::esc;
use crate::AppState;
use crate::billing::{self, Of, Statement};

fn money(cents: i64, currency: &str) -> String {
    format!("{:.2} {}", cents as f64 / 100.0, esc(currency))
}

fn statement_table(statement: &Statement, developer: bool) -> String {
    if statement.lines.is_empty() {
        return "<p class=\"meta\">Nothing charged this month.</p>".into();
    }
    let rows: String = statement
        .lines
        .iter()
        .map(|l| {
            let split = if developer {
                format!(
                    "<td>{}</td><td>{}</td>",
                    money(l.platform_fee_cents, &l.currency),
                    money(l.developer_cents, &l.currency)
                )
            } else {
                String::new()
            };
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td>{split}</tr>",
                esc(&super::marketplace::human_date(Some(&l.charged_at))),
                esc(&l.description),
                money(l.amount_cents, &l.currency)
            )
        })
        .collect();
    let totals: String = statement
        .totals
        .iter()
        .map(|t| {
            let split = if developer {
                format!(
                    "<td>{}</td><td><strong>{}</strong></td>",
                    money(t.platform_fee_cents, &t.currency),
                    money(t.developer_cents, &t.currency)
                )
            } else {
                String::new()
            };
            format!(
                "<tr><th scope=\"row\" colspan=\"2\">Total</th><td><strong>{}</strong></td>{split}</tr>",
                money(t.amount_cents, &t.currency)
            )
        })
        .collect();
    let head = if developer {
        "<th>Platform's share</th><th>Paid to you</th>"
    } else {
        ""
    };
    format!(
        "<table><thead><tr><th>Charged</th><th>For</th><th>Amount</th>{head}</tr></thead><tbody>{rows}</tbody>\
         <tfoot>{totals}</tfoot></table>"
    )
}

/// The "Paid apps" section of `/installed`.
pub async fn payer_section(state: &AppState, org_id: &str) -> String {
    let subscriptions = billing::subscriptions(&state.store, org_id)
        .await
        .unwrap_or_default();
    if subscriptions.is_empty() {
        return String::new();
    }
    let month = billing::this_month();
    let statement = billing::statement(&state.store, Of::Payer(org_id), &month).await;
    let rows: String = subscriptions
        .iter()
        .map(|s| {
            let until = match (s.state.as_str(), &s.paid_until) {
                ("active", Some(until)) => format!("renews {}", super::marketplace::human_date(Some(until))),
                ("ending", Some(until)) => format!("ends {}", super::marketplace::human_date(Some(until))),
                (state, _) => state.to_owned(),
            };
            format!(
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&s.installation_id),
                esc(&s.plan),
                money(s.price_cents, &s.currency),
                esc(&until)
            )
        })
        .collect();
    format!(
        "<section id=\"billing\"><h2>Paid apps</h2><table><thead><tr><th>Installation</th><th>Plan</th><th>Price</th>\
         <th>State</th></tr></thead><tbody>{rows}</tbody></table><h3>Statement for {month}</h3>{table}</section>",
        month = esc(&month),
        table = statement.map(|s| statement_table(&s, false)).unwrap_or_default(),
    )
}

/// The "Payouts" section of the developer portal.
pub async fn developer_section(state: &AppState, org_id: &str) -> String {
    let month = billing::this_month();
    let Ok(statement) = billing::statement(&state.store, Of::Developer(org_id), &month).await else {
        return String::new();
    };
    format!(
        "<section id=\"payouts\"><h2>Payouts for {month}</h2><p class=\"meta\">What tenants paid for your apps this month, \
         the platform's share ({share} %) and what is paid to you.</p>{table}</section>",
        month = esc(&month),
        share = state.billing.platform_share_percent,
        table = statement_table(&statement, true),
    )
}
