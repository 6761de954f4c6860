//! The Starmile status-pool page (`GET /api/v1/partner/changes`), as the client decodes it.
#![no_main]
libfuzzer_sys::fuzz_target!(|body: &[u8]| {
    let _ = waybill_starmile::decode_changes_page(body);
});
