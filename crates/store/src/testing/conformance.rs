//! The conformance suite: what every [`Store`] backend must do, written once against the
//! ports and run by each backend's own tests through [`conformance_suite!`](crate::conformance_suite),
//! so a new backend (PostgreSQL next) proves it behaves exactly like SQLite.
//!
//! Each case takes a fresh, empty store. The suite names no carrier: it uses a main-leg
//! carrier `mainline` (pool rows) and a first-leg carrier `courier` (scans), joined as the
//! engine joins them.

use proptest::prelude::*;
use waybill_domain::{
    CarrierId, CarrierInfo, Cursor, EventTime, FeedItem, Leg, MerchantTrackingNumber, Milestone,
    Order, OrderItem, OrderParcel, OrderRequest, PartnerOrderRef, RegionStatus, ServiceId,
    TrackingEvent, TrackingNumber, TrackingStatus,
};

use crate::{
    JournalEntry, OrderFilter, OrderSort, ParcelPlacement, ParcelTimeline, Replay, SplitFrom,
    Store, StoreCounts, StoreError, StoredOrder,
};

mod outbox;
pub use outbox::{
    claims_keep_each_parcels_order_and_failures_back_off_then_give_up,
    concurrent_claims_never_hand_one_delivery_to_two_workers,
    status_changes_write_one_delivery_per_matching_subscription,
};
mod quarantine;
mod refresh;
pub use quarantine::{
    a_redelivered_undecodable_row_is_kept_once,
    every_distinct_undecodable_row_is_kept_once_whatever_the_pages,
    undecodable_rows_are_quarantined_with_their_page_and_the_cursor_moves_on, undecoded,
};
pub use refresh::{
    a_parcel_whose_first_leg_is_over_is_never_offered,
    a_webhook_covers_a_parcel_while_its_push_is_recent,
    candidates_say_how_long_they_have_been_idle,
    refresh_candidates_skip_final_parcels_and_come_in_due_order,
};

/// A backend under test: makes fresh, empty stores.
#[async_trait::async_trait]
pub trait Backend: Sync {
    /// A new empty store, and whatever must live as long as it (a temporary directory, a
    /// throwaway database).
    async fn fresh(&self) -> (Box<dyn Store>, Box<dyn std::any::Any + Send>);
}

/// The main-leg carrier of the suite.
pub const MAIN: CarrierId = CarrierId::from_static("mainline");
/// The first-leg carrier of the suite.
pub const FIRST: CarrierId = CarrierId::from_static("courier");

/// The account every case writes under.
pub const ACCOUNT: &str = "sydney";

/// A fixture helper.
pub fn mtn(s: &str) -> MerchantTrackingNumber {
    MerchantTrackingNumber::parse(s).expect("merchant number")
}

/// A fixture helper.
pub fn tn(s: &str) -> TrackingNumber {
    TrackingNumber::parse(s).expect("tracking number")
}

/// A fixture helper.
pub fn reference(s: &str) -> PartnerOrderRef {
    PartnerOrderRef::parse(s).expect("reference")
}

/// An exact time, `minute` minutes after a fixed instant.
pub fn at(minute: i64) -> EventTime {
    let t = jiff::Timestamp::from_second(1_780_000_000 + minute * 60).expect("timestamp");
    EventTime::exact(t, Some("UTC".into()))
}

/// A fixture helper.
pub fn event(
    carrier: CarrierId,
    number: &str,
    minute: i64,
    raw: &str,
    status: TrackingStatus,
) -> TrackingEvent {
    TrackingEvent::new(carrier, tn(number), at(minute), raw, status)
}

/// A parcel-scoped pool row (item reference = merchant number, by waybill's convention).
pub fn parcel_row(
    cursor: u64,
    order: &str,
    item: &str,
    number: &str,
    minute: i64,
    status: TrackingStatus,
) -> FeedItem {
    FeedItem {
        cursor: Cursor(cursor),
        reference: Some(reference(order)),
        item_ref: Some(item.into()),
        previous_status: None,
        event: event(MAIN, number, minute, status.as_str(), status),
    }
}

/// An order-scoped pool row.
pub fn order_row(
    cursor: u64,
    order: &str,
    number: &str,
    minute: i64,
    status: TrackingStatus,
) -> FeedItem {
    FeedItem {
        cursor: Cursor(cursor),
        reference: Some(reference(order)),
        item_ref: None,
        previous_status: None,
        event: event(MAIN, number, minute, status.as_str(), status),
    }
}

/// A first-leg scan as the engine stores it (joined: the label is the merchant number).
pub fn scan(number: &str, minute: i64, raw: &str, status: TrackingStatus) -> TrackingEvent {
    let first = CarrierInfo::new(FIRST, "Courier", Leg::First);
    first.join(event(FIRST, number, minute, raw, status))
}

/// A fixture helper.
pub fn request(order: &str, service: u32, items: &[&str]) -> OrderRequest {
    let items = items.iter().map(|m| OrderItem::new(mtn(m))).collect();
    OrderRequest::new(ServiceId::new(service).expect("service"), reference(order), items)
        .expect("request")
}

/// The carrier's answer: parcels given as (item id, merchant number echoed?, tracking number).
pub fn answer(order: &str, number: &str, parcels: &[(Option<&str>, Option<&str>, &str)]) -> Order {
    Order {
        reference: reference(order),
        tracking_number: tn(number),
        duplicate: false,
        region_status: RegionStatus::Mapped,
        parcels: parcels
            .iter()
            .map(|(item, merchant, number)| OrderParcel {
                item_id: item.map(String::from),
                merchant_tracking_number: merchant.map(mtn),
                tracking_number: tn(number),
            })
            .collect(),
    }
}

/// Looks a parcel up and insists it is there.
pub async fn timeline(store: &dyn Store, number: &str) -> ParcelTimeline {
    store.parcel_timeline(number).await.expect("lookup").expect("parcel found")
}

/// A fixture helper.
pub fn raw_statuses(t: &ParcelTimeline) -> Vec<(&str, &str)> {
    t.timeline.events().iter().map(|e| (e.carrier.as_str(), e.raw_status.as_str())).collect()
}

/// A conformance case (see the module docs).
pub async fn save_order_matches_parcels_and_is_idempotent(store: &dyn Store) {
    // One parcel echoes its merchant number, one only its item id, one matches by position.
    let req = request("PO-1", 5, &["M-1", "M-2", "M-3"]);
    let ans = answer(
        "PO-1",
        "STM-O1",
        &[(None, None, "STM-P1"), (Some("M-2"), None, "STM-P2"), (None, Some("M-1"), "STM-P0")],
    );
    store.save_order(ACCOUNT, &req, &ans).await.expect("save");
    store.save_order(ACCOUNT, &req, &ans).await.expect("save again");

    let order = store.order(Some(ACCOUNT), &reference("PO-1")).await.expect("read").expect("found");
    assert_eq!(order.service_id, Some(ServiceId::new(5).expect("id")));
    assert_eq!(order.tracking_number, Some(tn("STM-O1")));
    assert_eq!(order.status, TrackingStatus::Pending);
    let parcels: Vec<_> = order
        .parcels
        .iter()
        .map(|p| {
            (
                p.merchant_tracking_number.as_str(),
                p.tracking_number.as_ref().map(TrackingNumber::as_str),
            )
        })
        .collect();
    assert_eq!(parcels, [("M-1", Some("STM-P0")), ("M-2", Some("STM-P2")), ("M-3", None)]);
    let counts = store.counts().await.expect("counts");
    assert_eq!((counts.orders, counts.parcels), (1, 3));
    assert!(store.order(Some("other"), &reference("PO-1")).await.expect("read").is_none());
    assert_eq!(store.order(None, &reference("PO-1")).await.expect("read"), Some(order));
}

/// A conformance case (see the module docs).
pub async fn added_and_split_parcels_are_placed_at_once(store: &dyn Store) {
    let req = request("PO-1", 5, &["M-1", "M-2"]);
    let ans =
        answer("PO-1", "STM-O1", &[(Some("M-1"), None, "STM-P1"), (Some("M-2"), None, "STM-P2")]);
    store.save_order(ACCOUNT, &req, &ans).await.expect("save");
    store
        .record_pool_page(
            ACCOUNT,
            &[parcel_row(1, "PO-1", "M-2", "STM-P2", 0, TrackingStatus::Delivered)],
            Cursor(1),
        )
        .await
        .expect("pool page");

    let added = ParcelPlacement {
        reference: reference("PO-1"),
        merchant_tracking_number: mtn("M-3"),
        tracking_number: Some(tn("STM-P3")),
        split: None,
    };
    let split = ParcelPlacement {
        reference: reference("PO-1B"),
        merchant_tracking_number: mtn("M-2"),
        tracking_number: Some(tn("STM-P2")),
        split: Some(SplitFrom { source: reference("PO-1"), order_tracking_number: tn("STM-O2") }),
    };
    for _ in 0..2 {
        store.place_parcel(ACCOUNT, &added).await.expect("added");
        store.place_parcel(ACCOUNT, &split).await.expect("split");
    }
    // An added parcel of an order the store never saw makes that order's row.
    let elsewhere = ParcelPlacement { reference: reference("PO-9"), ..added.clone() };
    let elsewhere = ParcelPlacement {
        merchant_tracking_number: mtn("M-9"),
        tracking_number: None,
        ..elsewhere
    };
    store.place_parcel(ACCOUNT, &elsewhere).await.expect("elsewhere");

    let numbers = |o: &StoredOrder| {
        o.parcels.iter().map(|p| p.merchant_tracking_number.as_str().to_owned()).collect::<Vec<_>>()
    };
    let source = store.order(Some(ACCOUNT), &reference("PO-1")).await.expect("read").expect("PO-1");
    assert_eq!(numbers(&source), ["M-1", "M-3"]);
    assert_eq!(source.status, TrackingStatus::Pending, "M-2's delivery left with it");
    let new = store.order(Some(ACCOUNT), &reference("PO-1B")).await.expect("read").expect("PO-1B");
    assert_eq!(numbers(&new), ["M-2"]);
    assert_eq!(new.service_id, Some(ServiceId::new(5).expect("id")), "the source's service");
    assert_eq!(new.tracking_number, Some(tn("STM-O2")));
    assert_eq!(new.status, TrackingStatus::Delivered);
    assert_eq!(new.parcels[0].tracking_number, Some(tn("STM-P2")));
    let other = store.order(Some(ACCOUNT), &reference("PO-9")).await.expect("read").expect("PO-9");
    assert_eq!(
        (numbers(&other), other.service_id, other.tracking_number),
        (vec!["M-9".to_owned()], None, None)
    );
    let counts = store.counts().await.expect("counts");
    assert_eq!((counts.orders, counts.parcels), (3, 4));
}

/// A conformance case (see the module docs).
pub async fn list_orders_pages_by_reference_and_filters(store: &dyn Store) {
    for (i, account) in ["a", "b", "a", "b", "a"].iter().enumerate() {
        let r = format!("PO-{i}");
        let service = if i % 2 == 0 { 1 } else { 2 };
        let parcel = format!("M-{i}");
        store
            .save_order(
                account,
                &request(&r, service, &[&parcel]),
                &answer(&r, &format!("O{i}"), &[(None, None, &format!("P{i}"))]),
            )
            .await
            .expect("save");
    }
    store
        .record_pool_page(
            "a",
            &[parcel_row(1, "PO-2", "M-2", "P2", 0, TrackingStatus::Delivered)],
            Cursor(1),
        )
        .await
        .expect("page");

    let mut seen = Vec::new();
    let mut filter = OrderFilter { limit: 2, ..OrderFilter::default() };
    loop {
        let page = store.list_orders(&filter).await.expect("list");
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        filter.after = Some(last.reference.clone());
        seen.extend(page.iter().map(|o| o.reference.to_string()));
    }
    assert_eq!(seen, ["PO-0", "PO-1", "PO-2", "PO-3", "PO-4"]);

    let refs = |orders: Vec<crate::StoredOrder>| -> Vec<String> {
        orders.iter().map(|o| o.reference.to_string()).collect()
    };
    let by_account = OrderFilter { account: Some("b".into()), ..OrderFilter::default() };
    assert_eq!(refs(store.list_orders(&by_account).await.expect("list")), ["PO-1", "PO-3"]);
    let by_service =
        OrderFilter { service_id: Some(ServiceId::new(1).expect("id")), ..OrderFilter::default() };
    assert_eq!(refs(store.list_orders(&by_service).await.expect("list")), ["PO-0", "PO-2", "PO-4"]);
    let delivered =
        OrderFilter { status: Some(TrackingStatus::Delivered), ..OrderFilter::default() };
    assert_eq!(refs(store.list_orders(&delivered).await.expect("list")), ["PO-2"]);
    let combined = OrderFilter {
        account: Some("a".into()),
        status: Some(TrackingStatus::Pending),
        after: Some(reference("PO-0")),
        ..OrderFilter::default()
    };
    assert_eq!(refs(store.list_orders(&combined).await.expect("list")), ["PO-4"]);

    // Newest first, paged by the last order's reference and account.
    let mut newest = Vec::new();
    let mut filter = OrderFilter { limit: 2, sort: OrderSort::Newest, ..OrderFilter::default() };
    loop {
        let page = store.list_orders(&filter).await.expect("list");
        let Some(last) = page.last() else { break };
        filter.after = Some(last.reference.clone());
        filter.after_account = Some(last.account.clone());
        newest.extend(page.iter().map(|o| o.reference.to_string()));
    }
    assert_eq!(newest, ["PO-4", "PO-3", "PO-2", "PO-1", "PO-0"]);

    // One reference in two accounts: a page boundary between them loses neither.
    for account in ["a", "b"] {
        store
            .save_order(
                account,
                &request("PO-D", 1, &[&format!("D-{account}")]),
                &answer("PO-D", &format!("OD-{account}"), &[]),
            )
            .await
            .expect("save");
    }
    for sort in [OrderSort::Reference, OrderSort::Newest] {
        let mut seen = Vec::new();
        let mut filter = OrderFilter { limit: 1, sort, ..OrderFilter::default() };
        loop {
            let page = store.list_orders(&filter).await.expect("list");
            let Some(last) = page.last() else { break };
            filter.after = Some(last.reference.clone());
            filter.after_account = Some(last.account.clone());
            seen.push(format!("{}/{}", last.account, last.reference));
        }
        assert_eq!(seen.len(), 7, "{sort:?}: {seen:?}");
        assert!(
            seen.contains(&"a/PO-D".to_owned()) && seen.contains(&"b/PO-D".to_owned()),
            "{seen:?}"
        );
    }
}

/// A conformance case (see the module docs).
pub async fn a_replayed_page_changes_nothing(store: &dyn Store) {
    let page = [
        order_row(1, "PO-1", "STM-O1", 0, TrackingStatus::Pending),
        parcel_row(2, "PO-1", "M-1", "STM-P1", 5, TrackingStatus::InfoReceived),
        parcel_row(3, "PO-1", "M-2", "STM-P2", 6, TrackingStatus::InTransit),
    ];
    assert_eq!(store.record_pool_page(ACCOUNT, &page, Cursor(3)).await.expect("page"), 3);
    let before = store.counts().await.expect("counts");
    let timelines = store.all_timelines().await.expect("timelines");

    assert_eq!(store.record_pool_page(ACCOUNT, &page, Cursor(3)).await.expect("replay"), 0);
    // A partial replay (a crash before the cursor was saved) is also a no-op.
    assert_eq!(store.record_pool_page(ACCOUNT, &page[1..], Cursor(3)).await.expect("replay"), 0);
    assert_eq!(store.counts().await.expect("counts"), before);
    assert_eq!(store.all_timelines().await.expect("timelines"), timelines);
    assert_eq!(store.cursor(ACCOUNT).await.expect("cursor"), Cursor(3));
    assert_eq!((before.orders, before.parcels, before.pool_rows, before.events), (1, 2, 3, 3));
}

/// A conformance case (see the module docs).
pub async fn the_cursor_never_moves_backward_and_is_per_account(store: &dyn Store) {
    assert_eq!(store.cursor(ACCOUNT).await.expect("cursor"), Cursor(0));
    store.record_pool_page(ACCOUNT, &[], Cursor(10)).await.expect("page");
    store.record_pool_page(ACCOUNT, &[], Cursor(5)).await.expect("page");
    assert_eq!(store.cursor(ACCOUNT).await.expect("cursor"), Cursor(10));
    store.record_pool_page(ACCOUNT, &[], Cursor(12)).await.expect("page");
    assert_eq!(store.cursor(ACCOUNT).await.expect("cursor"), Cursor(12));
    assert_eq!(store.cursor("melbourne").await.expect("cursor"), Cursor(0));
    let too_big = store.record_pool_page(ACCOUNT, &[], Cursor(u64::MAX)).await;
    assert!(matches!(too_big, Err(StoreError::Database(_))), "{too_big:?}");
}

/// A conformance case (see the module docs).
pub async fn order_rows_join_every_parcel_and_pool_rows_reveal_unknown_orders(store: &dyn Store) {
    // Nothing was saved: the pool alone reveals the order, its parcels and their numbers.
    let page = [
        order_row(1, "PO-9", "STM-O9", 0, TrackingStatus::Pending),
        parcel_row(2, "PO-9", "M-1", "STM-P1", 10, TrackingStatus::InfoReceived),
        parcel_row(3, "PO-9", "M-2", "STM-P2", 11, TrackingStatus::InfoReceived),
        order_row(4, "PO-9", "STM-O9", 20, TrackingStatus::InTransit),
    ];
    store.record_pool_page(ACCOUNT, &page, Cursor(4)).await.expect("page");
    let order = store.order(None, &reference("PO-9")).await.expect("read").expect("revealed");
    assert_eq!(order.service_id, None);
    assert_eq!(order.tracking_number, Some(tn("STM-O9")));
    assert_eq!(order.parcels.len(), 2);
    assert_eq!(order.status, TrackingStatus::InTransit);

    for (number, own) in [("M-1", "STM-P1"), ("STM-P2", "STM-P2")] {
        let t = timeline(store, number).await;
        assert_eq!(t.parcel.tracking_number, Some(tn(own)));
        assert_eq!(t.order_tracking_number, Some(tn("STM-O9")));
        assert_eq!(
            raw_statuses(&t),
            [("mainline", "pending"), ("mainline", "info_received"), ("mainline", "in_transit")]
        );
        assert_eq!(t.parcel.status, TrackingStatus::InTransit);
    }
    // The order-scoped events are stored once, not once per parcel.
    assert_eq!(store.counts().await.expect("counts").events, 4);

    // Saving the order afterwards fills in what the pool could not know.
    let req = request("PO-9", 3, &["M-1", "M-2"]);
    let ans =
        answer("PO-9", "STM-O9", &[(Some("M-1"), None, "STM-P1"), (Some("M-2"), None, "STM-P2")]);
    store.save_order(ACCOUNT, &req, &ans).await.expect("save");
    let order = store.order(None, &reference("PO-9")).await.expect("read").expect("found");
    assert_eq!(order.service_id, Some(ServiceId::new(3).expect("id")));
    assert_eq!(order.status, TrackingStatus::InTransit);
}

/// A conformance case (see the module docs).
pub async fn first_leg_scans_join_by_merchant_number_even_before_the_parcel_exists(
    store: &dyn Store,
) {
    let scans = [
        scan("M-1", 0, "Label printed", TrackingStatus::InfoReceived),
        scan("M-1", 30, "In Transit", TrackingStatus::InTransit),
        scan("OTHER", 30, "In Transit", TrackingStatus::InTransit),
    ];
    assert_eq!(store.record_events(&scans).await.expect("events"), 3);
    assert_eq!(store.record_events(&scans).await.expect("replay"), 0);
    assert!(store.parcel_timeline("M-1").await.expect("lookup").is_none());

    let req = request("PO-1", 5, &["M-1"]);
    store
        .save_order(ACCOUNT, &req, &answer("PO-1", "STM-O1", &[(Some("M-1"), None, "STM-P1")]))
        .await
        .expect("save");
    let t = timeline(store, "M-1").await;
    assert_eq!(raw_statuses(&t), [("courier", "Label printed"), ("courier", "In Transit")]);
    assert_eq!(t.parcel.status, TrackingStatus::InTransit);

    // Starmile rows merge into the same timeline, in time order.
    let page = [
        parcel_row(1, "PO-1", "M-1", "STM-P1", 10, TrackingStatus::InfoReceived),
        parcel_row(2, "PO-1", "M-1", "STM-P1", 60, TrackingStatus::Delivered),
    ];
    store.record_pool_page(ACCOUNT, &page, Cursor(2)).await.expect("page");
    let t = timeline(store, "STM-P1").await;
    assert_eq!(
        raw_statuses(&t),
        [
            ("courier", "Label printed"),
            ("mainline", "info_received"),
            ("courier", "In Transit"),
            ("mainline", "delivered")
        ]
    );
    assert_eq!(t.parcel.status, TrackingStatus::Delivered);

    // A later StarShipIT scan moves the status only if it is newer.
    store
        .record_events(&[scan("M-1", 45, "Arrived", TrackingStatus::InTransit)])
        .await
        .expect("events");
    assert_eq!(timeline(store, "M-1").await.parcel.status, TrackingStatus::Delivered);
    store
        .record_events(&[scan("M-1", 90, "Returned", TrackingStatus::Returned)])
        .await
        .expect("events");
    let t = timeline(store, "M-1").await;
    assert_eq!(t.parcel.status, TrackingStatus::Returned);
    assert_eq!(t.parcel.status, t.timeline.current_status());

    // A scan without a usable time is placed at its receipt; a redelivery received later is
    // the same event (the receipt is not part of its identity) and stores nothing.
    let timeless = |received_minute: i64| {
        let mut e = scan("M-1", 0, "Comment added", TrackingStatus::InTransit);
        e.occurred_at = EventTime::unknown(
            Some("yesterday".into()),
            jiff::Timestamp::from_second(1_780_000_000 + received_minute * 60).expect("time"),
        );
        e
    };
    assert_eq!(store.record_events(&[timeless(100)]).await.expect("timeless"), 1);
    assert_eq!(store.record_events(&[timeless(200)]).await.expect("redelivery"), 0);
    assert_eq!(timeline(store, "M-1").await.timeline.events().len(), t.timeline.events().len() + 1);
}

/// A conformance case (see the module docs).
pub async fn main_carrier_events_outside_the_pool_join_by_tracking_number(store: &dyn Store) {
    let req = request("PO-1", 5, &["M-1", "M-2"]);
    let ans =
        answer("PO-1", "STM-O1", &[(Some("M-1"), None, "STM-P1"), (Some("M-2"), None, "STM-P2")]);
    store.save_order(ACCOUNT, &req, &ans).await.expect("save");
    let events = [
        event(MAIN, "STM-P1", 5, "received_at_hub", TrackingStatus::InfoReceived),
        event(MAIN, "STM-O1", 9, "departed", TrackingStatus::InTransit),
    ];
    assert_eq!(store.record_events(&events).await.expect("events"), 2);
    assert_eq!(
        raw_statuses(&timeline(store, "M-1").await),
        [("mainline", "received_at_hub"), ("mainline", "departed")]
    );
    assert_eq!(raw_statuses(&timeline(store, "M-2").await), [("mainline", "departed")]);
}

/// A conformance case (see the module docs).
pub async fn parcels_are_found_by_any_number_unless_ambiguous(store: &dyn Store) {
    store
        .save_order(
            ACCOUNT,
            &request("PO-1", 5, &["M-1"]),
            &answer("PO-1", "STM-O1", &[(Some("M-1"), None, "STM-P1")]),
        )
        .await
        .expect("save");
    let two =
        answer("PO-2", "STM-O2", &[(Some("M-2"), None, "STM-P2"), (Some("M-3"), None, "STM-P3")]);
    store.save_order(ACCOUNT, &request("PO-2", 5, &["M-2", "M-3"]), &two).await.expect("save");

    for number in ["M-1", "STM-P1", "STM-O1", "PO-1"] {
        let t = timeline(store, number).await;
        assert_eq!(t.parcel.merchant_tracking_number, mtn("M-1"), "looked up {number}");
        assert_eq!(t.reference, reference("PO-1"));
        assert_eq!(t.account, ACCOUNT);
    }
    for number in ["M-3", "STM-P3"] {
        assert_eq!(timeline(store, number).await.parcel.merchant_tracking_number, mtn("M-3"));
    }
    for number in ["STM-O2", "PO-2"] {
        let err = store.parcel_timeline(number).await.expect_err("two parcels");
        assert!(matches!(&err, StoreError::Ambiguous { count: 2, .. }), "{err:?}");
        assert!(err.to_string().contains("matches 2 parcels"), "{err}");
    }
    assert!(store.parcel_timeline("nothing").await.expect("lookup").is_none());

    // The same merchant number in a second account is ambiguous too.
    store
        .save_order(
            "melbourne",
            &request("PO-7", 5, &["M-1"]),
            &answer("PO-7", "STM-O7", &[(Some("M-1"), None, "STM-P7")]),
        )
        .await
        .expect("save");
    assert!(matches!(
        store.parcel_timeline("M-1").await,
        Err(StoreError::Ambiguous { count: 2, .. })
    ));
    assert_eq!(timeline(store, "STM-P7").await.account, "melbourne");
}

/// A conformance case (see the module docs).
pub async fn statuses_follow_the_merged_timeline_and_orders_show_the_parcel_needing_attention(
    store: &dyn Store,
) {
    let req = request("PO-1", 5, &["M-1", "M-2"]);
    store
        .save_order(
            ACCOUNT,
            &req,
            &answer(
                "PO-1",
                "STM-O1",
                &[(Some("M-1"), None, "STM-P1"), (Some("M-2"), None, "STM-P2")],
            ),
        )
        .await
        .expect("save");
    let mut cursor = 0;
    let mut page = |rows: Vec<FeedItem>| {
        cursor += rows.len() as u64;
        (rows, Cursor(cursor))
    };
    let (rows, next) = page(vec![
        order_row(1, "PO-1", "STM-O1", 0, TrackingStatus::Pending),
        parcel_row(2, "PO-1", "M-1", "STM-P1", 10, TrackingStatus::InTransit),
        parcel_row(3, "PO-1", "M-2", "STM-P2", 11, TrackingStatus::InTransit),
    ]);
    store.record_pool_page(ACCOUNT, &rows, next).await.expect("page");
    // One failed attempt beside a moving parcel: the order shows the problem, not the move.
    let (rows, next) =
        page(vec![parcel_row(4, "PO-1", "M-1", "STM-P1", 15, TrackingStatus::AttemptFailed)]);
    store.record_pool_page(ACCOUNT, &rows, next).await.expect("page");
    let order = store.order(None, &reference("PO-1")).await.expect("read").expect("found");
    assert_eq!(order.status, TrackingStatus::AttemptFailed);
    let (rows, next) = page(vec![
        parcel_row(5, "PO-1", "M-1", "STM-P1", 20, TrackingStatus::Delivered),
        // An unknown raw status never hides the last known one.
        FeedItem {
            event: event(MAIN, "STM-P1", 25, "brand_new_status", TrackingStatus::Unknown),
            ..parcel_row(6, "PO-1", "M-1", "STM-P1", 25, TrackingStatus::Unknown)
        },
    ]);
    store.record_pool_page(ACCOUNT, &rows, next).await.expect("page");

    assert_eq!(timeline(store, "M-1").await.parcel.status, TrackingStatus::Delivered);
    assert_eq!(timeline(store, "M-2").await.parcel.status, TrackingStatus::InTransit);
    let order = store.order(None, &reference("PO-1")).await.expect("read").expect("found");
    assert_eq!(order.status, TrackingStatus::InTransit);

    let (rows, next) =
        page(vec![parcel_row(7, "PO-1", "M-2", "STM-P2", 30, TrackingStatus::Delivered)]);
    store.record_pool_page(ACCOUNT, &rows, next).await.expect("page");
    let order = store.order(None, &reference("PO-1")).await.expect("read").expect("found");
    assert_eq!(order.status, TrackingStatus::Delivered);
    assert_eq!(
        store.parcels_by_status().await.expect("status counts"),
        [(TrackingStatus::Delivered, 2)],
        "what /metrics reports as waybill_parcels"
    );
    for t in store.all_timelines().await.expect("timelines") {
        assert_eq!(t.parcel.status, t.timeline.current_status());
    }

    // Only unknown events: the parcel is unknown, not pending.
    store.record_events(&[scan("M-9", 0, "???", TrackingStatus::Unknown)]).await.expect("events");
    store
        .save_order(
            ACCOUNT,
            &request("PO-9", 5, &["M-9"]),
            &answer("PO-9", "STM-O9", &[(Some("M-9"), None, "STM-P9")]),
        )
        .await
        .expect("save");
    assert_eq!(timeline(store, "M-9").await.parcel.status, TrackingStatus::Unknown);
}

/// A main-carrier pool row with an explicit raw status and milestone (as an adapter maps it).
fn staged_row(
    cursor: u64,
    minute: i64,
    raw: &str,
    status: TrackingStatus,
    m: Milestone,
) -> FeedItem {
    let mut row = parcel_row(cursor, "PO-F", "M-F", "STM-PF", minute, status);
    row.event.raw_status = raw.into();
    row.event.milestone = Some(m);
    row
}

/// A conformance case (see the module docs): the forward-only rule. A parcel's status and
/// milestone come from its greatest event by `ProgressKey` (milestone rank, then sort key,
/// carrier, tracking number, raw status), so a stale scan — a first-leg scan stamped after the
/// hub received the parcel, a late-arriving older hub scan — never moves it back, while the
/// newer event of one rank decides (failed attempt → out for delivery again).
pub async fn statuses_only_move_forward_outside_the_documented_loops(store: &dyn Store) {
    use Milestone as M;
    use TrackingStatus as S;
    store
        .save_order(
            ACCOUNT,
            &request("PO-F", 5, &["M-F"]),
            &answer("PO-F", "STM-OF", &[(Some("M-F"), None, "STM-PF")]),
        )
        .await
        .expect("save");
    let check = |expected: (S, M)| async move {
        let t = timeline(store, "M-F").await;
        assert_eq!((t.parcel.status, t.parcel.milestone), expected);
        assert_eq!((t.timeline.current_status(), t.timeline.current_milestone()), expected);
    };
    store.record_events(&[scan("M-F", 0, "Dispatched", S::InTransit)]).await.expect("scan");
    store
        .record_pool_page(
            ACCOUNT,
            &[staged_row(1, 10, "received_at_hub", S::InTransit, M::AtOriginHub)],
            Cursor(1),
        )
        .await
        .expect("page");
    check((S::InTransit, M::AtOriginHub)).await;
    // The first-leg carrier's hand-over scan, stamped later than the hub's receipt.
    store.record_events(&[scan("M-F", 20, "Delivered", S::Delivered)]).await.expect("scan");
    check((S::InTransit, M::AtOriginHub)).await;
    let rows = [
        staged_row(2, 30, "in_transit", S::InTransit, M::Linehaul),
        staged_row(3, 40, "out_for_delivery", S::OutForDelivery, M::OutForDelivery),
        staged_row(4, 50, "delivery_failed", S::AttemptFailed, M::OutForDelivery),
    ];
    store.record_pool_page(ACCOUNT, &rows, Cursor(4)).await.expect("page");
    check((S::AttemptFailed, M::OutForDelivery)).await;
    // An older hub scan arriving late, and an unknown status, change nothing.
    let rows = [
        staged_row(5, 15, "sorted", S::InTransit, M::AtOriginHub),
        staged_row(6, 55, "drone_launched", S::Unknown, M::Unknown),
    ];
    store.record_pool_page(ACCOUNT, &rows, Cursor(6)).await.expect("page");
    check((S::AttemptFailed, M::OutForDelivery)).await;
    // The documented loop: out for delivery again.
    let rows = [staged_row(7, 60, "out_for_delivery", S::OutForDelivery, M::OutForDelivery)];
    store.record_pool_page(ACCOUNT, &rows, Cursor(7)).await.expect("page");
    check((S::OutForDelivery, M::OutForDelivery)).await;
    // Recomputing from every stored event (a small write) agrees with the incremental head.
    store.record_events(&[scan("M-F", 61, "Label Printed", S::InfoReceived)]).await.expect("scan");
    check((S::OutForDelivery, M::OutForDelivery)).await;
    let rows = [staged_row(8, 70, "delivered", S::Delivered, M::Delivered)];
    store.record_pool_page(ACCOUNT, &rows, Cursor(8)).await.expect("page");
    check((S::Delivered, M::Delivered)).await;
}

/// A conformance case (see the module docs).
pub async fn the_journal_upserts(store: &dyn Store) {
    let r = reference("PO-1");
    assert_eq!(store.journal_get(ACCOUNT, &r).await.expect("get"), None);
    let failed = JournalEntry::Failed { message: "service 9 is unknown".into() };
    store.journal_put(ACCOUNT, &r, &failed).await.expect("put");
    assert_eq!(store.journal_get(ACCOUNT, &r).await.expect("get"), Some(failed));
    let done = JournalEntry::Done { tracking_number: tn("STM-O1") };
    store.journal_put(ACCOUNT, &r, &done).await.expect("put");
    assert_eq!(store.journal_get(ACCOUNT, &r).await.expect("get"), Some(done));
    assert_eq!(store.journal_get("other", &r).await.expect("get"), None);
}

/// A conformance case (see the module docs): idempotency on the reference is checked against
/// the request's fingerprint, before sending (`check_replay`) and when saving.
pub async fn a_replay_with_a_different_request_is_refused_and_changes_nothing(store: &dyn Store) {
    let first = request("PO-1", 3, &["A"]);
    let created = answer("PO-1", "STM-O1", &[(Some("A"), None, "STM-P1")]);
    assert_eq!(store.check_replay(ACCOUNT, &first).await.expect("check"), Replay::New);
    store.save_order(ACCOUNT, &first, &created).await.expect("save");
    assert_eq!(store.check_replay(ACCOUNT, &first).await.expect("check"), Replay::Same);
    assert_eq!(store.check_replay("other", &first).await.expect("check"), Replay::New);

    // The replay: another item via another service under the same reference.
    let other = request("PO-1", 7, &["B"]);
    let Replay::Conflict(conflict) = store.check_replay(ACCOUNT, &other).await.expect("check")
    else {
        panic!("a different request under PO-1 is a conflict");
    };
    let message = conflict.to_string();
    assert!(
        message.contains("order PO-1 was created with item A via service 3; this request has item B via service 7"),
        "{message}"
    );
    // Saving it anyway is refused, whatever the carrier answered, and writes nothing.
    let replayed = Order { duplicate: true, ..created.clone() };
    for answer in [replayed.clone(), answer("PO-1", "STM-O1", &[(Some("B"), None, "STM-P2")])] {
        let refused = store.save_order(ACCOUNT, &other, &answer).await;
        assert!(matches!(refused, Err(StoreError::IdempotencyConflict(_))), "{refused:?}");
    }
    let order = store.order(Some(ACCOUNT), &reference("PO-1")).await.expect("read").expect("found");
    assert_eq!(order.service_id, Some(ServiceId::new(3).expect("id")));
    let parcels: Vec<_> =
        order.parcels.iter().map(|p| p.merchant_tracking_number.as_str()).collect();
    assert_eq!(parcels, ["A"], "B was never sent, so it is not stored");
    // An identical replay stays a replay.
    store.save_order(ACCOUNT, &first, &replayed).await.expect("an identical replay saves");
    assert_eq!(store.counts().await.expect("counts").parcels, 1);

    // The carrier answering a replay with parcels the request does not have: refused too,
    // even when the store had never seen the reference.
    let fresh = request("PO-5", 5, &["C"]);
    let foreign =
        Order { duplicate: true, ..answer("PO-5", "STM-O5", &[(Some("D"), None, "STM-P5")]) };
    let refused = store.save_order(ACCOUNT, &fresh, &foreign).await;
    assert!(matches!(refused, Err(StoreError::IdempotencyConflict(_))), "{refused:?}");
    assert!(store.order(None, &reference("PO-5")).await.expect("read").is_none());

    // An order the pool revealed (no request stored) matches a request that has its parcels.
    let page = [parcel_row(1, "PO-9", "M-1", "STM-P9", 0, TrackingStatus::InfoReceived)];
    store.record_pool_page(ACCOUNT, &page, Cursor(1)).await.expect("page");
    let missing = request("PO-9", 5, &["M-2"]);
    assert!(matches!(
        store.check_replay(ACCOUNT, &missing).await.expect("check"),
        Replay::Conflict(_)
    ));
    let whole = request("PO-9", 5, &["M-1", "M-2"]);
    assert_eq!(store.check_replay(ACCOUNT, &whole).await.expect("check"), Replay::Same);
    let ans =
        answer("PO-9", "STM-O9", &[(Some("M-1"), None, "STM-P9"), (Some("M-2"), None, "STM-P10")]);
    store.save_order(ACCOUNT, &whole, &ans).await.expect("save");
    // From now on the stored request decides: a lighter replay no longer matches.
    assert_eq!(store.check_replay(ACCOUNT, &whole).await.expect("check"), Replay::Same);
    let fewer = request("PO-9", 5, &["M-1"]);
    assert!(matches!(
        store.check_replay(ACCOUNT, &fewer).await.expect("check"),
        Replay::Conflict(_)
    ));
}

/// A conformance case (see the module docs): the batch forms an import uses answer as the
/// one-at-a-time calls do, and a batch save records each order with its journal entry, a
/// refused order writing nothing but its `Failed` entry.
pub async fn batched_import_calls_answer_as_single_ones(store: &dyn Store) {
    let first = request("PO-1", 3, &["A"]);
    store
        .save_order(ACCOUNT, &first, &answer("PO-1", "STM-O1", &[(Some("A"), None, "STM-P1")]))
        .await
        .expect("save");
    let done = JournalEntry::Done { tracking_number: tn("STM-O1") };
    store.journal_put(ACCOUNT, &reference("PO-1"), &done).await.expect("put");

    let changed = request("PO-1", 7, &["B"]);
    let new = request("PO-2", 5, &["C", "D"]);
    let replays = store.check_replays(ACCOUNT, &[&new, &first, &changed]).await.expect("check");
    assert_eq!(replays[..2], [Replay::New, Replay::Same]);
    assert!(matches!(replays[2], Replay::Conflict(_)), "{replays:?}");
    let refs = [reference("PO-2"), reference("PO-1"), reference("PO-3")];
    let entries = store.journal_entries(ACCOUNT, &refs).await.expect("entries");
    assert_eq!(entries, [None, Some(done.clone()), None]);
    assert_eq!(store.journal_entries("other", &refs).await.expect("entries"), [None, None, None]);

    let created =
        answer("PO-2", "STM-O2", &[(Some("C"), None, "STM-P2"), (Some("D"), None, "STM-P3")]);
    let foreign =
        Order { duplicate: true, ..answer("PO-3", "STM-O3", &[(Some("Z"), None, "STM-P9")]) };
    let lacking = request("PO-3", 5, &["E"]);
    let conflicting = answer("PO-1", "STM-O1", &[(Some("B"), None, "STM-P4")]);
    let saved = store
        .save_imported(ACCOUNT, &[(&new, &created), (&changed, &conflicting), (&lacking, &foreign)])
        .await
        .expect("save");
    assert!(saved[0].is_ok(), "{saved:?}");
    assert!(saved[1].as_ref().is_err_and(|c| c.to_string().contains("order PO-1")), "{saved:?}");
    assert!(saved[2].is_err(), "a replay answered with another parcel is refused: {saved:?}");

    let order = store.order(Some(ACCOUNT), &reference("PO-2")).await.expect("read").expect("found");
    let parcels: Vec<_> = order
        .parcels
        .iter()
        .map(|p| {
            (
                p.merchant_tracking_number.as_str(),
                p.tracking_number.as_ref().map(TrackingNumber::as_str),
            )
        })
        .collect();
    assert_eq!(parcels, [("C", Some("STM-P2")), ("D", Some("STM-P3"))]);
    assert_eq!(order.status, TrackingStatus::Pending);
    let entries = store.journal_entries(ACCOUNT, &refs).await.expect("entries");
    assert_eq!(entries[0], Some(JournalEntry::Done { tracking_number: tn("STM-O2") }));
    assert!(
        matches!(&entries[2], Some(JournalEntry::Failed { message }) if message.contains("PO-3")),
        "{entries:?}"
    );
    // The refused replay of PO-1 changed nothing but its journal entry, and PO-3 is not stored.
    let kept = store.order(Some(ACCOUNT), &reference("PO-1")).await.expect("read").expect("found");
    assert_eq!(kept.service_id, Some(ServiceId::new(3).expect("id")));
    assert!(matches!(entries[1], Some(JournalEntry::Failed { .. })), "{entries:?}");
    assert!(store.order(None, &reference("PO-3")).await.expect("read").is_none());
    assert_eq!(store.counts().await.expect("counts").parcels, 3);

    // Saving the same batch again is a harmless replay.
    let again = store.save_imported(ACCOUNT, &[(&new, &created)]).await.expect("save again");
    assert!(again[0].is_ok(), "{again:?}");
    assert_eq!(store.counts().await.expect("counts").parcels, 3);

    // A new order whose parcel was scanned before it was saved takes the scan's status; one
    // without events stays pending.
    store
        .record_events(&[scan("F", 0, "In Transit", TrackingStatus::InTransit)])
        .await
        .expect("scan");
    let scanned = request("PO-4", 5, &["F"]);
    let quiet = request("PO-6", 5, &["G"]);
    let saved = store
        .save_imported(
            ACCOUNT,
            &[
                (&scanned, &answer("PO-4", "STM-O4", &[(Some("F"), None, "STM-P6")])),
                (&quiet, &answer("PO-6", "STM-O6", &[(Some("G"), None, "STM-P7")])),
            ],
        )
        .await
        .expect("save");
    assert!(saved.iter().all(Result::is_ok), "{saved:?}");
    let order = store.order(Some(ACCOUNT), &reference("PO-4")).await.expect("read").expect("found");
    assert_eq!(
        (order.status, order.parcels[0].status),
        (TrackingStatus::InTransit, TrackingStatus::InTransit)
    );
    let order = store.order(Some(ACCOUNT), &reference("PO-6")).await.expect("read").expect("found");
    assert_eq!(
        (order.status, order.parcels[0].status),
        (TrackingStatus::Pending, TrackingStatus::Pending)
    );
}

/// The universe the property test draws pool rows from: two orders, three parcels.
const PARCELS: [(&str, &str, &str); 3] =
    [("PO-1", "M-1", "STM-P1"), ("PO-1", "M-2", "STM-P2"), ("PO-2", "M-3", "STM-P3")];
const ORDERS: [(&str, &str); 2] = [("PO-1", "STM-O1"), ("PO-2", "STM-O2")];
const STATUSES: [TrackingStatus; 8] = [
    TrackingStatus::Pending,
    TrackingStatus::InTransit,
    TrackingStatus::CustomsHold,
    TrackingStatus::OutForDelivery,
    TrackingStatus::AttemptFailed,
    TrackingStatus::Exception,
    TrackingStatus::Delivered,
    TrackingStatus::Unknown,
];

/// A sequence of pool rows with increasing cursors; small time and status ranges make
/// repeated event keys (replays of the same event under a new cursor) likely.
fn pool_items() -> impl Strategy<Value = Vec<FeedItem>> {
    prop::collection::vec((0usize..5, 0i64..6, 0usize..STATUSES.len()), 1..40).prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(i, (target, minute, status))| {
                let cursor = i as u64 + 1;
                let status = STATUSES[status];
                match target {
                    0..=2 => {
                        let (order, item, number) = PARCELS[target];
                        parcel_row(cursor, order, item, number, minute, status)
                    }
                    _ => {
                        let (order, number) = ORDERS[target - 3];
                        order_row(cursor, order, number, minute, status)
                    }
                }
            })
            .collect()
    })
}

/// Stores `items` in pages of the given sizes (cycled), replaying the pages flagged.
async fn drain(
    backend: &dyn Backend,
    items: &[FeedItem],
    sizes: &[usize],
    replays: &[bool],
) -> (StoreCounts, Vec<ParcelTimeline>, Cursor) {
    let (store, _guard) = backend.fresh().await;
    let mut pages = Vec::new();
    let mut rest = items;
    for size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (page, tail) = rest.split_at((*size).min(rest.len()));
        pages.push(page);
        rest = tail;
    }
    let mut total = 0;
    for (i, page) in pages.iter().enumerate() {
        let next = page.last().map_or(Cursor(0), |item| item.cursor);
        total += store.record_pool_page(ACCOUNT, page, next).await.expect("page");
        if replays.get(i).copied().unwrap_or(false) {
            assert_eq!(store.record_pool_page(ACCOUNT, page, next).await.expect("replay"), 0);
            // Replaying an older page after this one must not move the cursor back either.
            if let Some(first) = pages.first() {
                store.record_pool_page(ACCOUNT, first, Cursor(1)).await.expect("old page");
            }
        }
    }
    assert_eq!(total, items.len());
    let timelines = store.all_timelines().await.expect("timelines");
    for t in &timelines {
        assert_eq!(
            (t.parcel.status, t.parcel.milestone),
            (t.timeline.current_status(), t.timeline.current_milestone()),
            "{}",
            t.parcel.merchant_tracking_number
        );
    }
    (store.counts().await.expect("counts"), timelines, store.cursor(ACCOUNT).await.expect("cursor"))
}

/// The property: however a pool is cut into pages, and whichever pages are replayed (an old
/// page after a newer one too), the store ends up identical, with each event stored once and
/// the cursor at the end.
///
/// # Panics
/// When the property fails (with proptest's minimal counter-example).
pub fn page_boundaries_and_replays_do_not_change_the_result(backend: &dyn Backend) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let config = ProptestConfig { cases: 24, ..ProptestConfig::default() };
    let strategy = (
        pool_items(),
        prop::collection::vec(1usize..8, 1..5),
        prop::collection::vec(any::<bool>(), 0..10),
    );
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let result = runner.run(&strategy, |(items, sizes, replays)| {
        let (one_counts, one_timelines, one_cursor) =
            rt.block_on(drain(backend, &items, &[items.len()], &[]));
        let (counts, timelines, cursor) = rt.block_on(drain(backend, &items, &sizes, &replays));
        prop_assert_eq!(counts, one_counts);
        prop_assert_eq!(&timelines, &one_timelines);
        prop_assert_eq!(cursor, one_cursor);
        prop_assert_eq!(counts.pool_rows, items.len() as u64);
        // Each order-scoped event is stored once whatever the number of parcels.
        let keys: std::collections::BTreeSet<_> =
            items.iter().map(|i| waybill_domain::EventKey::of(&i.event)).collect();
        prop_assert_eq!(counts.events, keys.len() as u64);
        Ok(())
    });
    if let Err(e) = result {
        panic!("page boundaries and replays changed the result: {e}");
    }
}
