//! The sandbox's HTTP surface: routes, token issuing and checking, fault injection and
//! request counting.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicU64, Ordering},
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
    routing::{get, post},
};
use base64::Engine;
use serde_json::{Value, json};

use super::{
    Counters, Faults, SandboxConfig, catalogue,
    lifecycle::mix,
    store::{Cancel, Created, NewItem, NewOrder, PoolQuery, Store},
};
use crate::wire;

/// State shared by every handler.
pub(crate) struct Shared {
    pub(crate) config: SandboxConfig,
    started: Instant,
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
        self.config.epoch.as_second().saturating_add(elapsed.min(1e15) as i64)
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
        .route("/api/v1/orders/{order}/cancel", post(cancel_order))
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
    let new = read_order(&value);
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
        Created::Invalid(errors) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(wire::ErrorBody {
                message: Some("The given data was invalid.".into()),
                errors: Some(errors),
                ..wire::ErrorBody::default()
            }),
        )
            .into_response(),
    }
}

/// Reads either create-body generation into a [`NewOrder`], noting shape errors.
fn read_order(value: &Value) -> NewOrder {
    let mut new = NewOrder::default();
    let Some(obj) = value.as_object() else {
        new.errors.insert("body".into(), vec!["The request body must be a JSON object.".into()]);
        return new;
    };
    match obj.get("service_id") {
        None | Some(Value::Null) => {}
        Some(v) => match v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())) {
            Some(id) => new.service_id = Some(u32::try_from(id).unwrap_or(u32::MAX)),
            None => {
                new.errors
                    .insert("service_id".into(), vec!["The service id must be an integer.".into()]);
            }
        },
    }
    new.reference = obj
        .get("external_parent_id")
        .or_else(|| obj.get("order_id"))
        .and_then(|v| v.as_str().map(str::to_owned).or_else(|| v.as_u64().map(|n| n.to_string())));
    let (key, items) = match (obj.get("items"), obj.get("parcels")) {
        (Some(v), _) => ("items", v),
        (None, Some(v)) => ("parcels", v),
        (None, None) => return new,
    };
    let Some(items) = items.as_array() else {
        new.errors.insert(key.into(), vec![format!("The {key} must be an array.")]);
        return new;
    };
    new.items = items
        .iter()
        .map(|item| {
            let text = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_owned);
            NewItem {
                merchant: text("merchant_tracking_number").or_else(|| text("merchant_tracking")),
                item_id: text("item_id"),
            }
        })
        .collect();
    new
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
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(wire::ErrorBody {
                message: Some("The given data was invalid.".into()),
                errors: Some(errors),
                ..wire::ErrorBody::default()
            }),
        )
            .into_response();
    }
    let filter = |name: &str| params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let query = PoolQuery {
        since: u64::try_from(since.max(0)).unwrap_or(0),
        limit: usize::try_from(limit.clamp(1, 200)).unwrap_or(200),
        tracking_number: filter("tracking_number"),
        reference: filter("external_parent_id"),
    };
    let now = s.sim_now();
    let page = lock(&s.store).changes(partner, &query, now);
    Json(page).into_response()
}
