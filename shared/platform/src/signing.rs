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
