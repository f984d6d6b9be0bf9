//! Tests of [`super`]: expected values are what Node 22 prints for the same
//! expressions.

use serde_json::{json, Value};

use super::*;

#[test]
fn truthiness_follows_javascript() {
    let falsy = [json!(null), json!(false), json!(0), json!(0.0), json!("")];
    let truthy_values = [
        json!(true),
        json!(-1),
        json!("0"),
        json!("false"),
        json!([]),
        json!({}),
    ];
    assert!(!truthy(None));
    for v in falsy {
        assert!(!truthy(Some(&v)), "{v}");
    }
    for v in truthy_values {
        assert!(truthy(Some(&v)), "{v}");
    }
}

#[test]
fn loose_equality_with_booleans_follows_javascript() {
    // (value, v == true, v == false), from Node.
    let cases: Vec<(Option<Value>, bool, bool)> = vec![
        (Some(json!(true)), true, false),
        (Some(json!(false)), false, true),
        (Some(json!(1)), true, false),
        (Some(json!(0)), false, true),
        (Some(json!(-0.0)), false, true),
        (Some(json!(2)), false, false),
        (Some(json!("1")), true, false),
        (Some(json!("1.0")), true, false),
        (Some(json!(" 1 ")), true, false),
        (Some(json!("0x1")), true, false),
        (Some(json!("true")), false, false),
        (Some(json!("false")), false, false),
        (Some(json!("0")), false, true),
        (Some(json!("")), false, true),
        (Some(json!("  ")), false, true),
        (Some(json!(null)), false, false),
        (None, false, false),
        (Some(json!([])), false, true),
        (Some(json!([1])), true, false),
        (Some(json!([0])), false, true),
        (Some(json!([[]])), false, true),
        (Some(json!({})), false, false),
    ];
    for (v, eq_true, eq_false) in cases {
        assert_eq!(loose_eq_true(v.as_ref()), eq_true, "{v:?} == true");
        assert_eq!(loose_eq_false(v.as_ref()), eq_false, "{v:?} == false");
    }
}

#[test]
fn numbers_print_as_javascript_string_does() {
    let cases: &[(f64, &str)] = &[
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (-1.0, "-1"),
        (90.0, "90"),
        (100.0, "100"),
        (1.5, "1.5"),
        (0.5, "0.5"),
        (-5.0, "-5"),
        (0.1 + 0.2, "0.30000000000000004"),
        (3723.456, "3723.456"),
        (9609998.017, "9609998.017"),
        (1e20, "100000000000000000000"),
        (123456789012345680000.0, "123456789012345680000"),
        (1e21, "1e+21"),
        (1e300, "1e+300"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (9007199254740992.0, "9007199254740992"),
        (1152921504606846976.0, "1152921504606847000"),
        (18446744073709551615.0, "18446744073709552000"),
        (1e-6, "0.000001"),
        (0.000001234, "0.000001234"),
        (1e-7, "1e-7"),
        (-1e-7, "-1e-7"),
        (1.5e-7, "1.5e-7"),
        (123e-20, "1.23e-18"),
        (5e-324, "5e-324"),
        (f64::NAN, "NaN"),
        (f64::INFINITY, "Infinity"),
        (f64::NEG_INFINITY, "-Infinity"),
    ];
    for (x, want) in cases {
        assert_eq!(number_to_string(*x), *want, "{x:e}");
    }
}

#[test]
fn strings_convert_to_numbers_as_javascript_number_does() {
    let nan = f64::NAN;
    let cases: &[(&str, f64)] = &[
        ("", 0.0),
        ("  ", 0.0),
        (" 1 ", 1.0),
        ("+1", 1.0),
        ("-1", -1.0),
        ("1.", 1.0),
        ("1.5", 1.5),
        (".5", 0.5),
        ("-.5e-3", -0.0005),
        ("1e3", 1000.0),
        ("1E+3", 1000.0),
        ("00012", 12.0),
        ("0.0", 0.0),
        ("\u{A0} 7 \u{FEFF}", 7.0),
        ("\t\n\r 3\u{2028}", 3.0),
        ("0x10", 16.0),
        ("0X1f", 31.0),
        ("0o17", 15.0),
        ("0b101", 5.0),
        ("0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", 3.402823669209385e38),
        ("12345678901234567890", 12345678901234567000.0),
        ("Infinity", f64::INFINITY),
        ("+Infinity", f64::INFINITY),
        ("-Infinity", f64::NEG_INFINITY),
        ("1e", nan),
        ("e5", nan),
        (".", nan),
        ("+.", nan),
        (".e1", nan),
        ("-0x10", nan),
        ("0x", nan),
        ("0x1g", nan),
        ("infinity", nan),
        ("inf", nan),
        ("NaN", nan),
        ("1_000", nan),
        ("\u{85} 7", nan),
        ("1 2", nan),
        ("true", nan),
    ];
    for (s, want) in cases {
        let got = string_to_number(s);
        assert!(
            got == *want || (got.is_nan() && want.is_nan()),
            "Number({s:?}) = {got}, want {want}"
        );
    }
    assert!(string_to_number("-0").is_sign_negative());
}

#[test]
fn values_convert_as_javascript_string_and_number_do() {
    let v = json!([1, null, [2, 3], "a", {}, true, 1.5]);
    assert_eq!(to_string(Some(&v)), "1,,2,3,a,[object Object],true,1.5");
    assert_eq!(to_string(Some(&json!({"a": 1}))), "[object Object]");
    assert_eq!(to_string(None), "undefined");
    assert_eq!(to_string(Some(&json!(null))), "null");
    assert_eq!(
        to_string(Some(&json!(12345678901234567890_u64))),
        "12345678901234567000"
    );
    assert_eq!(join(&[json!(null), json!(1.5), json!("x")], ","), ",1.5,x");
    assert_eq!(to_number(Some(&json!([5]))), 5.0);
    assert_eq!(to_number(Some(&json!([]))), 0.0);
    assert!(to_number(Some(&json!([1, 2]))).is_nan());
    assert!(to_number(Some(&json!({}))).is_nan());
    assert!(to_number(None).is_nan());
    assert_eq!(to_number(Some(&json!(null))), 0.0);
    assert_eq!(to_number(Some(&json!(true))), 1.0);
}

#[test]
fn stringify_matches_json_stringify() {
    let v = json!({"a": "\u{0}\u{1}\u{8}\u{c}\n\r\t\u{1f}\u{7f}\"\\/é\u{2028}😀", "b": [1.0, -0.0, 1e21, null, true], "c": {}});
    // What Node writes for the same object.
    let want = "{\"a\":\"\\u0000\\u0001\\b\\f\\n\\r\\t\\u001f\u{7f}\\\"\\\\/é\u{2028}😀\",\
                \"b\":[1,0,1e+21,null,true],\"c\":{}}";
    assert_eq!(stringify(&v), want);
    assert_eq!(
        stringify(&json!(18446744073709551615_u64)),
        "18446744073709552000"
    );
}

#[test]
fn printed_numbers_read_back_exactly() {
    // xorshift over the bit patterns of f64: every finite value round-trips.
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..20_000 {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        let x = f64::from_bits(s);
        if !x.is_finite() {
            continue;
        }
        let text = number_to_string(x);
        assert_eq!(text.parse::<f64>().ok(), Some(x), "{x:e} printed {text}");
        assert_eq!(string_to_number(&text), x, "{text}");
    }
}
