//! Installed apps: their status, version and pending upgrade, settings, pause/resume/uninstall,
//! the delivery log with replay, and usage charts.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::{Visitor, bar_chart, esc, page, refusal};
use crate::AppState;
use crate::catalog::apps;
use crate::catalog::manifest::FieldType;
use crate::events::analytics;
use crate::events::queue::{self, Filter};
use crate::installs::{self, ShownValue};
use crate::platform::Scope;
use crate::platform::page::PageRequest;
use crate::store::now_ms;

/// `/installed`: the organization's installed apps.
pub async fn list(State(state): State<AppState>, visitor: Visitor) -> Response {
    if !visitor.can(Scope::InstallationsRead) {
        return refusal(
            StatusCode::FORBIDDEN,
            Some(&visitor),
            "you cannot see installed apps",
        );
    }
    let all = match installs::list(&state.store, &visitor.session.org_id).await {
        Ok(all) => all,
        Err(e) => return refusal(StatusCode::INTERNAL_SERVER_ERROR, Some(&visitor), &e.to_string()),
    };
    let rows: String = all
        .iter()
        .map(|i| {
            let upgrade = if i.pending_upgrade.is_some() {
                " <span class=\"badge\">Upgrade waiting</span>"
            } else {
                ""
            };
            format!(
                "<tr><td><a href=\"/installed/{id}\">{name}</a>{upgrade}</td><td>{version}</td><td>{status}</td><td>{scopes}</td></tr>",
                id = esc(&i.id),
                name = esc(&i.app_name),
                version = esc(&i.version),
                status = esc(&i.status),
                scopes = esc(&i.granted_scopes.join(", ")),
            )
        })
        .collect();
    let body = if all.is_empty() {
        "<p>No app is installed yet. <a href=\"/marketplace\">Browse the marketplace</a>.</p>".to_owned()
    } else {
        format!(
            "<table><thead><tr><th>App</th><th>Version</th><th>Status</th><th>Granted</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    };
    let paid = super::billing::payer_section(&state, &visitor.session.org_id).await;
    page(
        "Installed apps",
        Some(&visitor),
        &format!("<h1>Installed apps</h1>{body}{paid}"),
    )
}

/// `/installed/{id}`: one installation.
pub async fn detail(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Query(journal): Query<super::invocations::JournalQuery>,
) -> Response {
    if !visitor.can(Scope::InstallationsRead) {
        return refusal(
            StatusCode::FORBIDDEN,
            Some(&visitor),
            "you cannot see installed apps",
        );
    }
    let org = visitor.session.org_id.clone();
    let installation = match installs::get(&state.store, &org, &id).await {
        Ok(i) => i,
        Err(e) => return refusal(StatusCode::NOT_FOUND, Some(&visitor), &e.to_string()),
    };
    let admin = visitor.can(Scope::InstallationsWrite);
    let id = esc(&installation.id);
    let mut body = format!(
        "<h1>{name}</h1><p class=\"meta\">Version {version} · <span class=\"badge {cls}\">{status}</span> · granted: {scopes}</p>",
        name = esc(&installation.app_name),
        version = esc(&installation.version),
        cls = if installation.status == "active" {
            "ok"
        } else {
            "bad"
        },
        status = esc(&installation.status),
        scopes = esc(&installation.granted_scopes.join(", ")),
    );
    if admin {
        let toggle = if installation.status == "active" {
            format!(
                "<form class=\"inline\" data-api=\"POST /v1/installations/{id}/pause\" data-confirm=\"Pause it? It stops receiving events until resumed.\">\
                 <button type=\"submit\" class=\"secondary\">Pause</button><p role=\"alert\"></p></form>"
            )
        } else {
            format!(
                "<form class=\"inline\" data-api=\"POST /v1/installations/{id}/resume\">\
                 <button type=\"submit\">Resume</button><p role=\"alert\"></p></form>"
            )
        };
        body.push_str(&format!(
            "<section>{toggle} <form class=\"inline\" data-api=\"DELETE /v1/installations/{id}\" data-then=\"/installed\" \
             data-confirm=\"Uninstall it? Its stored data and files are deleted.\">\
             <button type=\"submit\" class=\"danger\">Uninstall</button><p role=\"alert\"></p></form></section>"
        ));
    }
    if let Some(reason) = &installation.webhook_disabled {
        let enable = if admin {
            format!(
                "<form class=\"inline\" data-api=\"POST /v1/installations/{id}/webhook/enable\">\
                 <button type=\"submit\">Re-enable the webhook and send what it missed</button><p role=\"alert\"></p></form>"
            )
        } else {
            String::new()
        };
        body.push_str(&format!(
            "<section class=\"warning\"><h2>Webhook disabled</h2><p>{reason}. Events keep arriving in the delivery \
             log below as <code>webhook_disabled</code>; none is sent until the webhook is re-enabled.</p>{enable}</section>",
            reason = esc(reason)
        ));
    }
    if let Some(pending) = &installation.pending_upgrade {
        let version = apps::version(&state.store, &pending.version_id).await.ok();
        let consent = if (pending.new_scopes.is_empty() && pending.new_price.is_none()) || !admin {
            String::new()
        } else {
            let all: Vec<String> = version
                .as_ref()
                .map(|v| v.manifest.scopes.iter().map(|s| s.name.clone()).collect())
                .unwrap_or_default();
            let boxes: String = if pending.new_scopes.is_empty() {
                String::new()
            } else {
                all.iter()
                    .map(|s| {
                        let new = if pending.new_scopes.contains(s) { " <strong>(new)</strong>" } else { "" };
                        format!(
                            "<li><label><input type=\"checkbox\" name=\"scopes\" value=\"{s}\" data-list required> {s}{new}</label></li>",
                            s = esc(s)
                        )
                    })
                    .collect()
            };
            let price = match (&pending.new_price, &version) {
                (Some(_), Some(v)) => super::marketplace::price_confirmation(&v.manifest.pricing),
                _ => String::new(),
            };
            format!(
                "<form data-api=\"POST /v1/installations/{id}/upgrade\"><ul>{boxes}</ul>{price}\
                 <button type=\"submit\">Consent and upgrade</button><p role=\"alert\"></p></form>"
            )
        };
        let asks = match (&pending.new_scopes.is_empty(), &pending.new_price, &version) {
            (false, _, _) => format!(
                "It asks for new permissions: {}.",
                esc(&pending.new_scopes.join(", "))
            ),
            (true, Some(_), Some(v)) => format!(
                "It costs {}: upgrading starts paying it.",
                esc(&crate::billing::describe(&v.manifest.pricing))
            ),
            _ => String::new(),
        };
        body.push_str(&format!(
            "<section><h2>Upgrade to {}</h2><p>{asks}</p>{consent}</section>",
            esc(&pending.version),
        ));
    }
    // Settings, with secret values never shown.
    let version = apps::version(&state.store, &installation.version_id).await.ok();
    if let Some(version) = &version
        && !version.manifest.config.is_empty()
    {
        let fields: String = version
            .manifest
            .config
            .iter()
            .map(|f| {
                let name = format!("config.{}", esc(&f.key));
                let shown = installation.config.get(&f.key);
                let input = match (f.kind, shown) {
                    (FieldType::Secret, shown) => {
                        let set = matches!(shown, Some(ShownValue::Secret { set: true, .. }));
                        format!(
                            "<input name=\"{name}\" type=\"password\" autocomplete=\"off\" placeholder=\"{}\">",
                            if set { "set; leave empty to keep it" } else { "not set" }
                        )
                    }
                    (FieldType::Toggle, Some(ShownValue::Plain(v))) => {
                        let checked = if v == "true" { " checked" } else { "" };
                        format!("<input name=\"{name}\" type=\"checkbox\"{checked}>")
                    }
                    (FieldType::Toggle, _) => format!("<input name=\"{name}\" type=\"checkbox\">"),
                    (FieldType::Select, shown) => {
                        let current = match shown {
                            Some(ShownValue::Plain(v)) => v.as_str(),
                            _ => "",
                        };
                        let options: String = f
                            .options
                            .iter()
                            .map(|o| {
                                let selected = if o == current { " selected" } else { "" };
                                format!("<option{selected}>{}</option>", esc(o))
                            })
                            .collect();
                        format!("<select name=\"{name}\">{options}</select>")
                    }
                    (FieldType::Text, shown) => {
                        let value = match shown {
                            Some(ShownValue::Plain(v)) => v.as_str(),
                            _ => "",
                        };
                        format!("<input name=\"{name}\" value=\"{}\">", esc(value))
                    }
                };
                format!("<label>{} {input}</label>", esc(&f.label))
            })
            .collect();
        let save = if admin {
            "<button type=\"submit\">Save settings</button>"
        } else {
            ""
        };
        body.push_str(&format!(
            "<section><h2>Settings</h2><form data-api=\"PATCH /v1/installations/{id}/config\">{fields}{save}<p role=\"alert\"></p></form></section>"
        ));
    }
    if let Some(version) = &version {
        body.push_str(
            &super::connections::section(&state, &installation, &version.manifest.connections, admin).await,
        );
        body.push_str(
            &super::triggers::section(&state, &installation, &version.manifest.triggers, admin).await,
        );
    }
    // The app's own settings UI, for admins (it acts with the installation's scopes).
    if admin {
        let placed = crate::installs::extensions::installations_at(
            &state.store,
            &org,
            crate::catalog::manifest::ExtensionPoint::SettingsPage,
        )
        .await
        .unwrap_or_default();
        let mine: Vec<_> = placed
            .into_iter()
            .filter(|p| p.installation_id == installation.id)
            .collect();
        if !mine.is_empty() {
            let point = crate::catalog::manifest::ExtensionPoint::SettingsPage;
            let region = super::work::render_regions(&state, mine, point, "").await;
            body.push_str(&format!(
                "<section><h2>More settings, from the app</h2>{region}</section>"
            ));
        }
    }
    body.push_str(&super::invocations::installed_section(&state, &org, &installation.id, &journal).await);
    body.push_str(&super::recordings::installed_section(&state, &org, &installation.id, admin).await);
    // Usage over the last 24 hours.
    let now = now_ms();
    if let Ok(usage) = analytics::read(
        &state.store,
        analytics::UsageOf::Subscriber(&installation.id),
        now - 86_400_000,
        now,
    )
    .await
    {
        body.push_str(&usage_section(&usage));
    }
    // The delivery log.
    let page_request = PageRequest {
        before_id: None,
        limit: 50,
        created_after: None,
    };
    let filter = Filter {
        subscriber_id: Some(&installation.id),
        state: None,
    };
    let deliveries = queue::list(&state.store, &org, &filter, &page_request)
        .await
        .map(|p| p.items)
        .unwrap_or_default();
    let rows: String = deliveries
        .iter()
        .map(|d| {
            let replay = if admin && (d.state == "dead" || d.state == "succeeded") {
                format!(
                    "<form class=\"inline\" data-api=\"POST /v1/deliveries/{}/replay\"><button type=\"submit\" class=\"secondary\">Replay</button><p role=\"alert\"></p></form>",
                    esc(&d.id)
                )
            } else {
                String::new()
            };
            format!(
                "<tr><td>{}</td><td>{}</td><td><span class=\"badge {}\">{}</span></td><td>{}</td><td>{}</td><td>{}</td><td>{replay}</td></tr>",
                esc(&d.created_at),
                esc(&d.event_kind),
                if d.state == "succeeded" { "ok" } else if d.state == "dead" { "bad" } else { "" },
                esc(&d.state),
                d.attempts,
                esc(d.last_outcome.as_deref().unwrap_or("")),
                esc(d.last_message.as_deref().unwrap_or("")),
            )
        })
        .collect();
    let bulk = if admin {
        format!(
            "<form class=\"inline\" data-api=\"POST /v1/deliveries/replay\">\
             <input type=\"hidden\" name=\"subscriber_id\" value=\"{id}\">\
             <input type=\"hidden\" name=\"since\" value=\"{}\">\
             <button type=\"submit\" class=\"secondary\">Retry every failure of the last 7 days</button><p role=\"alert\"></p></form>",
            esc(&crate::platform::format_time(now - 7 * 86_400_000))
        )
    } else {
        String::new()
    };
    body.push_str(&format!(
        "<section><h2>Deliveries</h2>{bulk}<table id=\"deliveries\"><thead><tr><th>When</th><th>Event</th><th>State</th>\
         <th>Attempts</th><th>Outcome</th><th>Detail</th><th></th></tr></thead><tbody>{rows}</tbody></table></section>"
    ));
    page(&installation.app_name, Some(&visitor), &body)
}

/// Charts of invocations, failures, p95 duration and fuel per hour, and the totals.
pub fn usage_section(usage: &analytics::Analytics) -> String {
    let hour = |p: &analytics::UsagePoint| {
        p.hour
            .as_deref()
            .and_then(|h| h.get(11..16))
            .unwrap_or_default()
            .to_owned()
    };
    let series = |f: &dyn Fn(&analytics::UsagePoint) -> f64| -> Vec<(String, f64)> {
        usage.hours.iter().map(|p| (hour(p), f(p))).collect()
    };
    let invocations = series(&|p| p.invocations as f64);
    let failures = series(&|p| p.failures.values().sum::<u64>() as f64);
    let p95 = series(&|p| p.p95_ms.unwrap_or(0.0));
    let fuel = series(&|p| p.fuel_used as f64);
    let totals: String = usage
        .totals
        .iter()
        .map(|t| {
            let failures: String = t
                .failures
                .iter()
                .map(|(class, n)| format!("{class}: {n}"))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&t.target),
                t.invocations,
                t.successes,
                esc(if failures.is_empty() { "none" } else { &failures }),
                t.p50_ms.map(|v| format!("{v} ms")).unwrap_or_default(),
                t.p95_ms.map(|v| format!("{v} ms")).unwrap_or_default(),
                t.fuel_used
            )
        })
        .collect();
    format!(
        "<section id=\"usage\"><h2>Usage, last 24 hours</h2>{}<div class=\"failures\">{}</div>{}{}\
         <table><thead><tr><th>Target</th><th>Invocations</th><th>Successes</th><th>Failures by class</th><th>p50</th><th>p95</th><th>Fuel</th></tr></thead>\
         <tbody>{totals}</tbody></table></section>",
        bar_chart("Invocations per hour", &invocations, "invocations"),
        bar_chart("Failures per hour", &failures, "failures"),
        bar_chart("p95 duration per hour", &p95, "ms"),
        bar_chart("Fuel per hour", &fuel, "fuel"),
    )
}
