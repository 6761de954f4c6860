//! The sandbox's catalogue: four services out of Australia, priced per corridor in weight
//! tiers (AUD). Service 5 exists so the spec's curl example works unchanged.

use rust_decimal::Decimal;

use super::lifecycle::Delivery;
use crate::wire::{RateRow, ServiceRow, TierRow};

/// One service with how the simulation delivers it and where it goes.
pub(crate) struct Offer {
    pub(crate) id: u32,
    pub(crate) name: &'static str,
    pub(crate) flow_key: &'static str,
    pub(crate) flow_label: &'static str,
    pub(crate) family: &'static str,
    pub(crate) variant: &'static str,
    pub(crate) delivery: Delivery,
    /// Destinations and the tiers per destination: (max grams, price in cents).
    pub(crate) corridors: &'static [(&'static str, &'static [(u32, i64)])],
}

const LIGHT: &[(u32, i64)] = &[(500, 950), (1000, 1290), (2000, 1800), (5000, 3150)];
const EXPRESS: &[(u32, i64)] = &[(500, 1650), (1000, 2190), (2000, 2990), (5000, 4900)];
const ASIA: &[(u32, i64)] = &[(500, 1190), (1000, 1590), (2000, 2450), (5000, 4200)];

/// The catalogue, in id order.
pub(crate) const OFFERS: &[Offer] = &[
    Offer {
        id: 5,
        name: "Standard",
        flow_key: "cb3_cross_border_terminal_hd",
        flow_label: "Cross-border terminal, home delivery",
        family: "cross_border",
        variant: "standard",
        delivery: Delivery::Home,
        corridors: &[("NZ", LIGHT), ("HK", ASIA), ("SG", ASIA)],
    },
    Offer {
        id: 7,
        name: "Express",
        flow_key: "cb1_cross_border_express_hd",
        flow_label: "Cross-border express, home delivery",
        family: "cross_border",
        variant: "express",
        delivery: Delivery::Home,
        corridors: &[("NZ", EXPRESS), ("HK", EXPRESS)],
    },
    Offer {
        id: 9,
        name: "PUDO Saver",
        flow_key: "cb3_cross_border_terminal_pudo",
        flow_label: "Cross-border terminal, pickup point",
        family: "cross_border",
        variant: "pudo",
        delivery: Delivery::Pudo,
        corridors: &[("NZ", &[(500, 790), (2000, 1490), (5000, 2690)])],
    },
    Offer {
        id: 12,
        name: "Domestic Metro",
        flow_key: "dom_metro_hd",
        flow_label: "Domestic metro, home delivery",
        family: "domestic",
        variant: "metro",
        delivery: Delivery::Domestic,
        corridors: &[("AU", &[(1000, 690), (3000, 990), (10000, 1590)])],
    },
];

/// The offer with this id.
pub(crate) fn offer(id: u32) -> Option<&'static Offer> {
    OFFERS.iter().find(|o| o.id == id)
}

/// `GET /api/v1/services` rows.
pub(crate) fn services() -> Vec<ServiceRow> {
    OFFERS
        .iter()
        .map(|o| ServiceRow {
            id: o.id,
            name: o.name.into(),
            flow_key: Some(o.flow_key.into()),
            flow_label: Some(o.flow_label.into()),
            family: Some(o.family.into()),
            variant: Some(o.variant.into()),
            scope: Some(if o.family == "domestic" { "domestic" } else { "international" }.into()),
            org_country_id: Some(13),
            flow_definition_id: Some(100 + o.id),
        })
        .collect()
}

/// `GET /api/v1/rates` rows: one per service and corridor.
pub(crate) fn rates() -> Vec<RateRow> {
    OFFERS
        .iter()
        .flat_map(|o| {
            o.corridors.iter().map(move |(dest, tiers)| RateRow {
                service_id: o.id,
                origin: "AU".into(),
                destination: Some((*dest).into()),
                currency: "AUD".into(),
                tiers: tiers
                    .iter()
                    .map(|(grams, cents)| TierRow {
                        max_weight_grams: *grams,
                        price: Decimal::new(*cents, 2),
                    })
                    .collect(),
            })
        })
        .collect()
}

/// The regions the sandbox has mapped, per destination country: a home-delivery order to
/// one of these answers `region_status: mapped`, any other region `pending_mapping`.
pub(crate) const REGIONS: &[(&str, &[&str])] = &[
    ("NZ", &["Auckland", "Wellington", "Canterbury", "Waikato", "Otago"]),
    ("HK", &["Hong Kong Island", "Kowloon", "New Territories"]),
    ("SG", &["Central", "East", "North", "North-East", "West"]),
    ("AU", &["New South Wales", "Victoria", "Queensland", "Western Australia"]),
];

/// The destination country of `region` (case-insensitive) among the offer's corridors.
pub(crate) fn region(offer: &Offer, region: &str) -> Option<&'static str> {
    REGIONS
        .iter()
        .filter(|(country, _)| offer.corridors.iter().any(|(c, _)| c == country))
        .find(|(_, names)| names.iter().any(|n| n.eq_ignore_ascii_case(region)))
        .map(|(country, _)| *country)
}
