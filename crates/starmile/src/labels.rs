//! Labels, a Starmile capability: a parcel's or an order's printable label as PDF bytes
//! (`GET /api/v1/orders/label?merchant_tracking=…` | `parcel_id=…` | `order_id=…`, scope
//! `labels:read`). Retried like any read.

use waybill_domain::{LabelPdf, LabelTarget};

use crate::{Error, StarmileClient, transport::Call};

impl StarmileClient {
    /// The label of one parcel (by merchant tracking number or Starmile parcel id) or of a
    /// whole order (by its Starmile tracking number), as a PDF document.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Forbidden`] (no `labels:read`), [`Error::Decode`]
    /// when the answer is not a PDF (wrong content type or no `%PDF-` header).
    pub async fn label(&self, target: &LabelTarget) -> Result<LabelPdf, Error> {
        let (key, value) = match target {
            LabelTarget::MerchantTracking(m) => ("merchant_tracking", m.as_str()),
            LabelTarget::Parcel(t) => ("parcel_id", t.as_str()),
            LabelTarget::Order(t) => ("order_id", t.as_str()),
        };
        let call = Call {
            query: vec![(key, value.to_owned())],
            accept: "application/pdf",
            ..Call::get("/api/v1/orders/label")
        };
        let reply = self.call_reply(call).await?;
        let content_type = reply.content_type.unwrap_or_default();
        if !content_type.starts_with("application/pdf") {
            return Err(Error::decode(
                format!("label answer has content type {content_type:?}, expected application/pdf"),
                &reply.body,
            ));
        }
        LabelPdf::parse(reply.body)
            .map_err(|e| Error::Decode { message: e.to_string(), body: String::new() })
    }
}
