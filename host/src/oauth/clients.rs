//! OAuth clients: an external app's client secret (shown once, stored as a SHA-256 hash) and
//! client authentication at the token, revocation and introspection endpoints.

use sha2::{Digest, Sha256};

use super::{CLIENT_SECRET_PREFIX, OAuthError};
use crate::platform::Result;
use crate::platform::credentials::{random_token, token_hash};
use crate::store::{Store, now_ms};

/// Creates (or replaces) the app's client secret and returns it; the old one stops working.
pub async fn new_secret(store: &Store, app_id: &str) -> Result<String> {
    let secret = random_token(CLIENT_SECRET_PREFIX);
    sqlx::query(
        "INSERT INTO oauth_client_secrets (app_id, secret_hash, prefix, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (app_id) DO UPDATE SET secret_hash = excluded.secret_hash, prefix = excluded.prefix, \
         created_at = excluded.created_at",
    )
    .bind(app_id)
    .bind(token_hash(&secret))
    .bind(&secret[..CLIENT_SECRET_PREFIX.len() + 4])
    .bind(now_ms())
    .execute(store.writer())
    .await?;
    Ok(secret)
}

/// Checks `client_id` and `secret`; any mismatch is `invalid_client`, with one message so that
/// it does not tell which part was wrong.
pub async fn authenticate(store: &Store, client_id: &str, secret: &str) -> Result<(), OAuthError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT secret_hash FROM oauth_client_secrets WHERE app_id = $1")
            .bind(client_id)
            .fetch_optional(store.reader())
            .await?;
    check(row.map(|(hash,)| hash).as_deref(), secret)
}

/// Compares a presented secret with the stored hash (`None`: no such client).
pub fn check(stored: Option<&str>, secret: &str) -> Result<(), OAuthError> {
    let given = Sha256::digest(token_hash(secret).as_bytes());
    let matches = stored.is_some_and(|stored| {
        // Compare digests of the hex hashes: constant time over equal lengths.
        let stored = Sha256::digest(stored.as_bytes());
        stored
            .iter()
            .zip(given.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    });
    if matches {
        Ok(())
    } else {
        Err(OAuthError::InvalidClient(
            "client authentication failed: unknown client or wrong secret".into(),
        ))
    }
}
