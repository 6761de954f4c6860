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

//! The public tracking page, `GET /track/{number}` (and the search form's `GET /track?number=`):
//! server-rendered HTML (maud, escaped at compile time), no JavaScript, readable on a phone and
//! accessible — landmarks (`header`, `main`, `footer`), a heading outline, the journey as
//! ordered lists, `<time>` elements, `lang`, and colours with at least 7:1 contrast. Its
//! stylesheet is served from `/assets/track.css`, so the Content-Security-Policy (see
//! [`crate::router`]) allows no inline code at all.
//!
//! It shows the parcel's status headline with a sentence (the carrier's words for the deciding
//! event, from its vocabulary), a progress stepper of milestones, and the merged journey
//! newest first, consecutive events of one milestone collapsed under `<details>`. Each event
//! names its carrier as the data does (StarShipIT's `carrier_name`, linked to its
//! `tracking_url`; else the carrier's display name), its place, and its local time with the
//! UTC offset, marking a zone waybill inferred. Colours tell the outcome: delivered, ended
//! without delivery (returned, cancelled), needs attention (exception, failed attempt, customs
//! hold), in progress.
//!
//! It shows **no recipient data**: nothing but the number asked for and the carriers' scan
//! events. Lookups ignore surrounding spaces and case; an order reference with several
//! parcels lists them; unknown numbers get a friendly 404 page, and each client (IP address)
//! may look up only so many numbers per minute, so numbers cannot be enumerated cheaply (429
//! page otherwise).

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, Path, Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use maud::{DOCTYPE, Markup, html};
use waybill_domain::{
    CarrierId, EventTime, Milestone, PartnerOrderRef, Resolved, Timeline, TrackingEvent,
    TrackingStatus, ZoneSource,
};

use crate::state::AppState;
use waybill_domain::{CarrierInfo, Leg, present};
use waybill_store::{ParcelTimeline, StoredParcel};

/// The page's stylesheet, served at [`STYLESHEET_PATH`].
pub const STYLESHEET: &str = include_str!("page.css");
/// Where the stylesheet is served.
pub const STYLESHEET_PATH: &str = "/assets/track.css";

fn layout(title: &str, query: &str, body: &Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) }
                link rel="stylesheet" href=(STYLESHEET_PATH);
            }
            body {
                header {
                    a.brand href="#main" { "waybill · parcel tracking" }
                    form.search role="search" method="get" action="/track" {
                        label.visually-hidden for="number" { "Tracking number" }
                        input id="number" name="number" type="search" value=(query)
                            placeholder="Tracking number" autocomplete="off" required;
                        button type="submit" { "Track" }
                    }
                }
                main id="main" { (body) }
                footer { p { "Each time is the event's local time with its UTC offset. Where the carrier gave no zone, waybill reads the time in the zone of the parcel's hub and says so." } }
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

/// The headline's sentence when the carrier's vocabulary has none for the deciding event.
fn status_sentence(s: TrackingStatus) -> &'static str {
    match s {
        TrackingStatus::Pending => "The carrier knows about the parcel and is waiting for it.",
        TrackingStatus::InfoReceived => {
            "A label was created; the carrier has not received the parcel yet."
        }
        TrackingStatus::InTransit => "The parcel is on its way.",
        TrackingStatus::CustomsHold => {
            "Customs is holding the parcel; the sender may need to provide documents."
        }
        TrackingStatus::OutForDelivery => "A courier is delivering the parcel.",
        TrackingStatus::AvailableForPickup => "The parcel is waiting to be collected.",
        TrackingStatus::AttemptFailed => {
            "A delivery attempt failed; another attempt or a pickup point usually follows."
        }
        TrackingStatus::Delivered => "The parcel was delivered.",
        TrackingStatus::Exception => {
            "Something needs attention; contact the sender if nothing changes soon."
        }
        TrackingStatus::Returned => "The parcel was returned to the sender.",
        TrackingStatus::Cancelled => "The shipment was cancelled.",
        TrackingStatus::Unknown => "The carrier sent an update waybill does not know yet.",
    }
}

/// The outcome colour class of a status.
fn outcome_class(s: TrackingStatus) -> &'static str {
    match s {
        TrackingStatus::Delivered => "outcome-delivered",
        TrackingStatus::Returned | TrackingStatus::Cancelled => "outcome-ended",
        TrackingStatus::Exception | TrackingStatus::AttemptFailed | TrackingStatus::CustomsHold => {
            "outcome-attention"
        }
        _ => "outcome-progress",
    }
}

/// The carrier metadata of an event's carrier.
fn info<'a>(carriers: &'a [CarrierInfo], c: &CarrierId) -> Option<&'a CarrierInfo> {
    carriers.iter().find(|info| &info.id == c)
}

/// Only web links become links (never `javascript:` or other schemes from data).
fn web_link(url: &str) -> Option<&str> {
    let lower = url.trim().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then_some(url.trim())
}

/// Who reported an event: the carrier the data names (linked to its tracking page), with the
/// reporting platform when that differs; else the adapter's display name.
fn carrier_markup(carriers: &[CarrierInfo], e: &TrackingEvent) -> Markup {
    let platform = info(carriers, &e.carrier);
    let fallback = match platform {
        Some(i) if i.leg == Leg::First => format!("{} (first leg)", i.display_name),
        Some(i) => i.display_name.to_owned(),
        None => e.carrier.to_string(),
    };
    let link = e.tracking_url.as_deref().and_then(web_link);
    html! {
        @match (&e.carrier_name, link) {
            (Some(name), Some(url)) => {
                a.carrier href=(url) rel="noopener noreferrer" { (name) }
                @if let Some(p) = platform { " via " (p.display_name) }
            }
            (Some(name), None) => {
                span.carrier { (name) }
                @if let Some(p) = platform { " via " (p.display_name) }
            }
            (None, Some(url)) => { a.carrier href=(url) rel="noopener noreferrer" { (fallback) } }
            (None, None) => { span.carrier { (fallback) } }
        }
    }
}

fn time_markup(r: &Resolved) -> Markup {
    html! {
        // A time the carrier did not give usably is never shown, nor machine-readable.
        @if r.source == ZoneSource::NoTime {
            span.unknown-time { (present::local(r)) }
        } @else {
            time datetime=(r.at.to_string()) { (present::local(r)) }
        }
        @if let Some(note) = present::zone_note(r) { " " span.note { "(" (note) ")" } }
    }
}

fn event_markup(carriers: &[CarrierInfo], e: &TrackingEvent, r: &Resolved) -> Markup {
    let place = Some(present::place(e)).filter(|p| !p.is_empty());
    let explained = info(carriers, &e.carrier).and_then(|i| i.explain(e));
    html! {
        p.event-status { (status_label(e.status)) }
        @if let Some(d) = &e.description { p.meta { (d) } }
        @if let Some(x) = explained.filter(|x| Some(x) != e.description.as_ref()) { p.meta { (x) } }
        p.meta {
            (time_markup(r))
            @if let EventTime::Unknown { raw: Some(raw), .. } = &e.occurred_at {
                " " span.note { "(sent as “" (raw) "”)" }
            }
            @if let Some(place) = &place { " · " (place) }
        }
        p.meta { "Reported by " (carrier_markup(carriers, e)) }
    }
}

/// The stepper's label for a step, given where the parcel is (the last-mile and final steps
/// show the alternative the parcel took).
fn step_label(step: Milestone, current: Milestone) -> &'static str {
    match (step, current) {
        (Milestone::OutForDelivery, Milestone::AtPickupPoint)
        | (Milestone::Delivered, Milestone::Returned | Milestone::Cancelled) => current.label(),
        _ => step.label(),
    }
}

fn stepper(current: Milestone) -> Markup {
    let rank = current.rank();
    html! {
        ol.stepper aria-label="Progress" {
            @for step in Milestone::STEPS {
                @let state = match (step.rank(), rank) {
                    (Some(s), Some(c)) if s == c => "current",
                    (Some(s), Some(c)) if s < c => "done",
                    _ => "todo",
                };
                li class=(state) aria-current=[(state == "current").then_some("step")] {
                    (step_label(step, current))
                }
            }
        }
    }
}

/// Consecutive events of one milestone, newest first, each group newest first.
fn groups(timeline: &Timeline) -> Vec<(Milestone, Vec<(&TrackingEvent, Resolved)>)> {
    let mut out: Vec<(Milestone, Vec<(&TrackingEvent, Resolved)>)> = Vec::new();
    for (e, r) in timeline.resolved().into_iter().rev() {
        match out.last_mut() {
            Some((m, list)) if *m == e.milestone() => list.push((e, r)),
            _ => out.push((e.milestone(), vec![(e, r)])),
        }
    }
    out
}

/// The page for a found parcel. `number` is what the visitor asked for; nothing else about
/// the order (reference, account, recipient) is shown.
#[must_use]
pub fn parcel_page(number: &str, p: &ParcelTimeline, carriers: &[CarrierInfo]) -> Markup {
    let current = p.timeline.current();
    let latest = p.timeline.latest();
    let headline = latest
        .and_then(|e| info(carriers, &e.carrier).and_then(|i| i.explain(e)))
        .unwrap_or_else(|| status_sentence(current.status).to_owned());
    let groups = groups(&p.timeline);
    let count = p.timeline.events().len();
    layout(
        &format!("Parcel {number}: {}", status_label(current.status)),
        number,
        &html! {
            h1 { "Parcel " (number) }
            section class={ "summary " (outcome_class(current.status)) } aria-labelledby="current" {
                h2 id="current" class="visually-hidden" { "Current status" }
                p { span.status { (status_label(current.status)) } }
                p.headline { (headline) }
                @if let Some(e) = latest {
                    p.meta { "Last update: " (time_markup(&p.timeline.resolve(e)))
                        @if !present::place(e).is_empty() { " · " (present::place(e)) }
                        " · " (carrier_markup(carriers, e)) }
                }
                (stepper(current.milestone))
            }
            section aria-labelledby="journey" {
                h2 id="journey" { "Journey (" (count) " updates, newest first)" }
                @if groups.is_empty() {
                    p { "No scans yet. Check back once the parcel is on its way." }
                } @else {
                    ol class={ "timeline " (outcome_class(current.status)) } {
                        @for (i, (milestone, events)) in groups.iter().enumerate() {
                            li class=[(i == 0).then_some("latest")] {
                                h3 { (milestone.label()) }
                                @if let Some(((e, r), older)) = events.split_first() {
                                    (event_markup(carriers, e, r))
                                    @if !older.is_empty() {
                                        details {
                                            summary { (older.len()) " earlier update" @if older.len() > 1 { "s" } " at this stage" }
                                            ol.events {
                                                @for (e, r) in older { li { (event_markup(carriers, e, r)) } }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// The page for an order reference with several parcels: links to each.
#[must_use]
pub fn order_page(number: &str, parcels: &[StoredParcel]) -> Markup {
    layout(
        &format!("Order {number}: {} parcels", parcels.len()),
        number,
        &html! {
            h1 { "Order " (number) }
            p { "This order has " (parcels.len()) " parcels. Choose one to follow it:" }
            ul {
                @for parcel in parcels {
                    li {
                        a href={ "/track/" (parcel.merchant_tracking_number) } { (parcel.merchant_tracking_number) }
                        " — " (status_label(parcel.status)) " (" (parcel.milestone.label()) ")"
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
        number,
        &html! {
            h1 { "We can't find that parcel" }
            p { "No parcel is known by " strong { (number) } "." }
            ul {
                li { "Check the number on your shipping confirmation." }
                li { "A parcel shipped in the last hour may not be listed yet: try again later." }
            }
        },
    )
}

/// The search form alone (`/track` without a number).
fn search_page() -> Markup {
    layout(
        "Track a parcel",
        "",
        &html! {
            h1 { "Track a parcel" }
            p { "Enter the tracking number from your shipping confirmation above." }
        },
    )
}

fn too_many_page(retry_after_secs: u64) -> Markup {
    layout(
        "Too many lookups",
        "",
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
        "",
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
    lookup(&state, client, &number).await
}

/// The search form's query.
#[derive(Debug, serde::Deserialize)]
pub struct SearchQuery {
    /// The number typed in.
    pub number: Option<String>,
}

/// `GET /track?number=…`: the search form's target (the same page as `/track/{number}`).
pub async fn search(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Query(q): Query<SearchQuery>,
) -> Response {
    match q.number.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(number) => lookup(&state, client, number).await,
        None => page(StatusCode::OK, search_page()),
    }
}

/// `GET /assets/track.css`.
pub async fn stylesheet() -> Response {
    let mut r = ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLESHEET).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    r
}

/// What a typed number finds: the number as given (trimmed), else upper-cased (carriers'
/// numbers are upper case; a visitor may not type them so).
async fn find(
    state: &AppState,
    number: &str,
) -> Result<Option<ParcelTimeline>, waybill_store::StoreError> {
    match state.store.parcel_timeline(number).await? {
        Some(p) => Ok(Some(p)),
        None if number.to_ascii_uppercase() != number => {
            state.store.parcel_timeline(&number.to_ascii_uppercase()).await
        }
        None => Ok(None),
    }
}

/// The parcels of the order `number` names, when it is a reference with several.
async fn order_parcels(state: &AppState, number: &str) -> Option<Vec<StoredParcel>> {
    for candidate in [number.to_owned(), number.to_ascii_uppercase()] {
        let Ok(reference) = PartnerOrderRef::parse(candidate) else { continue };
        if let Ok(Some(order)) = state.store.order(None, &reference).await
            && order.parcels.len() > 1
        {
            return Some(order.parcels);
        }
    }
    None
}

async fn lookup(state: &AppState, client: SocketAddr, number: &str) -> Response {
    if let Err(wait) = state.page_limiter.check(client.ip()) {
        let secs = wait.as_secs().max(1);
        let mut r = page(StatusCode::TOO_MANY_REQUESTS, too_many_page(secs));
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return r;
    }
    let number = number.trim();
    match find(state, number).await {
        Ok(Some(mut p)) => {
            crate::api::with_local_zones(&mut p, &state.carriers);
            page(StatusCode::OK, parcel_page(number, &p, &state.carriers))
        }
        // An ambiguous number: an order reference with several parcels lists them.
        Err(waybill_store::StoreError::Ambiguous { .. }) => {
            match order_parcels(state, number).await {
                Some(parcels) => page(StatusCode::OK, order_page(number, &parcels)),
                None => page(StatusCode::NOT_FOUND, not_found_page(number)),
            }
        }
        Ok(None) => page(StatusCode::NOT_FOUND, not_found_page(number)),
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
            "",
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
    use waybill_domain::{EventTime, MerchantTrackingNumber, PartnerOrderRef, TrackingNumber};

    fn parcel(events: Vec<TrackingEvent>) -> ParcelTimeline {
        let timeline = Timeline::from_events(events);
        ParcelTimeline {
            account: "secret-account".into(),
            reference: PartnerOrderRef::parse("PO-PRIVATE").unwrap(),
            parcel: StoredParcel {
                merchant_tracking_number: MerchantTrackingNumber::parse("T1").unwrap(),
                tracking_number: None,
                status: timeline.current_status(),
                milestone: timeline.current_milestone(),
            },
            order_tracking_number: None,
            timeline,
        }
    }

    fn scan(at: &str, raw: &str, status: TrackingStatus, milestone: Milestone) -> TrackingEvent {
        let mut e = TrackingEvent::new(
            CarrierId::from_static("courier"),
            TrackingNumber::parse("T1").unwrap(),
            EventTime::Local { at: at.parse().unwrap() },
            raw,
            status,
        );
        e.milestone = Some(milestone);
        e
    }

    #[test]
    fn the_page_escapes_input_and_shows_no_order_data() {
        let mut e = scan(
            "2026-06-20T10:00:00",
            "In Transit",
            TrackingStatus::InTransit,
            Milestone::InTransit,
        );
        e.carrier_name = Some("Australia Post".into());
        e.tracking_url = Some("https://auspost.example/track/T1".into());
        let carriers = [CarrierInfo::new(CarrierId::from_static("courier"), "Courier", Leg::First)];
        let html = parcel_page("T1", &parcel(vec![e]), &carriers).into_string();
        assert!(
            html.contains(r#"<a class="carrier" href="https://auspost.example/track/T1" rel="noopener noreferrer">Australia Post</a> via Courier"#),
            "{html}"
        );
        assert!(html.contains("<html lang=\"en\">") && html.contains("<main"), "{html}");
        assert!(
            html.contains("2026-06-20 10:00 +00:00") && html.contains("zone unknown, read as UTC"),
            "{html}"
        );
        assert!(html.contains(r#"class="summary outcome-progress""#), "{html}");
        assert!(html.contains(r#"<ol class="stepper" aria-label="Progress">"#), "{html}");
        assert!(
            html.contains(r#"<li class="current" aria-current="step">On its way to the hub</li>"#),
            "{html}"
        );
        assert!(!html.contains("PO-PRIVATE") && !html.contains("secret-account"), "{html}");
        assert!(
            !html.contains("<script") && !html.contains("<style"),
            "no script, no inline style"
        );
        let html = not_found_page("<b>x</b>").into_string();
        assert!(html.contains("&lt;b&gt;x&lt;/b&gt;") && !html.contains("<b>x</b>"), "{html}");
    }

    #[test]
    fn a_time_the_carrier_did_not_give_is_shown_as_unknown_with_its_text() {
        let known = scan(
            "2026-06-20T10:00:00",
            "In Transit",
            TrackingStatus::InTransit,
            Milestone::InTransit,
        );
        let mut unknown = known.clone();
        unknown.raw_status = "Delivered".into();
        unknown.status = TrackingStatus::Delivered;
        unknown.milestone = Some(Milestone::Delivered);
        unknown.occurred_at =
            EventTime::unknown(Some("<yesterday>".into()), "2026-06-21T00:00:00Z".parse().unwrap());
        let html = parcel_page("T1", &parcel(vec![known, unknown]), &[]).into_string();
        assert!(html.contains(r#"<span class="unknown-time">time unknown</span>"#), "{html}");
        assert!(html.contains("(sent as “&lt;yesterday&gt;”)"), "escaped raw text: {html}");
        assert!(html.contains("the carrier sent no usable time"), "{html}");
        assert!(!html.contains("2026-06-21"), "the receipt is never shown as the time: {html}");
        assert!(html.contains(r#"<time datetime="2026-06-20T10:00:00Z">"#), "{html}");
    }

    #[test]
    fn outcomes_have_their_colour_and_repeated_milestones_collapse() {
        let events = vec![
            scan(
                "2026-06-20T10:00:00",
                "out",
                TrackingStatus::OutForDelivery,
                Milestone::OutForDelivery,
            ),
            scan(
                "2026-06-20T12:00:00",
                "failed",
                TrackingStatus::AttemptFailed,
                Milestone::OutForDelivery,
            ),
            scan(
                "2026-06-21T10:00:00",
                "out",
                TrackingStatus::OutForDelivery,
                Milestone::OutForDelivery,
            ),
            scan("2026-06-21T11:00:00", "returned", TrackingStatus::Returned, Milestone::Returned),
        ];
        let html = parcel_page("T1", &parcel(events), &[]).into_string();
        assert!(html.contains(r#"class="summary outcome-ended""#), "{html}");
        assert!(
            html.contains("<li class=\"current\" aria-current=\"step\">Returned to sender</li>"),
            "{html}"
        );
        assert!(html.contains("<summary>2 earlier updates at this stage</summary>"), "{html}");
        let mut bad =
            scan("2026-06-20T10:00:00", "x", TrackingStatus::Exception, Milestone::InTransit);
        bad.tracking_url = Some("javascript:alert(1)".into());
        let html = parcel_page("T1", &parcel(vec![bad]), &[]).into_string();
        assert!(html.contains(r#"class="summary outcome-attention""#), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
    }
}
