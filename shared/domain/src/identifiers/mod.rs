//! Identifiers validated at the edge and kept as newtypes (DESIGN §3.1).
//!
//! Every newtype's `parse` trims surrounding whitespace first: values arrive from forms and CSV
//! imports that often carry it, and it is never part of an identifier.

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;

use crate::IdentifierError;

/// The boilerplate every string newtype shares: `as_str`, `Display`, `FromStr`, the serde bridge
/// (`TryFrom<String>` runs `parse`, `From<_> for String` serialises) and an OpenAPI string schema.
/// The inner field is the normalised `String`.
macro_rules! string_newtype {
    ($ty:ident, description: $description:expr, pattern: $pattern:expr, example: $example:expr $(,)?) => {
        string_newtype!($ty, description: $description, pattern: $pattern, max_length: None, example: $example);
    };
    ($ty:ident, description: $description:expr, pattern: $pattern:expr, max_length: $max_length:expr, example: $example:expr $(,)?) => {
        impl $ty {
            /// The normalised value.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::IdentifierError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = $crate::IdentifierError;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$ty> for String {
            fn from(value: $ty) -> Self {
                value.0
            }
        }

        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::identifiers::string_schema($description, $pattern, $max_length, $example)
            }
        }

        impl utoipa::ToSchema for $ty {}
    };
}

mod agb;
mod contact;
mod kp;
mod kvk;
mod uzovi;

pub use agb::{zorgsoort, AgbCode, OefentherapieAgb};
pub use contact::{EmailAddress, PhoneNumber, PostalCode};
pub use kp::{KpNumber, KpStatus};
pub use kvk::{KvkBranchNumber, KvkNumber};
pub use uzovi::UzoviCode;

fn string_schema(
    description: &str,
    pattern: &str,
    max_length: Option<usize>,
    example: &str,
) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .pattern(Some(pattern))
        .max_length(max_length)
        .examples([example])
        .into()
}

/// Trims the input and accepts it only if it is exactly `len` ASCII digits; kept as a string
/// because leading zeros are part of these identifiers.
fn exact_digits(
    input: &str,
    len: usize,
    error: IdentifierError,
) -> Result<String, IdentifierError> {
    let s = input.trim();
    if s.len() == len && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_owned())
    } else {
        Err(error)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use utoipa::{PartialSchema, ToSchema};

    use super::*;

    #[derive(ToSchema)]
    #[allow(dead_code)]
    struct Practice {
        agb: OefentherapieAgb,
        postal_code: PostalCode,
    }

    // The OpenAPI schema is a string with the rule's pattern, an example and the Dutch term.
    #[test]
    fn string_schema_has_pattern_example_and_dutch_term() {
        let schema = serde_json::to_value(AgbCode::schema()).unwrap();
        assert_eq!(schema["type"], "string");
        assert_eq!(schema["pattern"], "^[0-9]{8}$");
        assert_eq!(schema["examples"][0], "07012345");
        assert!(schema["description"]
            .as_str()
            .unwrap()
            .contains("Algemeen GegevensBeheer"));
    }

    #[test]
    fn derived_schemas_reference_and_collect_the_newtypes() {
        let mut collected = Vec::new();
        <Practice as ToSchema>::schemas(&mut collected);
        let names: Vec<_> = collected.iter().map(|(name, _)| name.as_str()).collect();
        assert!(names.contains(&"OefentherapieAgb"), "{names:?}");
        assert!(names.contains(&"PostalCode"), "{names:?}");
    }
}
