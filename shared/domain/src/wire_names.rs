//! Enums whose values travel as snake_case names (API, database, configuration): one list of
//! variant and name gives `ALL`, `as_str`, an exact `parse`, `Display` and `FromStr`, so that the
//! names cannot differ between the places they are used. The serde names are declared with the
//! enum (`rename_all = "snake_case"`); a test of each enum checks the two agree.

/// `wire_names!(Type, error = ErrorType, unknown = error_value, { Variant = "name", ... });`
#[macro_export]
macro_rules! wire_names {
    ($ty:ident, error = $err:ty, unknown = $unknown:expr, { $($variant:ident = $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: [Self; [$($name),+].len()] = [$(Self::$variant),+];

            /// The wire name, identical to the serde name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name),+
                }
            }

            /// Parses the wire name exactly.
            pub fn parse(input: &str) -> Result<Self, $err> {
                Self::ALL
                    .into_iter()
                    .find(|value| value.as_str() == input)
                    .ok_or($unknown)
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = $err;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use crate::{ClientRole, CriteriaSet, Criterion, KpStatus, PracticeTier, RegistrationState};

    /// The serde name and the wire name of every value of `all` are the same, and parse back.
    fn agree<T>(all: &[T])
    where
        T: Copy
            + PartialEq
            + std::fmt::Debug
            + serde::Serialize
            + std::fmt::Display
            + std::str::FromStr,
    {
        for value in all {
            let serde_name = serde_json::to_value(value).unwrap_or_default();
            assert_eq!(
                serde_name.as_str(),
                Some(value.to_string().as_str()),
                "{value:?}"
            );
            assert_eq!(value.to_string().parse::<T>().ok(), Some(*value));
        }
    }

    #[test]
    fn serde_and_wire_names_agree() {
        agree(&RegistrationState::ALL);
        agree(&PracticeTier::ALL);
        agree(&KpStatus::ALL);
        agree(&ClientRole::ALL);
        agree(&CriteriaSet::ALL);
        agree(&Criterion::ALL);
    }

    #[test]
    fn parsing_is_exact() {
        assert!(RegistrationState::parse("Registered").is_err());
        assert!(RegistrationState::parse(" registered").is_err());
        assert_eq!(
            RegistrationState::parse("awaiting_kp"),
            Ok(RegistrationState::AwaitingKp)
        );
    }
}
