//! The parcel desk, a Starmile capability: change a parcel before it is received
//! (`PATCH /api/v1/orders/{order}/parcels/{item}`), add one to an order
//! (`POST /api/v1/orders/{order}/parcels`), cancel one (`POST …/parcels/{item}/cancel`) or
//! move one onto a new order (`POST …/parcels/{item}/split`). Both path segments are the
//! partner's own references, percent-encoded; waybill's item reference is the merchant
//! tracking number. None of these is retried unless the caller opts in with
//! [`StarmileClient::retry`].

use reqwest::Method;
use waybill_domain::{
    MerchantTrackingNumber, OrderItem, OrderParcel, ParcelCancellation, ParcelChanges,
    PartnerOrderRef, SplitOrder, TrackingNumber,
};

use crate::{
    Error, RequestKind, StarmileClient,
    error::bad,
    orders::{item_fields, parcel_fields, product_rows, segment},
    transport::Call,
    wire,
};

impl StarmileClient {
    /// Changes a parcel that has not been received yet (partial: only the fields set in
    /// `changes` are sent; `products` replaces the whole list).
    ///
    /// # Errors
    /// [`Error::Config`] when `changes` changes nothing, [`Error::NotFound`] (unknown
    /// order or parcel), [`Error::Conflict`] (already received), [`Error::Validation`]
    /// (e.g. the new merchant tracking number is taken), [`Error::Forbidden`] (no
    /// `orders:update`).
    pub async fn update_parcel(
        &self,
        order: &PartnerOrderRef,
        parcel: &MerchantTrackingNumber,
        changes: &ParcelChanges,
    ) -> Result<OrderParcel, Error> {
        changes.check().map_err(|e| Error::Config(e.to_string()))?;
        let body = wire::UpdateParcel {
            merchant_tracking: changes
                .merchant_tracking_number
                .as_ref()
                .map(MerchantTrackingNumber::as_str),
            details: parcel_fields(
                changes.package_type,
                changes.weight,
                changes.dimensions,
                changes.products.as_deref().map(product_rows),
            ),
        };
        let path = parcel_path(order, parcel, "");
        let answer = self.parcel_call(Call::send(Method::PATCH, path, &body, RequestKind::Write)?);
        parcel_from_wire(answer.await?.item)
    }

    /// Adds a parcel to an order; it must declare at least one product. The new parcel
    /// gets its own Starmile tracking number and starts its own lifecycle.
    ///
    /// # Errors
    /// [`Error::Config`] for a parcel without products, [`Error::NotFound`],
    /// [`Error::Conflict`] (a cancelled order), [`Error::Validation`] (the merchant
    /// tracking number or item reference is taken).
    pub async fn add_parcel(
        &self,
        order: &PartnerOrderRef,
        parcel: &OrderItem,
    ) -> Result<OrderParcel, Error> {
        parcel.check_addable().map_err(|e| Error::Config(e.to_string()))?;
        let body = wire::AddParcel {
            item_id: parcel.merchant_tracking_number.as_str(),
            merchant_tracking: parcel.merchant_tracking_number.as_str(),
            details: item_fields(parcel),
        };
        let path = format!("/api/v1/orders/{}/parcels", segment(order.as_str()));
        let answer = self.parcel_call(Call::send(Method::POST, path, &body, RequestKind::Write)?);
        parcel_from_wire(answer.await?.item)
    }

    /// Cancels one parcel that has not been received yet. When it was the order's last
    /// active parcel the order is cancelled with it.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Conflict`] (received, or already cancelled),
    /// [`Error::Forbidden`] (no `orders:cancel`).
    pub async fn cancel_parcel(
        &self,
        order: &PartnerOrderRef,
        parcel: &MerchantTrackingNumber,
        reason: Option<&str>,
    ) -> Result<ParcelCancellation, Error> {
        let path = parcel_path(order, parcel, "/cancel");
        let body = wire::CancelOrder { reason };
        let answer = self.parcel_call(Call::send(Method::POST, path, &body, RequestKind::Write)?);
        let answer = answer.await?;
        Ok(ParcelCancellation {
            order_cancelled: answer.order_status.as_deref() == Some("cancelled"),
            parcel: parcel_from_wire(answer.item)?,
        })
    }

    /// Moves one parcel off `order` onto a new order named `new_reference` (same service,
    /// recipient and destination); the parcel keeps its tracking number.
    ///
    /// # Errors
    /// [`Error::Config`] when `new_reference` equals `order`, [`Error::NotFound`],
    /// [`Error::Conflict`] (received, a single-parcel or a cancelled order),
    /// [`Error::Validation`] (`new_order_id` already used).
    pub async fn split_parcel(
        &self,
        order: &PartnerOrderRef,
        parcel: &MerchantTrackingNumber,
        new_reference: &PartnerOrderRef,
        reason: Option<&str>,
    ) -> Result<SplitOrder, Error> {
        if new_reference == order {
            return Err(Error::Config(format!(
                "the new order reference must differ from {order}: choose an unused reference"
            )));
        }
        let path = parcel_path(order, parcel, "/split");
        let body = wire::SplitParcel { new_order_id: new_reference.as_str(), reason };
        let answer = self.parcel_call(Call::send(Method::POST, path, &body, RequestKind::Write)?);
        let answer = answer.await?;
        Ok(SplitOrder {
            reference: new_reference.clone(),
            tracking_number: TrackingNumber::parse(answer.order_id)
                .map_err(|e| bad("order_id", e))?,
            source: order.clone(),
            parcel: parcel_from_wire(answer.item)?,
        })
    }

    async fn parcel_call(&self, call: Call) -> Result<wire::ParcelAnswer, Error> {
        let answer: wire::Data<wire::ParcelAnswer> = self.call_json(call).await?;
        Ok(answer.data)
    }
}

fn parcel_path(order: &PartnerOrderRef, parcel: &MerchantTrackingNumber, tail: &str) -> String {
    format!("/api/v1/orders/{}/parcels/{}{tail}", segment(order.as_str()), segment(parcel.as_str()))
}

fn parcel_from_wire(view: wire::ParcelView) -> Result<OrderParcel, Error> {
    let merchant = view.merchant_tracking.as_deref().or(view.item_id.as_deref());
    Ok(OrderParcel {
        tracking_number: TrackingNumber::parse(view.parcel_id).map_err(|e| bad("parcel_id", e))?,
        merchant_tracking_number: merchant.and_then(|m| MerchantTrackingNumber::parse(m).ok()),
        item_id: view.item_id,
    })
}
