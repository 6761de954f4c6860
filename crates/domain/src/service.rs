//! Carrier services and their rate cards: weight tiers priced per corridor, and the pure
//! quote function.

use serde::{Deserialize, Serialize};

use crate::{CountryCode, Currency, Money, ServiceId, Weight};

/// A service a partner may order, as its carrier lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// The id to send when ordering.
    pub id: ServiceId,
    /// Display name, e.g. `Express`.
    pub name: String,
    /// The carrier's flow key, e.g. `cb3_cross_border_terminal_hd`, when given.
    pub flow_key: Option<String>,
    /// `cross_border` or `domestic`, when given.
    pub family: Option<String>,
}

/// One weight tier: parcels up to and including `max_weight` cost `price`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateTier {
    /// The heaviest parcel this tier covers (inclusive).
    pub max_weight: Weight,
    /// The price of one parcel in this tier.
    pub price: Money,
}

/// Why a rate card could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateCardError {
    /// A card needs at least one tier.
    #[error("rate card for service {0} has no tiers")]
    NoTiers(ServiceId),
    /// Tiers must be strictly ascending by weight.
    #[error("rate card for service {0}: tiers must be strictly ascending by max weight")]
    Unordered(ServiceId),
    /// Every tier must be priced in the card's currency.
    #[error("rate card for service {service}: tier priced in {found}, card is in {expected}")]
    MixedCurrency {
        /// The service.
        service: ServiceId,
        /// The card's currency.
        expected: Currency,
        /// The currency found in a tier.
        found: Currency,
    },
}

/// Why a quote could not be given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuoteError {
    /// The parcel is heavier than the card's heaviest tier.
    #[error("{weight} exceeds the heaviest tier ({max}) of service {service}")]
    TooHeavy {
        /// The service.
        service: ServiceId,
        /// The weight asked about.
        weight: Weight,
        /// The heaviest tier.
        max: Weight,
    },
}

/// The price list of one service on one corridor, in weight tiers.
///
/// ```
/// # use waybill_domain::*;
/// # use rust_decimal::Decimal;
/// let aud = Currency::parse("AUD")?;
/// let tier = |g, cents| Ok::<_, Box<dyn std::error::Error>>(RateTier {
///     max_weight: Weight::from_grams(g)?, price: Money::new(Decimal::new(cents, 2), aud)?,
/// });
/// let card = RateCard::new(ServiceId::new(7)?, CountryCode::parse("AU")?,
///     Some(CountryCode::parse("NZ")?), aud, vec![tier(500, 950)?, tier(2000, 1800)?])?;
/// assert_eq!(card.quote(Weight::from_grams(501)?)?.to_string(), "18.00 AUD");
/// assert!(card.quote(Weight::from_grams(2001)?).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateCard {
    service_id: ServiceId,
    origin: CountryCode,
    destination: Option<CountryCode>,
    currency: Currency,
    tiers: Vec<RateTier>,
}

impl RateCard {
    /// Builds a card, checking its tiers are non-empty, strictly ascending and in one currency.
    ///
    /// # Errors
    /// [`RateCardError`] naming the broken rule.
    pub fn new(
        service_id: ServiceId,
        origin: CountryCode,
        destination: Option<CountryCode>,
        currency: Currency,
        tiers: Vec<RateTier>,
    ) -> Result<Self, RateCardError> {
        if tiers.is_empty() {
            return Err(RateCardError::NoTiers(service_id));
        }
        if tiers.windows(2).any(|w| w[0].max_weight >= w[1].max_weight) {
            return Err(RateCardError::Unordered(service_id));
        }
        if let Some(t) = tiers.iter().find(|t| t.price.currency() != currency) {
            return Err(RateCardError::MixedCurrency {
                service: service_id,
                expected: currency,
                found: t.price.currency(),
            });
        }
        Ok(Self { service_id, origin, destination, currency, tiers })
    }

    /// The service priced.
    #[must_use]
    pub fn service_id(&self) -> ServiceId {
        self.service_id
    }

    /// Where parcels start.
    #[must_use]
    pub fn origin(&self) -> CountryCode {
        self.origin
    }

    /// Where parcels go, when the card is for one destination.
    #[must_use]
    pub fn destination(&self) -> Option<CountryCode> {
        self.destination
    }

    /// The card's currency.
    #[must_use]
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The tiers, ascending by weight.
    #[must_use]
    pub fn tiers(&self) -> &[RateTier] {
        &self.tiers
    }

    /// The price of one parcel: the first tier whose max weight covers it.
    ///
    /// # Errors
    /// [`QuoteError::TooHeavy`] when no tier covers the weight.
    pub fn quote(&self, weight: Weight) -> Result<Money, QuoteError> {
        self.tiers.iter().find(|t| weight <= t.max_weight).map(|t| t.price).ok_or_else(|| {
            QuoteError::TooHeavy {
                service: self.service_id,
                weight,
                max: self.tiers.last().map_or(weight, |t| t.max_weight),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    fn card(maxes: &[u32]) -> Result<RateCard, RateCardError> {
        let aud = Currency::parse("AUD").unwrap();
        let tiers = maxes
            .iter()
            .enumerate()
            .map(|(i, g)| RateTier {
                max_weight: Weight::from_grams(*g).unwrap(),
                price: Money::new(Decimal::from(i as u32 + 1), aud).unwrap(),
            })
            .collect();
        RateCard::new(
            ServiceId::new(1).unwrap(),
            CountryCode::parse("AU").unwrap(),
            None,
            aud,
            tiers,
        )
    }

    proptest! {
        #[test]
        fn quote_picks_the_lightest_covering_tier(mut maxes in proptest::collection::btree_set(1u32..50_000, 1..6), w in 1u32..60_000) {
            let maxes: Vec<u32> = std::mem::take(&mut maxes).into_iter().collect();
            let card = card(&maxes).unwrap();
            let weight = Weight::from_grams(w).unwrap();
            match card.quote(weight) {
                Ok(price) => {
                    let idx = maxes.iter().position(|m| w <= *m).unwrap();
                    prop_assert_eq!(price.amount(), Decimal::from(idx as u32 + 1));
                }
                Err(QuoteError::TooHeavy { .. }) => prop_assert!(w > *maxes.last().unwrap()),
            }
        }
    }

    #[test]
    fn cards_reject_bad_tiers() {
        assert!(matches!(card(&[]), Err(RateCardError::NoTiers(_))));
        assert!(matches!(card(&[500, 500]), Err(RateCardError::Unordered(_))));
        let aud = Currency::parse("AUD").unwrap();
        let usd = Currency::parse("USD").unwrap();
        let tier = RateTier { max_weight: Weight::from_grams(5).unwrap(), price: Money::zero(usd) };
        let mixed = RateCard::new(
            ServiceId::new(1).unwrap(),
            CountryCode::parse("AU").unwrap(),
            None,
            aud,
            vec![tier],
        );
        assert!(matches!(mixed, Err(RateCardError::MixedCurrency { .. })));
    }
}
