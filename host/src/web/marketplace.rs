//! The marketplace: cards with search, filters and sorting; the app page with its permissions
//! in plain words; the install page with consent and the configuration form.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::{Visitor, esc, page, refusal};
use crate::AppState;
use crate::catalog::apps;
use crate::catalog::manifest::{FieldType, Pricing};
use crate::catalog::search::{self, Card, Sort};
use crate::platform::Scope;

const CATEGORIES: [&str; 9] = [
    "communication",
    "storage",
    "analytics",
    "crm",
    "automation",
    "payment",
    "productivity",
    "developer-tools",
    "other",
];

fn price(pricing: &Pricing) -> String {
    match pricing {
        Pricing::Free => "Free".into(),
        Pricing::OneTime {
            price_cents,
            currency,
        } => {
            format!("{:.2} {currency} once", f64::from(*price_cents) / 100.0)
        }
        Pricing::Monthly {
            price_cents,
            currency,
        } => {
            format!("{:.2} {currency} a month", f64::from(*price_cents) / 100.0)
        }
    }
}

fn stars(card: &Card) -> String {
    match card.rating {
        Some(r) => format!("★ {r:.1} ({})", card.rating_count),
        None => "No ratings yet".into(),
    }
}

fn icon(card: &Card) -> String {
    match &card.icon {
        Some(url) if url.starts_with("https://") || url.starts_with("data:image/") => {
            format!("<img src=\"{}\" alt=\"\" width=\"40\" height=\"40\">", esc(url))
        }
        _ => format!(
            "<span class=\"badge\" aria-hidden=\"true\">{}</span>",
            esc(&card.name.chars().next().unwrap_or('?').to_string())
        ),
    }
}

fn select(name: &str, label: &str, options: &[(&str, &str)], current: Option<&str>) -> String {
    let options: String = options
        .iter()
        .map(|(value, text)| {
            let selected = if current == Some(*value) { " selected" } else { "" };
            format!("<option value=\"{value}\"{selected}>{text}</option>")
        })
        .collect();
    format!("<label>{label} <select name=\"{name}\">{options}</select></label>")
}

/// `/marketplace`: published apps as cards.
pub async fn browse(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let query = search::Query {
        text: get("q").map(str::to_owned),
        category: get("category").map(str::to_owned),
        kind: get("kind").map(str::to_owned),
        sort: Some(match get("sort") {
            Some("installs") => Sort::Installs,
            Some("rating") => Sort::Rating,
            Some("newest") => Sort::Newest,
            _ => Sort::Relevance,
        }),
        limit: 60,
        offset: 0,
    };
    let installed = match crate::installs::installed_apps(&state.store, &visitor.session.org_id).await {
        Ok(installed) => installed,
        Err(e) => return refusal(StatusCode::INTERNAL_SERVER_ERROR, Some(&visitor), &e.to_string()),
    };
    let cards = match search::search(&state.store, &installed, &query).await {
        Ok(cards) => cards,
        Err(e) => return refusal(StatusCode::BAD_REQUEST, Some(&visitor), &e.to_string()),
    };
    let mut categories = vec![("", "Any category")];
    categories.extend(CATEGORIES.iter().map(|c| (*c, *c)));
    let filters = format!(
        "<form class=\"filters\" method=\"get\" action=\"/marketplace\" role=\"search\">\
         <label>Search <input type=\"search\" name=\"q\" value=\"{}\" placeholder=\"Slack, statistics, export...\"></label>{}{}{}\
         <button type=\"submit\">Search</button></form>",
        esc(get("q").unwrap_or_default()),
        select("category", "Category", &categories, get("category")),
        select(
            "kind",
            "Kind",
            &[
                ("", "Any kind"),
                ("plugin", "Plugins"),
                ("external", "External apps")
            ],
            get("kind")
        ),
        select(
            "sort",
            "Sort by",
            &[
                ("installs", "Most installed"),
                ("rating", "Best rated"),
                ("newest", "Newest")
            ],
            get("sort")
        ),
    );
    let list: String = cards
        .iter()
        .map(|c| {
            let installed = if c.installed {
                " <span class=\"badge ok\">Installed</span>"
            } else {
                ""
            };
            format!(
                "<li class=\"card\">{icon}<h3><a href=\"/marketplace/{slug}\">{name}</a>{installed}</h3>\
                 <p>{desc}</p><p class=\"meta\">{category} · {kind} · {stars} · {installs} installs · {price}</p></li>",
                icon = icon(c),
                slug = esc(&c.slug),
                name = esc(&c.name),
                desc = esc(&c.description),
                category = esc(&c.category),
                kind = esc(&c.kind),
                stars = stars(c),
                installs = c.install_count,
                price = esc(&price(&c.pricing)),
            )
        })
        .collect();
    let body = if cards.is_empty() {
        "<p>No app matches. Try other words or filters.</p>".to_owned()
    } else {
        format!("<ul class=\"cards\">{list}</ul>")
    };
    page(
        "Marketplace",
        Some(&visitor),
        &format!(
            "<h1>Marketplace</h1>{filters}<p class=\"meta\">{}</p>{body}",
            match cards.len() {
                1 => "1 app".to_owned(),
                n => format!("{n} apps"),
            }
        ),
    )
}

/// `/marketplace/{slug}`: the app page.
pub async fn app_page(State(state): State<AppState>, visitor: Visitor, Path(slug): Path<String>) -> Response {
    let installed = match crate::installs::installed_apps(&state.store, &visitor.session.org_id).await {
        Ok(installed) => installed,
        Err(e) => return refusal(StatusCode::INTERNAL_SERVER_ERROR, Some(&visitor), &e.to_string()),
    };
    let listing = match search::listing(&state.store, &installed, &slug).await {
        Ok(listing) => listing,
        Err(e) => return refusal(StatusCode::NOT_FOUND, Some(&visitor), &e.to_string()),
    };
    let card = &listing.card;
    let permissions: String = listing
        .permissions
        .iter()
        .map(|p| {
            let interfaces: String = p
                .interfaces
                .iter()
                .map(|i| format!("<br><span class=\"meta\">{}</span>", esc(i)))
                .collect();
            format!(
                "<li><strong>{}</strong>: {}<br><span class=\"meta\">Why: {}</span>{interfaces}</li>",
                esc(&p.scope),
                esc(&p.means),
                esc(&p.purpose)
            )
        })
        .collect();
    let versions: String = listing
        .versions
        .iter()
        .map(|v| {
            format!(
                "<li><strong>{}</strong> <span class=\"meta\">{}</span><br>{}</li>",
                esc(&v.version),
                esc(v.published_at.as_deref().unwrap_or_default()),
                esc(&v.changelog)
            )
        })
        .collect();
    let reviews: String = if listing.reviews.is_empty() {
        "<p>No reviews yet.</p>".into()
    } else {
        listing
            .reviews
            .iter()
            .map(|r| {
                format!(
                    "<blockquote>{} — {}</blockquote>",
                    "★".repeat(r.stars as usize),
                    esc(&r.review)
                )
            })
            .collect()
    };
    let screenshots: String = listing
        .screenshots
        .iter()
        .filter(|s| s.starts_with("https://"))
        .map(|s| {
            format!(
                "<img src=\"{}\" alt=\"Screenshot of {}\" width=\"320\">",
                esc(s),
                esc(&card.name)
            )
        })
        .collect();
    let action = if card.installed {
        "<p><span class=\"badge ok\">Installed</span> <a href=\"/installed\">Manage it</a></p>".to_owned()
    } else if visitor.can(Scope::InstallationsWrite) && card.kind == "plugin" {
        format!(
            "<p><a class=\"button\" href=\"/marketplace/{}/install\">Install</a></p>",
            esc(&card.slug)
        )
    } else if card.kind == "external" {
        "<p class=\"meta\">An external app: install it from the app itself (it asks for your consent).</p>"
            .to_owned()
    } else {
        "<p class=\"meta\">Ask an owner or admin to install it.</p>".to_owned()
    };
    let rate = if card.installed {
        format!(
            "<form data-api=\"POST /v1/catalog/{}/ratings\"><label>Your rating <select name=\"stars\" data-number>\
             <option>5</option><option>4</option><option>3</option><option>2</option><option>1</option></select></label>\
             <label>Review <input name=\"review\"></label><button type=\"submit\">Rate</button><p role=\"alert\"></p></form>",
            esc(&card.slug)
        )
    } else {
        String::new()
    };
    let events = event_list(&listing.events);
    let body = format!(
        "<h1>{name}</h1><p class=\"meta\">{category} · {kind} · {stars} · {installs} installs · {price}</p>{action}\
         <section><p>{long}</p>{screenshots}</section>\
         <section><h2>What it may do</h2><ul>{permissions}</ul></section>{events}\
         <section><h2>Versions</h2><ul>{versions}</ul></section>\
         <section><h2>Reviews</h2>{reviews}{rate}</section>",
        name = esc(&card.name),
        category = esc(&card.category),
        kind = esc(&card.kind),
        stars = stars(card),
        installs = card.install_count,
        price = esc(&price(&card.pricing)),
        long = esc(&listing.long_description),
    );
    page(&card.name, Some(&visitor), &body)
}

/// `/marketplace/{slug}/install`: consent to the scopes and the configuration form.
pub async fn install_page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(slug): Path<String>,
) -> Response {
    if !visitor.can(Scope::InstallationsWrite) {
        return refusal(
            StatusCode::FORBIDDEN,
            Some(&visitor),
            "only an owner or admin can install apps",
        );
    }
    let app = match apps::by_slug(&state.store, &slug).await {
        Ok(app) => app,
        Err(e) => return refusal(StatusCode::NOT_FOUND, Some(&visitor), &e.to_string()),
    };
    let Some(version_id) = app.published_version_id.clone() else {
        return refusal(StatusCode::NOT_FOUND, Some(&visitor), "this app is not published");
    };
    let version = match apps::version(&state.store, &version_id).await {
        Ok(v) => v,
        Err(e) => return refusal(StatusCode::NOT_FOUND, Some(&visitor), &e.to_string()),
    };
    let events = event_list(&search::event_access(&version));
    let scopes: String = search::permissions(&version)
        .iter()
        .map(|p| {
            format!(
                "<li><label><input type=\"checkbox\" name=\"scopes\" value=\"{s}\" data-list required> \
                 <strong>{s}</strong>: {means}<br><span class=\"meta\">Why: {why}</span></label></li>",
                s = esc(&p.scope),
                means = esc(&p.means),
                why = esc(&p.purpose)
            )
        })
        .collect();
    let fields: String = version
        .manifest
        .config
        .iter()
        .map(|f| {
            let name = format!("config.{}", esc(&f.key));
            let required = if f.required { " required" } else { "" };
            let placeholder = esc(f.placeholder.as_deref().unwrap_or_default());
            let input = match f.kind {
                FieldType::Text => format!("<input name=\"{name}\" placeholder=\"{placeholder}\"{required}>"),
                FieldType::Secret => format!(
                    "<input name=\"{name}\" type=\"password\" autocomplete=\"off\" placeholder=\"{placeholder}\"{required}>"
                ),
                FieldType::Toggle => format!("<input name=\"{name}\" type=\"checkbox\">"),
                FieldType::Select => {
                    let options: String = f
                        .options
                        .iter()
                        .map(|o| format!("<option>{}</option>", esc(o)))
                        .collect();
                    format!("<select name=\"{name}\"{required}>{options}</select>")
                }
            };
            format!("<label>{} {input}</label>", esc(&f.label))
        })
        .collect();
    let built = built_against(&state, &version).await;
    let places = format!(
        "{}{}{}",
        appears_in(&version.manifest),
        connections_asked(&version.manifest),
        triggers_asked(&version.manifest)
    );
    let body = format!(
        "<h1>Install {name}</h1>{built}<form data-api=\"POST /v1/installations\" data-then=\"/installed/{{id}}\">\
         <input type=\"hidden\" name=\"app\" value=\"{slug}\">\
         <fieldset><legend>Allow {name} to:</legend><ul>{scopes}</ul></fieldset>\
         {places}{events}{config}<button type=\"submit\">Install</button><p role=\"alert\"></p></form>",
        name = esc(&app.name),
        slug = esc(&app.slug),
        config = if fields.is_empty() {
            String::new()
        } else {
            format!("<fieldset><legend>Settings</legend>{fields}</fieldset>")
        },
    );
    page(&format!("Install {}", app.name), Some(&visitor), &body)
}
/// "Built for Bazaar's plugin contract 0.2.0", read from the component's exports.
async fn built_against(state: &AppState, version: &apps::Version) -> String {
    let Some(sha) = &version.component_sha256 else {
        return String::new();
    };
    let audit = apps::component(&state.store, sha)
        .await
        .ok()
        .and_then(|bytes| crate::runtime::audit::audit(&bytes).ok());
    match audit.and_then(|a| a.contract) {
        Some(contract) => format!(
            "<p class=\"meta\">A plugin built for Bazaar's plugin contract <code>bazaar:platform@{}</code>; it runs inside Bazaar, in a sandbox.</p>",
            esc(&contract)
        ),
        None => String::new(),
    }
}

/// Where the app shows its UI in Bazaar's pages, from its manifest.
pub fn appears_in(manifest: &crate::catalog::manifest::Manifest) -> String {
    if manifest.ui.is_empty() {
        return String::new();
    }
    let items: String = manifest
        .ui
        .iter()
        .map(|p| format!("<li>{}</li>", esc(p.describe())))
        .collect();
    format!(
        "<section><h2>Where it appears</h2><p>It shows its own content, drawn by Bazaar (never its own code), in:</p><ul>{items}</ul></section>"
    )
}

/// The accounts and keys the app asks the tenant to connect, from its manifest.
pub fn connections_asked(manifest: &crate::catalog::manifest::Manifest) -> String {
    if manifest.connections.is_empty() {
        return String::new();
    }
    let items: String = manifest
        .connections
        .iter()
        .map(|c| format!("<li>{}</li>", esc(&c.describe())))
        .collect();
    format!(
        "<section><h2>Accounts it connects</h2><p>After installing, you connect them on the app's page:</p><ul>{items}</ul></section>"
    )
}

/// The tools that may call the app back, from its manifest.
pub fn triggers_asked(manifest: &crate::catalog::manifest::Manifest) -> String {
    if manifest.triggers.is_empty() {
        return String::new();
    }
    let items: String = manifest
        .triggers
        .iter()
        .map(|t| format!("<li>{}: {}</li>", esc(&t.title), esc(&t.describe_auth())))
        .collect();
    format!(
        "<section><h2>Tools that call it back</h2><p>Bazaar gives each a URL and a secret, and refuses requests          that do not prove they come from it:</p><ul>{items}</ul></section>"
    )
}

/// The events an app receives, each with what receiving it takes (the policy's words).
fn event_list(events: &[search::EventAccess]) -> String {
    if events.is_empty() {
        return String::new();
    }
    let items: String = events
        .iter()
        .map(|e| format!("<li><code>{}</code>: {}</li>", esc(&e.kind), esc(&e.rule)))
        .collect();
    format!("<section><h2>Events it receives</h2><ul>{items}</ul></section>")
}
