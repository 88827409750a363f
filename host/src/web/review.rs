//! The review queue, for platform reviewers: pending versions with their automated findings
//! (audit and smoke run), approve or reject with a note, suspend a published app.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::{Visitor, esc, page, refusal};
use crate::AppState;
use crate::catalog::apps;

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
        body.push_str(&format!(
            "<section class=\"review\"><h2>{name} {v} <span class=\"meta\">({kind})</span></h2><p>{desc}</p>\
             <h3>Asks for</h3><ul>{scopes}</ul><h3>Automated review</h3><ul>{findings}</ul>\
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
