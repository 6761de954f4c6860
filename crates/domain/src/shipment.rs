//! What a cross-border order carries beyond the spec's minimal body: who receives it
//! ([`Recipient`]), where it goes ([`Destination`]: home, pickup point or locker), and per
//! parcel its handling ([`PackageType`]), size ([`Dimensions`]) and the goods declared to
//! customs ([`Product`]: HS code, declared value and currency). Every value is parsed on
//! construction; a value you hold is already known to be well formed.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{MerchantTrackingNumber, Money, ParseError, Weight};

/// Why shipment details were refused before they were sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShipmentError {
    /// A recipient must be reachable.
    #[error("the recipient needs a phone number or an email address: give at least one")]
    NoContact,
    /// A parcel of a full (cross-border) order declares no goods.
    #[error("parcel {0} declares no products: add at least one (name, HS code, declared value)")]
    NoProducts(MerchantTrackingNumber),
    /// A parcel declares more products than one parcel may carry.
    #[error("a parcel may declare at most {max} products, got {count}")]
    TooManyProducts {
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A parcel update that changes nothing.
    #[error("the parcel update changes nothing: give at least one field to change")]
    NothingToChange,
}

/// Checks free text: not empty, no leading or trailing whitespace, no control characters,
/// at most `max` characters.
fn check_text(what: &'static str, raw: &str, max: usize) -> Result<(), ParseError> {
    if raw.trim().is_empty() {
        return Err(ParseError::Empty { what });
    }
    if raw.trim() != raw {
        return Err(ParseError::Invalid {
            what,
            value: raw.into(),
            rule: "remove the leading or trailing whitespace",
        });
    }
    let len = raw.chars().count();
    if len > max {
        return Err(ParseError::TooLong { what, max, len });
    }
    if let Some(found) = raw.chars().find(|c| c.is_control()) {
        return Err(ParseError::BadChar {
            what,
            found,
            rule: "control characters are not allowed",
        });
    }
    Ok(())
}

macro_rules! text_value {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:expr, $extra:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The longest accepted value, in characters.
            pub const MAX_LEN: usize = $max;

            /// Parses a value.
            ///
            /// # Errors
            /// [`ParseError`] naming the rule the input broke.
            pub fn parse(raw: impl Into<String>) -> Result<Self, ParseError> {
                let raw = raw.into();
                check_text($what, &raw, $max)?;
                let extra: fn(&str) -> Result<(), ParseError> = $extra;
                extra(&raw)?;
                Ok(Self(raw))
            }

            /// The value as text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = ParseError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

fn any(_: &str) -> Result<(), ParseError> {
    Ok(())
}

fn phone_rule(raw: &str) -> Result<(), ParseError> {
    let bad = |rule| ParseError::Invalid { what: "phone number", value: raw.into(), rule };
    let body = raw.strip_prefix('+').unwrap_or(raw);
    if !body.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')')) {
        return Err(bad("use digits, spaces, dashes and parentheses, with an optional leading +"));
    }
    let digits = body.chars().filter(char::is_ascii_digit).count();
    if !(5..=15).contains(&digits) {
        return Err(bad("must have between 5 and 15 digits (E.164 allows 15)"));
    }
    Ok(())
}

fn email_rule(raw: &str) -> Result<(), ParseError> {
    let bad = || ParseError::Invalid {
        what: "email address",
        value: raw.into(),
        rule: "must look like name@example.com, without spaces",
    };
    if raw.chars().any(char::is_whitespace) {
        return Err(bad());
    }
    let (local, domain) = raw.split_once('@').ok_or_else(bad)?;
    let labels_ok = domain.split('.').all(|l| !l.is_empty());
    if local.is_empty() || domain.contains('@') || !domain.contains('.') || !labels_ok {
        return Err(bad());
    }
    Ok(())
}

fn gov_id_rule(raw: &str) -> Result<(), ParseError> {
    match raw.chars().find(|c| !c.is_ascii_alphanumeric()) {
        Some(found) => Err(ParseError::BadChar {
            what: "government id",
            found,
            rule: "use letters and digits only",
        }),
        None => Ok(()),
    }
}

fn postal_rule(raw: &str) -> Result<(), ParseError> {
    match raw.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, ' ' | '-'))) {
        Some(found) => Err(ParseError::BadChar {
            what: "postal code",
            found,
            rule: "use letters, digits, spaces and dashes",
        }),
        None => Ok(()),
    }
}

fn hs_rule(raw: &str) -> Result<(), ParseError> {
    if raw.len() < 6 || raw.len() > 10 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::Invalid {
            what: "HS code",
            value: raw.into(),
            rule: "must be 6 to 10 digits without dots, e.g. 640299",
        });
    }
    Ok(())
}

text_value!(
    /// The recipient's name as printed on the label, e.g. `Jane Doe`.
    RecipientName, "recipient name", 120, any
);
text_value!(
    /// A phone number: digits with optional spaces, dashes, parentheses and a leading `+`,
    /// 5 to 15 digits, e.g. `+994 50 000 00 00`.
    ///
    /// ```
    /// # use waybill_domain::Phone;
    /// assert!(Phone::parse("+994500000000").is_ok());
    /// assert!(Phone::parse("call me").is_err());
    /// assert!(Phone::parse(" +994500000000").is_err());
    /// ```
    Phone, "phone number", 32, phone_rule
);
text_value!(
    /// An email address, e.g. `jane@example.com` (checked for shape, not deliverability).
    Email, "email address", 254, email_rule
);
text_value!(
    /// The recipient's government id used for the customs declaration (`gov_id`: a national
    /// id such as an AZ FIN, or a passport number), letters and digits.
    GovId, "government id", 32, gov_id_rule
);
text_value!(
    /// A destination region by name (or the carrier's id as text), e.g. `Auckland`.
    Region, "region", 100, any
);
text_value!(
    /// One line of a street address, e.g. `12 Queen Street`.
    AddressLine, "address line", 200, any
);
text_value!(
    /// A postal code, e.g. `1010` or `AZ1000`.
    PostalCode, "postal code", 16, postal_rule
);
text_value!(
    /// A product's name as declared to customs, e.g. `Running shoes`.
    ProductName, "product name", 200, any
);
text_value!(
    /// A Harmonized System code: 6 digits (the international part), up to 10 with the
    /// national extension, no dots, e.g. `640299`.
    ///
    /// ```
    /// # use waybill_domain::HsCode;
    /// assert!(HsCode::parse("640299").is_ok());
    /// assert!(HsCode::parse("6402.99").is_err());
    /// ```
    HsCode, "HS code", 10, hs_rule
);

/// Who receives an order: a name, and a phone number or an email address (at least one),
/// optionally a government id for customs.
///
/// ```
/// # use waybill_domain::*;
/// let r = Recipient::new(Some(RecipientName::parse("Jane Doe")?), None, Some(Email::parse("jane@example.com")?))?;
/// assert!(r.email().is_some());
/// assert!(matches!(Recipient::new(None, None, None), Err(ShipmentError::NoContact)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    name: Option<RecipientName>,
    phone: Option<Phone>,
    email: Option<Email>,
    gov_id: Option<GovId>,
}

impl Recipient {
    /// A recipient reachable by phone, email or both.
    ///
    /// # Errors
    /// [`ShipmentError::NoContact`] when neither a phone nor an email is given.
    pub fn new(
        name: Option<RecipientName>,
        phone: Option<Phone>,
        email: Option<Email>,
    ) -> Result<Self, ShipmentError> {
        if phone.is_none() && email.is_none() {
            return Err(ShipmentError::NoContact);
        }
        Ok(Self { name, phone, email, gov_id: None })
    }

    /// Adds the government id customs asks for.
    #[must_use]
    pub fn with_gov_id(mut self, gov_id: GovId) -> Self {
        self.gov_id = Some(gov_id);
        self
    }

    /// The name, when given.
    #[must_use]
    pub fn name(&self) -> Option<&RecipientName> {
        self.name.as_ref()
    }

    /// The phone number, when given.
    #[must_use]
    pub fn phone(&self) -> Option<&Phone> {
        self.phone.as_ref()
    }

    /// The email address, when given.
    #[must_use]
    pub fn email(&self) -> Option<&Email> {
        self.email.as_ref()
    }

    /// The government id, when given.
    #[must_use]
    pub fn gov_id(&self) -> Option<&GovId> {
        self.gov_id.as_ref()
    }
}

/// A pickup point's or locker's id in the carrier's network (positive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct PointId(u64);

impl PointId {
    /// A point id.
    ///
    /// # Errors
    /// [`ParseError::Invalid`] for zero.
    pub fn new(id: u64) -> Result<Self, ParseError> {
        if id == 0 {
            return Err(ParseError::Invalid {
                what: "pickup point id",
                value: "0".into(),
                rule: "must be a positive number",
            });
        }
        Ok(Self(id))
    }

    /// The id.
    #[must_use]
    pub fn get(self) -> u64 {
        self.0
    }
}

impl TryFrom<u64> for PointId {
    type Error = ParseError;
    fn try_from(id: u64) -> Result<Self, Self::Error> {
        Self::new(id)
    }
}

impl From<PointId> for u64 {
    fn from(p: PointId) -> u64 {
        p.0
    }
}

impl std::str::FromStr for PointId {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let id = s.parse::<u64>().map_err(|_| ParseError::Invalid {
            what: "pickup point id",
            value: s.into(),
            rule: "must be a positive number",
        })?;
        Self::new(id)
    }
}

impl fmt::Display for PointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A home address: the region (and its parent region, e.g. the state), street lines and
/// postal code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeAddress {
    /// The parent region (state, province), when the carrier's map needs it.
    pub parent_region: Option<Region>,
    /// The region (city, district), by name or the carrier's id.
    pub region: Region,
    /// The first street line.
    pub address_first: AddressLine,
    /// The second street line, when there is one.
    pub address_second: Option<AddressLine>,
    /// The postal code, when there is one.
    pub zip: Option<PostalCode>,
}

/// Where an order goes. The delivery channel is the service's; the destination names the
/// place on that channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Destination {
    /// To the door.
    Home(HomeAddress),
    /// To a pickup / drop-off point.
    PickupPoint {
        /// The point's id.
        id: PointId,
    },
    /// To a parcel locker.
    Locker {
        /// The locker's id.
        id: PointId,
    },
}

/// Special handling a parcel declares (records only: routing does not change).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageType {
    /// Handle with care.
    Fragile,
    /// Breaks when dropped.
    Breakable,
    /// Contains liquid.
    Liquid,
}

impl PackageType {
    /// Every package type, in wire order.
    pub const ALL: [PackageType; 3] = [Self::Fragile, Self::Breakable, Self::Liquid];

    /// The wire name (`fragile`, `breakable`, `liquid`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fragile => "fragile",
            Self::Breakable => "breakable",
            Self::Liquid => "liquid",
        }
    }
}

impl std::str::FromStr for PackageType {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|p| p.as_str() == s).ok_or_else(|| ParseError::Invalid {
            what: "package type",
            value: s.into(),
            rule: "must be fragile, breakable or liquid",
        })
    }
}

impl fmt::Display for PackageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parcel's outside size in whole millimetres, each side 1 mm to 5 m.
///
/// ```
/// # use waybill_domain::Dimensions;
/// assert_eq!(Dimensions::new(300, 200, 100)?.to_string(), "300×200×100 mm");
/// assert!(Dimensions::new(0, 200, 100).is_err());
/// assert_eq!("300x200x100".parse::<Dimensions>()?.length_mm(), 300);
/// # Ok::<(), waybill_domain::ParseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Dimensions {
    length_mm: u32,
    width_mm: u32,
    height_mm: u32,
}

impl Dimensions {
    /// The longest accepted side, in millimetres.
    pub const MAX_MM: u32 = 5_000;

    /// A size from its three sides.
    ///
    /// # Errors
    /// [`ParseError::Invalid`] for a side of zero or longer than [`Dimensions::MAX_MM`].
    pub fn new(length_mm: u32, width_mm: u32, height_mm: u32) -> Result<Self, ParseError> {
        for side in [length_mm, width_mm, height_mm] {
            if side == 0 || side > Self::MAX_MM {
                return Err(ParseError::Invalid {
                    what: "dimensions",
                    value: format!("{length_mm}×{width_mm}×{height_mm} mm"),
                    rule: "every side must be between 1 mm and 5000 mm",
                });
            }
        }
        Ok(Self { length_mm, width_mm, height_mm })
    }

    /// Length, mm.
    #[must_use]
    pub fn length_mm(self) -> u32 {
        self.length_mm
    }

    /// Width, mm.
    #[must_use]
    pub fn width_mm(self) -> u32 {
        self.width_mm
    }

    /// Height, mm.
    #[must_use]
    pub fn height_mm(self) -> u32 {
        self.height_mm
    }
}

impl std::str::FromStr for Dimensions {
    type Err = ParseError;
    /// Accepts `LxWxH` in millimetres (`300x200x100`, also `×`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParseError::Invalid {
            what: "dimensions",
            value: s.into(),
            rule: "write length x width x height in millimetres, e.g. 300x200x100",
        };
        let sides: Vec<u32> = s
            .split(['x', 'X', '×'])
            .map(|p| p.parse::<u32>().map_err(|_| bad()))
            .collect::<Result<_, _>>()?;
        match sides[..] {
            [l, w, h] => Self::new(l, w, h),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Dimensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}×{}×{} mm", self.length_mm, self.width_mm, self.height_mm)
    }
}

/// How many units of a product a parcel holds (1 to 100 000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Quantity(u32);

impl Quantity {
    /// One unit.
    pub const ONE: Quantity = Quantity(1);

    /// A quantity.
    ///
    /// # Errors
    /// [`ParseError::Invalid`] for zero or more than 100 000.
    pub fn new(n: u32) -> Result<Self, ParseError> {
        if n == 0 || n > 100_000 {
            return Err(ParseError::Invalid {
                what: "quantity",
                value: n.to_string(),
                rule: "must be between 1 and 100000",
            });
        }
        Ok(Self(n))
    }

    /// The count.
    #[must_use]
    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for Quantity {
    type Error = ParseError;
    fn try_from(n: u32) -> Result<Self, Self::Error> {
        Self::new(n)
    }
}

impl From<Quantity> for u32 {
    fn from(q: Quantity) -> u32 {
        q.0
    }
}

/// One kind of goods in a parcel, as declared to customs.
///
/// ```
/// # use waybill_domain::*;
/// # use rust_decimal::Decimal;
/// let shoes = Product::new(ProductName::parse("Running shoes")?)
///     .with_hs_code(HsCode::parse("640299")?)
///     .with_declared_value(Money::new(Decimal::new(5999, 2), Currency::parse("USD")?)?);
/// assert_eq!(shoes.quantity().get(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    name: ProductName,
    hs_code: Option<HsCode>,
    declared_value: Option<Money>,
    weight: Option<Weight>,
    quantity: Quantity,
}

impl Product {
    /// One unit of a named product, nothing else declared yet.
    #[must_use]
    pub fn new(name: ProductName) -> Self {
        Self { name, hs_code: None, declared_value: None, weight: None, quantity: Quantity::ONE }
    }

    /// Sets the HS code.
    #[must_use]
    pub fn with_hs_code(mut self, hs_code: HsCode) -> Self {
        self.hs_code = Some(hs_code);
        self
    }

    /// Sets the declared value (per unit) and its currency.
    #[must_use]
    pub fn with_declared_value(mut self, value: Money) -> Self {
        self.declared_value = Some(value);
        self
    }

    /// Sets the weight (per unit).
    #[must_use]
    pub fn with_weight(mut self, weight: Weight) -> Self {
        self.weight = Some(weight);
        self
    }

    /// Sets the quantity.
    #[must_use]
    pub fn with_quantity(mut self, quantity: Quantity) -> Self {
        self.quantity = quantity;
        self
    }

    /// The name.
    #[must_use]
    pub fn name(&self) -> &ProductName {
        &self.name
    }

    /// The HS code, when declared.
    #[must_use]
    pub fn hs_code(&self) -> Option<&HsCode> {
        self.hs_code.as_ref()
    }

    /// The declared value per unit, when declared.
    #[must_use]
    pub fn declared_value(&self) -> Option<Money> {
        self.declared_value
    }

    /// The weight per unit, when declared.
    #[must_use]
    pub fn weight(&self) -> Option<Weight> {
        self.weight
    }

    /// How many units.
    #[must_use]
    pub fn quantity(&self) -> Quantity {
        self.quantity
    }
}

/// The most products one parcel may declare.
pub const MAX_PRODUCTS: usize = 100;

/// A partial change to a parcel that has not been received yet. Only the fields set are
/// sent; `products`, when set, replaces the whole list.
///
/// ```
/// # use waybill_domain::*;
/// let changes = ParcelChanges::new().weight(Weight::from_grams(1500)?);
/// assert!(changes.check().is_ok());
/// assert!(matches!(ParcelChanges::new().check(), Err(ShipmentError::NothingToChange)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParcelChanges {
    /// A new sticker code.
    pub merchant_tracking_number: Option<MerchantTrackingNumber>,
    /// A new handling type.
    pub package_type: Option<PackageType>,
    /// A new weight.
    pub weight: Option<Weight>,
    /// New dimensions.
    pub dimensions: Option<Dimensions>,
    /// A new product list (replaces the old one).
    pub products: Option<Vec<Product>>,
}

impl ParcelChanges {
    /// No change yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Changes the sticker code.
    #[must_use]
    pub fn merchant_tracking_number(mut self, number: MerchantTrackingNumber) -> Self {
        self.merchant_tracking_number = Some(number);
        self
    }

    /// Changes the handling type.
    #[must_use]
    pub fn package_type(mut self, package_type: PackageType) -> Self {
        self.package_type = Some(package_type);
        self
    }

    /// Changes the weight.
    #[must_use]
    pub fn weight(mut self, weight: Weight) -> Self {
        self.weight = Some(weight);
        self
    }

    /// Changes the dimensions.
    #[must_use]
    pub fn dimensions(mut self, dimensions: Dimensions) -> Self {
        self.dimensions = Some(dimensions);
        self
    }

    /// Replaces the product list.
    #[must_use]
    pub fn products(mut self, products: Vec<Product>) -> Self {
        self.products = Some(products);
        self
    }

    /// Checks the change is worth sending.
    ///
    /// # Errors
    /// [`ShipmentError::NothingToChange`] when no field is set; `NoProducts`-like
    /// [`ShipmentError::TooManyProducts`] for an over-long list.
    pub fn check(&self) -> Result<(), ShipmentError> {
        if *self == Self::default() {
            return Err(ShipmentError::NothingToChange);
        }
        if let Some(p) = &self.products
            && p.len() > MAX_PRODUCTS
        {
            return Err(ShipmentError::TooManyProducts { count: p.len(), max: MAX_PRODUCTS });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn text_values_refuse_stray_whitespace_and_control_characters() {
        assert!(RecipientName::parse("Jane Doe").is_ok());
        assert!(matches!(RecipientName::parse(" Jane"), Err(ParseError::Invalid { .. })));
        assert!(matches!(RecipientName::parse(""), Err(ParseError::Empty { .. })));
        assert!(matches!(AddressLine::parse("a\nb"), Err(ParseError::BadChar { .. })));
        assert!(Email::parse("jane@example.com").is_ok());
        for bad in
            ["jane", "@example.com", "jane@", "jane@example", "ja ne@x.io", "a@b@c.io", "a@x..io"]
        {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert!(GovId::parse("5AB12C3").is_ok());
        assert!(GovId::parse("5AB-12").is_err());
        assert!(PostalCode::parse("AZ1000").is_ok());
        assert!(HsCode::parse("64029910").is_ok());
        assert!(HsCode::parse("6402").is_err());
        assert!(PointId::new(0).is_err());
        assert_eq!("42".parse::<PointId>().unwrap().get(), 42);
        assert_eq!("liquid".parse::<PackageType>().unwrap(), PackageType::Liquid);
        assert!("wet".parse::<PackageType>().is_err());
        assert!(Quantity::new(0).is_err());
    }

    #[test]
    fn serde_goes_through_the_parsers() {
        assert!(serde_json::from_str::<Phone>("\"abc\"").is_err());
        assert!(serde_json::from_str::<PointId>("0").is_err());
        let d: Destination = serde_json::from_str(r#"{"kind":"locker","id":9}"#).unwrap();
        assert_eq!(d, Destination::Locker { id: PointId::new(9).unwrap() });
    }

    proptest! {
        #[test]
        fn phones_keep_their_digit_rule(s in "\\+?[0-9 ()-]{0,24}") {
            let digits = s.chars().filter(char::is_ascii_digit).count();
            let clean = s.trim() == s && !s.trim().is_empty();
            let ok = Phone::parse(s.clone()).is_ok();
            prop_assert_eq!(ok, clean && (5..=15).contains(&digits) && s.chars().count() <= 32);
        }

        #[test]
        fn dimensions_parse_what_they_print(l in 1u32..=5000, w in 1u32..=5000, h in 1u32..=5000) {
            let d = Dimensions::new(l, w, h).unwrap();
            prop_assert_eq!(format!("{l}x{w}x{h}").parse::<Dimensions>().unwrap(), d);
        }
    }
}
