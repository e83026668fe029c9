//! Free text a person types (names, remarks, reasons): one rule for every field. Surrounding
//! whitespace is dropped; the rest has 1 to `max` characters and no control characters (PostgreSQL
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
        let length = trimmed.chars().count();
        if length == 0 || length > max {
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
mod tests {
    use super::*;

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
