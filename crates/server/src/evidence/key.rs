//! The server's evidence key: an Ed25519 key pair whose private half signs every
//! bundle's `manifest.json`. Made once (at first start, kept under the data directory
//! like the secret key) or given in the settings; every replica must use the same one,
//! so that a bundle from any of them verifies with the one published public key.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use rand::Rng;
use std::fmt;
use std::io::Write;
use std::path::Path;

/// The signature algorithm, as `GET /api/v1/evidence/key` names it.
pub const ALGORITHM: &str = "ed25519";

/// Why an evidence key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The text is not the base64 of a 32-byte Ed25519 seed.
    #[error("an evidence key is the base64 of 32 bytes (an Ed25519 seed)")]
    Malformed,
    /// The key file could not be read or written.
    #[error("evidence key file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
}

/// The private evidence key (its `Debug` shows the public half only).
#[derive(Clone)]
pub struct EvidenceKey(SigningKey);

impl fmt::Debug for EvidenceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EvidenceKey(public {})", self.public_base64())
    }
}

impl EvidenceKey {
    /// A new random key, from the OS-seeded CSPRNG.
    pub fn generate() -> Self {
        let seed: [u8; 32] = rand::rng().random();
        Self(SigningKey::from_bytes(&seed))
    }

    /// The key whose 32-byte seed `text` holds in base64 (surrounding blanks ignored).
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| KeyError::Malformed)?;
        let seed: [u8; 32] = bytes.try_into().map_err(|_| KeyError::Malformed)?;
        Ok(Self(SigningKey::from_bytes(&seed)))
    }

    /// The key kept in `path`, or a new one written there (readable by its owner only).
    pub fn load_or_create(path: &Path) -> Result<Self, KeyError> {
        let io = |source| KeyError::Io {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => return Self::from_base64(&text),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(io(err)),
        }
        let key = Self::generate();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(io)?;
        file.write_all(STANDARD.encode(key.0.to_bytes()).as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(io)?;
        Ok(key)
    }

    /// The public key, base64 of its 32 bytes.
    pub fn public_base64(&self) -> String {
        STANDARD.encode(self.0.verifying_key().to_bytes())
    }

    /// The 64-byte Ed25519 signature of `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_is_made_once_and_read_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("evidence.key");
        let made = EvidenceKey::load_or_create(&path).expect("made");
        let read = EvidenceKey::load_or_create(&path).expect("read");
        assert_eq!(made.public_base64(), read.public_base64());
        assert!(EvidenceKey::from_base64("c2hvcnQ=").is_err());
    }

    #[test]
    fn signatures_verify_with_the_public_key() {
        use ed25519_dalek::{Signature, Verifier, VerifyingKey};
        let key = EvidenceKey::generate();
        let public: [u8; 32] = STANDARD
            .decode(key.public_base64())
            .expect("base64")
            .try_into()
            .expect("32 bytes");
        let verifying = VerifyingKey::from_bytes(&public).expect("public key");
        let signature = Signature::from_bytes(&key.sign(b"manifest"));
        assert!(verifying.verify(b"manifest", &signature).is_ok());
        assert!(verifying.verify(b"manifesT", &signature).is_err());
    }
}
