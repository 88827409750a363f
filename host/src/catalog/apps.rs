//! Apps and their versions. A version is a manifest plus, for a plugin, a component stored by
//! SHA-256 in the database (so every node shares it); once submitted it never changes.

use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::manifest::{FieldError, Manifest};
use crate::platform::{PlatformError, Result, format_time};
use crate::store::{Store, new_id, now_ms};

/// Largest component accepted: room for an interpreter inside (a Python component is about
/// 18 MB, a QuickJS one under 2 MB, a Rust one a few hundred KB).
pub const MAX_COMPONENT_BYTES: usize = 32 << 20;

/// A plugin runs in Bazaar; an external app connects by OAuth and webhooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AppKind {
    Plugin,
    External,
}

impl AppKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AppKind::Plugin => "plugin",
            AppKind::External => "external",
        }
    }

    fn parse(text: &str) -> AppKind {
        if text == "plugin" {
            AppKind::Plugin
        } else {
            AppKind::External
        }
    }
}

/// An app as its developer sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct App {
    pub id: String,
    pub slug: String,
    pub kind: AppKind,
    pub owner_org_id: String,
    pub name: String,
    pub description: String,
    pub category: String,
    /// `active` or `suspended`.
    pub status: String,
    pub suspended_reason: Option<String>,
    pub published_version_id: Option<String>,
    pub install_count: i64,
    pub created_at: String,
}

#[derive(serde::Deserialize)]
struct AppRow {
    id: String,
    slug: String,
    kind: String,
    owner_org_id: String,
    name: String,
    description: String,
    category: String,
    status: String,
    suspended_reason: Option<String>,
    published_version_id: Option<String>,
    install_count: i64,
    created_at: i64,
}

impl From<AppRow> for App {
    fn from(r: AppRow) -> Self {
        App {
            id: r.id,
            slug: r.slug,
            kind: AppKind::parse(&r.kind),
            owner_org_id: r.owner_org_id,
            name: r.name,
            description: r.description,
            category: r.category,
            status: r.status,
            suspended_reason: r.suspended_reason,
            published_version_id: r.published_version_id,
            install_count: r.install_count,
            created_at: format_time(r.created_at),
        }
    }
}

const APP_COLUMNS: &str = "id, slug, kind, owner_org_id, name, description, category, status, suspended_reason, \
                           published_version_id, install_count, created_at";

/// A version's review state.
pub mod states {
    pub const DRAFT: &str = "draft";
    pub const IN_REVIEW: &str = "in_review";
    pub const PUBLISHED: &str = "published";
    pub const REJECTED: &str = "rejected";
    /// Published, then suspended with its app.
    pub const SUSPENDED: &str = "suspended";
}

/// One result of the automated review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct Finding {
    /// `error` rejects the version; `warning` and `info` are for the reviewer.
    pub severity: String,
    /// Which check: `manifest`, `imports`, `size`, `smoke-run`.
    pub check: String,
    pub message: String,
}

/// A version of an app.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Version {
    pub id: String,
    pub app_id: String,
    /// `major.minor.patch`.
    pub version: String,
    #[schema(value_type = Object)]
    pub manifest: Manifest,
    pub component_sha256: Option<String>,
    pub changelog: String,
    /// `draft`, `in_review`, `published`, `rejected`.
    pub state: String,
    pub findings: Vec<Finding>,
    /// The reviewer's note, shown to the developer.
    pub review_note: Option<String>,
    pub created_at: String,
    pub submitted_at: Option<String>,
    pub reviewed_at: Option<String>,
}

#[derive(serde::Deserialize)]
struct VersionRow {
    id: String,
    app_id: String,
    version: String,
    manifest: String,
    component_sha256: Option<String>,
    changelog: String,
    state: String,
    findings: String,
    review_note: Option<String>,
    created_at: i64,
    submitted_at: Option<i64>,
    reviewed_at: Option<i64>,
}

impl VersionRow {
    fn into_version(self) -> Result<Version> {
        let manifest = serde_json::from_str(&self.manifest)
            .map_err(|e| PlatformError::Internal(format!("stored manifest of {}: {e}", self.id)))?;
        Ok(Version {
            manifest,
            findings: serde_json::from_str(&self.findings).unwrap_or_default(),
            id: self.id,
            app_id: self.app_id,
            version: self.version,
            component_sha256: self.component_sha256,
            changelog: self.changelog,
            state: self.state,
            review_note: self.review_note,
            created_at: format_time(self.created_at),
            submitted_at: self.submitted_at.map(format_time),
            reviewed_at: self.reviewed_at.map(format_time),
        })
    }
}

const VERSION_COLUMNS: &str = "id, app_id, version, manifest, component_sha256, changelog, state, findings, \
                               review_note, created_at, submitted_at, reviewed_at";

/// A manifest that cannot be accepted, with every problem.
pub fn manifest_errors(errors: Vec<FieldError>) -> PlatformError {
    let list = errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    PlatformError::InvalidFields(
        format!("the manifest has problems: {list}"),
        errors.into_iter().map(|e| (e.field, e.message)).collect(),
    )
}

fn parse_manifest(text: &str, kind: AppKind) -> Result<Manifest> {
    let manifest = Manifest::parse(text).map_err(|e| manifest_errors(vec![e]))?;
    let errors = manifest.validate(kind == AppKind::Plugin);
    if !errors.is_empty() {
        return Err(manifest_errors(errors));
    }
    Ok(manifest)
}

fn check_version(version: &str) -> Result<()> {
    let parts: Vec<&str> = version.split('.').collect();
    let ok = parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 9 && p.chars().all(|c| c.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(PlatformError::Invalid(format!(
            "`{version}` is not a version like 1.2.3"
        )))
    }
}

/// Creates an app owned by `org_id` from its manifest (its slug must be free).
pub async fn create(
    store: &Store,
    org_id: &str,
    user_id: Option<&str>,
    kind: AppKind,
    manifest_text: &str,
) -> Result<App> {
    let manifest = parse_manifest(manifest_text, kind)?;
    let taken: Option<(String,)> = crate::store::query_as("SELECT id FROM apps WHERE slug = $1")
        .bind(&manifest.slug)
        .fetch_optional(store.reader())
        .await?;
    if taken.is_some() {
        return Err(PlatformError::Conflict(format!(
            "the slug `{}` is taken; choose another",
            manifest.slug
        )));
    }
    let id = new_id("app");
    let category = serde_json::to_value(manifest.category)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    crate::store::query(
        "INSERT INTO apps (id, slug, kind, owner_org_id, created_by, name, description, long_description, category, \
         status, install_count, rating_sum, rating_count, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', 0, 0, 0, $10)",
    )
    .bind(&id)
    .bind(&manifest.slug)
    .bind(kind.as_str())
    .bind(org_id)
    .bind(user_id)
    .bind(&manifest.name)
    .bind(&manifest.description)
    .bind(&manifest.long_description)
    .bind(category)
    .bind(now_ms())
    .execute(store.writer())
    .await?;
    get(store, &id).await
}

/// One app by id.
pub async fn get(store: &Store, id: &str) -> Result<App> {
    let row: Option<AppRow> =
        crate::store::query_as(&format!("SELECT {APP_COLUMNS} FROM apps WHERE id = $1"))
            .bind(id)
            .fetch_optional(store.reader())
            .await?;
    row.map(App::from).ok_or(PlatformError::NotFound("app"))
}

/// One app by slug.
pub async fn by_slug(store: &Store, slug: &str) -> Result<App> {
    let row: Option<AppRow> =
        crate::store::query_as(&format!("SELECT {APP_COLUMNS} FROM apps WHERE slug = $1"))
            .bind(slug)
            .fetch_optional(store.reader())
            .await?;
    row.map(App::from).ok_or(PlatformError::NotFound("app"))
}

/// An app the organization owns (its developer's view); another organization's app is not found.
pub async fn owned(store: &Store, org_id: &str, id: &str) -> Result<App> {
    let app = get(store, id).await?;
    if app.owner_org_id != org_id {
        return Err(PlatformError::NotFound("app"));
    }
    Ok(app)
}

/// The organization's own apps, newest first.
pub async fn list_owned(store: &Store, org_id: &str) -> Result<Vec<App>> {
    let rows: Vec<AppRow> = crate::store::query_as(&format!(
        "SELECT {APP_COLUMNS} FROM apps WHERE owner_org_id = $1 ORDER BY id DESC"
    ))
    .bind(org_id)
    .fetch_all(store.reader())
    .await?;
    Ok(rows.into_iter().map(App::from).collect())
}

/// Adds a draft version. Its manifest keeps the app's slug.
pub async fn add_version(
    store: &Store,
    app: &App,
    version: &str,
    manifest_text: &str,
    changelog: &str,
) -> Result<Version> {
    check_version(version)?;
    let manifest = parse_manifest(manifest_text, app.kind)?;
    if manifest.slug != app.slug {
        return Err(PlatformError::Invalid(format!(
            "the manifest's slug `{}` differs from the app's `{}`",
            manifest.slug, app.slug
        )));
    }
    let exists: Option<(String,)> =
        crate::store::query_as("SELECT id FROM app_versions WHERE app_id = $1 AND version = $2")
            .bind(&app.id)
            .bind(version)
            .fetch_optional(store.reader())
            .await?;
    if exists.is_some() {
        return Err(PlatformError::Conflict(format!(
            "version {version} exists; versions are immutable, add a new one"
        )));
    }
    let id = new_id("ver");
    let manifest_json =
        serde_json::to_string(&manifest).map_err(|e| PlatformError::Internal(e.to_string()))?;
    crate::store::query(&format!(
        "INSERT INTO app_versions ({VERSION_COLUMNS}) VALUES ($1, $2, $3, $4, NULL, $5, 'draft', '[]', NULL, $6, NULL, NULL)"
    ))
    .bind(&id)
    .bind(&app.id)
    .bind(version)
    .bind(manifest_json)
    .bind(crate::platform::limit_text("changelog", changelog, 10_000)?)
    .bind(now_ms())
    .execute(store.writer())
    .await?;
    version_of(store, &app.id, &id).await
}

/// A version of the given app.
pub async fn version_of(store: &Store, app_id: &str, id: &str) -> Result<Version> {
    let row: Option<VersionRow> = crate::store::query_as(&format!(
        "SELECT {VERSION_COLUMNS} FROM app_versions WHERE id = $1 AND app_id = $2"
    ))
    .bind(id)
    .bind(app_id)
    .fetch_optional(store.reader())
    .await?;
    row.ok_or(PlatformError::NotFound("version"))?.into_version()
}

/// A version by id alone (for reviewers and installations).
pub async fn version(store: &Store, id: &str) -> Result<Version> {
    let row: Option<VersionRow> = crate::store::query_as(&format!(
        "SELECT {VERSION_COLUMNS} FROM app_versions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(store.reader())
    .await?;
    row.ok_or(PlatformError::NotFound("version"))?.into_version()
}

/// Versions of an app, newest first; `published_only` for the catalog.
pub async fn versions(store: &Store, app_id: &str, published_only: bool) -> Result<Vec<Version>> {
    let filter = if published_only {
        " AND state = 'published'"
    } else {
        ""
    };
    let rows: Vec<VersionRow> = crate::store::query_as(&format!(
        "SELECT {VERSION_COLUMNS} FROM app_versions WHERE app_id = $1{filter} ORDER BY id DESC"
    ))
    .bind(app_id)
    .fetch_all(store.reader())
    .await?;
    rows.into_iter().map(VersionRow::into_version).collect()
}

/// Versions waiting for a reviewer, oldest submission first.
pub async fn review_queue(store: &Store) -> Result<Vec<Version>> {
    let rows: Vec<VersionRow> = crate::store::query_as(&format!(
        "SELECT {VERSION_COLUMNS} FROM app_versions WHERE state = 'in_review' ORDER BY submitted_at, id"
    ))
    .fetch_all(store.reader())
    .await?;
    rows.into_iter().map(VersionRow::into_version).collect()
}

/// Stores the component of a draft version (a plugin's `.wasm`).
pub async fn upload_component(store: &Store, app: &App, version_id: &str, bytes: &[u8]) -> Result<Version> {
    if app.kind != AppKind::Plugin {
        return Err(PlatformError::Invalid("only plugin apps have a component".into()));
    }
    if bytes.len() > MAX_COMPONENT_BYTES {
        return Err(PlatformError::Invalid(format!(
            "the component is larger than {MAX_COMPONENT_BYTES} bytes"
        )));
    }
    crate::runtime::audit::interfaces(bytes).map_err(|e| PlatformError::Invalid(e.to_string()))?;
    let version = version_of(store, &app.id, version_id).await?;
    if version.state != states::DRAFT {
        return Err(PlatformError::Conflict(format!(
            "version {} is {}; only a draft can change",
            version.version, version.state
        )));
    }
    let sha256 = sha256_hex(bytes);
    let mut conn = store.writer().acquire().await?;
    let mut tx = conn.begin().await?;
    crate::store::query(
        "INSERT INTO components (sha256, bytes, size, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING",
    )
    .bind(&sha256)
    .bind(bytes.to_vec())
    .bind(bytes.len() as i64)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    crate::store::query("UPDATE app_versions SET component_sha256 = $1 WHERE id = $2 AND state = 'draft'")
        .bind(&sha256)
        .bind(version_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    version_of(store, &app.id, version_id).await
}

/// The bytes of a stored component.
pub async fn component(store: &Store, sha256: &str) -> Result<Vec<u8>> {
    let row: Option<(Vec<u8>,)> = crate::store::query_as("SELECT bytes FROM components WHERE sha256 = $1")
        .bind(sha256)
        .fetch_optional(store.reader())
        .await?;
    row.map(|(b,)| b).ok_or(PlatformError::NotFound("component"))
}

/// Moves a version to `state` with the review's findings or note.
pub(crate) async fn set_state(
    store: &Store,
    version_id: &str,
    from: &[&str],
    to: &str,
    findings: Option<&[Finding]>,
    note: Option<(&str, Option<&str>)>,
) -> Result<()> {
    let now = now_ms();
    let allowed = from
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let findings = findings.map(|f| serde_json::to_string(f).unwrap_or_else(|_| "[]".into()));
    let result = crate::store::query(&format!(
        "UPDATE app_versions SET state = $1, \
         findings = COALESCE($2, findings), \
         submitted_at = CASE WHEN $1 IN ('in_review', 'rejected') AND submitted_at IS NULL THEN $3 ELSE submitted_at END, \
         review_note = COALESCE($4, review_note), reviewed_by = COALESCE($5, reviewed_by), \
         reviewed_at = CASE WHEN $4 IS NULL THEN reviewed_at ELSE $3 END \
         WHERE id = $6 AND state IN ({allowed})"
    ))
    .bind(to)
    .bind(findings)
    .bind(now)
    .bind(note.map(|(n, _)| n.to_owned()))
    .bind(note.and_then(|(_, by)| by.map(str::to_owned)))
    .bind(version_id)
    .execute(store.writer())
    .await?;
    if result.rows_affected() == 0 {
        return Err(PlatformError::Conflict(format!(
            "the version is not in a state that allows this ({allowed})"
        )));
    }
    Ok(())
}

/// Records how many installations an app has (the installs module counts them).
pub async fn set_install_count(conn: &mut crate::store::Conn, app_id: &str, count: i64) -> Result<()> {
    crate::store::query("UPDATE apps SET install_count = $1 WHERE id = $2")
        .bind(count)
        .bind(app_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The content hash that names stored bytes (components, images), in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
