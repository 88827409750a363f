//! The developer portal: the organization's apps, a new app from its manifest, versions with
//! their component, audit and review status, the sandbox, analytics, OAuth client secrets,
//! and the docs (WIT contract, SDK guide, API reference).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::installed::usage_section;
use super::{Visitor, esc, page, refusal};
use crate::AppState;
use crate::catalog::apps::{self, AppKind};
use crate::events::analytics;
use crate::platform::Scope;
use crate::store::now_ms;

/// Each language's SDK guide: its anchor, its name, the guide.
const SDK_GUIDES: [(&str, &str, &str); 3] = [
    ("sdk-rust", "Rust", include_str!("../../../sdks/rust/README.md")),
    (
        "sdk-typescript",
        "TypeScript and JavaScript",
        include_str!("../../../sdks/typescript/README.md"),
    ),
    (
        "sdk-python",
        "Python",
        include_str!("../../../sdks/python/README.md"),
    ),
];

const MANIFEST_EXAMPLE: &str = r#"name = "My app"
slug = "my-app"
description = "What it does, in one line."
category = "productivity"
events = ["task.created"]
allowed_hosts = []

[[scopes]]
name = "tasks:read"
purpose = "Why the app needs it, in words an admin understands."

[pricing]
plan = "free"
"#;

/// `/developer`: the organization's apps and a form for a new one.
pub async fn portal(State(state): State<AppState>, visitor: Visitor) -> Response {
    if !visitor.can(Scope::AppsWrite) {
        return refusal(
            StatusCode::FORBIDDEN,
            Some(&visitor),
            "only owners and admins publish apps",
        );
    }
    let own = apps::list_owned(&state.store, &visitor.session.org_id)
        .await
        .unwrap_or_default();
    let rows: String = own
        .iter()
        .map(|a| {
            format!(
                "<tr><td><a href=\"/developer/apps/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&a.id),
                esc(&a.name),
                esc(a.kind.as_str()),
                esc(&a.status),
                if a.published_version_id.is_some() { "published" } else { "not published" },
                a.install_count
            )
        })
        .collect();
    let body = format!(
        "<h1>Developer portal</h1><p><a href=\"/developer/docs\">Docs: the WIT contract, the SDK guide, the API</a></p>\
         <section><h2>Your apps</h2><table><thead><tr><th>App</th><th>Kind</th><th>Status</th><th>Catalog</th><th>Installs</th></tr></thead>\
         <tbody>{rows}</tbody></table></section>\
         <section><h2>New app</h2><form data-api=\"POST /v1/apps\" data-then=\"/developer/apps/{{id}}\">\
         <label>Kind <select name=\"kind\"><option value=\"plugin\">Plugin (WebAssembly, runs in Bazaar)</option>\
         <option value=\"external\">External app (OAuth, webhooks)</option></select></label>\
         <label>Manifest (TOML or JSON) <textarea name=\"manifest\" required>{example}</textarea></label>\
         <button type=\"submit\">Create app</button><p role=\"alert\" id=\"manifest-errors\"></p></form></section>",
        example = esc(MANIFEST_EXAMPLE)
    );
    let body = body
        + &publisher_section(&state, &visitor.session.org_id).await
        + &super::billing::developer_section(&state, &visitor.session.org_id).await;
    page("Developer portal", Some(&visitor), &body)
}

/// `/developer/apps/{id}`: one of the organization's apps.
pub async fn app_page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Query(journal): Query<super::invocations::JournalQuery>,
) -> Response {
    if !visitor.can(Scope::AppsWrite) {
        return refusal(
            StatusCode::FORBIDDEN,
            Some(&visitor),
            "only owners and admins publish apps",
        );
    }
    let app = match apps::owned(&state.store, &visitor.session.org_id, &id).await {
        Ok(app) => app,
        Err(e) => return refusal(StatusCode::NOT_FOUND, Some(&visitor), &e.to_string()),
    };
    let versions = apps::versions(&state.store, &app.id, false)
        .await
        .unwrap_or_default();
    let app_id = esc(&app.id);
    let plugin = app.kind == AppKind::Plugin;
    let mut body = format!(
        "<h1>{name}</h1><p class=\"meta\">{kind} · {status} · {installs} installs · <a href=\"/marketplace/{slug}\">catalog page</a></p>",
        name = esc(&app.name),
        kind = esc(app.kind.as_str()),
        status = esc(&app.status),
        installs = app.install_count,
        slug = esc(&app.slug),
    );
    if let Some(reason) = &app.suspended_reason {
        body.push_str(&format!("<p class=\"error\">Suspended: {}</p>", esc(reason)));
    }
    body.push_str(&gallery_section(&state, &app.id).await);
    for v in &versions {
        let vid = esc(&v.id);
        let findings: String = v
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
        let audit = match &v.component_sha256 {
            Some(sha) if plugin => match apps::component(&state.store, sha).await {
                Ok(bytes) => match crate::runtime::audit::audit(&bytes) {
                    Ok(report) => {
                        let imports: String = report
                            .imports
                            .iter()
                            .map(|i| format!("<li><code>{}</code></li>", esc(&i.name)))
                            .collect();
                        format!(
                            "<details><summary>Audit: {} KB, {} imports, needs {}</summary><p class=\"meta\">SHA-256 {}</p>\
                             <ul>{imports}</ul><p>Exports: {}</p></details>",
                            bytes.len() / 1024,
                            report.imports.len(),
                            esc(&report.required_scopes.join(", ")),
                            esc(sha),
                            esc(&report.exports.join(", "))
                        )
                    }
                    Err(e) => format!("<p class=\"error\">{}</p>", esc(&e.to_string())),
                },
                Err(_) => String::new(),
            },
            None if plugin => "<p class=\"meta\">No component uploaded yet.</p>".into(),
            _ => String::new(),
        };
        let mut actions = String::new();
        if v.state == "draft" {
            if plugin {
                actions.push_str(&format!(
                    "<form data-api=\"PUT /v1/apps/{app_id}/versions/{vid}/component\" data-body=\"file\">\
                     <label>Component (.wasm, built for wasm32-wasip2) <input type=\"file\" name=\"component\" accept=\".wasm,application/wasm\" required></label>\
                     <button type=\"submit\" class=\"secondary\">Upload component</button><p role=\"alert\"></p></form>"
                ));
            }
            actions.push_str(&format!(
                "<form data-api=\"POST /v1/apps/{app_id}/versions/{vid}/submit\">\
                 <button type=\"submit\">Submit for review</button><p role=\"alert\"></p></form>"
            ));
        }
        if plugin && v.component_sha256.is_some() {
            let kinds: String = v
                .manifest
                .events
                .iter()
                .map(|k| format!("<option>{}</option>", esc(k)))
                .collect();
            actions.push_str(&format!(
                "<details><summary>Sandbox: run this version on an event</summary>\
                 <form data-api=\"POST /v1/apps/{app_id}/versions/{vid}/sandbox\" data-show=\"#sandbox-{vid}\">\
                 <label>Event kind <select name=\"kind\">{kinds}</select></label>\
                 <label>Payload (JSON; a sample task when empty) <textarea name=\"payload\" data-json></textarea></label>\
                 <button type=\"submit\">Run in the sandbox</button><p role=\"alert\"></p></form>\
                 <pre id=\"sandbox-{vid}\" hidden></pre></details>"
            ));
        }
        body.push_str(&format!(
            "<section class=\"version\"><h2>Version {version} <span class=\"badge {cls}\">{state}</span></h2>\
             <p>{changelog}</p>{note}<ul>{findings}</ul>{audit}{actions}</section>",
            version = esc(&v.version),
            cls = match v.state.as_str() {
                "published" => "ok",
                "rejected" | "suspended" => "bad",
                _ => "",
            },
            state = esc(&v.state),
            changelog = esc(&v.changelog),
            note = v
                .review_note
                .as_deref()
                .map(|n| format!("<p>Reviewer: {}</p>", esc(n)))
                .unwrap_or_default(),
        ));
    }
    let latest = versions
        .first()
        .map(|v| serde_json::to_string_pretty(&v.manifest).unwrap_or_default())
        .unwrap_or_default();
    body.push_str(&format!(
        "<section><h2>New version</h2><form data-api=\"POST /v1/apps/{app_id}/versions\">\
         <label>Version <input name=\"version\" placeholder=\"1.0.0\" required></label>\
         <label>Changelog <input name=\"changelog\"></label>\
         <label>Manifest <textarea name=\"manifest\" required>{}</textarea></label>\
         <button type=\"submit\">Add version</button><p role=\"alert\"></p></form></section>",
        esc(&latest)
    ));
    if !plugin {
        body.push_str(&format!(
            "<section><h2>OAuth client</h2><p>client_id: <code>{app_id}</code></p>\
             <form data-api=\"POST /v1/apps/{app_id}/client-secret\" data-show=\"#client-secret\" \
             data-confirm=\"A new secret replaces the current one at once.\">\
             <button type=\"submit\" class=\"secondary\">New client secret</button><p role=\"alert\"></p></form>\
             <pre id=\"client-secret\" hidden></pre></section>"
        ));
    }
    let now = now_ms();
    if let Ok(usage) = analytics::read(
        &state.store,
        analytics::UsageOf::App(&app.id),
        now - 86_400_000,
        now,
    )
    .await
    {
        body.push_str(&usage_section(&usage).replace(
            "<h2>Usage, last 24 hours</h2>",
            "<h2>Analytics across installations, last 24 hours</h2>",
        ));
    }
    if plugin {
        body.push_str(&super::invocations::portal_section(&state, &app.id, &journal).await);
        body.push_str(&super::recordings::portal_section(&state, &app.id).await);
    }
    page(&app.name, Some(&visitor), &body)
}

/// The organization's publisher profile, as its apps' pages show it.
async fn publisher_section(state: &AppState, org_id: &str) -> String {
    let Ok(publisher) = crate::catalog::publishers::get(&state.store, org_id).await else {
        return String::new();
    };
    let mark = if publisher.verified {
        "<span class=\"badge ok\">✓ Verified publisher</span>"
    } else {
        "<span class=\"meta\">Not verified yet: platform reviewers verify publishers they have checked.</span>"
    };
    format!(
        "<section id=\"publisher\"><h2>Publisher profile</h2><p>{mark} <a href=\"/publishers/{slug}\">Your public page</a></p>\
         <form data-api=\"PUT /v1/publisher\" data-then=\"/developer\"><label>About your organization \
         <textarea name=\"about\" data-keep-empty>{about}</textarea></label><label>Website (https://) \
         <input name=\"website\" type=\"url\" value=\"{website}\"></label><button type=\"submit\">Save profile</button>\
         <p role=\"alert\"></p></form></section>",
        slug = esc(&publisher.slug),
        about = esc(&publisher.about),
        website = esc(publisher.website.as_deref().unwrap_or_default()),
    )
}

/// The app's icon and screenshots on its marketplace page, with the forms that change them.
async fn gallery_section(state: &AppState, app_id: &str) -> String {
    let gallery = crate::catalog::media::gallery(&state.store, app_id)
        .await
        .unwrap_or_default();
    let id = esc(app_id);
    let icon = gallery
        .icon
        .as_ref()
        .map(|i| {
            format!(
                "<img class=\"icon\" src=\"{}\" alt=\"The app's icon\" width=\"64\" height=\"64\">",
                esc(&i.url)
            )
        })
        .unwrap_or_else(|| "<p class=\"meta\">No icon yet.</p>".into());
    let shots: String = gallery
        .screenshots
        .iter()
        .enumerate()
        .map(|(n, s)| {
            format!(
                "<figure><img src=\"{url}\" alt=\"Screenshot {k}\" width=\"240\"><figcaption>{w}x{h}\
                 <form class=\"inline\" data-api=\"DELETE /v1/apps/{id}/screenshots/{sha}\">\
                 <button type=\"submit\" class=\"secondary\">Remove screenshot {k}</button><p role=\"alert\"></p></form></figcaption></figure>",
                url = esc(&s.url),
                k = n + 1,
                w = s.width,
                h = s.height,
                sha = esc(&s.sha256),
            )
        })
        .collect();
    format!(
        "<section id=\"gallery\"><h2>Marketplace page</h2><p class=\"meta\">PNG, JPEG or WebP: an icon of at most 512 KiB \
         and 32 to 1024 pixels a side; up to {max} screenshots of at most 4 MiB and 200 to 4096 pixels.</p>{icon}\
         <form data-api=\"PUT /v1/apps/{id}/icon\" data-body=\"file\"><label>Icon <input type=\"file\" \
         accept=\"image/png,image/jpeg,image/webp\" required></label><button type=\"submit\">Upload icon</button><p role=\"alert\"></p></form>\
         <div class=\"shots\">{shots}</div>\
         <form data-api=\"POST /v1/apps/{id}/screenshots\" data-body=\"file\"><label>Screenshot <input type=\"file\" \
         accept=\"image/png,image/jpeg,image/webp\" required></label><button type=\"submit\">Add screenshot</button><p role=\"alert\"></p></form></section>",
        max = crate::catalog::media::MAX_SCREENSHOTS,
    )
}

/// The names of the interfaces and worlds a version's WIT declares.
fn declared(files: &[(&str, &str)]) -> Vec<String> {
    files
        .iter()
        .flat_map(|(_, text)| text.lines())
        .filter_map(|line| {
            let line = line.trim();
            let rest = line
                .strip_prefix("interface ")
                .or_else(|| line.strip_prefix("world "))?;
            Some(rest.trim_end_matches('{').trim().to_owned())
        })
        .collect()
}

/// One section per contract version, newest first: what it added, then its WIT files.
fn contract_docs() -> String {
    let contracts = &crate::contract::CONTRACTS;
    let newest = crate::contract::newest().version;
    let mut out = format!(
        "<p>Bazaar serves every version below side by side: a plugin built against any of them runs          unchanged, with the same scopes and limits. <code>bazaar plugin new</code> targets the newest,          {newest}. A released version never changes.</p>"
    );
    for (i, contract) in contracts.iter().enumerate().rev() {
        let added: Vec<String> = match i.checked_sub(1) {
            None => Vec::new(),
            Some(previous) => {
                let before = declared(contracts[previous].files);
                declared(contract.files)
                    .into_iter()
                    .filter(|name| !before.contains(name))
                    .map(|name| format!("<code>{}</code>", esc(&name)))
                    .collect()
            }
        };
        let summary = if added.is_empty() {
            "The first release.".to_owned()
        } else {
            format!("Adds {}.", added.join(", "))
        };
        let files: String = contract
            .files
            .iter()
            .map(|(path, text)| {
                let name = path.rsplit('/').next().unwrap_or(path);
                format!("<h4>{}</h4><pre>{}</pre>", esc(name), esc(text))
            })
            .collect();
        out.push_str(&format!(
            "<section id=\"wit-{v}\"><h3>{package}{newest}</h3><p>{summary}</p>{files}</section>",
            v = esc(contract.version),
            package = esc(&contract.package()),
            newest = if contract.version == newest {
                " (newest)"
            } else {
                ""
            },
        ));
    }
    out
}

/// `/developer/docs`: generated from the WIT files and the OpenAPI document, and the SDK guide.
pub async fn docs(visitor: Visitor) -> Response {
    let wit = contract_docs();
    let doc: serde_json::Value = serde_json::from_str(&crate::api::openapi_json()).unwrap_or_default();
    let mut rows = String::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for (method, op) in item.as_object().into_iter().flatten() {
                let scope = match op["security"][0]["bearer"][0].as_str() {
                    Some(scope) => scope,
                    None if path.starts_with("/oauth/") => "the app's client credentials",
                    None => "any credential",
                };
                rows.push_str(&format!(
                    "<tr><td><code>{} {}</code></td><td>{}</td><td>{}</td></tr>",
                    esc(&method.to_uppercase()),
                    esc(path),
                    esc(op["summary"]
                        .as_str()
                        .or(op["description"].as_str())
                        .unwrap_or_default()),
                    esc(scope)
                ));
            }
        }
    }
    // The same rule the manifest check and fan-out ask (crate::policy).
    let events: String = crate::platform::outbox::kinds::ALL
        .iter()
        .filter_map(|kind| {
            let rule = crate::policy::event_rule(kind)?;
            Some(format!(
                "<tr><td><code>{}</code></td><td>{}</td><td><code>{}</code></td></tr>",
                esc(kind),
                esc(&rule.describe()),
                esc(rule.credential_needs().as_str())
            ))
        })
        .collect();
    let guides: String = SDK_GUIDES
        .iter()
        .map(|(id, language, guide)| {
            format!(
                "<section id=\"{id}\"><h3>{}</h3><pre>{}</pre></section>",
                esc(language),
                esc(guide)
            )
        })
        .collect();
    let languages: Vec<String> = SDK_GUIDES
        .iter()
        .map(|(id, language, _)| format!("<a href=\"#{id}\">{}</a>", esc(language)))
        .collect();
    let body = format!(
        "<h1>Docs</h1><nav aria-label=\"Docs\"><a href=\"#sdk\">SDK guides</a> · <a href=\"#wit\">WIT contract</a> · \
         <a href=\"#events\">Events</a> · <a href=\"#api\">API reference</a> · <a href=\"/v1/openapi.json\">OpenAPI document</a></nav>\
         <section id=\"sdk\"><h2>Writing a plugin</h2><p>In {languages}: <code>bazaar plugin new NAME --lang \
         rust|ts|js|python</code>, then <code>bazaar plugin build</code>. Every language gets the same contract, \
         limits, audit and review.</p>{guides}</section>\
         <section id=\"wit\"><h2>The WIT contract</h2>{wit}</section>\
         <section id=\"events\"><h2>Events</h2><table><thead><tr><th>Kind</th><th>An app subscribing in its manifest</th>\
         <th>A REST hook's credential needs</th></tr></thead><tbody>{events}</tbody></table></section>\
         <section id=\"api\"><h2>API reference</h2><table><thead><tr><th>Route</th><th>What it does</th><th>Scope</th></tr></thead>\
         <tbody>{rows}</tbody></table></section>",
        languages = languages.join(", ")
    );
    page("Docs", Some(&visitor), &body)
}
