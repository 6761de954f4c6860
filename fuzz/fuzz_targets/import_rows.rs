//! Import files: CSV and JSONL rows read and grouped into orders (the first byte picks the
//! format).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (ext, body) = match data.split_first() {
        Some((&b, rest)) if b % 2 == 0 => ("csv", rest),
        Some((_, rest)) => ("jsonl", rest),
        None => ("csv", data),
    };
    let _ = waybill_engine::import::read_orders(ext, body);
});
