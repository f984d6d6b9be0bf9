//! JavaScript value semantics the reference's xAPI output relies on, for JSON
//! values: truthiness, loose `== true` / `== false`, `Number()`, `String()`,
//! number printing and `JSON.stringify`. `None` stands for `undefined`. No
//! statement decisions live here.

use serde_json::Value;

/// JavaScript truthiness: `undefined`, `null`, `false`, `0` and `""` are
/// falsy; everything else (`"0"`, `"false"`, `[]`, `{}`) is truthy. The
/// mapping's rule (`crate::mapping::js`), with `None` for `undefined`.
pub fn truthy(v: Option<&Value>) -> bool {
    v.is_some_and(crate::mapping::js::truthy)
}

/// `v == true` (loose): `true`, `1`, `"1"`, `" 1.0 "`, `[1]`; not `"true"`.
pub fn loose_eq_true(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null | Value::Object(_)) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => to_number(Some(other)) == 1.0,
    }
}

/// `v == false` (loose): `false`, `0`, `""`, `"0"`, `"  "`, `[]`; not `null`
/// nor `undefined`.
pub fn loose_eq_false(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null | Value::Object(_)) => false,
        Some(Value::Bool(b)) => !*b,
        Some(other) => to_number(Some(other)) == 0.0,
    }
}

/// `Number(v)`.
pub fn to_number(v: Option<&Value>) -> f64 {
    match v {
        None | Some(Value::Object(_)) => f64::NAN,
        Some(Value::Null) => 0.0,
        Some(Value::Bool(b)) => f64::from(u8::from(*b)),
        Some(Value::Number(n)) => n.as_f64().unwrap_or(f64::NAN),
        Some(Value::String(s)) => string_to_number(s),
        // An array becomes its `join(",")` text first.
        Some(a @ Value::Array(_)) => string_to_number(&to_string(Some(a))),
    }
}

/// `String(v)`, which is also what a template literal `${v}` writes.
pub fn to_string(v: Option<&Value>) -> String {
    match v {
        None => "undefined".to_owned(),
        Some(Value::Null) => "null".to_owned(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => number_to_string(n.as_f64().unwrap_or(f64::NAN)),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => join(items, ","),
        Some(Value::Object(_)) => "[object Object]".to_owned(),
    }
}

/// `array.join(sep)`: `null` and `undefined` elements are empty.
pub fn join(items: &[Value], sep: &str) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|i| match i {
            Value::Null => String::new(),
            other => to_string(Some(other)),
        })
        .collect();
    parts.join(sep)
}

/// `String(x)` for a number: integers without a decimal point, otherwise the
/// shortest decimal that reads back as `x`, in exponent form below 1e-6 and
/// from 1e21 up (ECMAScript `Number::toString`).
pub fn number_to_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_owned();
    }
    if x == 0.0 {
        return "0".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if x < 0.0 {
        return format!("-{}", number_to_string(-x));
    }
    // Rust's `{:e}` gives the same shortest round-trip digits, as `d.ddde<exp>`.
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let k = digits.len() as i64;
    let n = exp.parse::<i64>().unwrap_or(0) + 1;
    let (head, tail) = digits.split_at_checked(1).unwrap_or(("0", ""));
    if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        let (int, frac) = digits.split_at_checked(n as usize).unwrap_or((&digits, ""));
        format!("{int}.{frac}")
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let sign = if n - 1 < 0 { '-' } else { '+' };
        let e = (n - 1).abs();
        if tail.is_empty() {
            format!("{head}e{sign}{e}")
        } else {
            format!("{head}.{tail}e{sign}{e}")
        }
    }
}

/// `Number(s)` for a string (ECMAScript `StringToNumber`): surrounding white
/// space ignored, empty is 0, decimal literals with an optional sign,
/// `Infinity`, and unsigned `0x`, `0o`, `0b` integers; anything else is NaN.
pub fn string_to_number(s: &str) -> f64 {
    let t = s.trim_matches(is_js_space);
    if t.is_empty() {
        return 0.0;
    }
    let radix = match t.get(..2) {
        Some("0x" | "0X") => 16,
        Some("0o" | "0O") => 8,
        Some("0b" | "0B") => 2,
        _ => 10,
    };
    if radix != 10 {
        return radix_integer(t.get(2..).unwrap_or(""), radix);
    }
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    if unsigned == "Infinity" {
        return if t.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    if !is_decimal_literal(unsigned) {
        return f64::NAN;
    }
    t.parse::<f64>().unwrap_or(f64::NAN)
}

/// `digits ["." digits] [exp]` or `"." digits [exp]`, with at least one digit
/// in the mantissa, as `StrUnsignedDecimalLiteral` (no `inf`, `nan`, `_`).
fn is_decimal_literal(s: &str) -> bool {
    let (mantissa, exp) = match s.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (s, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = all_digits(int) && all_digits(frac) && !(int.is_empty() && frac.is_empty());
    let exp_ok = exp.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && all_digits(e)
    });
    mantissa_ok && exp_ok
}

/// An unsigned integer in `radix`; NaN when empty or not all digits.
/// Exact up to 128 bits; longer ones are accumulated in floating point.
fn radix_integer(digits: &str, radix: u32) -> f64 {
    if digits.is_empty() {
        return f64::NAN;
    }
    let mut exact: Option<u128> = Some(0);
    let mut approx = 0.0_f64;
    for c in digits.chars() {
        let Some(d) = c.to_digit(radix) else {
            return f64::NAN;
        };
        exact = exact
            .and_then(|v| v.checked_mul(u128::from(radix)))
            .and_then(|v| v.checked_add(u128::from(d)));
        approx = approx * f64::from(radix) + f64::from(d);
    }
    exact.map_or(approx, |v| v as f64)
}

/// ECMAScript `WhiteSpace` and `LineTerminator` (what `String.prototype.trim`
/// removes): not quite Rust's `char::is_whitespace` (U+FEFF in, U+0085 out).
fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202F}'
                | '\u{205F}'
                | '\u{3000}'
                | '\u{FEFF}'
    )
}

/// `JSON.stringify(v)`, compact: the reference's request body. Numbers are
/// written in JavaScript form (`1e+21`, `1152921504606847000`), strings
/// escaped as `JSON.stringify` does (only `"`, `\` and control characters;
/// `/` and non-ASCII raw), keys in the value's order.
pub fn stringify(v: &Value) -> String {
    let mut out = String::new();
    write_json(v, &mut out);
    out
}

fn write_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match n.as_f64().filter(|f| f.is_finite()) {
            Some(f) => out.push_str(&number_to_string(f)),
            None => out.push_str("null"),
        },
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                write_json(item, out);
            }
            out.push('}');
        }
    }
}

/// serde_json escapes strings exactly as `JSON.stringify` does (lower-case
/// `\u00xx`, short forms for `\b \f \n \r \t`).
fn write_string(s: &str, out: &mut String) {
    match serde_json::to_string(s) {
        Ok(quoted) => out.push_str(&quoted),
        Err(_) => out.push_str("\"\""),
    }
}

#[cfg(test)]
#[path = "tests/js.rs"]
mod tests;
