//! Every status string in the StarShipIT contract notes (both tracking vocabularies and the
//! order statuses) maps through the generated table; case and separators are ignored.

use waybill_domain::TrackingStatus;
use waybill_starshipit::status_map;

const WEBHOOK: &str = "Printed, Dispatched, InTransit, OutForDelivery, Delivered, PickupInStore, AttemptedDelivery, Exception, AwaitingCollection, Cancelled";
const TRACK: &str = "Dispatched, In Transit, Attempted Delivery, Delivered";
const ORDER: &str = "Unshipped, Awaiting Dispatch, Printed, Shipped, Dispatched, Delivered";

fn list(s: &'static str) -> impl Iterator<Item = &'static str> {
    s.split(',').map(str::trim)
}

#[test]
fn every_contract_tracking_status_maps() {
    let mut n = 0;
    for raw in list(WEBHOOK).chain(list(TRACK)) {
        assert_ne!(status_map::unified(raw), TrackingStatus::Unknown, "{raw}");
        n += 1;
    }
    assert_eq!(n, 14);
    for raw in list(ORDER) {
        assert_ne!(status_map::unified_order_status(raw), TrackingStatus::Unknown, "{raw}");
    }
}

#[test]
fn spaced_and_pascal_case_spellings_agree() {
    for (a, b) in [
        ("In Transit", "InTransit"),
        ("Attempted Delivery", "AttemptedDelivery"),
        ("Out For Delivery", "OutForDelivery"),
        ("Pickup In Store", "PickupInStore"),
        ("Awaiting Collection", "AwaitingCollection"),
    ] {
        assert_eq!(status_map::unified(a), status_map::unified(b), "{a} vs {b}");
    }
    assert_eq!(status_map::unified("in_transit"), TrackingStatus::InTransit);
    assert_eq!(status_map::unified("  IN-TRANSIT "), TrackingStatus::InTransit);
    assert_eq!(status_map::unified("Teleported"), TrackingStatus::Unknown);
    assert_eq!(status_map::unified("Attempted Delivery"), TrackingStatus::AttemptFailed);
}
