//! The parcel fields the parcel commands share (`--weight`, `--dimensions`,
//! `--package-type`, `--product`), parsed into domain values.

use waybill_domain::{
    Currency, Dimensions, HsCode, Money, PackageType, Product, ProductName, Quantity, Weight,
};

use crate::exit::Failure;

/// Parcel details given on the command line.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ParcelFields {
    /// Weight: grams (`1500`, `1500g`) or kilograms (`1.5kg`).
    #[arg(long)]
    pub weight: Option<String>,
    /// Outside size in millimetres, `LxWxH` (e.g. `300x200x100`).
    #[arg(long)]
    pub dimensions: Option<String>,
    /// Special handling: fragile, breakable or liquid.
    #[arg(long)]
    pub package_type: Option<String>,
    /// A declared product, repeatable: `NAME[;HS_CODE[;VALUE CURRENCY[;QUANTITY]]]`, e.g.
    /// `--product "Running shoes;640299;59.99 USD;1"`.
    #[arg(long = "product")]
    pub products: Vec<String>,
}

impl ParcelFields {
    pub(crate) fn weight(&self) -> Result<Option<Weight>, Failure> {
        self.weight.as_deref().map(str::parse).transpose().map_err(usage)
    }

    pub(crate) fn dimensions(&self) -> Result<Option<Dimensions>, Failure> {
        self.dimensions.as_deref().map(str::parse).transpose().map_err(usage)
    }

    pub(crate) fn package_type(&self) -> Result<Option<PackageType>, Failure> {
        self.package_type.as_deref().map(str::parse).transpose().map_err(usage)
    }

    pub(crate) fn products(&self) -> Result<Vec<Product>, Failure> {
        self.products.iter().map(|p| parse_product(p)).collect()
    }
}

fn usage(e: impl std::fmt::Display) -> Failure {
    Failure::usage(e.to_string())
}

/// Parses `NAME[;HS_CODE[;VALUE CURRENCY[;QUANTITY]]]` (empty parts are skipped).
pub(crate) fn parse_product(raw: &str) -> Result<Product, Failure> {
    let mut parts = raw.split(';');
    let name = ProductName::parse(parts.next().unwrap_or_default()).map_err(usage)?;
    let mut product = Product::new(name);
    if let Some(hs) = parts.next().filter(|s| !s.is_empty()) {
        product = product.with_hs_code(HsCode::parse(hs).map_err(usage)?);
    }
    if let Some(value) = parts.next().filter(|s| !s.is_empty()) {
        let (amount, currency) = value.split_once(' ').ok_or_else(|| {
            Failure::usage(format!(
                "product value {value:?}: write the amount and currency, e.g. `59.99 USD`"
            ))
        })?;
        let amount = amount.parse().map_err(|_| {
            Failure::usage(format!("product value {amount:?} is not a decimal amount"))
        })?;
        let money = Money::new(amount, Currency::parse(currency).map_err(usage)?).map_err(usage)?;
        product = product.with_declared_value(money);
    }
    if let Some(q) = parts.next().filter(|s| !s.is_empty()) {
        let n = q
            .parse()
            .map_err(|_| Failure::usage(format!("product quantity {q:?} is not a whole number")))?;
        product = product.with_quantity(Quantity::new(n).map_err(usage)?);
    }
    if parts.next().is_some() {
        return Err(Failure::usage(format!(
            "product {raw:?} has more than four `;`-separated parts"
        )));
    }
    Ok(product)
}
