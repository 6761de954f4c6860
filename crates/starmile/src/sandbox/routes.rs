//! The sandbox's HTTP surface: routes, token issuing and checking, fault injection and
//! request counting.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
    time::Instant,
};

use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::{MatchedPath, Path, Query, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, patch, post},
};
use base64::Engine;
use serde_json::{Value, json};

use super::{
    Counters, Faults, SandboxConfig, catalogue,
    intake::{self, FieldErrors, Shape},
    label,
    lifecycle::mix,
    store::{Cancel, Created, EventOutcome, LabelQuery, NewEvent, ParcelOutcome, PoolQuery, Store},
};
use crate::{EventType, wire};

/// State shared by every handler.
pub(crate) struct Shared {
    pub(crate) config: SandboxConfig,
    started: Instant,
    /// Simulated seconds added by [`crate::sandbox::Sandbox::advance`].
    skipped: AtomicI64,
    store: Mutex<Store>,
    pub(crate) tokens: Mutex<HashMap<String, TokenRec>>,
    pub(crate) faults: Mutex<Faults>,
    draws: AtomicU64,
    token_requests: AtomicU64,
    requests: Mutex<BTreeMap<(String, u16), u64>>,
}

pub(crate) struct TokenRec {
    partner: usize,
    scopes: Vec<String>,
    expires: Instant,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn new(config: SandboxConfig, store: Store) -> Self {
        let faults = config.faults.clone();
        Self {
            config,
            started: Instant::now(),
            skipped: AtomicI64::new(0),
            store: Mutex::new(store),
            tokens: Mutex::new(HashMap::new()),
            faults: Mutex::new(faults),
            draws: AtomicU64::new(0),
            token_requests: AtomicU64::new(0),
            requests: Mutex::new(BTreeMap::new()),
        }
    }

    /// Simulated Unix seconds now.
    pub(crate) fn sim_now(&self) -> i64 {
        let elapsed = self.started.elapsed().as_secs_f64() * self.config.time_scale.max(0.0);
        self.config
            .epoch
            .as_second()
            .saturating_add(elapsed.min(1e15) as i64)
            .saturating_add(self.skipped.load(Ordering::Relaxed))
    }

    /// Moves the simulated clock forward by `seconds` (on top of its running pace).
    pub(crate) fn skip(&self, seconds: i64) {
        self.skipped.fetch_add(seconds.max(0), Ordering::Relaxed);
    }

    pub(crate) fn counters(&self) -> Counters {
        let store = lock(&self.store);
        Counters {
            token_requests: self.token_requests.load(Ordering::Relaxed),
            orders_created: store.orders_created,
            orders_held: store.orders_held(),
            pool_rows: store.pool_rows(),
            requests: lock(&self.requests).clone(),
        }
    }

    /// The next number of the seeded fault sequence, uniform in 0..1.
    fn draw(&self) -> f64 {
        let n = self.draws.fetch_add(1, Ordering::Relaxed);
        let z = mix(self.config.seed ^ 0xFA17 ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Marks a response whose connection the fault layer cuts.
#[derive(Clone, Copy)]
struct Dropped;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/api/v1/services", get(services))
        .route("/api/v1/rates", get(rates))
        .route("/api/v1/orders", post(create_order))
        .route("/api/v1/orders/label", get(order_label))
        .route("/api/v1/orders/{order}/cancel", post(cancel_order))
        .route("/api/v1/orders/{order}/parcels", post(add_parcel))
        .route("/api/v1/orders/{order}/parcels/{item}", patch(update_parcel))
        .route("/api/v1/orders/{order}/parcels/{item}/cancel", post(cancel_parcel))
        .route("/api/v1/orders/{order}/parcels/{item}/split", post(split_parcel))
        .route("/api/v1/partner/events", post(report_event))
        .route("/api/v1/partner/changes", get(changes))
        .route_layer(middleware::from_fn_with_state(Arc::clone(&shared), inject_faults));
    Router::new()
        .route("/oauth/token", post(token))
        .merge(api)
        .fallback(|| async { message(StatusCode::NOT_FOUND, "Not Found.") })
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), count))
        .with_state(shared)
}

fn message(status: StatusCode, text: &str) -> Response {
    (status, Json(json!({ "message": text }))).into_response()
}

fn unauthenticated() -> Response {
    message(StatusCode::UNAUTHORIZED, "Unauthenticated.")
}

async fn count(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(unmatched)".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(req).await;
    let status = if response.extensions().get::<Dropped>().is_some() {
        0
    } else {
        response.status().as_u16()
    };
    *lock(&s.requests).entry((route, status)).or_default() += 1;
    response
}

async fn inject_faults(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let faults = lock(&s.faults).clone();
    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    let u = s.draw();
    let mut edge = faults.rate_429;
    if u < edge {
        let mut r = message(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests.");
        let secs = faults.retry_after.as_secs_f64().ceil().to_string();
        if let Ok(v) = HeaderValue::from_str(&secs) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    edge += faults.rate_503;
    if u < edge {
        return message(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable.");
    }
    edge += faults.rate_html_502;
    if u < edge {
        let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
                    <center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n\
                    </body>\r\n</html>\r\n";
        return (StatusCode::BAD_GATEWAY, [(header::CONTENT_TYPE, "text/html")], page)
            .into_response();
    }
    edge += faults.drop_rate;
    if u < edge {
        let cut = futures::stream::once(async {
            Err::<Bytes, std::io::Error>(std::io::Error::other("injected connection drop"))
        });
        let mut r = Response::new(Body::from_stream(cut));
        r.extensions_mut().insert(Dropped);
        return r;
    }
    next.run(req).await
}

/// `POST /oauth/token`: JSON or form body, credentials in the body or HTTP Basic.
async fn token(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    s.token_requests.fetch_add(1, Ordering::Relaxed);
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let mut fields: HashMap<String, String> = if is_json {
        match serde_json::from_slice::<serde_json::Map<String, Value>>(&body) {
            Ok(map) => map
                .into_iter()
                .filter_map(|(k, v)| match v {
                    Value::String(s) => Some((k, s)),
                    Value::Number(n) => Some((k, n.to_string())),
                    _ => None,
                })
                .collect(),
            Err(_) => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "The body is not valid JSON.",
                );
            }
        }
    } else {
        url::form_urlencoded::parse(&body).into_owned().collect()
    };
    if let Some((id, secret)) = basic_credentials(&headers) {
        fields.insert("client_id".into(), id);
        fields.insert("client_secret".into(), secret);
    }
    match fields.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        None => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The grant type is required.",
            );
        }
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
            );
        }
    }
    let id = fields.get("client_id").map_or("", String::as_str);
    let secret = fields.get("client_secret").map_or("", String::as_str);
    let Some((partner, credential)) = s
        .config
        .partners
        .iter()
        .enumerate()
        .find(|(_, p)| p.client_id == id && p.client_secret == secret)
    else {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({
                "error": "invalid_client",
                "error_description": "Client authentication failed",
                "message": "Unauthenticated."
            })),
        )
            .into_response();
    };
    let scopes: Vec<String> = match fields.get("scope").map(|s| s.split_whitespace()) {
        Some(requested) => {
            let requested: Vec<String> = requested.map(str::to_owned).collect();
            if let Some(bad) = requested.iter().find(|r| !credential.scopes.contains(r)) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    &format!("The requested scope {bad} is invalid or not granted."),
                );
            }
            requested
        }
        None => credential.scopes.clone(),
    };
    let access_token = format!("smt_{:032x}{:016x}", rand::random::<u128>(), rand::random::<u64>());
    let lifetime = s.config.token_lifetime;
    {
        let mut tokens = lock(&s.tokens);
        let now = Instant::now();
        if tokens.len() > 10_000 {
            tokens.retain(|_, t| t.expires > now);
        }
        tokens.insert(access_token.clone(), TokenRec { partner, scopes, expires: now + lifetime });
    }
    Json(wire::TokenResponse {
        token_type: Some("Bearer".into()),
        access_token,
        expires_in: Some(lifetime.as_secs()),
    })
    .into_response()
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description, "message": description })),
    )
        .into_response()
}

/// RFC 6749 §2.3.1: `Basic base64(urlencode(id) ":" urlencode(secret))`.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((unescape(id), unescape(secret)))
}

/// The partner behind a valid bearer token holding `scope`, or the 401/403 answer.
fn authorize(s: &Shared, headers: &HeaderMap, scope: &'static str) -> Result<usize, Denied> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(Denied::Unauthenticated)?;
    let tokens = lock(&s.tokens);
    let rec = tokens.get(token.trim()).filter(|t| t.expires > Instant::now());
    let rec = rec.ok_or(Denied::Unauthenticated)?;
    if !rec.scopes.iter().any(|s| s == scope) {
        return Err(Denied::Forbidden(scope));
    }
    Ok(rec.partner)
}

/// Why [`authorize`] refused a request.
enum Denied {
    Unauthenticated,
    Forbidden(&'static str),
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        match self {
            Self::Unauthenticated => unauthenticated(),
            Self::Forbidden(scope) => message(
                StatusCode::FORBIDDEN,
                &format!("Invalid scope(s) provided: this action needs {scope}."),
            ),
        }
    }
}

async fn services(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Err(denied) = authorize(&s, &headers, "catalogue:read") {
        return denied.into_response();
    }
    Json(wire::Data { data: catalogue::services() }).into_response()
}

async fn rates(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Err(denied) = authorize(&s, &headers, "catalogue:read") {
        return denied.into_response();
    }
    Json(wire::Data { data: catalogue::rates() }).into_response()
}

async fn create_order(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let partner = match authorize(&s, &headers, "orders:create") {
        Ok(p) => p,
        Err(denied) => return denied.into_response(),
    };
    let Ok(value) = serde_json::from_slice::<Value>(&body) else {
        return message(StatusCode::BAD_REQUEST, "The request body is not valid JSON.");
    };
    let new = intake::read_order(&value);
    let now = s.sim_now();
    let created = lock(&s.store).create(partner, new, now);
    match created {
        Created::New(order) => {
            let hang = {
                let faults = lock(&s.faults);
                (s.draw() < faults.commit_then_timeout_rate).then_some(faults.hang)
            };
            if let Some(hang) = hang {
                tracing::debug!(order = %order.order_id, "fault: committed, answering late");
                tokio::time::sleep(hang).await;
            }
            (StatusCode::CREATED, Json(wire::Data { data: order })).into_response()
        }
        Created::Duplicate(order) => Json(wire::Data { data: order }).into_response(),
        Created::Invalid(errors) => invalid(errors),
    }
}

/// `422 {"message":"The given data was invalid.","errors":{…}}`.
fn invalid(errors: FieldErrors) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(wire::ErrorBody {
            message: Some("The given data was invalid.".into()),
            errors: Some(errors),
            ..wire::ErrorBody::default()
        }),
    )
        .into_response()
}

#[derive(serde::Deserialize, Default)]
struct CancelBody {
    #[serde(default)]
    reason: Option<String>,
}

async fn cancel_order(
    State(s): State<Arc<Shared>>,
    Path(order): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let partner = match authorize(&s, &headers, "orders:cancel") {
        Ok(p) => p,
        Err(denied) => return denied.into_response(),
    };
    let reason = if body.is_empty() {
        None
    } else {
        match serde_json::from_slice::<CancelBody>(&body) {
            Ok(b) => b.reason,
            Err(_) => {
                return message(StatusCode::BAD_REQUEST, "The request body is not valid JSON.");
            }
        }
    };
    let now = s.sim_now();
    let outcome = lock(&s.store).cancel(partner, &order, reason, now);
    match outcome {
        Cancel::Done { order_id } => Json(json!({
            "data": { "external_parent_id": order, "order_id": order_id, "status": "cancelled" }
        }))
        .into_response(),
        Cancel::NotFound => message(StatusCode::NOT_FOUND, "Order not found."),
        Cancel::InCustody => message(StatusCode::CONFLICT, "Order is already in custody."),
        Cancel::AlreadyCancelled => message(StatusCode::CONFLICT, "Order is already cancelled."),
    }
}

async fn changes(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let partner = match authorize(&s, &headers, "status:read") {
        Ok(p) => p,
        Err(denied) => return denied.into_response(),
    };
    let mut errors = BTreeMap::new();
    let mut int = |name: &str, default: i64| -> i64 {
        match params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            None => default,
            Some(v) => v.parse().unwrap_or_else(|_| {
                errors.insert(name.to_owned(), vec![format!("The {name} must be an integer.")]);
                default
            }),
        }
    };
    let since = int("since", 0);
    let limit = int("limit", 50);
    if !errors.is_empty() {
        return invalid(errors);
    }
    let filter = |name: &str| params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let query = PoolQuery {
        since: u64::try_from(since.max(0)).unwrap_or(0),
        limit: usize::try_from(limit.clamp(1, 200)).unwrap_or(200),
        tracking_number: filter("tracking_number"),
        reference: filter("external_parent_id"),
    };
    let now = s.sim_now();
    let mut page = lock(&s.store).changes(partner, &query, now);
    for row in page.data.iter_mut().filter(|r| s.config.undecodable_rows.contains(&r.cursor)) {
        row.occurred_at = Some(String::new());
    }
    Json(page).into_response()
}

/// Reads a JSON body (an empty body is `{}`); `None` when it is not JSON (answer
/// [`not_json`]).
fn json_body(body: &Bytes) -> Option<Value> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Some(json!({}));
    }
    serde_json::from_slice::<Value>(body).ok()
}

fn not_json() -> Response {
    message(StatusCode::BAD_REQUEST, "The request body is not valid JSON.")
}

/// A parcel route's prelude: the partner the token authorizes for `scope`, then the JSON
/// body (in that order: a bad token is 401/403 whatever the body); or the answer refusing it.
// The error is the route's HTTP answer, handed straight back: boxing it buys nothing.
#[allow(clippy::result_large_err)]
fn authorized_json(
    s: &Shared,
    headers: &HeaderMap,
    scope: &'static str,
    body: &Bytes,
) -> Result<(usize, Value), Response> {
    let partner = authorize(s, headers, scope).map_err(IntoResponse::into_response)?;
    let value = json_body(body).ok_or_else(not_json)?;
    Ok((partner, value))
}

fn parcel_response(outcome: ParcelOutcome, created: bool) -> Response {
    match outcome {
        ParcelOutcome::Done(answer) => {
            let status = if created { StatusCode::CREATED } else { StatusCode::OK };
            (status, Json(wire::Data { data: *answer })).into_response()
        }
        ParcelOutcome::NotFound(text) => message(StatusCode::NOT_FOUND, text),
        ParcelOutcome::Conflict(text) => message(StatusCode::CONFLICT, &text),
        ParcelOutcome::Invalid(errors) => invalid(errors),
    }
}

/// `POST /api/v1/orders/{order}/parcels` (scope `orders:update`): one parcel in the
/// record's shape, `products` required.
async fn add_parcel(
    State(s): State<Arc<Shared>>,
    Path(order): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (partner, value) = match authorized_json(&s, &headers, "orders:update", &body) {
        Ok(call) => call,
        Err(refused) => return refused,
    };
    let mut errors = FieldErrors::new();
    let item = intake::read_item(&value, "", Shape::Record, &mut errors);
    let now = s.sim_now();
    let outcome = lock(&s.store).add_parcel(partner, &order, item, errors, now);
    parcel_response(outcome, true)
}

/// `PATCH /api/v1/orders/{order}/parcels/{item}` (scope `orders:update`): partial;
/// `products` replaces the list; 409 once received.
async fn update_parcel(
    State(s): State<Arc<Shared>>,
    Path((order, item)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (partner, value) = match authorized_json(&s, &headers, "orders:update", &body) {
        Ok(call) => call,
        Err(refused) => return refused,
    };
    let mut errors = FieldErrors::new();
    let patch = intake::read_patch(&value, &mut errors);
    let now = s.sim_now();
    let outcome = lock(&s.store).update_parcel(partner, &order, &item, patch, errors, now);
    parcel_response(outcome, false)
}

/// `POST /api/v1/orders/{order}/parcels/{item}/cancel` (scope `orders:cancel`).
async fn cancel_parcel(
    State(s): State<Arc<Shared>>,
    Path((order, item)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (partner, value) = match authorized_json(&s, &headers, "orders:cancel", &body) {
        Ok(call) => call,
        Err(refused) => return refused,
    };
    let reason = value.get("reason").and_then(Value::as_str).map(str::to_owned);
    let now = s.sim_now();
    let outcome = lock(&s.store).cancel_parcel(partner, &order, &item, reason, now);
    parcel_response(outcome, false)
}

/// `POST /api/v1/orders/{order}/parcels/{item}/split` (scope `orders:update`):
/// `{"new_order_id":…,"reason"?:…}`.
async fn split_parcel(
    State(s): State<Arc<Shared>>,
    Path((order, item)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (partner, value) = match authorized_json(&s, &headers, "orders:update", &body) {
        Ok(call) => call,
        Err(refused) => return refused,
    };
    let new_reference = value.get("new_order_id").and_then(|v| {
        v.as_str().map(|s| s.trim().to_owned()).or_else(|| v.as_u64().map(|n| n.to_string()))
    });
    let now = s.sim_now();
    let outcome = lock(&s.store).split_parcel(partner, &order, &item, new_reference, now);
    parcel_response(outcome, true)
}

/// `GET /api/v1/orders/label?merchant_tracking=…|parcel_id=…|order_id=…` (scope
/// `labels:read`): an A6 PDF.
async fn order_label(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let partner = match authorize(&s, &headers, "labels:read") {
        Ok(p) => p,
        Err(denied) => return denied.into_response(),
    };
    let get = |k: &str| params.get(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let query = match (get("merchant_tracking"), get("parcel_id"), get("order_id")) {
        (Some(m), None, None) => LabelQuery::Merchant(m),
        (None, Some(p), None) => LabelQuery::Parcel(p),
        (None, None, Some(o)) => LabelQuery::Order(o),
        _ => {
            let mut errors = FieldErrors::new();
            intake::add(
                &mut errors,
                "merchant_tracking",
                "Send exactly one of merchant_tracking, parcel_id or order_id.",
            );
            return invalid(errors);
        }
    };
    let now = s.sim_now();
    let Some(data) = lock(&s.store).label(partner, &query, now) else {
        return message(StatusCode::NOT_FOUND, "Parcel not found.");
    };
    let sender = &s.config.partners[partner];
    match label::render(&data, &sender.name, &sender.warehouse) {
        Ok(pdf) => ([(header::CONTENT_TYPE, "application/pdf")], pdf).into_response(),
        Err(e) => {
            message(StatusCode::INTERNAL_SERVER_ERROR, &format!("Label rendering failed: {e}"))
        }
    }
}

/// `POST /api/v1/partner/events` (scope by the type's family).
async fn report_event(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    // Authenticate first: a bad token is 401 whatever the body says.
    if let Err(Denied::Unauthenticated) = authorize(&s, &headers, "") {
        return unauthenticated();
    }
    let Some(value) = json_body(&body) else {
        return not_json();
    };
    let mut errors = FieldErrors::new();
    let empty = serde_json::Map::new();
    let obj = value.as_object().unwrap_or(&empty);
    let event_id = intake::text(obj, "event_id", "event_id", 100, &mut errors);
    let tracking_number = intake::text(obj, "tracking_number", "tracking_number", 64, &mut errors);
    let kind_text = intake::text(obj, "type", "type", 64, &mut errors);
    for (field, v) in
        [("event_id", &event_id), ("type", &kind_text), ("tracking_number", &tracking_number)]
    {
        if v.is_none() && !errors.contains_key(field) {
            intake::add(
                &mut errors,
                field,
                format!("The {} field is required.", field.replace('_', " ")),
            );
        }
    }
    let kind = kind_text.as_deref().and_then(|t| match t.parse::<EventType>() {
        Ok(k) => Some(k),
        Err(_) => {
            intake::add(&mut errors, "type", "The selected type is invalid.");
            None
        }
    });
    if let Some(at) = obj.get("occurred_at").filter(|v| !v.is_null()) {
        let ok = at.as_str().is_some_and(|t| t.parse::<jiff::Timestamp>().is_ok());
        if !ok {
            intake::add(
                &mut errors,
                "occurred_at",
                "The occurred at field must be a valid ISO-8601 date-time.",
            );
        }
    }
    let mut reason = None;
    match obj.get("data") {
        None | Some(Value::Null) => {}
        Some(Value::Object(data)) => {
            for (field, v) in data {
                if let Some(k) = kind
                    && !k.data_fields().contains(&field.as_str())
                {
                    intake::add(
                        &mut errors,
                        &format!("data.{field}"),
                        format!(
                            "The data.{field} field is not accepted for {k}; allowed: {}.",
                            k.data_fields().join(", ")
                        ),
                    );
                }
                if field == "reason" {
                    reason = v.as_str().map(str::to_owned);
                }
            }
        }
        Some(_) => intake::add(&mut errors, "data", "The data field must be an object."),
    }
    let (Some(event_id), Some(kind), Some(tracking_number), true) =
        (event_id, kind, tracking_number, errors.is_empty())
    else {
        return invalid(errors);
    };
    let partner = match authorize(&s, &headers, kind.scope()) {
        Ok(p) => p,
        Err(denied) => return denied.into_response(),
    };
    let event = NewEvent { event_id, kind, tracking_number, reason };
    let now = s.sim_now();
    let outcome = lock(&s.store).report_event(partner, &event, now);
    match outcome {
        EventOutcome::Applied { status } => {
            Json(json!({ "result": "applied", "order_status": status })).into_response()
        }
        EventOutcome::Duplicate { status } => {
            Json(json!({ "result": "duplicate", "order_status": status })).into_response()
        }
        EventOutcome::Rejected { error, hint } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "result": "rejected", "error": error, "hint": hint })),
        )
            .into_response(),
        EventOutcome::NotFound => message(StatusCode::NOT_FOUND, "Package not found."),
        EventOutcome::Invalid(errors) => invalid(errors),
    }
}
