//! The invocation journal on the pages: the installed app's page shows the tenant every call
//! of their installation with its log lines; the developer portal's app page shows the app's
//! calls across installations, log lines only where the tenant shares them. Both filter by
//! outcome and search by event id (`?outcome=failed&event=evt_...`).

use serde::Deserialize;

use super::esc;
use crate::AppState;
use crate::runtime::Outcome as Class;
use crate::runtime::journal::{self, Filter, Invocation, Outcome};

/// The filter of the journal's section, from the page's query string.
#[derive(Debug, Default, Deserialize)]
pub struct JournalQuery {
    /// `ok`, `failed` or one failure class.
    #[serde(default)]
    pub outcome: String,
    /// An event id.
    #[serde(default)]
    pub event: String,
}

impl JournalQuery {
    fn filter(&self) -> Filter<'_> {
        let event = self.event.trim();
        Filter {
            outcome: Outcome::parse(&self.outcome),
            event_id: (!event.is_empty()).then_some(event),
            ..Filter::default()
        }
    }

    /// The GET form that sets the filter, on the page at `action`.
    fn form(&self, action: &str) -> String {
        let options: String = std::iter::once(("", "Any outcome"))
            .chain(std::iter::once(("failed", "Every failure")))
            .chain(Class::CLASSES.iter().map(|c| (*c, *c)))
            .map(|(value, label)| {
                format!(
                    "<option value=\"{value}\"{selected}>{label}</option>",
                    selected = if self.outcome == value { " selected" } else { "" }
                )
            })
            .collect();
        format!(
            "<form class=\"inline\" method=\"get\" action=\"{action}#invocations\">\
             <label>Outcome <select name=\"outcome\">{options}</select></label> \
             <label>Event id <input type=\"search\" name=\"event\" value=\"{event}\" placeholder=\"evt_…\"></label> \
             <button type=\"submit\" class=\"secondary\">Filter</button></form>",
            action = esc(action),
            event = esc(&self.event),
        )
    }
}

fn table(listed: &[Invocation], installation_column: bool) -> String {
    if listed.is_empty() {
        return "<p class=\"meta\">No call matches.</p>".into();
    }
    let rows: String = listed
        .iter()
        .map(|i| {
            let installation = if installation_column {
                format!("<td><code>{}</code></td>", esc(&i.installation_id))
            } else {
                String::new()
            };
            let log = match &i.log {
                None => "<span class=\"meta\">not shared</span>".to_owned(),
                Some(lines) if lines.is_empty() => String::new(),
                Some(lines) => format!(
                    "<details><summary>{} log lines</summary><pre>{}</pre></details>",
                    lines.len(),
                    esc(&lines.join("\n"))
                ),
            };
            let recording = i
                .recording_id
                .as_ref()
                .map(|id| {
                    format!(
                        "<a href=\"/v1/recordings/{id}\" download=\"{id}.json\">Recording</a>",
                        id = esc(id)
                    )
                })
                .unwrap_or_default();
            format!(
                "<tr>{installation}<td><time datetime=\"{at}\" title=\"{at}\">{when}</time></td><td><code>{call}</code></td><td><span class=\"badge {good}\" title=\"{message}\">{outcome}</span></td>\
                 <td>{ms:.2} ms</td><td>{fuel}</td><td>{memory} KiB</td><td><code>{event}</code></td><td>{message}{log}</td><td>{recording}</td></tr>",
                at = esc(&i.at),
                when = esc(&super::human_time(&i.at)),
                call = esc(&i.call),
                good = if i.outcome == "ok" { "ok" } else { "bad" },
                outcome = esc(&i.outcome),
                ms = i.duration_us as f64 / 1000.0,
                fuel = i.fuel_used,
                memory = i.memory_peak_bytes / 1024,
                event = esc(i.event_id.as_deref().unwrap_or("")),
                message = esc(&i.message),
            )
        })
        .collect();
    let head = if installation_column {
        "<th>Installation</th>"
    } else {
        ""
    };
    format!(
        "<table><thead><tr>{head}<th>When</th><th>Call</th><th>Outcome</th><th>Duration</th><th>Fuel</th><th>Peak memory</th>\
         <th>Event</th><th>What happened</th><th></th></tr></thead><tbody>{rows}</tbody></table>"
    )
}

/// The "Invocations" section of `/installed/{id}`: everything, for the tenant.
pub async fn installed_section(
    state: &AppState,
    org_id: &str,
    installation_id: &str,
    query: &JournalQuery,
) -> String {
    let filter = Filter {
        org_id: Some(org_id),
        installation_id: Some(installation_id),
        ..query.filter()
    };
    let listed = journal::list(&state.store, &filter, 50).await.unwrap_or_default();
    format!(
        "<section id=\"invocations\"><h2>Invocations</h2><p class=\"meta\">Every call of this app, newest first: deliveries, \
         hooks, UI renders and actions, web triggers, with the app's own log lines. A call that failed inside a page or a \
         request is here too (the page or request went on without it).</p>{form}{table}</section>",
        form = query.form(&format!("/installed/{installation_id}")),
        table = table(&listed, false),
    )
}

/// The "Invocations" section of the developer portal's app page: every installation's ids,
/// classes and timings; log lines where the tenant shares them.
pub async fn portal_section(state: &AppState, app_id: &str, query: &JournalQuery) -> String {
    let sharing = crate::installs::sharing_recordings(&state.store, app_id)
        .await
        .unwrap_or_default();
    let filter = Filter {
        app_id: Some(app_id),
        logs_of: Some(&sharing),
        ..query.filter()
    };
    let listed = journal::list(&state.store, &filter, 50).await.unwrap_or_default();
    format!(
        "<section id=\"invocations\"><h2>Invocations</h2><p class=\"meta\">Recent calls across installations, newest first. \
         Log lines and recordings show for the {n} installations whose tenants share them with you.</p>{form}{table}</section>",
        n = sharing.len(),
        form = query.form(&format!("/developer/apps/{app_id}")),
        table = table(&listed, true),
    )
}
