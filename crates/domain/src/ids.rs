//! Parsed identifiers: every one is a newtype with a private field whose constructor rejects
//! malformed input with a [`ParseError`] naming the field and the rule it broke.
//!
//! None of them trims: a value with leading or trailing whitespace is refused, never
//! silently cleaned. A carrier that trims `" PO-1 "` to `PO-1` would otherwise answer with
//! `PO-1`'s order while waybill stored a second, phantom one under the untrimmed text.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// Why a value could not be parsed into a domain type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The value was empty (or only whitespace).
    #[error("{what} must not be empty")]
    Empty {
        /// Which kind of value was being parsed.
        what: &'static str,
    },
    /// The value was longer than allowed.
    #[error("{what} must be at most {max} characters, got {len}")]
    TooLong {
        /// Which kind of value was being parsed.
        what: &'static str,
        /// The maximum length in characters.
        max: usize,
        /// The length that was given.
        len: usize,
    },
    /// The value contained a character that is not allowed.
    #[error("{what} contains {found:?}, which is not allowed ({rule})")]
    BadChar {
        /// Which kind of value was being parsed.
        what: &'static str,
        /// The offending character.
        found: char,
        /// The rule, in words.
        rule: &'static str,
    },
    /// The value did not have the expected shape.
    #[error("{what} {value:?} is invalid: {rule}")]
    Invalid {
        /// Which kind of value was being parsed.
        what: &'static str,
        /// The rejected input.
        value: String,
        /// The rule, in words.
        rule: &'static str,
    },
}

/// The rule broken by a value with whitespace around it.
const NO_SURROUNDING_WHITESPACE: &str = "remove the leading or trailing whitespace";

/// Refuses a value with leading or trailing whitespace (of any kind: spaces, tabs, newlines,
/// Unicode spaces), naming the rule.
fn check_untrimmed(what: &'static str, raw: &str) -> Result<(), ParseError> {
    if raw.trim() != raw {
        return Err(ParseError::Invalid {
            what,
            value: raw.into(),
            rule: NO_SURROUNDING_WHITESPACE,
        });
    }
    Ok(())
}

fn check_text(
    what: &'static str,
    raw: &str,
    max: usize,
    allowed: impl Fn(char) -> bool,
    rule: &'static str,
) -> Result<(), ParseError> {
    if raw.trim().is_empty() {
        return Err(ParseError::Empty { what });
    }
    check_untrimmed(what, raw)?;
    let len = raw.chars().count();
    if len > max {
        return Err(ParseError::TooLong { what, max, len });
    }
    if let Some(found) = raw.chars().find(|c| !allowed(*c)) {
        return Err(ParseError::BadChar { what, found, rule });
    }
    Ok(())
}

fn is_code_char(c: char) -> bool {
    c.is_ascii_graphic()
}

fn is_reference_char(c: char) -> bool {
    !c.is_control() && c != '\u{7f}'
}

macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:expr, $allowed:path, $rule:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The longest accepted value, in characters.
            pub const MAX_LEN: usize = $max;

            /// Parses a value, rejecting empty, over-long or malformed input.
            ///
            /// # Errors
            /// [`ParseError`] naming the rule the input broke.
            pub fn parse(raw: impl Into<String>) -> Result<Self, ParseError> {
                let raw = raw.into();
                check_text($what, &raw, $max, $allowed, $rule)?;
                Ok(Self(raw))
            }

            /// The value as text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = ParseError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(s)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(s).map_err(serde::de::Error::custom)
            }
        }
    };
}

text_id!(
    /// The partner's own order reference (the Starmile spec's `external_parent_id`), e.g.
    /// `PO-10294`. Up to 100 characters, no control characters, no whitespace around it
    /// (inner spaces are fine); `/` is allowed (adapters percent-encode it in paths).
    ///
    /// ```
    /// # use waybill_domain::PartnerOrderRef;
    /// assert!(PartnerOrderRef::parse("PO-10294").is_ok());
    /// assert!(PartnerOrderRef::parse("PO 10294").is_ok());
    /// assert!(PartnerOrderRef::parse("").is_err());
    /// let e = PartnerOrderRef::parse(" PO-1 ").unwrap_err().to_string();
    /// assert!(e.contains("leading or trailing whitespace"), "{e}");
    /// ```
    PartnerOrderRef, "partner order reference", 100, is_reference_char, "control characters are not allowed"
);

text_id!(
    /// The code on a parcel's sticker, chosen by the merchant (`merchant_tracking_number`),
    /// e.g. `TRK-1`. Up to 64 printable ASCII characters, no spaces.
    ///
    /// ```
    /// # use waybill_domain::MerchantTrackingNumber;
    /// assert!(MerchantTrackingNumber::parse("TRK-1").is_ok());
    /// assert!(MerchantTrackingNumber::parse("TRK 1").is_err());
    /// ```
    MerchantTrackingNumber, "merchant tracking number", 64, is_code_char, "use printable ASCII without spaces"
);

text_id!(
    /// A carrier's tracking number for an order or a parcel, e.g. `STM000124` or
    /// `0000000000`. Up to 64 printable ASCII characters, no spaces.
    ///
    /// ```
    /// # use waybill_domain::TrackingNumber;
    /// assert_eq!(TrackingNumber::parse("0000000000")?.as_str(), "0000000000");
    /// # Ok::<(), waybill_domain::ParseError>(())
    /// ```
    TrackingNumber, "tracking number", 64, is_code_char, "use printable ASCII without spaces"
);

/// A carrier service's identifier, as the carrier numbers it (Starmile's `service_id`).
/// Always positive.
///
/// ```
/// # use waybill_domain::ServiceId;
/// assert_eq!(ServiceId::new(5)?.get(), 5);
/// assert!(ServiceId::new(0).is_err());
/// assert_eq!("7".parse::<ServiceId>()?.get(), 7);
/// # Ok::<(), waybill_domain::ParseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ServiceId(u32);

impl ServiceId {
    /// Builds a service id from a number, rejecting zero.
    ///
    /// # Errors
    /// [`ParseError::Invalid`] for zero.
    pub fn new(id: u32) -> Result<Self, ParseError> {
        if id == 0 {
            return Err(ParseError::Invalid {
                what: "service id",
                value: "0".into(),
                rule: "must be a positive integer",
            });
        }
        Ok(Self(id))
    }

    /// The number.
    #[must_use]
    pub fn get(self) -> u32 {
        self.0
    }
}

impl std::str::FromStr for ServiceId {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        check_untrimmed("service id", s)?;
        let n: u32 = s.parse().map_err(|_| ParseError::Invalid {
            what: "service id",
            value: s.into(),
            rule: "must be a positive integer",
        })?;
        Self::new(n)
    }
}

impl fmt::Display for ServiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<'de> Deserialize<'de> for ServiceId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::new(u32::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Which carrier an event or identifier belongs to: a lowercase slug such as `starmile`.
/// New carriers need no change here: any slug of `a-z`, `0-9`, `-`, `_` (1–32) parses.
///
/// ```
/// # use waybill_domain::CarrierId;
/// assert_eq!(CarrierId::parse("starmile")?.as_str(), "starmile");
/// assert!(CarrierId::parse("DHL Express").is_err());
/// # Ok::<(), waybill_domain::ParseError>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct CarrierId(std::borrow::Cow<'static, str>);

impl CarrierId {
    /// Parses a carrier slug.
    ///
    /// # Errors
    /// [`ParseError`] when empty, longer than 32, or not a lowercase slug.
    pub fn parse(raw: impl Into<String>) -> Result<Self, ParseError> {
        let raw = raw.into();
        check_text(
            "carrier id",
            &raw,
            32,
            |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_',
            "use lowercase letters, digits, '-' or '_'",
        )?;
        Ok(Self(raw.into()))
    }

    /// A carrier id written in the source, checked when it is compiled: an adapter declares
    /// its own id this way (`pub const CARRIER_ID: CarrierId = CarrierId::from_static("starmile")`),
    /// so the domain itself names no carrier.
    ///
    /// # Panics
    /// At compile time (in a `const`) when `slug` is not a lowercase slug of 1 to 32 bytes.
    #[must_use]
    pub const fn from_static(slug: &'static str) -> Self {
        let bytes = slug.as_bytes();
        assert!(!bytes.is_empty() && bytes.len() <= 32, "a carrier id has 1 to 32 bytes");
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
            assert!(
                c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'_',
                "a carrier id uses lowercase letters, digits, '-' or '_'"
            );
            i += 1;
        }
        Self(std::borrow::Cow::Borrowed(slug))
    }

    /// The slug.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CarrierId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CarrierId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CarrierId({:?})", self.0)
    }
}

impl<'de> Deserialize<'de> for CarrierId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// An ISO 3166-1 alpha-2 country code, upper-cased on parse (`au` → `AU`).
///
/// ```
/// # use waybill_domain::CountryCode;
/// assert_eq!(CountryCode::parse("au")?.as_str(), "AU");
/// assert!(CountryCode::parse("AUS").is_err());
/// # Ok::<(), waybill_domain::ParseError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Parses a two-letter code, case-insensitively.
    ///
    /// # Errors
    /// [`ParseError::Invalid`] unless the input is exactly two ASCII letters.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        check_untrimmed("country code", raw)?;
        let bytes = raw.as_bytes();
        match bytes {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Ok(Self([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
            }
            _ => Err(ParseError::Invalid {
                what: "country code",
                value: raw.into(),
                rule: "must be two letters (ISO 3166-1 alpha-2)",
            }),
        }
    }

    /// The code, upper case.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII letters by construction.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountryCode({})", self.as_str())
    }
}

impl Serialize for CountryCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn printable_codes_are_accepted(s in "[!-~]{1,64}") {
            let tn = TrackingNumber::parse(s.clone()).unwrap();
            prop_assert_eq!(tn.as_str(), s.as_str());
            let mtn = MerchantTrackingNumber::parse(s.clone()).unwrap();
            prop_assert_eq!(mtn.as_str(), s.as_str());
        }

        #[test]
        fn codes_with_whitespace_are_rejected(a in "[A-Z0-9]{1,10}", b in "[A-Z0-9]{1,10}", ws in "[ \t\n]") {
            let raw = format!("{a}{ws}{b}");
            let is_bad_char = matches!(TrackingNumber::parse(raw), Err(ParseError::BadChar { .. }));
            prop_assert!(is_bad_char);
        }

        #[test]
        fn over_long_codes_are_rejected(s in "[A-Z]{65,100}") {
            let is_too_long = matches!(TrackingNumber::parse(s), Err(ParseError::TooLong { max: 64, .. }));
            prop_assert!(is_too_long);
        }

        #[test]
        fn references_accept_unicode_but_not_controls(s in "[\\PC]{1,100}", c in "[\\x00-\\x1f]") {
            prop_assume!(!s.trim().is_empty() && s.trim() == s);
            prop_assert!(PartnerOrderRef::parse(s.clone()).is_ok());
            let with_control = format!("{s}{c}");
            prop_assert!(PartnerOrderRef::parse(with_control).is_err());
        }

        /// Every identifier refuses whitespace around it, whatever the whitespace, and says so.
        #[test]
        fn identifiers_refuse_surrounding_whitespace(
            core in "[A-Za-z0-9-]{1,20}",
            ws in prop::sample::select(vec![" ", "\t", "\n", "\r", "\u{a0}", "\u{2003}", "\u{3000}"]),
            leading in any::<bool>(),
        ) {
            let raw = if leading { format!("{ws}{core}") } else { format!("{core}{ws}") };
            let lower = raw.to_ascii_lowercase();
            let errors = [
                PartnerOrderRef::parse(raw.clone()).err(),
                MerchantTrackingNumber::parse(raw.clone()).err(),
                TrackingNumber::parse(raw.clone()).err(),
                CarrierId::parse(lower).err(),
            ];
            for e in errors {
                let e = e.map(|e| e.to_string()).unwrap_or_default();
                prop_assert!(e.contains("leading or trailing whitespace"), "{raw:?}: {e}");
            }
            let digits = if leading { format!("{ws}7") } else { format!("7{ws}") };
            let e = digits.parse::<ServiceId>().map(|_| ()).unwrap_err().to_string();
            prop_assert!(e.contains("leading or trailing whitespace"), "{digits:?}: {e}");
            let country = if leading { format!("{ws}AU") } else { format!("AU{ws}") };
            let e = CountryCode::parse(&country).map(|_| ()).unwrap_err().to_string();
            prop_assert!(e.contains("leading or trailing whitespace"), "{country:?}: {e}");
        }

        #[test]
        fn references_with_inner_spaces_are_accepted(a in "[A-Z0-9]{1,10}", b in "[A-Z0-9]{1,10}") {
            let raw = format!("{a} {b}");
            let parsed = PartnerOrderRef::parse(raw.clone())?;
            prop_assert_eq!(parsed.as_str(), raw.as_str());
        }

        #[test]
        fn service_ids_roundtrip_through_text(n in 1u32..) {
            prop_assert_eq!(n.to_string().parse::<ServiceId>()?.get(), n);
        }

        #[test]
        fn country_codes_need_exactly_two_letters(s in "[a-zA-Z]{0,5}") {
            let parsed = CountryCode::parse(&s);
            prop_assert_eq!(parsed.is_ok(), s.len() == 2);
        }

        #[test]
        fn carrier_ids_are_lowercase_slugs(s in "[a-z0-9_-]{1,32}", upper in "[A-Z ]{1,3}") {
            prop_assert!(CarrierId::parse(s.clone()).is_ok());
            let bad = format!("{s}{upper}");
            prop_assert!(CarrierId::parse(bad).is_err());
        }
    }

    #[test]
    fn empty_values_name_the_field() {
        let err = PartnerOrderRef::parse("  ").unwrap_err();
        assert_eq!(err.to_string(), "partner order reference must not be empty");
        assert!(ServiceId::new(0).is_err());
        assert!("abc".parse::<ServiceId>().is_err());
    }

    #[test]
    fn deserialize_rejects_invalid_values() {
        assert!(serde_json::from_str::<TrackingNumber>("\"a b\"").is_err());
        assert!(serde_json::from_str::<ServiceId>("0").is_err());
        assert_eq!(serde_json::from_str::<ServiceId>("7").unwrap().get(), 7);
    }
}
