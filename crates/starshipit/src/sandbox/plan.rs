//! The simulated first leg (merchant → Starmile warehouse) of one parcel: a plan of events
//! drawn deterministically from the sandbox seed and the tracking number, revealed lazily as
//! simulated time passes.

use jiff::{SignedDuration, Timestamp, tz::TimeZone};
use rand::{Rng, SeedableRng, rngs::StdRng};

use crate::wire::{WireEvent, WireShipment};

/// One planned scan.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlannedEvent {
    pub at: Timestamp,
    pub status: &'static str,
    pub details: String,
}

/// A parcel's whole first leg, decided up front.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    /// The merchant account (index of its API key) that shipped it.
    pub account: usize,
    pub tracking_number: String,
    pub order_number: String,
    pub carrier_name: &'static str,
    pub carrier_service: &'static str,
    pub tracking_url: String,
    pub created_at: Timestamp,
    /// `shipment_date` (the booking, i.e. `created_at`)'s sub-second part and how many digits
    /// to print (0–7), as the real API varies both.
    pub shipment_nanos: i32,
    pub shipment_digits: u8,
    pub events: Vec<PlannedEvent>,
}

/// Carrier, service code and public tracking page (`{}`: the tracking number), as real
/// answers carry `tracking_url` once the carrier has a tracking page.
const CARRIERS: &[(&str, &str, &str)] = &[
    ("DHL Express", "P1", "https://www.dhl.com/au-en/home/tracking.html?tracking-id={}"),
    ("Australia Post", "7B05", "https://auspost.com.au/mypost/track/details/{}"),
    ("DHL", "P", "https://www.dhl.com/au-en/home/tracking.html?tracking-id={}"),
    ("CouriersPlease", "CPL", "https://www.couriersplease.com.au/tools-track/no/{}"),
];
const CITIES: &[&str] = &["SYDNEY", "MELBOURNE", "BRISBANE", "ADELAIDE", "PERTH", "CANBERRA"];
const TRANSIT: &[&str] = &[
    "Departed Facility in {} - AUSTRALIA (DF)",
    "Arrived at Sort Facility {} - AUSTRALIA (AF)",
    "Processed at {} - AUSTRALIA (PL)",
];
const ATTEMPTS: &[&str] = &[
    "Delivery attempted; recipient not home (NH)",
    "Delivery attempted; warehouse receiving dock closed (CM)",
];

impl Plan {
    /// Draws the plan of `tracking_number` for this sandbox `seed`: Printed at `created_at`,
    /// Dispatched, 1–3 In Transit scans, sometimes Attempted Delivery, then Delivered at the
    /// Starmile warehouse 6–30 simulated hours after `created_at`.
    pub fn draw(
        seed: u64,
        account: usize,
        tracking_number: &str,
        order_number: &str,
        created_at: Timestamp,
    ) -> Self {
        let mut rng = StdRng::seed_from_u64(seed ^ fnv1a(tracking_number.as_bytes()));
        let (carrier_name, carrier_service, url) = CARRIERS[rng.random_range(0..CARRIERS.len())];
        let minutes = |m: i64| SignedDuration::from_secs(m * 60);
        let after = |d: SignedDuration| created_at.saturating_add(d).unwrap_or(created_at);

        let total = rng.random_range(6 * 60..=30 * 60_i64);
        let dispatched = rng.random_range(20..=90_i64);
        let attempt = rng.random_bool(0.3).then(|| total - rng.random_range(60..=180_i64));
        let transit_end = attempt.unwrap_or(total) - 30;
        let scans = rng.random_range(1..=3_usize);
        let mut transit: Vec<i64> = (0..scans)
            .map(|_| rng.random_range(dispatched + 10..transit_end.max(dispatched + 11)))
            .collect();
        transit.sort_unstable();

        let mut events = vec![
            PlannedEvent {
                at: created_at,
                status: "Printed",
                details: "Shipping label printed".into(),
            },
            PlannedEvent {
                at: after(minutes(dispatched)),
                status: "Dispatched",
                details: "Shipment picked up (PU)".into(),
            },
        ];
        for m in transit {
            let city = CITIES[rng.random_range(0..CITIES.len())];
            let template = TRANSIT[rng.random_range(0..TRANSIT.len())];
            let secs = rng.random_range(0..60);
            events.push(PlannedEvent {
                at: after(minutes(m) + SignedDuration::from_secs(secs)),
                status: "In Transit",
                details: template.replace("{}", city),
            });
        }
        if let Some(m) = attempt {
            events.push(PlannedEvent {
                at: after(minutes(m)),
                status: "Attempted Delivery",
                details: ATTEMPTS[rng.random_range(0..ATTEMPTS.len())].into(),
            });
        }
        events.push(PlannedEvent {
            at: after(minutes(total) + SignedDuration::from_secs(rng.random_range(0..60))),
            status: "Delivered",
            details: "Delivered to Starmile warehouse".into(),
        });
        // Whole seconds, like the carriers' scans; sorted in case jitter crossed two scans.
        for e in &mut events {
            e.at = Timestamp::from_second(e.at.as_second()).unwrap_or(e.at);
        }
        events.sort_by_key(|e| e.at);

        let shipment_digits = rng.random_range(0..=7_u8);
        let scale = 10_i32.pow(u32::from(shipment_digits));
        let shipment_nanos =
            rng.random_range(0..scale) * 10_i32.pow(9 - u32::from(shipment_digits));
        Self {
            account,
            tracking_number: tracking_number.to_owned(),
            order_number: order_number.to_owned(),
            carrier_name,
            carrier_service,
            tracking_url: url.replace("{}", tracking_number),
            created_at,
            shipment_nanos,
            shipment_digits,
            events,
        }
    }

    /// How many events have happened by simulated time `now`.
    pub fn visible(&self, now: Timestamp) -> usize {
        self.events.iter().take_while(|e| e.at <= now).count()
    }

    /// The `/track` view at simulated time `now`, or `None` before the label exists.
    pub fn render(&self, now: Timestamp, zone: &TimeZone) -> Option<WireShipment> {
        let shown = &self.events[..self.visible(now)];
        let last = shown.last()?;
        let dispatched = shown.iter().any(|e| e.status == "Dispatched");
        let order_status = match last.status {
            "Printed" => "Printed",
            "Delivered" => "Delivered",
            _ => "Shipped",
        };
        Some(WireShipment {
            order_number: Some(self.order_number.clone()),
            order_status: Some(order_status.into()),
            carrier_name: Some(self.carrier_name.into()),
            carrier_service: Some(self.carrier_service.into()),
            tracking_number: Some(self.tracking_number.clone()),
            // Booked when the label was printed: real answers carry it from the start.
            shipment_date: Some(self.shipment_date(zone)),
            tracking_status: Some(last.status.into()),
            // The carrier's page exists once it has the parcel.
            tracking_url: dispatched.then(|| self.tracking_url.clone()),
            last_updated_date: Some(wall_clock(last.at, zone, 0, 0)),
            tracking_events: Some(
                shown
                    .iter()
                    .map(|e| WireEvent {
                        event_datetime: Some(wall_clock(e.at, zone, 0, 0)),
                        status: Some(e.status.into()),
                        details: Some(e.details.clone()),
                        ..WireEvent::default()
                    })
                    .collect(),
            ),
            ..WireShipment::default()
        })
    }

    /// `shipment_date` as `/track` writes it: carrier-local, 0–7 fractional digits.
    pub fn shipment_date(&self, zone: &TimeZone) -> String {
        wall_clock(self.created_at, zone, self.shipment_nanos, self.shipment_digits)
    }
}

/// `at` as an offset-less wall-clock reading in `zone`, with `nanos` printed to `digits`
/// fractional digits (none when `digits` is 0), as `/track` writes times.
pub(crate) fn wall_clock(at: Timestamp, zone: &TimeZone, nanos: i32, digits: u8) -> String {
    let dt = at.to_zoned(zone.clone()).datetime();
    let mut s = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    if digits > 0 {
        let fraction = format!("{nanos:09}");
        s.push('.');
        s.push_str(&fraction[..usize::from(digits.min(9))]);
    }
    s
}

/// `at` in UTC with 7 fractional digits and `Z`, as webhooks write times.
pub(crate) fn utc_7(at: Timestamp) -> String {
    let mut s = wall_clock(at, &TimeZone::UTC, at.subsec_nanosecond(), 7);
    s.push('Z');
    s
}

/// FNV-1a: a stable hash (std's hasher may change between releases; plans must not).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> Timestamp {
        "2026-06-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn deterministic_and_realistic() {
        for n in 0..200 {
            let number = format!("TRK-{n}");
            let a = Plan::draw(7, 0, &number, "O1", t0());
            assert_eq!(a, Plan::draw(7, 0, &number, "O1", t0()));
            let statuses: Vec<_> = a.events.iter().map(|e| e.status).collect();
            assert_eq!(statuses[..2], ["Printed", "Dispatched"]);
            assert_eq!(statuses.last(), Some(&"Delivered"));
            let transit = statuses.iter().filter(|s| **s == "In Transit").count();
            assert!((1..=3).contains(&transit), "{statuses:?}");
            let span = a.events.last().unwrap().at.duration_since(t0());
            assert!(
                span >= SignedDuration::from_hours(6) && span <= SignedDuration::from_hours(31)
            );
            assert!(a.events.windows(2).all(|w| w[0].at <= w[1].at));
            assert!(a.shipment_digits <= 7);
        }
        assert_ne!(Plan::draw(7, 0, "A", "O", t0()), Plan::draw(8, 0, "A", "O", t0()));
    }

    #[test]
    fn reveals_lazily() {
        let p = Plan::draw(1, 0, "TRK-1", "O1", t0());
        assert!(p.render(t0() - SignedDuration::from_secs(1), &TimeZone::UTC).is_none());
        let first = p.render(t0(), &TimeZone::UTC).unwrap();
        assert_eq!(first.tracking_status.as_deref(), Some("Printed"));
        assert_eq!(first.last_updated_date.as_deref(), Some("2026-06-01T00:00:00"));
        let all = p.render(t0() + SignedDuration::from_hours(40), &TimeZone::UTC).unwrap();
        assert_eq!(all.tracking_status.as_deref(), Some("Delivered"));
        assert_eq!(all.tracking_events.unwrap().len(), p.events.len());
    }

    #[test]
    fn formats_digits() {
        let at: Timestamp = "2017-04-12T13:17:40Z".parse().unwrap();
        assert_eq!(wall_clock(at, &TimeZone::UTC, 593_183_500, 7), "2017-04-12T13:17:40.5931835");
        assert_eq!(wall_clock(at, &TimeZone::UTC, 0, 0), "2017-04-12T13:17:40");
        assert_eq!(utc_7(at), "2017-04-12T13:17:40.0000000Z");
    }
}
