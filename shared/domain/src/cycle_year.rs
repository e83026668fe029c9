//! The years of the yearly cycle (DESIGN §3.2): cycle year Y feeds contract year Y+1.

use serde::{Deserialize, Serialize};

use crate::IdentifierError;

/// Parses a path parameter or CSV field as a year: exactly 4 ASCII digits.
fn parse_year(input: &str) -> Result<u16, IdentifierError> {
    let s = input.trim();
    if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IdentifierError::YearFormat);
    }
    s.parse().map_err(|_| IdentifierError::YearFormat)
}

/// The boilerplate both year types share: range-checked `new`, `parse`, `value`, `Display`,
/// `FromStr`, the serde bridge (an integer, range-checked on the way in) and an OpenAPI integer
/// schema with the range.
macro_rules! year_newtype {
    ($ty:ident, range_error: $range_error:ident, description: $description:expr, example: $example:expr $(,)?) => {
        impl $ty {
            /// Checks the range `MIN..=MAX`.
            pub fn new(year: u16) -> Result<Self, IdentifierError> {
                if (Self::MIN..=Self::MAX).contains(&year) {
                    Ok(Self(year))
                } else {
                    Err(IdentifierError::$range_error { year })
                }
            }

            /// Parses 4 digits (e.g. a path parameter), then checks the range.
            pub fn parse(input: &str) -> Result<Self, IdentifierError> {
                Self::new(parse_year(input)?)
            }

            pub fn value(self) -> u16 {
                self.0
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl std::str::FromStr for $ty {
            type Err = IdentifierError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<u16> for $ty {
            type Error = IdentifierError;

            fn try_from(year: u16) -> Result<Self, Self::Error> {
                Self::new(year)
            }
        }

        impl From<$ty> for u16 {
            fn from(year: $ty) -> Self {
                year.0
            }
        }

        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::Integer)
                    .description(Some($description))
                    .minimum(Some(Self::MIN))
                    .maximum(Some(Self::MAX))
                    .examples([$example])
                    .into()
            }
        }

        impl utoipa::ToSchema for $ty {}
    };
}

/// Jaar van de registratiecyclus: the year Y in which a practice submits its annual plan, is
/// visited and is registered, ending with the 1 November export (DESIGN §3.2; 000, 001).
///
/// Range 2000..=2099, one below [`ContractYear`], so that [`ContractYear::for_cycle`] never fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct CycleYear(u16);

impl CycleYear {
    pub const MIN: u16 = 2000;
    pub const MAX: u16 = 2099;

    /// The year of the national treatment index (Vektis) used for the contract year this cycle
    /// serves: cycle year Y serves contract year Y+1, whose index is that of Y-1 (001). Not itself
    /// a cycle year, hence a plain year.
    pub fn treatment_index_year(self) -> u16 {
        self.0 - 1
    }
}

year_newtype!(
    CycleYear,
    range_error: CycleYearRange,
    description: "Jaar van de registratiecyclus (cycle year): the year of the annual plan, the \
        visitation and the registration; its 1 November list serves contract year + 1.",
    example: 2026,
);

/// Contractjaar: the year of the insurers' contracts that use the register's list.
///
/// Range 2001..=2100, one above [`CycleYear`], so that [`ContractYear::cycle_year`] never fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct ContractYear(u16);

impl ContractYear {
    pub const MIN: u16 = CycleYear::MIN + 1;
    pub const MAX: u16 = CycleYear::MAX + 1;

    /// Contract year Y+1 for cycle year Y: the 1 November list of Y serves contracts from
    /// 1 January Y+1 (000; 001 §2.2).
    pub fn for_cycle(cycle: CycleYear) -> Self {
        Self(cycle.0 + 1)
    }

    /// The cycle year whose list this contract year uses: Y-1 (000; 001 §2.2).
    pub fn cycle_year(self) -> CycleYear {
        CycleYear(self.0 - 1)
    }
}

year_newtype!(
    ContractYear,
    range_error: ContractYearRange,
    description: "Contractjaar (contract year): the year of the insurers' contracts; contract year \
        Y+1 uses the 1 November list of cycle year Y.",
    example: 2027,
);

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    // 000, 001 §2.2: the 1 November list of Y serves contracts from 1 January Y+1.
    #[test]
    fn contract_year_is_cycle_year_plus_one() {
        let cycle = CycleYear::new(2026).unwrap();
        let contract = ContractYear::for_cycle(cycle);
        assert_eq!(contract.value(), 2027);
        assert_eq!(contract.cycle_year(), cycle);
        let last = CycleYear::new(CycleYear::MAX).unwrap();
        assert_eq!(ContractYear::for_cycle(last).value(), ContractYear::MAX);
    }

    // 001: contract year Y+1 uses the national index of Y-1.
    #[test]
    fn treatment_index_year_is_cycle_year_minus_one() {
        assert_eq!(CycleYear::new(2026).unwrap().treatment_index_year(), 2025);
        assert_eq!(
            CycleYear::new(CycleYear::MIN)
                .unwrap()
                .treatment_index_year(),
            1999
        );
    }

    #[test]
    fn years_parse_four_digits() {
        assert_eq!(CycleYear::parse(" 2026 ").unwrap().value(), 2026);
        assert_eq!("2027".parse::<ContractYear>().unwrap().to_string(), "2027");
        for bad in ["", "26", "02026", "20 26", "+2026", "2026a", "twee"] {
            assert_eq!(
                CycleYear::parse(bad).unwrap_err().code(),
                "year_format",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn years_refuse_out_of_range() {
        for bad in ["1999", "2100", "9999", "0000"] {
            assert_eq!(
                CycleYear::parse(bad).unwrap_err().code(),
                "year_range",
                "{bad:?}"
            );
        }
        assert_eq!(
            ContractYear::new(2000).unwrap_err(),
            IdentifierError::ContractYearRange { year: 2000 }
        );
        assert_eq!(ContractYear::new(2101).unwrap_err().code(), "year_range");
        assert_eq!(
            CycleYear::new(2100).unwrap_err().to_string(),
            "cycle year 2100 is outside 2000..=2099"
        );
        assert!(ContractYear::new(2100).is_ok());
    }

    #[test]
    fn years_serde_as_integer() {
        let cycle: CycleYear = serde_json::from_str("2026").unwrap();
        assert_eq!(serde_json::to_string(&cycle).unwrap(), "2026");
        let contract: ContractYear = serde_json::from_str("2027").unwrap();
        assert_eq!(serde_json::to_string(&contract).unwrap(), "2027");
        assert!(serde_json::from_str::<CycleYear>("1999").is_err());
        assert!(serde_json::from_str::<CycleYear>("\"2026\"").is_err());
    }

    #[test]
    fn year_schema_is_an_integer_with_the_range() {
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(ContractYear::schema()).unwrap();
        assert_eq!(schema["type"], "integer");
        assert_eq!(schema["minimum"], 2001);
        assert_eq!(schema["maximum"], 2100);
        assert!(schema["description"]
            .as_str()
            .unwrap()
            .contains("Contractjaar"));
    }
}
