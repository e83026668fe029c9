use serde::{Deserialize, Serialize};

use crate::IdentifierError;

/// Postcode: a Dutch postal code, stored as `1234 AB`.
///
/// Rule (PostNL postcode system): 4 digits, the first not 0, then 2 letters; the letter pairs SA,
/// SD and SS are never issued. Input may omit the space and use any case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PostalCode(String);

impl PostalCode {
    pub fn parse(input: &str) -> Result<Self, IdentifierError> {
        let b = input.trim().as_bytes();
        let (digits, letters) = match b.len() {
            6 => b.split_at(4),
            7 if b[4] == b' ' => (&b[..4], &b[5..]),
            _ => return Err(IdentifierError::PostalCodeFormat),
        };
        if digits[0] == b'0'
            || !digits.iter().all(u8::is_ascii_digit)
            || !letters.iter().all(u8::is_ascii_alphabetic)
        {
            return Err(IdentifierError::PostalCodeFormat);
        }
        let letters: String = letters
            .iter()
            .map(|b| char::from(b.to_ascii_uppercase()))
            .collect();
        if matches!(letters.as_str(), "SA" | "SD" | "SS") {
            return Err(IdentifierError::PostalCodeLetters { letters });
        }
        let digits: String = digits.iter().copied().map(char::from).collect();
        Ok(Self(format!("{digits} {letters}")))
    }
}

string_newtype!(
    PostalCode,
    description: "Postcode (Dutch postal code): 4 digits, the first not 0, and 2 letters; accepted \
        with or without the space and in any case, always returned as `1234 AB`. SA, SD and SS \
        are not issued and are refused.",
    pattern: r"^\s*[1-9][0-9]{3} ?([A-RT-Za-rt-z][A-Za-z]|[Ss][BCE-RT-Zbce-rt-z])\s*$",
    example: "3511 AB",
);

/// Longest address that fits the SMTP path limit (RFC 5321 §4.5.3.1.3, RFC 3696 erratum 1690).
const EMAIL_MAX_LEN: usize = 254;

/// E-mailadres.
///
/// Rule (pragmatic, after RFC 5321): exactly one `@`, a non-empty local part, a domain of
/// non-empty dot-separated labels with at least one dot, no whitespace or control characters, at
/// most 254 characters. The domain is case-insensitive and stored lowercase; the local part may be
/// case-sensitive (RFC 5321 §2.4) and is kept as given.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(input: &str) -> Result<Self, IdentifierError> {
        let s = input.trim();
        let (local, domain) = s.split_once('@').ok_or(IdentifierError::EmailFormat)?;
        let valid = s.chars().count() <= EMAIL_MAX_LEN
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            && !local.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.split('.').any(str::is_empty);
        if valid {
            Ok(Self(format!("{local}@{}", domain.to_lowercase())))
        } else {
            Err(IdentifierError::EmailFormat)
        }
    }
}

string_newtype!(
    EmailAddress,
    description: "E-mailadres (e-mail address): one @, a non-empty local part, a domain with a dot, \
        no spaces, at most 254 characters; the domain is returned lowercase.",
    pattern: r"^\s*[^@\s\u0000-\u001F\u007F-\u009F]+@[^@\s.\u0000-\u001F\u007F-\u009F]+(\.[^@\s.\u0000-\u001F\u007F-\u009F]+)+\s*$",
    max_length: Some(EMAIL_MAX_LEN),
    example: "info@oefentherapie-voorbeeld.nl",
);

/// Dutch country code, added to national numbers.
const NL_COUNTRY_CODE: &str = "31";
/// Digits of a Dutch number after the trunk `0` or the country code `31`.
const NL_SUBSCRIBER_DIGITS: usize = 9;

/// Telefoonnummer, stored in E.164 form (`+31201234567`).
///
/// Rule: spaces, dashes, dots and parentheses are ignored. Accepted are a Dutch national number
/// (`0` and 9 digits, turned into `+31` and the 9 digits) or an international number (ITU-T E.164:
/// `+` or the Dutch international prefix `00`, then 8 to 15 digits starting with a non-zero
/// country code). A `+31` number must have 9 digits after `31`, like its national form; a trunk
/// `0` written after `+31`, as in `+31 (0)20 …`, is dropped. Short service numbers such as
/// `0800 1234` are not accepted: a practice's contact number is an ordinary one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(input: &str) -> Result<Self, IdentifierError> {
        let compact: String = input
            .chars()
            .filter(|&c| !(c.is_whitespace() || matches!(c, '-' | '.' | '(' | ')')))
            .collect();
        let Some(international) = compact
            .strip_prefix('+')
            .or_else(|| compact.strip_prefix("00"))
        else {
            let national = compact
                .strip_prefix('0')
                .ok_or(IdentifierError::PhoneFormat)?;
            return Self::dutch(national);
        };
        if !(8..=15).contains(&international.len())
            || !international.bytes().all(|b| b.is_ascii_digit())
            || international.starts_with('0')
        {
            return Err(IdentifierError::PhoneFormat);
        }
        match international.strip_prefix(NL_COUNTRY_CODE) {
            Some(national) => Self::dutch(national.strip_prefix('0').unwrap_or(national)),
            None => Ok(Self(format!("+{international}"))),
        }
    }

    /// A Dutch number from the digits after the trunk `0` or the country code: nine, the first
    /// not 0 (a number after `+31 0` is the national one without its trunk `0`).
    fn dutch(subscriber: &str) -> Result<Self, IdentifierError> {
        if subscriber.len() == NL_SUBSCRIBER_DIGITS
            && subscriber.bytes().all(|b| b.is_ascii_digit())
            && !subscriber.starts_with('0')
        {
            Ok(Self(format!("+{NL_COUNTRY_CODE}{subscriber}")))
        } else {
            Err(IdentifierError::PhoneFormat)
        }
    }
}

string_newtype!(
    PhoneNumber,
    description: "Telefoonnummer (phone number): 0 and 9 digits (Dutch national), or + or 00 and \
        8 to 15 digits (E.164); spaces, dashes, dots and parentheses are ignored. Returned in \
        E.164 form, e.g. +31201234567.",
    pattern: r"^[\s().-]*(0[\s().-]*[1-9][\s().-]*([0-9][\s().-]*){8}|(\+|0[\s().-]*0)[\s().-]*(3[\s().-]*1[\s().-]*(0[\s().-]*)?[1-9][\s().-]*([0-9][\s().-]*){8}|(3[\s().-]*[02-9]|[124-9][\s().-]*[0-9])[\s().-]*([0-9][\s().-]*){6,13}))$",
    example: "+31201234567",
);

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Whether `T`'s contract (its pattern and, where it has one, its length in characters)
    /// takes `sample`.
    fn contract_takes<T: utoipa::PartialSchema>(sample: &str) -> bool {
        let schema = serde_json::to_value(T::schema()).unwrap();
        let regex = regex::Regex::new(schema["pattern"].as_str().unwrap()).unwrap();
        let max = schema["maxLength"]
            .as_u64()
            .map_or(usize::MAX, |max| usize::try_from(max).unwrap());
        regex.is_match(sample) && sample.chars().count() <= max
    }

    /// The contract's pattern says of every sample what `parse` says.
    #[test]
    fn the_postal_code_pattern_agrees_with_the_rule() {
        for sample in [
            "3512 AB",
            "3512ab",
            " 3512 ab ",
            "0512 AB",
            "3512  AB",
            "3512 SA",
            "3512 sd",
            "3512 Ss",
            "3512 SB",
            "3512 XZ",
            "351 AB",
            "3512 A1",
        ] {
            assert_eq!(
                contract_takes::<PostalCode>(sample),
                PostalCode::parse(sample).is_ok(),
                "{sample:?}"
            );
        }
    }

    /// The contract's pattern says of every sample what `parse` says.
    #[test]
    fn the_phone_pattern_agrees_with_the_rule() {
        for sample in [
            "020 123 4567",
            "(020) 123-45.67",
            "0201234567",
            "020123456",
            "02012345678",
            "0031201234567",
            "0031234567",
            "0012345678",
            "+31 (0)20 123 4567",
            "+31 070651401",
            "+31 0012345678",
            "0031 0 20 123 4567",
            "\n 0\r\r\t\n(0(3(.\r\r\t-\t\t\r\r\u{c}1)0\u{c}-\u{b}\u{c}\t70\u{b}\u{c}-6(\u{c}(\r\n\u{b}\u{c})5(\t\u{c}\u{b}\r140(\u{c}1",
            "+31201234567",
            "+312012345678",
            "+49 30 1234567",
            "+1234567",
            "+12345678",
            "+1234567890123456",
            "+0123456789",
            "1234567",
            "0800 1234",
            " +44 20 7946 0958 ",
        ] {
            assert_eq!(
                contract_takes::<PhoneNumber>(sample),
                PhoneNumber::parse(sample).is_ok(),
                "{sample:?}"
            );
        }
    }

    /// The contract's pattern and length say of every sample what `parse` says.
    #[test]
    fn the_email_pattern_agrees_with_the_rule() {
        let long = format!("{}@voorbeeld.nl", "é".repeat(240));
        for sample in [
            "info@voorbeeld.nl",
            " info@voorbeeld.nl ",
            "a.b@c.d.e",
            "info@voorbeeld",
            "@voorbeeld.nl",
            "a@@b.nl",
            "a@b..nl",
            "a@.b.nl",
            "a@b.nl.",
            "in fo@voorbeeld.nl",
            "info\u{0012}@voorbeeld.nl",
            "info@voorb\u{009F}eeld.nl",
            "zoë@voorbeeld.nl",
            long.as_str(),
        ] {
            assert_eq!(
                contract_takes::<EmailAddress>(sample),
                EmailAddress::parse(sample).is_ok(),
                "{sample:?}"
            );
        }
    }

    // PostNL: normalised to `1234 AB`, with or without space, any case.
    #[test]
    fn postal_code_is_normalised() {
        for input in ["1234ab", "1234 AB", " 1234 aB ", "1234Ab"] {
            assert_eq!(
                PostalCode::parse(input).unwrap().as_str(),
                "1234 AB",
                "{input:?}"
            );
        }
    }

    #[test]
    fn postal_code_refuses_bad_format() {
        for bad in [
            "", "0123 AB", "123 AB", "12345 AB", "1234 A", "1234 ABC", "1234  AB", "1234-AB",
            "12a4 AB", "1234 A1", "1234 ÀB", "AB 1234",
        ] {
            assert_eq!(
                PostalCode::parse(bad).unwrap_err().code(),
                "postal_code_format",
                "{bad:?}"
            );
        }
    }

    // PostNL: the letter pairs SA, SD and SS are not issued.
    #[test]
    fn postal_code_refuses_sa_sd_ss_with_reason() {
        for (bad, letters) in [("1234 SA", "SA"), ("1234sd", "SD"), ("1234 ss", "SS")] {
            let err = PostalCode::parse(bad).unwrap_err();
            assert_eq!(
                err,
                IdentifierError::PostalCodeLetters {
                    letters: letters.to_owned()
                }
            );
            assert_eq!(err.code(), "postal_code_letters");
            assert!(err.to_string().contains("not issued"), "{err}");
        }
        assert!(PostalCode::parse("1234 SB").is_ok());
    }

    #[test]
    fn postal_code_serde_normalises() {
        let pc: PostalCode = serde_json::from_str("\"3511ab\"").unwrap();
        assert_eq!(serde_json::to_string(&pc).unwrap(), "\"3511 AB\"");
        assert!(serde_json::from_str::<PostalCode>("\"3511 SS\"").is_err());
    }

    // Pragmatic RFC 5321 check; domain lowercased, local part kept.
    #[test]
    fn email_normalises_domain_only() {
        let email = EmailAddress::parse(" Info.Praktijk@Oefentherapie.NL ").unwrap();
        assert_eq!(email.as_str(), "Info.Praktijk@oefentherapie.nl");
    }

    #[test]
    fn email_refuses_bad_forms() {
        let too_long = format!("{}@example.nl", "a".repeat(EMAIL_MAX_LEN));
        for bad in [
            "",
            "praktijk.nl",
            "@praktijk.nl",
            "info@",
            "info@praktijk",
            "info@@praktijk.nl",
            "info@praktijk@nl.nl",
            "in fo@praktijk.nl",
            "info@praktijk..nl",
            "info@.praktijk.nl",
            "info@praktijk.nl.",
            "info\u{7}@praktijk.nl",
            too_long.as_str(),
        ] {
            assert_eq!(
                EmailAddress::parse(bad).unwrap_err().code(),
                "email_format",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn email_accepts_the_maximum_length() {
        let local = "a".repeat(EMAIL_MAX_LEN - "@example.nl".len());
        assert!(EmailAddress::parse(&format!("{local}@example.nl")).is_ok());
    }

    #[test]
    fn email_serde_round_trip() {
        let email: EmailAddress = serde_json::from_str("\"Info@Praktijk.NL\"").unwrap();
        assert_eq!(
            serde_json::to_string(&email).unwrap(),
            "\"Info@praktijk.nl\""
        );
    }

    // National `0` + 9 digits and `0031`/`+31` all become `+31` + 9 digits.
    #[test]
    fn phone_dutch_forms_become_e164() {
        for input in [
            "020 123 4567",
            "020-1234567",
            "(020) 123.45.67",
            "+31 20 123 4567",
            "+31 (0)20 123 4567",
            "0031 20 1234567",
            "0031201234567",
        ] {
            assert_eq!(
                PhoneNumber::parse(input).unwrap().as_str(),
                "+31201234567",
                "{input:?}"
            );
        }
        assert_eq!(
            PhoneNumber::parse("06-12345678").unwrap().as_str(),
            "+31612345678"
        );
    }

    // ITU-T E.164: + and 8 to 15 digits; 00 is the Dutch international prefix.
    #[test]
    fn phone_international_forms() {
        assert_eq!(
            PhoneNumber::parse("+49 30 1234567").unwrap().as_str(),
            "+49301234567"
        );
        assert_eq!(
            PhoneNumber::parse("0032 2 123 45 67").unwrap().as_str(),
            "+3221234567"
        );
        assert_eq!(
            PhoneNumber::parse("+12345678").unwrap().as_str(),
            "+12345678"
        );
        assert_eq!(
            PhoneNumber::parse("+123456789012345").unwrap().as_str(),
            "+123456789012345"
        );
    }

    #[test]
    fn phone_refuses_other_forms_and_explains() {
        for bad in [
            "",
            "1234567890",
            "020 123 456",
            "020 123 45678",
            "0800 1234",
            "+1234567",
            "+1234567890123456",
            "+0123456789",
            "+31 20 123 456",
            "+31 20 123 45678",
            "020 123 456a",
            "+49/30/1234567",
            "++31201234567",
        ] {
            let err = PhoneNumber::parse(bad).unwrap_err();
            assert_eq!(err.code(), "phone_format", "{bad:?}");
        }
        let message = PhoneNumber::parse("12").unwrap_err().to_string();
        assert!(message.contains("0 followed by 9 digits"), "{message}");
        assert!(message.contains("8 to 15 digits"), "{message}");
    }

    #[test]
    fn phone_serde_normalises() {
        let phone: PhoneNumber = serde_json::from_str("\"020-1234567\"").unwrap();
        assert_eq!(serde_json::to_string(&phone).unwrap(), "\"+31201234567\"");
    }
}
