//! The finer, second level of tracking status: the milestone of the journey a parcel has
//! reached, in the order a journey passes them. A [`TrackingStatus`] says *how* the parcel is
//! doing (moving, held, failed attempt, needs attention); a [`Milestone`] says *where* in the
//! journey that is. Failed attempts, customs holds and exceptions are therefore statuses at a
//! milestone, not milestones of their own: a held parcel is `customs_hold` at `customs`.
//!
//! Every raw status of every carrier maps to one milestone in the same generated tables that
//! give its unified status (`specs/status-map/*.toml`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::TrackingStatus;

/// Where in its journey a parcel is. Variants are declared in journey order; [`rank`]
/// groups the alternatives of one stage (the last mile: a courier or a pickup point; the end:
/// delivered, returned or cancelled).
///
/// [`rank`]: Milestone::rank
///
/// ```
/// # use waybill_domain::Milestone;
/// assert_eq!("at_origin_hub".parse::<Milestone>(), Ok(Milestone::AtOriginHub));
/// assert!(Milestone::Linehaul.rank() > Milestone::AtOriginHub.rank());
/// assert_eq!(Milestone::OutForDelivery.rank(), Milestone::AtPickupPoint.rank());
/// assert_eq!(Milestone::Unknown.rank(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Milestone {
    /// The order is announced; no label and no parcel yet.
    Announced,
    /// A label exists and the carrier has the data, not the parcel.
    LabelCreated,
    /// A carrier collected the parcel (its first scan in custody).
    PickedUp,
    /// Moving before the main carrier's origin hub (the first leg), or with a carrier that
    /// reports no finer stage.
    InTransit,
    /// In the main carrier's origin hub: received, sorted, declared for export, bagged.
    AtOriginHub,
    /// Between countries or regions: dispatched, departed, arrived at a terminal.
    Linehaul,
    /// In the destination's customs clearance (held or not).
    Customs,
    /// At the destination hub, handed on towards the recipient or a pickup point.
    AtDestinationHub,
    /// With a courier for delivery (including failed attempts and re-attempts).
    OutForDelivery,
    /// At a pickup point or locker, waiting for the recipient.
    AtPickupPoint,
    /// Delivered (final).
    Delivered,
    /// Returned to the sender (final).
    Returned,
    /// Cancelled before delivery (final).
    Cancelled,
    /// A raw status no table knows: it says nothing about progress.
    Unknown,
}

impl Milestone {
    /// Every milestone, in journey order.
    pub const ALL: [Milestone; 14] = [
        Self::Announced,
        Self::LabelCreated,
        Self::PickedUp,
        Self::InTransit,
        Self::AtOriginHub,
        Self::Linehaul,
        Self::Customs,
        Self::AtDestinationHub,
        Self::OutForDelivery,
        Self::AtPickupPoint,
        Self::Delivered,
        Self::Returned,
        Self::Cancelled,
        Self::Unknown,
    ];

    /// The steps a progress stepper shows, in order (one per rank; the last mile and the end
    /// are shown by whichever alternative the parcel took).
    pub const STEPS: [Milestone; 9] = [
        Self::LabelCreated,
        Self::PickedUp,
        Self::InTransit,
        Self::AtOriginHub,
        Self::Linehaul,
        Self::Customs,
        Self::AtDestinationHub,
        Self::OutForDelivery,
        Self::Delivered,
    ];

    /// The snake_case name used on the wire, in the store and in mapping tables.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Announced => "announced",
            Self::LabelCreated => "label_created",
            Self::PickedUp => "picked_up",
            Self::InTransit => "in_transit",
            Self::AtOriginHub => "at_origin_hub",
            Self::Linehaul => "linehaul",
            Self::Customs => "customs",
            Self::AtDestinationHub => "at_destination_hub",
            Self::OutForDelivery => "out_for_delivery",
            Self::AtPickupPoint => "at_pickup_point",
            Self::Delivered => "delivered",
            Self::Returned => "returned",
            Self::Cancelled => "cancelled",
            Self::Unknown => "unknown",
        }
    }

    /// The milestone for people, e.g. "At the origin hub".
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Announced => "Order announced",
            Self::LabelCreated => "Label created",
            Self::PickedUp => "Picked up",
            Self::InTransit => "On its way to the hub",
            Self::AtOriginHub => "At the origin hub",
            Self::Linehaul => "In linehaul",
            Self::Customs => "Customs",
            Self::AtDestinationHub => "At the destination hub",
            Self::OutForDelivery => "Out for delivery",
            Self::AtPickupPoint => "At the pickup point",
            Self::Delivered => "Delivered",
            Self::Returned => "Returned to sender",
            Self::Cancelled => "Cancelled",
            Self::Unknown => "Update",
        }
    }

    /// How far along the journey this is: the forward-only rule's order (see
    /// [`Timeline::latest`](crate::Timeline::latest)). Alternatives of one stage share a rank
    /// (out for delivery / at a pickup point; delivered / returned / cancelled), so the newer
    /// of them decides. `None` for [`Milestone::Unknown`], which never moves a parcel.
    #[must_use]
    pub fn rank(self) -> Option<u8> {
        Some(match self {
            Self::Announced => 0,
            Self::LabelCreated => 1,
            Self::PickedUp => 2,
            Self::InTransit => 3,
            Self::AtOriginHub => 4,
            Self::Linehaul => 5,
            Self::Customs => 6,
            Self::AtDestinationHub => 7,
            Self::OutForDelivery | Self::AtPickupPoint => 8,
            Self::Delivered | Self::Returned | Self::Cancelled => 9,
            Self::Unknown => return None,
        })
    }

    /// The milestone an event gets when its source named none (events stored before
    /// milestones existed, or built by code that only knows the unified status): the coarsest
    /// honest reading of the status.
    #[must_use]
    pub fn from_status(status: TrackingStatus) -> Self {
        match status {
            TrackingStatus::Pending => Self::Announced,
            TrackingStatus::InfoReceived => Self::LabelCreated,
            TrackingStatus::InTransit | TrackingStatus::Exception => Self::InTransit,
            TrackingStatus::CustomsHold => Self::Customs,
            TrackingStatus::OutForDelivery | TrackingStatus::AttemptFailed => Self::OutForDelivery,
            TrackingStatus::AvailableForPickup => Self::AtPickupPoint,
            TrackingStatus::Delivered => Self::Delivered,
            TrackingStatus::Returned => Self::Returned,
            TrackingStatus::Cancelled => Self::Cancelled,
            TrackingStatus::Unknown => Self::Unknown,
        }
    }

    /// The unified statuses a raw status at this milestone may map to; codegen refuses a
    /// table that pairs them otherwise, so, for one, a parcel in custody (picked up or
    /// further) is never `info_received`.
    #[must_use]
    pub fn allowed_statuses(self) -> &'static [TrackingStatus] {
        use TrackingStatus as S;
        match self {
            Self::Announced => &[S::Pending, S::Exception, S::Cancelled],
            Self::LabelCreated => &[S::InfoReceived, S::Exception],
            Self::PickedUp | Self::InTransit | Self::AtOriginHub | Self::Linehaul => {
                &[S::InTransit, S::Exception]
            }
            Self::Customs => &[S::InTransit, S::CustomsHold, S::Exception],
            Self::AtDestinationHub => &[S::InTransit, S::Exception],
            Self::OutForDelivery => {
                &[S::OutForDelivery, S::AttemptFailed, S::InTransit, S::Exception]
            }
            Self::AtPickupPoint => &[S::AvailableForPickup, S::InTransit, S::Exception],
            Self::Delivered => &[S::Delivered],
            Self::Returned => &[S::Returned],
            Self::Cancelled => &[S::Cancelled],
            Self::Unknown => &[S::Unknown],
        }
    }
}

impl fmt::Display for Milestone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not one of the milestone names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown milestone {0:?}: expected one of announced, label_created, picked_up, in_transit, at_origin_hub, linehaul, customs, at_destination_hub, out_for_delivery, at_pickup_point, delivered, returned, cancelled, unknown"
)]
pub struct UnknownMilestoneName(pub String);

impl std::str::FromStr for Milestone {
    type Err = UnknownMilestoneName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| UnknownMilestoneName(s.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_roundtrip_and_ranks_follow_declaration_order() {
        for m in Milestone::ALL {
            assert_eq!(m.as_str().parse::<Milestone>(), Ok(m));
            assert_eq!(serde_json::to_string(&m).unwrap(), format!("\"{}\"", m.as_str()));
        }
        let ranked: Vec<u8> = Milestone::ALL.iter().filter_map(|m| m.rank()).collect();
        assert!(ranked.windows(2).all(|w| w[0] <= w[1]), "{ranked:?}");
        assert!(Milestone::STEPS.windows(2).all(|w| w[0].rank() < w[1].rank()));
        assert!("Delivered".parse::<Milestone>().is_err());
    }

    #[test]
    fn the_coarse_reading_of_a_status_is_allowed_for_it() {
        for s in TrackingStatus::ALL {
            assert!(Milestone::from_status(s).allowed_statuses().contains(&s), "{s}");
        }
    }

    #[test]
    fn custody_is_never_info_received() {
        for m in Milestone::ALL.into_iter().filter(|m| m.rank() >= Milestone::PickedUp.rank()) {
            assert!(!m.allowed_statuses().contains(&TrackingStatus::InfoReceived), "{m}");
            assert!(!m.allowed_statuses().contains(&TrackingStatus::Pending), "{m}");
        }
    }
}
