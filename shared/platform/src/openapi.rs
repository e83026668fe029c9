//! What every service's OpenAPI document shares: the OAuth2 scheme listing the scopes its operations use,
//! the problem schema, and the error responses every operation can give.

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{ClientCredentials, Flow, OAuth2, Scopes, SecurityScheme};
use utoipa::openapi::{OpenApi, Ref, RefOr, Response};
use utoipa::PartialSchema;

use crate::auth::Scope;
use crate::error::{FieldError, Problem, PROBLEM_CONTENT_TYPE};

pub const SECURITY_SCHEME: &str = "oauth2";

/// A problem+json response with `description`.
pub fn problem_response(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_CONTENT_TYPE,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
        .into()
}

/// Errors any operation can answer, added where an operation does not describe them itself.
fn common_errors(secured: bool) -> Vec<(&'static str, &'static str)> {
    let mut errors = vec![
        (
            "400",
            "Malformed request (bad JSON, bad path or query parameter)",
        ),
        ("429", "Rate limit exceeded; see `Retry-After`"),
        (
            "500",
            "Unexpected error; the problem carries the request id to report",
        ),
        (
            "503",
            "Database or a dependency temporarily unavailable; retry later",
        ),
    ];
    if secured {
        errors.push(("401", "Missing, expired or otherwise invalid access token"));
        errors.push(("403", "The token lacks the required scope"));
    }
    errors
}

fn operations(document: &mut OpenApi) -> impl Iterator<Item = &mut Operation> {
    document.paths.paths.values_mut().flat_map(|item| {
        [
            item.get.as_mut(),
            item.put.as_mut(),
            item.post.as_mut(),
            item.delete.as_mut(),
            item.patch.as_mut(),
        ]
        .into_iter()
        .flatten()
    })
}

/// Completes a service's document: security scheme, shared schemas, common error responses.
/// The security scheme lists the scopes of `declared` that the operations use: each service
/// documents its own.
pub fn finish(mut document: OpenApi, token_url: &str, declared: &[Scope]) -> OpenApi {
    let used: std::collections::BTreeSet<String> = declared_scopes(&document)
        .into_iter()
        .flat_map(|(_, _, scopes)| scopes)
        .collect();
    let scopes: Scopes = declared
        .iter()
        .filter(|scope| used.contains(scope.as_str()))
        .map(|scope| (scope.as_str(), scope.description()))
        .collect();
    let components = document.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        SECURITY_SCHEME,
        SecurityScheme::OAuth2(OAuth2::with_description(
            [Flow::ClientCredentials(ClientCredentials::new(token_url, scopes))],
            "OAuth2 client credentials (RFC 6749 §4.4); the token is an EdDSA JWT sent as `Authorization: Bearer`.",
        )),
    );
    components
        .schemas
        .insert("Problem".into(), Problem::schema());
    components
        .schemas
        .insert("FieldError".into(), FieldError::schema());
    for operation in operations(&mut document) {
        let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
        let mut errors = common_errors(secured);
        if operation.request_body.is_some() {
            errors.push(("415", "The body is not of the documented media type"));
            errors.push(("422", "Invalid fields, each named in `errors`"));
        }
        let has_query = operation.parameters.as_ref().is_some_and(|parameters| {
            parameters
                .iter()
                .any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query))
        });
        if has_query {
            errors.push(("422", "Invalid query parameters, each named in `errors`"));
        }
        for (status, description) in errors {
            operation
                .responses
                .responses
                .entry(status.to_string())
                .or_insert_with(|| problem_response(description));
        }
    }
    document
}

/// The scope names each operation declares, as `(method, path, scopes)`.
pub fn declared_scopes(document: &OpenApi) -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    for (path, item) in &document.paths.paths {
        let methods = [
            ("GET", &item.get),
            ("PUT", &item.put),
            ("POST", &item.post),
            ("DELETE", &item.delete),
            ("PATCH", &item.patch),
        ];
        for (method, operation) in methods {
            let Some(operation) = operation else { continue };
            let value = serde_json::to_value(&operation.security).unwrap_or_default();
            let scopes = value
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|requirement| requirement.get(SECURITY_SCHEME))
                .filter_map(|s| s.as_array())
                .flatten()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect();
            out.push((method.to_string(), path.clone(), scopes));
        }
    }
    out
}
