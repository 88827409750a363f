//! Standard Webhooks signatures (<https://www.standardwebhooks.com>): what a receiver's existing
//! library (Svix's, standardwebhooks') verifies without any Bazaar-specific code.
//!
//! A secret is `whsec_` followed by the base64 of 32 random bytes. The signed content is
//! `{webhook-id}.{webhook-timestamp}.{body}`, and `webhook-signature` holds
//! `v1,<base64 HMAC-SHA256>`; during a rotation's grace period it holds one such entry per
//! secret, separated by spaces, so receivers with either secret accept it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// The prefix every signing secret carries.
pub const SECRET_PREFIX: &str = "whsec_";

/// A secret that is not `whsec_<base64>`.
#[derive(Debug, thiserror::Error)]
#[error("a signing secret must be `whsec_` followed by base64")]
pub struct BadSecret;

/// A fresh random signing secret.
pub fn new_secret() -> String {
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

fn key_bytes(secret: &str) -> Result<Vec<u8>, BadSecret> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    STANDARD.decode(encoded).map_err(|_| BadSecret)
}

fn mac(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<Hmac<Sha256>, BadSecret> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key_bytes(secret)?).map_err(|_| BadSecret)?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(mac)
}

/// The `webhook-signature` value for one or more secrets (current first).
pub fn sign(secrets: &[&str], id: &str, timestamp: i64, body: &[u8]) -> Result<String, BadSecret> {
    let mut parts = Vec::with_capacity(secrets.len());
    for secret in secrets {
        let tag = mac(secret, id, timestamp, body)?.finalize().into_bytes();
        parts.push(format!("v1,{}", STANDARD.encode(tag)));
    }
    Ok(parts.join(" "))
}

/// Why a receiver refuses a delivery.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the timestamp is more than {0} seconds away from now")]
    Stale(i64),
    #[error("no signature matches")]
    NoMatch,
}

/// What a receiver does: accepts if any `v1` entry matches `secret` and the timestamp is within
/// `tolerance_secs` of `now`. Bazaar's tests receive webhooks with it.
pub fn verify(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
    header: &str,
    now: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    if (now - timestamp).abs() > tolerance_secs {
        return Err(VerifyError::Stale(tolerance_secs));
    }
    let expected = mac(secret, id, timestamp, body).map_err(|_| VerifyError::NoMatch)?;
    let matches = header.split_whitespace().any(|entry| {
        entry
            .strip_prefix("v1,")
            .and_then(|b64| STANDARD.decode(b64).ok())
            .is_some_and(|tag| expected.clone().verify_slice(&tag).is_ok())
    });
    if matches {
        Ok(())
    } else {
        Err(VerifyError::NoMatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specification_test_vector_reproduces_exactly() {
        // Published with the Standard Webhooks reference libraries.
        let signature = sign(
            &["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn during_rotation_either_secret_verifies() {
        let (old, new) = (new_secret(), new_secret());
        let header = sign(&[&new, &old], "evt_1", 100, b"{}").unwrap();
        assert_eq!(header.split(' ').count(), 2);
        assert_eq!(verify(&old, "evt_1", 100, b"{}", &header, 100, 300), Ok(()));
        assert_eq!(verify(&new, "evt_1", 100, b"{}", &header, 100, 300), Ok(()));
        let stranger = new_secret();
        assert_eq!(
            verify(&stranger, "evt_1", 100, b"{}", &header, 100, 300),
            Err(VerifyError::NoMatch)
        );
    }

    #[test]
    fn tampering_and_replays_are_refused() {
        let secret = new_secret();
        let header = sign(&[&secret], "evt_1", 100, b"{\"a\":1}").unwrap();
        assert_eq!(
            verify(&secret, "evt_1", 100, b"{\"a\":2}", &header, 100, 300),
            Err(VerifyError::NoMatch)
        );
        assert_eq!(
            verify(&secret, "evt_2", 100, b"{\"a\":1}", &header, 100, 300),
            Err(VerifyError::NoMatch)
        );
        assert_eq!(
            verify(&secret, "evt_1", 100, b"{\"a\":1}", &header, 1000, 300),
            Err(VerifyError::Stale(300))
        );
    }
}
