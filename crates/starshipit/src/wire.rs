//! The wire shapes of `GET /api/track`, private to the crate. Every field is optional and
//! leniently typed (a number where a string was expected is accepted) because the contract
//! notes say any field may be missing or null. The sandbox serialises the same types, so
//! field order here is the order of the spec's sample.

use serde::{Deserialize, Deserializer, Serialize};

/// The body of a `/api/track` answer (success or application error).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub(crate) struct TrackResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<Results>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<ApiError>>,
}

/// `results` is an object in the spec and an array in newer client libraries.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_events: Option<Vec<WireEvent>>,
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
}

/// An application error entry: `{"message":"General Exception","details":"…"}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub(crate) struct ApiError {
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

/// A string, number or boolean as text; null as `None`.
fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Loose {
        Text(String),
        Int(i64),
        Float(f64),
        Bool(bool),
    }
    Ok(Option::<Loose>::deserialize(d)?.map(|v| match v {
        Loose::Text(s) => s,
        Loose::Int(i) => i.to_string(),
        Loose::Float(f) => f.to_string(),
        Loose::Bool(b) => b.to_string(),
    }))
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
        assert_eq!(r.results.unwrap().into_vec().len(), 1);
    }
}
