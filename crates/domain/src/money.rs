//! Money: an exact decimal amount with an ISO 4217 currency. Never a float; arithmetic that
//! would mix currencies is refused.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use crate::ParseError;

/// An ISO 4217 currency code such as `AUD` (three upper-case letters; parsing upper-cases).
///
/// ```
/// # use waybill_domain::Currency;
/// assert_eq!(Currency::parse("aud")?.as_str(), "AUD");
/// assert!(Currency::parse("AU").is_err());
/// # Ok::<(), waybill_domain::ParseError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    /// Parses a three-letter code, case-insensitively.
    ///
    /// # Errors
    /// [`ParseError::Invalid`] unless the input is exactly three ASCII letters.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        match raw.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii_alphabetic()) => {
                Ok(Self([a.to_ascii_uppercase(), b.to_ascii_uppercase(), c.to_ascii_uppercase()]))
            }
            _ => Err(ParseError::Invalid {
                what: "currency",
                value: raw.into(),
                rule: "must be a three-letter ISO 4217 code such as AUD",
            }),
        }
    }

    /// The code, upper case.
    #[must_use]
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.as_str())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Why a money operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// The two amounts are in different currencies.
    #[error("cannot combine {left} with {right}: convert to one currency first")]
    CurrencyMismatch {
        /// The currency of the left operand.
        left: Currency,
        /// The currency of the right operand.
        right: Currency,
    },
    /// The amount is negative where only non-negative amounts make sense.
    #[error("amount {0} must not be negative")]
    Negative(Decimal),
    /// The result does not fit in a decimal.
    #[error("amount overflowed")]
    Overflow,
}

/// An exact amount in one currency. Serialized as `{"amount":"12.50","currency":"AUD"}`
/// (the amount as a string, so no JSON reader rounds it through a float).
///
/// ```
/// # use waybill_domain::{Money, Currency};
/// # use rust_decimal::Decimal;
/// let aud = Currency::parse("AUD")?;
/// let a = Money::new(Decimal::new(1250, 2), aud)?;
/// let b = Money::new(Decimal::new(50, 2), aud)?;
/// assert_eq!(a.checked_add(&b)?.to_string(), "13.00 AUD");
/// let usd = Money::new(Decimal::ONE, Currency::parse("USD")?)?;
/// assert!(a.checked_add(&usd).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "MoneyWire")]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

#[derive(Deserialize)]
struct MoneyWire {
    amount: Decimal,
    currency: Currency,
}

impl TryFrom<MoneyWire> for Money {
    type Error = MoneyError;
    fn try_from(w: MoneyWire) -> Result<Self, Self::Error> {
        Self::new(w.amount, w.currency)
    }
}

impl Money {
    /// A non-negative amount in a currency.
    ///
    /// # Errors
    /// [`MoneyError::Negative`] for a negative amount.
    pub fn new(amount: Decimal, currency: Currency) -> Result<Self, MoneyError> {
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(MoneyError::Negative(amount));
        }
        Ok(Self { amount, currency })
    }

    /// Zero in a currency.
    #[must_use]
    pub fn zero(currency: Currency) -> Self {
        Self { amount: Decimal::ZERO, currency }
    }

    /// The amount.
    #[must_use]
    pub fn amount(&self) -> Decimal {
        self.amount
    }

    /// The currency.
    #[must_use]
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The sum of two amounts of the same currency.
    ///
    /// # Errors
    /// [`MoneyError::CurrencyMismatch`] when the currencies differ; [`MoneyError::Overflow`].
    pub fn checked_add(&self, other: &Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let amount = self.amount.checked_add(other.amount).ok_or(MoneyError::Overflow)?;
        Ok(Money { amount, currency: self.currency })
    }

    /// This amount times a whole quantity.
    ///
    /// # Errors
    /// [`MoneyError::Overflow`].
    pub fn checked_mul(&self, quantity: u32) -> Result<Money, MoneyError> {
        let amount =
            self.amount.checked_mul(Decimal::from(quantity)).ok_or(MoneyError::Overflow)?;
        Ok(Money { amount, currency: self.currency })
    }

    /// Compares two amounts of the same currency.
    ///
    /// # Errors
    /// [`MoneyError::CurrencyMismatch`] when the currencies differ.
    pub fn try_cmp(&self, other: &Money) -> Result<std::cmp::Ordering, MoneyError> {
        self.same_currency(other)?;
        Ok(self.amount.cmp(&other.amount))
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch { left: self.currency, right: other.currency })
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2} {}", self.amount, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn currency() -> impl Strategy<Value = Currency> {
        prop_oneof![Just("AUD"), Just("USD"), Just("NZD"), Just("EUR")]
            .prop_map(|c| Currency::parse(c).unwrap())
    }

    proptest! {
        #[test]
        fn addition_never_mixes_currencies(a in 0i64..1_000_000, b in 0i64..1_000_000, ca in currency(), cb in currency()) {
            let x = Money::new(Decimal::new(a, 2), ca).unwrap();
            let y = Money::new(Decimal::new(b, 2), cb).unwrap();
            match x.checked_add(&y) {
                Ok(sum) => {
                    prop_assert_eq!(ca, cb);
                    prop_assert_eq!(sum.currency(), ca);
                    prop_assert_eq!(sum.amount(), Decimal::new(a + b, 2));
                }
                Err(MoneyError::CurrencyMismatch { left, right }) => {
                    prop_assert_ne!(ca, cb);
                    prop_assert_eq!((left, right), (ca, cb));
                }
                Err(e) => prop_assert!(false, "unexpected {e}"),
            }
            prop_assert_eq!(x.try_cmp(&y).is_ok(), ca == cb);
        }

        #[test]
        fn negative_amounts_are_rejected(a in 1i64..1_000_000) {
            let is_negative = matches!(Money::new(Decimal::new(-a, 2), Currency::parse("AUD").unwrap()), Err(MoneyError::Negative(_)));
            prop_assert!(is_negative);
        }

        #[test]
        fn currency_parse_accepts_exactly_three_letters(s in "[a-zA-Z0-9]{0,5}") {
            let ok = s.len() == 3 && s.chars().all(|c| c.is_ascii_alphabetic());
            prop_assert_eq!(Currency::parse(&s).is_ok(), ok);
        }

        #[test]
        fn money_roundtrips_through_json(a in 0i64..1_000_000_000, c in currency()) {
            let m = Money::new(Decimal::new(a, 2), c).unwrap();
            let json = serde_json::to_string(&m).unwrap();
            prop_assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), m);
        }
    }

    #[test]
    fn money_serializes_amount_as_string() {
        let m = Money::new(Decimal::new(1250, 2), Currency::parse("AUD").unwrap()).unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"amount":"12.50","currency":"AUD"}"#);
        assert!(serde_json::from_str::<Money>(r#"{"amount":"-1","currency":"AUD"}"#).is_err());
    }
}
