//! StarShipIT webhook deliveries: the body parser, each payload's event, and the signature
//! check (the first line of the input is the signature header, the rest the body).
#![no_main]
use secrecy::SecretString;
use waybill_starshipit::webhook;
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(events) = webhook::parse(data) {
        let now = jiff::Timestamp::UNIX_EPOCH;
        for e in &events {
            let _ = e.to_event(now);
        }
    }
    let (header, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &data[..0]),
    };
    let secret = SecretString::from("whsec-fuzz");
    let header = std::str::from_utf8(header).ok();
    let _ = webhook::verify(Some(&secret), body, header);
    let _ = webhook::verify(None, body, header);
});
