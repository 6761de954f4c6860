//! Several merchant accounts under one subscription key, against the sandbox: every parcel is
//! found with the account that shipped it (and remembered, so the next lookup is one
//! request), all accounts draw from one limiter, and a failure is never read as "not found".
#![allow(clippy::unwrap_used)]

mod support;

use jiff::SignedDuration;
use support::{by_number, by_order, unique_key};
use waybill_domain::Tracker;
use waybill_starshipit::{
    Error, StarshipitAccounts, StarshipitClient,
    sandbox::{Faults, Sandbox, SandboxConfig},
};

async fn setup(accounts: usize) -> (Sandbox, StarshipitAccounts) {
    let s = Sandbox::start(SandboxConfig { accounts, ..SandboxConfig::default() }).await.unwrap();
    let clients = s
        .api_keys()
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let client = support::fast(&s.base_url(), key, s.production_subscription_key())
                .rate_limit_per_second(std::num::NonZeroU32::new(15).unwrap())
                .build()
                .unwrap();
            (format!("merchant-{i}"), client)
        })
        .collect();
    (s, StarshipitAccounts::new(clients).unwrap())
}

#[tokio::test]
async fn each_parcel_is_tracked_with_the_account_that_shipped_it() {
    let (s, accounts) = setup(3).await;
    let start = s.simulated_now() - SignedDuration::from_hours(40);
    for (account, number) in [(0, "SHIP-A"), (1, "SHIP-B"), (2, "SHIP-C")] {
        s.register_shipment_for(account, number, &format!("PO-{number}"), start);
    }
    for (owner, number) in
        [("merchant-0", "SHIP-A"), ("merchant-1", "SHIP-B"), ("merchant-2", "SHIP-C")]
    {
        let found = accounts.track(&by_number(number)).await.unwrap();
        assert_eq!(found[0].tracking_number.as_str(), number);
        assert_eq!(accounts.owner(&by_number(number)), Some(owner));
    }
    // Remembered: the next lookup of SHIP-C asks merchant-2 only.
    let before = s.counters().requests;
    accounts.track(&by_number("SHIP-C")).await.unwrap();
    assert_eq!(s.counters().requests - before, 1);
    // By order number too, through the domain port.
    let port: &dyn Tracker = &accounts;
    assert_eq!(
        port.track(&by_order("PO-SHIP-B")).await.unwrap()[0].tracking_number.as_str(),
        "SHIP-B"
    );
    // Nobody shipped it: not found, naming every account asked.
    let e = accounts.track(&by_number("NOBODY-1")).await.unwrap_err();
    let Error::NotFound { message } = &e else { panic!("{e:?}") };
    assert!(message.contains("merchant-0") && message.contains("merchant-2"), "{message}");
    s.shutdown().await;
}

#[tokio::test]
async fn a_failure_is_not_read_as_not_found() {
    let (s, accounts) = setup(2).await;
    s.register_shipment_for(1, "SHIP-Z", "PO-Z", s.simulated_now());
    s.set_faults(Faults { rate_500: 1.0, ..Faults::default() });
    let e = accounts.track(&by_number("SHIP-Z")).await.unwrap_err();
    assert!(matches!(e, Error::Unavailable { status: 500, .. }), "{e:?}");
    assert_eq!(accounts.owner(&by_number("SHIP-Z")), None);
    s.shutdown().await;
}

#[test]
fn one_subscription_key_one_limiter_and_unique_names() {
    let sub = unique_key("accounts-limiter");
    let client = |key: &str| {
        StarshipitClient::builder("http://127.0.0.1:9", key.to_owned().into(), sub.clone().into())
            .build()
            .unwrap()
    };
    let accounts =
        StarshipitAccounts::new(vec![("a".into(), client("key-a")), ("b".into(), client("key-b"))])
            .unwrap();
    assert_eq!(accounts.names(), ["a", "b"]);
    assert_eq!(accounts.limiter_waits(), 0);
    let e = StarshipitAccounts::new(vec![("a".into(), client("1")), ("a".into(), client("2"))])
        .unwrap_err();
    assert!(e.to_string().contains("named twice"), "{e}");
    assert!(StarshipitAccounts::new(Vec::new()).is_err());
}
