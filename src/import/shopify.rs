//! Shopify's product export, in both header dialects:
//!
//! - the long-standing one: `Handle, Title, Body (HTML), Vendor, Type, Tags, Published,
//!   Option1 Name, Option1 Value, ... Variant SKU, Variant Price, Variant Compare At Price,
//!   Variant Inventory Qty, Variant Barcode, Image Src, Image Position, Image Alt Text,
//!   SEO Title, SEO Description, Status`;
//! - the newer one: `URL handle, Title, Description, Vendor, Type, Tags, Published on online
//!   store, Status, Option1 name, Option1 value, ... SKU, Barcode, Price, Compare-at price,
//!   Inventory quantity, Continue selling when out of stock, Product image URL, Image
//!   position, Image alt text, Variant image URL, SEO title, SEO description`.
//!
//! Columns are found by name (case and surrounding spaces ignored), so their order and the
//! columns we do not use do not matter. Rows are streamed: the rows of one handle (the
//! first holds the product's fields, later ones variants and images) are grouped and
//! handed on as soon as the handle changes, so memory does not grow with the file.

use csv::ByteRecord;
use std::io::Read;

/// Which header dialect the export uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `Handle`, `Body (HTML)`, `Variant SKU`, `Variant Price`, `Image Src` ...
    Classic,
    /// `URL handle`, `Description`, `SKU`, `Price`, `Product image URL` ...
    Current,
}

/// Where each column we use is (by index), found once from the header.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    /// The handle.
    pub handle: usize,
    /// The title.
    pub title: usize,
    /// The price.
    pub price: usize,
    /// The optional columns, by [`Field`].
    pub optional: [Option<usize>; Field::COUNT],
    /// Option 1 to 3: name and value columns.
    pub options: [(Option<usize>, Option<usize>); 3],
    /// Number of fields in the header; a row with another count is ragged.
    pub width: usize,
}

/// The optional columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `Body (HTML)` / `Description`.
    Body,
    /// `Vendor`.
    Vendor,
    /// `Type`.
    Type,
    /// `Tags`.
    Tags,
    /// `Published` / `Published on online store`.
    Published,
    /// `Status`.
    Status,
    /// `Product category`.
    Category,
    /// `Variant SKU` / `SKU`.
    Sku,
    /// `Variant Compare At Price` / `Compare-at price`.
    Compare,
    /// `Variant Inventory Qty` / `Inventory quantity`.
    Qty,
    /// `Variant Inventory Policy` / `Continue selling when out of stock`.
    Policy,
    /// `Variant Barcode` / `Barcode`.
    Barcode,
    /// `Image Src` / `Product image URL`.
    ImageSrc,
    /// `Image Position`.
    ImagePosition,
    /// `Image Alt Text`.
    ImageAlt,
    /// `Variant Image` / `Variant image URL`.
    VariantImage,
    /// `SEO Title`.
    SeoTitle,
    /// `SEO Description`.
    SeoDescription,
}

impl Field {
    const COUNT: usize = 18;
    const ALL: [Field; Field::COUNT] = [
        Field::Body,
        Field::Vendor,
        Field::Type,
        Field::Tags,
        Field::Published,
        Field::Status,
        Field::Category,
        Field::Sku,
        Field::Compare,
        Field::Qty,
        Field::Policy,
        Field::Barcode,
        Field::ImageSrc,
        Field::ImagePosition,
        Field::ImageAlt,
        Field::VariantImage,
        Field::SeoTitle,
        Field::SeoDescription,
    ];

    /// Header names in both dialects (lower case).
    fn names(self) -> &'static [&'static str] {
        match self {
            Field::Body => &["body (html)", "description"],
            Field::Vendor => &["vendor"],
            Field::Type => &["type"],
            Field::Tags => &["tags"],
            Field::Published => &["published", "published on online store"],
            Field::Status => &["status"],
            Field::Category => &["product category"],
            Field::Sku => &["variant sku", "sku"],
            Field::Compare => &["variant compare at price", "compare-at price"],
            Field::Qty => &["variant inventory qty", "inventory quantity"],
            Field::Policy => &["variant inventory policy", "continue selling when out of stock"],
            Field::Barcode => &["variant barcode", "barcode"],
            Field::ImageSrc => &["image src", "product image url"],
            Field::ImagePosition => &["image position"],
            Field::ImageAlt => &["image alt text"],
            Field::VariantImage => &["variant image", "variant image url"],
            Field::SeoTitle => &["seo title"],
            Field::SeoDescription => &["seo description"],
        }
    }
}

fn header_names(header: &ByteRecord) -> Vec<String> {
    header
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let f = if i == 0 { f.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(f) } else { f };
            String::from_utf8_lossy(f).trim().to_lowercase()
        })
        .collect()
}

impl Columns {
    /// Finds the columns; a missing required one is an error that says which and what the
    /// header holds.
    pub fn find(header: &ByteRecord) -> Result<(Columns, Dialect), String> {
        let names = header_names(header);
        let pos = |alts: &[&str]| alts.iter().find_map(|a| names.iter().position(|n| n == a));
        let dialect = if names.iter().any(|n| n == "url handle") { Dialect::Current } else { Dialect::Classic };
        let required = [
            (pos(&["handle", "url handle"]), "Handle (or URL handle)"),
            (pos(&["title"]), "Title"),
            (pos(&["variant price", "price"]), "Variant Price (or Price)"),
        ];
        let missing: Vec<&str> = required.iter().filter(|(p, _)| p.is_none()).map(|(_, n)| *n).collect();
        if !missing.is_empty() {
            let shown: Vec<&str> = names.iter().take(12).map(String::as_str).collect();
            return Err(format!(
                "the header has no {} column; is this Shopify's product export (Products > Export > CSV)? The header starts with: {}",
                missing.join(", no "),
                shown.join(", ")
            ));
        }
        let mut c = Columns {
            handle: required[0].0.unwrap_or(0),
            title: required[1].0.unwrap_or(0),
            price: required[2].0.unwrap_or(0),
            width: names.len(),
            ..Columns::default()
        };
        for (i, f) in Field::ALL.iter().enumerate() {
            c.optional[i] = pos(f.names());
        }
        for n in 0..3 {
            let name = format!("option{} name", n + 1);
            let value = format!("option{} value", n + 1);
            c.options[n] = (pos(&[name.as_str()]), pos(&[value.as_str()]));
        }
        Ok((c, dialect))
    }
}

/// One data row: the fields we use, decoded; `line` is where it starts in the file.
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// Where the row starts in the file.
    pub line: u64,
    /// The product handle (rows with the same handle are one product).
    pub handle: String,
    /// The title (on the handle's first row).
    pub title: String,
    /// The price as written.
    pub price: String,
    /// The optional fields, by [`Field`].
    pub fields: [String; Field::COUNT],
    /// Option 1 to 3: name and value.
    pub options: [(String, String); 3],
}

impl Row {
    /// An optional field's value (empty when absent).
    pub fn get(&self, f: Field) -> &str {
        self.fields[f as usize].as_str()
    }
    /// A row that describes a variant (and not only an image).
    pub fn is_variant(&self) -> bool {
        !self.price.is_empty() || !self.get(Field::Sku).is_empty() || !self.options[0].1.is_empty()
    }
}

/// A problem at a line of the export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The line.
    pub line: u64,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// Reads the export row by row and calls `on_group` with the rows of each handle, in file
/// order. A row that cannot be read is reported to `on_error` and left out; reading goes on
/// so that one run reports every problem.
pub fn read_groups(
    input: impl Read,
    on_group: &mut dyn FnMut(Vec<Row>),
    on_error: &mut dyn FnMut(Problem),
) -> Result<Dialect, String> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(input);
    let header = reader.byte_headers().map_err(|e| format!("cannot read the header: {e}"))?.clone();
    let (cols, dialect) = Columns::find(&header)?;
    let mut group: Vec<Row> = Vec::new();
    let mut record = ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                on_error(Problem { line, message: format!("this row cannot be read as CSV: {}", csv_reason(&e)) });
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|f| f.trim_ascii().is_empty()) {
            continue;
        }
        if record.len() != cols.width {
            on_error(Problem {
                line,
                message: format!(
                    "this row has {} fields but the header has {}: a quote is probably missing around a value with a comma or a line break",
                    record.len(),
                    cols.width
                ),
            });
            continue;
        }
        let row = match decode(&record, &cols, line) {
            Ok(r) => r,
            Err(p) => {
                on_error(p);
                continue;
            }
        };
        if group.first().is_some_and(|g| g.handle != row.handle) {
            on_group(std::mem::take(&mut group));
        }
        group.push(row);
    }
    if !group.is_empty() {
        on_group(group);
    }
    Ok(dialect)
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("it has {len} fields but the header has {expected_len}")
        }
        csv::ErrorKind::Io(io) => format!("the file cannot be read ({io})"),
        _ => "malformed quoting".into(),
    }
}

fn decode(record: &ByteRecord, cols: &Columns, line: u64) -> Result<Row, Problem> {
    let text = |i: Option<usize>| -> Result<String, Problem> {
        let Some(i) = i else { return Ok(String::new()) };
        let bytes = record.get(i).unwrap_or_default();
        std::str::from_utf8(bytes).map(|s| s.trim().to_string()).map_err(|_| Problem {
            line,
            message: "this row is not valid UTF-8; export the file again from Shopify, or save it as \"CSV UTF-8\" in your spreadsheet".into(),
        })
    };
    let mut row = Row {
        line,
        handle: text(Some(cols.handle))?,
        title: text(Some(cols.title))?,
        price: text(Some(cols.price))?,
        ..Row::default()
    };
    for (i, idx) in cols.optional.iter().enumerate() {
        row.fields[i] = text(*idx)?;
    }
    for (n, (name, value)) in cols.options.iter().enumerate() {
        row.options[n] = (text(*name)?, text(*value)?);
    }
    if row.handle.is_empty() {
        return Err(Problem {
            line,
            message: "this row has no handle; every row of a product repeats the product's handle".into(),
        });
    }
    Ok(row)
}
