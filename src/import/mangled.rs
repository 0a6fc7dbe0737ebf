//! Values a spreadsheet program mangles when a merchant opens an export and saves it again:
//! long numbers in scientific notation (`3.65275E+11`), leading zeros dropped from barcodes,
//! prices written with a decimal comma.

/// `3.65275E+11`, `9.78E12`: a number a spreadsheet rewrote; its digits are lost.
pub fn is_scientific(s: &str) -> bool {
    let s = s.trim();
    let Some((mantissa, exp)) = s.split_once(['E', 'e']) else { return false };
    let exp = exp.strip_prefix('+').unwrap_or(exp);
    !mantissa.is_empty()
        && mantissa.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b',')
        && mantissa.bytes().any(|b| b.is_ascii_digit())
        && !exp.is_empty()
        && exp.bytes().all(|b| b.is_ascii_digit())
}

/// A barcode's problem, if it has one: GTINs have 8, 12, 13 or 14 digits, so 7, 11 or 12-
/// digit ones that match a shorter length are most likely missing leading zeros.
pub fn barcode_problem(s: &str) -> Option<String> {
    let s = s.trim().trim_start_matches('\'');
    if s.is_empty() {
        return None;
    }
    if is_scientific(s) {
        return Some(format!(
            "barcode `{s}` was turned into scientific notation by a spreadsheet; its digits are lost (export again and open it as text)"
        ));
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match s.len() {
        7 | 11 => Some(format!(
            "barcode `{s}` has {} digits: a spreadsheet probably dropped a leading zero (GTINs have 8, 12, 13 or 14)",
            s.len()
        )),
        8 | 12 | 13 | 14 => None,
        n => Some(format!("barcode `{s}` has {n} digits; GTINs have 8, 12, 13 or 14")),
    }
}

/// A price as the shop writes it: `"12,50"` becomes `"12.50"` (and says so), `"1.299,00"`
/// becomes `"1299.00"`; `"$12.50"`, `"12.50 EUR"` lose the currency. Returns the fixed
/// text and a note when it changed anything.
pub fn price(s: &str) -> (String, Option<String>) {
    let t = s.trim();
    let stripped: String = t.chars().filter(|c| c.is_ascii_digit() || *c == '.' || *c == ',' || *c == '-').collect();
    if !stripped.bytes().any(|b| b.is_ascii_digit()) {
        return (t.to_string(), None);
    }
    let fixed = match (stripped.rfind(','), stripped.rfind('.')) {
        // "1.299,00" or "12,50": the comma is the decimal separator.
        (Some(c), d) if d.is_none_or(|d| d < c) && stripped.len() - c - 1 <= 3 && stripped.len() - c - 1 != 3 => {
            stripped.replace('.', "").replace(',', ".")
        }
        // "1,299.00" or "1,299": commas group thousands.
        (Some(_), _) => stripped.replace(',', ""),
        _ => stripped,
    };
    if fixed == t {
        (fixed, None)
    } else if t.contains(',') && !fixed.contains(',') {
        let note = format!("price `{t}` was written with a comma (a spreadsheet's locale?); read as \"{fixed}\"");
        (fixed, Some(note))
    } else {
        let note = format!("price `{t}` read as \"{fixed}\"");
        (fixed, Some(note))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spots_what_spreadsheets_do() {
        assert!(is_scientific("3.65275E+11"));
        assert!(is_scientific("9.78e12"));
        assert!(!is_scientific("TR2-E1"));
        assert!(!is_scientific("E+11"));
        assert!(barcode_problem("3.65275E+11").is_some());
        assert!(barcode_problem("36527512345").is_some(), "11 digits: a lost zero");
        assert!(barcode_problem("036527512345").is_none());
        assert!(barcode_problem("").is_none());
        assert_eq!(
            price("12,50"),
            (
                "12.50".into(),
                Some("price `12,50` was written with a comma (a spreadsheet's locale?); read as \"12.50\"".into())
            )
        );
        assert_eq!(price("1.299,00").0, "1299.00");
        assert_eq!(price("1,299.00").0, "1299.00");
        assert_eq!(price("1,299").0, "1299");
        assert_eq!(price("89.00"), ("89.00".into(), None));
        assert_eq!(price("$89.00").0, "89.00");
    }
}
