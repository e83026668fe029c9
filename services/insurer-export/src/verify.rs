//! Offline verification of a downloaded snapshot: the body is canonical JSON (RFC 8785), its id
//! is its SHA-256, and the detached JWS over it holds for a key of the published JWK Set.

use jsonwebtoken::jwk::JwkSet;
use praktijkregister_platform::canonical_json;
use praktijkregister_platform::digest::sha256_hex;
use praktijkregister_platform::signing::{verify_detached, DetachedSignatureError};

/// What a verified snapshot is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The snapshot id: the SHA-256 of the body.
    pub id: String,
    /// The key that signed it.
    pub kid: String,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("the file is not JSON: {0}")]
    NotJson(String),
    #[error(
        "the file is not the canonical form of its JSON (RFC 8785): it was changed or re-formatted"
    )]
    NotCanonical,
    #[error(transparent)]
    Signature(#[from] DetachedSignatureError),
}

/// Verifies `body` against the detached JWS `signature` and the keys `jwks`.
pub fn verify(body: &[u8], signature: &str, jwks: &JwkSet) -> Result<Verified, VerifyError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| VerifyError::NotJson(e.to_string()))?;
    let canonical = canonical_json::to_vec(&value).map_err(|_| VerifyError::NotCanonical)?;
    if canonical != body {
        return Err(VerifyError::NotCanonical);
    }
    let kid = verify_detached(signature, body, jwks)?;
    Ok(Verified {
        id: sha256_hex(body),
        kid,
    })
}
