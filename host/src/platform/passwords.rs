//! Passwords: argon2id hashes, computed off the async threads.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use super::{PlatformError, Result};

/// Hashes a password with argon2id off the async threads.
pub async fn hash(password: &str) -> Result<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| PlatformError::Internal(format!("password hashing: {e}")))
    })
    .await
    .map_err(|e| PlatformError::Internal(format!("password hashing task: {e}")))?
}

/// Whether `password` matches the `stored` hash; `None` (no such account) takes as long.
pub async fn verify(password: &str, stored: Option<String>) -> bool {
    // Without a stored hash we still spend the time of a check, so that response times do not
    // tell which emails have accounts.
    const DECOY: &str =
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$3Z1U8k6Hk0PqT0E5l2GmCvx9t3bSx0mHgk1lYb0m1YQ";
    let password = password.to_owned();
    let known = stored.is_some();
    let stored = stored.unwrap_or_else(|| DECOY.to_owned());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored)
            .map(|hash| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &hash)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
        && known
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_verify_only_when_right() {
        let hash = hash("correct horse battery").await.unwrap();
        assert!(verify("correct horse battery", Some(hash.clone())).await);
        assert!(!verify("wrong horse battery", Some(hash)).await);
        assert!(!verify("anything at all", None).await);
    }
}
