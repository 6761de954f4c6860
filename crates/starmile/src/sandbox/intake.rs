//! Reading request bodies the way Starmile's validator does: both create-body generations
//! (the spec's `external_parent_id` + `items[].merchant_tracking_number`, and the record's
//! `order_id` + `parcels[]` with `merchant_tracking`, `item_id` and `products`), the
//! recipient and destination fields, and single parcels for add / update. Errors are named
//! by the field the body used (`parcels.0.products`, `items.1.merchant_tracking_number`,
//! `order_id`), with Laravel-style messages. Rules that need the order book (uniqueness,
//! state) live in the store.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Field → messages, the 422 `errors` map.
pub(crate) type FieldErrors = BTreeMap<String, Vec<String>>;

pub(crate) fn add(errors: &mut FieldErrors, field: &str, message: impl Into<String>) {
    errors.entry(field.to_owned()).or_default().push(message.into());
}

/// Which create-body generation a request used; it decides the error field names and
/// which rules apply (the record's shape requires products and a contact).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Shape {
    /// `external_parent_id` + `items[].merchant_tracking_number`.
    #[default]
    Spec,
    /// `order_id` + `parcels[]` (`merchant_tracking`, `item_id`, `products`).
    Record,
}

impl Shape {
    pub(crate) fn reference_key(self) -> &'static str {
        match self {
            Self::Spec => "external_parent_id",
            Self::Record => "order_id",
        }
    }

    pub(crate) fn items_key(self) -> &'static str {
        match self {
            Self::Spec => "items",
            Self::Record => "parcels",
        }
    }

    pub(crate) fn merchant_key(self) -> &'static str {
        match self {
            Self::Spec => "merchant_tracking_number",
            Self::Record => "merchant_tracking",
        }
    }
}

/// One declared product, as sent.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub(crate) struct ProductIn {
    pub(crate) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hs_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) declared_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) weight_grams: Option<u32>,
    pub(crate) quantity: u32,
}

/// A parcel's details, as sent (all optional; `products` = `None` when absent).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ParcelInfo {
    pub(crate) package_type: Option<String>,
    pub(crate) weight_grams: Option<u32>,
    pub(crate) length_mm: Option<u32>,
    pub(crate) width_mm: Option<u32>,
    pub(crate) height_mm: Option<u32>,
    pub(crate) products: Option<Vec<ProductIn>>,
}

impl ParcelInfo {
    pub(crate) fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// One parcel of a create body, or the body of an add.
#[derive(Debug, Default)]
pub(crate) struct NewItem {
    pub(crate) merchant: Option<String>,
    pub(crate) item_id: Option<String>,
    pub(crate) info: ParcelInfo,
}

/// The recipient, as sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RecipientIn {
    pub(crate) name: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) gov_id: Option<String>,
}

/// The destination, as sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct DestinationIn {
    pub(crate) pudo_id: Option<u64>,
    pub(crate) locker_id: Option<u64>,
    pub(crate) parent_region: Option<String>,
    pub(crate) region: Option<String>,
    pub(crate) address_first: Option<String>,
    pub(crate) address_second: Option<String>,
    pub(crate) zip: Option<String>,
}

/// An order as the partner sent it, shape errors noted.
#[derive(Debug, Default)]
pub(crate) struct NewOrder {
    pub(crate) shape: Shape,
    pub(crate) service_id: Option<u32>,
    pub(crate) reference: Option<String>,
    pub(crate) items: Vec<NewItem>,
    pub(crate) recipient: RecipientIn,
    pub(crate) destination: DestinationIn,
    /// Field errors found while reading the JSON.
    pub(crate) errors: FieldErrors,
}

impl NewOrder {
    /// A full order: the record's shape, or any recipient or destination field sent. Full
    /// orders need a phone or email, a destination matching the service and products.
    pub(crate) fn is_full(&self) -> bool {
        self.shape == Shape::Record
            || self.recipient != RecipientIn::default()
            || self.destination != DestinationIn::default()
    }
}

/// A partial parcel change (`PATCH …/parcels/{item}`).
#[derive(Debug, Default)]
pub(crate) struct ParcelPatch {
    pub(crate) merchant: Option<String>,
    pub(crate) info: ParcelInfo,
}

/// The most parcels an order, and products a parcel, may carry.
pub(crate) const MAX_LIST: usize = 100;

/// Reads either create-body generation.
pub(crate) fn read_order(value: &Value) -> NewOrder {
    let mut new = NewOrder::default();
    let Some(obj) = value.as_object() else {
        add(&mut new.errors, "body", "The request body must be a JSON object.");
        return new;
    };
    let record = obj.contains_key("parcels")
        || (obj.contains_key("order_id") && !obj.contains_key("external_parent_id"));
    new.shape = if record { Shape::Record } else { Shape::Spec };
    let errors = &mut new.errors;
    new.service_id = int(obj, "service_id", "service_id", errors).map(clamp_u32);
    let rkey = new.shape.reference_key();
    new.reference = match obj.get(rkey) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(_) => {
            add(errors, rkey, format!("The {rkey} field must be a string."));
            Some(String::new())
        }
    };
    new.recipient = RecipientIn {
        name: text(obj, "customer_name", "customer_name", 120, errors),
        phone: text(obj, "customer_phone", "customer_phone", 32, errors),
        email: text(obj, "customer_email", "customer_email", 254, errors),
        gov_id: text(obj, "gov_id", "gov_id", 32, errors),
    };
    if let Some(email) = &new.recipient.email
        && !looks_like_email(email)
    {
        add(errors, "customer_email", "The customer email field must be a valid email address.");
    }
    new.destination = DestinationIn {
        pudo_id: int(obj, "pudo_id", "pudo_id", errors),
        locker_id: int(obj, "locker_id", "locker_id", errors),
        parent_region: text(obj, "parent_region", "parent_region", 100, errors),
        region: text(obj, "region", "region", 100, errors)
            .or_else(|| int(obj, "region_id", "region_id", errors).map(|n| n.to_string())),
        address_first: text(obj, "address_first", "address_first", 200, errors),
        address_second: text(obj, "address_second", "address_second", 200, errors),
        zip: text(obj, "zip", "zip", 16, errors),
    };
    let key = new.shape.items_key();
    // A spec body may still say `parcels`, a record body `items`: read what is there.
    let list = obj.get(key).or_else(|| obj.get(if record { "items" } else { "parcels" }));
    match list {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            new.items = items
                .iter()
                .enumerate()
                .map(|(i, item)| read_item(item, &format!("{key}.{i}"), new.shape, errors))
                .collect();
        }
        Some(_) => add(errors, key, format!("The {key} field must be an array.")),
    }
    new
}

/// Reads one parcel entry: `prefix` names it in errors (`parcels.0`, or `` for an add).
pub(crate) fn read_item(
    value: &Value,
    prefix: &str,
    shape: Shape,
    errors: &mut FieldErrors,
) -> NewItem {
    let Some(obj) = value.as_object() else {
        add(errors, prefix, format!("The {prefix} field must be an object."));
        return NewItem::default();
    };
    let name = |k: &str| if prefix.is_empty() { k.to_owned() } else { format!("{prefix}.{k}") };
    let mkey = shape.merchant_key();
    // Both names of the sticker code are understood in either shape.
    let other = if shape == Shape::Spec { "merchant_tracking" } else { "merchant_tracking_number" };
    let merchant = text(obj, mkey, &name(mkey), 64, errors)
        .or_else(|| text(obj, other, &name(other), 64, errors));
    NewItem {
        merchant,
        item_id: text(obj, "item_id", &name("item_id"), 100, errors),
        info: read_info(obj, prefix, errors),
    }
}

/// Reads a parcel change body.
pub(crate) fn read_patch(value: &Value, errors: &mut FieldErrors) -> ParcelPatch {
    let Some(obj) = value.as_object() else {
        add(errors, "body", "The request body must be a JSON object.");
        return ParcelPatch::default();
    };
    let merchant = text(obj, "merchant_tracking", "merchant_tracking", 64, errors)
        .or_else(|| text(obj, "merchant_tracking_number", "merchant_tracking_number", 64, errors));
    ParcelPatch { merchant, info: read_info(obj, "", errors) }
}

fn read_info(obj: &Map<String, Value>, prefix: &str, errors: &mut FieldErrors) -> ParcelInfo {
    let name = |k: &str| if prefix.is_empty() { k.to_owned() } else { format!("{prefix}.{k}") };
    let package_type = text(obj, "package_type", &name("package_type"), 32, errors);
    if let Some(p) = &package_type
        && !matches!(p.as_str(), "fragile" | "breakable" | "liquid")
    {
        add(
            errors,
            &name("package_type"),
            format!("The selected {} is invalid.", name("package_type")),
        );
    }
    let mut size = |k: &str, max: u64| {
        let field = name(k);
        let v = int(obj, k, &field, errors)?;
        if v == 0 || v > max {
            add(errors, &field, format!("The {field} field must be between 1 and {max}."));
        }
        Some(clamp_u32(v))
    };
    let weight_grams = size("weight_grams", 1_000_000);
    let length_mm = size("length_mm", 5_000);
    let width_mm = size("width_mm", 5_000);
    let height_mm = size("height_mm", 5_000);
    let pkey = name("products");
    let products = match obj.get("products") {
        None | Some(Value::Null) => None,
        Some(Value::Array(list)) => {
            if list.len() > MAX_LIST {
                add(errors, &pkey, format!("The {pkey} field must not have more than 100 items."));
            }
            Some(
                list.iter()
                    .enumerate()
                    .map(|(i, p)| read_product(p, &format!("{pkey}.{i}"), errors))
                    .collect(),
            )
        }
        Some(_) => {
            add(errors, &pkey, format!("The {pkey} field must be an array."));
            Some(Vec::new())
        }
    };
    ParcelInfo { package_type, weight_grams, length_mm, width_mm, height_mm, products }
}

fn read_product(value: &Value, prefix: &str, errors: &mut FieldErrors) -> ProductIn {
    let Some(obj) = value.as_object() else {
        add(errors, prefix, format!("The {prefix} field must be an object."));
        return ProductIn::default();
    };
    let name = |k: &str| format!("{prefix}.{k}");
    let product_name = text(obj, "name", &name("name"), 200, errors);
    if product_name.is_none() {
        add(errors, &name("name"), format!("The {} field is required.", name("name")));
    }
    let hs_code = text(obj, "hs_code", &name("hs_code"), 10, errors);
    if let Some(h) = &hs_code
        && (!(6..=10).contains(&h.len()) || !h.bytes().all(|b| b.is_ascii_digit()))
    {
        add(errors, &name("hs_code"), format!("The {} field format is invalid.", name("hs_code")));
    }
    let declared_value = match obj.get("declared_value") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let text = match v {
                Value::Number(n) => Some(n.to_string()),
                Value::String(s) => Some(s.clone()),
                _ => None,
            };
            let ok = text
                .as_deref()
                .and_then(|t| t.parse::<rust_decimal::Decimal>().ok())
                .is_some_and(|d| !d.is_sign_negative());
            if !ok {
                let f = name("declared_value");
                add(errors, &f, format!("The {f} field must be a number of at least 0."));
            }
            text
        }
    };
    let currency = text(obj, "currency", &name("currency"), 3, errors);
    if let Some(c) = &currency
        && (c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()))
    {
        add(
            errors,
            &name("currency"),
            format!("The {} field must be 3 upper-case letters.", name("currency")),
        );
    }
    if declared_value.is_some() && currency.is_none() {
        let f = name("currency");
        add(errors, &f, format!("The {f} field is required when declared value is present."));
    }
    let weight_grams = int(obj, "weight_grams", &name("weight_grams"), errors).map(clamp_u32);
    let quantity = match int(obj, "quantity", &name("quantity"), errors) {
        None => 1,
        Some(0) => {
            add(
                errors,
                &name("quantity"),
                format!("The {} field must be at least 1.", name("quantity")),
            );
            1
        }
        Some(n) => clamp_u32(n),
    };
    ProductIn {
        name: product_name.unwrap_or_default(),
        hs_code,
        declared_value,
        currency,
        weight_grams,
        quantity,
    }
}

/// A trimmed, non-empty text field; numbers are accepted as text. `None` when absent or
/// null; an error when it is not text or is too long.
pub(crate) fn text(
    obj: &Map<String, Value>,
    key: &str,
    field: &str,
    max: usize,
    errors: &mut FieldErrors,
) -> Option<String> {
    let raw = match obj.get(key)? {
        Value::Null => return None,
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => {
            add(errors, field, format!("The {field} field must be a string."));
            return None;
        }
    };
    if raw.is_empty() {
        return None;
    }
    if raw.chars().count() > max {
        add(errors, field, format!("The {field} field must not be greater than {max} characters."));
    }
    Some(raw)
}

/// A non-negative integer field (numeric strings accepted).
pub(crate) fn int(
    obj: &Map<String, Value>,
    key: &str,
    field: &str,
    errors: &mut FieldErrors,
) -> Option<u64> {
    match obj.get(key)? {
        Value::Null => None,
        v => match v.as_u64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())) {
            Some(n) => Some(n),
            None => {
                add(errors, field, format!("The {field} field must be an integer."));
                None
            }
        },
    }
}

fn clamp_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_record_shape_names_its_own_fields() {
        let new = read_order(&json!({
            "service_id": "x", "order_id": "ORD-1",
            "parcels": [{"item_id": "A", "package_type": "wet", "products": [{"hs_code": "12"}]}],
            "customer_email": "nope"
        }));
        assert_eq!(new.shape, Shape::Record);
        assert!(new.is_full());
        let keys: Vec<&str> = new.errors.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "customer_email",
                "parcels.0.package_type",
                "parcels.0.products.0.hs_code",
                "parcels.0.products.0.name",
                "service_id"
            ]
        );
    }

    #[test]
    fn the_spec_shape_stays_minimal() {
        let new = read_order(&json!({
            "service_id": 5, "external_parent_id": "PO-10294",
            "items": [{"merchant_tracking_number": "TRK-1"}]
        }));
        assert_eq!(new.shape, Shape::Spec);
        assert!(!new.is_full());
        assert!(new.errors.is_empty());
        assert_eq!(new.items[0].merchant.as_deref(), Some("TRK-1"));
        assert!(new.items[0].info.is_empty());
    }
}
