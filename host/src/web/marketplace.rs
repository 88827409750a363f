//! The marketplace: cards with search, filters and sorting; the app page with its permissions
//! in plain words; the install page with consent and the configuration form.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::{Visitor, esc, page, page_described, refusal};
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

fn stars(card: &Card) -> String {
    match card.rating {
        Some(r) => format!("★ {r:.1} ({})", card.rating_count),
        None => "No ratings yet".into(),
    }
}

fn icon(card: &Card) -> String {
    match &card.icon {
        Some(url) if url.starts_with("https://") || url.starts_with("/media/") => {
            format!(
                "<img class=\"icon\" src=\"{}\" alt=\"\" width=\"48\" height=\"48\">",
                esc(url)
            )
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
    visitor: Option<Visitor>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let visitor = visitor.as_ref();
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
    let installed =
        match crate::installs::installed_apps_of(&state.store, visitor.map(|v| v.session.org_id.as_str()))
            .await
        {
            Ok(installed) => installed,
            Err(e) => return refusal(StatusCode::INTERNAL_SERVER_ERROR, visitor, &e.to_string()),
        };
    let cards = match search::search(&state.store, &installed, &query).await {
        Ok(cards) => cards,
        Err(e) => return refusal(StatusCode::BAD_REQUEST, visitor, &e.to_string()),
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
    let body = cards_list(&cards);
    page_described(
        "Marketplace",
        Some(
            "Apps for your projects and tasks: integrations with the tools your team uses, automations and reports, reviewed before they are listed.",
        ),
        visitor,
        &format!(
            "<h1>Marketplace</h1>{filters}<p class=\"meta\">{}</p>{body}",
            match cards.len() {
                1 => "1 app".to_owned(),
                n => format!("{n} apps"),
            }
        ),
    )
}

/// Cards as a list (or a line saying none matched).
fn cards_list(cards: &[Card]) -> String {
    if cards.is_empty() {
        return "<p>No app matches. Try other words or filters.</p>".to_owned();
    }
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
                 <p>{desc}</p><p class=\"meta\">{publisher} · {category} · {kind} · {stars} · {installs} installs · {price}</p></li>",
                icon = icon(c),
                slug = esc(&c.slug),
                name = esc(&c.name),
                desc = esc(&c.description),
                publisher = publisher_line(&c.publisher, None, c.publisher_verified),
                category = esc(&c.category),
                kind = esc(&c.kind),
                stars = stars(c),
                installs = c.install_count,
                price = esc(&crate::billing::describe(&c.pricing)),
            )
        })
        .collect();
    format!("<ul class=\"cards\">{list}</ul>")
}

/// `/marketplace/{slug}`: the app page.
pub async fn app_page(
    State(state): State<AppState>,
    visitor: Option<Visitor>,
    Path(slug): Path<String>,
) -> Response {
    let visitor = visitor.as_ref();
    let installed =
        match crate::installs::installed_apps_of(&state.store, visitor.map(|v| v.session.org_id.as_str()))
            .await
        {
            Ok(installed) => installed,
            Err(e) => return refusal(StatusCode::INTERNAL_SERVER_ERROR, visitor, &e.to_string()),
        };
    let listing = match search::listing(&state.store, &installed, &slug).await {
        Ok(listing) => listing,
        Err(e) => return refusal(StatusCode::NOT_FOUND, visitor, &e.to_string()),
    };
    let card = &listing.card;
    let body = app_page_body(&listing, visitor);
    page_described(&card.name, Some(&card.description), visitor, &body)
}

/// "by Acme" with its verified mark, linking to the publisher's page.
fn publisher_line(name: &str, slug: Option<&str>, verified: bool) -> String {
    let mark = if verified {
        " <span class=\"badge ok\" title=\"Platform reviewers checked who this publisher is\">✓ Verified publisher</span>"
    } else {
        ""
    };
    match slug {
        Some(slug) => format!("by <a href=\"/publishers/{}\">{}</a>{mark}", esc(slug), esc(name)),
        None => format!("by {}{mark}", esc(name)),
    }
}

fn app_page_body(listing: &search::Listing, visitor: Option<&Visitor>) -> String {
    let card = &listing.card;
    let permissions: String = listing
        .permissions
        .iter()
        .map(|p| {
            let interfaces: String = p
                .interfaces
                .iter()
                .map(|i| {
                    format!(
                        "<br><span class=\"meta\"><code>{}</code> lets it {}</span>",
                        esc(&i.interface),
                        esc(&i.lets_it)
                    )
                })
                .collect();
            // Network: the hosts, not "the hosts listed in its manifest".
            let hosts = if p.scope == "network" && !listing.allowed_hosts.is_empty() {
                format!(
                    " <span class=\"meta\">(only {})</span>",
                    listing
                        .allowed_hosts
                        .iter()
                        .map(|h| format!("<code>{}</code>", esc(h)))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                String::new()
            };
            format!(
                "<li><strong>{}</strong>{hosts}<br><span class=\"meta\">Why: {}</span>{interfaces}</li>",
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
                esc(&human_date(v.published_at.as_deref())),
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
                let reply = r
                    .reply
                    .as_ref()
                    .map(|text| {
                        format!(
                            "<p class=\"reply\"><strong>{} replied</strong> <span class=\"meta\">{}</span><br>{}</p>",
                            esc(&card.publisher),
                            esc(&human_date(r.replied_at.as_deref())),
                            esc(text)
                        )
                    })
                    .unwrap_or_default();
                format!(
                    "<article class=\"review\"><p><span aria-label=\"{n} of 5 stars\">{stars}</span> <strong>{by}</strong> \
                     <span class=\"meta\">{at}</span></p><p>{text}</p>{reply}</article>",
                    n = r.stars,
                    stars = "★".repeat(r.stars.clamp(0, 5) as usize),
                    by = esc(&r.by),
                    at = esc(&human_date(Some(&r.updated_at))),
                    text = esc(&r.review)
                )
            })
            .collect()
    };
    let screenshots: String = listing
        .screenshots
        .iter()
        .enumerate()
        .map(|(i, url)| {
            format!(
                "<img src=\"{}\" alt=\"Screenshot {} of {}\" loading=\"lazy\">",
                esc(url),
                i + 1,
                esc(&card.name)
            )
        })
        .collect();
    let screenshots = if screenshots.is_empty() {
        String::new()
    } else {
        format!("<section aria-label=\"Screenshots\" class=\"shots\">{screenshots}</section>")
    };
    let action = if card.installed {
        "<p><span class=\"badge ok\">Installed</span> <a href=\"/installed\">Manage it</a></p>".to_owned()
    } else if visitor.is_none() && card.kind == "plugin" {
        // Signing in comes back to the install page.
        format!(
            "<p><a class=\"button\" href=\"/signin?next=/marketplace/{}/install\">Sign in to install</a></p>",
            esc(&card.slug)
        )
    } else if visitor.is_some_and(|v| v.can(Scope::InstallationsWrite)) && card.kind == "plugin" {
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
    let list = |title: &str, items: &[String], code: bool| {
        if items.is_empty() {
            return String::new();
        }
        let items: String = items
            .iter()
            .map(|i| {
                if code {
                    format!("<li><code>{}</code></li>", esc(i))
                } else {
                    format!("<li>{}</li>", esc(i))
                }
            })
            .collect();
        format!("<section><h2>{title}</h2><ul>{items}</ul></section>")
    };
    let limits = listing
        .limits
        .as_ref()
        .map(|l| {
            format!(
                "<section><h2>Limits</h2><p>Each call runs in its own sandbox and may use at most {} million units of \
                 computation, {} MiB of memory and {} ms; then it is stopped.</p></section>",
                l.fuel / 1_000_000,
                l.memory_bytes >> 20,
                l.timeout_ms
            )
        })
        .unwrap_or_default();
    let links: Vec<String> = [
        (listing.support_url.as_deref(), "Support"),
        (listing.privacy_url.as_deref(), "Privacy policy"),
        (
            listing.publisher_profile.website.as_deref(),
            "Publisher's website",
        ),
    ]
    .into_iter()
    .filter_map(|(url, label)| {
        url.map(|u| {
            format!(
                "<li><a href=\"{}\" rel=\"nofollow noopener\">{label}</a></li>",
                esc(u)
            )
        })
    })
    .collect();
    let links = if links.is_empty() {
        String::new()
    } else {
        format!(
            "<section><h2>Help and policies</h2><ul>{}</ul></section>",
            links.concat()
        )
    };
    let events = event_list(&listing.events);
    format!(
        "<header class=\"app-head\">{icon}<div><h1>{name}</h1><p>{description}</p>\
         <p class=\"meta\">{publisher} · {category} · {kind} · {stars} · {installs} installs · {price}</p></div></header>{action}\
         {screenshots}<section><h2>About</h2>{long}</section>\
         <section><h2>What it may do</h2><ul>{permissions}</ul></section>{events}{appears}{hosts}{connections}{limits}\
         <section><h2>Versions</h2><ul>{versions}</ul></section>\
         <section><h2>Reviews</h2>{reviews}{rate}</section>{links}",
        icon = icon(card),
        name = esc(&card.name),
        description = esc(&card.description),
        publisher = publisher_line(
            &card.publisher,
            Some(&listing.publisher_profile.slug),
            card.publisher_verified
        ),
        category = esc(&card.category),
        kind = esc(&card.kind),
        stars = stars(card),
        installs = card.install_count,
        price = esc(&crate::billing::describe(&card.pricing)),
        long = if listing.long_description.trim().is_empty() {
            format!("<p>{}</p>", esc(&card.description))
        } else {
            crate::html::markdown::render(&listing.long_description)
        },
        appears = list("Where it appears", &listing.appears_in, false),
        hosts = list("Internet hosts it may reach", &listing.allowed_hosts, true),
        connections = list("Accounts it asks you to connect", &listing.connections, false),
    )
}

/// A date for people ("3 Dec 2026") from RFC 3339.
pub fn human_date(rfc3339: Option<&str>) -> String {
    rfc3339.map(|t| super::readable(t, false)).unwrap_or_default()
}

/// `/publishers/{slug}`: a publisher's profile and apps, public.
pub async fn publisher_page(
    State(state): State<AppState>,
    visitor: Option<Visitor>,
    Path(slug): Path<String>,
) -> Response {
    let visitor = visitor.as_ref();
    let publisher = match crate::catalog::publishers::by_slug(&state.store, &slug).await {
        Ok(p) => p,
        Err(e) => return refusal(StatusCode::NOT_FOUND, visitor, &e.to_string()),
    };
    let cards = search::by_publisher(&state.store, &publisher.org_id)
        .await
        .unwrap_or_default();
    let list = cards_list(&cards);
    let mark = if publisher.verified {
        format!(
            "<p><span class=\"badge ok\">✓ Verified publisher</span> <span class=\"meta\">since {}</span></p>",
            esc(&human_date(publisher.verified_at.as_deref()))
        )
    } else {
        "<p class=\"meta\">Not verified by platform reviewers yet.</p>".to_owned()
    };
    let website = publisher
        .website
        .as_ref()
        .map(|w| {
            format!(
                "<p><a href=\"{}\" rel=\"nofollow noopener\">{}</a></p>",
                esc(w),
                esc(w)
            )
        })
        .unwrap_or_default();
    let about = if publisher.about.is_empty() {
        String::new()
    } else {
        format!("<p>{}</p>", esc(&publisher.about))
    };
    let description = format!("Apps by {} on the Bazaar marketplace.", publisher.name);
    page_described(
        &publisher.name,
        Some(&description),
        visitor,
        &format!(
            "<h1>{}</h1>{mark}{about}{website}<h2>Apps</h2>{list}",
            esc(&publisher.name)
        ),
    )
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
         {places}{events}{config}{price}<button type=\"submit\">Install</button><p role=\"alert\"></p></form>",
        name = esc(&app.name),
        slug = esc(&app.slug),
        price = price_confirmation(&version.manifest.pricing),
        config = if fields.is_empty() {
            String::new()
        } else {
            format!("<fieldset><legend>Settings</legend>{fields}</fieldset>")
        },
    );
    page(&format!("Install {}", app.name), Some(&visitor), &body)
}
/// A paid app's price, which the admin must agree to before the form goes (its hidden fields
/// send the price to `/v1/installations` as `accept_price`).
pub(super) fn price_confirmation(pricing: &Pricing) -> String {
    let Some(price) = crate::billing::price_of(pricing) else {
        return String::new();
    };
    let terms = match pricing {
        Pricing::Monthly { .. } => {
            "charged now for the first month, then each month until you uninstall it; uninstalling ends it at the end of the paid month"
        }
        _ => "charged once, now",
    };
    format!(
        "<fieldset><legend>Price</legend><p><strong>{words}</strong>: {terms}.</p>\
         <label><input type=\"checkbox\" required> I agree to pay {words}</label>\
         <input type=\"hidden\" name=\"accept_price.price_cents\" value=\"{cents}\" data-number>\
         <input type=\"hidden\" name=\"accept_price.currency\" value=\"{currency}\"></fieldset>",
        words = esc(&crate::billing::describe(pricing)),
        cents = price.price_cents,
        currency = esc(&price.currency),
    )
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

/// `/media/{sha256}`: an uploaded icon or screenshot, with its checked type; nothing in it can
/// run (`nosniff`, a CSP that allows nothing), and it never changes (named by its hash).
pub async fn media(State(state): State<AppState>, Path(sha256): Path<String>) -> Response {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    match crate::catalog::media::fetch(&state.store, &sha256).await {
        Ok((content_type, bytes)) => {
            let mut response = bytes.into_response();
            let headers = response.headers_mut();
            if let Ok(value) = HeaderValue::from_str(&content_type) {
                headers.insert(header::CONTENT_TYPE, value);
            }
            headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
            headers.insert(
                "content-security-policy",
                HeaderValue::from_static("default-src 'none'; sandbox"),
            );
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            );
            response
        }
        Err(_) => (StatusCode::NOT_FOUND, "no such image").into_response(),
    }
}

/// `/robots.txt`: the public pages may be indexed; the rest needs a sign-in anyway.
pub async fn robots(State(state): State<AppState>) -> Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    let body = format!(
        "User-agent: *\nAllow: /marketplace\nAllow: /publishers/\nAllow: /media/\nDisallow: /\nSitemap: {}/sitemap.xml\n",
        state.issuer.trim_end_matches('/')
    );
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

/// `/sitemap.xml`: the marketplace, every published app's page and its publishers' pages.
pub async fn sitemap(State(state): State<AppState>) -> Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    let base = state.issuer.trim_end_matches('/').to_owned();
    let cards = search::search(
        &state.store,
        &Default::default(),
        &search::Query {
            limit: 100,
            ..Default::default()
        },
    )
    .await
    .unwrap_or_default();
    let mut urls = vec![format!("{base}/marketplace")];
    let mut publishers = std::collections::BTreeSet::new();
    for card in &cards {
        urls.push(format!("{base}/marketplace/{}", card.slug));
        if let Ok(app) = apps::get(&state.store, &card.id).await
            && let Ok(publisher) = crate::catalog::publishers::get(&state.store, &app.owner_org_id).await
        {
            publishers.insert(publisher.slug);
        }
    }
    urls.extend(
        publishers
            .into_iter()
            .map(|slug| format!("{base}/publishers/{slug}")),
    );
    let entries: String = urls
        .iter()
        .map(|u| format!("<url><loc>{}</loc></url>", esc(u)))
        .collect();
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">{entries}</urlset>\n"
    );
    ([(header::CONTENT_TYPE, "application/xml; charset=utf-8")], body).into_response()
}
