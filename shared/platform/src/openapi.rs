//! What every service's OpenAPI document shares: the OAuth2 scheme listing the scopes its operations use,
//! the problem schema, the error responses every operation can give with an example per status,
//! and the finishing that lets generated clients use every operation: file bodies typed as binary,
//! list items referencing their schema, public operations marked `security: []`, servers and contact.

use std::collections::BTreeMap;

use serde_json::Value;
use utoipa::openapi::content::{Content, ContentBuilder};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::info::ContactBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ArrayItems, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::security::{ClientCredentials, Flow, OAuth2, Scopes, SecurityScheme};
use utoipa::openapi::server::ServerBuilder;
use utoipa::openapi::{OpenApi, Ref, RefOr, Response};
use utoipa::PartialSchema;

use crate::auth::Scope;
use crate::error::{ApiError, FieldError, Problem, PROBLEM_CONTENT_TYPE};

pub const SECURITY_SCHEME: &str = "oauth2";

/// Media types whose bodies are files or streams, not one JSON value: a generated client must
/// send and receive them as bytes.
pub const BINARY_MEDIA_TYPES: [&str; 4] = [
    "application/pdf",
    "text/csv",
    "application/x-ndjson",
    "application/octet-stream",
];

/// Statuses whose answer carries `Retry-After` (see [`ApiError`]'s rendering).
pub const RETRY_AFTER_STATUSES: [&str; 2] = ["429", "503"];

/// Who answers for the API, in every document.
const CONTACT_NAME: &str = "VvOCM praktijkregister";
const CONTACT_URL: &str = "https://www.vvocm.nl";

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

/// The problem a response with `status` gives, as the service renders it: the example of that
/// status in every document.
pub fn problem_example(status: &str) -> Option<Value> {
    let error = match status {
        "400" => ApiError::BadRequest(
            "the body is not valid JSON: expected value at line 1 column 1".into(),
        ),
        "401" => ApiError::Unauthorized("the access token has expired".into()),
        "403" => {
            ApiError::Forbidden("the token does not carry the scope this operation requires".into())
        }
        "404" => ApiError::not_found("practice", "07123456"),
        "409" => ApiError::Conflict {
            detail: "a practice with AGB code 07123456 already exists".into(),
            extensions: serde_json::Map::new(),
        },
        "412" => ApiError::PreconditionFailed(
            "If-Match does not match the current ETag; read the resource again".into(),
        ),
        "413" => ApiError::PayloadTooLarge("the body exceeds the limit of 10485760 bytes".into()),
        "415" => ApiError::UnsupportedMediaType("expected application/json".into()),
        "422" => ApiError::field("agb_code", "agb_format", "an AGB code is exactly 8 digits"),
        "428" => ApiError::PreconditionRequired(
            "send If-Match with the ETag of the resource you read".into(),
        ),
        "429" => ApiError::TooManyRequests {
            retry_after_seconds: 30,
        },
        "500" => ApiError::Internal(anyhow::anyhow!("example")),
        "502" => ApiError::BadGateway("the register answered 500".into()),
        "503" => {
            ApiError::ServiceUnavailable("no database connection became available in time".into())
        }
        "504" => ApiError::GatewayTimeout("the register did not answer in time".into()),
        _ => return None,
    };
    let mut problem = serde_json::to_value(error.to_problem()).ok()?;
    if let Some(members) = problem.as_object_mut() {
        members.insert(
            "request_id".into(),
            "5f0c8f0e-2a43-4d43-9a55-0d7d1c1f8a11".into(),
        );
    }
    Some(problem)
}

/// A string of bytes sent as the body itself, typed so generated clients treat it as a file;
/// a stream of JSON lines keeps the name of its line schema in the description.
fn binary_schema(media_type: &str, before: Option<&RefOr<Schema>>) -> RefOr<Schema> {
    let line = match before {
        Some(RefOr::Ref(line)) => line.ref_location.rsplit('/').next(),
        _ => None,
    };
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
        .content_media_type(media_type)
        .description(line.map(|line| format!("One JSON object per line, of the schema `{line}`")))
        .into()
}

fn type_binary_bodies<'a>(content: impl IntoIterator<Item = (&'a String, &'a mut Content)>) {
    for (media_type, body) in content {
        if BINARY_MEDIA_TYPES.contains(&media_type.as_str()) {
            body.schema = Some(binary_schema(media_type, body.schema.as_ref()));
        }
    }
}

/// Each error response gets the example of its own status and declares `Retry-After` where
/// the service sends it.
fn complete_error_response(status: &str, response: &mut RefOr<Response>) {
    let RefOr::T(response) = response else { return };
    if let Some(problem) = response.content.get_mut(PROBLEM_CONTENT_TYPE) {
        if problem.example.is_none() && problem.examples.is_empty() {
            problem.example = problem_example(status);
        }
    }
    if RETRY_AFTER_STATUSES.contains(&status) {
        response
            .headers
            .entry("Retry-After".into())
            .or_insert_with(|| {
                HeaderBuilder::new()
                    .schema(
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .minimum(Some(0)),
                    )
                    .description(Some("Seconds to wait before retrying"))
                    .build()
            });
    }
}

/// Array items and properties written out inline although a component of the same shape
/// exists (utoipa inlines the item type of a generic such as `Page<T>`) become references, so
/// that generated clients have one class per schema.
fn reference_components(schemas: &mut BTreeMap<String, RefOr<Schema>>) {
    let named: Vec<(String, Value)> = schemas
        .iter()
        .filter_map(|(name, schema)| Some((name.clone(), serde_json::to_value(schema).ok()?)))
        .filter(|(_, schema)| schema.get("properties").is_some())
        .collect();
    let reference = |schema: &mut RefOr<Schema>| {
        let Ok(value) = serde_json::to_value(&*schema) else {
            return;
        };
        if let Some((name, _)) = named.iter().find(|(_, named)| *named == value) {
            *schema = Ref::from_schema_name(name.as_str()).into();
        }
    };
    for schema in schemas.values_mut() {
        let RefOr::T(Schema::Object(object)) = schema else {
            continue;
        };
        for property in object.properties.values_mut() {
            if let RefOr::T(Schema::Array(array)) = property {
                if let ArrayItems::RefOrSchema(items) = &mut array.items {
                    reference(items);
                }
            } else {
                reference(property);
            }
        }
    }
}

/// Formats that request fields name to say they follow the one text rule (`shared/domain`'s
/// `text`), with their `maxLength` beside: `#[schema(format = "text-line", max_length = 200)]`.
/// The `-or-blank` forms are for optional fields that read whitespace as absent.
pub const TEXT_LINE_FORMAT: &str = "text-line";
pub const TEXT_LINES_FORMAT: &str = "text-lines";
pub const TEXT_LINE_OR_BLANK_FORMAT: &str = "text-line-or-blank";
pub const TEXT_LINES_OR_BLANK_FORMAT: &str = "text-lines-or-blank";

/// The pattern a text format stands for, and whether it takes the empty string.
fn text_format_pattern(format: &str) -> Option<(String, bool)> {
    use praktijkregister_domain::{TEXT_BLANK_PATTERN, TEXT_LINES_PATTERN, TEXT_LINE_PATTERN};
    Some(match format {
        TEXT_LINE_FORMAT => (TEXT_LINE_PATTERN.to_string(), false),
        TEXT_LINES_FORMAT => (TEXT_LINES_PATTERN.to_string(), false),
        TEXT_LINE_OR_BLANK_FORMAT => (format!("{TEXT_BLANK_PATTERN}|{TEXT_LINE_PATTERN}"), true),
        TEXT_LINES_OR_BLANK_FORMAT => (format!("{TEXT_BLANK_PATTERN}|{TEXT_LINES_PATTERN}"), true),
        _ => return None,
    })
}

/// What `If-Match` takes: `*` or the strong ETag of a version (see `conditional`).
const IF_MATCH_PATTERN: &str = r#"^[ \t]*(\*|"[0-9]{1,9}")[ \t]*$"#;

/// Writes the rules the server enforces into the schemas that name them, so that the contract
/// is as strict as the server: the text rule's pattern for every field of a text format, and the
/// ETag pattern for every `If-Match` header.
fn declare_text_and_etag_rules(document: &mut OpenApi) {
    fn walk(value: &mut Value) {
        match value {
            Value::Object(object) => {
                let text = object
                    .get("format")
                    .and_then(Value::as_str)
                    .and_then(text_format_pattern);
                if let Some((pattern, blank_allowed)) = text {
                    object.insert("pattern".into(), pattern.into());
                    if !blank_allowed {
                        object.entry("minLength").or_insert(1.into());
                    }
                }
                let if_match = object.get("in").and_then(Value::as_str) == Some("header")
                    && object
                        .get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|name| name.eq_ignore_ascii_case("if-match"));
                if if_match {
                    if let Some(Value::Object(schema)) = object.get_mut("schema") {
                        schema.insert("pattern".into(), IF_MATCH_PATTERN.into());
                    }
                }
                object.values_mut().for_each(walk);
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    /// Rewrites one part through its JSON form, only where the walk changed something (utoipa
    /// does not read back every schema it writes). A declared rule that cannot be written is a
    /// defect of the document, found by the contract test at the latest.
    fn declare<T: serde::Serialize + serde::de::DeserializeOwned>(part: &mut T) {
        let Ok(before) = serde_json::to_value(&*part) else {
            return;
        };
        let mut after = before.clone();
        walk(&mut after);
        if after != before {
            #[allow(clippy::expect_used)]
            let declared = serde_json::from_value(after)
                .expect("a schema with a declared text or ETag rule reads back");
            *part = declared;
        }
    }
    if let Some(components) = document.components.as_mut() {
        components.schemas.values_mut().for_each(declare);
    }
    for operation in operations(document) {
        operation.parameters.iter_mut().flatten().for_each(declare);
        if let Some(body) = operation.request_body.as_mut() {
            declare(body);
        }
    }
}

/// Completes a service's document: security scheme, shared schemas, common error responses
/// with an example per status, binary file bodies, referenced list items, `security: []` on
/// public operations, the development server at `port` and the contact.
/// The security scheme lists the scopes of `declared` that the operations use: each service
/// documents its own.
pub fn finish(mut document: OpenApi, token_url: &str, declared: &[Scope], port: u16) -> OpenApi {
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
        for (status, response) in operation.responses.responses.iter_mut() {
            complete_error_response(status, response);
            if let RefOr::T(response) = response {
                type_binary_bodies(response.content.iter_mut());
            }
        }
        if let Some(body) = operation.request_body.as_mut() {
            type_binary_bodies(body.content.iter_mut());
        }
        // An operation without requirements is public; say so rather than leave it unspecified.
        operation.security.get_or_insert_with(Vec::new);
    }
    if let Some(components) = document.components.as_mut() {
        reference_components(&mut components.schemas);
    }
    declare_text_and_etag_rules(&mut document);
    document.servers = Some(vec![ServerBuilder::new()
        .url(format!("http://127.0.0.1:{port}"))
        .description(Some(
            "The development default; a deployment serves the same paths under its own host",
        ))
        .build()]);
    document.info.contact = Some(
        ContactBuilder::new()
            .name(Some(CONTACT_NAME))
            .url(Some(CONTACT_URL))
            .build(),
    );
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

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    /// A document as utoipa writes it before finishing: a PDF body as integers, a page
    /// repeating its item inline, a public operation without requirements.
    fn finished() -> Value {
        let note = json!({"type": "object", "required": ["text"], "properties": {
            "text": {"type": "string"},
            "title": {"type": "string", "format": "text-line", "maxLength": 200},
            "remarks": {"type": ["string", "null"], "format": "text-lines-or-blank", "maxLength": 4000}
        }});
        let document: OpenApi = serde_json::from_value(json!({
            "openapi": "3.1.0",
            "info": {"title": "notes", "version": "1"},
            "paths": {
                "/notes": {"post": {
                    "parameters": [{"name": "If-Match", "in": "header", "required": true, "schema": {"type": "string"}}],
                    "requestBody": {"content": {"application/pdf": {"schema": {"type": "array", "items": {"type": "integer", "format": "int32", "minimum": 0}}}}, "required": true},
                    "responses": {
                        "200": {"description": "notes", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Page_Note"}}}},
                        "404": {"description": "no such note", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
                    },
                    "security": [{"oauth2": ["notes:write"]}]
                }},
                "/public": {"get": {"responses": {"200": {"description": "notes", "content": {"text/csv": {"schema": {"type": "string"}}}}}}}
            },
            "components": {"schemas": {
                "Note": note,
                "Page_Note": {"type": "object", "properties": {"items": {"type": "array", "items": note}}}
            }}
        }))
        .expect("a document");
        serde_json::to_value(finish(document, "/oauth/token", &[], 8090)).expect("JSON")
    }

    #[test]
    fn text_fields_and_if_match_carry_the_rules_the_server_checks() {
        let document = finished();
        let note = &document["components"]["schemas"]["Note"]["properties"];
        assert_eq!(
            note["title"]["pattern"],
            praktijkregister_domain::TEXT_LINE_PATTERN
        );
        assert_eq!(note["title"]["minLength"], 1);
        let blank_or_text = note["remarks"]["pattern"].as_str().unwrap_or_default();
        assert!(blank_or_text.starts_with(praktijkregister_domain::TEXT_BLANK_PATTERN));
        assert!(blank_or_text.ends_with(praktijkregister_domain::TEXT_LINES_PATTERN));
        assert!(note["remarks"].get("minLength").is_none(), "blank is taken");
        assert!(
            note["text"].get("pattern").is_none(),
            "a plain string stays plain"
        );
        let if_match = &document["paths"]["/notes"]["post"]["parameters"][0]["schema"];
        assert_eq!(if_match["pattern"], IF_MATCH_PATTERN);
    }

    #[test]
    fn file_bodies_become_binary_strings_of_their_media_type() {
        let document = finished();
        let upload =
            &document["paths"]["/notes"]["post"]["requestBody"]["content"]["application/pdf"];
        assert_eq!(
            upload["schema"],
            json!({"type": "string", "format": "binary", "contentMediaType": "application/pdf"})
        );
        let csv = &document["paths"]["/public"]["get"]["responses"]["200"]["content"]["text/csv"];
        assert_eq!(csv["schema"]["format"], "binary");
    }

    #[test]
    fn a_page_references_its_item_schema() {
        let document = finished();
        assert_eq!(
            document["components"]["schemas"]["Page_Note"]["properties"]["items"]["items"],
            json!({"$ref": "#/components/schemas/Note"})
        );
    }

    #[test]
    fn each_error_status_has_its_own_example_and_retry_after_where_sent() {
        let document = finished();
        let responses = &document["paths"]["/notes"]["post"]["responses"];
        for status in [
            "400", "401", "403", "404", "415", "422", "429", "500", "503",
        ] {
            let example = &responses[status]["content"]["application/problem+json"]["example"];
            assert_eq!(example["status"].to_string(), status, "{status}: {example}");
            assert!(example["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("https://")));
        }
        assert_eq!(
            responses["404"]["content"]["application/problem+json"]["example"]["type"],
            "https://praktijkregister.vvocm.nl/problems/not-found"
        );
        for status in RETRY_AFTER_STATUSES {
            assert!(
                responses[status]["headers"]["Retry-After"].is_object(),
                "{status}"
            );
        }
        assert!(responses["404"].get("headers").is_none());
    }

    #[test]
    fn public_operations_say_security_empty_and_the_document_names_server_and_contact() {
        let document = finished();
        assert_eq!(document["paths"]["/public"]["get"]["security"], json!([]));
        assert_eq!(
            document["paths"]["/notes"]["post"]["security"],
            json!([{"oauth2": ["notes:write"]}])
        );
        assert_eq!(document["servers"][0]["url"], "http://127.0.0.1:8090");
        assert_eq!(document["info"]["contact"]["url"], CONTACT_URL);
    }

    #[test]
    fn every_listed_status_has_an_example_of_that_status() {
        for status in [
            "400", "401", "403", "404", "409", "412", "413", "415", "422", "428", "429", "500",
            "502", "503", "504",
        ] {
            let example = problem_example(status).expect(status);
            assert_eq!(example["status"].to_string(), status);
        }
        assert!(problem_example("200").is_none());
    }
}
