//! The orders table shared by `orders list` and `orders show`.

use waybill_store::StoredOrder;

/// The header of [`order_rows`].
pub const ORDER_HEADER: [&str; 7] =
    ["reference", "account", "created (UTC)", "service", "starmile number", "parcels", "status"];

/// One table row per stored order.
#[must_use]
pub fn order_rows(orders: &[StoredOrder]) -> Vec<Vec<String>> {
    orders
        .iter()
        .map(|o| {
            vec![
                o.reference.to_string(),
                o.account.clone(),
                created(&o.created_at),
                o.service_id.map(|s| s.to_string()).unwrap_or_default(),
                o.tracking_number.as_ref().map(ToString::to_string).unwrap_or_default(),
                o.parcels.len().to_string(),
                o.status.to_string(),
            ]
        })
        .collect()
}

/// A stored creation time as `YYYY-MM-DD HH:MM` (UTC), or as stored when it does not parse.
fn created(stored: &str) -> String {
    stored
        .parse::<jiff::Timestamp>()
        .map_or_else(|_| stored.to_owned(), |t| t.strftime("%Y-%m-%d %H:%M").to_string())
}
