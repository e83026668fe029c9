//! Webhooks: an insurer registers an endpoint and is sent every change of its list, signed as
//! the Standard Webhooks specification says (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with the endpoint's
//! `whsec_` secret), retried with backoff for a configured period and then marked failed
//! (see [`relay`]). Endpoints must be `https` and public outside development (SSRF, DESIGN §5).

pub mod relay;
pub mod routes;
pub mod sealing;

use std::net::IpAddr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use praktijkregister_platform::config::Environment;
use praktijkregister_platform::error::ApiError;
use sha2::Sha256;

/// The prefix of a Standard Webhooks secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// A new endpoint secret: `whsec_` and base64 of 32 random bytes.
pub fn new_secret() -> String {
    use rand::RngCore as _;
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// The `webhook-signature` value of `body` sent as message `id` at `timestamp` (Unix seconds).
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, ApiError> {
    let key = STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .map_err(ApiError::internal)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(ApiError::internal)?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// Whether an address is one a webhook must not reach outside development: loopback, private,
/// link-local, shared (CGNAT), unspecified, multicast, documentation or unique-local ranges.
pub fn is_internal(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || (a == 100 && (64..128).contains(&b))
                || a == 0
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_internal(IpAddr::V4(v4)))
        }
    }
}

/// Checks an endpoint URL: an absolute `https` URL without credentials (`http` in development)
/// whose host resolves only to public addresses (any address in development). The refusal is
/// a 422 on `field`.
pub async fn check_endpoint(
    raw: &str,
    environment: Environment,
    field: &str,
) -> Result<url::Url, ApiError> {
    let refuse = |code: &str, message: &str| ApiError::field(field, code, message);
    let url = url::Url::parse(raw)
        .map_err(|_| refuse("url_format", "the endpoint is not an absolute URL"))?;
    let development = environment == Environment::Development;
    match url.scheme() {
        "https" => {}
        "http" if development => {}
        _ => return Err(refuse("url_scheme", "the endpoint must be an https URL")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse(
            "url_credentials",
            "the endpoint URL must not carry credentials",
        ));
    }
    let host = url
        .host_str()
        .ok_or_else(|| refuse("url_format", "the endpoint URL has no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    if development {
        return Ok(url);
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses: Vec<IpAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|_| refuse("url_unresolvable", "the endpoint's host does not resolve"))?
        .map(|a| a.ip())
        .collect();
    if addresses.is_empty() || addresses.iter().any(|a| is_internal(*a)) {
        return Err(refuse(
            "url_internal",
            "the endpoint resolves to a loopback, private or otherwise internal address",
        ));
    }
    Ok(url)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_standard_webhooks_one() {
        // The example of the Standard Webhooks specification.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        assert!(new_secret().starts_with(SECRET_PREFIX));
    }

    #[test]
    fn internal_addresses_are_recognised() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_internal(internal.parse().unwrap()), "{internal}");
        }
        for public in ["93.184.216.34", "2606:2800:220:1::1"] {
            assert!(!is_internal(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn outside_development_only_public_https_endpoints_are_accepted() {
        let production = Environment::Production;
        for (url, code) in [
            ("http://hooks.example.org/x", "url_scheme"),
            ("https://127.0.0.1/x", "url_internal"),
            ("https://[::1]/x", "url_internal"),
            ("https://10.0.0.8/x", "url_internal"),
            ("https://user:pw@example.org/x", "url_credentials"),
            ("not a url", "url_format"),
        ] {
            let error = check_endpoint(url, production, "url").await.unwrap_err();
            let problem = error.to_problem();
            assert_eq!(problem.errors[0].code, code, "{url}");
        }
        assert!(
            check_endpoint("http://127.0.0.1:9/x", Environment::Development, "url")
                .await
                .is_ok()
        );
    }
}
