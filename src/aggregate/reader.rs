//! Reading order exports: Shopify's orders export, the order exports of the hosted
//! checkouts a shop can hand its cart to (Snipcart, PayPal, Foxy) and a generic
//! `order_id,sku[,quantity]` CSV. Columns are found by header name; every other column
//! (names, emails, addresses, phone numbers...) is never decoded, copied or stored: a row is
//! looked at only through the three fields we need, and only the SKU is ever kept beyond
//! the row.
//!
//! Rows are read as raw bytes, so a Latin-1 export does not fail as a whole: only the
//! fields we use must be UTF-8 (the order number is hashed as bytes and need not be).
//! Messages about a row carry its line number and a fixed reason, never its content.

use csv::ByteRecord;

/// Which export the file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Shopify's orders export: `Name` (order number), `Lineitem sku`, `Lineitem quantity`.
    Shopify,
    /// Snipcart's orders export, one row per item: `Invoice Number`, `Item Id` (the
    /// buy button's `data-item-id`, the SKU), `Item Quantity`.
    Snipcart,
    /// PayPal's activity download with shopping cart details: `Transaction ID`, `Item ID`
    /// (the cart upload's `item_number`, the SKU), `Quantity`. Rows without an item ID (the
    /// payment itself, fees, transfers) are not line items and are passed over.
    PayPal,
    /// Foxy's transaction export, one row per item: `transaction_id`, `product_code`,
    /// `product_quantity`.
    Foxy,
    /// `order_id,sku` with an optional `quantity` column.
    Generic,
}

impl Format {
    /// Its name in messages and the summary (as `--format` spells it).
    pub fn name(self) -> &'static str {
        match self {
            Format::Shopify => "shopify",
            Format::Snipcart => "snipcart",
            Format::PayPal => "paypal",
            Format::Foxy => "foxy",
            Format::Generic => "generic",
        }
    }

    fn columns(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Format::Shopify => ("Name", "Lineitem sku", "Lineitem quantity"),
            Format::Snipcart => ("Invoice Number", "Item Id", "Item Quantity"),
            Format::PayPal => ("Transaction ID", "Item ID", "Quantity"),
            Format::Foxy => ("transaction_id", "product_code", "product_quantity"),
            Format::Generic => ("order_id", "sku", "quantity"),
        }
    }

    /// What the export's header has, for the message about a missing column.
    fn hint(self) -> &'static str {
        match self {
            Format::Shopify => "a Shopify orders export has the columns `Name`, `Lineitem sku` and `Lineitem quantity`",
            Format::Snipcart => {
                "a Snipcart orders export (one row per item) has the columns `Invoice Number`, `Item Id` and `Item Quantity`"
            }
            Format::PayPal => {
                "a PayPal activity download with shopping cart details has the columns `Transaction ID`, `Item ID` and `Quantity`"
            }
            Format::Foxy => {
                "a Foxy transaction export (one row per item) has the columns `transaction_id`, `product_code` and `product_quantity`"
            }
            Format::Generic => {
                "a generic export needs the header `order_id,sku` (optionally `,quantity`); for a Shopify, Snipcart, PayPal or Foxy export use `--format shopify|snipcart|paypal|foxy`"
            }
        }
    }
}

/// Positions of the columns we read.
#[derive(Debug, Clone, Copy)]
pub struct Columns {
    /// The order number's column.
    pub order: usize,
    /// The SKU's column.
    pub sku: usize,
    /// The quantity's column, if any (a line with quantity 0 is ignored).
    pub quantity: Option<usize>,
    /// Number of fields in the header; a row with another count is ragged and skipped.
    pub width: usize,
    /// Rows without a SKU are not line items (PayPal's payment and fee rows): passed over
    /// rather than reported.
    pub items_only: bool,
}

fn header_name(field: &[u8], first: bool) -> &[u8] {
    let field = if first { field.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(field) } else { field };
    field.trim_ascii()
}

fn find(header: &ByteRecord, name: &str) -> Option<usize> {
    header.iter().enumerate().position(|(i, f)| header_name(f, i == 0).eq_ignore_ascii_case(name.as_bytes()))
}

/// The export whose order and SKU columns the header has (Shopify, PayPal, Foxy, Snipcart,
/// in that order: a PayPal download also has an `Invoice Number` column); generic otherwise.
pub fn detect(header: &ByteRecord) -> Format {
    [Format::Shopify, Format::PayPal, Format::Foxy, Format::Snipcart]
        .into_iter()
        .find(|f| {
            let (order, sku, _) = f.columns();
            find(header, order).is_some() && find(header, sku).is_some()
        })
        .unwrap_or(Format::Generic)
}

/// The positions of the columns `format` needs; the error names every missing column
/// (and never repeats the header's other fields, in case the file has no header at all and
/// its first line is an order).
pub fn columns(header: &ByteRecord, format: Format) -> Result<Columns, String> {
    let (order_name, sku_name, qty_name) = format.columns();
    let order = find(header, order_name);
    let sku = find(header, sku_name);
    match (order, sku) {
        (Some(order), Some(sku)) => Ok(Columns {
            order,
            sku,
            quantity: find(header, qty_name),
            width: header.len(),
            items_only: format == Format::PayPal,
        }),
        _ => {
            let missing: Vec<String> = [(order, order_name), (sku, sku_name)]
                .iter()
                .filter(|(pos, _)| pos.is_none())
                .map(|(_, name)| format!("`{name}`"))
                .collect();
            let hint = format.hint();
            Err(format!(
                "missing column {} in the header (line 1) of this {} export: {hint}",
                missing.join(" and "),
                format.name()
            ))
        }
    }
}

/// One row as the counter sees it.
#[derive(Debug, PartialEq, Eq)]
pub enum Row<'a> {
    /// A line item.
    Line {
        /// The raw order number, used only for grouping.
        order: &'a [u8],
        /// The SKU bought.
        sku: &'a str,
    },
    /// A line with quantity 0: nothing bought, silently ignored.
    Nothing,
    /// An unusable row, with a reason that never quotes the row.
    Skip(&'static str),
}

/// Interprets one data row.
pub fn read_row<'a>(record: &'a ByteRecord, cols: &Columns) -> Row<'a> {
    if record.len() != cols.width {
        return Row::Skip("its number of fields differs from the header");
    }
    let order = record.get(cols.order).unwrap_or_default().trim_ascii();
    if order.is_empty() {
        return Row::Skip("the order number is empty");
    }
    let sku = record.get(cols.sku).unwrap_or_default().trim_ascii();
    if sku.is_empty() && cols.items_only {
        return Row::Nothing;
    }
    if sku.is_empty() {
        return Row::Skip("the SKU is empty");
    }
    let Ok(sku) = std::str::from_utf8(sku) else {
        return Row::Skip("the SKU is not valid UTF-8");
    };
    if let Some(q) = cols.quantity {
        let q = record.get(q).unwrap_or_default().trim_ascii();
        if !q.is_empty() {
            match std::str::from_utf8(q).ok().and_then(|q| q.parse::<u64>().ok()) {
                Some(0) => return Row::Nothing,
                Some(_) => {}
                None => return Row::Skip("the quantity is not a whole number"),
            }
        }
    }
    Row::Line { order, sku }
}

/// The line where a quoted field opened and never closed, if the text read from `tail`
/// (the bytes of the file's last record to its end, that record starting on line `line`)
/// ends inside quotes. The CSV reader takes the end of the file as the end of such a field,
/// so an unclosed quote would silently swallow every row after it into one field.
pub fn unclosed_quote(tail: impl std::io::Read, mut line: u64) -> std::io::Result<Option<u64>> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let mut state = State::FieldStart;
    let mut opened = line;
    let mut buf = [0u8; 1 << 16];
    let mut tail = tail;
    loop {
        let n = match tail.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        for &b in &buf[..n] {
            state = match (state, b) {
                (State::Quoted, b'"') => State::QuoteInQuoted,
                (State::Quoted, _) => State::Quoted,
                (State::QuoteInQuoted, b'"') => State::Quoted,
                (State::FieldStart, b'"') => {
                    opened = line;
                    State::Quoted
                }
                (_, b',' | b'\n' | b'\r') => State::FieldStart,
                (_, _) => State::Unquoted,
            };
            if b == b'\n' {
                line += 1;
            }
        }
    }
    Ok((state == State::Quoted).then_some(opened))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(fields: &[&str]) -> ByteRecord {
        ByteRecord::from(fields.to_vec())
    }

    #[test]
    fn detects_shopify_and_strips_bom() {
        let h = rec(&["\u{feff}Name", "Email", "Lineitem quantity", "Lineitem sku"]);
        assert_eq!(detect(&h), Format::Shopify);
        let c = columns(&h, Format::Shopify).unwrap();
        assert_eq!((c.order, c.sku, c.quantity, c.width), (0, 3, Some(2), 4));
    }

    #[test]
    fn missing_columns_are_named() {
        let h = rec(&["order", "jane@example.com"]);
        assert_eq!(detect(&h), Format::Generic);
        let e = columns(&h, Format::Generic).unwrap_err();
        assert!(e.contains("`order_id` and `sku`"), "{e}");
        assert!(!e.contains("jane"), "{e}");
    }

    #[test]
    fn rows() {
        let c = columns(&rec(&["order_id", "sku", "quantity"]), Format::Generic).unwrap();
        let r = rec(&["1", " A ", "2"]);
        assert_eq!(read_row(&r, &c), Row::Line { order: b"1", sku: "A" });
        assert_eq!(read_row(&rec(&["1", "A", "0"]), &c), Row::Nothing);
        assert!(matches!(read_row(&rec(&["1", "A", "x"]), &c), Row::Skip(_)));
        assert!(matches!(read_row(&rec(&["1", "A"]), &c), Row::Skip(_)));
        assert!(matches!(read_row(&rec(&["", "A", "1"]), &c), Row::Skip(_)));
    }

    #[test]
    fn unclosed_quotes_are_found_where_they_open() {
        let open = |s: &str| unclosed_quote(s.as_bytes(), 5).unwrap();
        assert_eq!(open("1,A,1\n"), None);
        assert_eq!(open("1,\"A\nB\",1"), None);
        assert_eq!(open("1,\"A\"\"B\",1\n"), None);
        assert_eq!(open("1,A\"B,1\n"), None);
        assert_eq!(open("1,\"A,1\n2,B,1\n"), Some(5));
        assert_eq!(open("1,A,1\n2,\"B\"\"\n3,C\n"), Some(6));
    }
}
