//! The sandbox's state: per-partner order books and status pools.
//!
//! A pool row is materialised lazily: each order keeps its seeded plan and the index of its
//! next unpublished step, and a per-partner min-heap holds each order's next step time.
//! Every request first publishes every step whose simulated time has come, in time order,
//! appending `(order, step)` references to the pool; the cursor of a row is its position
//! plus one. Published rows never change, so the same cursor always returns the same row.

use std::{
    cmp::Reverse,
    collections::{BinaryHeap, HashMap},
};

use super::{
    catalogue, events as rules,
    intake::{
        DestinationIn, FieldErrors, MAX_LIST, NewItem, NewOrder, ParcelInfo, ParcelPatch,
        ProductIn, RecipientIn, Shape, add,
    },
    lifecycle::{self, Delivery, Hub, PlanInput, Reason, Rng, Scope, Status, Step},
};
use crate::{EventType, wire};

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

/// What creating an order did.
pub(crate) enum Created {
    New(wire::CreatedOrder),
    Duplicate(wire::CreatedOrder),
    Invalid(FieldErrors),
}

/// What cancelling an order did.
pub(crate) enum Cancel {
    Done { order_id: String },
    NotFound,
    InCustody,
    AlreadyCancelled,
}

/// Where a parcel stands apart from its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ParcelState {
    Active,
    Cancelled,
    /// Split off onto another order; its rows before the split stay here.
    Moved,
}

#[derive(Clone)]
struct ParcelRec {
    number: u32,
    merchant: Option<Box<str>>,
    /// The partner's item reference, only when sent (never made up).
    item_id: Option<Box<str>>,
    info: Option<Box<ParcelInfo>>,
    state: ParcelState,
}

/// What a full order says about its recipient and destination (labels print it).
#[derive(Clone)]
pub(crate) struct OrderInfo {
    pub(crate) recipient: RecipientIn,
    pub(crate) destination: DestinationIn,
}

struct OrderRec {
    reference: Box<str>,
    number: u32,
    service_id: u32,
    delivery: Delivery,
    destination: Hub,
    region_status: &'static str,
    parcels: Vec<ParcelRec>,
    plan: Vec<Step>,
    next_step: u16,
    cancel_detail: Option<Box<str>>,
    info: Option<Box<OrderInfo>>,
}

impl OrderRec {
    fn published(&self) -> &[Step] {
        &self.plan[..usize::from(self.next_step)]
    }

    fn is_cancelled(&self) -> bool {
        self.published().iter().any(|s| s.scope == 0 && s.status == Status::Cancelled)
    }

    /// The last published status of `scope`, falling back to the order's own.
    fn status_of(&self, scope: Scope) -> Status {
        let published = self.published();
        published
            .iter()
            .rev()
            .find(|s| s.scope == scope)
            .or_else(|| published.iter().rev().find(|s| s.scope == 0))
            .map_or(Status::WaitingForArrival, |s| s.status)
    }

    /// Whether parcel `scope` has been received (any published step past waiting).
    fn in_custody(&self, scope: Scope) -> bool {
        self.published().iter().any(|s| s.scope == scope && s.status != Status::WaitingForArrival)
    }

    fn active_parcels(&self) -> usize {
        self.parcels.iter().filter(|p| p.state == ParcelState::Active).count()
    }

    /// Drops the unpublished steps of `scope` (the simulation stops driving it) and
    /// returns them.
    fn drop_future(&mut self, scope: Scope) -> Vec<Step> {
        let tail = self.plan.split_off(usize::from(self.next_step));
        let (mine, rest): (Vec<Step>, Vec<Step>) = tail.into_iter().partition(|s| s.scope == scope);
        self.plan.extend(rest);
        mine
    }
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
    items: HashMap<Box<str>, u32>,
    /// Inbound events by idempotency key: the package's number.
    events: HashMap<Box<str>, u32>,
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
                .map(|k| {
                    let merchant: Box<str> = format!("PL{i:07}-{k}").into();
                    ParcelRec {
                        number: self.number(),
                        item_id: Some(merchant.clone()),
                        merchant: Some(merchant),
                        info: None,
                        state: ParcelState::Active,
                    }
                })
                .collect::<Vec<_>>();
            let book = &mut self.books[partner];
            let idx = u32::try_from(book.orders.len()).unwrap_or(u32::MAX);
            for (n, s) in plan.iter().enumerate() {
                planned.push((s.at, idx, u16::try_from(n).unwrap_or(u16::MAX)));
            }
            book.index(idx, &reference, order, &parcels);
            book.orders.push(OrderRec {
                reference: reference.into(),
                number: order,
                service_id: offer.id,
                delivery: offer.delivery,
                destination,
                region_status: "not_applicable",
                parcels,
                next_step: u16::try_from(plan.len()).unwrap_or(u16::MAX),
                plan,
                cancel_detail: None,
                info: None,
            });
        }
        planned.sort_unstable();
        let book = &mut self.books[partner];
        book.pool.reserve(planned.len());
        book.pool.extend(planned.into_iter().map(|(_, order, step)| RowRef { order, step }));
    }

    /// Creates an order, or recognises a replay of its reference. Errors name the fields
    /// of the shape the body used; full orders (the record's shape, or any recipient or
    /// destination field) follow the record's rules: a phone or an email, a destination
    /// matching the service's channel, products on every parcel.
    pub(crate) fn create(&mut self, partner: usize, new: NewOrder, now: i64) -> Created {
        let mut errors = new.errors.clone();
        let shape = new.shape;
        let rkey = shape.reference_key();
        let words = rkey.replace('_', " ");
        let reference = match new.reference.as_deref().map(str::trim) {
            Some("") | None => {
                if !errors.contains_key(rkey) {
                    add(&mut errors, rkey, format!("The {words} field is required."));
                }
                None
            }
            Some(r) if r.chars().count() > 100 => {
                add(
                    &mut errors,
                    rkey,
                    format!("The {words} may not be greater than 100 characters."),
                );
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
                if !errors.contains_key("service_id") {
                    add(&mut errors, "service_id", "The service id field is required.");
                }
                None
            }
            Some(id) => {
                let offer = catalogue::offer(id);
                if offer.is_none() {
                    add(&mut errors, "service_id", "The selected service id is invalid.");
                }
                offer
            }
        };
        let key = shape.items_key();
        if new.items.is_empty() && !errors.contains_key(key) {
            add(&mut errors, key, format!("The {key} field is required."));
        }
        if new.items.len() > MAX_LIST {
            add(&mut errors, key, format!("The {key} field must not have more than 100 items."));
        }
        let full = new.is_full();
        let book = &self.books[partner];
        for (i, item) in new.items.iter().enumerate() {
            book.check_item(item, &format!("{key}.{i}"), shape, full, &new.items[..i], &mut errors);
        }
        if full {
            check_contact(&new.recipient, &mut errors);
            if let Some(offer) = offer {
                check_destination(offer.delivery, &new.destination, &mut errors);
            }
        }
        let (Some(reference), Some(offer), true) = (reference, offer, errors.is_empty()) else {
            return Created::Invalid(errors);
        };
        let mut rng = Rng::new(self.seed ^ 0xDE57, &reference);
        let (region_status, destination) = place(offer, &new.destination, &mut rng);
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
        let parcels = new.items.into_iter().map(|item| self.parcel_rec(item)).collect::<Vec<_>>();
        let info = full.then(|| {
            Box::new(OrderInfo { recipient: new.recipient, destination: new.destination })
        });
        let book = &mut self.books[partner];
        let idx = u32::try_from(book.orders.len()).unwrap_or(u32::MAX);
        book.index(idx, &reference, order, &parcels);
        book.pending.push(Reverse((plan[0].at, idx)));
        book.orders.push(OrderRec {
            reference: reference.into(),
            number: order,
            service_id: offer.id,
            delivery: offer.delivery,
            destination,
            region_status,
            parcels,
            plan,
            next_step: 0,
            cancel_detail: None,
            info,
        });
        self.orders_created += 1;
        Created::New(book.answer(idx, false))
    }

    fn parcel_rec(&mut self, item: NewItem) -> ParcelRec {
        ParcelRec {
            number: self.number(),
            merchant: item.merchant.map(Into::into),
            item_id: item.item_id.map(Into::into),
            info: (!item.info.is_empty()).then(|| Box::new(item.info)),
            state: ParcelState::Active,
        }
    }

    /// Adds a parcel (`POST /orders/{order}/parcels`): products required, references
    /// unique, not on a cancelled order.
    pub(crate) fn add_parcel(
        &mut self,
        partner: usize,
        reference: &str,
        item: NewItem,
        mut errors: FieldErrors,
        now: i64,
    ) -> ParcelOutcome {
        self.advance(partner, now);
        let book = &self.books[partner];
        let Some(&idx) = book.by_ref.get(reference) else {
            return ParcelOutcome::NotFound("Order not found.");
        };
        if book.orders[idx as usize].is_cancelled() {
            return ParcelOutcome::Conflict("Order is already cancelled.".into());
        }
        book.check_item(&item, "", Shape::Record, true, &[], &mut errors);
        if book.orders[idx as usize].parcels.len() >= MAX_LIST {
            add(&mut errors, "parcels", "The order already has 100 parcels.");
        }
        if !errors.is_empty() {
            return ParcelOutcome::Invalid(errors);
        }
        let rec = self.parcel_rec(item);
        let seed = self.seed;
        let book = &mut self.books[partner];
        let order = &mut book.orders[idx as usize];
        let k = order.parcels.len();
        let scope = u8::try_from(k + 1).unwrap_or(u8::MAX);
        let input = PlanInput {
            seed,
            reference: &order.reference,
            created_at: now,
            delivery: order.delivery,
            destination: order.destination,
            parcels: 1,
            unknown_rate: 0.0,
        };
        let steps = lifecycle::parcel_plan(&input, scope, now);
        let next = usize::from(order.next_step);
        let mut tail = order.plan.split_off(next);
        tail.extend(steps);
        tail.sort_by_key(|s| s.at);
        order.plan.extend(tail);
        order.parcels.push(rec.clone());
        book.index_parcel(idx, k, &rec);
        book.rearm(idx);
        ParcelOutcome::Done(Box::new(book.parcel_answer(idx, k, None)))
    }

    /// Changes a parcel that has not been received (`PATCH …/parcels/{item}`).
    pub(crate) fn update_parcel(
        &mut self,
        partner: usize,
        reference: &str,
        item: &str,
        patch: ParcelPatch,
        mut errors: FieldErrors,
        now: i64,
    ) -> ParcelOutcome {
        self.advance(partner, now);
        let book = &self.books[partner];
        let (idx, k) = match book.find_parcel(reference, item) {
            Ok(hit) => hit,
            Err(outcome) => return outcome,
        };
        if let Err(outcome) = book.changeable(idx, k) {
            return outcome;
        }
        if let Some(m) = &patch.merchant
            && book.merchant.contains_key(m.as_str())
            && book.orders[idx as usize].parcels[k].merchant.as_deref() != Some(m.as_str())
        {
            add(&mut errors, "merchant_tracking", "The merchant tracking has already been taken.");
        }
        if let Some(products) = &patch.info.products
            && products.is_empty()
        {
            add(&mut errors, "products", "The products field must have at least 1 items.");
        }
        if patch.merchant.is_none() && patch.info.is_empty() && errors.is_empty() {
            add(&mut errors, "body", "Send at least one field to change.");
        }
        if !errors.is_empty() {
            return ParcelOutcome::Invalid(errors);
        }
        let book = &mut self.books[partner];
        let parcel = &mut book.orders[idx as usize].parcels[k];
        if let Some(m) = patch.merchant {
            if let Some(old) = parcel.merchant.replace(m.as_str().into()) {
                book.merchant.remove(&old);
            }
            book.merchant.insert(m.into(), idx);
        }
        let parcel = &mut book.orders[idx as usize].parcels[k];
        let info = parcel.info.get_or_insert_with(Box::default);
        let p = patch.info;
        info.package_type = p.package_type.or(info.package_type.take());
        info.weight_grams = p.weight_grams.or(info.weight_grams);
        info.length_mm = p.length_mm.or(info.length_mm);
        info.width_mm = p.width_mm.or(info.width_mm);
        info.height_mm = p.height_mm.or(info.height_mm);
        if p.products.is_some() {
            info.products = p.products;
        }
        ParcelOutcome::Done(Box::new(book.parcel_answer(idx, k, None)))
    }

    /// Cancels one parcel before it is received; the order goes with its last one.
    pub(crate) fn cancel_parcel(
        &mut self,
        partner: usize,
        reference: &str,
        item: &str,
        detail: Option<String>,
        now: i64,
    ) -> ParcelOutcome {
        self.advance(partner, now);
        let book = &mut self.books[partner];
        let (idx, k) = match book.find_parcel(reference, item) {
            Ok(hit) => hit,
            Err(outcome) => return outcome,
        };
        if let Err(outcome) = book.changeable(idx, k) {
            return outcome;
        }
        let scope = u8::try_from(k + 1).unwrap_or(u8::MAX);
        let order = &mut book.orders[idx as usize];
        order.drop_future(scope);
        order.parcels[k].state = ParcelState::Cancelled;
        let last = order.active_parcels() == 0;
        if detail.is_some() {
            order.cancel_detail = detail.map(Into::into);
        }
        let step = |scope| Step {
            at: now,
            status: Status::Cancelled,
            reason: Some(Reason::CancelledByPartner),
            scope,
            hub: Hub::Sydney,
        };
        book.publish_now(idx, step(scope), now);
        if last {
            let order = &mut book.orders[idx as usize];
            order.plan.truncate(usize::from(order.next_step));
            book.publish_now(idx, step(0), now);
        }
        book.rearm(idx);
        let status = if last { "cancelled" } else { "waiting_for_arrival" };
        ParcelOutcome::Done(Box::new(book.parcel_answer(idx, k, Some(status))))
    }

    /// Moves one parcel onto a new order named `new_reference`.
    pub(crate) fn split_parcel(
        &mut self,
        partner: usize,
        reference: &str,
        item: &str,
        new_reference: Option<String>,
        now: i64,
    ) -> ParcelOutcome {
        self.advance(partner, now);
        let book = &self.books[partner];
        let (idx, k) = match book.find_parcel(reference, item) {
            Ok(hit) => hit,
            Err(outcome) => return outcome,
        };
        let mut errors = FieldErrors::new();
        match new_reference.as_deref() {
            None | Some("") => {
                add(&mut errors, "new_order_id", "The new order id field is required.");
            }
            Some(r) if r == reference => add(
                &mut errors,
                "new_order_id",
                "The new order id must be different from the order being split.",
            ),
            Some(r) if r.chars().count() > 100 => add(
                &mut errors,
                "new_order_id",
                "The new order id may not be greater than 100 characters.",
            ),
            Some(r) if book.by_ref.contains_key(r) => {
                add(&mut errors, "new_order_id", "The new order id has already been taken.");
            }
            Some(_) => {}
        }
        if let Err(outcome) = book.changeable(idx, k) {
            return outcome;
        }
        if book.orders[idx as usize].active_parcels() < 2 {
            return ParcelOutcome::Conflict(
                "An order with a single parcel cannot be split.".into(),
            );
        }
        let (Some(new_reference), true) = (new_reference, errors.is_empty()) else {
            return ParcelOutcome::Invalid(errors);
        };
        let number = self.number();
        let book = &mut self.books[partner];
        let scope = u8::try_from(k + 1).unwrap_or(u8::MAX);
        let source = &mut book.orders[idx as usize];
        let moved = source.drop_future(scope);
        let mut parcel = source.parcels[k].clone();
        source.parcels[k].state = ParcelState::Moved;
        parcel.state = ParcelState::Active;
        let mut plan = vec![Step {
            at: now,
            status: Status::WaitingForArrival,
            reason: None,
            scope: 0,
            hub: Hub::Sydney,
        }];
        plan.extend(moved.into_iter().map(|s| Step { scope: 1, ..s }));
        let clone = OrderRec {
            reference: new_reference.as_str().into(),
            number,
            service_id: source.service_id,
            delivery: source.delivery,
            destination: source.destination,
            region_status: source.region_status,
            parcels: vec![parcel],
            plan,
            next_step: 0,
            cancel_detail: None,
            info: source.info.clone(),
        };
        let source_ref = source.reference.to_string();
        book.rearm(idx);
        let new_idx = u32::try_from(book.orders.len()).unwrap_or(u32::MAX);
        book.index(new_idx, &new_reference, number, &clone.parcels);
        book.pending.push(Reverse((now, new_idx)));
        book.orders.push(clone);
        let mut answer = book.parcel_answer(new_idx, 0, None);
        answer.new_order_id = Some(new_reference);
        answer.source_order_id = Some(source_ref);
        ParcelOutcome::Done(Box::new(answer))
    }

    /// Applies an inbound event to the package `tracking_number`.
    pub(crate) fn report_event(
        &mut self,
        partner: usize,
        event: &NewEvent,
        now: i64,
    ) -> EventOutcome {
        self.advance(partner, now);
        let book = &mut self.books[partner];
        let Some(&(idx, mut scope)) =
            parse_tracking(&event.tracking_number).and_then(|n| book.by_tracking.get(&n))
        else {
            return EventOutcome::NotFound;
        };
        let order = &book.orders[idx as usize];
        if scope == 0 {
            let active: Vec<usize> = (0..order.parcels.len())
                .filter(|k| order.parcels[*k].state == ParcelState::Active)
                .collect();
            match active[..] {
                [k] => scope = u8::try_from(k + 1).unwrap_or(u8::MAX),
                _ => {
                    let mut errors = FieldErrors::new();
                    add(
                        &mut errors,
                        "tracking_number",
                        format!(
                            "The tracking number names an order of {} parcels: report events per parcel.",
                            active.len()
                        ),
                    );
                    return EventOutcome::Invalid(errors);
                }
            }
        }
        let current = order.status_of(scope);
        if book.events.contains_key(event.event_id.as_str()) {
            return EventOutcome::Duplicate { status: current.name() };
        }
        let to = match rules::next(event.kind, current) {
            Ok(to) => to,
            Err((error, hint)) => return EventOutcome::Rejected { error, hint },
        };
        let hub = order.published().last().map_or(Hub::Sydney, |s| s.hub);
        let number = order.parcels[usize::from(scope) - 1].number;
        book.orders[idx as usize].drop_future(scope);
        let reason = event.reason.as_deref().and_then(Reason::from_code);
        book.publish_now(idx, Step { at: now, status: to, reason, scope, hub }, now);
        book.rearm(idx);
        book.events.insert(event.event_id.as_str().into(), number);
        EventOutcome::Applied { status: to.name() }
    }

    /// What a label prints, for the parcel or order the query names.
    pub(crate) fn label(
        &mut self,
        partner: usize,
        query: &LabelQuery,
        now: i64,
    ) -> Option<LabelData> {
        self.advance(partner, now);
        let book = &self.books[partner];
        let (idx, scope) = match query {
            LabelQuery::Merchant(m) => {
                let idx = *book.merchant.get(m.as_str())?;
                let k = book.orders[idx as usize].parcels.iter().position(|p| {
                    p.merchant.as_deref() == Some(m) && p.state != ParcelState::Moved
                })?;
                (idx, u8::try_from(k + 1).unwrap_or(u8::MAX))
            }
            LabelQuery::Parcel(t) => {
                let hit = *book.by_tracking.get(&parse_tracking(t)?)?;
                if hit.1 == 0 {
                    return None;
                }
                hit
            }
            LabelQuery::Order(t) => {
                let hit = *book.by_tracking.get(&parse_tracking(t)?)?;
                if hit.1 != 0 {
                    return None;
                }
                hit
            }
        };
        Some(book.label_data(idx, scope))
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
        // Parcel rows other than a waiting or cancelled parcel mean one is in custody.
        let held = |s: &&Step| !matches!(s.status, Status::WaitingForArrival | Status::Cancelled);
        if published.iter().filter(|s| s.scope != 0).any(|s| held(&s)) {
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

/// What a parcel route did.
pub(crate) enum ParcelOutcome {
    Done(Box<wire::ParcelAnswer>),
    NotFound(&'static str),
    Conflict(String),
    Invalid(FieldErrors),
}

/// An inbound event, read and checked against its type.
pub(crate) struct NewEvent {
    pub(crate) event_id: String,
    pub(crate) kind: EventType,
    pub(crate) tracking_number: String,
    /// `data.reason`, kept on the pool row when it is a known reason code.
    pub(crate) reason: Option<String>,
}

/// What reporting an event did.
pub(crate) enum EventOutcome {
    Applied { status: &'static str },
    Duplicate { status: &'static str },
    Rejected { error: String, hint: String },
    NotFound,
    Invalid(FieldErrors),
}

/// Which label is asked for.
pub(crate) enum LabelQuery {
    Merchant(String),
    Parcel(String),
    Order(String),
}

/// Everything a label prints.
pub(crate) struct LabelData {
    /// The barcode: the parcel's (or order's) Starmile tracking number.
    pub(crate) tracking_number: String,
    pub(crate) reference: String,
    pub(crate) merchant: Option<String>,
    /// `1/2` for the first of two parcels; `order` for an order label.
    pub(crate) position: String,
    pub(crate) service: &'static str,
    pub(crate) destination_country: &'static str,
    pub(crate) weight_grams: Option<u32>,
    pub(crate) dimensions: Option<(u32, u32, u32)>,
    pub(crate) products: Vec<ProductIn>,
    pub(crate) info: Option<OrderInfo>,
}

/// Where a full order goes: its `region_status` and destination hub.
fn place(offer: &catalogue::Offer, d: &DestinationIn, rng: &mut Rng) -> (&'static str, Hub) {
    let drawn = Hub::for_destination(rng.pick(offer.corridors).0);
    if d.pudo_id.is_some() || d.locker_id.is_some() {
        return ("not_applicable", drawn);
    }
    let Some(region) = d.region.as_deref() else {
        return ("not_applicable", drawn);
    };
    match catalogue::region(offer, region) {
        Some(country) => ("mapped", Hub::for_destination(country)),
        None => ("pending_mapping", drawn),
    }
}

fn check_contact(r: &RecipientIn, errors: &mut FieldErrors) {
    if r.phone.is_none() && r.email.is_none() {
        add(
            errors,
            "customer_phone",
            "The customer phone field is required when customer email is not present.",
        );
        add(
            errors,
            "customer_email",
            "The customer email field is required when customer phone is not present.",
        );
    }
}

fn check_destination(delivery: Delivery, d: &DestinationIn, errors: &mut FieldErrors) {
    match delivery {
        Delivery::Pudo => {
            if d.pudo_id.is_none() && d.locker_id.is_none() {
                add(
                    errors,
                    "pudo_id",
                    "pudo_id (or locker_id) is required for a Pudo Delivery service.",
                );
            }
        }
        Delivery::Home | Delivery::Domestic => {
            if d.pudo_id.is_some() || d.locker_id.is_some() {
                let key = if d.pudo_id.is_some() { "pudo_id" } else { "locker_id" };
                add(
                    errors,
                    key,
                    format!(
                        "{key} is not accepted by a Home Delivery service: send region and address_first."
                    ),
                );
            }
            if d.region.is_none() {
                add(errors, "region", "region is required for a Home Delivery service.");
            }
            if d.address_first.is_none() {
                add(
                    errors,
                    "address_first",
                    "address_first is required for a Home Delivery service.",
                );
            }
        }
    }
}

impl Book {
    /// The per-parcel rules that need the book: the sticker code (required in the spec's
    /// shape), references unique within the order and across orders, products on full
    /// orders. `field` prefixes error keys (`parcels.0`; empty for an add).
    fn check_item(
        &self,
        item: &NewItem,
        field: &str,
        shape: Shape,
        full: bool,
        earlier: &[NewItem],
        errors: &mut FieldErrors,
    ) {
        let name = |k: &str| if field.is_empty() { k.to_owned() } else { format!("{field}.{k}") };
        let mkey = name(shape.merchant_key());
        match item.merchant.as_deref() {
            None if shape == Shape::Spec => {
                add(errors, &mkey, format!("The {mkey} field is required."));
            }
            None => {}
            Some(m) => {
                if earlier.iter().any(|o| o.merchant.as_deref() == Some(m)) {
                    add(errors, &mkey, format!("The {mkey} field has a duplicate value."));
                } else if self.merchant.contains_key(m) {
                    add(errors, &mkey, "The merchant tracking number has already been taken.");
                }
            }
        }
        // An item id equal to a sticker code already refused adds no second message.
        let echoed = item.item_id == item.merchant && errors.contains_key(&mkey);
        if let Some(id) = item.item_id.as_deref().filter(|_| !echoed) {
            let ikey = name("item_id");
            if earlier.iter().any(|o| o.item_id.as_deref() == Some(id)) {
                add(errors, &ikey, format!("The {ikey} field has a duplicate value."));
            } else if self.items.contains_key(id) {
                add(errors, &ikey, "The item id has already been taken.");
            }
        }
        if full {
            let pkey = name("products");
            match &item.info.products {
                None => add(errors, &pkey, format!("The {pkey} field is required.")),
                Some(p) if p.is_empty() => {
                    add(errors, &pkey, format!("The {pkey} field must have at least 1 items."));
                }
                Some(_) => {}
            }
        }
    }

    /// The order by the partner's reference and the parcel by its item reference (or its
    /// merchant tracking number); moved parcels are gone from their old order.
    fn find_parcel(&self, reference: &str, item: &str) -> Result<(u32, usize), ParcelOutcome> {
        let &idx = self.by_ref.get(reference).ok_or(ParcelOutcome::NotFound("Order not found."))?;
        let parcels = &self.orders[idx as usize].parcels;
        let live = |p: &ParcelRec| p.state != ParcelState::Moved;
        parcels
            .iter()
            .position(|p| live(p) && p.item_id.as_deref() == Some(item))
            .or_else(|| parcels.iter().position(|p| live(p) && p.merchant.as_deref() == Some(item)))
            .map(|k| (idx, k))
            .ok_or(ParcelOutcome::NotFound("Parcel not found."))
    }

    /// Whether parcel `k` may still change: not cancelled, order not cancelled, not received.
    fn changeable(&self, idx: u32, k: usize) -> Result<(), ParcelOutcome> {
        let order = &self.orders[idx as usize];
        if order.is_cancelled() {
            return Err(ParcelOutcome::Conflict("Order is already cancelled.".into()));
        }
        if order.parcels[k].state == ParcelState::Cancelled {
            return Err(ParcelOutcome::Conflict("Parcel is already cancelled.".into()));
        }
        if order.in_custody(u8::try_from(k + 1).unwrap_or(u8::MAX)) {
            return Err(ParcelOutcome::Conflict("Parcel is already in custody.".into()));
        }
        Ok(())
    }

    fn parcel_answer(&self, idx: u32, k: usize, order_status: Option<&str>) -> wire::ParcelAnswer {
        let order = &self.orders[idx as usize];
        let p = &order.parcels[k];
        let info = p.info.as_deref().cloned().unwrap_or_default();
        let status = match p.state {
            ParcelState::Cancelled => "cancelled",
            _ => order.status_of(u8::try_from(k + 1).unwrap_or(u8::MAX)).name(),
        };
        wire::ParcelAnswer {
            order_id: tracking(order.number),
            new_order_id: None,
            source_order_id: None,
            order_status: order_status.map(Into::into),
            item: wire::ParcelView {
                item_id: p.item_id.as_deref().map(Into::into),
                parcel_id: tracking(p.number),
                merchant_tracking: p.merchant.as_deref().map(Into::into),
                status: Some(status.into()),
                package_type: info.package_type,
                weight_grams: info.weight_grams,
                length_mm: info.length_mm,
                width_mm: info.width_mm,
                height_mm: info.height_mm,
                products: info
                    .products
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|p| serde_json::to_value(p).ok())
                    .collect(),
            },
        }
    }

    fn label_data(&self, idx: u32, scope: Scope) -> LabelData {
        let order = &self.orders[idx as usize];
        let service = catalogue::offer(order.service_id).map_or("Starmile", |o| o.name);
        let live: Vec<&ParcelRec> =
            order.parcels.iter().filter(|p| p.state != ParcelState::Moved).collect();
        let (tracking_number, merchant, position, infos): (u32, _, String, Vec<&ParcelRec>) =
            match scope.checked_sub(1) {
                Some(k) => {
                    let p = &order.parcels[usize::from(k)];
                    let n = live.iter().position(|q| q.number == p.number).map_or(1, |n| n + 1);
                    (
                        p.number,
                        p.merchant.as_deref().map(Into::into),
                        format!("{n}/{}", live.len()),
                        vec![p],
                    )
                }
                None => (order.number, None, format!("order, {} parcels", live.len()), live),
            };
        let mut products = Vec::new();
        let mut weight = None::<u32>;
        let mut dims = None;
        for p in &infos {
            let Some(info) = p.info.as_deref() else { continue };
            products.extend(info.products.iter().flatten().cloned());
            if let Some(w) = info.weight_grams {
                weight = Some(weight.unwrap_or(0).saturating_add(w));
            }
            if let (Some(l), Some(w), Some(h)) = (info.length_mm, info.width_mm, info.height_mm) {
                dims = Some((l, w, h));
            }
        }
        LabelData {
            tracking_number: tracking(tracking_number),
            reference: order.reference.to_string(),
            merchant,
            position,
            service,
            destination_country: order.destination.country().unwrap_or("--"),
            weight_grams: weight,
            dimensions: if infos.len() == 1 { dims } else { None },
            products,
            info: order.info.as_deref().cloned(),
        }
    }

    fn index(&mut self, idx: u32, reference: &str, order: u32, parcels: &[ParcelRec]) {
        self.by_ref.insert(reference.into(), idx);
        self.by_tracking.insert(order, (idx, 0));
        for (k, p) in parcels.iter().enumerate() {
            self.index_parcel(idx, k, p);
        }
    }

    fn index_parcel(&mut self, idx: u32, k: usize, p: &ParcelRec) {
        self.by_tracking.insert(p.number, (idx, u8::try_from(k + 1).unwrap_or(u8::MAX)));
        if let Some(m) = &p.merchant {
            self.merchant.insert(m.clone(), idx);
        }
        if let Some(i) = &p.item_id {
            self.items.insert(i.clone(), idx);
        }
    }

    /// Re-arms the order's next unpublished step after its plan changed.
    fn rearm(&mut self, idx: u32) {
        let order = &self.orders[idx as usize];
        if let Some(next) = order.plan.get(usize::from(order.next_step)) {
            self.pending.push(Reverse((next.at, idx)));
        }
    }

    /// Publishes `step` now (after every published step), before the unpublished ones.
    fn publish_now(&mut self, idx: u32, mut step: Step, now: i64) {
        let order = &mut self.orders[idx as usize];
        step.at = order.published().last().map_or(now, |s| s.at.max(now));
        order.plan.insert(usize::from(order.next_step), step);
        self.pool.push(RowRef { order: idx, step: order.next_step });
        order.next_step += 1;
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
                .filter(|p| p.state != ParcelState::Moved)
                .map(|p| wire::CreatedItem {
                    item_id: p.item_id.as_deref().map(Into::into),
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
            external_id: parcel.and_then(|p| p.item_id.as_deref().map(Into::into)),
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
                .map(|m| NewItem {
                    merchant: Some((*m).into()),
                    item_id: Some((*m).into()),
                    ..NewItem::default()
                })
                .collect(),
            ..NewOrder::default()
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
