//! The JSON API for an order's parcels after creation — update, add, cancel, split onto a
//! new order — and parcel labels as PDF, all through the account's [`ParcelDesk`](waybill_domain::ParcelDesk). Each
//! handler is documented for OpenAPI by its `#[utoipa::path]`; the request and answer
//! shapes live here with them.

use std::collections::BTreeMap;

use axum::{
    Json,
    extract::{Path, Query, State, rejection::JsonRejection},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use waybill_domain::{
    Currency, Dimensions, HsCode, LabelTarget, MerchantTrackingNumber, Money, OrderItem,
    OrderParcel, PackageType, ParcelCancellation, ParcelChanges, PartnerOrderRef, Product,
    ProductName, Quantity, SplitOrder, Weight,
};
use waybill_store::{ParcelPlacement, SplitFrom};

use crate::{
    accounts::{self, AccountQuery, carrier_error},
    api::TAG,
    error::{ApiError, ErrorBody},
    model::{OrderReference, StickerCode},
    state::AppState,
};

/// A parcel's size in millimetres.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DimensionsBody {
    /// Length, mm.
    #[schema(minimum = 1, maximum = 5000)]
    pub length_mm: u32,
    /// Width, mm.
    #[schema(minimum = 1, maximum = 5000)]
    pub width_mm: u32,
    /// Height, mm.
    #[schema(minimum = 1, maximum = 5000)]
    pub height_mm: u32,
}

/// A product declared to customs.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductBody {
    /// What it is.
    #[schema(example = "Running shoes", min_length = 1, max_length = 200)]
    pub name: String,
    /// Harmonized System code, 6 to 10 digits.
    #[serde(default)]
    #[schema(example = "640299", pattern = "^[0-9]{6,10}$")]
    pub hs_code: Option<String>,
    /// Declared value per unit, a decimal string.
    #[serde(default)]
    #[schema(example = "59.99")]
    pub declared_value: Option<String>,
    /// ISO 4217 currency of the declared value (required with it).
    #[serde(default)]
    #[schema(example = "USD", pattern = "^[A-Za-z]{3}$")]
    pub currency: Option<String>,
    /// Weight per unit, grams.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000000)]
    pub weight_grams: Option<u32>,
    /// Units (default 1).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100000)]
    pub quantity: Option<u32>,
}

/// A partial change to a parcel not yet received; `products` replaces the list. At least
/// one field.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct UpdateParcel {
    /// A new sticker code (printable ASCII without spaces).
    #[serde(default)]
    #[schema(value_type = Option<StickerCode>)]
    pub merchant_tracking_number: Option<String>,
    /// `fragile`, `breakable` or `liquid`.
    #[serde(default)]
    pub package_type: Option<String>,
    /// Weight, grams.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000000)]
    pub weight_grams: Option<u32>,
    /// Outside size.
    #[serde(default)]
    pub dimensions: Option<DimensionsBody>,
    /// The new product list.
    #[serde(default)]
    #[schema(min_items = 1, max_items = 100)]
    pub products: Option<Vec<ProductBody>>,
}

/// A parcel to add to an order (at least one product).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddParcel {
    /// The new parcel's sticker code (printable ASCII without spaces).
    #[schema(value_type = StickerCode)]
    pub merchant_tracking_number: String,
    /// `fragile`, `breakable` or `liquid`.
    #[serde(default)]
    pub package_type: Option<String>,
    /// Weight, grams.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000000)]
    pub weight_grams: Option<u32>,
    /// Outside size.
    #[serde(default)]
    pub dimensions: Option<DimensionsBody>,
    /// What is inside.
    #[schema(min_items = 1, max_items = 100)]
    pub products: Vec<ProductBody>,
}

/// Why a parcel is cancelled.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelParcel {
    /// Sent to the carrier.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Where a split-off parcel goes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitParcel {
    /// The new order's reference (unused, different from the source's).
    #[schema(value_type = OrderReference)]
    pub new_reference: String,
    /// Kept on the new order's history.
    #[serde(default)]
    pub reason: Option<String>,
}

/// A parcel as the carrier registered it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ParcelRef {
    /// The partner's item reference, when the carrier echoed one.
    pub item_id: Option<String>,
    /// The sticker code.
    pub merchant_tracking_number: Option<String>,
    /// The carrier's parcel tracking number.
    pub tracking_number: String,
}

impl From<&OrderParcel> for ParcelRef {
    fn from(p: &OrderParcel) -> Self {
        Self {
            item_id: p.item_id.clone(),
            merchant_tracking_number: p.merchant_tracking_number.as_ref().map(ToString::to_string),
            tracking_number: p.tracking_number.to_string(),
        }
    }
}

/// A cancelled parcel.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CancelledParcel {
    /// The parcel.
    pub parcel: ParcelRef,
    /// True when it was the last active parcel, so the order is cancelled too.
    pub order_cancelled: bool,
}

/// The order a split created.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SplitResult {
    /// The new order's reference.
    pub reference: String,
    /// The carrier's tracking number of the new order.
    pub tracking_number: String,
    /// The order the parcel left.
    pub source: String,
    /// The moved parcel (its tracking number is unchanged).
    pub parcel: ParcelRef,
}

type Fields = BTreeMap<String, Vec<String>>;

fn note(fields: &mut Fields, field: &str, message: impl std::fmt::Display) {
    fields.entry(field.to_owned()).or_default().push(message.to_string());
}

fn refs(
    reference: &str,
    number: &str,
) -> Result<(PartnerOrderRef, MerchantTrackingNumber), ApiError> {
    let reference = PartnerOrderRef::parse(reference)
        .map_err(|e| ApiError::invalid_field("reference", e.to_string()))?;
    let number = MerchantTrackingNumber::parse(number)
        .map_err(|e| ApiError::invalid_field("number", e.to_string()))?;
    Ok((reference, number))
}

fn products(list: &[ProductBody], fields: &mut Fields) -> Vec<Product> {
    let mut out = Vec::new();
    for (i, p) in list.iter().enumerate() {
        let at = |k: &str| format!("products[{i}].{k}");
        let Ok(name) = ProductName::parse(p.name.clone()).map_err(|e| note(fields, &at("name"), e))
        else {
            continue;
        };
        let mut product = Product::new(name);
        if let Some(hs) = &p.hs_code {
            match HsCode::parse(hs.clone()) {
                Ok(h) => product = product.with_hs_code(h),
                Err(e) => note(fields, &at("hs_code"), e),
            }
        }
        match (&p.declared_value, &p.currency) {
            (Some(v), Some(c)) => {
                let amount = v
                    .parse()
                    .map_err(|_| note(fields, &at("declared_value"), "must be a decimal amount"));
                let currency = Currency::parse(c).map_err(|e| note(fields, &at("currency"), e));
                if let (Ok(amount), Ok(currency)) = (amount, currency) {
                    match Money::new(amount, currency) {
                        Ok(m) => product = product.with_declared_value(m),
                        Err(e) => note(fields, &at("declared_value"), e),
                    }
                }
            }
            (Some(_), None) => note(fields, &at("currency"), "is required with declared_value"),
            (None, Some(_)) => note(fields, &at("declared_value"), "is required with currency"),
            (None, None) => {}
        }
        if let Some(w) = p.weight_grams {
            match Weight::from_grams(w) {
                Ok(w) => product = product.with_weight(w),
                Err(e) => note(fields, &at("weight_grams"), e),
            }
        }
        if let Some(q) = p.quantity {
            match Quantity::new(q) {
                Ok(q) => product = product.with_quantity(q),
                Err(e) => note(fields, &at("quantity"), e),
            }
        }
        out.push(product);
    }
    out
}

fn details(
    package_type: Option<&str>,
    weight_grams: Option<u32>,
    dimensions: Option<DimensionsBody>,
    fields: &mut Fields,
) -> (Option<PackageType>, Option<Weight>, Option<Dimensions>) {
    let package_type = package_type
        .map(str::parse::<PackageType>)
        .transpose()
        .map_err(|e| note(fields, "package_type", e))
        .ok()
        .flatten();
    let weight = weight_grams
        .map(Weight::from_grams)
        .transpose()
        .map_err(|e| note(fields, "weight_grams", e))
        .ok()
        .flatten();
    let dimensions = dimensions
        .map(|d| Dimensions::new(d.length_mm, d.width_mm, d.height_mm))
        .transpose()
        .map_err(|e| note(fields, "dimensions", e))
        .ok()
        .flatten();
    (package_type, weight, dimensions)
}

/// Change a parcel at Starmile before it is received (partial; `products` replaces the list).
#[utoipa::path(
    patch,
    path = "/v1/orders/{reference}/parcels/{number}",
    tag = TAG,
    params(
        ("reference" = OrderReference, Path, description = "Your order reference"),
        ("number" = StickerCode, Path, description = "The parcel's merchant tracking number"),
        AccountQuery,
    ),
    request_body = UpdateParcel,
    responses(
        (status = 200, description = "The parcel was changed", body = ParcelRef),
        (status = 400, description = "No such account is configured, or a path value breaks its rule", body = ErrorBody),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 404, description = "The carrier knows no such order or parcel", body = ErrorBody),
        (status = 409, description = "The parcel was already received", body = ErrorBody),
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 415, description = "The body was not sent as `application/json`", body = ErrorBody),
        (status = 422, description = "Invalid fields, nothing to change, or refused by the carrier", body = ErrorBody),
        (status = 502, description = "The carrier is unreachable", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn update_parcel(
    State(state): State<AppState>,
    Path((reference, number)): Path<(String, String)>,
    Query(q): Query<AccountQuery>,
    body: Result<Json<UpdateParcel>, JsonRejection>,
) -> Result<Json<ParcelRef>, ApiError> {
    let Json(body) = body?;
    let (reference, number) = refs(&reference, &number)?;
    let mut fields = Fields::new();
    let merchant = body
        .merchant_tracking_number
        .clone()
        .map(MerchantTrackingNumber::parse)
        .transpose()
        .map_err(|e| note(&mut fields, "merchant_tracking_number", e))
        .ok()
        .flatten();
    let (package_type, weight, dimensions) =
        details(body.package_type.as_deref(), body.weight_grams, body.dimensions, &mut fields);
    let products = body.products.as_deref().map(|p| products(p, &mut fields));
    let changes = ParcelChanges {
        merchant_tracking_number: merchant,
        package_type,
        weight,
        dimensions,
        products,
    };
    if let Err(e) = changes.check() {
        note(&mut fields, "body", e);
    }
    if !fields.is_empty() {
        return Err(ApiError::validation(fields));
    }
    let account = accounts::resolve(&state, q.account.as_deref())?;
    let parcel = account
        .parcels
        .update_parcel(&reference, &number, &changes)
        .await
        .map_err(|e| carrier_error(&state, account, &e))?;
    Ok(Json(ParcelRef::from(&parcel)))
}

/// Add a parcel (with at least one declared product) to an order at Starmile.
#[utoipa::path(
    post,
    path = "/v1/orders/{reference}/parcels",
    tag = TAG,
    params(("reference" = OrderReference, Path, description = "Your order reference"), AccountQuery),
    request_body = AddParcel,
    responses(
        (status = 201, description = "The parcel was added", body = ParcelRef),
        (status = 400, description = "No such account is configured, or a path value breaks its rule", body = ErrorBody),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 404, description = "The carrier knows no such order", body = ErrorBody),
        (status = 409, description = "The order is cancelled", body = ErrorBody),
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 415, description = "The body was not sent as `application/json`", body = ErrorBody),
        (status = 422, description = "Invalid fields (e.g. no products) or refused by the carrier", body = ErrorBody),
        (status = 502, description = "The carrier is unreachable", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn add_parcel(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    Query(q): Query<AccountQuery>,
    body: Result<Json<AddParcel>, JsonRejection>,
) -> Result<(StatusCode, Json<ParcelRef>), ApiError> {
    let Json(body) = body?;
    let (reference, number) = refs(&reference, &body.merchant_tracking_number)?;
    let mut fields = Fields::new();
    let (package_type, weight, dimensions) =
        details(body.package_type.as_deref(), body.weight_grams, body.dimensions, &mut fields);
    let mut item = OrderItem::new(number);
    item.package_type = package_type;
    item.weight = weight;
    item.dimensions = dimensions;
    item.products = products(&body.products, &mut fields);
    if fields.is_empty()
        && let Err(e) = item.check_addable()
    {
        note(&mut fields, "products", e);
    }
    if !fields.is_empty() {
        return Err(ApiError::validation(fields));
    }
    let account = accounts::resolve(&state, q.account.as_deref())?;
    let parcel = account
        .parcels
        .add_parcel(&reference, &item)
        .await
        .map_err(|e| carrier_error(&state, account, &e))?;
    // Recorded at once, so the order book knows the parcel before the pool reports it.
    let placement = ParcelPlacement {
        reference,
        merchant_tracking_number: item.merchant_tracking_number.clone(),
        tracking_number: Some(parcel.tracking_number.clone()),
        split: None,
    };
    state.store.place_parcel(&account.name, &placement).await?;
    Ok((StatusCode::CREATED, Json(ParcelRef::from(&parcel))))
}

/// Cancel one parcel at Starmile; the order goes with its last active parcel.
#[utoipa::path(
    post,
    path = "/v1/orders/{reference}/parcels/{number}/cancel",
    tag = TAG,
    params(
        ("reference" = OrderReference, Path, description = "Your order reference"),
        ("number" = StickerCode, Path, description = "The parcel's merchant tracking number"),
        AccountQuery,
    ),
    request_body = CancelParcel,
    responses(
        (status = 200, description = "The parcel was cancelled", body = CancelledParcel),
        (status = 400, description = "No such account is configured, or a path value breaks its rule", body = ErrorBody),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 404, description = "The carrier knows no such order or parcel", body = ErrorBody),
        (status = 409, description = "Already received or already cancelled", body = ErrorBody),
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 415, description = "The body was not sent as `application/json`", body = ErrorBody),
        (status = 422, description = "The body does not match the schema (`validation_failed`, with `fields`)", body = ErrorBody),
        (status = 502, description = "The carrier is unreachable", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn cancel_parcel(
    State(state): State<AppState>,
    Path((reference, number)): Path<(String, String)>,
    Query(q): Query<AccountQuery>,
    body: Result<Json<CancelParcel>, JsonRejection>,
) -> Result<Json<CancelledParcel>, ApiError> {
    let Json(body) = body?;
    let (reference, number) = refs(&reference, &number)?;
    let account = accounts::resolve(&state, q.account.as_deref())?;
    let done: ParcelCancellation = account
        .parcels
        .cancel_parcel(&reference, &number, body.reason)
        .await
        .map_err(|e| carrier_error(&state, account, &e))?;
    Ok(Json(CancelledParcel {
        parcel: ParcelRef::from(&done.parcel),
        order_cancelled: done.order_cancelled,
    }))
}

/// Move one parcel onto a new order at Starmile (same service, recipient and destination).
#[utoipa::path(
    post,
    path = "/v1/orders/{reference}/parcels/{number}/split",
    tag = TAG,
    params(
        ("reference" = OrderReference, Path, description = "Your order reference"),
        ("number" = StickerCode, Path, description = "The parcel's merchant tracking number"),
        AccountQuery,
    ),
    request_body = SplitParcel,
    responses(
        (status = 201, description = "The new order", body = SplitResult),
        (status = 400, description = "No such account is configured, or a path value breaks its rule", body = ErrorBody),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 404, description = "The carrier knows no such order or parcel", body = ErrorBody),
        (status = 409, description = "Received, a single-parcel or a cancelled order", body = ErrorBody),
        (status = 413, description = "The body is larger than the server accepts", body = ErrorBody),
        (status = 415, description = "The body was not sent as `application/json`", body = ErrorBody),
        (status = 422, description = "The new reference is invalid, taken or the same", body = ErrorBody),
        (status = 502, description = "The carrier is unreachable", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn split_parcel(
    State(state): State<AppState>,
    Path((reference, number)): Path<(String, String)>,
    Query(q): Query<AccountQuery>,
    body: Result<Json<SplitParcel>, JsonRejection>,
) -> Result<(StatusCode, Json<SplitResult>), ApiError> {
    let Json(body) = body?;
    let (reference, number) = refs(&reference, &number)?;
    let new_reference = PartnerOrderRef::parse(body.new_reference.clone())
        .map_err(|e| ApiError::invalid_field("new_reference", e.to_string()))?;
    if new_reference == reference {
        return Err(ApiError::invalid_field(
            "new_reference",
            "must differ from the order's reference",
        ));
    }
    let account = accounts::resolve(&state, q.account.as_deref())?;
    let split: SplitOrder = account
        .parcels
        .split_parcel(&reference, &number, &new_reference, body.reason)
        .await
        .map_err(|e| carrier_error(&state, account, &e))?;
    let placement = ParcelPlacement {
        reference: split.reference.clone(),
        merchant_tracking_number: number,
        tracking_number: Some(split.parcel.tracking_number.clone()),
        split: Some(SplitFrom {
            source: split.source.clone(),
            order_tracking_number: split.tracking_number.clone(),
        }),
    };
    state.store.place_parcel(&account.name, &placement).await?;
    Ok((
        StatusCode::CREATED,
        Json(SplitResult {
            reference: split.reference.to_string(),
            tracking_number: split.tracking_number.to_string(),
            source: split.source.to_string(),
            parcel: ParcelRef::from(&split.parcel),
        }),
    ))
}

/// A parcel's label as a PDF, by its merchant tracking number or the carrier's parcel
/// tracking number (a number the store knows is resolved to the parcel's sticker code).
#[utoipa::path(
    get,
    path = "/v1/parcels/{number}/label",
    tag = TAG,
    params(
        ("number" = StickerCode, Path, description = "Merchant tracking number or the carrier's parcel tracking number"),
        AccountQuery,
    ),
    responses(
        (status = 200, description = "The label: the bytes of an A6 PDF document", content_type = "application/pdf", body = String),
        (status = 400, description = "No such account is configured, or a path value breaks its rule", body = ErrorBody),
        (status = 401, description = "No valid API key", body = ErrorBody),
        (status = 404, description = "The carrier knows no such parcel", body = ErrorBody),
        (status = 502, description = "The carrier is unreachable or did not send a PDF", body = ErrorBody),
    ),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn parcel_label(
    State(state): State<AppState>,
    Path(number): Path<String>,
    Query(q): Query<AccountQuery>,
) -> Result<Response, ApiError> {
    let target = match state.store.parcel_timeline(&number).await? {
        Some(p) => LabelTarget::MerchantTracking(p.parcel.merchant_tracking_number),
        // Not stored: the number is the sticker code itself.
        None => LabelTarget::MerchantTracking(
            MerchantTrackingNumber::parse(number.clone())
                .map_err(|e| ApiError::invalid_field("number", e.to_string()))?,
        ),
    };
    let account = accounts::resolve(&state, q.account.as_deref())?;
    let pdf =
        account.parcels.label(&target).await.map_err(|e| carrier_error(&state, account, &e))?;
    Ok(([(header::CONTENT_TYPE, "application/pdf")], pdf.into_bytes()).into_response())
}
