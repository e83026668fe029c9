//! JSON Canonicalization Scheme (RFC 8785, "JCS"): one byte sequence per JSON value, so that a
//! document can be hashed and signed and the hash and signature checked by anyone who
//! canonicalises the same value again.
//!
//! - object members sorted by their names as UTF-16 code units (RFC 8785 §3.2.3);
//! - no whitespace;
//! - strings with the shortest escapes: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other control
//!   characters as `\u00xx` in lower-case hex, everything else as UTF-8 (§3.2.2.2);
//! - numbers as ECMAScript's `Number.prototype.toString` writes an IEEE 754 double (§3.2.2.3).

use std::fmt::Write as _;

use serde_json::{Number, Value};

/// Why a value has no canonical form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    /// RFC 8785 numbers are IEEE 754 doubles; an integer beyond 2^53 would change on the way.
    #[error("the number {0} cannot be represented exactly as an IEEE 754 double")]
    InexactNumber(String),
}

/// The canonical bytes of `value`.
pub fn to_vec(value: &Value) -> Result<Vec<u8>, CanonicalError> {
    let mut out = String::new();
    write_value(&mut out, value)?;
    Ok(out.into_bytes())
}

/// The canonical bytes of any serialisable value (through its `serde_json` form).
pub fn to_vec_of<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, CanonicalError> {
    let value = serde_json::to_value(value)
        .map_err(|e| CanonicalError::InexactNumber(format!("unserialisable value: {e}")))?;
    to_vec(&value)
}

fn write_value(out: &mut String, value: &Value) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => write_number(out, number)?,
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item)?;
            }
            out.push(']');
        }
        Value::Object(members) => {
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            sorted.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, (name, member)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, name);
                out.push(':');
                write_value(out, member)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Integers up to 2^53 are exact as doubles.
const MAX_EXACT: u64 = 1 << 53;

fn write_number(out: &mut String, number: &Number) -> Result<(), CanonicalError> {
    let inexact = || CanonicalError::InexactNumber(number.to_string());
    if let Some(n) = number.as_u64() {
        if n > MAX_EXACT {
            return Err(inexact());
        }
        let _ = write!(out, "{n}");
        return Ok(());
    }
    if let Some(n) = number.as_i64() {
        if n.unsigned_abs() > MAX_EXACT {
            return Err(inexact());
        }
        let _ = write!(out, "{n}");
        return Ok(());
    }
    let value = number.as_f64().ok_or_else(inexact)?;
    if !value.is_finite() {
        return Err(inexact());
    }
    write_double(out, value);
    Ok(())
}

/// ECMAScript `Number.prototype.toString` (ECMA-262 §6.1.6.1.20) of a finite double.
fn write_double(out: &mut String, value: f64) {
    if value == 0.0 {
        // Also -0, which ECMAScript writes as 0.
        out.push('0');
        return;
    }
    if value < 0.0 {
        out.push('-');
    }
    // Rust's `{:e}` gives the shortest digits that round-trip, as ECMAScript requires:
    // "d.ddde±x" → digits "dddd" and n, the position of the decimal point (value = 0.dddd × 10^n).
    let scientific = format!("{:e}", value.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let k = digits.len() as i32;
    let n = exponent + 1;
    if k <= n && n <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        let (whole, fraction) = digits.split_at(n as usize);
        out.push_str(whole);
        out.push('.');
        out.push_str(fraction);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-n) as usize));
        out.push_str(&digits);
    } else {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        let e = n - 1;
        let _ = write!(out, "e{}{}", if e < 0 { '-' } else { '+' }, e.abs());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn canonical(value: Value) -> String {
        String::from_utf8(to_vec(&value).unwrap()).unwrap()
    }

    fn double(value: f64) -> String {
        let mut out = String::new();
        write_double(&mut out, value);
        out
    }

    #[test]
    fn numbers_are_written_as_ecmascript_writes_them() {
        // RFC 8785 Appendix B.
        for (value, expected) in [
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-1.5, "-1.5"),
            (0.1, "0.1"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1e-7, "1e-7"),
            (0.000001, "0.000001"),
            (123456789012345680000.0, "123456789012345680000"),
            (4.5, "4.5"),
            (2e-3, "0.002"),
            (9007199254740992.0, "9007199254740992"),
            (333333333.3333333, "333333333.3333333"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
        ] {
            assert_eq!(double(value), expected, "{value:e}");
        }
    }

    #[test]
    fn members_are_sorted_by_utf16_code_units_and_strings_minimally_escaped() {
        // RFC 8785 §3.2.3: "\u{20ac}" (U+20AC) sorts before "\u{1f600}" (surrogates D83D...).
        let value = json!({
            "\u{1f600}": 1, "\u{20ac}": 2, "b": [true, null, "x\"\\\n\u{1}é"], "a": {"z": 1, "y": 0.5}
        });
        assert_eq!(
            canonical(value),
            "{\"a\":{\"y\":0.5,\"z\":1},\"b\":[true,null,\"x\\\"\\\\\\n\\u0001é\"],\"\u{20ac}\":2,\"\u{1f600}\":1}"
        );
    }

    #[test]
    fn the_same_value_has_the_same_bytes_whatever_the_member_order() {
        let one: Value = serde_json::from_str(r#"{"b":1,"a":[1,2,{"d":1,"c":2}]}"#).unwrap();
        let two: Value =
            serde_json::from_str(r#"{ "a" : [1, 2, {"c":2, "d":1}], "b" : 1 }"#).unwrap();
        assert_eq!(to_vec(&one).unwrap(), to_vec(&two).unwrap());
    }

    #[test]
    fn integers_beyond_double_precision_are_refused() {
        assert!(to_vec(&json!(9007199254740993_u64)).is_err());
        assert_eq!(canonical(json!(9007199254740992_u64)), "9007199254740992");
        assert_eq!(canonical(json!(-42)), "-42");
    }
}
