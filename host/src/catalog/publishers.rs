//! Publishers: the developer organizations behind apps, as tenants see them (table
//! `publishers`): a profile the developer writes (about, website) and a verified mark that only
//! platform reviewers give or take back, once they have checked who the publisher is.

use serde::Serialize;
use utoipa::ToSchema;

use crate::platform::{PlatformError, Result, format_time, orgs};
use crate::store::{Store, now_ms};

/// A publisher's public profile.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Publisher {
    pub org_id: String,
    pub name: String,
    /// Its profile page is `/publishers/{slug}`.
    pub slug: String,
    pub about: String,
    pub website: Option<String>,
    /// Whether platform reviewers have verified who the publisher is.
    pub verified: bool,
    pub verified_at: Option<String>,
}

/// The profile of the organization `org_id` (empty until its developer writes one).
pub async fn get(store: &Store, org_id: &str) -> Result<Publisher> {
    let org = orgs::get(store, org_id).await?;
    let row: Option<(String, Option<String>, Option<i64>)> =
        crate::store::query_as("SELECT about, website, verified_at FROM publishers WHERE org_id = $1")
            .bind(org_id)
            .fetch_optional(store.reader())
            .await?;
    let (about, website, verified_at) = row.unwrap_or_default();
    Ok(Publisher {
        org_id: org.id,
        name: org.name,
        slug: org.slug,
        about,
        website,
        verified: verified_at.is_some(),
        verified_at: verified_at.map(format_time),
    })
}

/// The publisher whose organization's slug is `slug`.
pub async fn by_slug(store: &Store, slug: &str) -> Result<Publisher> {
    let org = orgs::find_by_slug(store, slug)
        .await?
        .ok_or(PlatformError::NotFound("publisher"))?;
    get(store, &org.id).await
}

/// The developer writes their profile; the verified mark stays as reviewers left it.
pub async fn update(store: &Store, org_id: &str, about: &str, website: Option<&str>) -> Result<Publisher> {
    if about.chars().count() > 2_000 {
        return Err(PlatformError::Invalid(
            "`about` may be at most 2,000 characters".into(),
        ));
    }
    if let Some(site) = website
        && !(site.starts_with("https://") && site.len() <= 300 && url::Url::parse(site).is_ok())
    {
        return Err(PlatformError::Invalid("`website` must be an https:// URL".into()));
    }
    crate::store::query(
        "INSERT INTO publishers (org_id, about, website) VALUES ($1, $2, $3) \
         ON CONFLICT (org_id) DO UPDATE SET about = excluded.about, website = excluded.website",
    )
    .bind(org_id)
    .bind(about)
    .bind(website)
    .execute(store.writer())
    .await?;
    get(store, org_id).await
}

/// A platform reviewer gives (or takes back) the verified mark.
pub async fn verify(
    store: &Store,
    org_id: &str,
    reviewer: Option<&str>,
    verified: bool,
) -> Result<Publisher> {
    orgs::get(store, org_id).await?;
    let at = verified.then(now_ms);
    crate::store::query(
        "INSERT INTO publishers (org_id, about, verified_at, verified_by) VALUES ($1, '', $2, $3) \
         ON CONFLICT (org_id) DO UPDATE SET verified_at = excluded.verified_at, verified_by = excluded.verified_by",
    )
    .bind(org_id)
    .bind(at)
    .bind(reviewer.filter(|_| verified))
    .execute(store.writer())
    .await?;
    get(store, org_id).await
}
