//! The sandbox's inbound-event rules: which raw status each event type moves a package to,
//! and from which statuses that is a legal next step. An illegal event is refused with an
//! `error` (what is wrong) and a `hint` (what to report first), as Starmile does.
//!
//! | event | moves the package to | legal after |
//! |---|---|---|
//! | `shipment.accepted_by_carrier` | `in_transit` | `ready_for_dispatch`, `dispatched-from_hub` |
//! | `shipment.arrived_at_terminal` | `arrived_at_terminal` | `in_transit` |
//! | `shipment.out_for_delivery`, `leg.out_for_delivery` | `out_for_delivery` | `arrived_at_terminal`, `customs_released`, `forwarded_to_destination`, `delivery_failed` |
//! | `shipment.delivered`, `leg.delivered` | `delivered` | `out_for_delivery` |
//! | `shipment.delivery_failed`, `leg.delivery_failed` | `delivery_failed` | `out_for_delivery` |
//! | `shipment.returned`, `leg.returned` | `returned` | `delivery_failed`, `undelivered` |
//! | `parcel.parcel_racked_at_hub` | `parcel_racked_at_hub` | `received_at_hub`, `accepted_at_hub` |
//! | `parcel.received` | `received_at_pudo` | `forwarded_to_destination`, `handed_over_to_pudo` |
//! | `parcel.accepted` | `accepted_at_pudo` | `received_at_pudo` |
//! | `parcel.delivered` | `delivered` | `received_at_pudo`, `accepted_at_pudo` |
//! | `parcel.timeout` | `undelivered` | `accepted_at_pudo` |
//! | `parcel.dropoff_cancelled` | `dropoff_cancelled` | `waiting_for_arrival` |
//! | `customs.held` | `customs_hold` | `arrived_at_terminal`, `customs_in_progress` |
//! | `leg.received` | `forwarded_to_destination` | `dispatched-from_hub`, `in_transit`, `arrived_at_terminal`, `customs_released` |
//!
//! A package in a final status (`delivered`, `returned`, `cancelled`,
//! `dropoff_cancelled`) accepts nothing more.

use super::lifecycle::Status;
use crate::EventType;

/// Where an event moves a package, and from where.
pub(crate) struct Rule {
    pub(crate) to: Status,
    pub(crate) after: &'static [Status],
}

/// The rule of an event type.
pub(crate) fn rule(kind: EventType) -> Rule {
    use EventType as E;
    use Status as S;
    let (to, after): (Status, &'static [Status]) = match kind {
        E::ShipmentAcceptedByCarrier => {
            (S::InTransit, &[S::ReadyForDispatch, S::DispatchedFromHub])
        }
        E::ShipmentArrivedAtTerminal => (S::ArrivedAtTerminal, &[S::InTransit]),
        E::ShipmentOutForDelivery | E::LegOutForDelivery => (
            S::OutForDelivery,
            &[
                S::ArrivedAtTerminal,
                S::CustomsReleased,
                S::ForwardedToDestination,
                S::DeliveryFailed,
            ],
        ),
        E::ShipmentDelivered | E::LegDelivered => (S::Delivered, &[S::OutForDelivery]),
        E::ShipmentDeliveryFailed | E::LegDeliveryFailed => {
            (S::DeliveryFailed, &[S::OutForDelivery])
        }
        E::ShipmentReturned | E::LegReturned => (S::Returned, &[S::DeliveryFailed, S::Undelivered]),
        E::ParcelRackedAtHub => (S::ParcelRackedAtHub, &[S::ReceivedAtHub, S::AcceptedAtHub]),
        E::ParcelReceived => (S::ReceivedAtPudo, &[S::ForwardedToDestination, S::HandedOverToPudo]),
        E::ParcelAccepted => (S::AcceptedAtPudo, &[S::ReceivedAtPudo]),
        E::ParcelDelivered => (S::Delivered, &[S::ReceivedAtPudo, S::AcceptedAtPudo]),
        E::ParcelTimeout => (S::Undelivered, &[S::AcceptedAtPudo]),
        E::ParcelDropoffCancelled => (S::DropoffCancelled, &[S::WaitingForArrival]),
        E::CustomsHeld => (S::CustomsHold, &[S::ArrivedAtTerminal, S::CustomsInProgress]),
        E::LegReceived => (
            S::ForwardedToDestination,
            &[S::DispatchedFromHub, S::InTransit, S::ArrivedAtTerminal, S::CustomsReleased],
        ),
    };
    Rule { to, after }
}

/// Whether nothing may follow `status`.
pub(crate) fn is_final(status: Status) -> bool {
    matches!(
        status,
        Status::Delivered | Status::Returned | Status::Cancelled | Status::DropoffCancelled
    )
}

/// Checks `kind` against the package's current status: the new status, or the `error` and
/// `hint` of the refusal.
pub(crate) fn next(kind: EventType, current: Status) -> Result<Status, (String, String)> {
    let rule = rule(kind);
    if !is_final(current) && rule.after.contains(&current) {
        return Ok(rule.to);
    }
    let error = format!("{kind} is not a legal next step from {}.", current.name());
    let hint = if is_final(current) {
        format!("The package is already {}; nothing more can be reported.", current.name())
    } else {
        let firsts: Vec<String> = EventType::ALL
            .iter()
            .filter(|t| rule.after.iter().any(|s| rule_to(**t) == *s))
            .map(ToString::to_string)
            .collect();
        let wanted: Vec<&str> = rule.after.iter().map(|s| s.name()).collect();
        if firsts.is_empty() {
            format!("Report it once the package is {}.", wanted.join(" or "))
        } else {
            format!(
                "Report it once the package is {}: e.g. report {} first.",
                wanted.join(" or "),
                firsts.join(" or ")
            )
        }
    };
    Err((error, hint))
}

fn rule_to(kind: EventType) -> Status {
    rule(kind).to
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legal_steps_advance_and_illegal_ones_explain_themselves() {
        assert_eq!(
            next(EventType::ShipmentDelivered, Status::OutForDelivery),
            Ok(Status::Delivered)
        );
        let (error, hint) = next(EventType::ShipmentDelivered, Status::ReceivedAtHub).unwrap_err();
        assert_eq!(error, "shipment.delivered is not a legal next step from received_at_hub.");
        assert!(hint.contains("shipment.out_for_delivery"), "{hint}");
        let (_, hint) = next(EventType::ShipmentDeliveryFailed, Status::Delivered).unwrap_err();
        assert!(hint.contains("already delivered"), "{hint}");
        for kind in EventType::ALL {
            let rule = rule(*kind);
            assert!(!rule.after.is_empty(), "{kind} has a way in");
            for from in rule.after {
                assert_eq!(next(*kind, *from), Ok(rule.to));
            }
        }
    }
}
