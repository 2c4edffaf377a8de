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

static KEY: OnceLock<Vec<u8>> = OnceLock::new();

/// [`set_hash_key`] was called after the key was already in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashKeyError;

impl fmt::Display for HashKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the observe hash key is already set or in use; call set_hash_key before the first observed call")
    }
}

impl std::error::Error for HashKeyError {}

/// Sets the key for `hash(...)` arguments. Call it once at start-up, before
/// any hashed argument is recorded; share the key across a deployment's
/// instances so the same input gives the same surrogate everywhere.
pub fn set_hash_key(key: impl Into<Vec<u8>>) -> Result<(), HashKeyError> {
    KEY.set(key.into()).map_err(|_| HashKeyError)
}

fn key() -> &'static [u8] {
    KEY.get_or_init(|| match std::env::var(HASH_KEY_ENV) {
        Ok(key) if !key.is_empty() => key.into_bytes(),
        _ => {
            tracing::warn!(
                target: "observe",
                "{HASH_KEY_ENV} is not set: hashed fields use a random per-process key, \
                 so the same value hashes differently after a restart or on another instance"
            );
            random_key()
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
}
