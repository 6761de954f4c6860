//! The webhook emitter: watches every planned parcel and, for each event that becomes
//! visible in simulated time, POSTs the webhook payload (signed when a secret is set),
//! retrying with bounded backoff until the receiver answers 200.

use std::{collections::HashMap, sync::Arc, time::Duration};

use secrecy::SecretString;

use super::{
    WebhookTarget,
    plan::utc_7,
    shared::{Shared, lock},
};
use crate::webhook::{self, SIGNATURE_HEADER, WebhookEvent};

/// How often simulated time is checked for new events.
const TICK: Duration = Duration::from_millis(50);
/// Attempts per payload before it is given up (logged, not acked).
const MAX_ATTEMPTS: u32 = 8;

/// Runs until aborted.
pub(crate) async fn run(state: Arc<Shared>, target: WebhookTarget) {
    let http = reqwest::Client::new();
    let secret = target.secret.clone().map(SecretString::from);
    // Events already emitted, per tracking number.
    let mut emitted: HashMap<String, usize> = HashMap::new();
    loop {
        let now = state.sim_now();
        let mut plans = state.plans();
        plans.sort_by(|a, b| a.tracking_number.cmp(&b.tracking_number));
        for plan in plans {
            let done = emitted.entry(plan.tracking_number.clone()).or_insert(0);
            let visible = plan.visible(now);
            while *done < visible {
                let event = &plan.events[*done];
                let payload = WebhookEvent {
                    order_number: Some(plan.order_number.clone()),
                    order_reference: None,
                    carrier_name: Some(plan.carrier_name.to_owned()),
                    carrier_service: Some(plan.carrier_service.to_owned()),
                    shipment_date: Some(utc_7(plan.created_at)),
                    tracking_number: Some(plan.tracking_number.clone()),
                    // Webhooks speak PascalCase: "In Transit" → "InTransit".
                    tracking_status: Some(event.status.replace(' ', "")),
                    last_updated_date: Some(utc_7(event.at)),
                    // Exactly the eight fields of a real capture.
                    ..WebhookEvent::default()
                };
                deliver(&state, &http, &target.url, secret.as_ref(), &payload).await;
                *done += 1;
            }
        }
        tokio::time::sleep(TICK).await;
    }
}

async fn deliver(
    state: &Shared,
    http: &reqwest::Client,
    url: &str,
    secret: Option<&SecretString>,
    payload: &WebhookEvent,
) {
    let Ok(body) = serde_json::to_vec(payload) else { return };
    lock(&state.counters).webhooks_sent += 1;
    let mut backoff = Duration::from_millis(100);
    for attempt in 1..=MAX_ATTEMPTS {
        lock(&state.counters).webhook_attempts += 1;
        let mut request = http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .timeout(Duration::from_secs(10))
            .body(body.clone());
        if let Some(secret) = secret {
            request = request.header(SIGNATURE_HEADER, webhook::sign(secret, &body));
        }
        match request.send().await {
            Ok(r) if r.status() == reqwest::StatusCode::OK => {
                lock(&state.counters).webhooks_acked += 1;
                return;
            }
            Ok(r) => tracing::debug!(status = %r.status(), attempt, "webhook not acknowledged"),
            Err(e) => tracing::debug!(error = %e, attempt, "webhook delivery failed"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
    tracing::warn!(url, "webhook given up after {MAX_ATTEMPTS} attempts");
}
