//! Parsing benchmark (`cargo xtask bench parsing`): a 200-row status-pool page, as the
//! sandbox serves it, decoded and normalised into domain values
//! ([`waybill_starmile::decode_changes_page`]) against parsing the same bytes into a
//! `serde_json::Value`, and the same page with one undecodable row (decoded row by row, the
//! bad row kept raw). The fixture was written by `waybill-bench fixture-pool-page`.

#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

const PAGE: &[u8] = include_bytes!("fixtures/pool-page-200.json");

fn pool_page(c: &mut Criterion) {
    let decoded = waybill_starmile::decode_changes_page(PAGE).expect("the fixture decodes");
    assert_eq!(decoded.items.len(), 200, "the fixture is a 200-row page");
    let mut group = c.benchmark_group("pool_page_200");
    group.throughput(Throughput::Bytes(PAGE.len() as u64));
    group.bench_function("typed", |b| {
        b.iter(|| waybill_starmile::decode_changes_page(black_box(PAGE)));
    });
    // Row 1's occurred_at emptied (the old value moves to an unknown key).
    let one_bad = String::from_utf8_lossy(PAGE).replacen(
        r#""occurred_at":""#,
        r#""occurred_at":"","x":""#,
        1,
    );
    let decoded = waybill_starmile::decode_changes_page(one_bad.as_bytes()).expect("decodes");
    assert_eq!((decoded.items.len(), decoded.undecoded.len()), (199, 1));
    group.bench_function("typed_one_bad_row", |b| {
        b.iter(|| waybill_starmile::decode_changes_page(black_box(one_bad.as_bytes())));
    });
    group.bench_function("value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(PAGE)));
    });
    group.finish();
}

criterion_group!(benches, pool_page);
criterion_main!(benches);
