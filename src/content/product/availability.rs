//! Whether a product or variant can be bought: its names in front matter, its label on
//! pages and its schema.org value.

/// Whether a product or variant can be bought.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// It can be bought.
    InStock,
    /// It cannot be bought now.
    OutOfStock,
    /// It can be ordered before it ships.
    Preorder,
}

impl Availability {
    /// Its names in front matter, in the order of the variants.
    pub const NAMES: [&'static str; 3] = ["in_stock", "out_of_stock", "preorder"];

    /// The availability named `s` (one of [`Availability::NAMES`]).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "in_stock" => Some(Availability::InStock),
            "out_of_stock" => Some(Availability::OutOfStock),
            "preorder" => Some(Availability::Preorder),
            _ => None,
        }
    }
    /// Its name in front matter.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
    /// What pages show.
    pub fn label(self) -> &'static str {
        match self {
            Availability::InStock => "In stock",
            Availability::OutOfStock => "Out of stock",
            Availability::Preorder => "Available to pre-order",
        }
    }
    /// The schema.org ItemAvailability URL.
    pub fn schema(self) -> &'static str {
        match self {
            Availability::InStock => "https://schema.org/InStock",
            Availability::OutOfStock => "https://schema.org/OutOfStock",
            Availability::Preorder => "https://schema.org/PreOrder",
        }
    }
}
