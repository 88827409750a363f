//! Sealing secret configuration values at rest (ChaCha20-Poly1305).
//!
//! The key comes from `BAZAAR_SECRET_KEY` (base64, 32 bytes; every node of a cluster must share
//! it) or, on a single node, from `secret.key` in the data folder, created on first start with
//! mode 0600. A sealed value is `sealed:v1:<base64 of nonce and ciphertext>`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

const PREFIX: &str = "sealed:v1:";

/// Why secrets cannot be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("the secret key must be 32 bytes of base64 (generate one with `openssl rand -base64 32`)")]
    BadKey,
    #[error("could not read or create the secret key file {0}: {1}")]
    KeyFile(String, std::io::Error),
    #[error("a sealed value could not be opened: it was sealed with another key, or altered")]
    Unseal,
}

/// The key that seals configuration secrets.
pub struct Secrets {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(..)")
    }
}

impl Secrets {
    /// From a base64 key.
    pub fn from_base64(key: &str) -> Result<Self, SecretsError> {
        let bytes = STANDARD.decode(key.trim()).map_err(|_| SecretsError::BadKey)?;
        if bytes.len() != 32 {
            return Err(SecretsError::BadKey);
        }
        Ok(Secrets {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&bytes)),
        })
    }

    /// From `key` if given, else from (or into) `secret.key` in the data folder.
    pub fn load(key: Option<&str>, data_dir: &std::path::Path) -> Result<Self, SecretsError> {
        if let Some(key) = key {
            return Self::from_base64(key);
        }
        let path = data_dir.join("secret.key");
        let io = |e| SecretsError::KeyFile(path.display().to_string(), e);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::from_base64(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(data_dir).map_err(io)?;
                let key = STANDARD.encode(ChaCha20Poly1305::generate_key(&mut OsRng));
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                std::io::Write::write_all(&mut options.open(&path).map_err(io)?, key.as_bytes())
                    .map_err(io)?;
                Self::from_base64(&key)
            }
            Err(e) => Err(io(e)),
        }
    }

    pub fn seal(&self, plain: &str) -> String {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let mut out = nonce.to_vec();
        // Encryption of a &str with a fresh nonce cannot fail.
        out.extend(self.cipher.encrypt(&nonce, plain.as_bytes()).unwrap_or_default());
        format!("{PREFIX}{}", STANDARD.encode(out))
    }

    pub fn open(&self, sealed: &str) -> Result<String, SecretsError> {
        let bytes = sealed
            .strip_prefix(PREFIX)
            .and_then(|b| STANDARD.decode(b).ok())
            .ok_or(SecretsError::Unseal)?;
        if bytes.len() < 12 {
            return Err(SecretsError::Unseal);
        }
        let (nonce, cipher) = bytes.split_at(12);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), cipher)
            .map_err(|_| SecretsError::Unseal)?;
        String::from_utf8(plain).map_err(|_| SecretsError::Unseal)
    }

    pub fn is_sealed(value: &str) -> bool {
        value.starts_with(PREFIX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_reveal_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = Secrets::load(None, dir.path()).unwrap();
        let sealed = secrets.seal("hunter2-webhook-token");
        assert!(Secrets::is_sealed(&sealed) && !sealed.contains("hunter2"));
        assert_ne!(
            sealed,
            secrets.seal("hunter2-webhook-token"),
            "a fresh nonce each time"
        );
        assert_eq!(secrets.open(&sealed).unwrap(), "hunter2-webhook-token");
        // The same folder gives the same key; another key cannot open it; tampering is caught.
        assert_eq!(
            Secrets::load(None, dir.path()).unwrap().open(&sealed).unwrap(),
            "hunter2-webhook-token"
        );
        let other = Secrets::load(None, tempfile::tempdir().unwrap().path()).unwrap();
        assert!(other.open(&sealed).is_err());
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push('A');
        assert!(secrets.open(&tampered).is_err());
        assert!(Secrets::from_base64("c2hvcnQ=").is_err());
    }
}
