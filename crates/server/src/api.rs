//! The JSON API under `/v1`: orders (create, get, list), a parcel's merged timeline, tracking
//! lookup by any known number, services and rates. Every handler is documented for OpenAPI
//! by its `#[utoipa::path]`.

use std::collections::BTreeMap;

use axum::{
    Json,
    extract::{Path, Query, State, rejection::JsonRejection},
    http::StatusCode,
    response::IntoResponse,
};
use waybill_domain::{
    MerchantTrackingNumber, OrderItem, OrderRequest, PartnerOrderRef, ServiceId, TrackingStatus,
    Weight,
};

use crate::{
    accounts::{self, carrier_error},
    error::{ApiError, ErrorBody},
    model::{
        CreateOrder, CreatedOrder, ListOrdersQuery, ListSort, OrderPage, OrderReference, OrderView,
        RateCardView, RatesQuery, ServiceView, TimelineView, TrackView,
    },
    state::AppState,
};
use waybill_store::{OrderFilter, OrderSort, Replay, StoreError};

/// The OpenAPI tag of these endpoints.
pub const TAG: &str = "api";

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

/// A failed carrier call: counted under the account's carrier, answered with the account named.
/// Validates a create request into the domain's order, collecting every field error.
fn order_request(body: &CreateOrder) -> Result<OrderRequest, ApiError> {
    let mut fields: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut note = |field: String, message: String| fields.entry(field).or_default().push(message);
    let reference = PartnerOrderRef::parse(body.reference.clone())
        .map_err(|e| note("reference".into(), e.to_string()))
        .ok();
    let service =
        ServiceId::new(body.service_id).map_err(|e| note("service_id".into(), e.to_string())).ok();
    if body.items.is_empty() {
        note("items".into(), "at least one item is required".into());
    }
    let mut items = Vec::new();
    for (i, item) in body.items.iter().enumerate() {
        let number = MerchantTrackingNumber::parse(item.merchant_tracking_number.clone())
            .map_err(|e| note(format!("items[{i}].merchant_tracking_number"), e.to_string()))
            .ok();
        let weight = item
            .weight_grams
            .map(Weight::from_grams)
            .transpose()
            .map_err(|e| note(format!("items[{i}].weight_grams"), e.to_string()))
            .ok()
            .flatten();
        if let Some(number) = number {
            let mut item = OrderItem::new(number);
            item.weight = weight;
            items.push(item);
        }
    }
    let (Some(reference), Some(service), true) = (reference, service, fields.is_empty()) else {
        return Err(ApiError::validation(fields));
    };
    OrderRequest::new(service, reference, items).map_err(|e| {
        ApiError::validation(BTreeMap::from([("items".to_owned(), vec![e.to_string()])]))
    })
}

/// Create an order at Starmile and store it.
///
/// Idempotent on `reference`: sending the same order again answers 200 with
/// `duplicate: true` instead of 201. Sending a *different* order under a reference already
/// used answers 409 `idempotency_conflict`, naming what differs in `message` and `fields`,
/// and changes nothing (nothing is sent to the carrier). A 201 carries the new order's URL
/// in `Location`.
#[utoipa::path(
    post,
    path = "/v1/orders",
    tag = TAG,
    request_body = CreateOrder,
    responses(
        (status = 201, description = "The order was created", body = CreatedOrder,
            headers(("Location" = String, description = "The order's URL, `/v1/orders/{reference}`"))),
        (status = 200, description = "The order already existed (idempotent replay)", body = CreatedOrder),
        (status = 400, description = "Malformed JSON or unknown account", body = ErrorBody),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 409, description = "The reference was used for a different order (`idempotency_conflict`; `fields` names each difference): use a new reference", body = ErrorBody),
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 415, description = "The body was not sent as `application/json`", body = ErrorBody),
        (status = 422, description = "Invalid fields (`validation_failed`, with `fields`) or refused by the carrier (`carrier_rejected`)", body = ErrorBody),
        (status = 502, description = "The carrier is unreachable or refused waybill's credential", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn create_order(
    State(state): State<AppState>,
    body: Result<Json<CreateOrder>, JsonRejection>,
) -> Result<axum::response::Response, ApiError> {
    let Json(body) = body?;
    let request = order_request(&body)?;
    let account = accounts::resolve(&state, body.account.as_deref())?;
    // A conflicting replay is refused before anything is sent.
    if let Replay::Conflict(conflict) = state.store.check_replay(&account.name, &request).await? {
        return Err(ApiError::from(StoreError::IdempotencyConflict(conflict)));
    }
    let order = account
        .desk
        .create_order(&request)
        .await
        .map_err(|e| carrier_error(&state, account, &e))?;
    state.store.save_order(&account.name, &request, &order).await?;
    let created = Json(CreatedOrder::from(&order));
    if order.duplicate {
        return Ok((StatusCode::OK, created).into_response());
    }
    let location = format!("/v1/orders/{}", path_segment(request.reference().as_str()));
    Ok((StatusCode::CREATED, [(axum::http::header::LOCATION, location)], created).into_response())
}

/// Get a stored order by its reference.
#[utoipa::path(
    get,
    path = "/v1/orders/{reference}",
    tag = TAG,
    params(("reference" = OrderReference, Path, description = "Your order reference")),
    responses(
        (status = 200, description = "The order with its parcels", body = OrderView),
        (status = 400, description = "The reference breaks the reference rules (named in the message)", body = ErrorBody),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 404, description = "No stored order has this reference", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn get_order(
    State(state): State<AppState>,
    Path(reference): Path<String>,
) -> Result<Json<OrderView>, ApiError> {
    // An unusable reference is the caller's mistake, said as such (never echoed back whole).
    let parsed = PartnerOrderRef::parse(reference)
        .map_err(|e| ApiError::invalid_field("reference", e.to_string()))?;
    let order = state.store.order(None, &parsed).await?.ok_or_else(|| {
        ApiError::not_found(format!("no stored order has the reference {:?}", parsed.as_str()))
    })?;
    Ok(Json(OrderView::from(&order)))
}

/// List stored orders, newest first (or by reference with `sort=reference`), with cursor
/// pagination.
///
/// Pass the `next` of one page as `after` to get the following page; the last page has no
/// `next`.
#[utoipa::path(
    get,
    path = "/v1/orders",
    tag = TAG,
    params(ListOrdersQuery),
    responses(
        (status = 200, description = "A page of orders", body = OrderPage),
        (status = 400, description = "A filter or the limit is invalid", body = ErrorBody),
        (status = 401, description = "No valid API key", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn list_orders(
    State(state): State<AppState>,
    query: Result<Query<ListOrdersQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<OrderPage>, ApiError> {
    let Query(q) = query?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid_field("limit", format!("must be 1 to {MAX_LIMIT}")));
    }
    let status = q
        .status
        .as_deref()
        .map(str::parse::<TrackingStatus>)
        .transpose()
        .map_err(|e| ApiError::invalid_field("status", e.to_string()))?;
    let service_id = q
        .service
        .map(ServiceId::new)
        .transpose()
        .map_err(|e| ApiError::invalid_field("service", e.to_string()))?;
    let mut filter = OrderFilter {
        status,
        service_id,
        limit: limit + 1,
        sort: match q.sort.unwrap_or(ListSort::Newest) {
            ListSort::Newest => OrderSort::Newest,
            ListSort::Reference => OrderSort::Reference,
        },
        ..OrderFilter::default()
    };
    // An empty parameter is an absent one (`?after=&limit=20` from a form or a template).
    if let Some(after) = q.after.as_deref().filter(|a| !a.is_empty()) {
        filter.set_cursor(after).map_err(|e| ApiError::invalid_field("after", e.to_string()))?;
    }
    // One more than asked tells whether another page follows.
    let mut orders = state.store.list_orders(&filter).await?;
    let more = orders.len() > limit as usize;
    orders.truncate(limit as usize);
    let next = if more { orders.last().map(OrderFilter::cursor_of) } else { None };
    Ok(Json(OrderPage { orders: orders.iter().map(OrderView::from).collect(), next }))
}

async fn find_parcel(
    state: &AppState,
    number: &str,
) -> Result<waybill_store::ParcelTimeline, ApiError> {
    let mut p = state
        .store
        .parcel_timeline(number)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no parcel is known by {number:?}")))?;
    with_local_zones(&mut p, &state.carriers);
    Ok(p)
}

/// Reads each carrier's offset-less times in its configured zone, when one is configured
/// (else the timeline infers one; see [`waybill_domain::Timeline::local_zone`]).
pub(crate) fn with_local_zones(
    p: &mut waybill_store::ParcelTimeline,
    carriers: &[waybill_domain::CarrierInfo],
) {
    for c in carriers {
        if let Some(zone) = &c.local_zone {
            // Config resolution validated the name; an unknown one changes nothing.
            let _ = p.timeline.set_local_zone(&c.id, zone);
        }
    }
}

/// A parcel's merged timeline: every event from every carrier, oldest first.
#[utoipa::path(
    get,
    path = "/v1/parcels/{number}/timeline",
    tag = TAG,
    params(("number" = String, Path, description = "Merchant tracking number or the carrier's parcel tracking number (or the order's, when it has one parcel)")),
    responses(
        (status = 200, description = "The merged timeline", body = TimelineView),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 404, description = "No parcel is known by this number", body = ErrorBody),
        (status = 409, description = "The number matches several parcels", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn parcel_timeline(
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> Result<Json<TimelineView>, ApiError> {
    let p = find_parcel(&state, &number).await?;
    Ok(Json(TimelineView::from(&p)))
}

/// Look a parcel up by any number waybill knows for it, and say where it is now.
#[utoipa::path(
    get,
    path = "/v1/track/{number}",
    tag = TAG,
    params(("number" = String, Path, description = "Merchant tracking number, the carrier's parcel or order tracking number, or order reference")),
    responses(
        (status = 200, description = "The parcel and its latest event", body = TrackView),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 404, description = "No parcel is known by this number", body = ErrorBody),
        (status = 409, description = "The number matches several parcels", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn track(
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> Result<Json<TrackView>, ApiError> {
    let p = find_parcel(&state, &number).await?;
    Ok(Json(TrackView::new(&number, &p)))
}

/// The services the default account may order.
#[utoipa::path(
    get,
    path = "/v1/services",
    tag = TAG,
    responses(
        (status = 200, description = "The services", body = Vec<ServiceView>),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 502, description = "The carrier is unreachable", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn services(State(state): State<AppState>) -> Result<Json<Vec<ServiceView>>, ApiError> {
    let account = accounts::resolve(&state, None)?;
    let services =
        account.catalog.services().await.map_err(|e| carrier_error(&state, account, &e))?;
    Ok(Json(services.iter().map(ServiceView::from).collect()))
}

/// The default account's rate cards, optionally for one service and with a quote for a weight.
#[utoipa::path(
    get,
    path = "/v1/rates",
    tag = TAG,
    params(RatesQuery),
    responses(
        (status = 200, description = "The rate cards", body = Vec<RateCardView>),
        (status = 400, description = "The service or weight is invalid", body = ErrorBody),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 502, description = "The carrier is unreachable", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn rates(
    State(state): State<AppState>,
    query: Result<Query<RatesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<RateCardView>>, ApiError> {
    let Query(q) = query?;
    let service = q
        .service
        .map(ServiceId::new)
        .transpose()
        .map_err(|e| ApiError::invalid_field("service", e.to_string()))?;
    let weight = q
        .weight
        .as_deref()
        .filter(|w| !w.trim().is_empty())
        .map(str::parse::<Weight>)
        .transpose()
        .map_err(|e| ApiError::invalid_field("weight", e.to_string()))?;
    let account = accounts::resolve(&state, None)?;
    let cards = account.catalog.rates().await.map_err(|e| carrier_error(&state, account, &e))?;
    Ok(Json(
        cards
            .iter()
            .filter(|c| service.is_none_or(|s| c.service_id() == s))
            .map(|c| RateCardView::new(c, weight))
            .collect(),
    ))
}

/// `text` escaped for use as one URL path segment (references may hold `/`, `?`, `#`, …).
fn path_segment(text: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    percent_encoding::utf8_percent_encode(text, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CreateItem;

    #[test]
    fn every_invalid_field_is_reported_at_once() {
        let body = CreateOrder {
            reference: String::new(),
            service_id: 0,
            items: vec![
                CreateItem { merchant_tracking_number: "ok-1".into(), weight_grams: Some(0) },
                CreateItem { merchant_tracking_number: "has space".into(), weight_grams: None },
            ],
            account: None,
        };
        let e = order_request(&body).unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<&str> = e.body.fields.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            [
                "items[0].weight_grams",
                "items[1].merchant_tracking_number",
                "reference",
                "service_id"
            ]
        );
    }

    #[test]
    fn a_valid_body_becomes_a_domain_order() {
        let body = CreateOrder {
            reference: "PO-1".into(),
            service_id: 5,
            items: vec![CreateItem {
                merchant_tracking_number: "T1".into(),
                weight_grams: Some(800),
            }],
            account: None,
        };
        let r = order_request(&body).unwrap();
        assert_eq!(r.reference().as_str(), "PO-1");
        assert_eq!(r.items()[0].weight.map(Weight::grams), Some(800));
    }
}
