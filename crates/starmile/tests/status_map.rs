//! Every raw status and reason code in the Starmile contract notes maps through the generated
//! table (the list below is copied verbatim from `shared/contracts/starmile.md`).

use waybill_domain::{Milestone, TrackingStatus};
use waybill_starmile::status_map;

const CONTRACT_STATUSES: &str = "waiting_for_arrival, waiting_for_pickup, waiting_for_drop_off, pickup_failed, dropoff_cancelled,
cancelled, returned, order_created, payment_confirmed, order_cancelled, received_at_hub, matched,
customer_info_requested, customer_info_confirmed, consolidation_racked, consolidation_stuffed,
consolidation_ready, consolidation_picked, Consolidated, accepted_at_hub, declaration_pushed,
declaration_confirmed, sorted, batch_created, bag_created, bag_stuffed, bag_closed, batch_closed,
shipment_created, shipment_stuffed, ready_for_dispatch, parcel_racked_at_hub,
parcel_stuffed_at_hub, dispatched-from_hub, loading_in_progress, in_transit, discharging,
picked_up, out_for_delivery, delivered, delivery_failed, forwarded_to_destination,
handed_over_to_pudo, arrived_at_terminal, customs_in_progress, customs_completed,
transport_document_entered, customs_released, departed, customs_hold, customs_hold_resolved,
received_at_pudo, dispatched_from_pudo, accepted_at_pudo, parcel_racked_at_pudo,
parcel_stuffed_at_pudo, undelivered";

fn contract_statuses() -> Vec<&'static str> {
    CONTRACT_STATUSES.split(',').map(str::trim).collect()
}

#[test]
fn all_57_contract_statuses_map_to_a_known_unified_status() {
    let statuses = contract_statuses();
    assert_eq!(statuses.len(), 57);
    for raw in &statuses {
        let unified = status_map::unified(raw);
        assert_ne!(unified, TrackingStatus::Unknown, "{raw} is unmapped");
        assert!(status_map::STATUSES.iter().any(|(r, s)| r == raw && *s == unified), "{raw}");
    }
    assert_eq!(status_map::STATUSES.len(), 57, "the table lists exactly the contract's statuses");
}

#[test]
fn every_contract_status_has_a_milestone_and_a_sentence() {
    for raw in contract_statuses() {
        assert_ne!(status_map::milestone(raw), Milestone::Unknown, "{raw} has no milestone");
        let sentence = status_map::describe(raw).unwrap_or_default();
        assert!(sentence.ends_with('.') && sentence.len() > 10, "{raw}: {sentence:?}");
    }
    assert_eq!(status_map::describe("teleported"), None);
}

#[test]
fn matching_is_exact_and_unknown_values_pass_as_unknown() {
    // Hub processing is custody: in transit at the origin hub, never info_received.
    assert_eq!(status_map::unified("Consolidated"), TrackingStatus::InTransit);
    assert_eq!(status_map::milestone("Consolidated"), Milestone::AtOriginHub);
    assert_eq!(status_map::unified("consolidated"), TrackingStatus::Unknown);
    assert_eq!(status_map::unified("dispatched-from_hub"), TrackingStatus::InTransit);
    assert_eq!(status_map::unified("teleported"), TrackingStatus::Unknown);
}

#[test]
fn terminal_statuses_are_the_final_ones() {
    for raw in ["delivered", "returned", "cancelled", "order_cancelled", "dropoff_cancelled"] {
        assert!(status_map::unified(raw).is_terminal(), "{raw}");
    }
    for raw in ["delivery_failed", "customs_hold", "undelivered", "waiting_for_arrival"] {
        assert!(!status_map::unified(raw).is_terminal(), "{raw}");
    }
}

#[test]
fn contract_reason_codes_are_known() {
    let reasons = [
        (
            "customs_hold",
            "missing_declaration, inaccurate_information, prohibited_content_restricted_item, commercial_quantity_personal_allowance_exceeded",
        ),
        (
            "delivery_failed",
            "customer_absent, address_not_found, customer_refused, could_not_reach_customer, wrong_or_incomplete_address, otp_verification_failed, contact_info_incorrect, reschedule_requested, pudo_pickup_requested, courier_unable_to_deliver, customer_no_answer",
        ),
        ("cancelled", "cancelled_by_partner, cancelled_by_customer, cancelled_by_operator"),
    ];
    let mut count = 0;
    for (status, codes) in reasons {
        for code in codes.split(',').map(str::trim) {
            assert!(status_map::is_known_reason(status, code), "{status}/{code}");
            assert!(status_map::describe_reason(status, code).is_some(), "{status}/{code}");
            count += 1;
        }
    }
    assert_eq!(count, 18);
    assert!(!status_map::is_known_reason("customs_hold", "customer_absent"));
}
