//! Idempotency done right: the canonical fingerprint of an order request, and the check that
//! refuses a replay of a reference whose body differs from the one first sent.
//!
//! The reference is the carrier's idempotency key: a second request under the same reference
//! gets the *original* order back (`duplicate: true`) and changes nothing at the carrier. If
//! the second body differs, storing it would record parcels that were never sent, so the
//! store refuses it ([`IdempotencyConflict`]) and writes nothing — as Stripe answers a reused
//! idempotency key with different parameters.
//!
//! **Fingerprint.** SHA-256 (hex) of the request's canonical JSON: every field the request
//! carries — reference, service, each parcel (merchant tracking number, weight, package type,
//! dimensions, products), recipient, destination, shipping cost — with object keys sorted,
//! `null`s dropped (absent and null are the same to the carrier) and parcels sorted by
//! merchant tracking number (the order of rows in an import file does not change the order).
//!
//! **Orders stored before the fingerprint existed** (migration 0003) have none:
//! - when the request was stored (every order waybill created), its fingerprint is computed
//!   from the stored request, so it matches exactly when the new request is the same;
//! - when no request was stored (an order the status pool revealed before waybill saved it,
//!   e.g. after a crash between the carrier's answer and the save), the request matches when
//!   the stored service, if known, is the request's and every parcel the store knows is one
//!   of the request's parcels. The first matching save then stores the request and its
//!   fingerprint, so the next replay is checked exactly.

use std::{collections::BTreeMap, fmt, fmt::Write as _};

use serde_json::Value;
use sha2::{Digest, Sha256};
use waybill_domain::{Order, OrderRequest, PartnerOrderRef};

/// The canonical fingerprint of an order request: 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestFingerprint(String);

impl RequestFingerprint {
    /// The fingerprint of `request`.
    #[must_use]
    pub fn of(request: &OrderRequest) -> Self {
        Self::of_value(&request_value(request))
    }

    /// The fingerprint of a request as it was stored (its JSON), for orders saved before
    /// fingerprints were stored.
    #[must_use]
    pub fn of_value(request: &Value) -> Self {
        let digest = Sha256::digest(canonical_json(request).as_bytes());
        let mut hex = String::with_capacity(64);
        for byte in digest {
            let _ = write!(hex, "{byte:02x}");
        }
        Self(hex)
    }

    /// A stored fingerprint, as text.
    #[must_use]
    pub fn from_stored(text: String) -> Self {
        Self(text)
    }

    /// The hex digits.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A replay of a reference whose request differs from the one the order was created with.
/// Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyConflict {
    /// The reference replayed.
    pub reference: PartnerOrderRef,
    /// What the order was created with, in words (`item A via service 3`).
    pub stored: String,
    /// What this request has, in words (`item B via service 7`).
    pub requested: String,
    /// Each differing field (`service_id`, `items`, `items.TRK-1.weight`, `recipient`, …) with
    /// the stored and requested values.
    pub differences: BTreeMap<String, Vec<String>>,
}

impl fmt::Display for IdempotencyConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "order {} was created with {}; this request has {} — use a new reference (or repeat the original request exactly)",
            self.reference, self.stored, self.requested
        )
    }
}

impl std::error::Error for IdempotencyConflict {}

/// Whether a request may be sent (or saved) under its reference, as the store sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replay {
    /// The store has no order under this reference.
    New,
    /// The store has the order, created with this same request: a replay.
    Same,
    /// The store has the order, created with a different request: refuse it.
    Conflict(Box<IdempotencyConflict>),
}

/// What the store holds about an order, for [`check`].
// Used by the backends only.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
#[derive(Debug, Clone, Default)]
pub(crate) struct StoredRequest {
    /// The request it was created with, when stored.
    pub(crate) request: Option<Value>,
    /// Its fingerprint, when stored (from migration 0003 on).
    pub(crate) fingerprint: Option<String>,
    /// Its service, when known.
    pub(crate) service_id: Option<i64>,
    /// The merchant tracking numbers of its stored parcels.
    pub(crate) parcels: Vec<String>,
}

/// Compares a stored order with a new request under its reference (module docs: the rules).
// Used by the backends only.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn check(stored: &StoredRequest, request: &OrderRequest) -> Replay {
    let new = request_value(request);
    let new_fp = RequestFingerprint::of_value(&new);
    if let Some(old) = &stored.request {
        let old_fp = stored
            .fingerprint
            .clone()
            .map_or_else(|| RequestFingerprint::of_value(old), RequestFingerprint);
        if old_fp == new_fp {
            return Replay::Same;
        }
        return Replay::Conflict(Box::new(describe(request.reference(), old, &new)));
    }
    // No request stored: the order was revealed by the status pool (module docs).
    let requested: Vec<&str> =
        request.items().iter().map(|i| i.merchant_tracking_number.as_str()).collect();
    let service_differs =
        stored.service_id.is_some_and(|s| s != i64::from(request.service_id().get()));
    let unknown_parcel = stored.parcels.iter().any(|p| !requested.contains(&p.as_str()));
    if !service_differs && !unknown_parcel {
        return Replay::Same;
    }
    let mut old = serde_json::Map::new();
    if let Some(s) = stored.service_id {
        old.insert("service_id".into(), Value::from(s));
    } else {
        old.insert("service_id".into(), new["service_id"].clone());
    }
    let items = stored
        .parcels
        .iter()
        .map(|p| serde_json::json!({ "merchant_tracking_number": p }))
        .collect();
    old.insert("items".into(), Value::Array(items));
    let mut new_summary = new.clone();
    // Only parcels and service are known: compare just those.
    if let Some(items) = new_summary.get_mut("items").and_then(Value::as_array_mut) {
        for item in items.iter_mut() {
            if let Some(obj) = item.as_object_mut() {
                obj.retain(|k, _| k == "merchant_tracking_number");
            }
        }
    }
    let new_summary = serde_json::json!({
        "service_id": new_summary["service_id"].clone(),
        "items": new_summary["items"].clone(),
    });
    Replay::Conflict(Box::new(describe(request.reference(), &Value::Object(old), &new_summary)))
}

/// Checks a carrier's answer to a request the store has no record of: a replay
/// (`duplicate`) whose order lacks one of the request's parcels was created from another
/// request, so storing it as this one would record parcels that were never sent.
///
/// Extra parcels in the answer are fine (a parcel added to the order since), and so is an
/// answer to an order the store knows: its stored request decides ([`check`]), since the
/// order's parcels may have changed since it was created (added, split off, cancelled).
// Used by the backends only.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn check_answer(
    request: &OrderRequest,
    order: &Order,
) -> Result<(), IdempotencyConflict> {
    if !order.duplicate {
        return Ok(());
    }
    let requested: Vec<&str> =
        request.items().iter().map(|i| i.merchant_tracking_number.as_str()).collect();
    // waybill sends each parcel's merchant tracking number as its item id, so an answered
    // item id outside the request names a parcel this request never had.
    let answered: Vec<String> = order
        .parcels
        .iter()
        .filter_map(|p| {
            p.item_id
                .clone()
                .or_else(|| p.merchant_tracking_number.as_ref().map(ToString::to_string))
        })
        .collect();
    if requested.iter().all(|r| answered.iter().any(|a| a == r)) {
        return Ok(());
    }
    // The answer does not say which service the order has: only its parcels are named.
    let mut answered = answered;
    answered.sort();
    let mut requested: Vec<String> = requested.iter().map(|r| (*r).to_owned()).collect();
    requested.sort();
    Err(IdempotencyConflict {
        reference: request.reference().clone(),
        stored: format!(
            "{} (as the carrier answers it)",
            items_phrase(&answered, &BTreeMap::new())
        ),
        requested: format!(
            "{} via service {}",
            items_phrase(&requested, &BTreeMap::new()),
            request.service_id()
        ),
        differences: BTreeMap::from([(
            "items".to_owned(),
            vec![
                format!("stored: {}", answered.join(", ")),
                format!("requested: {}", requested.join(", ")),
            ],
        )]),
    })
}

/// The request as JSON, the shape both the fingerprint and the stored `request` column use.
pub(crate) fn request_value(request: &OrderRequest) -> Value {
    // A request is plain data with string keys: serializing it cannot fail.
    serde_json::to_value(request).unwrap_or(Value::Null)
}

/// Canonical JSON: keys sorted, nulls dropped, `items` sorted by merchant tracking number.
fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, None, &mut out);
    out
}

fn write_canonical(value: &Value, key: Option<&str>, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().filter(|k| !map[*k].is_null()).collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], Some(k), out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            let mut rendered: Vec<(String, String)> = items
                .iter()
                .map(|v| {
                    let mut s = String::new();
                    write_canonical(v, None, &mut s);
                    (sort_key(v), s)
                })
                .collect();
            if key == Some("items") {
                rendered.sort();
            }
            out.push('[');
            for (i, (_, s)) in rendered.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(s);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn sort_key(item: &Value) -> String {
    item.get("merchant_tracking_number").and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// The items of a request value by merchant tracking number, in the order given.
fn items_of(v: &Value) -> Vec<(String, &serde_json::Map<String, Value>)> {
    v.get("items")
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(|i| i.as_object().map(|o| (sort_key(i), o))).collect())
        .unwrap_or_default()
}

/// A value in words: text bare, anything else as compact JSON (nulls dropped).
fn words(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "none".into(),
        other => canonical_json(other),
    }
}

/// Describes how two request values differ, for an [`IdempotencyConflict`].
fn describe(reference: &PartnerOrderRef, old: &Value, new: &Value) -> IdempotencyConflict {
    let mut differences = BTreeMap::new();
    let old_items = items_of(old);
    let new_items = items_of(new);
    let names = |items: &[(String, &serde_json::Map<String, Value>)]| -> Vec<String> {
        let mut n: Vec<String> = items.iter().map(|(k, _)| k.clone()).collect();
        n.sort();
        n
    };
    let (old_names, new_names) = (names(&old_items), names(&new_items));
    if old_names != new_names {
        differences.insert(
            "items".to_owned(),
            vec![
                format!("stored: {}", old_names.join(", ")),
                format!("requested: {}", new_names.join(", ")),
            ],
        );
    }
    // Per-parcel details, for parcels both have.
    let mut old_detail: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut new_detail: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, old_item) in &old_items {
        let Some((_, new_item)) = new_items.iter().find(|(n, _)| n == name) else { continue };
        let mut fields: Vec<&String> = old_item.keys().chain(new_item.keys()).collect();
        fields.sort();
        fields.dedup();
        for field in fields {
            let a = old_item.get(field).cloned().unwrap_or(Value::Null);
            let b = new_item.get(field).cloned().unwrap_or(Value::Null);
            if canonical_json(&a) != canonical_json(&b) {
                differences.insert(
                    format!("items.{name}.{field}"),
                    vec![format!("stored: {}", words(&a)), format!("requested: {}", words(&b))],
                );
                old_detail.entry(name.clone()).or_default().push(format!("{field} {}", words(&a)));
                new_detail.entry(name.clone()).or_default().push(format!("{field} {}", words(&b)));
            }
        }
    }
    let service = |v: &Value| words(v.get("service_id").unwrap_or(&Value::Null));
    let (old_service, new_service) = (service(old), service(new));
    if old_service != new_service {
        differences.insert(
            "service_id".to_owned(),
            vec![format!("stored: {old_service}"), format!("requested: {new_service}")],
        );
    }
    // Order-level details: named, but recipients' contact data are not repeated in messages.
    let mut old_extra = Vec::new();
    let mut new_extra = Vec::new();
    for field in ["recipient", "destination", "shipping_cost"] {
        let a = old.get(field).cloned().unwrap_or(Value::Null);
        let b = new.get(field).cloned().unwrap_or(Value::Null);
        if canonical_json(&a) == canonical_json(&b) {
            continue;
        }
        if field == "recipient" {
            differences.insert(field.to_owned(), vec!["the recipient differs".to_owned()]);
            old_extra.push("its first recipient".to_owned());
            new_extra.push("a different recipient".to_owned());
        } else {
            let label = field.replace('_', " ");
            differences.insert(
                field.to_owned(),
                vec![format!("stored: {}", words(&a)), format!("requested: {}", words(&b))],
            );
            old_extra.push(format!("{label} {}", words(&a)));
            new_extra.push(format!("{label} {}", words(&b)));
        }
    }
    IdempotencyConflict {
        reference: reference.clone(),
        stored: summary(&old_names, &old_detail, &old_service, &old_extra),
        requested: summary(&new_names, &new_detail, &new_service, &new_extra),
        differences,
    }
}

/// `items A (weight 1500), B via service 3, destination {…}`.
fn summary(
    names: &[String],
    detail: &BTreeMap<String, Vec<String>>,
    service: &str,
    extra: &[String],
) -> String {
    let mut out = format!("{} via service {service}", items_phrase(names, detail));
    for e in extra {
        out.push_str(", ");
        out.push_str(e);
    }
    out
}

/// `items A (weight 1500), B` (at most five named, then "and N more").
fn items_phrase(names: &[String], detail: &BTreeMap<String, Vec<String>>) -> String {
    const SHOWN: usize = 5;
    let mut parts: Vec<String> = names
        .iter()
        .take(SHOWN)
        .map(|n| match detail.get(n) {
            Some(d) => format!("{n} ({})", d.join(", ")),
            None => n.clone(),
        })
        .collect();
    if names.len() > SHOWN {
        parts.push(format!("{} more", names.len() - SHOWN));
    }
    let noun = if names.len() == 1 { "item" } else { "items" };
    format!("{noun} {}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;
    use waybill_domain::{
        MerchantTrackingNumber, OrderItem, OrderParcel, RegionStatus, ServiceId, TrackingNumber,
        Weight,
    };

    fn request(service: u32, items: &[(&str, Option<u32>)]) -> OrderRequest {
        OrderRequest::new(
            ServiceId::new(service).unwrap(),
            PartnerOrderRef::parse("PO-1").unwrap(),
            items
                .iter()
                .map(|(n, w)| {
                    let item = OrderItem::new(MerchantTrackingNumber::parse(*n).unwrap());
                    match w {
                        Some(g) => item.with_weight(Weight::from_grams(*g).unwrap()),
                        None => item,
                    }
                })
                .collect(),
        )
        .unwrap()
    }

    fn stored(r: &OrderRequest) -> StoredRequest {
        StoredRequest {
            request: Some(request_value(r)),
            fingerprint: Some(RequestFingerprint::of(r).0),
            ..StoredRequest::default()
        }
    }

    #[test]
    fn the_issue_s_replay_names_item_and_service() {
        let first = request(3, &[("A", None)]);
        let replay = request(7, &[("B", None)]);
        let Replay::Conflict(c) = check(&stored(&first), &replay) else { panic!("a conflict") };
        assert_eq!(
            c.to_string(),
            "order PO-1 was created with item A via service 3; this request has item B via service 7 — use a new reference (or repeat the original request exactly)"
        );
        assert!(c.differences.contains_key("service_id") && c.differences.contains_key("items"));
        assert_eq!(check(&stored(&first), &first), Replay::Same);
    }

    #[test]
    fn a_changed_weight_is_named_with_both_values() {
        let first = request(5, &[("A", Some(1500)), ("B", None)]);
        let replay = request(5, &[("A", Some(2000)), ("B", None)]);
        let Replay::Conflict(c) = check(&stored(&first), &replay) else { panic!("a conflict") };
        assert!(c.stored.contains("A (weight 1500)"), "{c}");
        assert!(c.requested.contains("A (weight 2000)"), "{c}");
        assert_eq!(c.differences.keys().collect::<Vec<_>>(), ["items.A.weight"]);
    }

    #[test]
    fn orders_without_a_stored_fingerprint_are_compared_by_their_stored_request() {
        let first = request(5, &[("A", Some(1500))]);
        let legacy =
            StoredRequest { request: Some(request_value(&first)), ..StoredRequest::default() };
        assert_eq!(check(&legacy, &first), Replay::Same);
        assert!(matches!(check(&legacy, &request(5, &[("A", Some(1))])), Replay::Conflict(_)));
    }

    #[test]
    fn pool_revealed_orders_match_when_service_and_known_parcels_fit() {
        let pool = StoredRequest { parcels: vec!["A".into()], ..StoredRequest::default() };
        assert_eq!(check(&pool, &request(5, &[("A", None), ("B", None)])), Replay::Same);
        let Replay::Conflict(c) = check(&pool, &request(5, &[("B", None)])) else { panic!() };
        assert!(c.to_string().contains("created with item A via service 5"), "{c}");
        let with_service = StoredRequest { service_id: Some(3), ..pool };
        assert!(matches!(check(&with_service, &request(5, &[("A", None)])), Replay::Conflict(_)));
    }

    #[test]
    fn a_replayed_answer_must_hold_every_requested_parcel_and_may_hold_more() {
        let answer = |duplicate: bool, ids: &[&str]| Order {
            reference: PartnerOrderRef::parse("PO-1").unwrap(),
            tracking_number: TrackingNumber::parse("STM-1").unwrap(),
            duplicate,
            region_status: RegionStatus::NotApplicable,
            parcels: ids
                .iter()
                .map(|id| OrderParcel {
                    item_id: Some((*id).to_owned()),
                    merchant_tracking_number: None,
                    tracking_number: TrackingNumber::parse(format!("P-{id}")).unwrap(),
                })
                .collect(),
        };
        let req = request(5, &[("C", None)]);
        assert!(check_answer(&req, &answer(true, &["C", "X"])).is_ok(), "a parcel added since");
        assert!(check_answer(&req, &answer(false, &["D"])).is_ok(), "not a replay");
        let c = check_answer(&req, &answer(true, &["D"])).unwrap_err();
        assert_eq!(
            c.to_string(),
            "order PO-1 was created with item D (as the carrier answers it); this request has item C via service 5 — use a new reference (or repeat the original request exactly)"
        );
    }

    proptest! {
        /// The fingerprint ignores parcel order and key order, and sees every field.
        #[test]
        fn fingerprints_are_canonical(
            names in proptest::collection::btree_set("[A-Z]{1,4}", 1..6),
            weights in proptest::collection::vec(proptest::option::of(1u32..30_000), 6),
            service in 1u32..20,
        ) {
            let items: Vec<(String, Option<u32>)> =
                names.iter().cloned().zip(weights.iter().copied()).collect();
            let refs: Vec<(&str, Option<u32>)> = items.iter().map(|(n, w)| (n.as_str(), *w)).collect();
            let a = request(service, &refs);
            let mut reversed = refs.clone();
            reversed.reverse();
            let b = request(service, &reversed);
            prop_assert_eq!(RequestFingerprint::of(&a), RequestFingerprint::of(&b));
            prop_assert_eq!(check(&stored(&a), &b), Replay::Same);
            prop_assert_ne!(RequestFingerprint::of(&a), RequestFingerprint::of(&request(service + 1, &refs)));
            let mut heavier = refs.clone();
            heavier[0].1 = Some(heavier[0].1.unwrap_or(0) + 1);
            prop_assert_ne!(RequestFingerprint::of(&a), RequestFingerprint::of(&request(service, &heavier)));
            prop_assert_eq!(RequestFingerprint::of(&a).as_str().len(), 64);
        }
    }
}
