//! Connections on the installed-app page (their health, connect, enter a key, disconnect) and
//! `/connections/callback`, where a vendor's sign-in comes back.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Visitor, esc, refusal};
use crate::AppState;
use crate::capabilities::credentials as connections;
use crate::installs;
use crate::policy::connections::{ConnectionKind, ConnectionSpec};

/// The "Connections" section of `/installed/{id}`; empty when the app declares none.
pub async fn section(
    state: &AppState,
    installation: &installs::Installation,
    specs: &[ConnectionSpec],
    admin: bool,
) -> String {
    if specs.is_empty() {
        return String::new();
    }
    let health = match connections::health(&state.store, &installation.id, &installation.app_id, specs).await
    {
        Ok(health) => health,
        Err(e) => {
            return format!(
                "<section><h2>Connections</h2><p role=\"alert\">{}</p></section>",
                esc(&e.to_string())
            );
        }
    };
    let id = esc(&installation.id);
    let rows: String = health
        .iter()
        .map(|c| {
            let name = esc(&c.name);
            let (badge, said) = match c.state.as_str() {
                "connected" => ("ok", "connected".to_owned()),
                "rejected" => ("bad", "connect again".to_owned()),
                _ => ("", "not connected".to_owned()),
            };
            let mut detail = Vec::new();
            if let Some(account) = &c.account {
                detail.push(format!("account {}", esc(account)));
            }
            if let Some(problem) = &c.problem {
                detail.push(esc(problem));
            }
            if let Some(at) = c.refreshed_at.as_ref().or(c.connected_at.as_ref()) {
                detail.push(format!("since {}", esc(at)));
            }
            if let Some(at) = &c.expires_at {
                detail.push(format!("token until {} (refreshed before it expires)", esc(at)));
            }
            let actions = if !admin {
                String::new()
            } else {
                let connect = match c.kind {
                    ConnectionKind::Oauth2 if !c.ready => {
                        "<p class=\"meta\">The app's developer has not set it up yet.</p>".to_owned()
                    }
                    ConnectionKind::Oauth2 => format!(
                        "<form class=\"inline\" data-api=\"POST /v1/installations/{id}/connections/{name}/sign-in\" data-follow>\
                         <button type=\"submit\">{}</button><p role=\"alert\"></p></form>",
                        if c.state == "not-connected" { "Connect" } else { "Connect again" }
                    ),
                    ConnectionKind::ApiKey => format!(
                        "<form class=\"inline\" data-api=\"PUT /v1/installations/{id}/connections/{name}\">\
                         <label>Key <input name=\"key\" type=\"password\" autocomplete=\"off\" required></label>\
                         <button type=\"submit\">Save the key</button><p role=\"alert\"></p></form>"
                    ),
                };
                let disconnect = if c.state == "not-connected" {
                    String::new()
                } else {
                    format!(
                        "<form class=\"inline\" data-api=\"DELETE /v1/installations/{id}/connections/{name}\" \
                         data-confirm=\"Disconnect it? The app's calls to it fail until you connect again.\">\
                         <button type=\"submit\" class=\"secondary\">Disconnect</button><p role=\"alert\"></p></form>"
                    )
                };
                format!("{connect} {disconnect}")
            };
            format!(
                "<tr id=\"connection-{name}\"><td>{title}<br><span class=\"meta\">for {hosts}</span></td>\
                 <td><span class=\"badge {badge}\">{said}</span><br><span class=\"meta\">{detail}</span></td><td>{actions}</td></tr>",
                title = esc(&c.title),
                hosts = esc(&c.hosts.join(", ")),
                detail = detail.join(" · "),
            )
        })
        .collect();
    format!(
        "<section id=\"connections\"><h2>Connections</h2><p class=\"meta\">Bazaar keeps these credentials sealed and \
         adds them to the app's requests to the hosts named, and nowhere else: the app never sees them.</p>\
         <table><tbody>{rows}</tbody></table></section>"
    )
}

#[derive(Deserialize)]
pub struct Callback {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `/connections/callback`: the vendor sends the person back with a code (or an error); the
/// state must be one this person started, unused and fresh.
pub async fn callback(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(back): Query<Callback>,
) -> Response {
    let Some(sign_in_state) = back.state.as_deref() else {
        return refusal(
            StatusCode::BAD_REQUEST,
            Some(&visitor),
            "the vendor sent no state: start connecting again",
        );
    };
    let sign_in = match connections::take_sign_in(
        &state.store,
        &state.secrets,
        &visitor.session.user_id,
        sign_in_state,
    )
    .await
    {
        Ok(sign_in) => sign_in,
        Err(e) => return refusal(StatusCode::BAD_REQUEST, Some(&visitor), &e.to_string()),
    };
    let back_to = format!("/installed/{}", sign_in.installation_id);
    if let Some(error) = back.error {
        let said = back
            .error_description
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        return refusal(
            StatusCode::BAD_REQUEST,
            Some(&visitor),
            &format!("the vendor did not connect the account: {error}{said}"),
        );
    }
    let Some(code) = back.code else {
        return refusal(
            StatusCode::BAD_REQUEST,
            Some(&visitor),
            "the vendor sent no code: start connecting again",
        );
    };
    let found =
        crate::api::connections::of_installation(&state, &visitor.session.org_id, &sign_in.installation_id)
            .await;
    let Ok((installation, specs)) = found else {
        return refusal(
            StatusCode::NOT_FOUND,
            Some(&visitor),
            "that installation is not in this organization",
        );
    };
    let Some(spec) = specs.into_iter().find(|c| c.name == sign_in.name) else {
        return refusal(
            StatusCode::NOT_FOUND,
            Some(&visitor),
            "the app no longer declares that connection",
        );
    };
    let finished = connections::finish_sign_in(
        &state.store,
        &state.secrets,
        &state.issuer,
        state.config.allow_private_network,
        &installation.app_id,
        &spec,
        sign_in,
        &code,
    )
    .await;
    match finished {
        Ok(()) => Redirect::to(&format!("{back_to}#connections")).into_response(),
        Err(e) => refusal(StatusCode::BAD_GATEWAY, Some(&visitor), &e.to_string()),
    }
}
