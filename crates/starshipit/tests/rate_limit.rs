//! Pacing against the sandbox's gateway: a burst through one key is paced, never refused,
//! and no one-second window on the server ever sees more than the key's rate. Assertions
//! use the sandbox's counters and recorded arrival times, never durations.
#![allow(clippy::unwrap_used)]

mod support;

use std::{num::NonZeroU32, time::Duration};

use futures::future::join_all;
use support::by_number;
use waybill_starshipit::{
    StarshipitClient,
    sandbox::{Sandbox, SandboxConfig},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_lookups_through_a_production_key_never_trip_the_limit() {
    let s = Sandbox::start(SandboxConfig { plan_unknown: true, ..SandboxConfig::default() })
        .await
        .unwrap();
    let key = s.production_subscription_key().to_owned();
    let build = || {
        StarshipitClient::builder(&s.base_url(), s.api_key().to_owned().into(), key.clone().into())
            .rate_limit_per_second(NonZeroU32::new(20).unwrap())
            .build()
            .unwrap()
    };
    // A clone and a separately built client: all three must draw from one budget.
    let a = build();
    let b = a.clone();
    let c = build();
    let lookups = (0..100).map(|i| {
        let client = [&a, &b, &c][i % 3].clone();
        async move { client.track(&by_number(&format!("BURST-{i}"))).await }
    });
    let results = join_all(lookups).await;
    assert!(results.iter().all(Result::is_ok), "{:?}", results.iter().find(|r| r.is_err()));

    let counters = s.counters();
    assert_eq!(counters.rate_limited, 0, "the sandbox never answered 429");
    assert_eq!(counters.arrivals[&key].len(), 100);
    let busiest = counters.max_arrivals_in_window(&key, Duration::from_secs(1));
    assert!(busiest <= 20, "{busiest} requests reached the gateway within one second");
    // The first 20 leave at once; every later one waits for a slot a second after an answer.
    assert!(a.limiter_waits() >= 80, "the burst was paced: {} waits", a.limiter_waits());
    assert_eq!(a.limiter_waits(), c.limiter_waits(), "one limiter per key in the process");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_pace_fits_a_developer_key() {
    let s = Sandbox::start(SandboxConfig { plan_unknown: true, ..SandboxConfig::default() })
        .await
        .unwrap();
    let key = s.developer_subscription_key().to_owned();
    let client =
        StarshipitClient::builder(&s.base_url(), s.api_key().to_owned().into(), key.clone().into())
            .build()
            .unwrap();
    let results = join_all((0..5).map(|i| {
        let client = client.clone();
        async move { client.track(&by_number(&format!("DEV-{i}"))).await }
    }))
    .await;
    assert!(results.iter().all(Result::is_ok));
    let counters = s.counters();
    assert_eq!(counters.rate_limited, 0);
    assert!(counters.max_arrivals_in_window(&key, Duration::from_secs(1)) <= 2);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpaced_client_is_refused_then_honours_retry_after() {
    let s = Sandbox::start(SandboxConfig { plan_unknown: true, ..SandboxConfig::default() })
        .await
        .unwrap();
    // Pretending the developer key allows 1000/s: the gateway refuses the excess and the
    // client waits its Retry-After before trying again.
    let client = StarshipitClient::builder(
        &s.base_url(),
        s.api_key().to_owned().into(),
        s.developer_subscription_key().to_owned().into(),
    )
    .rate_limit_per_second(NonZeroU32::new(1000).unwrap())
    .build()
    .unwrap();
    let results = join_all((0..4).map(|i| {
        let client = client.clone();
        async move { client.track(&by_number(&format!("RUSH-{i}"))).await }
    }))
    .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let counters = s.counters();
    assert!(counters.rate_limited >= 1, "the burst was refused at first");
    assert_eq!(counters.requests, 4 + counters.rate_limited);
    s.shutdown().await;
}
