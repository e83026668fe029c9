//! Free text a person types (names, remarks, reasons): one rule for every field. At most `max`
//! characters are sent; surrounding whitespace is dropped, and the rest has at least one
//! character and no control characters (PostgreSQL
//! cannot store NUL, and stray controls break exports), except line breaks and tabs where the
//! field allows several lines. Bidirectional overrides and isolates (U+202A-U+202E,
//! U+2066-U+2069) are refused everywhere, since they make a stored name read differently from
//! what it holds, and text made only of zero-width or other format characters is refused: it
//! looks empty (DESIGN §4, DESIGN §5).

use std::fmt;

use thiserror::Error;

use crate::CodedError;

/// Text that keeps the rule of its field.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(String);

/// Whether a field is one line (a name) or may have several (remarks, plans).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    One,
    Many,
}

/// Why text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TextError {
    #[error("must have 1 to {max} characters")]
    Length { max: usize },
    #[error("must not contain control characters")]
    ControlInLine,
    #[error("must not contain control characters other than line breaks and tabs")]
    Control,
    #[error("must not contain bidirectional override or isolate characters")]
    Bidi,
    #[error("must contain a visible character")]
    Invisible,
}

impl CodedError for TextError {
    fn code(&self) -> &'static str {
        match self {
            Self::Length { .. } => "text_length",
            Self::ControlInLine | Self::Control | Self::Bidi | Self::Invisible => "text_characters",
        }
    }
}

impl Text {
    /// Trims `input` and checks it against the rule: 1 to `max` characters, no control
    /// characters (but line breaks and tabs for [`Lines::Many`]).
    pub fn parse(input: &str, max: usize, lines: Lines) -> Result<Self, TextError> {
        let trimmed = input.trim();
        // The bound is on what was sent, as JSON Schema's `maxLength` counts it: a value the
        // contract calls too long is never taken because its padding was dropped.
        if trimmed.is_empty() || input.chars().count() > max {
            return Err(TextError::Length { max });
        }
        let allowed = |c: char| lines == Lines::Many && matches!(c, '\n' | '\r' | '\t');
        if trimmed.chars().any(|c| c.is_control() && !allowed(c)) {
            return Err(match lines {
                Lines::One => TextError::ControlInLine,
                Lines::Many => TextError::Control,
            });
        }
        if trimmed.chars().any(is_bidi_control) {
            return Err(TextError::Bidi);
        }
        if trimmed
            .chars()
            .all(|c| c.is_whitespace() || is_invisible(c))
        {
            return Err(TextError::Invisible);
        }
        Ok(Self(trimmed.to_string()))
    }

    /// A one-line text of at most `max` characters.
    pub fn line(input: &str, max: usize) -> Result<Self, TextError> {
        Self::parse(input, max, Lines::One)
    }

    /// A text of several lines of at most `max` characters.
    pub fn lines(input: &str, max: usize) -> Result<Self, TextError> {
        Self::parse(input, max, Lines::Many)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// The bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that take no visible space: zero-width spaces and joiners, direction marks, the
/// soft hyphen, the byte order mark, invisible operators and variation selectors.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2060}'..='\u{2064}'
            | '\u{206A}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{E0000}'..='\u{E007F}'
    ) || is_bidi_control(c)
}

/// `^` whitespace, `[^controls bidi]*`, one character that is neither whitespace, control nor
/// invisible, `[^controls bidi]*`, whitespace `$`: surrounding whitespace is trimmed before the
/// rule applies. Whitespace is Unicode's White_Space, written out (`\s` differs between engines).
macro_rules! text_pattern {
    ($controls:literal) => {
        concat!(
            r"^[\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*",
            r"[^",
            $controls,
            r"\u202A-\u202E\u2066-\u2069]*",
            r"[^\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000",
            $controls,
            r"\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F",
            r"\u202A-\u202E\u2060-\u2064\u2066-\u2069\u206A-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0]",
            r"[^",
            $controls,
            r"\u202A-\u202E\u2066-\u2069]*",
            r"[\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$"
        )
    };
}

/// The one-line rule as a JSON Schema pattern (ECMA-262, also read by Python's `re`), for the
/// contract: no control, bidi override or isolate character, and at least one character that is
/// neither whitespace nor invisible. The length (after trimming) is the field's `maxLength`.
/// Only the invisible tag characters U+E0000-U+E007F are beyond it: a pattern without the `u`
/// flag cannot name them.
pub const ONE_LINE_PATTERN: &str = text_pattern!(r"\u0000-\u001F\u007F-\u009F");

/// Text that is only whitespace: optional fields that read it as absent take it too.
pub const BLANK_PATTERN: &str =
    r"^[\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$";

/// [`ONE_LINE_PATTERN`] for fields of several lines: line breaks and tabs are allowed too.
pub const LINES_PATTERN: &str =
    text_pattern!(r"\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F");

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The contract's patterns say of every sample what the rule says (lengths aside).
    #[test]
    fn the_patterns_agree_with_the_rule() {
        let samples = [
            "Praktijk De Beweging",
            "  Jansen  ",
            "Zoë Çelik-Øster",
            "李",
            "",
            "   ",
            "\u{3000}\u{00A0}",
            "a\u{0007}b",
            "a\u{0081}",
            "\u{202E}cba",
            "a\u{2067}",
            "\u{200B}\u{200D}",
            "\u{FEFF}",
            "\u{00AD} \u{2060}",
            "x\u{200B}",
            "line one\nline two",
            "\tindented",
            "a\tb",
            "\u{001C}abc",
            "\u{3000}x\u{2029}",
            "x\u{0085}",
            "\r\n",
            "a\u{000B}b",
        ];
        for (pattern, lines) in [(ONE_LINE_PATTERN, Lines::One), (LINES_PATTERN, Lines::Many)] {
            let regex = regex::Regex::new(pattern).unwrap();
            for sample in samples {
                assert_eq!(
                    regex.is_match(sample),
                    Text::parse(sample, 1000, lines).is_ok(),
                    "{sample:?} ({lines:?})"
                );
            }
        }
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(
            Text::line("  Praktijk  ", 20).map(Text::into_string),
            Ok("Praktijk".into())
        );
        assert_eq!(Text::line("   ", 20), Err(TextError::Length { max: 20 }));
        assert_eq!(
            Text::line(&"é".repeat(21), 20),
            Err(TextError::Length { max: 20 })
        );
        assert!(Text::line(&"é".repeat(20), 20).is_ok());
        // Padding counts: the contract's maxLength is of the value as sent.
        assert_eq!(
            Text::line(&format!(" {}", "é".repeat(20)), 20),
            Err(TextError::Length { max: 20 })
        );
    }

    #[test]
    fn a_line_has_no_controls_and_lines_keep_breaks_and_tabs_only() {
        assert_eq!(Text::line("a\nb", 20), Err(TextError::ControlInLine));
        assert!(Text::lines("a\r\n\tb", 20).is_ok());
        assert_eq!(Text::lines("a\u{0}b", 20), Err(TextError::Control));
        assert_eq!(
            Text::lines("a\u{1b}b", 20).map_err(|e| e.code()),
            Err("text_characters")
        );
    }

    #[test]
    fn bidi_overrides_and_isolates_are_refused_in_any_field() {
        for c in ['\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}'] {
            assert_eq!(Text::line(&format!("a{c}b"), 20), Err(TextError::Bidi));
        }
        for c in ['\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}'] {
            assert_eq!(Text::lines(&format!("a{c}b"), 20), Err(TextError::Bidi));
        }
        assert_eq!(
            Text::line("gnp.exe\u{202E}", 20).map_err(|e| e.code()),
            Err("text_characters")
        );
    }

    #[test]
    fn text_of_only_zero_width_or_format_characters_is_refused() {
        assert_eq!(Text::line("\u{200B}", 20), Err(TextError::Invisible));
        assert_eq!(
            Text::line(" \u{200B}\u{200D}\u{FEFF}\u{2060} ", 20),
            Err(TextError::Invisible)
        );
        assert_eq!(
            Text::lines("\u{00AD}\n\u{200C}", 20),
            Err(TextError::Invisible)
        );
        assert_eq!(
            Text::line("\u{200B}", 20).map_err(|e| e.code()),
            Err("text_characters")
        );
        // A joiner inside a visible name is part of the name.
        assert!(Text::line("Jan\u{200D}sen", 20).is_ok());
    }
}
