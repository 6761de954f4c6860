//! The fuzz targets' inputs in normal CI, bounded: arbitrary bytes, and byte-level mutations
//! of real fixtures (the Starmile pool page, StarShipIT track answers and webhooks, an
//! import file, a configuration), through the same entry points `cargo fuzz` drives
//! (fuzz/fuzz_targets). Each asserts only that nothing panics; proptest prints the input
//! that did. The long runs live in `fuzz/` (see fuzz/README.md).

use std::path::PathBuf;

use proptest::prelude::*;
use waybill_domain::{TrackQuery, TrackingNumber};

fn fixture(path: &str) -> Vec<u8> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::read(root.join(path)).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

const STARSHIPIT: &[&str] = &[
    "crates/starshipit/tests/fixtures/track-results-array.json",
    "crates/starshipit/tests/fixtures/track-sample-spec.json",
    "crates/starshipit/tests/fixtures/track-in-transit-with-url.json",
    "crates/starshipit/tests/fixtures/error-general-exception.json",
    "crates/starshipit/tests/fixtures/error-gateway-429.json",
    "crates/starshipit/tests/fixtures/real-world/track-dartapi-results-object.json",
    "crates/starshipit/tests/fixtures/real-world/track-dartapi-results-array.json",
];

const WEBHOOKS: &[&str] = &[
    "crates/starshipit/tests/fixtures/webhook-documented.json",
    "crates/starshipit/tests/fixtures/webhook-captured.json",
    "crates/starshipit/tests/fixtures/real-world/webhook-bushpop-events-delivered.json",
    "crates/starshipit/tests/fixtures/real-world/webhook-bedrock-sample-AUS.json",
    "crates/starshipit/tests/fixtures/real-world/webhook-express-comment.json",
];

const TRACK_XML: &str = "<TrackResponse><success>true</success><results><shipment><tracking_number>TRK-1</tracking_number><order_number>PO-1</order_number><tracking_status>InTransit</tracking_status><tracking_events><tracking_event><event_date>2026-06-20T09:14:00</event_date><status>Scanned</status></tracking_event></tracking_events></shipment></results></TrackResponse>";

const CSV: &str = "reference,service_id,merchant_tracking_number,weight\nPO-1,5,TRK-1,1.5kg\nPO-1,5,TRK-2,\nPO-2,7,TRK-3,750g\n";
const JSONL: &str = "{\"reference\":\"PO-1\",\"service_id\":5,\"merchant_tracking_number\":\"T1\",\"weight\":500}\n{\"reference\":\"PO-2\",\"service_id\":\"7\",\"merchant_tracking_number\":\"T2\"}\n";
const CONFIG: &str = "[store]\npath = \"w.db\"\n\n[[starmile.accounts]]\nname = \"main\"\nbase_url = \"https://api.starmile.io\"\nclient_id = \"partner-1\"\n\n[starshipit]\nbase_url = \"https://api.starshipit.com\"\nrate_limit_per_second = 2\n\n[sync]\npoll_interval_seconds = 5\n\n[serve]\nlisten = \"127.0.0.1:8088\"\nheader_read_timeout_seconds = 10\nmax_connections = 4096\n";

/// A fixture with up to eight bytes overwritten, inserted or removed.
fn mutated(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let n = seeds.len();
    (0..n, prop::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 0..8)).prop_map(
        move |(i, edits)| {
            let mut bytes = seeds[i].clone();
            for (at, byte, op) in edits {
                let at = if bytes.is_empty() { 0 } else { at % bytes.len() };
                match op {
                    0 if !bytes.is_empty() => bytes[at] = byte,
                    1 => bytes.insert(at, byte),
                    _ if !bytes.is_empty() => {
                        bytes.remove(at);
                    }
                    _ => {}
                }
            }
            bytes
        },
    )
}

fn bytes_or_mutation(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![prop::collection::vec(any::<u8>(), 0..512), mutated(seeds)]
}

fn number() -> TrackQuery {
    TrackQuery::TrackingNumber(TrackingNumber::parse("TRK-1").expect("valid"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_starmile_pool_page_and_catalogue_never_panic(
        body in bytes_or_mutation(vec![fixture("crates/starmile/benches/fixtures/pool-page-200.json")])
    ) {
        let _ = waybill_starmile::decode_changes_page(&body);
        let _ = waybill_starmile::fuzzing::decode_services(&body);
        let _ = waybill_starmile::fuzzing::decode_rates(&body);
    }

    #[test]
    fn starshipit_track_answers_never_panic(
        body in bytes_or_mutation(STARSHIPIT.iter().map(|p| fixture(p)).chain([TRACK_XML.as_bytes().to_vec()]).collect()),
        status in prop_oneof![Just(200u16), Just(401), Just(404), Just(429), Just(502), 100u16..600],
    ) {
        let _ = waybill_starshipit::decode_track_json(&number(), &body);
        let order = TrackQuery::OrderNumber("PO-1".into());
        for content_type in [Some("application/json"), Some("application/xml"), None] {
            let _ = waybill_starshipit::fuzzing::decode_track(&order, status, content_type, &body);
        }
    }

    #[test]
    fn starshipit_webhooks_and_signatures_never_panic(
        body in bytes_or_mutation(WEBHOOKS.iter().map(|p| fixture(p)).collect()),
        header in proptest::option::of("\\PC{0,80}"),
    ) {
        use waybill_starshipit::webhook;
        if let Ok(events) = webhook::parse(&body) {
            for e in &events {
                let _ = e.to_event(jiff::Timestamp::UNIX_EPOCH);
            }
        }
        let secret = secrecy::SecretString::from("whsec-smoke");
        let _ = webhook::verify(Some(&secret), &body, header.as_deref());
        let signed = webhook::sign(&secret, &body);
        prop_assert!(webhook::verify(Some(&secret), &body, Some(&signed)).is_ok());
    }

    #[test]
    fn import_rows_never_panic(
        body in bytes_or_mutation(vec![CSV.as_bytes().to_vec(), JSONL.as_bytes().to_vec()]),
    ) {
        let _ = waybill_engine::import::read_orders("csv", &body);
        let _ = waybill_engine::import::read_orders("jsonl", &body);
    }

    #[test]
    fn configuration_files_never_panic(body in bytes_or_mutation(vec![CONFIG.as_bytes().to_vec()])) {
        use figment::{Figment, providers::{Format, Serialized, Toml}};
        let text = String::from_utf8_lossy(&body);
        let parsed: Result<waybill::config::Config, _> = Figment::from(Serialized::defaults(
            waybill::config::Config::default(),
        ))
        .merge(Toml::string(&text))
        .extract();
        if let Ok(config) = parsed {
            let _ = config.resolve();
            let _ = config.resolve_serve(None);
            let _ = config.resolve_starshipit();
        }
    }
}
