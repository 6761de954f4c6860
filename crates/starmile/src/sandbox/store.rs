//! The sandbox's state: per-partner order books and status pools.
//!
//! A pool row is materialised lazily: each order keeps its seeded plan and the index of its
//! next unpublished step, and a per-partner min-heap holds each order's next step time.
//! Every request first publishes every step whose simulated time has come, in time order,
//! appending `(order, step)` references to the pool; the cursor of a row is its position
//! plus one. Published rows never change, so the same cursor always returns the same row.

use std::{
    cmp::Reverse,
    collections::{BTreeMap, BinaryHeap, HashMap},
};

use super::{
    catalogue,
    lifecycle::{self, Delivery, Hub, PlanInput, Reason, Rng, Scope, Status, Step},
};
use crate::wire;

/// The order tracking number prefix; numbers are `STM` + 9 digits.
const PREFIX: &str = "STM";

fn tracking(number: u32) -> String {
    format!("{PREFIX}{number:09}")
}

fn parse_tracking(raw: &str) -> Option<u32> {
    let digits = raw.strip_prefix(PREFIX)?;
    if digits.len() != 9 {
        return None;
    }
    digits.parse().ok()
}

/// An order as the partner sent it, before validation.
#[derive(Debug, Default)]
pub(crate) struct NewOrder {
    pub(crate) service_id: Option<u32>,
    pub(crate) reference: Option<String>,
    pub(crate) items: Vec<NewItem>,
    /// Field errors found while reading the JSON shape.
    pub(crate) errors: BTreeMap<String, Vec<String>>,
}

/// One parcel of a [`NewOrder`].
#[derive(Debug, Default)]
pub(crate) struct NewItem {
    pub(crate) merchant: Option<String>,
    pub(crate) item_id: Option<String>,
}

/// What creating an order did.
pub(crate) enum Created {
    New(wire::CreatedOrder),
    Duplicate(wire::CreatedOrder),
    Invalid(BTreeMap<String, Vec<String>>),
}

/// What cancelling an order did.
pub(crate) enum Cancel {
    Done { order_id: String },
    NotFound,
    InCustody,
    AlreadyCancelled,
}

struct ParcelRec {
    number: u32,
    merchant: Box<str>,
    /// `None` when the item id equals the merchant tracking number.
    item_id: Option<Box<str>>,
}

impl ParcelRec {
    fn item_id(&self) -> &str {
        self.item_id.as_deref().unwrap_or(&self.merchant)
    }
}

struct OrderRec {
    reference: Box<str>,
    number: u32,
    region_status: &'static str,
    parcels: Box<[ParcelRec]>,
    plan: Vec<Step>,
    next_step: u16,
    cancel_detail: Option<Box<str>>,
}

#[derive(Clone, Copy)]
struct RowRef {
    order: u32,
    step: u16,
}

#[derive(Default)]
struct Book {
    orders: Vec<OrderRec>,
    by_ref: HashMap<Box<str>, u32>,
    by_tracking: HashMap<u32, (u32, Scope)>,
    merchant: HashMap<Box<str>, u32>,
    pool: Vec<RowRef>,
    pending: BinaryHeap<Reverse<(i64, u32)>>,
}

/// Every partner's books.
pub(crate) struct Store {
    seed: u64,
    unknown_rate: f64,
    books: Vec<Book>,
    next_number: u32,
    pub(crate) orders_created: u64,
}

impl Store {
    pub(crate) fn new(seed: u64, unknown_rate: f64, partners: usize) -> Self {
        Self {
            seed,
            unknown_rate,
            books: (0..partners).map(|_| Book::default()).collect(),
            next_number: 123,
            orders_created: 0,
        }
    }

    /// Rows published across all partners.
    pub(crate) fn pool_rows(&self) -> u64 {
        self.books.iter().map(|b| b.pool.len() as u64).sum()
    }

    /// Orders held across all partners.
    pub(crate) fn orders_held(&self) -> u64 {
        self.books.iter().map(|b| b.orders.len() as u64).sum()
    }

    fn number(&mut self) -> u32 {
        self.next_number += 1;
        self.next_number
    }

    /// Creates `count` orders for `partner` whose lifecycles ended before `epoch`, and
    /// publishes all their rows in time order.
    pub(crate) fn preload(&mut self, partner: usize, count: usize, epoch: i64) {
        let mut planned: Vec<(i64, u32, u16)> = Vec::new();
        for i in 0..count {
            let reference = format!("PRELOAD-{i:07}");
            let mut rng = Rng::new(self.seed ^ 0x5EED, &reference);
            let offer = rng.pick_ref(catalogue::OFFERS);
            let parcels: u8 = if rng.unit() < 0.2 { 2 } else { 1 };
            let destination = Hub::for_destination(rng.pick(offer.corridors).0);
            let input = PlanInput {
                seed: self.seed,
                reference: &reference,
                created_at: 0,
                delivery: offer.delivery,
                destination,
                parcels,
                unknown_rate: self.unknown_rate,
            };
            let mut plan = lifecycle::plan(&input);
            let span = plan.last().map_or(0, |s| s.at);
            let created_at = epoch - span - 3600 - rng.range(0, 10 * 86_400);
            for step in &mut plan {
                step.at += created_at;
            }
            let order = self.number();
            let parcels = (1..=parcels)
                .map(|k| ParcelRec {
                    number: self.number(),
                    merchant: format!("PL{i:07}-{k}").into(),
                    item_id: None,
                })
                .collect::<Box<[_]>>();
            let book = &mut self.books[partner];
            let idx = u32::try_from(book.orders.len()).unwrap_or(u32::MAX);
            for (n, s) in plan.iter().enumerate() {
                planned.push((s.at, idx, u16::try_from(n).unwrap_or(u16::MAX)));
            }
            book.index(idx, &reference, order, &parcels);
            book.orders.push(OrderRec {
                reference: reference.into(),
                number: order,
                region_status: region_status(offer.delivery, rng.unit()),
                parcels,
                next_step: u16::try_from(plan.len()).unwrap_or(u16::MAX),
                plan,
                cancel_detail: None,
            });
        }
        planned.sort_unstable();
        let book = &mut self.books[partner];
        book.pool.reserve(planned.len());
        book.pool.extend(planned.into_iter().map(|(_, order, step)| RowRef { order, step }));
    }

    /// Creates an order, or recognises a replay of its reference.
    pub(crate) fn create(&mut self, partner: usize, new: NewOrder, now: i64) -> Created {
        let mut errors = new.errors;
        let reference = match new.reference.as_deref().map(str::trim) {
            Some("") | None => {
                errors
                    .entry("external_parent_id".into())
                    .or_insert_with(|| vec!["The external parent id field is required.".into()]);
                None
            }
            Some(r) if r.chars().count() > 100 => {
                errors
                    .entry("external_parent_id".into())
                    .or_default()
                    .push("The external parent id may not be greater than 100 characters.".into());
                None
            }
            Some(r) => Some(r.to_owned()),
        };
        if let Some(r) = &reference
            && let Some(&idx) = self.books[partner].by_ref.get(r.as_str())
        {
            return Created::Duplicate(self.books[partner].answer(idx, true));
        }
        let offer = match new.service_id {
            None => {
                errors
                    .entry("service_id".into())
                    .or_insert_with(|| vec!["The service id field is required.".into()]);
                None
            }
            Some(id) => {
                let offer = catalogue::offer(id);
                if offer.is_none() {
                    errors
                        .entry("service_id".into())
                        .or_default()
                        .push("The selected service id is invalid.".into());
                }
                offer
            }
        };
        if new.items.is_empty() && !errors.contains_key("items") {
            errors.insert("items".into(), vec!["The items field is required.".into()]);
        }
        if new.items.len() > 100 {
            errors
                .insert("items".into(), vec!["The items may not have more than 100 items.".into()]);
        }
        let book = &self.books[partner];
        for (i, item) in new.items.iter().enumerate() {
            let field = format!("items.{i}.merchant_tracking_number");
            match item.merchant.as_deref().map(str::trim) {
                None | Some("") => errors
                    .entry(field)
                    .or_default()
                    .push(format!("The items.{i}.merchant_tracking_number field is required.")),
                Some(m) => {
                    if new.items[..i].iter().any(|o| o.merchant.as_deref() == Some(m)) {
                        errors.entry(field).or_default().push(format!(
                            "The items.{i}.merchant_tracking_number field has a duplicate value."
                        ));
                    } else if book.merchant.contains_key(m) {
                        errors
                            .entry(field)
                            .or_default()
                            .push("The merchant tracking number has already been taken.".into());
                    }
                }
            }
        }
        let (Some(reference), Some(offer), true) = (reference, offer, errors.is_empty()) else {
            return Created::Invalid(errors);
        };
        let mut rng = Rng::new(self.seed ^ 0xDE57, &reference);
        let destination = Hub::for_destination(rng.pick(offer.corridors).0);
        let parcel_count = u8::try_from(new.items.len()).unwrap_or(u8::MAX);
        let plan = lifecycle::plan(&PlanInput {
            seed: self.seed,
            reference: &reference,
            created_at: now,
            delivery: offer.delivery,
            destination,
            parcels: parcel_count,
            unknown_rate: self.unknown_rate,
        });
        let order = self.number();
        let parcels = new
            .items
            .into_iter()
            .map(|item| {
                let merchant: Box<str> = item.merchant.unwrap_or_default().trim().into();
                let item_id = item.item_id.filter(|id| *id != *merchant).map(Into::into);
                ParcelRec { number: self.number(), merchant, item_id }
            })
            .collect::<Box<[_]>>();
        let book = &mut self.books[partner];
        let idx = u32::try_from(book.orders.len()).unwrap_or(u32::MAX);
        book.index(idx, &reference, order, &parcels);
        book.pending.push(Reverse((plan[0].at, idx)));
        book.orders.push(OrderRec {
            reference: reference.into(),
            number: order,
            region_status: region_status(offer.delivery, rng.unit()),
            parcels,
            plan,
            next_step: 0,
            cancel_detail: None,
        });
        self.orders_created += 1;
        Created::New(book.answer(idx, false))
    }

    /// Cancels an order that has not reached the hub yet.
    pub(crate) fn cancel(
        &mut self,
        partner: usize,
        reference: &str,
        detail: Option<String>,
        now: i64,
    ) -> Cancel {
        self.advance(partner, now);
        let book = &mut self.books[partner];
        let Some(&idx) = book.by_ref.get(reference) else {
            return Cancel::NotFound;
        };
        let order = &mut book.orders[idx as usize];
        let published = &order.plan[..usize::from(order.next_step)];
        if published.iter().any(|s| s.status == Status::Cancelled) {
            return Cancel::AlreadyCancelled;
        }
        if published.iter().any(|s| s.scope != 0) {
            return Cancel::InCustody;
        }
        order.plan.truncate(usize::from(order.next_step));
        let at = order.plan.last().map_or(now, |s| s.at.max(now));
        order.plan.push(Step {
            at,
            status: Status::Cancelled,
            reason: Some(Reason::CancelledByPartner),
            scope: 0,
            hub: Hub::Sydney,
        });
        order.cancel_detail = detail.map(Into::into);
        book.pool.push(RowRef { order: idx, step: order.next_step });
        order.next_step += 1;
        Cancel::Done { order_id: tracking(order.number) }
    }

    /// Publishes every step due at simulated time `now`.
    pub(crate) fn advance(&mut self, partner: usize, now: i64) {
        let book = &mut self.books[partner];
        while let Some(&Reverse((at, idx))) = book.pending.peek() {
            if at > now {
                break;
            }
            book.pending.pop();
            let order = &mut book.orders[idx as usize];
            let step = usize::from(order.next_step);
            // A stale entry (the plan was cut by a cancellation) is skipped.
            if order.plan.get(step).is_none_or(|s| s.at != at) {
                continue;
            }
            book.pool.push(RowRef { order: idx, step: order.next_step });
            order.next_step += 1;
            if let Some(next) = order.plan.get(step + 1) {
                book.pending.push(Reverse((next.at, idx)));
            }
        }
    }

    /// A page of the pool after `since`, with the contract's filters (AND).
    pub(crate) fn changes(
        &mut self,
        partner: usize,
        query: &PoolQuery<'_>,
        now: i64,
    ) -> wire::ChangesPage {
        self.advance(partner, now);
        let book = &self.books[partner];
        let empty =
            wire::ChangesPage { data: Vec::new(), next_cursor: query.since, has_more: false };
        let by_ref = match query.reference {
            Some(r) => match book.by_ref.get(r) {
                Some(&idx) => Some(idx),
                None => return empty,
            },
            None => None,
        };
        let by_tracking = match query.tracking_number {
            Some(t) => match parse_tracking(t).and_then(|n| book.by_tracking.get(&n)) {
                Some(&hit) => Some(hit),
                None => return empty,
            },
            None => None,
        };
        let matches = |r: &RowRef| {
            by_ref.is_none_or(|idx| r.order == idx)
                && by_tracking.is_none_or(|(idx, scope)| {
                    r.order == idx
                        && book.orders[idx as usize].plan[usize::from(r.step)].scope == scope
                })
        };
        let start = usize::try_from(query.since).unwrap_or(usize::MAX).min(book.pool.len());
        let mut data = Vec::with_capacity(query.limit.min(200));
        let mut has_more = false;
        for (offset, r) in book.pool[start..].iter().enumerate() {
            if !matches(r) {
                continue;
            }
            if data.len() == query.limit {
                has_more = true;
                break;
            }
            data.push(book.row((start + offset + 1) as u64, *r));
        }
        let next_cursor = data.last().map_or(query.since, |r| r.cursor);
        wire::ChangesPage { data, next_cursor, has_more }
    }
}

/// The pool query after clamping.
pub(crate) struct PoolQuery<'a> {
    pub(crate) since: u64,
    pub(crate) limit: usize,
    pub(crate) tracking_number: Option<&'a str>,
    pub(crate) reference: Option<&'a str>,
}

fn region_status(delivery: Delivery, draw: f64) -> &'static str {
    match delivery {
        Delivery::Domestic => "not_applicable",
        _ if draw < 0.1 => "pending_mapping",
        _ => "mapped",
    }
}

impl Book {
    fn index(&mut self, idx: u32, reference: &str, order: u32, parcels: &[ParcelRec]) {
        self.by_ref.insert(reference.into(), idx);
        self.by_tracking.insert(order, (idx, 0));
        for (k, p) in parcels.iter().enumerate() {
            self.by_tracking.insert(p.number, (idx, u8::try_from(k + 1).unwrap_or(u8::MAX)));
            self.merchant.insert(p.merchant.clone(), idx);
        }
    }

    fn answer(&self, idx: u32, duplicate: bool) -> wire::CreatedOrder {
        let order = &self.orders[idx as usize];
        wire::CreatedOrder {
            order_id: tracking(order.number),
            duplicate,
            region_status: Some(order.region_status.into()),
            items: order
                .parcels
                .iter()
                .map(|p| wire::CreatedItem {
                    item_id: Some(p.item_id().into()),
                    parcel_id: tracking(p.number),
                })
                .collect(),
        }
    }

    fn row(&self, cursor: u64, r: RowRef) -> wire::PoolRow {
        let order = &self.orders[r.order as usize];
        let step_idx = usize::from(r.step);
        let step = order.plan[step_idx];
        let parcel = step.scope.checked_sub(1).map(|p| &order.parcels[usize::from(p)]);
        let earlier = &order.plan[..step_idx];
        let previous = earlier
            .iter()
            .rev()
            .find(|s| s.scope == step.scope)
            .or_else(|| {
                (step.scope != 0).then(|| earlier.iter().rev().find(|s| s.scope == 0)).flatten()
            })
            .map(|s| s.status.name().to_owned());
        let occurred_at = jiff::Timestamp::from_second(step.at)
            .map(|t| step.hub.tz().to_datetime(t).strftime("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        let detail = match (step.reason, &order.cancel_detail) {
            (Some(Reason::CancelledByPartner), Some(d)) => Some(d.to_string()),
            (Some(reason), _) => Some(reason.detail().to_owned()),
            (None, _) => None,
        };
        wire::PoolRow {
            cursor,
            tracking_number: Some(tracking(parcel.map_or(order.number, |p| p.number))),
            external_parent_id: Some(order.reference.to_string()),
            external_id: parcel.map(|p| p.item_id().to_owned()),
            country: step.hub.country().map(Into::into),
            status: step.status.name().into(),
            previous_status: previous,
            occurred_at: Some(occurred_at),
            timezone: Some(step.hub.zone().into()),
            reason: step.reason.map(|r| r.code().into()),
            reason_detail: detail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(reference: &str, merchants: &[&str]) -> NewOrder {
        NewOrder {
            service_id: Some(5),
            reference: Some(reference.into()),
            items: merchants
                .iter()
                .map(|m| NewItem { merchant: Some((*m).into()), item_id: None })
                .collect(),
            errors: BTreeMap::new(),
        }
    }

    fn all(store: &mut Store, now: i64) -> Vec<wire::PoolRow> {
        let q = PoolQuery { since: 0, limit: usize::MAX, tracking_number: None, reference: None };
        store.changes(0, &q, now).data
    }

    #[test]
    fn rows_appear_as_the_clock_reaches_them_and_never_change() {
        let mut store = Store::new(1, 0.0, 1);
        let t0 = 1_780_000_000;
        assert!(matches!(store.create(0, order("PO-1", &["TRK-1"]), t0), Created::New(_)));
        let first = all(&mut store, t0);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].status, "waiting_for_arrival");
        assert_eq!(first[0].previous_status, None);
        let later = all(&mut store, t0 + 30 * 86_400);
        assert!(later.len() > 5);
        assert_eq!(format!("{:?}", later[0]), format!("{:?}", first[0]));
        assert_eq!(later[1].previous_status.as_deref(), Some("waiting_for_arrival"));
        assert_eq!(later[1].external_id.as_deref(), Some("TRK-1"));
        assert!(later.windows(2).all(|w| w[0].cursor + 1 == w[1].cursor));
    }

    #[test]
    fn preloaded_pools_are_complete_and_time_ordered() {
        let mut store = Store::new(3, 0.02, 1);
        let epoch = 1_780_000_000;
        store.preload(0, 500, epoch);
        let rows = all(&mut store, epoch);
        assert_eq!(rows.len() as u64, store.pool_rows());
        assert!(rows.len() > 500 * 5);
        let geneses = rows.iter().filter(|r| r.previous_status.is_none()).count();
        assert_eq!(geneses, 500);
    }

    #[test]
    fn cancelling_is_refused_once_in_custody() {
        let mut store = Store::new(1, 0.0, 1);
        let t0 = 1_780_000_000;
        let _ = store.create(0, order("PO-1", &["A"]), t0);
        let _ = store.create(0, order("PO-2", &["B"]), t0);
        assert!(matches!(store.cancel(0, "PO-1", None, t0 + 60), Cancel::Done { .. }));
        assert!(matches!(store.cancel(0, "PO-1", None, t0 + 60), Cancel::AlreadyCancelled));
        assert!(matches!(store.cancel(0, "PO-2", None, t0 + 40 * 3600), Cancel::InCustody));
        assert!(matches!(store.cancel(0, "PO-3", None, t0), Cancel::NotFound));
        let rows = all(&mut store, t0 + 90 * 86_400);
        let po1: Vec<_> =
            rows.iter().filter(|r| r.external_parent_id.as_deref() == Some("PO-1")).collect();
        assert_eq!(po1.len(), 2, "nothing after the cancellation");
        assert_eq!(po1[1].status, "cancelled");
        assert_eq!(po1[1].reason.as_deref(), Some("cancelled_by_partner"));
    }
}
