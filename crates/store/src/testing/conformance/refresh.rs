//! Conformance cases of the first-leg refresh schedule: which parcels are offered for a
//! lookup (not final, first leg not over, not covered by a webhook) and in what order (due
//! order, never-looked-up first), and what a lookup or a push notes.

use std::time::Duration;

use waybill_domain::{Cursor, Milestone, TrackingStatus};

use super::{ACCOUNT, MAIN, answer, event, mtn, parcel_row, request, scan};
use crate::{NextRefresh, RefreshCandidate, RefreshSelection, Refreshed, Store};

/// Three parcels M-1, M-2, M-3 of one order, none looked up yet.
async fn three_parcels(store: &dyn Store) {
    let req = request("PO-1", 5, &["M-1", "M-2", "M-3"]);
    let ans = answer(
        "PO-1",
        "O1",
        &[(Some("M-1"), None, "P1"), (Some("M-2"), None, "P2"), (Some("M-3"), None, "P3")],
    );
    store.save_order(ACCOUNT, &req, &ans).await.expect("save");
}

/// Everything offered, webhooks covering for an hour.
fn all() -> RefreshSelection {
    RefreshSelection { limit: 100, pushed_within: Duration::from_secs(3600) }
}

fn numbers(c: &[RefreshCandidate]) -> Vec<String> {
    c.iter().map(|c| c.merchant_tracking_number.to_string()).collect()
}

async fn offered(store: &dyn Store, selection: &RefreshSelection) -> Vec<String> {
    numbers(&store.refresh_candidates(selection).await.expect("candidates"))
}

fn due_in(secs: u64, news: bool) -> Refreshed {
    Refreshed { news, next: NextRefresh::After(Duration::from_secs(secs)) }
}

/// A conformance case (see the module docs): final parcels are never offered; the others come
/// never-looked-up first, then the due ones by due time, then the rest by their last lookup.
pub async fn refresh_candidates_skip_final_parcels_and_come_in_due_order(store: &dyn Store) {
    three_parcels(store).await;
    // The main carrier delivers M-2: a final parcel needs no more lookups.
    let mut delivered = event(MAIN, "P2", 0, "delivered", TrackingStatus::Delivered);
    delivered.merchant_tracking_number = Some(mtn("M-2"));
    store.record_events(&[delivered]).await.expect("events");

    assert_eq!(offered(store, &all()).await, ["M-1", "M-3"]);
    store.mark_refreshed(&mtn("M-1"), &due_in(0, false)).await.expect("mark");
    assert_eq!(offered(store, &all()).await, ["M-3", "M-1"], "never looked up first");
    let one = RefreshSelection { limit: 1, ..all() };
    assert_eq!(offered(store, &one).await, ["M-3"]);
    // M-3 is due in an hour, M-1 now: M-1 first, though it was looked up before M-3. Parcels
    // not due yet are still offered (after the due ones), so no request the budget allows is
    // lost.
    store.mark_refreshed(&mtn("M-3"), &due_in(3600, false)).await.expect("mark");
    assert_eq!(offered(store, &all()).await, ["M-1", "M-3"]);
    // Neither due: the least recently looked up first (M-3), not the soonest due (M-1)...
    store.mark_refreshed(&mtn("M-1"), &due_in(1800, false)).await.expect("mark");
    assert_eq!(offered(store, &all()).await, ["M-3", "M-1"]);
    // ...and once due, the most overdue first.
    store.mark_refreshed(&mtn("M-3"), &due_in(0, false)).await.expect("mark");
    store.mark_refreshed(&mtn("M-1"), &due_in(0, false)).await.expect("mark");
    assert_eq!(offered(store, &all()).await, ["M-3", "M-1"]);
    store.mark_refreshed(&mtn("M-3"), &due_in(0, false)).await.expect("mark");
    assert_eq!(offered(store, &all()).await, ["M-1", "M-3"]);
}

/// A conformance case (see the module docs): a parcel whose first leg is over is never offered
/// again: a lookup saw the hand-over ([`NextRefresh::Never`]), or the main carrier holds it
/// (a milestone at or past its origin hub, even though it is not final) and its one closing
/// lookup is done.
pub async fn a_parcel_whose_first_leg_is_over_is_never_offered(store: &dyn Store) {
    three_parcels(store).await;
    store
        .mark_refreshed(&mtn("M-1"), &Refreshed { news: true, next: NextRefresh::Never })
        .await
        .expect("mark");
    // A later lookup saying otherwise (another worker's stale answer) does not revive it.
    store.mark_refreshed(&mtn("M-1"), &due_in(0, true)).await.expect("mark");
    assert_eq!(offered(store, &all()).await, ["M-2", "M-3"]);

    // The main carrier's hub receives M-2: the first leg is over, the parcel still moving.
    let mut hub = parcel_row(1, "PO-1", "M-2", "P2", 10, TrackingStatus::InTransit);
    hub.event.raw_status = "received_at_hub".into();
    hub.event.milestone = Some(Milestone::AtOriginHub);
    store.record_pool_page(ACCOUNT, &[hub], Cursor(1)).await.expect("page");
    let t = store.parcel_timeline("M-2").await.expect("timeline").expect("parcel");
    assert!(!t.parcel.status.is_terminal());
    // No lookup saw its first leg end, so it is owed one closing lookup (for the first leg's
    // last scans), after the due parcels; that lookup ends the first leg whatever it found.
    assert_eq!(offered(store, &all()).await, ["M-3", "M-2"]);
    store.mark_refreshed(&mtn("M-2"), &due_in(0, false)).await.expect("mark");
    assert_eq!(offered(store, &all()).await, ["M-3"]);

    // First-leg scans, a delivery scan included (a hand-over, joined as in transit), rank
    // below the hub: they do not end the first leg by themselves.
    store
        .record_events(&[
            scan("M-3", 1, "Dispatched", TrackingStatus::InTransit),
            scan("M-3", 2, "Delivered", TrackingStatus::Delivered),
        ])
        .await
        .expect("scans");
    assert_eq!(offered(store, &all()).await, ["M-3"]);
}

/// A conformance case (see the module docs): a parcel a webhook pushed an event for is not
/// offered while the push is recent ([`RefreshSelection::pushed_within`]); a push reporting
/// the hand-over ends its first leg for good; the pushed events are stored like any others.
pub async fn a_webhook_covers_a_parcel_while_its_push_is_recent(store: &dyn Store) {
    three_parcels(store).await;
    let pushed = [scan("M-1", 1, "Dispatched", TrackingStatus::InTransit)];
    assert_eq!(store.record_pushed(&pushed, &[]).await.expect("push"), 1);
    assert_eq!(store.record_pushed(&pushed, &[]).await.expect("push"), 0, "idempotent");
    let t = store.parcel_timeline("M-1").await.expect("timeline").expect("parcel");
    assert_eq!(t.timeline.events().len(), 1);

    assert_eq!(offered(store, &all()).await, ["M-2", "M-3"]);
    let lapsed = RefreshSelection { pushed_within: Duration::ZERO, ..all() };
    assert_eq!(offered(store, &lapsed).await, ["M-1", "M-2", "M-3"], "the cover lapsed");

    // The push reporting M-2's hand-over: never offered again, cover or not.
    let delivered = [scan("M-2", 5, "Delivered", TrackingStatus::Delivered)];
    store.record_pushed(&delivered, &[mtn("M-2")]).await.expect("push");
    assert_eq!(offered(store, &lapsed).await, ["M-1", "M-3"]);
    // Nothing pushed, nothing noted.
    store.record_pushed(&[], &[]).await.expect("empty push");
    assert_eq!(offered(store, &lapsed).await, ["M-1", "M-3"]);
}

/// A conformance case (see the module docs): a candidate says how long since its last news:
/// unknown before its first lookup, counted from the first lookup, and starting over at a
/// lookup or a push that brought news (not at one that did not).
pub async fn candidates_say_how_long_they_have_been_idle(store: &dyn Store) {
    three_parcels(store).await;
    let idle = |c: &[RefreshCandidate], n: &str| {
        c.iter().find(|c| c.merchant_tracking_number.as_str() == n).expect("offered").idle
    };
    let c = store.refresh_candidates(&all()).await.expect("candidates");
    assert_eq!(idle(&c, "M-1"), None);
    store.mark_refreshed(&mtn("M-1"), &due_in(0, false)).await.expect("mark");
    store.mark_refreshed(&mtn("M-2"), &due_in(0, true)).await.expect("mark");
    tokio::time::sleep(Duration::from_millis(300)).await;
    store.mark_refreshed(&mtn("M-1"), &due_in(0, false)).await.expect("mark");
    store.mark_refreshed(&mtn("M-2"), &due_in(0, true)).await.expect("mark");
    let c = store.refresh_candidates(&all()).await.expect("candidates");
    let (one, two) = (idle(&c, "M-1").expect("idle"), idle(&c, "M-2").expect("idle"));
    assert!(one >= Duration::from_millis(300), "counted from the first lookup: {one:?}");
    assert!(two < Duration::from_millis(300), "news starts it over: {two:?}");
    assert!(one < Duration::from_secs(60) && two < Duration::from_secs(60));
}
