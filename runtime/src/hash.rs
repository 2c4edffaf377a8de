//! Keyed hashing for `hash(arg)`: a stable surrogate id that cannot be
//! reversed without the key (HMAC-SHA-256, first 64 bits, hex).
//!
//! The key comes from, in order: [`set_hash_key`] called before the first
//! hash; the `OBSERVE_HASH_KEY` environment variable; otherwise a random
//! per-process key (hashes then differ between restarts and instances, and
//! a warning says so once).

use std::fmt::{self, Write as _};
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The environment variable holding the deployment's hash key.
pub const HASH_KEY_ENV: &str = "OBSERVE_HASH_KEY";

/// The shortest key accepted: a shorter key (an empty one above all) lets
/// anyone who can guess the inputs rebuild the table of hashes.
pub const MIN_HASH_KEY_LEN: usize = 16;

static KEY: OnceLock<Vec<u8>> = OnceLock::new();

/// Why a hash key was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashKeyError {
    /// [`set_hash_key`] was called after the key was already set or in use.
    AlreadySet,
    /// The key has fewer than [`MIN_HASH_KEY_LEN`] bytes.
    TooShort {
        /// The length of the refused key, in bytes.
        len: usize,
    },
}

impl fmt::Display for HashKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HashKeyError::AlreadySet => f.write_str(
                "the observe hash key is already set or in use; call set_hash_key before the first observed call",
            ),
            HashKeyError::TooShort { len } => write!(
                f,
                "the observe hash key is {len} bytes long; it must have at least {MIN_HASH_KEY_LEN} \
                 (generate one with `openssl rand -hex 32`)"
            ),
        }
    }
}

impl std::error::Error for HashKeyError {}

/// Checks that `key` is long enough to be a hash key.
pub fn check_hash_key(key: &[u8]) -> Result<(), HashKeyError> {
    if key.len() < MIN_HASH_KEY_LEN {
        return Err(HashKeyError::TooShort { len: key.len() });
    }
    Ok(())
}

/// Sets the key for `hash(...)` arguments. Call it once at start-up, before
/// any hashed argument is recorded; share the key across a deployment's
/// instances so the same input gives the same surrogate everywhere. Keys
/// shorter than [`MIN_HASH_KEY_LEN`] bytes are refused.
pub fn set_hash_key(key: impl Into<Vec<u8>>) -> Result<(), HashKeyError> {
    let key = key.into();
    check_hash_key(&key)?;
    KEY.set(key).map_err(|_| HashKeyError::AlreadySet)
}

fn key() -> &'static [u8] {
    KEY.get_or_init(|| {
        let from_env = std::env::var_os(HASH_KEY_ENV);
        match from_env.as_ref().map(|key| key.as_encoded_bytes()) {
            Some(key) if check_hash_key(key).is_ok() => key.to_vec(),
            Some(key) => {
                // Refused, not used: a short key would make every hash
                // reversible by dictionary. The random key is safe.
                tracing::error!(
                    target: "observe",
                    "{HASH_KEY_ENV} is refused: {}; hashed fields use a random per-process key instead",
                    HashKeyError::TooShort { len: key.len() }
                );
                random_key()
            }
            None => {
                tracing::warn!(
                    target: "observe",
                    "{HASH_KEY_ENV} is not set: hashed fields use a random per-process key, \
                     so the same value hashes differently after a restart or on another instance"
                );
                random_key()
            }
        }
    })
}

/// 32 bytes from the standard library's randomly seeded hasher state.
fn random_key() -> Vec<u8> {
    let state = std::collections::hash_map::RandomState::new();
    (0u64..4)
        .flat_map(|n| {
            let mut hasher = state.build_hasher();
            hasher.write_u64(n);
            hasher.finish().to_le_bytes()
        })
        .collect()
}

/// The surrogate id of `bytes`: 16 hex characters.
pub fn keyed_hash(bytes: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key()).expect("HMAC takes keys of any length");
    mac.update(bytes);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(16);
    for byte in &digest[..8] {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_and_distinct() {
        let a = keyed_hash(b"ann@example.com");
        assert_eq!(a, keyed_hash(b"ann@example.com"));
        assert_ne!(a, keyed_hash(b"bob@example.com"));
        assert_eq!(a.len(), 16);
        assert!(!a.contains("ann"));
    }

    #[test]
    fn short_keys_are_refused() {
        assert_eq!(
            set_hash_key(Vec::new()),
            Err(HashKeyError::TooShort { len: 0 })
        );
        assert_eq!(
            set_hash_key(*b"fifteen-bytes!!"),
            Err(HashKeyError::TooShort { len: 15 })
        );
        assert_eq!(check_hash_key(b"sixteen-bytes!!!"), Ok(()));
        let message = HashKeyError::TooShort { len: 3 }.to_string();
        assert!(
            message.contains("3 bytes") && message.contains("at least 16"),
            "{message}"
        );
    }
}
