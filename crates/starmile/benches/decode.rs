//! Parsing benchmark (`cargo xtask bench parsing`): a 200-row status-pool page, as the
//! sandbox serves it, decoded and normalised into domain values
//! ([`waybill_starmile::decode_changes_page`]) against parsing the same bytes into a
//! `serde_json::Value`. The fixture was written by `waybill-bench fixture-pool-page`.

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
    group.bench_function("value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(PAGE)));
    });
    group.finish();
}

criterion_group!(benches, pool_page);
criterion_main!(benches);
