//! The review queue, for platform reviewers: pending versions with their automated findings
//! (audit and smoke run), approve or reject with a note, suspend a published app.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::{Visitor, esc, page, refusal};
use crate::AppState;
use crate::catalog::apps;

/// "What changed since 1.0.0": scopes, imports, hosts and connections added (+) and removed (−).
fn changes_list(changes: &crate::catalog::review::Changes) -> String {
    let Some(since) = &changes.since else {
        return "<p class=\"meta\">A first version: everything it asks for is new.</p>".into();
    };
    let rows: String = [
        ("Scopes", &changes.scopes),
        ("WIT imports", &changes.imports),
        ("Internet hosts", &changes.hosts),
        ("Connections", &changes.connections),
    ]
    .into_iter()
    .filter(|(_, diff)| !diff.is_empty())
    .map(|(what, diff)| {
        let items: String = diff
            .added
            .iter()
            .map(|a| format!("<li class=\"added\">+ <code>{}</code></li>", esc(a)))
            .chain(
                diff.removed
                    .iter()
                    .map(|r| format!("<li class=\"removed\">− <code>{}</code></li>", esc(r))),
            )
            .collect();
        format!("<li>{what}<ul>{items}</ul></li>")
    })
    .collect();
    if rows.is_empty() {
        format!(
            "<h3>Changes since {}</h3><p>The same scopes, imports, hosts and connections.</p>",
            esc(since)
        )
    } else {
        format!(
            "<h3>Changes since {}</h3><ul class=\"changes\">{rows}</ul>",
            esc(since)
        )
    }
}

/// `/review`.
pub async fn queue(State(state): State<AppState>, visitor: Visitor) -> Response {
    if !visitor.session.reviewer {
        return refusal(
            StatusCode::FORBIDDEN,
            Some(&visitor),
            "only platform reviewers see the review queue",
        );
    }
    let pending = apps::review_queue(&state.store).await.unwrap_or_default();
    let mut body = String::from("<h1>Review queue</h1>");
    if pending.is_empty() {
        body.push_str("<p>Nothing waits for review.</p>");
    }
    for version in &pending {
        let Ok(app) = apps::get(&state.store, &version.app_id).await else {
            continue;
        };
        let findings: String = version
            .findings
            .iter()
            .map(|f| {
                format!(
                    "<li><span class=\"badge {}\">{}</span> {}: {}</li>",
                    if f.severity == "error" { "bad" } else { "" },
                    esc(&f.severity),
                    esc(&f.check),
                    esc(&f.message)
                )
            })
            .collect();
        let scopes: String = version
            .manifest
            .scopes
            .iter()
            .map(|s| format!("<li><strong>{}</strong>: {}</li>", esc(&s.name), esc(&s.purpose)))
            .collect();
        let vid = esc(&version.id);
        let changes = crate::catalog::review::changes(&state.store, &app, version)
            .await
            .map(|c| changes_list(&c))
            .unwrap_or_default();
        let hosts = if version.manifest.allowed_hosts.is_empty() {
            "<p class=\"meta\">No internet host.</p>".to_owned()
        } else {
            let hosts: String = version
                .manifest
                .allowed_hosts
                .iter()
                .map(|h| format!("<li><code>{}</code></li>", esc(h)))
                .collect();
            format!("<ul>{hosts}</ul>")
        };
        let connections: String = version
            .manifest
            .connections
            .iter()
            .map(|c| format!("<li>{}</li>", esc(&c.describe())))
            .collect();
        let gallery = crate::catalog::media::gallery(&state.store, &app.id)
            .await
            .unwrap_or_default();
        let shots: String = gallery
            .icon
            .iter()
            .chain(&gallery.screenshots)
            .enumerate()
            .map(|(i, image)| {
                format!(
                    "<img src=\"{}\" alt=\"{} image {}\" width=\"160\">",
                    esc(&image.url),
                    esc(&app.name),
                    i + 1
                )
            })
            .collect();
        body.push_str(&format!(
            "<section class=\"review\"><h2>{name} {v} <span class=\"meta\">({kind})</span></h2><p>{desc}</p>\
             {changes}<h3>Asks for</h3><ul>{scopes}</ul><h3>Internet hosts</h3>{hosts}\
             <h3>Connections</h3><ul>{connections}</ul><div class=\"shots\">{shots}</div><h3>Automated review</h3><ul>{findings}</ul>\
             <form data-api=\"POST /v1/review/versions/{vid}/approve\"><label>Note to the developer <input name=\"note\"></label>\
             <button type=\"submit\">Approve</button><p role=\"alert\"></p></form>\
             <form data-api=\"POST /v1/review/versions/{vid}/reject\"><label>Why it is rejected <input name=\"note\" required></label>\
             <button type=\"submit\" class=\"danger\">Reject</button><p role=\"alert\"></p></form></section>",
            name = esc(&app.name),
            v = esc(&version.version),
            kind = esc(app.kind.as_str()),
            desc = esc(&app.description),
        ));
    }
    // Published apps can be suspended from here.
    let published: Vec<_> = crate::catalog::search::search(
        &state.store,
        &Default::default(),
        &crate::catalog::search::Query {
            limit: 100,
            ..Default::default()
        },
    )
    .await
    .unwrap_or_default();
    let rows: String = published
        .iter()
        .map(|c| {
            format!(
                "<tr><td>{}</td><td><form class=\"inline\" data-api=\"POST /v1/review/apps/{}/suspend\" \
                 data-confirm=\"Suspend {}? It leaves the catalog and stops running everywhere.\">\
                 <label>Reason <input name=\"reason\" required></label><button type=\"submit\" class=\"danger\">Suspend</button>\
                 <p role=\"alert\"></p></form></td></tr>",
                esc(&c.name),
                esc(&c.id),
                esc(&c.name)
            )
        })
        .collect();
    body.push_str(&format!(
        "<section><h2>Published apps</h2><table><tbody>{rows}</tbody></table></section>"
    ));
    page("Review queue", Some(&visitor), &body)
}
