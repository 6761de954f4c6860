//! Starmile's services and rates answers, as the client decodes them.
#![no_main]
libfuzzer_sys::fuzz_target!(|body: &[u8]| {
    let _ = waybill_starmile::fuzzing::decode_services(body);
    let _ = waybill_starmile::fuzzing::decode_rates(body);
});
