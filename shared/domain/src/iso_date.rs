//! A calendar date as the API takes it (DESIGN §4: dates ISO 8601): exactly `YYYY-MM-DD`, four
//! digit year in a plausible range, two digit month and day, nothing around it. chrono's own
//! parser also takes `2025-1-1`, `+002025-01-01`, `25-01-01` (year 25) and `0000-01-01`; a date
//! the register stores or compares against its cycle must not be one of those.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use crate::CodedError;

/// A date written `YYYY-MM-DD` with a year in [`IsoDate::MIN_YEAR`]..=[`IsoDate::MAX_YEAR`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsoDate(NaiveDate);

/// Why a date was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum DateError {
    #[error("must be a date written YYYY-MM-DD")]
    Format,
    #[error("must be a date from {min}-01-01 to {max}-12-31", min = IsoDate::MIN_YEAR, max = IsoDate::MAX_YEAR)]
    Range,
}

impl CodedError for DateError {
    fn code(&self) -> &'static str {
        match self {
            Self::Format => "date_format",
            Self::Range => "date_range",
        }
    }
}

impl IsoDate {
    pub const MIN_YEAR: i32 = 1900;
    pub const MAX_YEAR: i32 = 2100;
    /// The pattern the OpenAPI document declares.
    pub const PATTERN: &'static str = r"^(19|20)\d{2}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$|^2100-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$";

    /// Parses exactly `YYYY-MM-DD` (no sign, no whitespace, no short fields) of a real day in
    /// the year range.
    pub fn parse(input: &str) -> Result<Self, DateError> {
        let bytes = input.as_bytes();
        let shaped = bytes.len() == 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if !shaped {
            return Err(DateError::Format);
        }
        let date = NaiveDate::parse_from_str(input, "%Y-%m-%d").map_err(|_| DateError::Format)?;
        Self::new(date)
    }

    /// Checks the year range of a date.
    pub fn new(date: NaiveDate) -> Result<Self, DateError> {
        if (Self::MIN_YEAR..=Self::MAX_YEAR).contains(&date.year()) {
            Ok(Self(date))
        } else {
            Err(DateError::Range)
        }
    }

    pub fn date(self) -> NaiveDate {
        self.0
    }
}

impl std::ops::Deref for IsoDate {
    type Target = NaiveDate;

    fn deref(&self) -> &NaiveDate {
        &self.0
    }
}

impl From<IsoDate> for NaiveDate {
    fn from(date: IsoDate) -> Self {
        date.0
    }
}

impl fmt::Display for IsoDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl std::str::FromStr for IsoDate {
    type Err = DateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for IsoDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IsoDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = IsoDate;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "a date YYYY-MM-DD from {}-01-01 to {}-12-31",
                    IsoDate::MIN_YEAR,
                    IsoDate::MAX_YEAR
                )
            }

            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<IsoDate, E> {
                IsoDate::parse(value)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Str(value), &self))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

impl utoipa::PartialSchema for IsoDate {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
            .pattern(Some(Self::PATTERN))
            .examples(["2026-10-28"])
            .into()
    }
}

impl utoipa::ToSchema for IsoDate {}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn only_four_two_two_digits_of_a_real_day_are_a_date() {
        assert_eq!(
            IsoDate::parse("2025-01-31").map(IsoDate::date),
            Ok(NaiveDate::from_ymd_opt(2025, 1, 31).unwrap())
        );
        for bad in [
            "2025-1-1",
            "25-01-01",
            "+002025-01-01",
            " 2025-01-01",
            "2025-01-01 ",
            "2025/01/01",
            "2025-02-30",
            "2025-13-01",
            "",
            "２０２５-01-01",
        ] {
            assert_eq!(IsoDate::parse(bad), Err(DateError::Format), "{bad:?}");
        }
    }

    #[test]
    fn the_year_is_plausible() {
        assert_eq!(IsoDate::parse("0000-01-01"), Err(DateError::Range));
        assert_eq!(IsoDate::parse("0025-01-01"), Err(DateError::Range));
        assert_eq!(IsoDate::parse("2101-01-01"), Err(DateError::Range));
        assert!(IsoDate::parse("1900-01-01").is_ok());
        assert!(IsoDate::parse("2100-12-31").is_ok());
    }

    #[test]
    fn serde_takes_and_gives_the_same_form() {
        let date: IsoDate = serde_json::from_str("\"2026-10-28\"").unwrap();
        assert_eq!(serde_json::to_string(&date).unwrap(), "\"2026-10-28\"");
        assert!(serde_json::from_str::<IsoDate>("\"2026-1-28\"").is_err());
        assert!(serde_json::from_str::<IsoDate>("20261028").is_err());
    }
}
