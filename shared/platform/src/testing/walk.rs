//! The authorization walk (DESIGN §5): every documented operation × every caller (each role, and
//! no token). A service gives its table; the walk checks the table covers exactly the operations
//! of its OpenAPI document with the scope each declares, and that every caller is answered as the
//! table says: let in, refused (401 without a token, 403 without the scope), or, for a tenant's
//! resource of another tenant, hidden (404).

use std::collections::BTreeSet;

use praktijkregister_domain::ClientRole;
use utoipa::openapi::OpenApi;

use super::client::{Body, TestClient};
use crate::openapi::declared_scopes;

/// One operation of the table.
#[derive(Debug, Clone)]
pub struct Row {
    pub method: &'static str,
    pub template: &'static str,
    /// The scope the operation declares; `None` for public operations.
    pub scope: Option<&'static str>,
    /// Roles let in (a tenant: to its own resources).
    pub allowed: &'static [ClientRole],
    pub path: String,
    /// The same operation on another tenant's resource: hidden (404) from the tenant roles.
    pub other_path: Option<String>,
    pub body: Body,
    /// Answers on `other_path` that differ from the rule.
    pub other_expect: &'static [(ClientRole, u16)],
    /// A request made with the setup token before each caller, so that every caller finds the
    /// resource (e.g. one that a previous caller deleted).
    pub setup: Option<(&'static str, String, Body)>,
    /// What a public operation answers every caller, and a text its body contains.
    pub public_answer: (u16, Option<&'static str>),
}

impl Row {
    pub fn new(
        method: &'static str,
        template: &'static str,
        scope: Option<&'static str>,
        allowed: &'static [ClientRole],
        path: impl Into<String>,
        other_path: Option<String>,
        body: Body,
    ) -> Self {
        Self {
            method,
            template,
            scope,
            allowed,
            path: path.into(),
            other_path,
            body,
            other_expect: &[],
            setup: None,
            public_answer: (200, None),
        }
    }

    pub fn other_expect(mut self, expect: &'static [(ClientRole, u16)]) -> Self {
        self.other_expect = expect;
        self
    }

    pub fn setup(mut self, method: &'static str, path: impl Into<String>, body: Body) -> Self {
        self.setup = Some((method, path.into(), body));
        self
    }

    pub fn public_answer(mut self, status: u16, contains: Option<&'static str>) -> Self {
        self.public_answer = (status, contains);
        self
    }
}

/// Who walks: callers in order (`None` = no token), the token for setup requests, and the roles
/// from which another tenant's resource is hidden.
pub struct Walk<'a> {
    pub client: &'a TestClient,
    pub callers: Vec<(Option<ClientRole>, Option<String>)>,
    pub setup_token: String,
    pub hidden_from: &'a [ClientRole],
}

/// The tenant roles: bound to one practice, vendor, insurer or visitor.
pub const TENANT_ROLES: &[ClientRole] = &[
    ClientRole::Practice,
    ClientRole::EpdVendor,
    ClientRole::Insurer,
    ClientRole::Visitor,
];

/// Fails unless `rows` cover exactly the operations of `document` with their declared scopes.
pub fn assert_covers(document: &OpenApi, rows: &[Row]) {
    let documented: BTreeSet<(String, String, Vec<String>)> =
        declared_scopes(document).into_iter().collect();
    let tabled: BTreeSet<(String, String, Vec<String>)> = rows
        .iter()
        .map(|r| {
            (
                r.method.to_string(),
                r.template.to_string(),
                r.scope.map(|s| vec![s.to_string()]).unwrap_or_default(),
            )
        })
        .collect();
    let missing: Vec<_> = documented.difference(&tabled).collect();
    let extra: Vec<_> = tabled.difference(&documented).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the authorization table and the OpenAPI document differ; not in the table: {missing:?}; not documented: {extra:?}"
    );
}

impl Walk<'_> {
    /// Walks every row with every caller; see the module documentation for the rule.
    pub async fn run(&self, document: &OpenApi, rows: &[Row]) {
        assert_covers(document, rows);
        let setup = self.client.caller(&self.setup_token);
        for row in rows {
            for (role, token) in &self.callers {
                if let Some((method, path, body)) = &row.setup {
                    let answer = setup.send(method, path, body).await;
                    assert!(
                        answer.status < 300,
                        "setup {method} {path}: {} {}",
                        answer.status,
                        answer.text
                    );
                }
                let caller = match token {
                    Some(token) => self.client.caller(token),
                    None => self.client.anonymous(),
                };
                let answer = caller.send(row.method, &row.path, &row.body).await;
                let (status, body) = (answer.status, &answer.text);
                let label = format!("{role:?} {} {}", row.method, row.path);
                match (row.scope, role) {
                    (None, _) => {
                        assert_eq!(status, row.public_answer.0, "{label}: {body}");
                        if let Some(text) = row.public_answer.1 {
                            assert!(body.contains(text), "{label}: {body}");
                        }
                    }
                    (Some(_), None) => assert_eq!(status, 401, "{label}: {body}"),
                    (Some(_), Some(role)) if row.allowed.contains(role) => assert!(
                        ![401, 403, 404, 500].contains(&status),
                        "{label} should be let in: {status} {body}"
                    ),
                    (Some(_), Some(_)) => assert_eq!(status, 403, "{label}: {body}"),
                }
                if let (Some(other), Some(role)) = (&row.other_path, role) {
                    let answer = caller.send(row.method, other, &row.body).await;
                    let (status, body) = (answer.status, &answer.text);
                    let label = format!("{role:?} {} {other}", row.method);
                    let special = row
                        .other_expect
                        .iter()
                        .find(|(r, _)| r == role)
                        .map(|(_, s)| *s);
                    match role {
                        _ if special.is_some() => {
                            assert_eq!(Some(status), special, "{label}: {body}")
                        }
                        r if row.allowed.contains(r) && self.hidden_from.contains(r) => {
                            assert_eq!(status, 404, "{label} must be hidden: {body}")
                        }
                        r if row.allowed.contains(r) => assert!(
                            ![401, 403, 404, 500].contains(&status),
                            "{label} should be let in: {status} {body}"
                        ),
                        _ => assert_eq!(status, 403, "{label}: {body}"),
                    }
                }
            }
        }
    }
}
