//! Exact money: prices are parsed from decimal strings into integer minor units using the
//! currency's ISO 4217 minor digits, and formatted back without ever touching floating point.

use std::fmt;

/// An ISO 4217 currency with its number of minor digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    /// The three-letter code, e.g. `EUR`.
    pub code: &'static str,
    /// Minor digits: 2 for EUR, 0 for JPY, 3 for KWD.
    pub digits: u32,
}

/// Active ISO 4217 codes. Those not listed in `ZERO`/`THREE`/`FOUR` have two minor digits.
const CODES: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL \
BSD BTN BWP BYN BZD CAD CDF CHF CLF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD \
FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR \
KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR \
MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK \
SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYI UYU UYW \
UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG";
const ZERO: &str = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF";
const THREE: &str = "BHD IQD JOD KWD LYD OMR TND";
const FOUR: &str = "CLF UYW";

/// The hint for a TOML line such as `price = 12,50`, an amount written with a decimal
/// comma and without quotes (TOML itself only says it expected a newline).
pub fn unquoted_comma_hint(line: &str) -> Option<String> {
    let (key, value) = line.split_once('=')?;
    let (key, value) = (key.trim(), value.trim());
    let (whole, fraction) = value.split_once(',')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(whole) && digits(fraction) && !key.is_empty()).then(|| {
        format!("an amount is written in quotes with a dot as the decimal separator: {key} = \"{whole}.{fraction}\"")
    })
}

impl Currency {
    /// Looks up an ISO 4217 code ("EUR", "JPY", "KWD").
    pub fn from_code(code: &str) -> Option<Currency> {
        let code = CODES.split_whitespace().find(|c| *c == code)?;
        let digits = if ZERO.split_whitespace().any(|c| c == code) {
            0
        } else if THREE.split_whitespace().any(|c| c == code) {
            3
        } else if FOUR.split_whitespace().any(|c| c == code) {
            4
        } else {
            2
        };
        Some(Currency { code, digits })
    }

    fn symbol(&self) -> Option<&'static str> {
        match self.code {
            "EUR" => Some("€"),
            "USD" => Some("$"),
            "GBP" => Some("£"),
            "JPY" => Some("¥"),
            _ => None,
        }
    }

    /// A price written with a comma, as it must be written: "3,032.00" and "3.032,00" mean
    /// 3032.00; "12,50" means 12.50; "3,032" (three digits after the only separator, in a
    /// currency without three decimals) means 3032.
    fn without_separators(&self, t: &str) -> String {
        let last = t.rfind([',', '.']).unwrap_or(0);
        let thousands_only = !t.contains('.') && t.len() - last - 1 == 3 && self.digits != 3;
        if t.as_bytes().get(last) == Some(&b'.') || thousands_only {
            t.replace(',', "")
        } else {
            t.replace('.', "").replace(',', ".")
        }
    }

    /// Parses a decimal string ("89.00", "89", "1299.5") into minor units.
    pub fn parse(&self, text: &str) -> Result<Money, PriceError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(PriceError::Empty);
        }
        if t.starts_with('-') {
            return Err(PriceError::Negative);
        }
        if t.contains(',') {
            return Err(PriceError::Comma(self.without_separators(t)));
        }
        let (whole, frac) = match t.split_once('.') {
            Some((w, f)) => (w, f),
            None => (t, ""),
        };
        let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits_only(whole) || !digits_only(frac) || (t.contains('.') && frac.is_empty()) {
            return Err(PriceError::NotANumber);
        }
        if frac.len() > self.digits as usize {
            return Err(PriceError::TooManyDecimals { digits: self.digits, code: self.code });
        }
        let scale = 10i64.pow(self.digits);
        let mut minor: i64 = 0;
        for b in whole.bytes() {
            minor =
                minor.checked_mul(10).and_then(|m| m.checked_add(i64::from(b - b'0'))).ok_or(PriceError::TooLarge)?;
        }
        minor = minor.checked_mul(scale).ok_or(PriceError::TooLarge)?;
        let mut frac_value: i64 = 0;
        for i in 0..self.digits as usize {
            let d = frac.as_bytes().get(i).map_or(0, |b| i64::from(b - b'0'));
            frac_value = frac_value * 10 + d;
        }
        minor = minor.checked_add(frac_value).ok_or(PriceError::TooLarge)?;
        if minor > MAX_MINOR {
            return Err(PriceError::TooLarge);
        }
        Ok(Money { minor, currency: *self })
    }
}

/// Prices above this (10^15 minor units) are refused: no shop sells that, and it keeps
/// every sum far from overflow.
const MAX_MINOR: i64 = 1_000_000_000_000_000;

/// Why a price string was refused, with the fix the message suggests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriceError {
    /// Nothing was written.
    Empty,
    /// It is below zero.
    Negative,
    /// It has a comma; the price as it should be written.
    Comma(String),
    /// It is not a decimal number.
    NotANumber,
    /// More decimals than the currency has.
    TooManyDecimals {
        /// The currency's minor digits.
        digits: u32,
        /// The currency.
        code: &'static str,
    },
    /// Above 10^15 minor units.
    TooLarge,
}

impl PriceError {
    /// What is wrong, for the diagnostic.
    pub fn message(&self) -> String {
        match self {
            PriceError::Empty => "the price is empty".into(),
            PriceError::Negative => "a price cannot be negative".into(),
            PriceError::Comma(_) => "a price uses a dot as the decimal separator and no thousands separators".into(),
            PriceError::NotANumber => "this is not a price".into(),
            PriceError::TooManyDecimals { digits, code } => {
                format!("{code} has {digits} decimal place{}", if *digits == 1 { "" } else { "s" })
            }
            PriceError::TooLarge => "this price is too large".into(),
        }
    }
    /// How to write it instead.
    pub fn hint(&self) -> String {
        match self {
            PriceError::Comma(fixed) => format!("write it as \"{fixed}\""),
            PriceError::TooManyDecimals { digits: 0, .. } => "write a whole number, e.g. \"1200\"".into(),
            PriceError::TooManyDecimals { digits, .. } => {
                format!("round it to {digits} decimal places, e.g. \"{}\"", example(*digits))
            }
            _ => "write a decimal string in the shop currency, e.g. price = \"89.00\"".into(),
        }
    }
}

fn example(digits: u32) -> String {
    format!("89.{}", "0".repeat(digits as usize))
}

/// An exact amount in minor units of a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    /// The amount in minor units (cents for EUR).
    pub minor: i64,
    /// Its currency.
    pub currency: Currency,
}

impl Money {
    /// The plain decimal form used in JSON-LD and Open Graph: "89.00", "1200", "1.250".
    pub fn decimal(&self) -> String {
        let digits = self.currency.digits;
        if digits == 0 {
            return self.minor.to_string();
        }
        let scale = 10i64.pow(digits);
        format!("{}.{:0width$}", self.minor / scale, self.minor % scale, width = digits as usize)
    }

    /// The form shown to shoppers: "€1,299.00", "¥1,200", "12.500 KWD".
    pub fn display(&self) -> String {
        let decimal = self.decimal();
        let (whole, frac) = match decimal.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (decimal.as_str(), None),
        };
        let mut grouped = String::new();
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        if let Some(f) = frac {
            grouped.push('.');
            grouped.push_str(f);
        }
        match self.currency.symbol() {
            Some(s) => format!("{s}{grouped}"),
            None => format!("{grouped} {}", self.currency.code),
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decimal_comma_without_quotes_gets_the_money_hint() {
        let hint = unquoted_comma_hint("price = 12,50").unwrap();
        assert!(hint.ends_with("price = \"12.50\""), "{hint}");
        assert_eq!(unquoted_comma_hint("tags = [\"a\",\"b\"]"), None);
        assert_eq!(unquoted_comma_hint("price = \"12,50\""), None);
    }

    fn cur(code: &str) -> Currency {
        Currency::from_code(code).expect("known currency")
    }

    #[test]
    fn parses_into_minor_units_per_currency() {
        assert_eq!(cur("EUR").parse("89.00").map(|m| m.minor), Ok(8900));
        assert_eq!(cur("EUR").parse("89").map(|m| m.minor), Ok(8900));
        assert_eq!(cur("EUR").parse("0.5").map(|m| m.minor), Ok(50));
        assert_eq!(cur("JPY").parse("1200").map(|m| m.minor), Ok(1200));
        assert_eq!(cur("KWD").parse("12.5").map(|m| m.minor), Ok(12500));
    }

    #[test]
    fn refuses_bad_prices_with_a_reason() {
        let eur = cur("EUR");
        assert_eq!(eur.parse("12,50"), Err(PriceError::Comma("12.50".into())));
        assert_eq!(eur.parse("3,032.00"), Err(PriceError::Comma("3032.00".into())));
        assert_eq!(eur.parse("3.032,00"), Err(PriceError::Comma("3032.00".into())));
        assert_eq!(eur.parse("3,032"), Err(PriceError::Comma("3032".into())));
        assert_eq!(eur.parse("-3"), Err(PriceError::Negative));
        assert!(matches!(eur.parse("1.999"), Err(PriceError::TooManyDecimals { digits: 2, .. })));
        assert_eq!(eur.parse("abc"), Err(PriceError::NotANumber));
        assert_eq!(eur.parse("1."), Err(PriceError::NotANumber));
        assert_eq!(eur.parse("99999999999999999999999"), Err(PriceError::TooLarge));
        assert!(matches!(cur("JPY").parse("10.5"), Err(PriceError::TooManyDecimals { digits: 0, .. })));
    }

    #[test]
    fn formats_without_floats() {
        assert_eq!(cur("EUR").parse("1299.5").map(|m| m.display()), Ok("€1,299.50".into()));
        assert_eq!(cur("JPY").parse("1200").map(|m| m.display()), Ok("¥1,200".into()));
        assert_eq!(cur("KWD").parse("12.5").map(|m| m.decimal()), Ok("12.500".into()));
        assert_eq!(cur("CHF").parse("5").map(|m| m.display()), Ok("5.00 CHF".into()));
        assert!(Currency::from_code("EURO").is_none());
    }
}
