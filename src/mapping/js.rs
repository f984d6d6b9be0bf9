//! Value helpers with the reference application's JavaScript semantics
//! (optional chaining, `||`, `??`, truthiness), so that presence rules match:
//! a field the reference reads as `undefined` is omitted, `null` stays `null`.
//! No mapping decisions live here.

use serde_json::{Map, Value};

/// Follows `path` through nested objects, like `a?.b?.c`; `None` is `undefined`.
pub(crate) fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, key| cur.get(*key))
}

/// The string at `path`, if it is one.
pub(crate) fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(v, path).and_then(Value::as_str)
}

/// JavaScript truthiness.
pub(crate) fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// `a || b || c`: the first truthy operand, else the last one as it is
/// (which may be `undefined`, i.e. `None`, or a falsy value).
pub(crate) fn or<'a>(operands: &[Option<&'a Value>]) -> Option<&'a Value> {
    operands
        .iter()
        .copied()
        .find(|o| o.is_some_and(truthy))
        .unwrap_or_else(|| operands.last().copied().flatten())
}

/// `a ?? b`: `a` unless it is `null` or `undefined`.
pub(crate) fn coalesce<'a>(a: Option<&'a Value>, b: Option<&'a Value>) -> Option<&'a Value> {
    match a {
        Some(v) if !v.is_null() => Some(v),
        _ => b,
    }
}

/// Sets `key` when `value` is defined (`null` included), as `JSON.stringify`
/// keeps `null` and drops `undefined`.
pub(crate) fn put(obj: &mut Map<String, Value>, key: &str, value: Option<&Value>) {
    if let Some(v) = value {
        obj.insert(key.to_owned(), v.clone());
    }
}

/// `true` or `"true"`, the reference's test for stored flags.
pub(crate) fn flag(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::Bool(true))) || matches!(v, Some(Value::String(s)) if s == "true")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn truthiness_follows_javascript() {
        let cases = [
            (json!(null), false),
            (json!(false), false),
            (json!(0), false),
            (json!(0.0), false),
            (json!(""), false),
            (json!(true), true),
            (json!(-1), true),
            (json!("0"), true),
            (json!([]), true),
            (json!({}), true),
        ];
        for (v, want) in cases {
            assert_eq!(truthy(&v), want, "{v}");
        }
    }

    #[test]
    fn or_returns_first_truthy_else_last_operand() {
        let (a, b, z) = (json!("a"), json!(null), json!(""));
        assert_eq!(or(&[None, Some(&a)]), Some(&a));
        assert_eq!(or(&[Some(&z), Some(&b)]), Some(&b));
        assert_eq!(or(&[Some(&b), None]), None);
        assert_eq!(or(&[]), None);
    }

    #[test]
    fn coalesce_skips_null_and_undefined_only() {
        let (f, n, t) = (json!(false), json!(null), json!(true));
        assert_eq!(coalesce(Some(&f), Some(&t)), Some(&f));
        assert_eq!(coalesce(Some(&n), Some(&t)), Some(&t));
        assert_eq!(coalesce(None, None), None);
    }

    #[test]
    fn path_lookup_never_panics_on_wrong_types() {
        let v = json!({"a": {"b": [1]}, "s": "x"});
        assert_eq!(at(&v, &["a", "b"]), Some(&json!([1])));
        assert_eq!(at(&v, &["a", "b", "c"]), None);
        assert_eq!(at(&v, &["s", "t"]), None);
        assert_eq!(str_at(&v, &["s"]), Some("x"));
        assert!(flag(Some(&json!("true"))) && !flag(Some(&json!("yes"))));
    }
}
