//! StarShipIT `GET /api/track` XML answers under any HTTP status.
#![no_main]
use waybill_domain::{TrackQuery, TrackingNumber};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (status, body) = match data.split_first() {
        Some((&b, rest)) if b < 16 => (400 + u16::from(b) * 10, rest),
        _ => (200, data),
    };
    let number = TrackQuery::TrackingNumber(TrackingNumber::parse("TRK-1").expect("valid"));
    let _ = waybill_starshipit::fuzzing::decode_track(&number, status, Some("application/xml"), body);
});
