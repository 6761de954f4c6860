//! Orders: what a partner asks a carrier to move (`OrderRequest`, validated on construction)
//! and what the carrier answered (`Order`).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::{
    Destination, Dimensions, MerchantTrackingNumber, Money, PackageType, PartnerOrderRef, Product,
    Recipient, ServiceId, ShipmentError, TrackingNumber, Weight, shipment::MAX_PRODUCTS,
};

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
    /// The shipment details break a rule (a parcel without products on a full order, …).
    #[error("order {reference}: {source}")]
    Shipment {
        /// The order.
        reference: PartnerOrderRef,
        /// The rule broken.
        source: ShipmentError,
    },
}

/// One physical parcel of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderItem {
    /// The code on the parcel's sticker.
    pub merchant_tracking_number: MerchantTrackingNumber,
    /// The parcel's weight, when known (used for quotes; sent as `weight_grams`).
    pub weight: Option<Weight>,
    /// Special handling, when declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_type: Option<PackageType>,
    /// The outside size, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<Dimensions>,
    /// The goods inside, as declared to customs (required on a full order, see
    /// [`OrderRequest::with_shipment`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<Product>,
}

impl OrderItem {
    /// A parcel known only by its sticker code.
    #[must_use]
    pub fn new(merchant_tracking_number: MerchantTrackingNumber) -> Self {
        Self {
            merchant_tracking_number,
            weight: None,
            package_type: None,
            dimensions: None,
            products: Vec::new(),
        }
    }

    /// Sets the weight.
    #[must_use]
    pub fn with_weight(mut self, weight: Weight) -> Self {
        self.weight = Some(weight);
        self
    }

    /// Sets the handling type.
    #[must_use]
    pub fn with_package_type(mut self, package_type: PackageType) -> Self {
        self.package_type = Some(package_type);
        self
    }

    /// Sets the dimensions.
    #[must_use]
    pub fn with_dimensions(mut self, dimensions: Dimensions) -> Self {
        self.dimensions = Some(dimensions);
        self
    }

    /// Adds one declared product.
    #[must_use]
    pub fn with_product(mut self, product: Product) -> Self {
        self.products.push(product);
        self
    }

    /// Checks the parcel can be added to an existing order on its own: it must declare
    /// between one and [`MAX_PRODUCTS`] products.
    ///
    /// # Errors
    /// [`ShipmentError::NoProducts`] or [`ShipmentError::TooManyProducts`].
    pub fn check_addable(&self) -> Result<(), ShipmentError> {
        if self.products.is_empty() {
            return Err(ShipmentError::NoProducts(self.merchant_tracking_number.clone()));
        }
        if self.products.len() > MAX_PRODUCTS {
            return Err(ShipmentError::TooManyProducts {
                count: self.products.len(),
                max: MAX_PRODUCTS,
            });
        }
        Ok(())
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
    #[serde(skip_serializing_if = "Option::is_none")]
    recipient: Option<Recipient>,
    #[serde(skip_serializing_if = "Option::is_none")]
    destination: Option<Destination>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shipping_cost: Option<Money>,
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
            if item.products.len() > MAX_PRODUCTS {
                return Err(OrderError::Shipment {
                    reference,
                    source: ShipmentError::TooManyProducts {
                        count: item.products.len(),
                        max: MAX_PRODUCTS,
                    },
                });
            }
        }
        Ok(Self {
            service_id,
            reference,
            items,
            recipient: None,
            destination: None,
            shipping_cost: None,
        })
    }

    /// Makes this a full (cross-border) order: who receives it and where it goes. Customs
    /// then needs the contents, so every parcel must declare at least one product.
    ///
    /// ```
    /// # use waybill_domain::*;
    /// let item = OrderItem::new(MerchantTrackingNumber::parse("TRK-1")?);
    /// let req = OrderRequest::new(ServiceId::new(9)?, PartnerOrderRef::parse("PO-1")?, vec![item])?;
    /// let to = Recipient::new(None, Some(Phone::parse("+64211234567")?), None)?;
    /// let pudo = Destination::PickupPoint { id: PointId::new(42)? };
    /// assert!(matches!(req.with_shipment(to, pudo), Err(OrderError::Shipment { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`OrderError::Shipment`] with [`ShipmentError::NoProducts`] naming the first parcel
    /// without products.
    pub fn with_shipment(
        mut self,
        recipient: Recipient,
        destination: Destination,
    ) -> Result<Self, OrderError> {
        if let Some(bare) = self.items.iter().find(|i| i.products.is_empty()) {
            return Err(OrderError::Shipment {
                source: ShipmentError::NoProducts(bare.merchant_tracking_number.clone()),
                reference: self.reference,
            });
        }
        self.recipient = Some(recipient);
        self.destination = Some(destination);
        Ok(self)
    }

    /// Sets the shipping cost charged to the customer (customs counts it as transport cost).
    #[must_use]
    pub fn with_shipping_cost(mut self, cost: Money) -> Self {
        self.shipping_cost = Some(cost);
        self
    }

    /// The recipient, on a full order.
    #[must_use]
    pub fn recipient(&self) -> Option<&Recipient> {
        self.recipient.as_ref()
    }

    /// The destination, on a full order.
    #[must_use]
    pub fn destination(&self) -> Option<&Destination> {
        self.destination.as_ref()
    }

    /// The shipping cost, when given.
    #[must_use]
    pub fn shipping_cost(&self) -> Option<Money> {
        self.shipping_cost
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
