//! Recordings of calls on the pages: the installed app's page shows the tenant every
//! recording of their installation (and whether the developer may fetch them); the developer
//! portal shows an app's developer those that tenants share. Each downloads as the JSON that
//! `bazaar plugin replay` reads.

use super::esc;
use crate::AppState;
use crate::runtime::recordings::{self, Filter, Summary};

fn table(listed: &[Summary], installation_column: bool) -> String {
    if listed.is_empty() {
        return "<p class=\"meta\">No call recorded.</p>".into();
    }
    let rows: String = listed
        .iter()
        .map(|r| {
            let installation = if installation_column {
                format!("<td><code>{}</code></td>", esc(&r.installation_id))
            } else {
                String::new()
            };
            format!(
                "<tr>{installation}<td>{when}</td><td>{input}</td><td><span class=\"badge {class}\">{outcome}</span></td>\
                 <td>{fuel}</td><td><code>{event}</code></td><td><a href=\"/v1/recordings/{id}\" download=\"{id}.json\">Download</a></td></tr>",
                when = esc(&r.created_at),
                input = esc(&r.input),
                outcome = esc(&r.outcome),
                class = if r.outcome == "ok" { "ok" } else { "bad" },
                fuel = r.fuel_used,
                event = esc(r.event_id.as_deref().unwrap_or("")),
                id = esc(&r.id),
            )
        })
        .collect();
    let head = if installation_column {
        "<th>Installation</th>"
    } else {
        ""
    };
    format!(
        "<table><thead><tr>{head}<th>When</th><th>Call</th><th>Outcome</th><th>Fuel</th><th>Event</th><th></th></tr></thead>\
         <tbody>{rows}</tbody></table>"
    )
}

/// The "Recorded calls" section of `/installed/{id}`.
pub async fn installed_section(state: &AppState, org_id: &str, installation_id: &str, admin: bool) -> String {
    let filter = Filter {
        org_id: Some(org_id),
        installation_id: Some(installation_id),
        ..Filter::default()
    };
    let listed = recordings::list(&state.store, &filter, 20)
        .await
        .unwrap_or_default();
    let shared = crate::installs::shares_recordings(&state.store, installation_id)
        .await
        .unwrap_or(false);
    let id = esc(installation_id);
    let sharing = if admin {
        format!(
            "<form class=\"inline\" data-api=\"PUT /v1/installations/{id}/recordings-sharing\">\
             <input type=\"hidden\" name=\"share\" value=\"{next}\" data-json>\
             <button type=\"submit\" class=\"secondary\">{label}</button><p role=\"alert\"></p></form>",
            next = !shared,
            label = if shared {
                "Stop sharing them with the app's developer"
            } else {
                "Share them with the app's developer"
            },
        )
    } else {
        String::new()
    };
    format!(
        "<section id=\"recordings\"><h2>Recorded calls</h2><p class=\"meta\">Each failed call of this app and the latest that ended well, with what it \
         received (never a secret), to run it again with <code>bazaar plugin replay</code>. {who}</p>{sharing}{table}</section>",
        who = if shared {
            "The app's developer can fetch them, and read this installation's log lines."
        } else {
            "Only your organization and platform reviewers can fetch them; the app's developer sees its calls' outcomes and timings, not their log lines."
        },
        table = table(&listed, false),
    )
}

/// The "Recorded calls" section of the developer portal's app page: installations that
/// share theirs.
pub async fn portal_section(state: &AppState, app_id: &str) -> String {
    let sharing = crate::installs::sharing_recordings(&state.store, app_id)
        .await
        .unwrap_or_default();
    let filter = Filter {
        app_id: Some(app_id),
        installations_in: Some(&sharing),
        ..Filter::default()
    };
    let listed = recordings::list(&state.store, &filter, 20)
        .await
        .unwrap_or_default();
    format!(
        "<section id=\"recordings\"><h2>Recorded calls</h2><p class=\"meta\">From the {n} installations whose tenants \
         share them with you. Replay one with <code>bazaar plugin replay FILE --component NEW.wasm</code>.</p>{table}</section>",
        n = sharing.len(),
        table = table(&listed, true),
    )
}
