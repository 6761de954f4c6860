//! The public tracking page, `GET /track/{number}`: server-rendered HTML (maud, escaped at
//! compile time), no JavaScript, readable on a phone and accessible — landmarks (`header`,
//! `main`, `footer`), a heading outline, the timeline as an ordered list, `<time>` elements,
//! `lang`, and colours with at least 4.5:1 contrast.
//!
//! It shows the parcel's current status and its merged timeline (carrier, status, place,
//! time in the zone the carrier gave or marked local) and **no recipient data**: nothing but
//! the number asked for and the carriers' scan events. Unknown numbers get a friendly 404
//! page, and each client (IP address) may look up only so many numbers per minute, so numbers
//! cannot be enumerated cheaply (429 page otherwise).

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use maud::{DOCTYPE, Markup, html};
use waybill_domain::{CarrierId, EventTime, TrackingEvent, TrackingStatus};

use crate::state::AppState;
use waybill_domain::{CarrierInfo, Leg, present};
use waybill_store::ParcelTimeline;

const STYLE: &str = r#"
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1b1b1f; background: #f6f6f8; }
header, main, footer { max-width: 40rem; margin: 0 auto; padding: 1rem; }
header { border-bottom: 1px solid #d0d0d7; }
.brand { font-weight: 700; font-size: 1.1rem; color: #1b1b1f; text-decoration: none; }
h1 { font-size: 1.5rem; margin: .5rem 0; overflow-wrap: anywhere; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
.status { display: inline-block; padding: .35rem .75rem; border-radius: 999px; font-weight: 700;
  background: #0b4f8a; color: #fff; }
.status.final { background: #17612c; }
.status.problem { background: #9b1c1c; }
.summary { background: #fff; border: 1px solid #d0d0d7; border-radius: .75rem; padding: 1rem; }
.summary h2 { margin-top: 0; }
.summary p { margin: .5rem 0 0; }
ol.timeline { list-style: none; margin: 0; padding: 0; }
ol.timeline li { background: #fff; border: 1px solid #d0d0d7; border-left: .35rem solid #0b4f8a;
  border-radius: .5rem; padding: .75rem 1rem; margin: 0 0 .75rem; }
ol.timeline li.latest { border-left-color: #17612c; }
.event-status { font-weight: 700; margin: 0; }
.meta { margin: .25rem 0 0; color: #3d3d45; font-size: .95rem; }
.carrier { font-weight: 600; }
footer { color: #3d3d45; font-size: .9rem; }
"#;

fn layout(title: &str, body: &Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) }
                style { (maud::PreEscaped(STYLE)) }
            }
            body {
                header { a.brand href="#main" { "waybill" } " · parcel tracking" }
                main id="main" { (body) }
                footer { p { "Times are shown in the zone the carrier reported, or marked local when the carrier gave none." } }
            }
        }
    }
}

/// A status for people.
fn status_label(s: TrackingStatus) -> &'static str {
    match s {
        TrackingStatus::Pending => "Awaiting the parcel",
        TrackingStatus::InfoReceived => "Label created",
        TrackingStatus::InTransit => "In transit",
        TrackingStatus::CustomsHold => "Held at customs",
        TrackingStatus::OutForDelivery => "Out for delivery",
        TrackingStatus::AvailableForPickup => "Ready for pickup",
        TrackingStatus::AttemptFailed => "Delivery attempted",
        TrackingStatus::Delivered => "Delivered",
        TrackingStatus::Exception => "Needs attention",
        TrackingStatus::Returned => "Returned to sender",
        TrackingStatus::Cancelled => "Cancelled",
        TrackingStatus::Unknown => "Status update",
    }
}

fn status_class(s: TrackingStatus) -> &'static str {
    match s {
        TrackingStatus::Delivered | TrackingStatus::Returned | TrackingStatus::Cancelled => {
            "status final"
        }
        TrackingStatus::Exception | TrackingStatus::AttemptFailed | TrackingStatus::CustomsHold => {
            "status problem"
        }
        _ => "status",
    }
}

/// A carrier's name for people, from the metadata its adapter exports (the slug when the
/// carrier is not wired any more).
fn carrier_name(carriers: &[CarrierInfo], c: &CarrierId) -> String {
    match carriers.iter().find(|info| &info.id == c) {
        Some(info) if info.leg == Leg::First => format!("{} (first leg)", info.display_name),
        Some(info) => info.display_name.to_owned(),
        None => c.to_string(),
    }
}

/// The machine-readable `datetime` of a `<time>` element: an instant for exact times, a
/// floating wall-clock time (no offset, as HTML allows) for local ones.
fn datetime_attr(t: &EventTime) -> String {
    match t {
        EventTime::Exact { at, .. } => at.to_string(),
        EventTime::Local { at } => at.strftime("%Y-%m-%dT%H:%M:%S").to_string(),
    }
}

fn event_item(carriers: &[CarrierInfo], e: &TrackingEvent, latest: bool) -> Markup {
    let place = Some(present::place(e)).filter(|p| !p.is_empty());
    html! {
        li class=[latest.then_some("latest")] {
            p.event-status { (status_label(e.status)) }
            @if let Some(d) = &e.description {
                p.meta { (d) }
            }
            p.meta {
                time datetime=(datetime_attr(&e.occurred_at)) { (present::time(&e.occurred_at)) }
                @if let Some(place) = &place { " · " (place) }
            }
            p.meta { "Reported by " span.carrier { (carrier_name(carriers, &e.carrier)) } }
        }
    }
}

/// The page for a found parcel. `number` is what the visitor asked for; nothing else about
/// the order (reference, account, recipient) is shown.
#[must_use]
pub fn parcel_page(number: &str, p: &ParcelTimeline, carriers: &[CarrierInfo]) -> Markup {
    let status = p.timeline.current_status();
    let events = p.timeline.events();
    let latest = p.timeline.latest();
    layout(
        &format!("Parcel {number}: {}", status_label(status)),
        &html! {
            h1 { "Parcel " (number) }
            section.summary aria-labelledby="current" {
                h2 id="current" { "Current status" }
                p { span class=(status_class(status)) { (status_label(status)) } }
                @if let Some(e) = latest {
                    p { "Last update: "
                        time datetime=(datetime_attr(&e.occurred_at)) { (present::time(&e.occurred_at)) }
                        " from " (carrier_name(carriers, &e.carrier)) }
                }
            }
            section aria-labelledby="journey" {
                h2 id="journey" { "Journey (" (events.len()) " updates, newest first)" }
                @if events.is_empty() {
                    p { "No scans yet. Check back once the parcel is on its way." }
                } @else {
                    ol.timeline reversed {
                        @for (i, e) in events.iter().enumerate().rev() {
                            (event_item(carriers, e, i + 1 == events.len()))
                        }
                    }
                }
            }
        },
    )
}

/// The friendly page for a number nobody knows.
#[must_use]
pub fn not_found_page(number: &str) -> Markup {
    layout(
        "Parcel not found",
        &html! {
            h1 { "We can't find that parcel" }
            p { "No parcel is known by " strong { (number) } "." }
            ul {
                li { "Check the number on your shipping confirmation; it is case-sensitive." }
                li { "A parcel shipped in the last hour may not be listed yet: try again later." }
            }
        },
    )
}

fn too_many_page(retry_after_secs: u64) -> Markup {
    layout(
        "Too many lookups",
        &html! {
            h1 { "Too many lookups" }
            p { "You have looked up many parcels in a short time. Please wait "
                (retry_after_secs) " seconds and try again." }
        },
    )
}

fn unavailable_page() -> Markup {
    layout(
        "Tracking unavailable",
        &html! {
            h1 { "Tracking is unavailable right now" }
            p { "Please try again in a few minutes." }
        },
    )
}

fn page(status: StatusCode, markup: Markup) -> Response {
    let mut r = (status, Html(markup.into_string())).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `GET /track/{number}`.
pub async fn track_page(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(number): Path<String>,
) -> Response {
    if let Err(wait) = state.page_limiter.check(client.ip()) {
        let secs = wait.as_secs().max(1);
        let mut r = page(StatusCode::TOO_MANY_REQUESTS, too_many_page(secs));
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return r;
    }
    match state.store.parcel_timeline(&number).await {
        Ok(Some(p)) => page(StatusCode::OK, parcel_page(&number, &p, &state.carriers)),
        // An ambiguous number (an order with several parcels) names no single parcel.
        Ok(None) | Err(waybill_store::StoreError::Ambiguous { .. }) => {
            page(StatusCode::NOT_FOUND, not_found_page(&number))
        }
        Err(e) => {
            tracing::error!(error = %e, "store failure rendering the tracking page");
            page(StatusCode::SERVICE_UNAVAILABLE, unavailable_page())
        }
    }
}

/// Any other path outside the API: the same friendly 404 page.
pub async fn fallback() -> Response {
    page(
        StatusCode::NOT_FOUND,
        layout(
            "Page not found",
            &html! {
                h1 { "Page not found" }
                p { "To follow a parcel, open " code { "/track/" em { "your-tracking-number" } } "." }
            },
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use waybill_domain::{MerchantTrackingNumber, PartnerOrderRef, Timeline, TrackingNumber};

    use waybill_store::StoredParcel;

    #[test]
    fn the_page_escapes_input_and_shows_no_order_data() {
        let event = TrackingEvent::new(
            CarrierId::from_static("courier"),
            TrackingNumber::parse("T1").unwrap(),
            EventTime::Local { at: "2026-06-20T10:00:00".parse().unwrap() },
            "In Transit",
            TrackingStatus::InTransit,
        );
        let p = ParcelTimeline {
            account: "secret-account".into(),
            reference: PartnerOrderRef::parse("PO-PRIVATE").unwrap(),
            parcel: StoredParcel {
                merchant_tracking_number: MerchantTrackingNumber::parse("T1").unwrap(),
                tracking_number: None,
                status: TrackingStatus::InTransit,
                milestone: waybill_domain::Milestone::InTransit,
            },
            order_tracking_number: None,
            timeline: Timeline::from_events([event]),
        };
        let carriers = [CarrierInfo::new(CarrierId::from_static("courier"), "Courier", Leg::First)];
        let html = parcel_page("T1", &p, &carriers).into_string();
        assert!(html.contains("Courier (first leg)"), "{html}");
        assert!(html.contains("<html lang=\"en\">") && html.contains("<main"), "{html}");
        assert!(html.contains("In transit") && html.contains("2026-06-20 10:00 (local)"), "{html}");
        assert!(!html.contains("PO-PRIVATE") && !html.contains("secret-account"), "{html}");
        assert!(!html.contains("<script"), "no JavaScript");
        let html = not_found_page("<b>x</b>").into_string();
        assert!(html.contains("&lt;b&gt;x&lt;/b&gt;") && !html.contains("<b>x</b>"), "{html}");
    }
}
