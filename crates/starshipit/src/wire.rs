//! The wire shapes of `GET /api/track`, private to the crate. Tolerance is field-level: every
//! field is optional and leniently typed (a number where a string was expected, `success` as
//! `true`, `1` or `"true"`), a field of an unusable type is read as absent instead of failing
//! the answer, one malformed list item is skipped without losing its neighbours, and fields
//! this crate does not know are kept (`other`) so the stored record can carry them. The
//! sandbox serialises the same types, so field order here is the order of the spec's sample.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, de::DeserializeOwned};

/// The body of a `/api/track` answer: success, application error (`errors`), the older
/// `{"error":{code,message,details}}` shape, or a gateway body (`statusCode`, `message`)
/// served under any HTTP status.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub(crate) struct TrackResponse {
    #[serde(
        default,
        deserialize_with = "lenient_results",
        skip_serializing_if = "Option::is_none"
    )]
    pub results: Option<Results>,
    #[serde(default, deserialize_with = "lenient_bool", skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
    #[serde(default, deserialize_with = "lenient_list", skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<ApiError>>,
    #[serde(default, deserialize_with = "lenient_item", skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiError>,
    /// The gateway's status code (Azure API Management), when the body is its.
    #[serde(
        default,
        rename = "statusCode",
        deserialize_with = "lenient_u16",
        skip_serializing_if = "Option::is_none"
    )]
    pub status_code: Option<u16>,
    /// The gateway's message.
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `results` is an object in the spec and an array in newer client libraries.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub(crate) enum Results {
    Many(Vec<WireShipment>),
    One(Box<WireShipment>),
}

impl Results {
    pub fn into_vec(self) -> Vec<WireShipment> {
        match self {
            Self::Many(v) => v,
            Self::One(s) => vec![*s],
        }
    }
}

/// One shipment as `/api/track` describes it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub(crate) struct WireShipment {
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub order_number: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub order_status: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub carrier_name: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub carrier_service: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub shipment_date: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub tracking_status: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub tracking_url: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub last_updated_date: Option<String>,
    #[serde(default, deserialize_with = "lenient_list", skip_serializing_if = "Option::is_none")]
    pub tracking_events: Option<Vec<WireEvent>>,
    /// Fields this crate has no name for (`carrier_service_code`, …), as text.
    #[serde(flatten, deserialize_with = "lenient_map", skip_serializing)]
    pub other: BTreeMap<String, String>,
}

/// One carrier scan.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub(crate) struct WireEvent {
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub event_datetime: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Fields this crate has no name for, as text.
    #[serde(flatten, deserialize_with = "lenient_map", skip_serializing)]
    pub other: BTreeMap<String, String>,
}

/// An application error entry: `{"message":"General Exception","details":"…"}`, or the older
/// `{"error":{"code":404,"message":"Not Found","details":"…"}}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub(crate) struct ApiError {
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, deserialize_with = "lenient", skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

impl ApiError {
    /// "message: details", or whichever of the two is present.
    pub fn text(&self) -> String {
        match (&self.message, &self.details) {
            (Some(m), Some(d)) if !d.is_empty() => format!("{m}: {d}"),
            (Some(m), _) => m.clone(),
            (None, Some(d)) => d.clone(),
            (None, None) => String::from("no message"),
        }
    }
}

/// The Azure API Management gateway's error body: `{"statusCode":429,"message":"…"}`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GatewayError {
    pub status_code: u16,
    pub message: String,
}

/// Any JSON value, kept only to be turned into text or thrown away.
type Any = serde_json::Value;

/// A scalar as text (numbers and booleans printed); null, objects and arrays are absent.
pub(crate) fn scalar_text(v: &Any) -> Option<String> {
    match v {
        Any::String(s) => Some(s.clone()),
        Any::Number(n) => Some(n.to_string()),
        Any::Bool(b) => Some(b.to_string()),
        Any::Null | Any::Array(_) | Any::Object(_) => None,
    }
}

/// Any value as text for `other` maps: scalars as [`scalar_text`], objects and arrays as
/// compact JSON, null as absent.
pub(crate) fn any_text(v: &Any) -> Option<String> {
    match v {
        Any::Null => None,
        Any::Array(_) | Any::Object(_) => Some(v.to_string()),
        _ => scalar_text(v),
    }
}

/// What public clients accept as `success`: a boolean, `0`/`1` (any non-zero number is
/// true) or the strings `true`/`false`/`1`/`0`/`yes`/`no` in any case.
pub(crate) fn truthy(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

/// A string, number or boolean as text; null or any other type as `None`.
fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(scalar_text(&Any::deserialize(d)?))
}

fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Any::deserialize(d)? {
        Any::Bool(b) => Some(b),
        Any::Number(n) => n.as_f64().map(|f| f != 0.0),
        Any::String(s) => truthy(&s),
        _ => None,
    })
}

fn lenient_u16<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    Ok(scalar_text(&Any::deserialize(d)?).and_then(|t| t.trim().parse().ok()))
}

/// One object of type `T`; anything else (or an object that does not fit) is absent.
fn lenient_item<'de, D: Deserializer<'de>, T: DeserializeOwned>(
    d: D,
) -> Result<Option<T>, D::Error> {
    let v = Any::deserialize(d)?;
    Ok(v.is_object().then(|| serde_json::from_value(v).ok()).flatten())
}

/// A list of `T`: an array (items that are not a `T` are skipped and logged, their
/// neighbours kept) or a single object; anything else is absent.
fn lenient_list<'de, D: Deserializer<'de>, T: DeserializeOwned>(
    d: D,
) -> Result<Option<Vec<T>>, D::Error> {
    Ok(list_of(Any::deserialize(d)?))
}

fn list_of<T: DeserializeOwned>(v: Any) -> Option<Vec<T>> {
    let items = match v {
        Any::Array(items) => items,
        v @ Any::Object(_) => vec![v],
        _ => return None,
    };
    let total = items.len();
    let kept: Vec<T> = items.into_iter().filter_map(|v| serde_json::from_value(v).ok()).collect();
    if kept.len() < total {
        tracing::warn!(
            skipped = total - kept.len(),
            "StarShipIT list items of an unusable shape skipped"
        );
    }
    Some(kept)
}

fn lenient_results<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Results>, D::Error> {
    let v = Any::deserialize(d)?;
    let one = v.is_object();
    let Some(mut list) = list_of::<WireShipment>(v) else { return Ok(None) };
    Ok(Some(match (one, list.pop()) {
        (true, Some(s)) => Results::One(Box::new(s)),
        (_, last) => {
            list.extend(last);
            Results::Many(list)
        }
    }))
}

/// The fields left over by a flattened struct, as text (null dropped).
fn lenient_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let map = BTreeMap::<String, Any>::deserialize(d)?;
    Ok(map.into_iter().filter_map(|(k, v)| any_text(&v).map(|t| (k, t))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerates_numbers_nulls_and_unknown_fields() {
        let body = r#"{"results":{"order_number":17062,"carrier_name":null,"carrier_service_code":"X",
            "tracking_events":[{"status":"In Transit"}]},"success":true}"#;
        let r: TrackResponse = serde_json::from_str(body).unwrap();
        let s = r.results.unwrap().into_vec().remove(0);
        assert_eq!(s.order_number.as_deref(), Some("17062"));
        assert_eq!(s.carrier_name, None);
        assert_eq!(s.other.get("carrier_service_code").map(String::as_str), Some("X"));
        assert_eq!(s.tracking_events.unwrap()[0].status.as_deref(), Some("In Transit"));
    }

    #[test]
    fn results_array_or_object() {
        let r: TrackResponse = serde_json::from_str(
            r#"{"results":[{"tracking_number":"A"},{"tracking_number":"B"}]}"#,
        )
        .unwrap();
        assert_eq!(r.results.unwrap().into_vec().len(), 2);
        let r: TrackResponse =
            serde_json::from_str(r#"{"results":{"tracking_number":"A"}}"#).unwrap();
        assert!(matches!(r.results, Some(Results::One(_))));
    }

    #[test]
    fn success_is_read_loosely_and_bad_types_are_absent() {
        for (text, want) in [
            ("true", Some(true)),
            ("1", Some(true)),
            ("0", Some(false)),
            ("\"true\"", Some(true)),
            ("\"False\"", Some(false)),
            ("\"1\"", Some(true)),
            ("\"maybe\"", None),
            ("[1]", None),
            ("null", None),
        ] {
            let r: TrackResponse =
                serde_json::from_str(&format!(r#"{{"success":{text}}}"#)).unwrap();
            assert_eq!(r.success, want, "{text}");
        }
        let r: TrackResponse = serde_json::from_str(
            r#"{"results":{"tracking_number":{"x":1},"tracking_events":[7,{"status":"A"},"x"]}}"#,
        )
        .unwrap();
        let s = r.results.unwrap().into_vec().remove(0);
        assert_eq!(s.tracking_number, None);
        assert_eq!(s.tracking_events.unwrap().len(), 1, "bad items skipped, the good one kept");
    }

    #[test]
    fn both_error_shapes_and_gateway_bodies_read() {
        let r: TrackResponse = serde_json::from_str(
            r#"{"error":{"code":404,"message":"Not Found","details":"x"},"statusCode":"429","message":"slow"}"#,
        )
        .unwrap();
        assert_eq!(r.error.unwrap().code.as_deref(), Some("404"));
        assert_eq!(r.status_code, Some(429));
        assert_eq!(r.message.as_deref(), Some("slow"));
    }
}
