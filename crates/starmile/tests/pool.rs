//! The status pool over loopback: paging to exhaustion, stable cursors, clamping, filters,
//! the simulated clock, and unknown vocabulary passing through to domain events.

mod common;

use std::{collections::HashSet, time::Duration};

use futures::{StreamExt, TryStreamExt};
use serde_json::Value;
use waybill_domain::{
    Cursor, EventTime, PartnerOrderRef, StatusFeed, TrackingNumber, TrackingStatus,
};
use waybill_starmile::{ChangesQuery, sandbox::SandboxConfig};

fn preloaded(orders: usize, unknown: f64) -> SandboxConfig {
    SandboxConfig { preload_orders: orders, unknown_vocabulary_rate: unknown, ..common::config() }
}

#[tokio::test]
async fn paging_reaches_every_row_once_and_cursors_are_stable() {
    let sandbox = common::start(preloaded(300, 0.02)).await;
    let client = common::client(&sandbox, 0);
    let total = sandbox.counters().pool_rows;
    assert!(total > 300 * 5, "{total}");
    let mut since = Cursor(0);
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = client
            .changes(&ChangesQuery { limit: 137, ..ChangesQuery::since(since) })
            .await
            .unwrap();
        pages += 1;
        assert!(page.items.len() <= 137);
        seen.extend(page.items.iter().map(|i| i.cursor));
        since = page.next_cursor;
        if !page.has_more {
            break;
        }
    }
    assert_eq!(seen.len() as u64, total);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "strictly increasing");
    assert_eq!(pages, total.div_ceil(137));
    // An empty page keeps the cursor.
    let end = client.changes(&ChangesQuery::since(since)).await.unwrap();
    assert!(end.items.is_empty() && !end.has_more);
    assert_eq!(end.next_cursor, since);
    // The same cursor gives the same rows.
    let a = client
        .changes(&ChangesQuery { limit: 50, ..ChangesQuery::since(Cursor(400)) })
        .await
        .unwrap();
    let b = client
        .changes(&ChangesQuery { limit: 50, ..ChangesQuery::since(Cursor(400)) })
        .await
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(a.items[0].cursor, Cursor(401));
    // The stream follows has_more to the end (and may be moved across threads).
    fn assert_send<T: Send>(t: T) -> T {
        t
    }
    let streamed: Vec<_> =
        assert_send(client.change_stream(Cursor(0))).try_collect().await.unwrap();
    assert_eq!(streamed.len() as u64, total);
    let per_order: HashSet<_> = streamed
        .iter()
        .filter(|i| i.previous_status.is_none())
        .map(|i| i.reference.clone())
        .collect();
    assert_eq!(per_order.len(), 300, "one genesis row per order");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn limits_are_clamped_by_client_and_server() {
    let sandbox = common::start(preloaded(100, 0.0)).await;
    let client = common::client(&sandbox, 0);
    let feed: &dyn StatusFeed = &client;
    assert_eq!(feed.changes(Cursor(0), 0).await.unwrap().items.len(), 1);
    assert_eq!(feed.changes(Cursor(0), 500).await.unwrap().items.len(), 200);
    // The server clamps raw requests too.
    let p = &sandbox.partners()[0];
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{}/oauth/token", sandbox.base_url()))
        .json(&serde_json::json!({"grant_type":"client_credentials","client_id":p.client_id,"client_secret":p.client_secret}))
        .send().await.unwrap().json().await.unwrap();
    let access = token["access_token"].as_str().unwrap();
    for (limit, expected) in [("0", 1), ("-3", 1), ("500", 200), ("200", 200), ("7", 7)] {
        let page: Value = http
            .get(format!("{}/api/v1/partner/changes?since=0&limit={limit}", sandbox.base_url()))
            .bearer_auth(access)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(page["data"].as_array().unwrap().len(), expected, "limit={limit}");
        let row = &page["data"][0];
        for key in [
            "cursor",
            "tracking_number",
            "external_parent_id",
            "external_id",
            "country",
            "status",
            "previous_status",
            "occurred_at",
            "timezone",
            "reason",
            "reason_detail",
        ] {
            assert!(row.get(key).is_some(), "every key present: {key}");
        }
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn filters_select_an_order_or_a_parcel_and_combine_with_and() {
    let sandbox = common::start(preloaded(50, 0.0)).await;
    let client = common::client(&sandbox, 0);
    let all: Vec<_> = client.change_stream(Cursor(0)).try_collect().await.unwrap();
    let parcel_row = all.iter().find(|i| i.item_ref.is_some()).unwrap();
    let reference = parcel_row.reference.clone().unwrap();
    let parcel = parcel_row.event.tracking_number.clone();

    let by_ref = client
        .changes(&ChangesQuery {
            reference: Some(reference.clone()),
            ..ChangesQuery::since(Cursor(0))
        })
        .await
        .unwrap();
    let expected = all.iter().filter(|i| i.reference.as_ref() == Some(&reference)).count();
    assert_eq!(by_ref.items.len(), expected);
    assert!(by_ref.items.iter().all(|i| i.reference.as_ref() == Some(&reference)));

    let by_parcel = client
        .changes(&ChangesQuery {
            tracking_number: Some(parcel.clone()),
            ..ChangesQuery::since(Cursor(0))
        })
        .await
        .unwrap();
    assert!(!by_parcel.items.is_empty());
    assert!(by_parcel.items.iter().all(|i| i.event.tracking_number == parcel));
    assert!(by_parcel.items.len() < by_ref.items.len(), "the genesis row is the order's");

    let both = ChangesQuery {
        tracking_number: Some(parcel.clone()),
        reference: Some(reference.clone()),
        ..ChangesQuery::since(Cursor(0))
    };
    assert_eq!(client.changes(&both).await.unwrap().items, by_parcel.items);
    let other = all.iter().find_map(|i| i.reference.clone().filter(|r| *r != reference)).unwrap();
    let mismatch = ChangesQuery { reference: Some(other), ..both.clone() };
    assert!(client.changes(&mismatch).await.unwrap().items.is_empty(), "AND, not OR");
    let unknown = ChangesQuery {
        tracking_number: Some(TrackingNumber::parse("STM999999999").unwrap()),
        ..ChangesQuery::since(Cursor(5))
    };
    let page = client.changes(&unknown).await.unwrap();
    assert!(page.items.is_empty());
    assert_eq!(page.next_cursor, Cursor(5));
    let unknown_ref = ChangesQuery {
        reference: Some(PartnerOrderRef::parse("nope").unwrap()),
        ..ChangesQuery::since(Cursor(0))
    };
    assert!(client.changes(&unknown_ref).await.unwrap().items.is_empty());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn unknown_statuses_and_reasons_pass_through_to_domain_events() {
    let sandbox = common::start(preloaded(40, 1.0)).await;
    let client = common::client(&sandbox, 0);
    let all: Vec<_> = client.change_stream(Cursor(0)).try_collect().await.unwrap();
    let unknown = all.iter().find(|i| i.event.raw_status == "address_verification").unwrap();
    assert_eq!(unknown.event.status, TrackingStatus::Unknown);
    assert_eq!(unknown.event.reason.as_ref().unwrap().code, "geocode_mismatch");
    let odd_reason = all
        .iter()
        .find(|i| i.event.reason.as_ref().is_some_and(|r| r.code == "drone_grounded"))
        .unwrap();
    assert_eq!(odd_reason.event.status, TrackingStatus::AttemptFailed);
    // Times are exact, in the hub's zone; sources and countries are kept.
    assert!(
        all.iter().all(|i| matches!(&i.event.occurred_at, EventTime::Exact { zone: Some(_), .. }))
    );
    let zones: HashSet<_> = all
        .iter()
        .filter_map(|i| match &i.event.occurred_at {
            EventTime::Exact { zone, .. } => zone.clone(),
            EventTime::Local { .. } | EventTime::Unknown { .. } => None,
        })
        .collect();
    assert!(zones.len() >= 3, "{zones:?}");
    assert!(all.iter().all(|i| i.event.source_id == Some(i.cursor.0.to_string())));
    assert!(all.iter().any(|i| i.event.country.is_none()), "linehaul rows have no country");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_simulated_clock_reveals_rows_over_time() {
    // 100 000 simulated seconds per real second: the first parcel row (12–36 h) comes
    // within about 1.3 s of real time; the genesis row is there at once.
    let config = SandboxConfig { time_scale: 100_000.0, ..common::config() };
    let sandbox = common::start(config).await;
    let client = common::client(&sandbox, 0);
    let order = client.create_order(&common::order("PO-LIVE", &["LIVE-1"])).await.unwrap();
    let first = client.changes(&ChangesQuery::since(Cursor(0))).await.unwrap();
    assert_eq!(first.items.len(), 1);
    assert_eq!(first.items[0].event.raw_status, "waiting_for_arrival");
    assert_eq!(first.items[0].event.tracking_number, order.tracking_number);
    let mut rows = first.items;
    for _ in 0..400 {
        if rows.iter().any(|i| i.event.status.is_terminal()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let since = rows.last().map_or(Cursor(0), |i| i.cursor);
        rows.extend(client.changes(&ChangesQuery::since(since)).await.unwrap().items);
    }
    assert!(rows.iter().any(|i| i.event.status.is_terminal()), "the lifecycle finished");
    let hub = rows.iter().find(|i| i.event.raw_status == "received_at_hub").unwrap();
    assert_eq!(hub.previous_status.as_deref(), Some("waiting_for_arrival"));
    assert_eq!(hub.event.merchant_tracking_number.as_ref().unwrap().as_str(), "LIVE-1");
    assert_eq!(hub.item_ref.as_deref(), Some("LIVE-1"));
    assert_eq!(Some(&hub.event.tracking_number), order.parcels.first().map(|p| &p.tracking_number));
    let gap = hub.event.occurred_at.sort_key().duration_since(rows[0].event.occurred_at.sort_key());
    assert!((12 * 3600..=36 * 3600).contains(&gap.as_secs()), "{gap:?}");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_undecodable_row_comes_back_raw_and_the_page_goes_on() {
    let sandbox =
        common::start(SandboxConfig { undecodable_rows: [1, 4].into(), ..preloaded(3, 0.0) }).await;
    let client = common::client(&sandbox, 0);
    let total = sandbox.counters().pool_rows;
    let page = client.changes(&ChangesQuery::since(Cursor(0))).await.unwrap();
    let bad: Vec<_> = page.undecoded.iter().map(|r| r.cursor).collect();
    assert_eq!(bad, [Some(Cursor(1)), Some(Cursor(4))]);
    assert_eq!(page.items.len() as u64 + 2, total, "every other row decoded");
    assert!(page.items.iter().all(|i| i.cursor != Cursor(1) && i.cursor != Cursor(4)));
    assert_eq!(page.next_cursor, Cursor(total), "the page's cursor covers the bad rows");
    let raw: Value = serde_json::from_str(&page.undecoded[0].raw).unwrap();
    assert_eq!((raw["cursor"].as_u64(), raw["occurred_at"].as_str()), (Some(1), Some("")));
    assert!(page.undecoded[0].error.contains("occurred_at"), "{}", page.undecoded[0].error);
    // The stream yields each bad row as an error naming it and goes on to the end.
    let all: Vec<_> = client.change_stream(Cursor(0)).collect::<Vec<_>>().await;
    assert_eq!(all.len() as u64, total);
    assert_eq!(all.iter().filter(|r| r.is_err()).count(), 2);
    sandbox.shutdown().await;
}
