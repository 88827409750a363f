//! Authorization codes and tokens.
//!
//! A code is single-use and bound to its client, redirect URI and PKCE challenge. Exchanging it
//! starts a token family; each refresh marks the presented refresh token spent and issues a new
//! pair in the same family. Presenting a spent code or refresh token again means someone else
//! holds a copy: the whole family is revoked. Tokens are random, prefixed and stored only as
//! SHA-256 hashes. A token works only while its installation is active and its app is not
//! suspended; uninstalling deletes them.
//!
//! Refresh rotation, one rule in two dialects, both here: the new pair is inserted only if the
//! presented refresh token is live and this client's, and that token is spent in the same
//! statement. PostgreSQL does it with a writable CTE ([`ROTATE_POSTGRES`]). SQLite has no
//! writable CTE, so its insert ([`ROTATE_SQLITE`]) fires the trigger `oauth_tokens_rotate`
//! (created in `migrations/sqlite/0005_oauth.sql`), which spends the parent; its single writer
//! makes the check and the insert one step. One statement keeps a refresh to one round trip.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{
    ACCESS_TOKEN_PREFIX, ACCESS_TTL_MS, CODE_PREFIX, CODE_TTL_MS, OAuthError, REFRESH_TOKEN_PREFIX,
    REFRESH_TTL_MS,
};
use crate::platform::credentials::{random_token, token_hash};
use crate::platform::{Result, ScopeSet};
use crate::store::{Backend, Store, new_id, now_ms};

/// What the consent approved, to be bound to a code.
pub struct Approval<'a> {
    pub app_id: &'a str,
    pub org_id: &'a str,
    pub user_id: &'a str,
    pub installation_id: &'a str,
    pub redirect_uri: &'a str,
    pub scopes: ScopeSet,
    pub code_challenge: &'a str,
}

/// Issues a one-time authorization code for an approval.
pub async fn issue_code(store: &Store, approval: &Approval<'_>) -> Result<String> {
    let code = random_token(CODE_PREFIX);
    let now = now_ms();
    crate::store::query(
        "INSERT INTO oauth_codes (code_hash, family_id, app_id, org_id, user_id, installation_id, redirect_uri, \
         scopes, code_challenge, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(token_hash(&code))
    .bind(new_id("fam"))
    .bind(approval.app_id)
    .bind(approval.org_id)
    .bind(approval.user_id)
    .bind(approval.installation_id)
    .bind(approval.redirect_uri)
    .bind(approval.scopes.to_text())
    .bind(approval.code_challenge)
    .bind(now + CODE_TTL_MS)
    .bind(now)
    .execute(store.writer())
    .await?;
    Ok(code)
}

/// The token response (RFC 6749 section 5.1).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    /// `bzat_...`, valid for `expires_in` seconds: send it as `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(value_type = String)]
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_token: String,
    pub scope: String,
}

/// Whether a PKCE verifier matches its S256 challenge (RFC 7636).
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    well_formed && URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge
}

struct Grant {
    family_id: String,
    app_id: String,
    org_id: String,
    installation_id: String,
    user_id: Option<String>,
    scopes: String,
}

async fn revoke_family(conn: &mut crate::store::Conn, family_id: &str) -> Result<()> {
    crate::store::query(
        "UPDATE oauth_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
    )
    .bind(now_ms())
    .bind(family_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether the installation is active and its app not suspended: only then are tokens issued.
async fn installation_active(store: &Store, installation_id: &str) -> Result<(), OAuthError> {
    let active: Option<(String, String)> = crate::store::query_as(
        "SELECT i.status, a.status FROM installations i JOIN apps a ON a.id = i.app_id WHERE i.id = $1",
    )
    .bind(installation_id)
    .fetch_optional(store.reader())
    .await?;
    if active
        .as_ref()
        .is_none_or(|(i, a)| i != "active" || a != "active")
    {
        return Err(OAuthError::InvalidGrant(
            "the app is no longer installed and active in this organization".into(),
        ));
    }
    Ok(())
}

/// Issues an access and a refresh token in `grant`'s family.
async fn issue_pair(conn: &mut crate::store::Conn, grant: &Grant) -> Result<TokenResponse, OAuthError> {
    let now = now_ms();
    let access = random_token(ACCESS_TOKEN_PREFIX);
    let refresh = random_token(REFRESH_TOKEN_PREFIX);
    crate::store::query(
        "INSERT INTO oauth_tokens (id, token_hash, kind, family_id, app_id, org_id, installation_id, user_id, scopes, \
         expires_at, created_at) VALUES \
         ($1, $2, 'access', $3, $4, $5, $6, $7, $8, $9, $11), ($10, $12, 'refresh', $3, $4, $5, $6, $7, $8, $13, $11)",
    )
    .bind(new_id("tok"))
    .bind(token_hash(&access))
    .bind(&grant.family_id)
    .bind(&grant.app_id)
    .bind(&grant.org_id)
    .bind(&grant.installation_id)
    .bind(grant.user_id.as_deref())
    .bind(&grant.scopes)
    .bind(now + ACCESS_TTL_MS)
    .bind(new_id("tok"))
    .bind(now)
    .bind(token_hash(&refresh))
    .bind(now + REFRESH_TTL_MS)
    .execute(&mut *conn)
    .await?;
    let scope = ScopeSet::parse_text(&grant.scopes)
        .map(|s| s.names().join(" "))
        .unwrap_or_default();
    Ok(TokenResponse {
        access_token: access,
        token_type: "Bearer",
        expires_in: ACCESS_TTL_MS / 1000,
        refresh_token: refresh,
        scope,
    })
}

type CodeRow = (
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
);

/// The `authorization_code` grant.
pub async fn exchange_code(
    store: &Store,
    client_id: &str,
    code: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let mut conn = store.writer().acquire().await?;
    let mut tx = conn.begin().await?;
    let row: Option<CodeRow> = crate::store::query_as(
        "SELECT family_id, app_id, org_id, user_id, installation_id, redirect_uri, scopes, code_challenge, \
         expires_at, used_at FROM oauth_codes WHERE code_hash = $1",
    )
    .bind(token_hash(code))
    .fetch_optional(&mut *tx)
    .await?;
    let Some((
        family_id,
        app_id,
        org_id,
        user_id,
        installation_id,
        bound_uri,
        scopes,
        challenge,
        expires_at,
        used_at,
    )) = row
    else {
        return Err(OAuthError::InvalidGrant("the code is unknown".into()));
    };
    if app_id != client_id {
        return Err(OAuthError::InvalidGrant(
            "the code was issued to another client".into(),
        ));
    }
    if used_at.is_some() {
        // A replayed code: whoever used it first may be an attacker. Revoke what it issued.
        revoke_family(&mut tx, &family_id).await?;
        tx.commit().await?;
        return Err(OAuthError::InvalidGrant(
            "the code was already used; the tokens issued for it are revoked".into(),
        ));
    }
    // From here on the code is spent, whatever the outcome: a wrong verifier cannot be retried.
    crate::store::query("UPDATE oauth_codes SET used_at = $1 WHERE code_hash = $2")
        .bind(now_ms())
        .bind(token_hash(code))
        .execute(&mut *tx)
        .await?;
    let failure = if expires_at < now_ms() {
        Some("the code expired; start the authorization again")
    } else if redirect_uri != Some(bound_uri.as_str()) {
        Some("redirect_uri must be the one of the authorization request")
    } else if !verifier.is_some_and(|v| pkce_matches(v, &challenge)) {
        Some("code_verifier does not match the code_challenge")
    } else {
        None
    };
    if let Some(why) = failure {
        tx.commit().await?;
        return Err(OAuthError::InvalidGrant(why.into()));
    }
    if let Err(e) = installation_active(store, &installation_id).await {
        tx.commit().await?;
        return Err(e);
    }
    let grant = Grant {
        family_id,
        app_id,
        org_id,
        installation_id,
        user_id,
        scopes,
    };
    let pair = issue_pair(&mut tx, &grant).await?;
    tx.commit().await?;
    Ok(pair)
}

/// The client's secret hash, and the token's scopes, installation status and app status.
type ClientAndToken = (String, Option<String>, Option<String>, Option<String>);
/// Family, client, expiry, spent and revoked times of a refresh token.
type SpentRow = (String, String, i64, Option<i64>, Option<i64>);

/// The `refresh_token` grant: rotation, and reuse detection that revokes the family.
///
/// The common case costs one read and three statements on the writer: the token is spent by
/// an `UPDATE ... RETURNING` that only matches a live token of this client, then the new pair
/// is inserted. Anything else takes the slow path, which says precisely what is wrong and
/// revokes the family when a spent token comes back.
pub async fn refresh(
    store: &Store,
    client_id: &str,
    client_secret: &str,
    refresh_token: &str,
    scope: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let hash = token_hash(refresh_token);
    // The client's secret, whose token it is, and whether that installation may still get
    // tokens: one read.
    let found: Option<ClientAndToken> = crate::store::query_as(
        "SELECT c.secret_hash, t.scopes, i.status, a.status FROM oauth_client_secrets c \
         LEFT JOIN oauth_tokens t ON t.token_hash = $2 AND t.kind = 'refresh' AND t.app_id = c.app_id \
         LEFT JOIN installations i ON i.id = t.installation_id LEFT JOIN apps a ON a.id = t.app_id \
         WHERE c.app_id = $1",
    )
    .bind(client_id)
    .bind(&hash)
    .fetch_optional(store.reader())
    .await?;
    super::clients::check(found.as_ref().map(|f| f.0.as_str()), client_secret)?;
    let Some((_, Some(granted), installation_status, app_status)) = found else {
        // Unknown, or another client's: the slow path tells which.
        let mut conn = store.writer().acquire().await?;
        return Err(refresh_refused(&mut conn, &hash, client_id).await);
    };
    let (installation_status, app_status) = (
        installation_status.unwrap_or_default(),
        app_status.unwrap_or_default(),
    );
    if installation_status != "active" || app_status != "active" {
        return Err(OAuthError::InvalidGrant(
            "the app is no longer installed and active in this organization".into(),
        ));
    }
    let scopes = match scope {
        None => None,
        Some(asked) => {
            let granted = ScopeSet::parse_text(&granted).unwrap_or_default();
            let asked = ScopeSet::parse_text(asked).map_err(|e| OAuthError::InvalidScope(e.to_string()))?;
            if !granted.covers(asked) {
                return Err(OAuthError::InvalidScope(
                    "a refresh can only narrow the scopes granted".into(),
                ));
            }
            Some(asked.to_text())
        }
    };
    // The rotation is one statement: it inserts the new pair only if the presented token is
    // live and this client's, and spends it in the same statement.
    let now = now_ms();
    let access = random_token(ACCESS_TOKEN_PREFIX);
    let refresh = random_token(REFRESH_TOKEN_PREFIX);
    let sql = match store.backend() {
        Backend::Sqlite => ROTATE_SQLITE,
        Backend::Postgres => ROTATE_POSTGRES,
    };
    let inserted = crate::store::query(sql)
        .bind(now)
        .bind(&hash)
        .bind(client_id)
        .bind(scopes.as_deref())
        .bind(new_id("tok"))
        .bind(token_hash(&access))
        .bind(now + ACCESS_TTL_MS)
        .bind(new_id("tok"))
        .bind(token_hash(&refresh))
        .bind(now + REFRESH_TTL_MS)
        .execute(store.writer())
        .await?
        .rows_affected();
    if inserted != 2 {
        let mut conn = store.writer().acquire().await?;
        return Err(refresh_refused(&mut conn, &hash, client_id).await);
    }
    let scope = scopes.unwrap_or(granted);
    Ok(TokenResponse {
        access_token: access,
        token_type: "Bearer",
        expires_in: ACCESS_TTL_MS / 1000,
        refresh_token: refresh,
        scope: ScopeSet::parse_text(&scope)
            .map(|s| s.names().join(" "))
            .unwrap_or_default(),
    })
}

/// The live refresh token `$2` of client `$3`, as of `$1`.
macro_rules! live_refresh {
    () => {
        "token_hash = $2 AND kind = 'refresh' AND app_id = $3 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1"
    };
}

/// SQLite: the `oauth_tokens_rotate` trigger spends `parent_hash` when the new refresh token
/// is inserted; the single writer makes the check and the insert one atomic step.
const ROTATE_SQLITE: &str = concat!(
    "INSERT INTO oauth_tokens (id, token_hash, kind, family_id, app_id, org_id, installation_id, user_id, scopes, \
     expires_at, created_at, parent_hash) \
     SELECT $5, $6, 'access', family_id, app_id, org_id, installation_id, user_id, COALESCE($4, scopes), $7, $1, NULL \
     FROM oauth_tokens WHERE ",
    live_refresh!(),
    " UNION ALL SELECT $8, $9, 'refresh', family_id, app_id, org_id, installation_id, user_id, COALESCE($4, scopes), \
     $10, $1, $2 FROM oauth_tokens WHERE ",
    live_refresh!()
);

/// PostgreSQL: a writable CTE spends the token and feeds the insert; row locks serialize two
/// requests racing with the same token.
const ROTATE_POSTGRES: &str = concat!(
    "WITH spent AS (UPDATE oauth_tokens SET used_at = $1 WHERE ",
    live_refresh!(),
    " RETURNING family_id, app_id, org_id, installation_id, user_id, scopes) \
     INSERT INTO oauth_tokens (id, token_hash, kind, family_id, app_id, org_id, installation_id, user_id, scopes, \
     expires_at, created_at, parent_hash) \
     SELECT $5, $6, 'access', family_id, app_id, org_id, installation_id, user_id, COALESCE($4, scopes), $7, $1, NULL \
     FROM spent UNION ALL SELECT $8, $9, 'refresh', family_id, app_id, org_id, installation_id, user_id, \
     COALESCE($4, scopes), $10, $1, $2 FROM spent"
);

/// Why a refresh token was not accepted; a spent one revokes its family.
async fn refresh_refused(conn: &mut crate::store::Conn, hash: &str, client_id: &str) -> OAuthError {
    let row: Result<Option<SpentRow>, _> = crate::store::query_as(
        "SELECT family_id, app_id, expires_at, used_at, revoked_at FROM oauth_tokens WHERE token_hash = $1",
    )
    .bind(hash)
    .fetch_optional(&mut *conn)
    .await;
    let Ok(Some((family_id, app_id, expires_at, used_at, revoked_at))) = row else {
        return OAuthError::InvalidGrant("the refresh token is unknown".into());
    };
    if app_id != client_id {
        return OAuthError::InvalidGrant("the refresh token was issued to another client".into());
    }
    if revoked_at.is_some() {
        return OAuthError::InvalidGrant("the refresh token was revoked".into());
    }
    if used_at.is_some() {
        // Someone else holds a copy: end the whole authorization.
        if let Err(e) = revoke_family(conn, &family_id).await {
            return e.into();
        }
        return OAuthError::InvalidGrant(
            "the refresh token was already used: every token of this authorization is revoked".into(),
        );
    }
    if expires_at <= now_ms() {
        return OAuthError::InvalidGrant("the refresh token expired".into());
    }
    OAuthError::InvalidGrant("the refresh token cannot be used".into())
}

/// Revokes a token of `client_id` (RFC 7009). A refresh token takes its whole family along;
/// unknown tokens and other clients' tokens are ignored, as the RFC asks.
pub async fn revoke(store: &Store, client_id: &str, token: &str) -> Result<()> {
    let row: Option<(String, String, String)> =
        crate::store::query_as("SELECT kind, family_id, app_id FROM oauth_tokens WHERE token_hash = $1")
            .bind(token_hash(token))
            .fetch_optional(store.reader())
            .await?;
    let Some((kind, family_id, app_id)) = row else {
        return Ok(());
    };
    if app_id != client_id {
        return Ok(());
    }
    let mut conn = store.writer().acquire().await?;
    if kind == "refresh" {
        revoke_family(&mut conn, &family_id).await?;
    } else {
        crate::store::query(
            "UPDATE oauth_tokens SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL",
        )
        .bind(now_ms())
        .bind(token_hash(token))
        .execute(&mut conn)
        .await?;
    }
    Ok(())
}

/// The introspection response (RFC 7662).
#[derive(Debug, Serialize, Default, utoipa::ToSchema)]
pub struct Introspection {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// The user who approved the authorization.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installation_id: Option<String>,
}

type TokenRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
);

/// Describes a token of `client_id`: active only if unexpired, unrevoked, unspent (refresh) and
/// its installation and app active. Another client's token is reported inactive.
pub async fn introspect(store: &Store, client_id: &str, token: &str) -> Result<Introspection> {
    let row: Option<TokenRow> = crate::store::query_as(
        "SELECT t.kind, t.app_id, t.org_id, t.installation_id, t.user_id, t.scopes, t.expires_at, t.created_at, \
         t.used_at, t.revoked_at FROM oauth_tokens t JOIN installations i ON i.id = t.installation_id \
         JOIN apps a ON a.id = t.app_id WHERE t.token_hash = $1 AND i.status = 'active' AND a.status = 'active'",
    )
    .bind(token_hash(token))
    .fetch_optional(store.reader())
    .await?;
    let Some((
        kind,
        app_id,
        org_id,
        installation_id,
        user_id,
        scopes,
        expires_at,
        created_at,
        used_at,
        revoked_at,
    )) = row
    else {
        return Ok(Introspection::default());
    };
    let live = app_id == client_id && revoked_at.is_none() && used_at.is_none() && expires_at > now_ms();
    if !live {
        return Ok(Introspection::default());
    }
    Ok(Introspection {
        active: true,
        scope: ScopeSet::parse_text(&scopes).ok().map(|s| s.names().join(" ")),
        client_id: Some(app_id),
        token_type: Some(if kind == "access" {
            "Bearer"
        } else {
            "refresh_token"
        }),
        exp: Some(expires_at / 1000),
        iat: Some(created_at / 1000),
        sub: user_id,
        organization_id: Some(org_id),
        installation_id: Some(installation_id),
    })
}

/// Who an access token speaks for on `/v1`.
#[derive(Debug, Clone)]
pub struct AppIdentity {
    pub token_id: String,
    pub app_id: String,
    pub org_id: String,
    pub installation_id: String,
    pub user_id: Option<String>,
    /// The token's scopes, within what the installation still grants.
    pub scopes: ScopeSet,
}

type BearerRow = (String, String, String, String, Option<String>, String, String);

/// Authenticates an access token: unexpired, unrevoked, installation active, app active.
pub async fn authenticate_bearer(store: &Store, token: &str) -> Result<Option<AppIdentity>> {
    let row: Option<BearerRow> = crate::store::query_as(
        "SELECT t.id, t.app_id, t.org_id, t.installation_id, t.user_id, t.scopes, i.granted_scopes \
         FROM oauth_tokens t JOIN installations i ON i.id = t.installation_id JOIN apps a ON a.id = t.app_id \
         WHERE t.token_hash = $1 AND t.kind = 'access' AND t.revoked_at IS NULL AND t.expires_at > $2 \
         AND i.status = 'active' AND a.status = 'active'",
    )
    .bind(token_hash(token))
    .bind(now_ms())
    .fetch_optional(store.reader())
    .await?;
    Ok(row.map(
        |(token_id, app_id, org_id, installation_id, user_id, scopes, granted)| {
            let token = ScopeSet::parse_text(&scopes).unwrap_or_default();
            let granted = ScopeSet::parse_text(&granted).unwrap_or_default();
            AppIdentity {
                token_id,
                app_id,
                org_id,
                installation_id,
                user_id,
                scopes: token.intersection(granted),
            }
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_the_rfc_7636_example() {
        // RFC 7636, appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(verifier, challenge));
        assert!(!pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXx",
            challenge
        ));
        assert!(
            !pkce_matches("short", challenge),
            "verifiers have 43 to 128 characters"
        );
    }
}
