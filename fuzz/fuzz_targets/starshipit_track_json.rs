//! StarShipIT `GET /api/track` JSON answers under any HTTP status, by number and by order.
#![no_main]
use waybill_domain::{TrackQuery, TrackingNumber};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (status, body) = match data.split_first() {
        Some((&b, rest)) if b < 16 => (400 + u16::from(b) * 10, rest),
        _ => (200, data),
    };
    let number = TrackQuery::TrackingNumber(TrackingNumber::parse("TRK-1").expect("valid"));
    let order = TrackQuery::OrderNumber("PO-1".into());
    let _ = waybill_starshipit::decode_track_json(&number, body);
    let _ = waybill_starshipit::fuzzing::decode_track(&order, status, Some("application/json"), body);
});
