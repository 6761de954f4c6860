//! Orders: what a partner asks a carrier to move (`OrderRequest`, validated on construction)
//! and what the carrier answered (`Order`).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::{MerchantTrackingNumber, PartnerOrderRef, ServiceId, TrackingNumber, Weight};

/// Why an order request was refused before it was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    /// An order needs at least one parcel.
    #[error("order {0} has no items: add at least one parcel")]
    NoItems(PartnerOrderRef),
    /// Too many parcels for one order.
    #[error("order {reference} has {count} items, at most {max} are allowed")]
    TooManyItems {
        /// The order.
        reference: PartnerOrderRef,
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The same merchant tracking number appears twice in one order.
    #[error("order {reference} lists merchant tracking number {number} twice")]
    DuplicateItem {
        /// The order.
        reference: PartnerOrderRef,
        /// The repeated number.
        number: MerchantTrackingNumber,
    },
}

/// One physical parcel of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderItem {
    /// The code on the parcel's sticker.
    pub merchant_tracking_number: MerchantTrackingNumber,
    /// The parcel's weight, when known (used for quotes; sent as `weight_grams`).
    pub weight: Option<Weight>,
}

impl OrderItem {
    /// A parcel known only by its sticker code.
    #[must_use]
    pub fn new(merchant_tracking_number: MerchantTrackingNumber) -> Self {
        Self { merchant_tracking_number, weight: None }
    }
}

/// A validated request to create an order: a service, the partner's reference and one or
/// more parcels with distinct merchant tracking numbers.
///
/// ```
/// # use waybill_domain::*;
/// let item = OrderItem::new(MerchantTrackingNumber::parse("TRK-1")?);
/// let req = OrderRequest::new(ServiceId::new(5)?, PartnerOrderRef::parse("PO-10294")?, vec![item.clone()])?;
/// assert_eq!(req.items().len(), 1);
/// let dup = OrderRequest::new(ServiceId::new(5)?, PartnerOrderRef::parse("PO-1")?, vec![item.clone(), item]);
/// assert!(matches!(dup, Err(OrderError::DuplicateItem { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderRequest {
    service_id: ServiceId,
    reference: PartnerOrderRef,
    items: Vec<OrderItem>,
}

impl OrderRequest {
    /// The most parcels one order may carry.
    pub const MAX_ITEMS: usize = 100;

    /// Validates and builds a request.
    ///
    /// # Errors
    /// [`OrderError`] for no items, too many, or a repeated merchant tracking number.
    pub fn new(
        service_id: ServiceId,
        reference: PartnerOrderRef,
        items: Vec<OrderItem>,
    ) -> Result<Self, OrderError> {
        if items.is_empty() {
            return Err(OrderError::NoItems(reference));
        }
        if items.len() > Self::MAX_ITEMS {
            return Err(OrderError::TooManyItems {
                reference,
                count: items.len(),
                max: Self::MAX_ITEMS,
            });
        }
        let mut seen = HashSet::with_capacity(items.len());
        for item in &items {
            if !seen.insert(&item.merchant_tracking_number) {
                return Err(OrderError::DuplicateItem {
                    number: item.merchant_tracking_number.clone(),
                    reference,
                });
            }
        }
        Ok(Self { service_id, reference, items })
    }

    /// The service ordered.
    #[must_use]
    pub fn service_id(&self) -> ServiceId {
        self.service_id
    }

    /// The partner's reference (idempotency key at Starmile).
    #[must_use]
    pub fn reference(&self) -> &PartnerOrderRef {
        &self.reference
    }

    /// The parcels, in the order given.
    #[must_use]
    pub fn items(&self) -> &[OrderItem] {
        &self.items
    }
}

/// How the carrier mapped the destination region (Starmile's `region_status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionStatus {
    /// The region was mapped.
    Mapped,
    /// Accepted; mapping is pending on the carrier's side. Do not resend.
    PendingMapping,
    /// Region mapping does not apply.
    NotApplicable,
    /// A value this version does not know, kept as sent.
    #[serde(untagged)]
    Other(String),
}

/// One parcel as the carrier registered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderParcel {
    /// The partner's item reference echoed back (e.g. `ITEM-1`), when given.
    pub item_id: Option<String>,
    /// The merchant tracking number, when the carrier echoed it or it could be matched.
    pub merchant_tracking_number: Option<MerchantTrackingNumber>,
    /// The carrier's tracking number for this parcel.
    pub tracking_number: TrackingNumber,
}

/// What a carrier answered to an order request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// The partner's reference.
    pub reference: PartnerOrderRef,
    /// The carrier's tracking number for the whole order.
    pub tracking_number: TrackingNumber,
    /// True when the carrier recognised a replay and returned the original order.
    pub duplicate: bool,
    /// Destination region mapping state.
    pub region_status: RegionStatus,
    /// The parcels, with the carrier's ids.
    pub parcels: Vec<OrderParcel>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn req(numbers: &[String]) -> Result<OrderRequest, OrderError> {
        let items = numbers
            .iter()
            .map(|n| OrderItem::new(MerchantTrackingNumber::parse(n.clone()).unwrap()))
            .collect();
        OrderRequest::new(
            ServiceId::new(1).unwrap(),
            PartnerOrderRef::parse("PO-1").unwrap(),
            items,
        )
    }

    proptest! {
        #[test]
        fn requests_accept_exactly_distinct_nonempty_lists(numbers in proptest::collection::vec("[A-C][0-2]", 0..8)) {
            let distinct: HashSet<_> = numbers.iter().collect();
            let result = req(&numbers);
            match result {
                Ok(r) => {
                    prop_assert!(!numbers.is_empty());
                    prop_assert_eq!(distinct.len(), numbers.len());
                    prop_assert_eq!(r.items().len(), numbers.len());
                }
                Err(OrderError::NoItems(_)) => prop_assert!(numbers.is_empty()),
                Err(OrderError::DuplicateItem { .. }) => prop_assert!(distinct.len() < numbers.len()),
                Err(e) => prop_assert!(false, "unexpected {e}"),
            }
        }
    }

    #[test]
    fn too_many_items_is_refused() {
        let numbers: Vec<String> = (0..=OrderRequest::MAX_ITEMS).map(|i| format!("T{i}")).collect();
        assert!(matches!(req(&numbers), Err(OrderError::TooManyItems { count: 101, .. })));
    }

    #[test]
    fn region_status_keeps_unknown_values() {
        let s: RegionStatus = serde_json::from_str("\"pending_mapping\"").unwrap();
        assert_eq!(s, RegionStatus::PendingMapping);
        let s: RegionStatus = serde_json::from_str("\"brand_new\"").unwrap();
        assert_eq!(s, RegionStatus::Other("brand_new".into()));
    }
}
