//! Tests of [`super`]: the URL table of XAPI.md §9 row by row, credential
//! resolution, and what `Debug` shows.

use serde_json::{json, Value};

use super::*;

const KEY: &[u8] = b"server secret";

#[test]
fn the_statements_url_follows_the_reference_table() {
    let rows = [
        ("http://h", "http://h/xAPI/statements"),
        ("http://h/", "http://h/xAPI/statements"),
        ("http://h/lrs", "http://h/xAPI/statements"),
        ("http://h/lrs/", "http://h/lrs/xAPI/statements"),
        ("http://h/data/xAPI", "http://h/xAPI/statements"),
        ("http://h/data/xAPI/", "http://h/xAPI/statements"),
        ("http://h/xapi/statements/", "http://h/xAPI/statements"),
        ("http://h/a/b/XAPI/Statements", "http://h/a/xAPI/statements"),
        ("http://h/lrs/xapi/", "http://h/xAPI/statements"),
        ("http://h/lrs/statements", "http://h/lrs/xAPI/statements"),
        (
            "http://h/lrs/xapi/statements?x=1",
            "http://h/lrs/xapi/xAPI/statements",
        ),
        ("http://h/tenant1/", "http://h/tenant1/xAPI/statements"),
        (
            "http://h/tenant2/xapi/statements",
            "http://h/xAPI/statements",
        ),
    ];
    for (endpoint, want) in rows {
        assert_eq!(
            statements_url(endpoint).as_deref(),
            Some(want),
            "{endpoint}"
        );
    }
}

#[test]
fn url_edge_cases_follow_whatwg_and_the_pattern() {
    let rows = [
        // Every form the pattern strips.
        (
            "https://h/p/q/XAPISTATEMENTS",
            "https://h/p/xAPI/statements",
        ),
        (
            "https://h/p/q/xapistatements/",
            "https://h/p/xAPI/statements",
        ),
        ("https://h/p/q/xapi//", "https://h/p/xAPI/statements"),
        // Only one suffix, and only at the very end.
        ("http://h/xapi/xapi", "http://h/xAPI/statements"),
        ("http://h/a/xapi/xapi/", "http://h/a/xAPI/statements"),
        ("http://h/lrs/xapi#frag", "http://h/lrs/xAPI/statements"),
        ("http://h/lrs/xapiX", "http://h/lrs/xAPI/statements"),
        // WHATWG serialization: host case, default port, spaces, IDNA.
        (
            "HTTP://LRS.Example.COM:80/t/",
            "http://lrs.example.com/t/xAPI/statements",
        ),
        ("https://h:8443/t/", "https://h:8443/t/xAPI/statements"),
        ("  http://h/t/  ", "http://h/t/xAPI/statements"),
        (
            "http://bücher.example/",
            "http://xn--bcher-kva.example/xAPI/statements",
        ),
        ("http://h/a b/", "http://h/a%20b/xAPI/statements"),
        ("http://h/a/../b/", "http://h/b/xAPI/statements"),
    ];
    for (endpoint, want) in rows {
        assert_eq!(
            statements_url(endpoint).as_deref(),
            Some(want),
            "{endpoint}"
        );
    }
    let refused = [
        "",
        "h/xapi",
        "/lrs/xapi",
        "lrs.example.com",
        "ftp://h/",
        "file:///tmp/",
        "data:text/plain,x",
        "mailto:a@b",
        "http://user:pass@h/",
        "http://user@h/",
        "http://h:99999/",
        "http://xapi",
        "http://",
        "not a url",
    ];
    for endpoint in refused {
        assert_eq!(statements_url(endpoint), None, "{endpoint:?}");
    }
}

fn payload(fields: Value) -> LrsPayload {
    let get = |k: &str| fields.get(k).cloned();
    LrsPayload {
        endpoint: get("lrs_endpoint"),
        token: get("lrs_token"),
        username: get("lrs_username"),
        password: get("lrs_password"),
    }
}

fn config(
    endpoint: Option<&str>,
    user: Option<&str>,
    pass: Option<&str>,
    token: Option<&str>,
) -> LrsDefaults {
    let own = |v: Option<&str>| v.map(str::to_owned);
    LrsDefaults {
        endpoint: own(endpoint),
        username: own(user),
        password: own(pass),
        token: own(token),
    }
}

fn resolve(p: Option<Value>, c: &LrsDefaults) -> Result<(String, String), Unroutable> {
    let p = p.map(payload);
    destination(p.as_ref(), c, KEY).map(|d| (d.url().to_owned(), d.authorization().to_owned()))
}

fn basic_of(pair: &str) -> String {
    format!("Basic {}", base64::encode(pair.as_bytes()))
}

#[test]
fn payload_fields_win_and_fall_back_to_the_configuration() {
    let c = config(
        Some("https://lrs.example.com"),
        Some("user"),
        Some("pass"),
        None,
    );
    let url = |host: &str| format!("https://{host}/xAPI/statements");
    let cases = [
        (None, url("lrs.example.com"), basic_of("user:pass")),
        (
            Some(json!({"lrs_endpoint": "https://t1.example.com", "lrs_token": "AAF32423SDF5345"})),
            url("t1.example.com"),
            "Bearer AAF32423SDF5345".to_owned(),
        ),
        (
            Some(
                json!({"lrs_endpoint": "https://t2.example.com/", "lrs_username": "u", "lrs_password": "p"}),
            ),
            url("t2.example.com"),
            basic_of("u:p"),
        ),
        // The token wins over the payload's own username and password.
        (
            Some(json!({"lrs_token": "T", "lrs_username": "u", "lrs_password": "p"})),
            url("lrs.example.com"),
            "Bearer T".to_owned(),
        ),
        // A falsy endpoint or username falls back, field by field.
        (
            Some(json!({"lrs_endpoint": "", "lrs_username": 0, "lrs_password": "p"})),
            url("lrs.example.com"),
            basic_of("user:p"),
        ),
        // Values that are not strings are written as JavaScript would.
        (
            Some(json!({"lrs_token": 12.50})),
            url("lrs.example.com"),
            "Bearer 12.5".to_owned(),
        ),
        (
            Some(json!({"lrs_username": 7, "lrs_password": true})),
            url("lrs.example.com"),
            basic_of("7:true"),
        ),
    ];
    for (p, want_url, want_auth) in cases {
        assert_eq!(resolve(p.clone(), &c), Ok((want_url, want_auth)), "{p:?}");
    }
}

#[test]
fn missing_parts_are_undefined_and_the_configured_token_serves_meetings_without_payload() {
    let bare = config(Some("http://lrs"), None, None, None);
    assert_eq!(
        resolve(None, &bare).map(|r| r.1),
        Ok(basic_of("undefined:undefined"))
    );
    let user_only = config(Some("http://lrs"), Some("user"), Some(""), None);
    assert_eq!(
        resolve(None, &user_only).map(|r| r.1),
        Ok(basic_of("user:"))
    );
    let with_token = config(Some("http://lrs"), Some("user"), Some("pass"), Some("CONF"));
    assert_eq!(
        resolve(None, &with_token).map(|r| r.1),
        Ok("Bearer CONF".to_owned())
    );
    let tenant = json!({"lrs_endpoint": "http://tenant", "lrs_username": "u", "lrs_password": "p"});
    assert_eq!(
        resolve(Some(tenant), &with_token).map(|r| r.1),
        Ok(basic_of("u:p")),
        "not the config's token"
    );
    let empty_token = config(Some("http://lrs"), Some("user"), Some("pass"), Some(""));
    assert_eq!(
        resolve(None, &empty_token).map(|r| r.1),
        Ok(basic_of("user:pass"))
    );
    assert_eq!(
        basic(Some(&json!("tenant2")), Some(&json!("p@ss:wörd"))),
        "Basic dGVuYW50MjpwQHNzOnfDtnJk"
    );
}

#[test]
fn no_usable_endpoint_or_header_means_no_destination() {
    let none = LrsDefaults::default();
    assert_eq!(resolve(None, &none), Err(Unroutable::NoEndpoint));
    assert_eq!(
        resolve(Some(json!({"lrs_token": "t"})), &none),
        Err(Unroutable::NoEndpoint)
    );
    assert_eq!(
        resolve(Some(json!({"lrs_endpoint": 5, "lrs_token": "t"})), &none),
        Err(Unroutable::NoEndpoint)
    );
    let c = config(Some("http://lrs"), None, None, None);
    assert_eq!(
        resolve(Some(json!({"lrs_endpoint": ["x"], "lrs_token": "t"})), &c),
        Err(Unroutable::NoEndpoint)
    );
    assert_eq!(
        resolve(Some(json!({"lrs_endpoint": "lrs", "lrs_token": "t"})), &c),
        Err(Unroutable::BadEndpoint)
    );
    assert_eq!(
        resolve(None, &config(Some(""), None, None, None)),
        Err(Unroutable::BadEndpoint)
    );
    assert_eq!(
        resolve(Some(json!({"lrs_token": "a\r\nX-Evil: 1"})), &c),
        Err(Unroutable::BadCredentials)
    );
    assert_eq!(
        resolve(Some(json!({"lrs_token": "€"})), &c),
        Err(Unroutable::BadCredentials)
    );
    assert!(
        resolve(Some(json!({"lrs_token": "café\t"})), &c).is_ok(),
        "Latin-1 and tabs are valid"
    );
    for e in [
        Unroutable::NoEndpoint,
        Unroutable::BadEndpoint,
        Unroutable::BadCredentials,
    ] {
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn ids_are_stable_distinct_and_keyed() {
    let c = config(Some("https://lrs"), Some("u"), Some("p1"), None);
    let a = destination(None, &c, KEY).expect("routable");
    assert_eq!(a, destination(None, &c, KEY).expect("routable"));
    assert_eq!(a.id().len(), 32);
    assert!(a.id().bytes().all(|b| b.is_ascii_hexdigit()));
    let other_password = config(Some("https://lrs"), Some("u"), Some("p2"), None);
    assert_ne!(
        a.id(),
        destination(None, &other_password, KEY)
            .expect("routable")
            .id()
    );
    let other_url = config(Some("https://lrs/t/"), Some("u"), Some("p1"), None);
    assert_ne!(
        a.id(),
        destination(None, &other_url, KEY).expect("routable").id()
    );
    assert_ne!(
        a.id(),
        destination(None, &c, b"another secret")
            .expect("routable")
            .id()
    );
}

#[test]
fn debug_never_shows_credentials() {
    let c = config(
        Some("https://lrs"),
        Some("the-user"),
        Some("the-password"),
        Some("the-token"),
    );
    let shown = format!("{c:?}");
    assert!(shown.contains("https://lrs"), "{shown}");
    for secret in ["the-user", "the-password", "the-token"] {
        assert!(!shown.contains(secret), "{shown}");
    }
    let odd = config(Some("https://u:pw@lrs/x?key=k3y"), None, None, None);
    let shown = format!("{odd:?}");
    assert!(shown.contains("https://***@lrs/x?…"), "{shown}");
    assert!(!shown.contains("pw") && !shown.contains("k3y"), "{shown}");
    let d = destination(None, &c, KEY).expect("routable");
    let shown = format!("{d:?}");
    assert!(
        shown.contains("https://lrs/xAPI/statements") && shown.contains(d.id()),
        "{shown}"
    );
    assert!(
        !shown.contains("the-token") && !shown.contains("Bearer"),
        "{shown}"
    );
}
