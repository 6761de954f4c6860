//! Parsing benchmark (`cargo xtask bench parsing`): the StarShipIT spec's `/api/track`
//! sample decoded and normalised into domain shipments
//! ([`waybill_starshipit::decode_track_json`]) against parsing the same bytes into a
//! `serde_json::Value`.

#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use waybill_domain::{TrackQuery, TrackingNumber};

const SAMPLE: &[u8] = include_bytes!("fixtures/track-sample-spec.json");

fn track_sample(c: &mut Criterion) {
    let query = TrackQuery::TrackingNumber(TrackingNumber::parse("0000000000").expect("valid"));
    let decoded =
        waybill_starshipit::decode_track_json(&query, SAMPLE).expect("the sample decodes");
    assert_eq!(decoded[0].events.len(), 6, "the spec sample has six scans");
    let mut group = c.benchmark_group("track_sample_spec");
    group.throughput(Throughput::Bytes(SAMPLE.len() as u64));
    group.bench_function("typed", |b| {
        b.iter(|| waybill_starshipit::decode_track_json(&query, black_box(SAMPLE)));
    });
    group.bench_function("value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(SAMPLE)));
    });
    group.finish();
}

criterion_group!(benches, track_sample);
criterion_main!(benches);
