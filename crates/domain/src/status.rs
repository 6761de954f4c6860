//! The unified tracking vocabulary every carrier's raw statuses map into.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a parcel is in its life, in one small vocabulary shared by all carriers. Variants
/// are declared in lifecycle order; raw carrier statuses map here through generated tables
/// (`specs/status-map/*.toml`), and a raw value no table knows maps to [`Unknown`] while the
/// event keeps the raw text.
///
/// [`Unknown`]: TrackingStatus::Unknown
///
/// ```
/// # use waybill_domain::TrackingStatus;
/// assert_eq!("in_transit".parse::<TrackingStatus>(), Ok(TrackingStatus::InTransit));
/// assert_eq!(TrackingStatus::CustomsHold.to_string(), "customs_hold");
/// assert!(TrackingStatus::Returned.is_terminal());
/// assert!(!TrackingStatus::AttemptFailed.is_terminal());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackingStatus {
    /// Announced to the carrier; the parcel has not reached it yet.
    Pending,
    /// The carrier holds the parcel's data and is preparing it (labels, declarations, sorting).
    InfoReceived,
    /// Moving between facilities.
    InTransit,
    /// Held by customs; needs action or time.
    CustomsHold,
    /// With a courier for final delivery.
    OutForDelivery,
    /// Waiting at a pickup point or locker for the recipient.
    AvailableForPickup,
    /// A delivery attempt failed; another attempt or a pickup usually follows.
    AttemptFailed,
    /// Delivered to the recipient (final).
    Delivered,
    /// Something went wrong that needs attention.
    Exception,
    /// Returned to the sender (final).
    Returned,
    /// Cancelled before delivery (final).
    Cancelled,
    /// A raw status no mapping table knows; the event keeps the raw text.
    Unknown,
}

impl TrackingStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [TrackingStatus; 12] = [
        Self::Pending,
        Self::InfoReceived,
        Self::InTransit,
        Self::CustomsHold,
        Self::OutForDelivery,
        Self::AvailableForPickup,
        Self::AttemptFailed,
        Self::Delivered,
        Self::Exception,
        Self::Returned,
        Self::Cancelled,
        Self::Unknown,
    ];

    /// The snake_case name used on the wire, in the store and in mapping tables.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::InfoReceived => "info_received",
            Self::InTransit => "in_transit",
            Self::CustomsHold => "customs_hold",
            Self::OutForDelivery => "out_for_delivery",
            Self::AvailableForPickup => "available_for_pickup",
            Self::AttemptFailed => "attempt_failed",
            Self::Delivered => "delivered",
            Self::Exception => "exception",
            Self::Returned => "returned",
            Self::Cancelled => "cancelled",
            Self::Unknown => "unknown",
        }
    }

    /// True once nothing more will happen to the parcel: delivered, returned or cancelled.
    #[must_use]
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Delivered | Self::Returned | Self::Cancelled)
    }

    /// How urgently a parcel in this status needs someone to act, most urgent first
    /// (`Some(0)`): an exception, a failed delivery attempt, a customs hold, a return. `None`
    /// for a parcel that is moving or done. An order shows its most urgent parcel's status,
    /// so one failed parcel is never hidden behind a moving one ([`Self::order_status`]).
    #[must_use]
    pub fn attention(self) -> Option<u8> {
        match self {
            Self::Exception => Some(0),
            Self::AttemptFailed => Some(1),
            Self::CustomsHold => Some(2),
            Self::Returned => Some(3),
            _ => None,
        }
    }

    /// An order's status from its parcels': the most urgent one needing attention, else the
    /// least advanced one (lifecycle order); `None` without parcels.
    ///
    /// ```
    /// # use waybill_domain::TrackingStatus as S;
    /// assert_eq!(S::order_status([S::InTransit, S::AttemptFailed]), Some(S::AttemptFailed));
    /// assert_eq!(S::order_status([S::Delivered, S::InTransit]), Some(S::InTransit));
    /// ```
    #[must_use]
    pub fn order_status(parcels: impl IntoIterator<Item = Self>) -> Option<Self> {
        parcels.into_iter().min_by_key(|s| s.order_rank())
    }

    /// The key [`Self::order_status`] takes the smallest of (the store computes the same in
    /// SQL from this value): attention first, then lifecycle position.
    #[must_use]
    pub fn order_rank(self) -> u16 {
        let lifecycle = Self::ALL.iter().position(|s| *s == self).unwrap_or(Self::ALL.len());
        let lifecycle = u16::try_from(lifecycle).unwrap_or(u16::MAX / 2);
        match self.attention() {
            Some(urgency) => u16::from(urgency),
            None => 100 + lifecycle,
        }
    }
}

impl fmt::Display for TrackingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not one of the unified status names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown unified status {0:?}: expected one of pending, info_received, in_transit, customs_hold, out_for_delivery, available_for_pickup, attempt_failed, delivered, exception, returned, cancelled, unknown"
)]
pub struct UnknownStatusName(pub String);

impl std::str::FromStr for TrackingStatus {
    type Err = UnknownStatusName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|st| st.as_str() == s).ok_or_else(|| UnknownStatusName(s.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_roundtrip_and_order_is_lifecycle() {
        for s in TrackingStatus::ALL {
            assert_eq!(s.as_str().parse::<TrackingStatus>(), Ok(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.as_str()));
        }
        assert!(TrackingStatus::ALL.windows(2).all(|w| w[0] < w[1]));
        assert!("Delivered".parse::<TrackingStatus>().is_err());
    }

    #[test]
    fn an_order_shows_the_parcel_that_needs_attention() {
        use TrackingStatus as S;
        assert_eq!(S::order_status([S::InTransit, S::AttemptFailed]), Some(S::AttemptFailed));
        assert_eq!(S::order_status([S::Delivered, S::Returned]), Some(S::Returned));
        assert_eq!(S::order_status([S::CustomsHold, S::Exception]), Some(S::Exception));
        assert_eq!(S::order_status([S::Delivered, S::InTransit, S::Pending]), Some(S::Pending));
        assert_eq!(S::order_status([S::Cancelled, S::InTransit]), Some(S::InTransit));
        assert_eq!(S::order_status([]), None);
        let mut ranks: Vec<u16> = S::ALL.iter().map(|s| s.order_rank()).collect();
        ranks.sort_unstable();
        ranks.dedup();
        assert_eq!(ranks.len(), S::ALL.len(), "a total order");
    }
}
