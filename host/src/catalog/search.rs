//! Browsing the catalog: published, active apps, searched by words over their name and
//! descriptions, filtered by category and kind, sorted by installs, rating or newest; and
//! ratings by the organizations that installed an app.

use std::collections::HashSet;

use serde::Serialize;
use utoipa::ToSchema;

use super::apps::{self, Version};
use super::manifest::Pricing;
use crate::platform::{PlatformError, Result, Scope};
use crate::store::{Backend, Store, now_ms};

/// How the catalog is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Best match first (full-text rank); without search words, most installed first.
    Relevance,
    Installs,
    Rating,
    Newest,
}

/// What to look for.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub text: Option<String>,
    pub category: Option<String>,
    pub kind: Option<String>,
    pub sort: Option<Sort>,
    pub limit: u32,
    pub offset: u32,
}

/// An app as a card in the catalog.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Card {
    pub id: String,
    pub slug: String,
    pub kind: String,
    pub name: String,
    pub description: String,
    pub category: String,
    /// The uploaded icon (`/media/{sha256}`), or the manifest's URL.
    pub icon: Option<String>,
    /// The developer organization's name, and whether reviewers verified it.
    pub publisher: String,
    pub publisher_verified: bool,
    #[schema(value_type = Object)]
    pub pricing: Pricing,
    /// Average stars, or null before the first rating.
    pub rating: Option<f64>,
    pub rating_count: i64,
    pub install_count: i64,
    /// Whether the caller's organization has it installed.
    pub installed: bool,
}

#[derive(serde::Deserialize)]
struct CardRow {
    id: String,
    slug: String,
    kind: String,
    name: String,
    description: String,
    category: String,
    rating_sum: i64,
    rating_count: i64,
    install_count: i64,
    manifest: String,
    long_description: String,
    icon_sha256: Option<String>,
    publisher: String,
    verified_at: Option<i64>,
}

impl CardRow {
    fn into_card(self, installed: &HashSet<String>) -> Option<Card> {
        let manifest: super::manifest::Manifest = serde_json::from_str(&self.manifest).ok()?;
        let installed = installed.contains(&self.id);
        Some(Card {
            id: self.id,
            slug: self.slug,
            kind: self.kind,
            name: self.name,
            description: self.description,
            category: self.category,
            icon: self
                .icon_sha256
                .map(|sha| format!("/media/{sha}"))
                .or(manifest.icon),
            publisher: self.publisher,
            publisher_verified: self.verified_at.is_some(),
            pricing: manifest.pricing,
            rating: (self.rating_count > 0).then(|| self.rating_sum as f64 / self.rating_count as f64),
            rating_count: self.rating_count,
            install_count: self.install_count,
            installed,
        })
    }
}

const CARD_COLUMNS: &str = "SELECT a.id, a.slug, a.kind, a.name, a.description, a.category, a.rating_sum, a.rating_count, \
     a.install_count, v.manifest, a.long_description, ic.sha256 AS icon_sha256, o.name AS publisher, p.verified_at \
     FROM apps a JOIN app_versions v ON v.id = a.published_version_id \
     JOIN organizations o ON o.id = a.owner_org_id LEFT JOIN publishers p ON p.org_id = a.owner_org_id \
     LEFT JOIN app_images ic ON ic.app_id = a.id AND ic.role = 'icon'";

/// The searchable text of an app, for PostgreSQL's text search (the index is on this expression).
const PG_DOCUMENT: &str =
    "to_tsvector('english', a.name || ' ' || a.description || ' ' || a.long_description)";

/// Search words as terms: letters and digits only (so input cannot break the query syntax),
/// at most eight, each matched as a prefix.
fn terms(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .take(8)
        .collect()
}

/// Searches the catalog for an organization, marking the apps it `installed` (their ids, from
/// `installs::installed_apps`): full-text over the
/// name and descriptions, with stemming (SQLite FTS5 with the Porter stemmer, PostgreSQL English
/// text search), every word required, each also as a prefix.
pub async fn search(store: &Store, installed: &HashSet<String>, query: &Query) -> Result<Vec<Card>> {
    let mut sql = String::from(CARD_COLUMNS);
    let mut args: Vec<String> = Vec::new();
    let terms = terms(query.text.as_deref().unwrap_or_default());
    let mut rank = None;
    if !terms.is_empty() {
        match store.backend() {
            Backend::Sqlite => {
                args.push(
                    terms
                        .iter()
                        .map(|t| format!("\"{t}\"*"))
                        .collect::<Vec<_>>()
                        .join(" "),
                );
                // bm25 weights: the name counts most, then the short description.
                sql.push_str(&format!(
                    " JOIN (SELECT app_id, bm25(apps_fts, 0.0, 10.0, 4.0, 1.0) AS rank FROM apps_fts \
                     WHERE apps_fts MATCH ${}) f ON f.app_id = a.id",
                    args.len()
                ));
                rank = Some("f.rank".to_owned());
            }
            Backend::Postgres => {
                args.push(
                    terms
                        .iter()
                        .map(|t| format!("{t}:*"))
                        .collect::<Vec<_>>()
                        .join(" & "),
                );
                let n = args.len();
                sql.push_str(&format!(
                    " WHERE {PG_DOCUMENT} @@ to_tsquery('english', ${n}) AND"
                ));
                rank = Some(format!("-ts_rank({PG_DOCUMENT}, to_tsquery('english', ${n}))"));
            }
        }
    }
    if !sql.ends_with(" AND") {
        sql.push_str(" WHERE");
    }
    sql.push_str(" a.status = 'active'");
    if let Some(category) = &query.category {
        args.push(category.clone());
        sql.push_str(&format!(" AND a.category = ${}", args.len()));
    }
    if let Some(kind) = &query.kind {
        if kind != "plugin" && kind != "external" {
            return Err(PlatformError::Invalid("`kind` must be plugin or external".into()));
        }
        args.push(kind.clone());
        sql.push_str(&format!(" AND a.kind = ${}", args.len()));
    }
    let relevance = rank.map(|r| format!(" ORDER BY {r}, a.install_count DESC, a.id DESC"));
    sql.push_str(match query.sort.unwrap_or(Sort::Relevance) {
        Sort::Relevance => relevance.as_deref().unwrap_or(" ORDER BY a.install_count DESC, a.id DESC"),
        Sort::Installs => " ORDER BY a.install_count DESC, a.id DESC",
        Sort::Rating => {
            " ORDER BY CASE WHEN a.rating_count = 0 THEN 0 ELSE a.rating_sum * 1.0 / a.rating_count END DESC, a.id DESC"
        }
        Sort::Newest => " ORDER BY a.published_at DESC, a.id DESC",
    });
    sql.push_str(&format!(
        " LIMIT {} OFFSET {}",
        query.limit.clamp(1, 100),
        query.offset.min(10_000)
    ));
    let mut q = crate::store::query_as::<CardRow>(&sql);
    for arg in args {
        q = q.bind(arg);
    }
    Ok(q.fetch_all(store.reader())
        .await?
        .into_iter()
        .filter_map(|row| row.into_card(installed))
        .collect())
}

/// The published apps of a publisher, most installed first.
pub async fn by_publisher(store: &Store, org_id: &str) -> Result<Vec<Card>> {
    let rows: Vec<CardRow> = crate::store::query_as(&format!(
        "{CARD_COLUMNS} WHERE a.status = 'active' AND a.owner_org_id = $1 ORDER BY a.install_count DESC, a.id DESC LIMIT 100"
    ))
    .bind(org_id)
    .fetch_all(store.reader())
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| row.into_card(&HashSet::new()))
        .collect())
}

/// A scope on the app page: its name, the developer's purpose, and what it lets the app do.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Permission {
    pub scope: String,
    pub purpose: String,
    pub means: String,
    /// For plugins: the WIT interfaces behind the scope and what each lets the app do.
    pub interfaces: Vec<crate::policy::InterfaceUse>,
}

/// The app page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Listing {
    #[serde(flatten)]
    pub card: Card,
    /// Markdown; pages render it with raw HTML shown as text and only web and mail links.
    pub long_description: String,
    /// Uploaded screenshots (`/media/{sha256}`) first, then the manifest's URLs.
    pub screenshots: Vec<String>,
    pub publisher_profile: super::publishers::Publisher,
    /// The internet hosts a plugin may call.
    pub allowed_hosts: Vec<String>,
    /// Where its UI appears in Bazaar's pages, in words.
    pub appears_in: Vec<String>,
    /// The accounts it asks the tenant to connect, in words.
    pub connections: Vec<String>,
    /// What one call of a plugin may use.
    pub limits: Option<CallLimits>,
    pub support_url: Option<String>,
    pub privacy_url: Option<String>,
    pub permissions: Vec<Permission>,
    /// The events it receives, each with what receiving it takes.
    pub events: Vec<EventAccess>,
    /// Published versions, newest first, with their changelogs.
    pub versions: Vec<VersionSummary>,
    pub reviews: Vec<Review>,
}

/// A published version on the app page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VersionSummary {
    pub id: String,
    pub version: String,
    pub changelog: String,
    pub published_at: Option<String>,
}

/// A rating with its review, and the developer's reply.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Review {
    /// The reviewing organization's name.
    pub by: String,
    pub stars: i64,
    pub review: String,
    pub updated_at: String,
    pub reply: Option<String>,
    pub replied_at: Option<String>,
}

/// A review as read: the organization's name, stars, text, time, reply and its time.
type ReviewRow = (String, i64, String, i64, Option<String>, Option<i64>);

/// The limits one call of a plugin runs under.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallLimits {
    pub fuel: u64,
    pub memory_bytes: usize,
    pub timeout_ms: u64,
}

/// The catalog page of a published app, marked if it is among the organization's `installed`.
pub async fn listing(store: &Store, installed: &HashSet<String>, slug: &str) -> Result<Listing> {
    let row: Option<CardRow> = crate::store::query_as(&format!(
        "{CARD_COLUMNS} WHERE a.status = 'active' AND a.slug = $1"
    ))
    .bind(slug)
    .fetch_optional(store.reader())
    .await?;
    let row = row.ok_or(PlatformError::NotFound("app"))?;
    let long_description = row.long_description.clone();
    let card = row.into_card(installed).ok_or(PlatformError::NotFound("app"))?;
    let app = apps::get(store, &card.id).await?;
    let published = apps::version(store, app.published_version_id.as_deref().unwrap_or_default()).await?;
    let versions: Vec<Version> = apps::versions(store, &app.id, true).await?;
    let reviews: Vec<ReviewRow> = crate::store::query_as(
        "SELECT o.name, r.stars, r.review, r.updated_at, r.reply, r.replied_at FROM ratings r \
         JOIN organizations o ON o.id = r.org_id WHERE r.app_id = $1 ORDER BY r.updated_at DESC LIMIT 50",
    )
    .bind(&app.id)
    .fetch_all(store.reader())
    .await?;
    let gallery = super::media::gallery(store, &app.id).await?;
    let manifest = &published.manifest;
    let plugin = published.component_sha256.is_some();
    let limits = manifest.limits();
    Ok(Listing {
        card,
        long_description,
        screenshots: gallery
            .screenshots
            .iter()
            .map(|i| i.url.clone())
            .chain(
                manifest
                    .screenshots
                    .iter()
                    .filter(|u| u.starts_with("https://"))
                    .cloned(),
            )
            .collect(),
        publisher_profile: super::publishers::get(store, &app.owner_org_id).await?,
        allowed_hosts: manifest.allowed_hosts.clone(),
        appears_in: manifest.ui.iter().map(|p| p.describe().to_owned()).collect(),
        connections: manifest.connections.iter().map(|c| c.describe()).collect(),
        limits: plugin.then_some(CallLimits {
            fuel: limits.fuel,
            memory_bytes: limits.memory_bytes,
            timeout_ms: limits.timeout_ms,
        }),
        support_url: manifest.support_url.clone(),
        privacy_url: manifest.privacy_url.clone(),
        permissions: permissions(&published),
        events: event_access(&published),
        versions: versions
            .into_iter()
            .map(|v| VersionSummary {
                id: v.id,
                version: v.version,
                changelog: v.changelog,
                published_at: v.reviewed_at,
            })
            .collect(),
        reviews: reviews
            .into_iter()
            .map(|(by, stars, review, at, reply, replied_at)| Review {
                by,
                stars,
                review,
                updated_at: crate::platform::format_time(at),
                reply,
                replied_at: replied_at.map(crate::platform::format_time),
            })
            .collect(),
    })
}

/// The developer answers an organization's review of their app.
pub async fn reply(store: &Store, app_id: &str, reviewer_org_slug: &str, text: &str) -> Result<()> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 2_000 {
        return Err(PlatformError::Invalid(
            "a reply must be 1 to 2,000 characters".into(),
        ));
    }
    let org = crate::platform::orgs::find_by_slug(store, reviewer_org_slug)
        .await?
        .ok_or(PlatformError::NotFound("review"))?;
    let done = crate::store::query(
        "UPDATE ratings SET reply = $1, replied_at = $2 WHERE app_id = $3 AND org_id = $4",
    )
    .bind(text)
    .bind(crate::store::now_ms())
    .bind(app_id)
    .bind(&org.id)
    .execute(store.writer())
    .await?;
    if done.rows_affected() == 0 {
        return Err(PlatformError::NotFound("review"));
    }
    Ok(())
}

/// Each scope of a version in plain words.
pub fn permissions(version: &Version) -> Vec<Permission> {
    let plugin = version.component_sha256.is_some();
    version
        .manifest
        .scopes
        .iter()
        .map(|s| Permission {
            scope: s.name.clone(),
            purpose: s.purpose.clone(),
            means: s
                .name
                .parse::<Scope>()
                .map(|scope| scope.describe().to_owned())
                .unwrap_or_default(),
            interfaces: match (s.name.parse::<Scope>(), plugin) {
                (Ok(scope), true) => crate::policy::interfaces_for(scope),
                _ => Vec::new(),
            },
        })
        .collect()
}

/// One kind of event an app receives, and the rule it is received under.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventAccess {
    /// `task.created`, `app.installed`, ...
    pub kind: String,
    /// What receiving it takes, in the policy's words (the same rule fan-out applies).
    pub rule: String,
}

/// The events a version subscribes to, with the policy's rule for each.
pub fn event_access(version: &Version) -> Vec<EventAccess> {
    version
        .manifest
        .events
        .iter()
        .filter_map(|kind| {
            let rule = crate::policy::event_rule(kind)?;
            Some(EventAccess {
                kind: kind.clone(),
                rule: rule.describe(),
            })
        })
        .collect()
}

/// Rates an app (1 to 5 stars): only an organization that installed it (`installed`, which the
/// caller looked up with `installs::installed_apps`), once (a new rating replaces its previous one).
pub async fn rate(
    store: &Store,
    org_id: &str,
    app_id: &str,
    installed: bool,
    stars: i64,
    review: &str,
) -> Result<()> {
    if !(1..=5).contains(&stars) {
        return Err(PlatformError::Invalid("`stars` must be 1 to 5".into()));
    }
    let review = crate::platform::limit_text("review", review, 5_000)?;
    if !installed {
        return Err(PlatformError::Conflict(
            "only organizations that installed the app can rate it".into(),
        ));
    }
    let now = now_ms();
    let mut tx = store.writer().begin().await?;
    crate::store::query(
        "INSERT INTO ratings (app_id, org_id, stars, review, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) \
         ON CONFLICT (app_id, org_id) DO UPDATE SET stars = excluded.stars, review = excluded.review, updated_at = excluded.updated_at",
    )
    .bind(app_id)
    .bind(org_id)
    .bind(stars)
    .bind(review)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    // Kept true from the ratings themselves, never incremented blindly.
    crate::store::query(
        "UPDATE apps SET rating_sum = (SELECT COALESCE(SUM(stars), 0) FROM ratings WHERE app_id = $1), \
         rating_count = (SELECT COUNT(*) FROM ratings WHERE app_id = $1) WHERE id = $1",
    )
    .bind(app_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
