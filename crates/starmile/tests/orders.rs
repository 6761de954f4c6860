//! Order creation and cancellation against the sandbox: replays, the commit-then-time-out
//! fault that justifies retrying creation, and path encoding.

mod common;

use std::time::Duration;

use waybill_domain::{OrderDesk, PartnerOrderRef, RegionStatus};
use waybill_starmile::{
    ChangesQuery, RetryPolicy,
    sandbox::{Faults, SandboxConfig},
};

#[tokio::test]
async fn created_then_replayed_with_the_original_ids() {
    let sandbox = common::start(common::config()).await;
    let client = common::client(&sandbox, 0);
    let request = common::order("PO-10294", &["TRK-1", "TRK-2"]);
    let first = client.create_order(&request).await.unwrap();
    assert!(!first.duplicate);
    assert_eq!(first.parcels.len(), 2);
    assert_eq!(first.parcels[1].merchant_tracking_number.as_ref().unwrap().as_str(), "TRK-2");
    assert_ne!(first.region_status, RegionStatus::Other(String::new()));
    let again = client.create_order(&request).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.tracking_number, first.tracking_number);
    assert_eq!(again.parcels, first.parcels);
    assert_eq!(sandbox.counters().orders_created, 1);
    assert_eq!(sandbox.counters().requests_to("/api/v1/orders", 201), 1);
    assert_eq!(sandbox.counters().requests_to("/api/v1/orders", 200), 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn commit_then_time_out_is_recovered_by_an_idempotent_retry() {
    let faults = Faults {
        commit_then_timeout_rate: 1.0,
        hang: Duration::from_secs(30),
        ..Faults::default()
    };
    let sandbox = common::start(SandboxConfig { faults, ..common::config() }).await;
    // The client gives up on the first answer after 500 ms; the order is committed anyway.
    let client = common::builder(&sandbox, 0).timeout(Duration::from_millis(500)).build().unwrap();
    let order = client.create_order(&common::order("PO-CT-1", &["CT-1"])).await.unwrap();
    assert!(order.duplicate, "the retry found the committed order");
    let c = sandbox.counters();
    assert_eq!(c.orders_created, 1, "exactly one order");
    assert_eq!(c.orders_held, 1);
    assert_eq!(c.requests_to("/api/v1/orders", 200), 1, "one replay answered");
    // Its genesis row is in the pool once.
    let page = client
        .changes(&ChangesQuery {
            reference: Some(order.reference.clone()),
            ..ChangesQuery::since(Default::default())
        })
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].event.tracking_number, order.tracking_number);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn without_retries_the_lost_answer_is_a_transport_error() {
    // The counter-proof: the same fault, no retry, the caller sees a timeout although the
    // order exists. This is why creation is retried (and only because it is idempotent).
    let faults = Faults {
        commit_then_timeout_rate: 1.0,
        hang: Duration::from_secs(30),
        ..Faults::default()
    };
    let sandbox = common::start(SandboxConfig { faults, ..common::config() }).await;
    let client = common::builder(&sandbox, 0)
        .timeout(Duration::from_millis(300))
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let e = client.create_order(&common::order("PO-CT-2", &["CT-2"])).await.unwrap_err();
    assert!(matches!(e, waybill_starmile::Error::Transport { .. }), "{e:?}");
    assert_eq!(sandbox.counters().orders_created, 1);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn references_with_slashes_are_percent_encoded_in_paths() {
    let sandbox = common::start(common::config()).await;
    let client = common::client(&sandbox, 0);
    client.create_order(&common::order("ORD/1", &["S-1"])).await.unwrap();
    let desk: &dyn OrderDesk = &client;
    desk.cancel_order(&PartnerOrderRef::parse("ORD/1").unwrap(), Some("duplicate".into()))
        .await
        .unwrap();
    let c = sandbox.counters();
    assert_eq!(c.requests_to("/api/v1/orders/{order}/cancel", 200), 1);
    // The cancelled row carries the partner reason code and the caller's detail.
    let page = client
        .changes(&ChangesQuery {
            reference: Some(PartnerOrderRef::parse("ORD/1").unwrap()),
            ..ChangesQuery::since(Default::default())
        })
        .await
        .unwrap();
    let last = &page.items.last().unwrap().event;
    assert_eq!(last.raw_status, "cancelled");
    let reason = last.reason.as_ref().unwrap();
    assert_eq!(
        (reason.code.as_str(), reason.detail.as_deref()),
        ("cancelled_by_partner", Some("duplicate"))
    );
    let again =
        desk.cancel_order(&PartnerOrderRef::parse("ORD/1").unwrap(), None).await.unwrap_err();
    assert_eq!(again.kind(), "conflict");
    sandbox.shutdown().await;
}
