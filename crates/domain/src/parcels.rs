//! The parcel desk port: changing an order's parcels after creation (update, add, cancel,
//! split onto a new order) and printing labels, with the answers' domain shapes.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{
    CarrierError, MerchantTrackingNumber, OrderItem, OrderParcel, ParcelChanges, PartnerOrderRef,
    TrackingNumber,
};

/// Which label to print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "by", content = "value")]
pub enum LabelTarget {
    /// One parcel, by the code on its sticker.
    MerchantTracking(MerchantTrackingNumber),
    /// One parcel, by the carrier's parcel tracking number.
    Parcel(TrackingNumber),
    /// The whole order's own label, by the carrier's order tracking number.
    Order(TrackingNumber),
}

/// Why bytes are not a PDF document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the label is not a PDF document (it does not start with %PDF-): got {len} bytes")]
pub struct NotPdf {
    /// How many bytes were received.
    pub len: usize,
}

/// A printable label: the bytes of a PDF document (checked to start with `%PDF-`).
#[derive(Clone, PartialEq, Eq)]
pub struct LabelPdf(Vec<u8>);

impl LabelPdf {
    /// Wraps PDF bytes.
    ///
    /// # Errors
    /// [`NotPdf`] when the bytes do not start with the PDF header.
    pub fn parse(bytes: Vec<u8>) -> Result<Self, NotPdf> {
        if !bytes.starts_with(b"%PDF-") {
            return Err(NotPdf { len: bytes.len() });
        }
        Ok(Self(bytes))
    }

    /// The document's bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The document's bytes, owned.
    #[must_use]
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

impl std::fmt::Debug for LabelPdf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LabelPdf({} bytes)", self.0.len())
    }
}

/// A parcel cancelled on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParcelCancellation {
    /// The parcel.
    pub parcel: OrderParcel,
    /// True when it was the order's last active parcel, so the order is cancelled too.
    pub order_cancelled: bool,
}

/// A parcel moved off its order onto a new one (same service, recipient, destination).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitOrder {
    /// The partner's reference of the new order.
    pub reference: PartnerOrderRef,
    /// The carrier's tracking number of the new order.
    pub tracking_number: TrackingNumber,
    /// The order the parcel came from.
    pub source: PartnerOrderRef,
    /// The moved parcel (it keeps its own tracking number).
    pub parcel: OrderParcel,
}

/// Changing an order's parcels while they are still with the merchant, and printing
/// labels. Parcels are named by the partner's item reference, which waybill sets to the
/// merchant tracking number.
#[cfg_attr(feature = "mocks", mockall::automock)]
#[async_trait]
pub trait ParcelDesk: Send + Sync {
    /// Changes a parcel (partial; a product list replaces the old one).
    ///
    /// # Errors
    /// `NotFound` (unknown order or parcel), `Conflict` (already received), `Validation`
    /// (e.g. a merchant tracking number already used), `Config` (nothing to change).
    async fn update_parcel(
        &self,
        order: &PartnerOrderRef,
        parcel: &MerchantTrackingNumber,
        changes: &ParcelChanges,
    ) -> Result<OrderParcel, CarrierError>;

    /// Adds a parcel (with at least one product) to an existing order.
    ///
    /// # Errors
    /// `NotFound`, `Conflict` (a cancelled order), `Validation` (a reused reference).
    async fn add_parcel(
        &self,
        order: &PartnerOrderRef,
        parcel: &OrderItem,
    ) -> Result<OrderParcel, CarrierError>;

    /// Cancels one parcel; the order is cancelled with its last active parcel.
    ///
    /// # Errors
    /// `NotFound`, `Conflict` (already received or already cancelled).
    async fn cancel_parcel(
        &self,
        order: &PartnerOrderRef,
        parcel: &MerchantTrackingNumber,
        reason: Option<String>,
    ) -> Result<ParcelCancellation, CarrierError>;

    /// Moves one parcel onto a new order named `new_reference`.
    ///
    /// # Errors
    /// `NotFound`, `Conflict` (received, single-parcel or cancelled order), `Validation`
    /// (the new reference is taken or equals the old one).
    async fn split_parcel(
        &self,
        order: &PartnerOrderRef,
        parcel: &MerchantTrackingNumber,
        new_reference: &PartnerOrderRef,
        reason: Option<String>,
    ) -> Result<SplitOrder, CarrierError>;

    /// The label of a parcel or of a whole order, as a PDF.
    ///
    /// # Errors
    /// `NotFound`, `Forbidden` (no label scope), `Decode` (the answer is not a PDF).
    async fn label(&self, target: &LabelTarget) -> Result<LabelPdf, CarrierError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_must_be_pdf_documents() {
        assert!(LabelPdf::parse(b"%PDF-1.7\n...".to_vec()).is_ok());
        assert_eq!(LabelPdf::parse(b"<html>".to_vec()), Err(NotPdf { len: 6 }));
        let pdf = LabelPdf::parse(b"%PDF-1.7".to_vec()).unwrap();
        assert_eq!(format!("{pdf:?}"), "LabelPdf(8 bytes)");
    }
}
