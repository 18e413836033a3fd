//! Secrets the server hands out — sign-in codes, session and device tokens — made from
//! the OS-seeded CSPRNG and stored only as hashes.

use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::{Digest, Sha256};

/// Prefix of session tokens, so a token's kind is visible in logs and config mistakes.
pub const SESSION_PREFIX: &str = "dvs_";
/// Prefix of device (agent) tokens.
pub const DEVICE_PREFIX: &str = "dvd_";

/// A fresh six-digit sign-in code.
pub fn new_code() -> String {
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

/// The keyed hash a code is stored under: HMAC-SHA-256 over the number and the code, so
/// a leaked database does not reveal codes (a plain hash of 10⁶ values would).
pub fn code_hash(secret: &[u8], phone: &str, code: &str) -> Vec<u8> {
    // HMAC accepts keys of any length, so this can not fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(phone.as_bytes());
    mac.update(b"\0");
    mac.update(code.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// A fresh opaque token of 256 random bits, URL-safe, with `prefix` in front.
pub fn new_token(prefix: &str) -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::rng().random();
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// A fresh random key of 256 bits as 64 hex characters, for the code-hashing secret.
pub fn new_key() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

/// The hash a token is stored and looked up under (the token has 256 bits of entropy, so
/// an unkeyed hash is enough).
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..1000 {
            let code = new_code();
            assert_eq!(code.len(), 6);
            assert!(code.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn code_hash_depends_on_key_phone_and_code() {
        let base = code_hash(b"k", "+14155550100", "123456");
        assert_ne!(base, code_hash(b"j", "+14155550100", "123456"));
        assert_ne!(base, code_hash(b"k", "+14155550101", "123456"));
        assert_ne!(base, code_hash(b"k", "+14155550100", "123457"));
    }

    #[test]
    fn tokens_are_distinct_and_long() {
        let a = new_token(SESSION_PREFIX);
        let b = new_token(SESSION_PREFIX);
        assert_ne!(a, b);
        assert_eq!(a.len(), SESSION_PREFIX.len() + 43);
    }
}
