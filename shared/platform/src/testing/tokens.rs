//! A token issuer for tests: a generated Ed25519 key, its JWKS served on loopback, and tokens of
//! any role, scope and binding, so that a service's tests need no register.

use std::net::TcpListener;

use actix_web::{web, App, HttpResponse, HttpServer};
use praktijkregister_domain::ClientRole;

use crate::auth::Scope;
use crate::config::{Settings, TrustedIssuer};
use crate::signing::{TokenSigner, TokenSubject};

pub struct TestTokenIssuer {
    signer: TokenSigner,
    issuer: String,
    jwks_url: String,
    server: actix_web::dev::ServerHandle,
}

impl TestTokenIssuer {
    /// Starts the JWKS endpoint on a free loopback port; tokens name it as their issuer and carry
    /// the suite's default audience.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the test issuer");
        let port = listener.local_addr().expect("issuer address").port();
        let issuer = format!("http://127.0.0.1:{port}/test-issuer");
        let mut auth = Settings::defaults().expect("defaults").auth;
        auth.issuer = issuer.clone();
        let signer = TokenSigner::generate(&auth).expect("test signing key");
        let jwks = web::Data::new(signer.jwks());
        let server = HttpServer::new(move || {
            App::new().app_data(jwks.clone()).route(
                "/.well-known/jwks.json",
                web::get().to(|jwks: web::Data<jsonwebtoken::jwk::JwkSet>| async move {
                    HttpResponse::Ok().json(jwks.as_ref())
                }),
            )
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            signer,
            issuer,
            jwks_url: format!("http://127.0.0.1:{port}/.well-known/jwks.json"),
            server: handle,
        }
    }

    /// The issuer as a service's `auth.trusted_issuers` entry.
    pub fn trusted(&self) -> TrustedIssuer {
        TrustedIssuer {
            issuer: self.issuer.clone(),
            jwks_url: self.jwks_url.clone(),
        }
    }

    /// A token of `role` with `scopes`, bound as a client of that role is (practice `07000001`,
    /// vendor `acme-epd`, insurer `3311`, visitor `visitor-1`).
    pub fn token(&self, role: ClientRole, scopes: &[Scope]) -> String {
        let binding = match role {
            ClientRole::Practice => ("practice_agb", "07000001"),
            ClientRole::EpdVendor => ("epd_vendor", "acme-epd"),
            ClientRole::Insurer => ("insurer_uzovi", "3311"),
            ClientRole::Visitor => ("visitor_id", "visitor-1"),
            ClientRole::Registrar | ClientRole::Service => ("", ""),
        };
        self.token_bound(role, scopes, binding.0, binding.1)
    }

    /// A token of `role` with `scopes` and the binding claim `claim` = `value`.
    pub fn token_bound(
        &self,
        role: ClientRole,
        scopes: &[Scope],
        claim: &str,
        value: &str,
    ) -> String {
        let bound = |name: &str| (claim == name).then(|| value.to_string());
        let scope = scopes
            .iter()
            .filter(|scope| scope.allows(role))
            .map(|scope| scope.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        self.signer
            .issue(TokenSubject {
                client_id: &format!("test-{role}"),
                role,
                scope,
                practice_agb: bound("practice_agb"),
                epd_vendor: bound("epd_vendor"),
                insurer_uzovi: bound("insurer_uzovi"),
                visitor_id: bound("visitor_id"),
            })
            .expect("sign a test token")
    }
}

impl Drop for TestTokenIssuer {
    fn drop(&mut self) {
        drop(self.server.stop(false));
    }
}
