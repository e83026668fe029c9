//! The token issuer's signing key, the keys it publishes for verification (rotation), and token
//! issuing (DESIGN §5: EdDSA JWTs). The register issues the suite's tokens with it; the test
//! harness issues tokens of any role, scope and binding with a generated key.

use std::collections::HashMap;
use std::path::Path;

use crate::auth::Claims;
use crate::config::{non_empty, AuthSettings, Environment, Settings};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::Utc;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm,
    OctetKeyPairParameters, OctetKeyPairType, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no signing key is configured: set auth.signing_key_file or auth.signing_key_pem (required in production)")]
    Missing,
    #[error("could not read or write the signing key at {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the signing key is not an Ed25519 PKCS#8 PEM private key")]
    InvalidPrivateKey,
    #[error("verification key `{0}` is not an Ed25519 public key PEM")]
    InvalidPublicKey(String),
    #[error("could not sign a token")]
    Sign(#[source] jsonwebtoken::errors::Error),
}

struct PublicKey {
    kid: String,
    verifying: VerifyingKey,
}

impl PublicKey {
    fn jwk(&self) -> Jwk {
        Jwk {
            common: CommonParameters {
                public_key_use: Some(PublicKeyUse::Signature),
                key_algorithm: Some(KeyAlgorithm::EdDSA),
                key_id: Some(self.kid.clone()),
                ..Default::default()
            },
            algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: URL_SAFE_NO_PAD.encode(self.verifying.as_bytes()),
            }),
        }
    }

    fn decoding_key(&self) -> Result<DecodingKey, KeyError> {
        DecodingKey::from_ed_components(&URL_SAFE_NO_PAD.encode(self.verifying.as_bytes()))
            .map_err(|_| KeyError::InvalidPublicKey(self.kid.clone()))
    }
}

/// Key id: the first 16 bytes of the SHA-256 of the public key, so the same key always has the same id.
fn key_id(verifying: &VerifyingKey) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(verifying.as_bytes())[..16])
}

pub struct TokenSigner {
    encoding: EncodingKey,
    current: PublicKey,
    previous: Vec<PublicKey>,
    issuer: String,
    audience: String,
    lifetime_seconds: i64,
}

/// What goes into a token besides the standard claims.
pub struct TokenSubject<'a> {
    pub client_id: &'a str,
    pub role: praktijkregister_domain::ClientRole,
    pub scope: String,
    pub practice_agb: Option<String>,
    pub epd_vendor: Option<String>,
    pub insurer_uzovi: Option<String>,
    pub visitor_id: Option<String>,
}

impl TokenSigner {
    /// Loads the key from configuration; in development generates one under the data directory once.
    pub fn from_settings(settings: &Settings) -> Result<Self, KeyError> {
        let pem = load_private_pem(settings)?;
        let signing = SigningKey::from_pkcs8_pem(&pem).map_err(|_| KeyError::InvalidPrivateKey)?;
        Self::new(&settings.auth, &pem, &signing)
    }

    /// A signer with a fresh key, not kept anywhere (tests).
    pub fn generate(auth: &AuthSettings) -> Result<Self, KeyError> {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let pem = key
            .to_pkcs8_pem(Default::default())
            .map_err(|_| KeyError::InvalidPrivateKey)?;
        Self::new(auth, &pem, &key)
    }

    fn new(auth: &AuthSettings, pem: &str, signing: &SigningKey) -> Result<Self, KeyError> {
        let encoding =
            EncodingKey::from_ed_pem(pem.as_bytes()).map_err(|_| KeyError::InvalidPrivateKey)?;
        let verifying = signing.verifying_key();
        let current = PublicKey {
            kid: key_id(&verifying),
            verifying,
        };
        let previous = auth
            .verification_keys
            .iter()
            .map(|key| {
                VerifyingKey::from_public_key_pem(&key.public_key_pem)
                    .map(|verifying| PublicKey {
                        kid: key.kid.clone(),
                        verifying,
                    })
                    .map_err(|_| KeyError::InvalidPublicKey(key.kid.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            encoding,
            current,
            previous,
            issuer: auth.issuer.clone(),
            audience: auth.audience.clone(),
            lifetime_seconds: i64::try_from(auth.token_lifetime_seconds).unwrap_or(300),
        })
    }

    pub fn lifetime_seconds(&self) -> i64 {
        self.lifetime_seconds
    }

    /// The published key set: the current key and every key still accepted.
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: std::iter::once(&self.current)
                .chain(&self.previous)
                .map(PublicKey::jwk)
                .collect(),
        }
    }

    /// The keys the register's own verifier accepts, by key id.
    pub fn decoding_keys(&self) -> Result<HashMap<String, DecodingKey>, KeyError> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .map(|key| Ok((key.kid.clone(), key.decoding_key()?)))
            .collect()
    }

    /// A detached JWS (RFC 7515 Appendix F) over `payload`: `header..signature`, signed with the
    /// current key and naming it by `kid`, so that a document published beside its signature can
    /// be checked against the published key set ([`verify_detached`]).
    pub fn sign_detached(&self, payload: &[u8]) -> Result<String, KeyError> {
        let header = serde_json::json!({"alg": "EdDSA", "kid": self.current.kid});
        let header = URL_SAFE_NO_PAD.encode(header.to_string());
        let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(payload));
        let signature =
            jsonwebtoken::crypto::sign(input.as_bytes(), &self.encoding, Algorithm::EdDSA)
                .map_err(KeyError::Sign)?;
        Ok(format!("{header}..{signature}"))
    }

    pub fn issue(&self, subject: TokenSubject<'_>) -> Result<String, KeyError> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            iss: self.issuer.clone(),
            sub: subject.client_id.to_string(),
            aud: self.audience.clone(),
            exp: now + self.lifetime_seconds,
            nbf: now,
            iat: now,
            jti: uuid::Uuid::new_v4().to_string(),
            scope: subject.scope,
            role: subject.role,
            practice_agb: subject.practice_agb,
            epd_vendor: subject.epd_vendor,
            insurer_uzovi: subject.insurer_uzovi,
            visitor_id: subject.visitor_id,
            on_behalf_of: None,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.current.kid.clone());
        header.typ = Some("at+jwt".into());
        jsonwebtoken::encode(&header, &claims, &self.encoding).map_err(KeyError::Sign)
    }
}

/// Why a detached signature does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DetachedSignatureError {
    #[error("the signature is not a detached JWS (header..signature)")]
    Malformed,
    #[error("the signature's algorithm is not EdDSA")]
    Algorithm,
    #[error("no key {0:?} in the key set")]
    UnknownKey(String),
    #[error("the signature does not match the document")]
    Mismatch,
}

/// Checks a detached JWS made by [`TokenSigner::sign_detached`] over `payload` against the key
/// of its `kid` in `jwks`; the key id on success.
pub fn verify_detached(
    jws: &str,
    payload: &[u8],
    jwks: &JwkSet,
) -> Result<String, DetachedSignatureError> {
    let mut parts = jws.trim().split('.');
    let (Some(header), Some(""), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(DetachedSignatureError::Malformed);
    };
    let decoded = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| DetachedSignatureError::Malformed)?;
    let header: serde_json::Value =
        serde_json::from_slice(&decoded).map_err(|_| DetachedSignatureError::Malformed)?;
    if header["alg"] != "EdDSA" {
        return Err(DetachedSignatureError::Algorithm);
    }
    let kid = header["kid"]
        .as_str()
        .ok_or(DetachedSignatureError::Malformed)?
        .to_string();
    let jwk = jwks
        .find(&kid)
        .ok_or_else(|| DetachedSignatureError::UnknownKey(kid.clone()))?;
    let key =
        DecodingKey::from_jwk(jwk).map_err(|_| DetachedSignatureError::UnknownKey(kid.clone()))?;
    let input = format!("{}.{}", header_part(jws), URL_SAFE_NO_PAD.encode(payload));
    match jsonwebtoken::crypto::verify(signature, input.as_bytes(), &key, Algorithm::EdDSA) {
        Ok(true) => Ok(kid),
        _ => Err(DetachedSignatureError::Mismatch),
    }
}

fn header_part(jws: &str) -> &str {
    jws.trim().split('.').next().unwrap_or_default()
}

fn read(path: &Path) -> Result<String, KeyError> {
    std::fs::read_to_string(path).map_err(|source| KeyError::Io {
        path: path.display().to_string(),
        source,
    })
}

fn load_private_pem(settings: &Settings) -> Result<String, KeyError> {
    if let Some(pem) = non_empty(settings.auth.signing_key_pem.as_ref()) {
        return Ok(pem.to_string());
    }
    if let Some(path) = settings
        .auth
        .signing_key_file
        .as_ref()
        .filter(|p| !p.as_os_str().is_empty())
    {
        return read(path);
    }
    if settings.app.environment == Environment::Production {
        return Err(KeyError::Missing);
    }
    let path = settings.app.data_dir.join("signing_key.pem");
    if path.is_file() {
        return read(&path);
    }
    let io = |source| KeyError::Io {
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(&settings.app.data_dir).map_err(io)?;
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let pem = key
        .to_pkcs8_pem(Default::default())
        .map_err(|_| KeyError::InvalidPrivateKey)?;
    write_private(&path, pem.as_bytes()).map_err(io)?;
    tracing::info!(path = %path.display(), "generated a development signing key");
    Ok(pem.to_string())
}

/// Writes a private file readable by its owner only.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)
}

/// The published signing keys (JWK Set).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(example = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "q0eC1y6pXo0s8cF1m3l8Dg", "alg": "EdDSA", "use": "sig"}]}))]
pub struct JwksDocument {
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<serde_json::Value>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_detached_signature_holds_for_its_document_only() {
        let auth = Settings::defaults().unwrap().auth;
        let signer = TokenSigner::generate(&auth).unwrap();
        let jws = signer.sign_detached(b"{\"a\":1}").unwrap();
        assert!(jws.contains(".."), "{jws}");
        let kid = verify_detached(&jws, b"{\"a\":1}", &signer.jwks()).unwrap();
        assert_eq!(Some(kid), signer.jwks().keys[0].common.key_id);
        assert_eq!(
            verify_detached(&jws, b"{\"a\":2}", &signer.jwks()),
            Err(DetachedSignatureError::Mismatch)
        );
        let other = TokenSigner::generate(&auth).unwrap();
        assert!(matches!(
            verify_detached(&jws, b"{\"a\":1}", &other.jwks()),
            Err(DetachedSignatureError::UnknownKey(_))
        ));
        assert_eq!(
            verify_detached("abc", b"", &signer.jwks()),
            Err(DetachedSignatureError::Malformed)
        );
    }
}
