//! Phone numbers from outside, checked and normalised to E.164 by the `phonenumber`
//! library (Google's libphonenumber metadata).

use crate::error::ApiError;
use std::fmt;

/// A valid phone number in E.164 form (`+14155550100`); the only way to make one is
/// [`PhoneNumber::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parse an international number (it must start with `+` and a country code).
    pub fn parse(input: &str) -> Result<Self, ApiError> {
        let invalid = || {
            ApiError::bad_request(
                "invalid_phone",
                "give the phone number in international form, e.g. +14155550100",
            )
        };
        let trimmed = input.trim();
        if trimmed.len() > 32 || !trimmed.starts_with('+') {
            return Err(invalid());
        }
        let number = phonenumber::parse(None, trimmed).map_err(|_| invalid())?;
        if !phonenumber::is_valid(&number) {
            return Err(invalid());
        }
        Ok(Self(
            number.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }

    /// The E.164 text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_spacing_and_punctuation() {
        let phone = PhoneNumber::parse(" +1 (415) 555-0100 ").map(|p| p.0);
        assert_eq!(phone.ok().as_deref(), Some("+14155550100"));
    }

    #[test]
    fn refuses_invalid_numbers() {
        for bad in [
            "",
            "4155550100",
            "+1",
            "+999123",
            "+1415555010012345678",
            "hello",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad} was accepted");
        }
    }
}
