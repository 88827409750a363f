//! The web pages: marketplace, install and consent, installed apps, developer portal and review
//! queue, rendered on the server.
//!
//! Pages read through the same domain functions as `/v1`, under the signed-in person's role;
//! every change goes through `/v1` itself: forms carry `data-api="METHOD /v1/..."` and a small
//! script (`/assets/app.js`) sends them as JSON with the session's CSRF token, so the pages have
//! no private back door. No external network is needed at build or run time.

mod billing;
mod connections;
mod developer;
mod installed;
mod invocations;
mod marketplace;
mod recordings;
mod review;
mod triggers;
mod work;

use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;

pub use crate::html::{blocks, esc};

use crate::AppState;
use crate::platform::credentials::{self, SessionIdentity};
use crate::platform::orgs::{self, Role};
use crate::platform::{Scope, ScopeSet};

const STYLE: &str = include_str!("assets/style.css");
const SCRIPT: &str = include_str!("assets/app.js");

/// The pages' routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/marketplace") }))
        .route("/signin", get(sign_in))
        .route("/signup", get(sign_up))
        .route("/marketplace", get(marketplace::browse))
        .route("/marketplace/{slug}", get(marketplace::app_page))
        .route("/marketplace/{slug}/install", get(marketplace::install_page))
        .route("/publishers/{slug}", get(marketplace::publisher_page))
        .route("/media/{sha256}", get(marketplace::media))
        .route("/robots.txt", get(marketplace::robots))
        .route("/sitemap.xml", get(marketplace::sitemap))
        .route("/projects", get(work::projects))
        .route("/projects/{id}", get(work::project))
        .route("/tasks/{id}", get(work::task))
        .route("/installed", get(installed::list))
        .route("/installed/{id}", get(installed::detail))
        .route("/connections/callback", get(connections::callback))
        .route("/developer", get(developer::portal))
        .route("/developer/apps/{id}", get(developer::app_page))
        .route("/developer/docs", get(developer::docs))
        .route("/review", get(review::queue))
        .route("/assets/style.css", get(|| async { asset("text/css", STYLE) }))
        .route(
            "/assets/app.js",
            get(|| async { asset("text/javascript", SCRIPT) }),
        )
}

fn asset(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// The signed-in person behind a page, with their organizations.
pub struct Visitor {
    pub session: SessionIdentity,
    pub org_name: String,
    pub orgs: Vec<(orgs::Organization, Role)>,
}

impl Visitor {
    pub fn scopes(&self) -> ScopeSet {
        self.session.role.scopes()
    }

    pub fn can(&self, scope: Scope) -> bool {
        self.scopes().contains(scope)
    }

    pub fn is_admin(&self) -> bool {
        matches!(self.session.role, Role::Owner | Role::Admin)
    }
}

/// A page that needs a signed-in person sends everyone else to the sign-in page.
pub struct SignInFirst(String);

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        let next: String = url::form_urlencoded::byte_serialize(self.0.as_bytes()).collect();
        Redirect::to(&format!("/signin?next={next}")).into_response()
    }
}

impl Visitor {
    /// The signed-in person of the request, if there is one.
    async fn of(parts: &Parts, state: &AppState) -> Option<Visitor> {
        let token = crate::api::auth::session_cookie(parts)?;
        let session = credentials::authenticate_session(&state.store, token)
            .await
            .ok()
            .flatten()?;
        let orgs = orgs::memberships_of(&state.store, &session.user_id)
            .await
            .unwrap_or_default();
        let org_name = orgs
            .iter()
            .find(|(o, _)| o.id == session.org_id)
            .map(|(o, _)| o.name.clone())
            .unwrap_or_default();
        Some(Visitor {
            session,
            org_name,
            orgs,
        })
    }
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = SignInFirst;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, SignInFirst> {
        Visitor::of(parts, state)
            .await
            .ok_or_else(|| SignInFirst(parts.uri.to_string()))
    }
}

/// Public pages (the marketplace) take an `Option<Visitor>`: `None` for someone signed out.
impl axum::extract::OptionalFromRequestParts<AppState> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, std::convert::Infallible> {
        Ok(Visitor::of(parts, state).await)
    }
}

/// A whole page: head, navigation (for a signed-in visitor), main content.
pub fn page(title: &str, visitor: Option<&Visitor>, main: &str) -> Response {
    page_described(title, None, visitor, main)
}

/// A page with a description for search engines and link previews (the public pages).
pub fn page_described(
    title: &str,
    description: Option<&str>,
    visitor: Option<&Visitor>,
    main: &str,
) -> Response {
    let nav = match visitor {
        None => "<nav aria-label=\"Main\"><a href=\"/marketplace\">Marketplace</a></nav>\
                 <div class=\"who\"><a href=\"/signin\">Sign in</a> <a href=\"/signup\">Sign up</a></div>"
            .to_owned(),
        Some(v) => {
            let review = if v.session.reviewer {
                "<a href=\"/review\">Review queue</a>"
            } else {
                ""
            };
            let switch = if v.orgs.len() > 1 {
                let options: String = v
                    .orgs
                    .iter()
                    .map(|(o, _)| {
                        let selected = if o.id == v.session.org_id { " selected" } else { "" };
                        format!(
                            "<option value=\"{}\"{selected}>{}</option>",
                            esc(&o.id),
                            esc(&o.name)
                        )
                    })
                    .collect();
                format!(
                    "<form class=\"inline\" data-api=\"POST /v1/sessions/switch\" data-then=\"/marketplace\">\
                     <label>Organization <select name=\"org_id\" data-submit-on-change>{options}</select></label>\
                     <p role=\"alert\"></p></form>"
                )
            } else {
                format!("<span class=\"org\">{}</span>", esc(&v.org_name))
            };
            format!(
                "<nav aria-label=\"Main\"><a href=\"/projects\">Projects</a><a href=\"/marketplace\">Marketplace</a><a href=\"/installed\">Installed apps</a>\
                 <a href=\"/developer\">Developer</a>{review}</nav><div class=\"who\">{switch}\
                 <form class=\"inline\" data-api=\"DELETE /v1/sessions/current\" data-then=\"/signin\">\
                 <button type=\"submit\">Sign out</button><p role=\"alert\"></p></form></div>"
            )
        }
    };
    let csrf = visitor
        .map(|v| {
            format!(
                "<meta name=\"csrf-token\" content=\"{}\">",
                esc(&v.session.csrf_token)
            )
        })
        .unwrap_or_default();
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">{csrf}{described}\
         <title>{title} · Bazaar</title><link rel=\"stylesheet\" href=\"/assets/style.css\">\
         <script src=\"/assets/app.js\" defer></script></head><body>\
         <header><a class=\"brand\" href=\"/\">Bazaar</a>{nav}</header><main id=\"main\">{main}</main></body></html>",
        title = esc(title),
        described = description
            .map(|d| {
                format!(
                    "<meta name=\"description\" content=\"{d}\"><meta property=\"og:title\" content=\"{t}\">\
                     <meta property=\"og:description\" content=\"{d}\"><meta property=\"og:type\" content=\"website\">",
                    d = esc(d),
                    t = esc(title)
                )
            })
            .unwrap_or_default(),
    );
    let mut response = Html(html).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data: https:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    response
}

/// A time for people from RFC 3339: "6 Dec 2026", or with `to_the_second` "6 Dec 2026
/// 21:40:12 UTC"; the text as it is if it is not RFC 3339.
pub fn readable(rfc3339: &str, to_the_second: bool) -> String {
    let Ok(at) = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339) else {
        return rfc3339.to_owned();
    };
    let formatted = if to_the_second {
        at.format(time::macros::format_description!(
            "[day padding:none] [month repr:short] [year] [hour]:[minute]:[second] UTC"
        ))
    } else {
        at.format(time::macros::format_description!(
            "[day padding:none] [month repr:short] [year]"
        ))
    };
    formatted.unwrap_or_else(|_| rfc3339.to_owned())
}

/// A call's time, to the second.
pub fn human_time(rfc3339: &str) -> String {
    readable(rfc3339, true)
}

/// A page that explains why it cannot be shown.
pub fn refusal(status: StatusCode, visitor: Option<&Visitor>, message: &str) -> Response {
    let mut response = page(
        "Not available",
        visitor,
        &format!("<h1>Not available</h1><p class=\"error\">{}</p>", esc(message)),
    );
    *response.status_mut() = status;
    response
}

async fn sign_in(State(_): State<AppState>, query: axum::extract::Query<Vec<(String, String)>>) -> Response {
    let next = query
        .0
        .iter()
        .find(|(k, _)| k == "next")
        .map(|(_, v)| v.clone())
        .filter(|n| is_local_path(n))
        .unwrap_or_else(|| "/marketplace".into());
    page(
        "Sign in",
        None,
        &format!(
            "<h1>Sign in</h1><form data-api=\"POST /v1/sessions\" data-then=\"{next}\">\
             <label>Email <input name=\"email\" type=\"email\" autocomplete=\"username\" required></label>\
             <label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
             <button type=\"submit\">Sign in</button><p role=\"alert\"></p></form>\
             <p>New here? <a href=\"/signup\">Create an organization</a>.</p>",
            next = esc(&next)
        ),
    )
}

/// Whether `next` stays on this site: a path, not `//host` or `/\\host` (which browsers read as
/// another host), and nothing that could leave the attribute or the URL.
fn is_local_path(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(|c| c.is_control() || c.is_whitespace())
}

async fn sign_up() -> Response {
    page(
        "Sign up",
        None,
        "<h1>Create an organization</h1><form data-api=\"POST /v1/signup\" data-then=\"/marketplace\">\
         <label>Organization name <input name=\"organization\" required></label>\
         <label>Your email <input name=\"email\" type=\"email\" autocomplete=\"username\" required></label>\
         <label>Password (10 characters or more) <input name=\"password\" type=\"password\" minlength=\"10\" autocomplete=\"new-password\" required></label>\
         <button type=\"submit\">Create</button><p role=\"alert\"></p></form>\
         <p>Already have an account? <a href=\"/signin\">Sign in</a>.</p>",
    )
}

/// A bar chart (inline SVG) with a table of the same numbers for screen readers.
pub fn bar_chart(title: &str, points: &[(String, f64)], unit: &str) -> String {
    let nothing = if points.is_empty() {
        Some("No data yet.")
    } else if points.iter().all(|(_, v)| *v == 0.0) {
        Some("None in this period.")
    } else {
        None
    };
    if let Some(nothing) = nothing {
        return format!(
            "<figure><figcaption>{}</figcaption><p>{nothing}</p></figure>",
            esc(title)
        );
    }
    let max = points.iter().map(|(_, v)| *v).fold(0.0_f64, f64::max).max(1e-9);
    let width = 24 * points.len() + 8;
    let bars: String = points
        .iter()
        .enumerate()
        .map(|(i, (label, value))| {
            let h = (value / max * 100.0).round();
            format!(
                "<rect x=\"{}\" y=\"{}\" width=\"18\" height=\"{h}\" class=\"bar\"><title>{}: {value} {unit}</title></rect>",
                8 + i * 24,
                110.0 - h,
                esc(label)
            )
        })
        .collect();
    let rows: String = points
        .iter()
        .map(|(label, value)| format!("<tr><td>{}</td><td>{value}</td></tr>", esc(label)))
        .collect();
    format!(
        "<figure class=\"chart\"><figcaption>{t}</figcaption>\
         <svg role=\"img\" aria-label=\"{t}\" viewBox=\"0 0 {width} 115\" width=\"{width}\" height=\"115\">{bars}</svg>\
         <details><summary>Numbers</summary><table><thead><tr><th>Hour</th><th>{u}</th></tr></thead><tbody>{rows}</tbody></table></details></figure>",
        t = esc(title),
        u = esc(unit)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_returns_only_to_this_site() {
        assert!(is_local_path("/installed/ins_1?x=1"));
        for outside in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "evil",
            "/\tx",
            "",
        ] {
            assert!(!is_local_path(outside), "{outside}");
        }
    }

    #[test]
    fn charts_draw_one_bar_an_hour_and_say_when_there_is_nothing() {
        let hours = |values: &[f64]| -> Vec<(String, f64)> {
            values
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("{i:02}:00"), *v))
                .collect()
        };
        let chart = bar_chart("Invocations per hour", &hours(&[3.0, 0.0, 7.0]), "invocations");
        assert_eq!(chart.matches("<rect").count(), 3);
        assert!(
            chart.contains("<td>02:00</td><td>7</td>"),
            "the numbers are there for screen readers"
        );
        let quiet = bar_chart("Failures per hour", &hours(&[0.0, 0.0]), "failures");
        assert!(
            quiet.contains("None in this period.") && !quiet.contains("<svg"),
            "{quiet}"
        );
        assert!(bar_chart("Fuel per hour", &[], "fuel").contains("No data yet."));
    }
}
