//! Free text a person types (names, remarks, reasons): one rule for every field. Surrounding
//! whitespace is dropped; the rest has 1 to `max` characters and no control characters (PostgreSQL
//! cannot store NUL, and stray controls break exports), except line breaks and tabs where the
//! field allows several lines.

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
}

impl CodedError for TextError {
    fn code(&self) -> &'static str {
        match self {
            Self::Length { .. } => "text_length",
            Self::ControlInLine | Self::Control => "text_characters",
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
}
