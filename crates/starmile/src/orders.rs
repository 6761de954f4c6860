//! The order desk, a Starmile capability: create an order (`POST /api/v1/orders`, idempotent
//! on `external_parent_id`, so retried) and cancel one (`POST /api/v1/orders/{order}/cancel`,
//! never retried), with the created order decoded into a domain [`Order`].

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Method;
use waybill_domain::{
    AddressLine, Destination, Dimensions, Email, GovId, HsCode, MerchantTrackingNumber, Order,
    OrderItem, OrderParcel, OrderRequest, PackageType, PartnerOrderRef, Phone, PostalCode, Product,
    Recipient, RecipientName, Region, RegionStatus, TrackingNumber, Weight,
};

use crate::{Error, RequestKind, StarmileClient, error::bad, transport::Call, wire};

/// Characters escaped in a path segment: everything but RFC 3986 unreserved ones, so
/// `ORD/1` becomes `ORD%2F1`.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// One path segment, percent-encoded.
pub(crate) fn segment(raw: &str) -> String {
    utf8_percent_encode(raw, SEGMENT).to_string()
}

impl StarmileClient {
    /// Creates an order (`POST /api/v1/orders`) with the spec's body; each item also carries
    /// `item_id` = its merchant tracking number (so pool rows' `external_id` names it) and
    /// `weight_grams` when known. A full order ([`OrderRequest::with_shipment`]) adds the
    /// recipient (`customer_name`, `customer_phone`, `customer_email`, `gov_id`), the
    /// destination (`pudo_id` | `locker_id` | `parent_region`, `region`, `address_first`,
    /// `address_second`, `zip`), `shipping_cost`, and per item `package_type`,
    /// `length_mm`/`width_mm`/`height_mm` and `products[]` (`name`, `hs_code`,
    /// `declared_value`, `currency`, `weight_grams`, `quantity`).
    ///
    /// Understands `201` (created) and `200 duplicate:true` (a replay of the same
    /// `external_parent_id`: Starmile returns the original ids and creates nothing).
    ///
    /// **Retried** on network errors, 429 and 5xx, unlike other writes: that is safe *only*
    /// because Starmile is idempotent on `external_parent_id`. If an attempt committed but
    /// its answer was lost (a timeout), the retry gets `duplicate: true` and the original
    /// order — never a second one.
    ///
    /// # Errors
    /// [`Error::Validation`] (unknown service, a merchant tracking number already used),
    /// [`Error::Forbidden`] (no `orders:create`), transient errors after retries.
    pub async fn create_order(&self, req: &OrderRequest) -> Result<Order, Error> {
        let body = wire::CreateOrder {
            service_id: req.service_id().get(),
            external_parent_id: req.reference().as_str(),
            recipient: req.recipient().map(recipient_fields).unwrap_or_default(),
            destination: req.destination().map(destination_fields).unwrap_or_default(),
            shipping_cost: req.shipping_cost().map(|m| m.amount()),
            items: req
                .items()
                .iter()
                .map(|i| wire::CreateItem {
                    merchant_tracking_number: i.merchant_tracking_number.as_str(),
                    item_id: i.merchant_tracking_number.as_str(),
                    details: item_fields(i),
                })
                .collect(),
        };
        let call = Call::send(
            Method::POST,
            "/api/v1/orders".into(),
            &body,
            RequestKind::IdempotentCreate,
        )?;
        let created: wire::Data<wire::CreatedOrder> = self.call_json(call).await?;
        order_from_wire(req, created.data)
    }

    /// Cancels an order by the partner's reference (`POST /api/v1/orders/{order}/cancel`,
    /// the reference percent-encoded). Never retried.
    ///
    /// # Errors
    /// [`Error::NotFound`] (unknown, or another partner's), [`Error::Conflict`] (already in
    /// custody), [`Error::Forbidden`] (no `orders:cancel`).
    pub async fn cancel_order(
        &self,
        reference: &PartnerOrderRef,
        reason: Option<&str>,
    ) -> Result<(), Error> {
        let path = format!("/api/v1/orders/{}/cancel", segment(reference.as_str()));
        let call =
            Call::send(Method::POST, path, &wire::CancelOrder { reason }, RequestKind::Write)?;
        self.call(call).await.map(drop)
    }
}

fn recipient_fields(r: &Recipient) -> wire::RecipientFields<'_> {
    wire::RecipientFields {
        customer_name: r.name().map(RecipientName::as_str),
        customer_phone: r.phone().map(Phone::as_str),
        customer_email: r.email().map(Email::as_str),
        gov_id: r.gov_id().map(GovId::as_str),
    }
}

fn destination_fields(d: &Destination) -> wire::DestinationFields<'_> {
    match d {
        Destination::PickupPoint { id } => {
            wire::DestinationFields { pudo_id: Some(id.get()), ..Default::default() }
        }
        Destination::Locker { id } => {
            wire::DestinationFields { locker_id: Some(id.get()), ..Default::default() }
        }
        Destination::Home(home) => wire::DestinationFields {
            parent_region: home.parent_region.as_ref().map(Region::as_str),
            region: Some(home.region.as_str()),
            address_first: Some(home.address_first.as_str()),
            address_second: home.address_second.as_ref().map(AddressLine::as_str),
            zip: home.zip.as_ref().map(PostalCode::as_str),
            ..Default::default()
        },
    }
}

/// A parcel's details in the wire's names; `products` is sent only when there are some.
pub(crate) fn item_fields(i: &OrderItem) -> wire::ParcelFields<'_> {
    let products = (!i.products.is_empty()).then(|| product_rows(&i.products));
    parcel_fields(i.package_type, i.weight, i.dimensions, products)
}

pub(crate) fn parcel_fields<'a>(
    package_type: Option<PackageType>,
    weight: Option<Weight>,
    dimensions: Option<Dimensions>,
    products: Option<Vec<wire::ProductRow<'a>>>,
) -> wire::ParcelFields<'a> {
    wire::ParcelFields {
        package_type: package_type.map(PackageType::as_str),
        weight_grams: weight.map(Weight::grams),
        length_mm: dimensions.map(Dimensions::length_mm),
        width_mm: dimensions.map(Dimensions::width_mm),
        height_mm: dimensions.map(Dimensions::height_mm),
        products,
    }
}

pub(crate) fn product_rows(products: &[Product]) -> Vec<wire::ProductRow<'_>> {
    products
        .iter()
        .map(|p| wire::ProductRow {
            name: p.name().as_str(),
            hs_code: p.hs_code().map(HsCode::as_str),
            declared_value: p.declared_value().map(|m| m.amount()),
            currency: p.declared_value().map(|m| m.currency().as_str().to_owned()),
            weight_grams: p.weight().map(Weight::grams),
            quantity: p.quantity().get(),
        })
        .collect()
}

fn order_from_wire(req: &OrderRequest, data: wire::CreatedOrder) -> Result<Order, Error> {
    let tracking_number = TrackingNumber::parse(data.order_id).map_err(|e| bad("order_id", e))?;
    let region_status = match data.region_status {
        None => RegionStatus::NotApplicable,
        Some(s) => serde_json::from_value(serde_json::Value::String(s))
            .map_err(|e| bad("region_status", e))?,
    };
    let by_position = data.items.len() == req.items().len();
    let parcels = data
        .items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            // We send item_id = merchant tracking number; fall back to position when a
            // server echoes other ids with the same count.
            let merchant = item
                .item_id
                .as_deref()
                .and_then(|id| {
                    req.items().iter().find(|r| r.merchant_tracking_number.as_str() == id)
                })
                .or_else(|| by_position.then(|| &req.items()[i]))
                .map(|r| r.merchant_tracking_number.clone())
                .or_else(|| {
                    item.item_id.as_deref().and_then(|id| MerchantTrackingNumber::parse(id).ok())
                });
            Ok(OrderParcel {
                tracking_number: TrackingNumber::parse(item.parcel_id)
                    .map_err(|e| bad("parcel_id", e))?,
                item_id: item.item_id,
                merchant_tracking_number: merchant,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Order {
        reference: req.reference().clone(),
        tracking_number,
        duplicate: data.duplicate,
        region_status,
        parcels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_percent_encoded_per_segment() {
        assert_eq!(utf8_percent_encode("ORD/1", SEGMENT).to_string(), "ORD%2F1");
        assert_eq!(utf8_percent_encode("PO-1_a.b~c", SEGMENT).to_string(), "PO-1_a.b~c");
        assert_eq!(utf8_percent_encode("a b?#", SEGMENT).to_string(), "a%20b%3F%23");
    }
}
