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
    crate::store::query(
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
        crate::store::query_as("SELECT secret_hash FROM oauth_client_secrets WHERE app_id = $1")
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

/// Whether `presented` is one of the app's `registered` redirect URIs: byte for byte, except
/// that a native app's loopback URI registered without a port (`http://127.0.0.1/cb`,
/// `http://[::1]/cb`) matches any port (RFC 8252 §7.3), because the app listens on whatever
/// port the system gives it. `localhost` and URIs registered with a port stay exact (RFC 8252
/// §8.3 recommends the literal addresses).
pub fn redirect_uri_registered(registered: &[String], presented: &str) -> bool {
    registered
        .iter()
        .any(|uri| uri == presented || loopback_with_port(uri, presented))
}

fn loopback_with_port(registered: &str, presented: &str) -> bool {
    for host in ["http://127.0.0.1", "http://[::1]"] {
        let Some(rest) = registered.strip_prefix(host) else {
            continue;
        };
        // Registered without a port: the next character starts the path (or nothing follows).
        if !(rest.is_empty() || rest.starts_with('/')) {
            return false;
        }
        let Some(after_host) = presented.strip_prefix(host).and_then(|p| p.strip_prefix(':')) else {
            return false;
        };
        let digits = after_host.bytes().take_while(u8::is_ascii_digit).count();
        let port_ok = (1..=5).contains(&digits) && after_host[..digits].parse::<u16>().is_ok_and(|p| p > 0);
        return port_ok && &after_host[digits..] == rest;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registered(uris: &[&str]) -> Vec<String> {
        uris.iter().map(|u| (*u).to_owned()).collect()
    }

    #[test]
    fn redirect_uris_match_exactly() {
        let uris = registered(&["https://app.example/cb", "http://localhost:3000/cb"]);
        assert!(redirect_uri_registered(&uris, "https://app.example/cb"));
        assert!(!redirect_uri_registered(&uris, "https://app.example/cb/"));
        assert!(!redirect_uri_registered(&uris, "https://app.example/cb?x=1"));
        assert!(!redirect_uri_registered(&uris, "http://localhost:3001/cb"));
    }

    #[test]
    fn loopback_uris_registered_without_a_port_accept_any_port() {
        let uris = registered(&["http://127.0.0.1/callback", "http://[::1]/cb"]);
        assert!(redirect_uri_registered(&uris, "http://127.0.0.1:51234/callback"));
        assert!(redirect_uri_registered(&uris, "http://127.0.0.1/callback"));
        assert!(redirect_uri_registered(&uris, "http://[::1]:8080/cb"));
        for refused in [
            "http://127.0.0.1:51234/callback/extra",
            "http://127.0.0.1:51234/other",
            "http://127.0.0.1:0/callback",
            "http://127.0.0.1:99999/callback",
            "http://127.0.0.1:80@evil.example/callback",
            "http://127.0.0.1.evil.example/callback",
            "https://127.0.0.1:443/callback",
            "http://localhost:51234/callback",
        ] {
            assert!(!redirect_uri_registered(&uris, refused), "{refused}");
        }
    }

    #[test]
    fn a_registered_port_stays_exact() {
        let uris = registered(&["http://127.0.0.1:8080/cb"]);
        assert!(redirect_uri_registered(&uris, "http://127.0.0.1:8080/cb"));
        assert!(!redirect_uri_registered(&uris, "http://127.0.0.1:9090/cb"));
    }
}
