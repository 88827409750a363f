//! Credentials: signing in, organization API keys and web sessions.
//!
//! Secrets are random, prefixed so a leaked one is recognisable (`bzk_` keys, `bzs_` sessions),
//! shown once, and stored only as SHA-256 hashes: they carry 238 bits of entropy, so a fast hash
//! is enough; passwords, which people choose, get argon2.

use rand::Rng;
use rand::distributions::Alphanumeric;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::orgs::Role;
use super::page::{Keyset, Page, PageRequest};
use super::{PlatformError, Result, ScopeSet, require_text};
use crate::store::{Store, new_id, now_ms};

/// Prefix of organization API keys.
pub const API_KEY_PREFIX: &str = "bzk_";
/// Prefix of web session tokens.
pub const SESSION_PREFIX: &str = "bzs_";
/// How long a web session lasts.
pub const SESSION_LIFETIME_MS: i64 = 14 * 24 * 3600 * 1000;

pub(crate) fn random_token(prefix: &str) -> String {
    let body: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(40)
        .map(char::from)
        .collect();
    format!("{prefix}{body}")
}

/// The stored form of a secret token.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------------
// API keys

/// An organization API key as listed: never its secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    /// The first characters of the secret, to recognise it (`bzk_AbC1`).
    pub prefix: String,
    /// Scopes the key holds, e.g. `["projects:read"]`.
    pub scopes: Vec<String>,
    pub created_at: String,
    /// Set once the key is revoked; a revoked key authenticates nothing.
    pub revoked_at: Option<String>,
}

#[derive(serde::Deserialize)]
struct ApiKeyRow {
    id: String,
    name: String,
    prefix: String,
    scopes: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl From<ApiKeyRow> for ApiKey {
    fn from(row: ApiKeyRow) -> Self {
        ApiKey {
            id: row.id,
            name: row.name,
            prefix: row.prefix,
            scopes: row.scopes.split_whitespace().map(str::to_owned).collect(),
            created_at: super::format_time(row.created_at),
            revoked_at: row.revoked_at.map(super::format_time),
        }
    }
}

/// A key just created, with its secret, which is shown this once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub key: ApiKey,
    /// The secret. Store it now: Bazaar keeps only its hash.
    pub secret: String,
}

/// Who an API key acts for.
#[derive(Debug, Clone)]
pub struct KeyIdentity {
    pub key_id: String,
    pub org_id: String,
    pub scopes: ScopeSet,
}

/// Creates an API key for the organization with exactly `scopes`.
pub async fn create_api_key(
    store: &Store,
    org_id: &str,
    name: &str,
    scopes: ScopeSet,
    created_by: Option<&str>,
) -> Result<CreatedApiKey> {
    let name = require_text("name", name, 100)?;
    if scopes == ScopeSet::default() {
        return Err(PlatformError::Invalid(
            "`scopes` must name at least one scope".into(),
        ));
    }
    let secret = random_token(API_KEY_PREFIX);
    let row = ApiKeyRow {
        id: new_id("key"),
        name,
        prefix: secret[..API_KEY_PREFIX.len() + 4].to_owned(),
        scopes: scopes.to_text(),
        created_at: now_ms(),
        revoked_at: None,
    };
    crate::store::query(
        "INSERT INTO api_keys (id, org_id, name, prefix, secret_hash, scopes, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&row.id)
    .bind(org_id)
    .bind(&row.name)
    .bind(&row.prefix)
    .bind(token_hash(&secret))
    .bind(&row.scopes)
    .bind(created_by)
    .bind(row.created_at)
    .execute(store.writer())
    .await?;
    Ok(CreatedApiKey {
        key: row.into(),
        secret,
    })
}

/// The organization's keys, newest first, revoked ones included.
pub async fn list_api_keys(store: &Store, org_id: &str, page: &PageRequest) -> Result<Page<ApiKey>> {
    const COLUMNS: &str = "id, name, prefix, scopes, created_at, revoked_at";
    let keyset = Keyset::new(page, 2, "id", "created_at");
    let select = format!("SELECT {COLUMNS} FROM api_keys WHERE org_id = $1{}", keyset.sql);
    let query = keyset.bind(crate::store::query_as(&select).bind(org_id), page.limit);
    let rows: Vec<ApiKeyRow> = query.fetch_all(store.reader()).await?;
    Ok(Page::from_rows(rows, page.limit, |r| &r.id).map(ApiKey::from))
}

/// Revokes a key at once. Revoking twice is harmless and answers the same key.
pub async fn revoke_api_key(store: &Store, org_id: &str, key_id: &str) -> Result<ApiKey> {
    crate::store::query(
        "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND org_id = $3 AND revoked_at IS NULL",
    )
    .bind(now_ms())
    .bind(key_id)
    .bind(org_id)
    .execute(store.writer())
    .await?;
    let row: Option<ApiKeyRow> = crate::store::query_as(
        "SELECT id, name, prefix, scopes, created_at, revoked_at FROM api_keys WHERE id = $1 AND org_id = $2",
    )
    .bind(key_id)
    .bind(org_id)
    .fetch_optional(store.writer())
    .await?;
    row.map(ApiKey::from).ok_or(PlatformError::NotFound("API key"))
}

/// Finds the live key behind `secret`, if any.
pub async fn authenticate_api_key(store: &Store, secret: &str) -> Result<Option<KeyIdentity>> {
    if !secret.starts_with(API_KEY_PREFIX) {
        return Ok(None);
    }
    let row: Option<(String, String, String)> = crate::store::query_as(
        "SELECT id, org_id, scopes FROM api_keys WHERE secret_hash = $1 AND revoked_at IS NULL",
    )
    .bind(token_hash(secret))
    .fetch_optional(store.reader())
    .await?;
    row.map(|(key_id, org_id, scopes)| {
        let scopes = ScopeSet::parse_text(&scopes)
            .map_err(|e| PlatformError::Internal(format!("stored key scopes: {e}")))?;
        Ok(KeyIdentity {
            key_id,
            org_id,
            scopes,
        })
    })
    .transpose()
}

// ---------------------------------------------------------------------------------------------
// Web sessions

/// A signed-in user in one organization.
#[derive(Debug, Clone)]
pub struct SessionIdentity {
    pub session_id: String,
    pub user_id: String,
    pub org_id: String,
    pub role: Role,
    /// The user reviews apps for the whole platform (`apps:review`).
    pub reviewer: bool,
    /// Must accompany every request that changes something (`x-csrf-token`).
    pub csrf_token: String,
}

/// A session just opened: the cookie value and what it grants.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub identity: SessionIdentity,
    pub expires_at: i64,
}

/// Signs a user in with email and password, into `org_id` or their first organization.
pub async fn sign_in(store: &Store, email: &str, password: &str, org_id: Option<&str>) -> Result<NewSession> {
    let email = email.trim().to_lowercase();
    let user: Option<(String, String)> =
        crate::store::query_as("SELECT id, password_hash FROM users WHERE email = $1")
            .bind(&email)
            .fetch_optional(store.reader())
            .await?;
    let (user_id, hash) = match user {
        Some((id, hash)) => (Some(id), Some(hash)),
        None => (None, None),
    };
    let wrong = || PlatformError::Invalid("the email or the password is wrong".into());
    if !super::passwords::verify(password, hash).await {
        return Err(wrong());
    }
    let user_id = user_id.ok_or_else(wrong)?;
    start_session(store, &user_id, org_id).await
}

/// Starts a session for a user already known to be who they say (signed in, or switching
/// organization from a live session), in `org_id` or their first organization.
pub async fn start_session(store: &Store, user_id: &str, org_id: Option<&str>) -> Result<NewSession> {
    let user_id = user_id.to_owned();
    let orgs = super::orgs::memberships_of(store, &user_id).await?;
    let (org, role) = match org_id {
        Some(wanted) => orgs
            .into_iter()
            .find(|(o, _)| o.id == wanted)
            .ok_or_else(|| PlatformError::Invalid("you are not a member of that organization".into()))?,
        None => orgs
            .into_iter()
            .next()
            .ok_or_else(|| PlatformError::Invalid("you are not a member of any organization yet".into()))?,
    };
    let token = random_token(SESSION_PREFIX);
    let now = now_ms();
    let identity = SessionIdentity {
        session_id: new_id("ses"),
        user_id,
        org_id: org.id,
        role,
        reviewer: false,
        csrf_token: random_token(""),
    };
    let expires_at = now + SESSION_LIFETIME_MS;
    crate::store::query(
        "INSERT INTO sessions (id, token_hash, user_id, org_id, csrf_token, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&identity.session_id)
    .bind(token_hash(&token))
    .bind(&identity.user_id)
    .bind(&identity.org_id)
    .bind(&identity.csrf_token)
    .bind(now)
    .bind(expires_at)
    .execute(store.writer())
    .await?;
    Ok(NewSession {
        token,
        identity,
        expires_at,
    })
}

/// Finds the live session behind a cookie value; the member's current role decides its scopes.
pub async fn authenticate_session(store: &Store, token: &str) -> Result<Option<SessionIdentity>> {
    if !token.starts_with(SESSION_PREFIX) {
        return Ok(None);
    }
    let row: Option<(String, String, String, String, String, Option<String>)> = crate::store::query_as(
        "SELECT s.id, s.user_id, s.org_id, s.csrf_token, m.role, r.user_id FROM sessions s \
         JOIN memberships m ON m.org_id = s.org_id AND m.user_id = s.user_id \
         LEFT JOIN platform_reviewers r ON r.user_id = s.user_id \
         WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2",
    )
    .bind(token_hash(token))
    .bind(now_ms())
    .fetch_optional(store.reader())
    .await?;
    let Some((session_id, user_id, org_id, csrf_token, role, reviewer)) = row else {
        return Ok(None);
    };
    let role = Role::parse(&role)?;
    Ok(Some(SessionIdentity {
        session_id,
        user_id,
        org_id,
        role,
        reviewer: reviewer.is_some(),
        csrf_token,
    }))
}

/// Ends a session.
pub async fn sign_out(store: &Store, session_id: &str) -> Result<()> {
    crate::store::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2")
        .bind(now_ms())
        .bind(session_id)
        .execute(store.writer())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_hashed() {
        let a = random_token(API_KEY_PREFIX);
        let b = random_token(API_KEY_PREFIX);
        assert!(a.starts_with("bzk_") && a.len() == 44);
        assert_ne!(a, b);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), token_hash(&b));
    }
}
