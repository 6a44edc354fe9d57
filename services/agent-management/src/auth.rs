//! Passwords and session tokens.
//!
//! Passwords are hashed with argon2id (default parameters, random salt) on the blocking pool,
//! since one hash takes tens of milliseconds. Session tokens are 256 random bits shown to the
//! client once; only their SHA-256 is stored, so a database leak does not leak sessions.

use crate::{AgentError, AgentResult};
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Hashes `password` with argon2id.
pub async fn hash_password(password: String) -> AgentResult<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash: PasswordHash| hash.to_string())
            .map_err(|error| AgentError::Hashing(error.to_string()))
    })
    .await
    .map_err(|error| AgentError::Hashing(error.to_string()))?
}

/// Checks `password` against a stored hash; `None` spends the same time on a dummy hash so that
/// unknown emails cannot be told apart by timing.
pub async fn verify_password(password: String, stored: Option<String>) -> AgentResult<bool> {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| dummy_hash().to_owned());
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return Ok(false);
        };
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
            && known)
    })
    .await
    .map_err(|error| AgentError::Hashing(error.to_string()))?
}

/// Hash of a random password nobody knows, verified against when the email is unknown.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        Argon2::default()
            .hash_password(random_hex(16).as_bytes())
            .map(|hash: PasswordHash| hash.to_string())
            .unwrap_or_default()
    })
}

/// Returns `len` random bytes as lowercase hex.
pub fn random_hex(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Returns a new opaque session token.
pub fn new_token() -> String {
    random_hex(32)
}

/// Returns the stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Returns a new random password for bootstrap (printed once).
pub fn generate_password() -> String {
    random_hex(12)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn verifies_only_the_right_password() {
        let hash = hash_password("correct horse".into()).await.expect("hash");
        assert!(
            verify_password("correct horse".into(), Some(hash.clone()))
                .await
                .expect("verify")
        );
        assert!(
            !verify_password("wrong".into(), Some(hash))
                .await
                .expect("verify")
        );
        assert!(
            !verify_password("anything".into(), None)
                .await
                .expect("verify")
        );
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), a);
    }
}

/// Returns whether `user_hash` is the lowercase hex HMAC-SHA256 of `user_id` under the
/// workspace `secret` (compared in constant time).
pub fn identity_signed(secret: &str, user_id: &str, user_hash: &str) -> bool {
    use hmac::Mac as _;
    let Ok(expected) = hex::decode(user_hash) else {
        return false;
    };
    let Ok(mut mac) = hmac::Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(user_id.as_bytes());
    mac.verify_slice(&expected).is_ok()
}

#[cfg(test)]
mod identity_tests {
    use super::identity_signed;
    use hmac::Mac as _;

    fn sign(secret: &str, user_id: &str) -> String {
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key");
        mac.update(user_id.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn only_the_workspace_secret_signs_an_identity() {
        let hash = sign("secret_a", "customer-42");
        assert!(identity_signed("secret_a", "customer-42", &hash));
        assert!(!identity_signed("secret_b", "customer-42", &hash));
        assert!(!identity_signed("secret_a", "customer-43", &hash));
        assert!(!identity_signed("secret_a", "customer-42", "not hex"));
        assert!(!identity_signed("secret_a", "customer-42", ""));
    }
}
