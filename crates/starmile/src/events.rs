//! Inbound events, a Starmile capability: a partner that handles a package as a carrier
//! (`shipment.*`, scope `events:transport`), a pickup point (`parcel.*`, `events:pudo`), a
//! customs broker (`customs.*`, `events:customs`) or the next leg's organisation (`leg.*`,
//! `leg:handoff`) reports what happened with `POST /api/v1/partner/events`.
//!
//! Every type accepts a fixed set of `data` fields plus the universal `note`; an
//! [`InboundEvent`] refuses unknown types and fields before anything is sent. Starmile
//! answers `200 {"result":"applied","order_status":…}`; an event that is not a legal next
//! step for the package answers `422` with `error` and `hint` ([`Error::Rejected`]). The
//! `event_id` is the partner's idempotency key: a replay answers `result: duplicate` and
//! changes nothing. Never retried unless the caller opts in ([`StarmileClient::retry`]).

use std::{collections::BTreeMap, fmt};

use reqwest::Method;
use waybill_domain::TrackingNumber;

use crate::{Error, RequestKind, StarmileClient, transport::Call, wire};

/// Why an inbound event was refused before it was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// Not an event type Starmile recognises.
    #[error("unknown event type {0:?}: use one of {list}", list = EventType::names().join(", "))]
    UnknownType(String),
    /// A `data` field the type does not accept.
    #[error("event {kind} does not accept the data field {field:?}; allowed: {allowed}")]
    UnknownField {
        /// The event type.
        kind: EventType,
        /// The refused field.
        field: String,
        /// The fields it accepts, comma-separated.
        allowed: String,
    },
    /// The idempotency key is unusable.
    #[error("event id {0:?} is invalid: use 1 to 100 printable characters without spaces")]
    BadEventId(String),
}

impl From<EventError> for Error {
    fn from(e: EventError) -> Self {
        Error::Config(e.to_string())
    }
}

macro_rules! event_types {
    ($($variant:ident = $name:literal, $scope:literal, [$($field:literal),*];)*) => {
        /// Every inbound event type Starmile recognises (v1).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum EventType {
            $(
                #[doc = concat!("`", $name, "` (scope `", $scope, "`).")]
                $variant,
            )*
        }

        impl EventType {
            /// Every type, in the contract's order.
            pub const ALL: &'static [EventType] = &[$(Self::$variant),*];

            /// The wire name, e.g. `shipment.delivered`.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $name),* }
            }

            /// The OAuth scope a credential needs to report it (by family).
            #[must_use]
            pub fn scope(self) -> &'static str {
                match self { $(Self::$variant => $scope),* }
            }

            /// The `data` fields it accepts, `note` first (every type accepts `note`).
            #[must_use]
            pub fn data_fields(self) -> &'static [&'static str] {
                match self { $(Self::$variant => &["note", $($field),*]),* }
            }
        }
    };
}

event_types! {
    ShipmentAcceptedByCarrier = "shipment.accepted_by_carrier", "events:transport", ["carrier_reference", "awb"];
    ShipmentArrivedAtTerminal = "shipment.arrived_at_terminal", "events:transport", ["terminal"];
    ShipmentOutForDelivery = "shipment.out_for_delivery", "events:transport", ["driver", "eta"];
    ShipmentDelivered = "shipment.delivered", "events:transport", ["recipient_name", "signed_by", "proof_of_delivery"];
    ShipmentDeliveryFailed = "shipment.delivery_failed", "events:transport", ["reason", "attempt"];
    ShipmentReturned = "shipment.returned", "events:transport", ["reason"];
    ParcelAccepted = "parcel.accepted", "events:pudo", ["point_code", "shelf"];
    ParcelRackedAtHub = "parcel.parcel_racked_at_hub", "events:pudo", ["point_code"];
    ParcelReceived = "parcel.received", "events:pudo", ["point_code"];
    ParcelDelivered = "parcel.delivered", "events:pudo", ["recipient_name", "signed_by", "proof_of_delivery"];
    ParcelTimeout = "parcel.timeout", "events:pudo", [];
    ParcelDropoffCancelled = "parcel.dropoff_cancelled", "events:pudo", ["reason"];
    CustomsHeld = "customs.held", "events:customs", ["reason", "reference"];
    LegReceived = "leg.received", "leg:handoff", ["reference"];
    LegOutForDelivery = "leg.out_for_delivery", "leg:handoff", ["driver", "eta"];
    LegDelivered = "leg.delivered", "leg:handoff", ["recipient_name", "signed_by", "proof_of_delivery"];
    LegDeliveryFailed = "leg.delivery_failed", "leg:handoff", ["reason", "attempt"];
    LegReturned = "leg.returned", "leg:handoff", ["reason"];
}

impl EventType {
    /// Every wire name.
    #[must_use]
    pub fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|t| t.as_str()).collect()
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for EventType {
    type Err = EventError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| EventError::UnknownType(s.to_owned()))
    }
}

/// An inbound event, checked against its type's contract on construction.
///
/// ```
/// use waybill_starmile::{EventType, InboundEvent};
/// use waybill_domain::TrackingNumber;
/// let tn = TrackingNumber::parse("STM000124")?;
/// let event = InboundEvent::new(EventType::ShipmentOutForDelivery, tn.clone(), "evt-0001")?
///     .with("driver", "Driver A")?
///     .with("eta", "2026-06-28T09:00:00Z")?;
/// assert_eq!(event.kind().scope(), "events:transport");
/// assert!(InboundEvent::new(EventType::ParcelTimeout, tn, "evt-2")?.with("reason", "x").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct InboundEvent {
    kind: EventType,
    tracking_number: TrackingNumber,
    event_id: String,
    occurred_at: Option<jiff::Timestamp>,
    data: BTreeMap<&'static str, serde_json::Value>,
}

impl InboundEvent {
    /// An event of `kind` about the package `tracking_number`, keyed by the partner's
    /// idempotency key `event_id`.
    ///
    /// # Errors
    /// [`EventError::BadEventId`] for an empty, over-long or spaced key.
    pub fn new(
        kind: EventType,
        tracking_number: TrackingNumber,
        event_id: &str,
    ) -> Result<Self, EventError> {
        let ok = !event_id.is_empty()
            && event_id.chars().count() <= 100
            && event_id.chars().all(|c| c.is_ascii_graphic());
        if !ok {
            return Err(EventError::BadEventId(event_id.to_owned()));
        }
        Ok(Self {
            kind,
            tracking_number,
            event_id: event_id.to_owned(),
            occurred_at: None,
            data: BTreeMap::new(),
        })
    }

    /// Sets one `data` field.
    ///
    /// # Errors
    /// [`EventError::UnknownField`] for a field the type does not accept.
    pub fn with(
        mut self,
        field: &str,
        value: impl Into<serde_json::Value>,
    ) -> Result<Self, EventError> {
        let allowed = self.kind.data_fields();
        let Some(name) = allowed.iter().find(|f| **f == field) else {
            return Err(EventError::UnknownField {
                kind: self.kind,
                field: field.to_owned(),
                allowed: allowed.join(", "),
            });
        };
        self.data.insert(name, value.into());
        Ok(self)
    }

    /// When it happened (sent as RFC 3339); Starmile uses the time it received it otherwise.
    #[must_use]
    pub fn occurred_at(mut self, at: jiff::Timestamp) -> Self {
        self.occurred_at = Some(at);
        self
    }

    /// The type.
    #[must_use]
    pub fn kind(&self) -> EventType {
        self.kind
    }

    /// The package.
    #[must_use]
    pub fn tracking_number(&self) -> &TrackingNumber {
        &self.tracking_number
    }

    /// The idempotency key.
    #[must_use]
    pub fn event_id(&self) -> &str {
        &self.event_id
    }
}

/// What Starmile did with an accepted event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventOutcome {
    /// `applied`, or `duplicate` for a replayed `event_id`.
    pub result: String,
    /// The package's status afterwards, when reported.
    pub order_status: Option<String>,
}

impl StarmileClient {
    /// Reports an inbound event (`POST /api/v1/partner/events`).
    ///
    /// # Errors
    /// [`Error::Rejected`] (not a legal next step: Starmile's `error` and `hint`),
    /// [`Error::Validation`] (malformed fields), [`Error::Forbidden`] (no scope for the
    /// type's family), [`Error::NotFound`] (unknown package).
    pub async fn report_event(&self, event: &InboundEvent) -> Result<EventOutcome, Error> {
        let body = wire::ReportEvent {
            event_id: &event.event_id,
            kind: event.kind.as_str(),
            tracking_number: event.tracking_number.as_str(),
            occurred_at: event.occurred_at.map(|t| t.to_string()),
            data: &event.data,
        };
        let call =
            Call::send(Method::POST, "/api/v1/partner/events".into(), &body, RequestKind::Write)?;
        let answer: wire::EventAnswer = self.call_json(call).await?;
        let answer = match answer.data {
            Some(inner) if answer.result.is_none() => *inner,
            _ => answer,
        };
        Ok(EventOutcome {
            result: answer.result.unwrap_or_else(|| "applied".into()),
            order_status: answer.order_status,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_know_their_scope_and_fields() {
        assert_eq!(EventType::ALL.len(), 18);
        assert_eq!(EventType::CustomsHeld.scope(), "events:customs");
        assert_eq!(EventType::ParcelReceived.scope(), "events:pudo");
        assert_eq!(EventType::LegReceived.scope(), "leg:handoff");
        assert_eq!(
            EventType::ShipmentDelivered.data_fields(),
            ["note", "recipient_name", "signed_by", "proof_of_delivery"]
        );
        assert_eq!(EventType::ParcelTimeout.data_fields(), ["note"]);
        for t in EventType::ALL {
            assert_eq!(t.as_str().parse::<EventType>(), Ok(*t));
            let family = t.as_str().split('.').next().unwrap();
            let scope = match family {
                "shipment" => "events:transport",
                "parcel" => "events:pudo",
                "customs" => "events:customs",
                _ => "leg:handoff",
            };
            assert_eq!(t.scope(), scope, "{t}");
        }
        let e = "shipment.teleported".parse::<EventType>().unwrap_err();
        assert!(e.to_string().contains("shipment.delivered"), "{e}");
        assert!(
            InboundEvent::new(
                EventType::ParcelTimeout,
                TrackingNumber::parse("S1").unwrap(),
                "a b"
            )
            .is_err()
        );
    }
}
