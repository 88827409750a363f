//! Inbound web triggers on the installed-app page: the URL to give each tool, how it proves
//! itself, its secret (shown on request to admins), and what arrived.

use super::esc;
use crate::AppState;
use crate::catalog::manifest::TriggerSpec;
use crate::installs::{self, triggers};

/// The "Web triggers" section of `/installed/{id}`; empty when the app declares none.
pub async fn section(
    state: &AppState,
    installation: &installs::Installation,
    specs: &[TriggerSpec],
    admin: bool,
) -> String {
    if specs.is_empty() {
        return String::new();
    }
    let listed = match triggers::list(&state.store, &state.issuer, &installation.id, specs).await {
        Ok(listed) => listed,
        Err(e) => {
            return format!(
                "<section><h2>Web triggers</h2><p role=\"alert\">{}</p></section>",
                esc(&e.to_string())
            );
        }
    };
    let id = esc(&installation.id);
    let rows: String = listed
        .iter()
        .map(|t| {
            let name = esc(&t.name);
            let refused = match (&t.last_refused_at, &t.last_refusal) {
                (Some(at), Some(why)) => format!("<br><span class=\"meta\">last refused {}: {}</span>", esc(at), esc(why)),
                _ => String::new(),
            };
            let secret = if admin {
                format!(
                    "<form class=\"inline\" data-api=\"GET /v1/installations/{id}/triggers/{name}/secret\" data-show=\"#trigger-secret-{name}\">\
                     <button type=\"submit\" class=\"secondary\">Show the secret</button><p role=\"alert\"></p></form>\
                     <form class=\"inline\" data-api=\"POST /v1/installations/{id}/triggers/{name}/secret/rotate\" data-show=\"#trigger-secret-{name}\" \
                     data-confirm=\"Replace the secret? Requests signed with the old one are refused from now on.\">\
                     <button type=\"submit\" class=\"secondary\">Replace it</button><p role=\"alert\"></p></form>\
                     <pre id=\"trigger-secret-{name}\" hidden></pre>"
                )
            } else {
                String::new()
            };
            format!(
                "<tr id=\"trigger-{name}\"><td>{title}<br><code>{url}</code><br><span class=\"meta\">{auth}</span></td>\
                 <td>{accepted} accepted · {refused_n} refused{refused}</td><td>{secret}</td></tr>",
                title = esc(&t.title),
                url = esc(&t.url),
                auth = esc(&t.auth),
                accepted = t.accepted,
                refused_n = t.refused,
            )
        })
        .collect();
    format!(
        "<section id=\"triggers\"><h2>Web triggers</h2><p class=\"meta\">Give each URL and its secret to the tool \
         (GitHub: the repository's Settings → Webhooks). Bazaar checks every request's signature before the app \
         sees it and refuses the rest.</p><table><tbody>{rows}</tbody></table></section>"
    )
}
