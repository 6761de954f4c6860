//! The `Allow` header on every 405. axum sets it only on a top-level router's routes, and
//! ours sit behind an outer service stack, so the methods each route takes are read from the
//! same OpenAPI documents the routes are registered from (plus the undocumented GET routes)
//! and added here.

use std::{collections::HashMap, sync::Arc};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::Response,
};
use utoipa::openapi::OpenApi;

/// Route template (`/v1/orders/{reference}`) → its `Allow` value (`GET,HEAD`).
pub type AllowMap = Arc<HashMap<String, HeaderValue>>;

/// The methods of every route in `docs`, plus `extra_get` routes that take GET only. GET
/// implies HEAD, as axum answers HEAD for every GET route.
#[must_use]
pub fn methods(docs: &[&OpenApi], extra_get: &[&str]) -> AllowMap {
    let mut map: HashMap<String, Vec<&'static str>> = HashMap::new();
    for doc in docs {
        for (path, item) in &doc.paths.paths {
            let methods = map.entry(path.clone()).or_default();
            let ops = [
                ("GET", item.get.is_some()),
                ("HEAD", item.get.is_some() || item.head.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("PATCH", item.patch.is_some()),
                ("DELETE", item.delete.is_some()),
                ("OPTIONS", item.options.is_some()),
            ];
            methods.extend(ops.into_iter().filter_map(|(m, on)| on.then_some(m)));
        }
    }
    for path in extra_get {
        map.entry((*path).to_owned()).or_default().extend(["GET", "HEAD"]);
    }
    Arc::new(
        map.into_iter()
            .filter_map(|(path, mut methods)| {
                methods.dedup();
                HeaderValue::from_str(&methods.join(",")).ok().map(|v| (path, v))
            })
            .collect(),
    )
}

/// Adds `Allow` to a 405 that lacks it, from the matched route's methods.
pub async fn on_405(State(allow): State<AllowMap>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let mut response = next.run(request).await;
    if response.status() == StatusCode::METHOD_NOT_ALLOWED
        && !response.headers().contains_key(header::ALLOW)
        && let Some(value) = route.and_then(|r| allow.get(&r).cloned())
    {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_come_from_the_documents_and_get_implies_head() {
        let (_, api) = crate::routes::api().split_for_parts();
        let map = methods(&[&api], &["/metrics"]);
        assert_eq!(map["/v1/orders"], "GET,HEAD,POST");
        assert_eq!(map["/metrics"], "GET,HEAD");
    }
}
