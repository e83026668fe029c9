//! Path extractors that parse: a named segment of the route becomes a domain type before the
//! handler runs, a malformed value is answered with the problem the type chooses (404 for an
//! identifier that cannot exist, 422 for a malformed year), and the extractor documents itself as
//! an OpenAPI path parameter, so that code and contract cannot drift apart.

/// Declares a path extractor.
///
/// ```ignore
/// path_param! {
///     /// The practice of the path.
///     pub struct PracticePath(OefentherapieAgb) = "agb",
///         description = "AGB code of the practice", example = "07012345",
///         parse = |raw| OefentherapieAgb::parse(raw).map_err(|_| ApiError::not_found("practice", raw));
/// }
/// ```
///
/// `example` is a JSON value; for numeric segments give `schema = integer`. `schema_of = Type`
/// documents the segment with the schema of the domain type it parses into (its pattern, or its
/// range), so that the contract is exactly as strict as the parser.
#[macro_export]
macro_rules! path_param {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident($ty:ty) = $segment:literal,
            description = $description:literal
            $(, example = $example:expr)?
            $(, schema = $schema:ident)?
            $(, schema_of = $schema_of:ty)?,
            parse = $parse:expr;
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        $vis struct $name(pub $ty);

        impl $name {
            pub fn into_inner(self) -> $ty {
                self.0
            }
        }

        impl ::std::ops::Deref for $name {
            type Target = $ty;

            fn deref(&self) -> &$ty {
                &self.0
            }
        }

        impl ::actix_web::FromRequest for $name {
            type Error = $crate::error::ApiError;
            type Future = ::std::future::Ready<Result<Self, Self::Error>>;

            fn from_request(
                req: &::actix_web::HttpRequest,
                _payload: &mut ::actix_web::dev::Payload,
            ) -> Self::Future {
                let parse: fn(&str) -> Result<$ty, $crate::error::ApiError> = $parse;
                let raw = req.match_info().get($segment).unwrap_or_default();
                ::std::future::ready(parse(raw).map(Self))
            }
        }

        impl ::utoipa::IntoParams for $name {
            fn into_params(
                _parameter_in: impl Fn() -> Option<::utoipa::openapi::path::ParameterIn>,
            ) -> Vec<::utoipa::openapi::path::Parameter> {
                #[allow(unused_mut)]
                let mut schema = $crate::paths::string_schema();
                $(schema = $crate::paths::$schema();)?
                $(schema = <$schema_of as ::utoipa::PartialSchema>::schema();)?
                #[allow(unused_mut)]
                let mut parameter = ::utoipa::openapi::path::ParameterBuilder::new()
                    .name($segment)
                    .parameter_in(::utoipa::openapi::path::ParameterIn::Path)
                    .description(Some($description))
                    .required(::utoipa::openapi::Required::True)
                    .schema(Some(schema));
                $(parameter = parameter.example(Some(::serde_json::json!($example)));)?
                vec![parameter.build()]
            }
        }
    };
}

/// The schema of a text segment.
pub fn string_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .into()
}

/// The schema of a year segment, as utoipa documents a `u16`.
pub fn integer() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    <u16 as utoipa::PartialSchema>::schema()
}

/// The schema of an id segment: a UUID, as utoipa documents a `Uuid` field.
pub fn uuid() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
        .into()
}

/// The segment as sent, for a parser: domain types trim what they parse (a CSV field, a form
/// value), but a path names one resource and `07000101%20` is not `07000101` (DESIGN §4). A
/// segment with surrounding whitespace is handed on as a value no parser accepts.
pub fn exact(raw: &str) -> &str {
    if raw.trim() == raw {
        raw
    } else {
        "\u{0}"
    }
}
