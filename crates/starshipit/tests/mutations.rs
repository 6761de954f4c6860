//! The decoders under arbitrary JSON mutations of the fixtures (bounded, so it runs in CI in
//! a second or two): neither `/track` nor webhook decoding ever panics, a mutation elsewhere
//! in a `/track` answer never costs a well-formed scan its place in the result, and a webhook
//! payload keeps its event whatever is added around it.
#![allow(clippy::unwrap_used)]

mod support;

use proptest::prelude::*;
use serde_json::{Map, Value};
use support::{by_number, fixture};
use waybill_starshipit::{decode_track_json, webhook};

/// Every JSON fixture a `/track` answer can be.
const FIXTURES: &[&str] = &[
    "track-sample-spec.json",
    "track-in-transit-with-url.json",
    "track-results-array.json",
    "error-gateway-401-missing-key.json",
    "error-gateway-429.json",
    "error-general-exception.json",
    "real-world/track-spec-sample.json",
    "real-world/track-dartapi-results-array.json",
    "real-world/track-dartapi-results-object.json",
    "real-world/error-dart-mock-error-object-404.json",
    "real-world/error-dartapi-errors-only-401.json",
];

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("2017-04-12T15:22:45"),
            Just("true"),
            Just("1"),
            Just("In Transit"),
            Just("0000000000")
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// One edit: at the node reached by following `path` (indices taken modulo the children),
/// replace it, delete it, or add a field to it.
#[derive(Debug, Clone)]
enum Edit {
    Replace(Vec<usize>, Value),
    Delete(Vec<usize>),
    Insert(Vec<usize>, String, Value),
}

fn edit() -> impl Strategy<Value = Edit> {
    let path = prop::collection::vec(any::<usize>(), 0..5);
    prop_oneof![
        (path.clone(), any_json()).prop_map(|(p, v)| Edit::Replace(p, v)),
        path.clone().prop_map(Edit::Delete),
        (path, "[a-z_]{1,16}", any_json()).prop_map(|(p, k, v)| Edit::Insert(p, k, v)),
    ]
}

/// Applies `edit` to `root`.
fn apply(root: &mut Value, edit: &Edit) {
    let path = match edit {
        Edit::Replace(p, _) | Edit::Delete(p) | Edit::Insert(p, ..) => p.as_slice(),
    };
    apply_at(root, path, edit);
}

fn apply_at(node: &mut Value, path: &[usize], edit: &Edit) {
    let delete = matches!(edit, Edit::Delete(_));
    if let Some((step, rest)) = path.split_first() {
        match node {
            Value::Object(m) if !m.is_empty() => {
                let key = m.keys().nth(step % m.len()).cloned().unwrap();
                if rest.is_empty() && delete {
                    m.remove(&key);
                } else {
                    apply_at(m.get_mut(&key).unwrap(), rest, edit);
                }
                return;
            }
            Value::Array(a) if !a.is_empty() => {
                let i = step % a.len();
                if rest.is_empty() && delete {
                    a.remove(i);
                } else {
                    apply_at(&mut a[i], rest, edit);
                }
                return;
            }
            _ => {}
        }
    }
    match edit {
        Edit::Replace(_, v) => *node = v.clone(),
        Edit::Insert(_, k, v) => {
            if let Value::Object(m) = node {
                m.insert(k.clone(), v.clone());
            }
        }
        Edit::Delete(_) => {}
    }
}

/// (time, status) of every scan of the spec's sample.
fn sample_scans() -> Vec<(String, String)> {
    let v: Value = serde_json::from_str(&fixture("track-sample-spec.json")).unwrap();
    v["results"]["tracking_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (e["event_datetime"].as_str().unwrap().into(), e["status"].as_str().unwrap().into())
        })
        .collect()
}

/// Every webhook body among the fixtures.
const WEBHOOKS: &[&str] = &[
    "webhook-captured.json",
    "webhook-documented.json",
    "real-world/webhook-bedrock-sample-AUS.json",
    "real-world/webhook-bushpop-events-delivered.json",
    "real-world/webhook-bushpop-events-intransit-ms.json",
    "real-world/webhook-express-comment.json",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    /// Any mutation of any webhook fixture parses to payloads or a typed error: no panic.
    #[test]
    fn mutated_webhooks_never_panic(
        which in 0..WEBHOOKS.len(),
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let mut v: Value = serde_json::from_str(&fixture(WEBHOOKS[which])).unwrap();
        for e in &edits {
            apply(&mut v, e);
        }
        let body = serde_json::to_vec(&v).unwrap();
        if let Ok(payloads) = webhook::parse(&body) {
            for p in payloads {
                let _ = p.to_event(jiff::Timestamp::UNIX_EPOCH);
            }
        }
        let _ = webhook::parse(&body[..body.len() / 2]);
    }

    /// Unknown fields of any type added to a webhook payload never cost it its event, and
    /// each lands in the event's `extra`.
    #[test]
    fn unknown_webhook_fields_are_kept_and_never_cost_the_event(
        which in 0..WEBHOOKS.len(),
        extra in prop::collection::btree_map("x_[a-z]{1,10}", any_json(), 0..4),
    ) {
        let mut v: Value = serde_json::from_str(&fixture(WEBHOOKS[which])).unwrap();
        let target = match v.get_mut("events") {
            Some(Value::Array(items)) => &mut items[0],
            _ => &mut v,
        };
        for (k, x) in &extra {
            target.as_object_mut().unwrap().insert(k.clone(), x.clone());
        }
        let payloads = webhook::parse(&serde_json::to_vec(&v).unwrap()).unwrap();
        let event = payloads[0].to_event(jiff::Timestamp::UNIX_EPOCH)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (k, x) in &extra {
            prop_assert_eq!(event.extra.contains_key(k), !x.is_null(), "{} {:?}", k, event.extra);
        }
    }

    /// Any mutation of any fixture decodes to something (shipments or an error): no panic.
    #[test]
    fn mutated_fixtures_never_panic(
        which in 0..FIXTURES.len(),
        edits in prop::collection::vec(edit(), 1..6),
        number in prop_oneof![Just("0000000000"), Just("T1"), Just("2XD198209601000935102")],
    ) {
        let mut v: Value = serde_json::from_str(&fixture(FIXTURES[which])).unwrap();
        for e in &edits {
            apply(&mut v, e);
        }
        let body = serde_json::to_vec(&v).unwrap();
        let _ = decode_track_json(&by_number(number), &body);
        // Truncated bytes too: still no panic.
        let cut = body.len() / 2;
        let _ = decode_track_json(&by_number(number), &body[..cut]);
    }

    /// Garbage in some scans, unknown or oddly typed fields anywhere else, `success` in any
    /// of its truthy spellings: every scan left well-formed is still in the answer.
    #[test]
    fn mutations_elsewhere_never_lose_a_well_formed_scan(
        broken in prop::collection::btree_set(0usize..6, 0..4),
        garbage in prop::collection::vec(any_json(), 4),
        shipment_field in prop_oneof![
            Just("order_number"), Just("order_status"), Just("carrier_name"),
            Just("carrier_service"), Just("shipment_date"), Just("tracking_status"),
            Just("last_updated_date"), Just("tracking_url"), Just("brand_new_field"),
        ],
        shipment_value in any_json(),
        event_extra in ("[a-z_]{1,12}", any_json()),
        success in prop_oneof![
            Just(Value::Bool(true)), Just(Value::from(1)), Just(Value::from("true")),
            Just(Value::from("1")), Just(Value::Null),
        ],
        as_array in any::<bool>(),
    ) {
        let mut v: Value = serde_json::from_str(&fixture("track-sample-spec.json")).unwrap();
        let scans = sample_scans();
        {
            let shipment = v["results"].as_object_mut().unwrap();
            shipment.insert(shipment_field.into(), shipment_value);
            let events = shipment["tracking_events"].as_array_mut().unwrap();
            for (n, i) in broken.iter().enumerate() {
                events[*i] = garbage[n % garbage.len()].clone();
            }
            // An unknown field on a well-formed scan does not make it less well-formed.
            if let Some(e) = (0..6).find(|i| !broken.contains(i)) {
                let (k, x) = &event_extra;
                if !["event_datetime", "status", "details"].contains(&k.as_str()) {
                    events[e].as_object_mut().unwrap().insert(k.clone(), x.clone());
                }
            }
        }
        v["success"] = success;
        if as_array {
            v["results"] = Value::Array(vec![v["results"].take()]);
        }
        let body = serde_json::to_vec(&v).unwrap();
        let found = decode_track_json(&by_number("0000000000"), &body)
            .map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(found.len(), 1);
        let kept: Vec<(String, String)> = found[0]
            .events
            .iter()
            .map(|e| (e.raw_time.clone().unwrap_or_default(), e.raw_status.clone()))
            .collect();
        for (i, scan) in scans.iter().enumerate() {
            if !broken.contains(&i) {
                prop_assert!(kept.contains(scan), "scan {} {:?} lost: {:?}", i, scan, kept);
            }
        }
    }
}
