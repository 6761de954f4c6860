//! The simulated lifecycle of an order: a plan of status steps, drawn deterministically
//! from the sandbox seed and the order reference, with simulated times.
//!
//! Every order starts with an order-scoped `waiting_for_arrival` row (`previous_status`
//! null) at creation. A first-leg carrier then brings each parcel to the origin hub
//! (Sydney, `Australia/Sydney`), where its parcel-scoped leg begins 12–36 h later:
//!
//! ```text
//! received_at_hub → accepted_at_hub → declaration_pushed → declaration_confirmed → sorted
//!   → bag_stuffed → bag_closed → ready_for_dispatch → dispatched-from_hub
//!   → in_transit (linehaul, UTC, no country)
//!   → arrived_at_terminal → customs_in_progress [→ customs_hold(reason) → customs_hold_resolved]
//!   → customs_released → forwarded_to_destination   (destination hub: Auckland, Hong Kong,
//!                                                      Singapore; Melbourne for domestic)
//!   home delivery: out_for_delivery [→ delivery_failed(reason) → out_for_delivery] → delivered
//!   PUDO service:  handed_over_to_pudo → received_at_pudo → accepted_at_pudo → delivered
//!   returned:      out_for_delivery → delivery_failed ×2 → undelivered → returned
//! ```
//!
//! Domestic orders skip the linehaul and customs. Shares (per order or parcel): about 2 %
//! cancelled by the customer or operator before reaching the hub (an order-scoped
//! `cancelled` row, nothing after), 8 % customs hold, 12 % one failed delivery, 3 %
//! returned. A configurable share (`unknown_vocabulary_rate`) gets a row with a status no
//! version of the vocabulary has (`address_verification`, reason `geocode_mismatch`), and,
//! on failed deliveries, an unknown reason code (`drone_grounded`), so "unknown passes
//! through" is exercised end to end.

/// The raw statuses the simulation emits (a subset of the 57, plus one unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Status {
    WaitingForArrival,
    Cancelled,
    ReceivedAtHub,
    AcceptedAtHub,
    DeclarationPushed,
    DeclarationConfirmed,
    Sorted,
    BagStuffed,
    BagClosed,
    ReadyForDispatch,
    DispatchedFromHub,
    InTransit,
    ArrivedAtTerminal,
    CustomsInProgress,
    CustomsHold,
    CustomsHoldResolved,
    CustomsReleased,
    ForwardedToDestination,
    OutForDelivery,
    DeliveryFailed,
    Delivered,
    HandedOverToPudo,
    ReceivedAtPudo,
    AcceptedAtPudo,
    Undelivered,
    Returned,
    /// Not in the documented vocabulary: a status "from the future".
    AddressVerification,
    /// Only from an inbound `parcel.parcel_racked_at_hub` event.
    ParcelRackedAtHub,
    /// Only from an inbound `parcel.dropoff_cancelled` event.
    DropoffCancelled,
}

impl Status {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::WaitingForArrival => "waiting_for_arrival",
            Self::Cancelled => "cancelled",
            Self::ReceivedAtHub => "received_at_hub",
            Self::AcceptedAtHub => "accepted_at_hub",
            Self::DeclarationPushed => "declaration_pushed",
            Self::DeclarationConfirmed => "declaration_confirmed",
            Self::Sorted => "sorted",
            Self::BagStuffed => "bag_stuffed",
            Self::BagClosed => "bag_closed",
            Self::ReadyForDispatch => "ready_for_dispatch",
            Self::DispatchedFromHub => "dispatched-from_hub",
            Self::InTransit => "in_transit",
            Self::ArrivedAtTerminal => "arrived_at_terminal",
            Self::CustomsInProgress => "customs_in_progress",
            Self::CustomsHold => "customs_hold",
            Self::CustomsHoldResolved => "customs_hold_resolved",
            Self::CustomsReleased => "customs_released",
            Self::ForwardedToDestination => "forwarded_to_destination",
            Self::OutForDelivery => "out_for_delivery",
            Self::DeliveryFailed => "delivery_failed",
            Self::Delivered => "delivered",
            Self::HandedOverToPudo => "handed_over_to_pudo",
            Self::ReceivedAtPudo => "received_at_pudo",
            Self::AcceptedAtPudo => "accepted_at_pudo",
            Self::Undelivered => "undelivered",
            Self::Returned => "returned",
            Self::AddressVerification => "address_verification",
            Self::ParcelRackedAtHub => "parcel_racked_at_hub",
            Self::DropoffCancelled => "dropoff_cancelled",
        }
    }
}

/// Reason codes the simulation emits (documented ones plus two unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Reason {
    MissingDeclaration,
    InaccurateInformation,
    ProhibitedContent,
    QuantityExceeded,
    CustomerAbsent,
    AddressNotFound,
    CustomerRefused,
    CouldNotReachCustomer,
    RescheduleRequested,
    CustomerNoAnswer,
    CancelledByPartner,
    CancelledByCustomer,
    CancelledByOperator,
    /// Unknown reason on a known status.
    DroneGrounded,
    /// Unknown reason on the unknown status.
    GeocodeMismatch,
}

impl Reason {
    const ALL: [Reason; 15] = [
        Self::MissingDeclaration,
        Self::InaccurateInformation,
        Self::ProhibitedContent,
        Self::QuantityExceeded,
        Self::CustomerAbsent,
        Self::AddressNotFound,
        Self::CustomerRefused,
        Self::CouldNotReachCustomer,
        Self::RescheduleRequested,
        Self::CustomerNoAnswer,
        Self::CancelledByPartner,
        Self::CancelledByCustomer,
        Self::CancelledByOperator,
        Self::DroneGrounded,
        Self::GeocodeMismatch,
    ];

    /// The reason with this code, when the simulation knows it (an inbound event's free
    /// `reason` that matches a code is kept on the pool row).
    pub(crate) fn from_code(code: &str) -> Option<Reason> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    pub(crate) fn code(self) -> &'static str {
        self.text().0
    }

    pub(crate) fn detail(self) -> &'static str {
        self.text().1
    }

    fn text(self) -> (&'static str, &'static str) {
        match self {
            Self::MissingDeclaration => ("missing_declaration", "No customs declaration lodged"),
            Self::InaccurateInformation => {
                ("inaccurate_information", "Declared contents do not match")
            }
            Self::ProhibitedContent => {
                ("prohibited_content_restricted_item", "Restricted item under inspection")
            }
            Self::QuantityExceeded => (
                "commercial_quantity_personal_allowance_exceeded",
                "Quantity exceeds personal allowance",
            ),
            Self::CustomerAbsent => ("customer_absent", "Nobody home; card left"),
            Self::AddressNotFound => ("address_not_found", "Courier could not find the address"),
            Self::CustomerRefused => ("customer_refused", "Recipient refused the parcel"),
            Self::CouldNotReachCustomer => {
                ("could_not_reach_customer", "Phone unanswered at the door")
            }
            Self::RescheduleRequested => {
                ("reschedule_requested", "Recipient asked for another day")
            }
            Self::CustomerNoAnswer => ("customer_no_answer", "No answer at the door"),
            Self::CancelledByPartner => ("cancelled_by_partner", "Cancelled by the partner"),
            Self::CancelledByCustomer => ("cancelled_by_customer", "Customer cancelled the order"),
            Self::CancelledByOperator => {
                ("cancelled_by_operator", "Cancelled by Starmile operations")
            }
            Self::DroneGrounded => ("drone_grounded", "Delivery drone grounded by weather"),
            Self::GeocodeMismatch => ("geocode_mismatch", "Address geocode needs verification"),
        }
    }
}

/// Where a step happens: its hub's country (none for the linehaul) and IANA zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Hub {
    Sydney,
    Linehaul,
    Auckland,
    HongKong,
    Singapore,
    Melbourne,
}

impl Hub {
    pub(crate) fn country(self) -> Option<&'static str> {
        match self {
            Self::Sydney | Self::Melbourne => Some("AU"),
            Self::Linehaul => None,
            Self::Auckland => Some("NZ"),
            Self::HongKong => Some("HK"),
            Self::Singapore => Some("SG"),
        }
    }

    pub(crate) fn zone(self) -> &'static str {
        match self {
            Self::Sydney => "Australia/Sydney",
            Self::Linehaul => "UTC",
            Self::Auckland => "Pacific/Auckland",
            Self::HongKong => "Asia/Hong_Kong",
            Self::Singapore => "Asia/Singapore",
            Self::Melbourne => "Australia/Melbourne",
        }
    }

    /// The hub's zone, looked up once per process (rendering a pool page needs it per row).
    pub(crate) fn tz(self) -> &'static jiff::tz::TimeZone {
        static ZONES: std::sync::OnceLock<Vec<jiff::tz::TimeZone>> = std::sync::OnceLock::new();
        let zones = ZONES.get_or_init(|| {
            [
                Self::Sydney,
                Self::Linehaul,
                Self::Auckland,
                Self::HongKong,
                Self::Singapore,
                Self::Melbourne,
            ]
            .iter()
            .map(|h| jiff::tz::TimeZone::get(h.zone()).unwrap_or(jiff::tz::TimeZone::UTC))
            .collect()
        });
        &zones[self as usize]
    }

    /// The destination hub for an ISO country.
    pub(crate) fn for_destination(country: &str) -> Self {
        match country {
            "NZ" => Self::Auckland,
            "HK" => Self::HongKong,
            "SG" => Self::Singapore,
            _ => Self::Melbourne,
        }
    }
}

/// Who a step is about: the order (`0`) or parcel `n − 1`.
pub(crate) type Scope = u8;

/// One planned row. 16 bytes, so a million planned rows cost 16 MB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Step {
    /// Simulated time, Unix seconds.
    pub(crate) at: i64,
    pub(crate) status: Status,
    pub(crate) reason: Option<Reason>,
    pub(crate) scope: Scope,
    pub(crate) hub: Hub,
}

/// How the order travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// Cross-border, to the door.
    Home,
    /// Cross-border, to a pickup point.
    Pudo,
    /// Within the origin country.
    Domestic,
}

/// What a plan is drawn from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlanInput<'a> {
    pub(crate) seed: u64,
    pub(crate) reference: &'a str,
    pub(crate) created_at: i64,
    pub(crate) delivery: Delivery,
    pub(crate) destination: Hub,
    pub(crate) parcels: u8,
    pub(crate) unknown_rate: f64,
}

/// A small deterministic generator (splitmix64).
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64, key: &str) -> Self {
        // FNV-1a of the key, mixed with the seed.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in key.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        Self(seed ^ h)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0.0..1.0`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = u64::try_from(hi - lo + 1).unwrap_or(1);
        lo + i64::try_from(self.next_u64() % span).unwrap_or(0)
    }

    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        *self.pick_ref(items)
    }

    pub(crate) fn pick_ref<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }
}

/// The splitmix64 finaliser.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const MIN: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

/// Draws the plan of an order: steps sorted by time, per-scope order preserved.
pub(crate) fn plan(input: &PlanInput<'_>) -> Vec<Step> {
    let mut rng = Rng::new(input.seed, input.reference);
    let mut steps = Vec::with_capacity(2 + 16 * usize::from(input.parcels));
    let order_step = |at, status, reason| Step { at, status, reason, scope: 0, hub: Hub::Sydney };
    steps.push(order_step(input.created_at, Status::WaitingForArrival, None));

    let fate = rng.unit();
    if fate < 0.02 {
        let reason = rng.pick(&[Reason::CancelledByCustomer, Reason::CancelledByOperator]);
        let at = input.created_at + rng.range(2 * HOUR, 10 * HOUR);
        steps.push(order_step(at, Status::Cancelled, Some(reason)));
        return steps;
    }
    let returned = fate < 0.05;
    let unknown = rng.unit() < input.unknown_rate;
    let first_leg = rng.range(12 * HOUR, 36 * HOUR);
    for p in 0..input.parcels {
        let mut leg = Leg {
            steps: &mut steps,
            rng: &mut rng,
            at: input.created_at + first_leg + i64::from(p) * 7 * MIN,
            scope: p + 1,
        };
        leg.parcel(input, returned, unknown);
    }
    // Stable: a parcel's own steps keep their order (their times strictly increase).
    steps.sort_by_key(|s| s.at);
    steps
}

/// The plan of one parcel added to an existing order: a parcel-scoped
/// `waiting_for_arrival` at `start`, then the usual leg from the hub 12–36 h later.
pub(crate) fn parcel_plan(input: &PlanInput<'_>, scope: Scope, start: i64) -> Vec<Step> {
    let mut rng = Rng::new(input.seed ^ u64::from(scope), input.reference);
    let mut steps = vec![Step {
        at: start,
        status: Status::WaitingForArrival,
        reason: None,
        scope,
        hub: Hub::Sydney,
    }];
    let mut leg = Leg {
        steps: &mut steps,
        rng: &mut rng,
        at: start + Rng::new(input.seed, input.reference).range(12 * HOUR, 36 * HOUR),
        scope,
    };
    leg.parcel(input, false, false);
    steps
}

struct Leg<'a> {
    steps: &'a mut Vec<Step>,
    rng: &'a mut Rng,
    at: i64,
    scope: Scope,
}

impl Leg<'_> {
    fn step(&mut self, after: (i64, i64), status: Status, reason: Option<Reason>, hub: Hub) {
        self.at += self.rng.range(after.0, after.1).max(1);
        self.steps.push(Step { at: self.at, status, reason, scope: self.scope, hub });
    }

    fn parcel(&mut self, input: &PlanInput<'_>, returned: bool, unknown: bool) {
        use Status as S;
        let origin = Hub::Sydney;
        let dest = input.destination;
        self.step((0, 0), S::ReceivedAtHub, None, origin);
        self.step((10 * MIN, 40 * MIN), S::AcceptedAtHub, None, origin);
        if input.delivery == Delivery::Domestic {
            self.step((20 * MIN, HOUR), S::Sorted, None, origin);
            self.step((2 * HOUR, 6 * HOUR), S::DispatchedFromHub, None, origin);
            self.step((8 * HOUR, 20 * HOUR), S::ArrivedAtTerminal, None, dest);
        } else {
            self.step((HOUR, 2 * HOUR), S::DeclarationPushed, None, origin);
            self.step((HOUR, 3 * HOUR), S::DeclarationConfirmed, None, origin);
            self.step((20 * MIN, HOUR), S::Sorted, None, origin);
            self.step((30 * MIN, 2 * HOUR), S::BagStuffed, None, origin);
            self.step((HOUR, 3 * HOUR), S::BagClosed, None, origin);
            self.step((HOUR, 4 * HOUR), S::ReadyForDispatch, None, origin);
            self.step((2 * HOUR, 6 * HOUR), S::DispatchedFromHub, None, origin);
            self.step((HOUR, 3 * HOUR), S::InTransit, None, Hub::Linehaul);
            self.step((6 * HOUR, 30 * HOUR), S::ArrivedAtTerminal, None, dest);
            self.step((30 * MIN, 2 * HOUR), S::CustomsInProgress, None, dest);
            if self.rng.unit() < 0.08 {
                let reason = self.rng.pick(&[
                    Reason::MissingDeclaration,
                    Reason::InaccurateInformation,
                    Reason::ProhibitedContent,
                    Reason::QuantityExceeded,
                ]);
                self.step((HOUR, 4 * HOUR), S::CustomsHold, Some(reason), dest);
                self.step((DAY, 3 * DAY), S::CustomsHoldResolved, None, dest);
            }
            self.step((2 * HOUR, 10 * HOUR), S::CustomsReleased, None, dest);
            self.step((2 * HOUR, 6 * HOUR), S::ForwardedToDestination, None, dest);
        }
        if unknown {
            let reason = Some(Reason::GeocodeMismatch);
            self.step((30 * MIN, 2 * HOUR), S::AddressVerification, reason, dest);
        }
        if input.delivery == Delivery::Pudo {
            self.step((6 * HOUR, 18 * HOUR), S::HandedOverToPudo, None, dest);
            self.step((HOUR, 3 * HOUR), S::ReceivedAtPudo, None, dest);
            self.step((10 * MIN, HOUR), S::AcceptedAtPudo, None, dest);
            if returned {
                self.step((5 * DAY, 7 * DAY), S::Undelivered, None, dest);
                self.step((DAY, 3 * DAY), S::Returned, None, origin);
            } else {
                self.step((2 * HOUR, 3 * DAY), S::Delivered, None, dest);
            }
            return;
        }
        self.step((10 * HOUR, 30 * HOUR), S::OutForDelivery, None, dest);
        let failures = if returned { 2 } else { u8::from(self.rng.unit() < 0.12) };
        for _ in 0..failures {
            let reason = if unknown {
                Reason::DroneGrounded
            } else {
                self.rng.pick(&[
                    Reason::CustomerAbsent,
                    Reason::AddressNotFound,
                    Reason::CustomerRefused,
                    Reason::CouldNotReachCustomer,
                    Reason::RescheduleRequested,
                    Reason::CustomerNoAnswer,
                ])
            };
            self.step((2 * HOUR, 6 * HOUR), S::DeliveryFailed, Some(reason), dest);
            if !returned {
                self.step((16 * HOUR, 30 * HOUR), S::OutForDelivery, None, dest);
            } else {
                self.step((20 * HOUR, 30 * HOUR), S::OutForDelivery, None, dest);
            }
        }
        if returned {
            self.step((2 * HOUR, 6 * HOUR), S::Undelivered, None, dest);
            self.step((2 * DAY, 5 * DAY), S::Returned, None, origin);
        } else {
            self.step((HOUR, 6 * HOUR), S::Delivered, None, dest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status_map;
    use waybill_domain::TrackingStatus;

    fn input(reference: &str, parcels: u8, delivery: Delivery) -> PlanInput<'_> {
        PlanInput {
            seed: 7,
            reference,
            created_at: 1_780_000_000,
            delivery,
            destination: Hub::Auckland,
            parcels,
            unknown_rate: 0.05,
        }
    }

    #[test]
    fn plans_are_deterministic_and_well_formed() {
        let mut fates = std::collections::BTreeMap::<&str, usize>::new();
        for i in 0..2000 {
            let reference = format!("PO-{i}");
            let delivery = [Delivery::Home, Delivery::Pudo, Delivery::Domestic][i % 3];
            let parcels = u8::try_from(1 + i % 3).unwrap();
            let a = plan(&input(&reference, parcels, delivery));
            assert_eq!(a, plan(&input(&reference, parcels, delivery)), "deterministic");
            assert_eq!(a[0].status, Status::WaitingForArrival);
            assert!(a.windows(2).all(|w| w[0].at <= w[1].at), "sorted by time");
            let first_parcel = a.iter().find(|s| s.scope == 1);
            if let Some(first) = first_parcel {
                let gap = first.at - a[0].at;
                assert!((12 * HOUR..=36 * HOUR).contains(&gap), "first leg {gap}");
            }
            for s in &a {
                let known = status_map::unified(s.status.name()) != TrackingStatus::Unknown;
                assert!(known || s.status == Status::AddressVerification);
            }
            let last = a.last().unwrap().status;
            *fates.entry(last.name()).or_default() += 1;
            if a.iter().any(|s| s.status == Status::AddressVerification) {
                *fates.entry("unknown").or_default() += 1;
            }
        }
        assert!(fates["delivered"] > 1600, "{fates:?}");
        for fate in ["cancelled", "returned", "unknown"] {
            assert!(fates.get(fate).copied().unwrap_or(0) > 5, "{fate}: {fates:?}");
        }
    }
}
