//! Parcel weight, in whole grams (what both carriers' records use).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::ParseError;

/// A positive weight in grams, at most [`Weight::MAX_GRAMS`] (one tonne: anything heavier
/// is a typo, not a parcel).
///
/// ```
/// # use waybill_domain::Weight;
/// assert_eq!(Weight::from_grams(1500)?.to_string(), "1.500 kg");
/// assert!(Weight::from_grams(0).is_err());
/// assert_eq!("2.5kg".parse::<Weight>()?.grams(), 2500);
/// assert_eq!("750g".parse::<Weight>()?.grams(), 750);
/// # Ok::<(), waybill_domain::ParseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Weight(u32);

impl Weight {
    /// The heaviest accepted weight, in grams.
    pub const MAX_GRAMS: u32 = 1_000_000;

    /// A weight in grams.
    ///
    /// # Errors
    /// [`ParseError::Invalid`] for zero or more than [`Weight::MAX_GRAMS`].
    pub fn from_grams(grams: u32) -> Result<Self, ParseError> {
        if grams == 0 || grams > Self::MAX_GRAMS {
            return Err(ParseError::Invalid {
                what: "weight",
                value: format!("{grams} g"),
                rule: "must be between 1 g and 1000 kg",
            });
        }
        Ok(Self(grams))
    }

    /// The weight in grams.
    #[must_use]
    pub fn grams(self) -> u32 {
        self.0
    }
}

impl std::str::FromStr for Weight {
    type Err = ParseError;

    /// Accepts `1500`, `1500g` (grams) or `1.5kg` (kilograms, up to 3 decimals).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParseError::Invalid {
            what: "weight",
            value: s.into(),
            rule: "write grams (1500 or 1500g) or kilograms (1.5kg)",
        };
        let t = s.trim().to_ascii_lowercase();
        let grams = if let Some(kg) = t.strip_suffix("kg") {
            let (whole, frac) = kg.trim().split_once('.').unwrap_or((kg.trim(), ""));
            if frac.len() > 3 || whole.is_empty() || !frac.chars().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            let whole: u32 = whole.parse().map_err(|_| bad())?;
            let frac_g: u32 = if frac.is_empty() {
                0
            } else {
                format!("{frac:0<3}").parse().map_err(|_| bad())?
            };
            whole.checked_mul(1000).and_then(|g| g.checked_add(frac_g)).ok_or_else(bad)?
        } else {
            t.strip_suffix('g').unwrap_or(&t).trim().parse().map_err(|_| bad())?
        };
        Self::from_grams(grams)
    }
}

impl fmt::Display for Weight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03} kg", self.0 / 1000, self.0 % 1000)
    }
}

impl<'de> Deserialize<'de> for Weight {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::from_grams(u32::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn grams_in_range_are_accepted(g in 1u32..=Weight::MAX_GRAMS) {
            let w = Weight::from_grams(g).unwrap();
            prop_assert_eq!(w.grams(), g);
            prop_assert_eq!(format!("{g}g").parse::<Weight>().unwrap(), w);
            let kg = format!("{}.{:03}kg", g / 1000, g % 1000);
            prop_assert_eq!(kg.parse::<Weight>().unwrap(), w);
        }

        #[test]
        fn out_of_range_is_rejected(g in (Weight::MAX_GRAMS + 1)..) {
            prop_assert!(Weight::from_grams(g).is_err());
        }

        #[test]
        fn garbage_is_rejected(s in "[a-z ]{1,8}") {
            prop_assume!(s.trim() != "g" );
            prop_assert!(s.parse::<Weight>().is_err());
        }
    }
}
