//! Tests of [`super`] against payloads made once with OpenSSL 3.0 and pasted
//! here (so the tests need no `openssl`), with the secret of the
//! reference's README example.

use serde_json::{json, Map};

use super::*;

const SECRET: &str = "bab3fd92bcd7d464";

/// `echo -n '{"lrs_endpoint": "https://lrs1.example.com", "lrs_token":
/// "AAF32423SDF5345"}' | openssl enc -aes-256-cbc -pbkdf2 -a -A -pass pass:$SECRET`
const TOKEN: &str = "U2FsdGVkX1/KGd8uA3X1W70kq8u4FdJKEULl5czL+SHvXtzGq5xsY9kQWerrFf9x8eol7H8a9YbnSsuslvvPWGNUSoP9QaK8wV5Uc6M978GA9CV2xDHavQajY0APy9mf";

/// `echo -n '{"lrs_endpoint":"https://lrs2.example.com/tenant2/xapi/",
/// "lrs_username":"tenant2","lrs_password":"p@ss:wörd"}' | openssl enc
/// -aes-256-cbc -pbkdf2 -a -pass pass:$SECRET` (no `-A`: 64-column lines).
const BASIC_MULTILINE: &str = "U2FsdGVkX19UNWtQhnXxfj5mY0ml6ApwOGt3dwoNiyl6+ZIQBkmqejxY1sBlfqzX
ftTheTKzg0c8LGGjJze8jGHvAus5p5tt8h7He7w4YHqJs4fw1aFjDDQ/esC09bYc
eaWKLPK60Hsi7bgQtQkpfXSY2GiG1ElBlWdGYMCAJJU=
";

/// `hello, not json`, same command with `-A`.
const NOT_JSON: &str = "U2FsdGVkX1/gXwcy9yTZYA7rT2o0t6lYLm4NouDlyqI=";
/// `{"lrs_endpoint":"https://lrs3.example.com"}`: no credentials.
const NO_CREDENTIALS: &str =
    "U2FsdGVkX18oIs4Ti4zPkNAGVS8jpwQ3CSLrIsUszEBVpXRqI+HLwxx0+YSi2kw/RCoWgdTptY47+iugap3mDA==";
/// `null`.
const NULL: &str = "U2FsdGVkX1/ghbRe9l6izIl1oKHE2mMCSlPJ+1ju0EU=";
/// `{"lrs_token":"T0KEN"}`: no endpoint, which is optional.
const TOKEN_ONLY: &str = "U2FsdGVkX1+yYOU+NDGkIxNx12a6Q+uKTU2WehogIlvbyRH5F8oaH50tjvXykn9P";
/// The empty text.
const EMPTY: &str = "U2FsdGVkX1+d6uLe1W/NG60f/CAGR0ZJVV6HQaRk6xg=";

#[test]
fn openssl_payloads_open_into_credentials() {
    let token = open(TOKEN, SECRET).expect("valid");
    assert_eq!(token.endpoint, Some(json!("https://lrs1.example.com")));
    assert_eq!(token.token, Some(json!("AAF32423SDF5345")));
    assert_eq!((token.username, token.password), (None, None));

    let basic = open(BASIC_MULTILINE, SECRET).expect("multi-line base64 is accepted");
    assert_eq!(
        basic.endpoint,
        Some(json!("https://lrs2.example.com/tenant2/xapi/"))
    );
    assert_eq!(basic.username, Some(json!("tenant2")));
    assert_eq!(basic.password, Some(json!("p@ss:wörd")));
    assert_eq!(basic.token, None);

    let only = open(TOKEN_ONLY, SECRET).expect("the endpoint is optional");
    assert_eq!((only.endpoint, only.token), (None, Some(json!("T0KEN"))));
}

#[test]
fn bad_payloads_say_why_without_showing_anything() {
    assert_eq!(
        open(TOKEN, "wrong secret"),
        Err(PayloadError::Undecryptable)
    );
    assert_eq!(open(NOT_JSON, SECRET), Err(PayloadError::NotJson));
    assert_eq!(
        open(NO_CREDENTIALS, SECRET),
        Err(PayloadError::NoCredentials)
    );
    assert_eq!(open(NULL, SECRET), Err(PayloadError::NoCredentials));
    assert_eq!(open(EMPTY, SECRET), Err(PayloadError::NotJson));
    assert_eq!(decrypt(EMPTY, SECRET).as_deref(), Ok(""));
    for short in [
        "",
        "U2FsdGVkX18=",
        "U2FsdGVkX1/KGd8uA3X1Ww==",
        "not base64 at all!",
    ] {
        assert_eq!(
            open(short, SECRET),
            Err(PayloadError::Undecryptable),
            "{short:?}"
        );
    }
    // A ciphertext that is not whole blocks.
    let cut = &TOKEN[..TOKEN.len() - 4];
    assert_eq!(open(cut, SECRET), Err(PayloadError::Undecryptable));
    for e in [
        PayloadError::Undecryptable,
        PayloadError::NotJson,
        PayloadError::NoCredentials,
    ] {
        let text = format!("{e} {e:?}");
        assert!(
            !text.contains(SECRET) && !text.contains("AAF32423"),
            "{text}"
        );
    }
    let shown = format!("{:?}", open(TOKEN, SECRET));
    assert!(
        !shown.contains("AAF32423") && !shown.contains("lrs1"),
        "{shown}"
    );
    assert!(
        shown.contains("token: \"<set>\"") && shown.contains("username: \"<none>\""),
        "{shown}"
    );
}

#[test]
fn the_salted_header_is_not_checked_and_base64_is_lenient() {
    let mut raw = base64::decode_lenient(TOKEN);
    raw[..8].copy_from_slice(b"NotSalty");
    let text = base64::encode(&raw);
    assert!(open(&text, SECRET).is_ok(), "any 8 header bytes");
    // URL-safe alphabet, spaces and junk, text after the padding.
    let mangled: String = TOKEN.replace('+', "-").replace('/', "_");
    let noisy = format!(" \t{}\r\n*{}== trailing", &mangled[..40], &mangled[40..]);
    assert!(open(&noisy, SECRET).is_ok());
}

#[test]
fn validation_follows_javascript_truthiness() {
    let secret = "s3cr3t";
    let seal = |plain: &str| encrypt_with_salt(plain, secret, *b"saltsalt");
    let valid = [
        r#"{"lrs_token": "t"}"#,
        r#"{"lrs_token": 1}"#,
        r#"{"lrs_token": []}"#,
        r#"{"lrs_username": "u", "lrs_password": "p"}"#,
        r#"{"lrs_token": "", "lrs_username": "u", "lrs_password": {}}"#,
        "  {\"lrs_token\": \"t\", \"other\": 1}\n",
    ];
    for plain in valid {
        assert!(open(&seal(plain), secret).is_ok(), "{plain}");
    }
    let invalid = [
        r#"{"lrs_token": ""}"#,
        r#"{"lrs_token": 0}"#,
        r#"{"lrs_token": null}"#,
        r#"{"lrs_username": "u"}"#,
        r#"{"lrs_username": "u", "lrs_password": ""}"#,
        r#"{"lrs_username": false, "lrs_password": "p"}"#,
        "[]",
        "5",
        r#""lrs_token""#,
        "{}",
    ];
    for plain in invalid {
        assert_eq!(
            open(&seal(plain), secret),
            Err(PayloadError::NoCredentials),
            "{plain}"
        );
    }
    assert_eq!(open(&seal("{"), secret), Err(PayloadError::NotJson));
    // Invalid UTF-8 is replaced, then the JSON is read.
    let mut bytes = br#"{"lrs_token": "t"#.to_vec();
    bytes.extend([0xff, b'"', b'}']);
    let sealed = encrypt_with_salt(&bytes, secret, *b"saltsalt");
    assert_eq!(
        open(&sealed, secret).map(|p| p.token),
        Ok(Some(json!("t\u{fffd}")))
    );
}

#[test]
fn encryption_is_openssl_compatible_and_round_trips() {
    // `echo -n '{"lrs_token":"T0KEN"}' | openssl enc -aes-256-cbc -pbkdf2 -a -A
    // -pass pass:$SECRET -S <salt>` with the salt of TOKEN_ONLY gives TOKEN_ONLY.
    let raw = base64::decode_lenient(TOKEN_ONLY);
    let salt: [u8; 8] = raw[8..16].try_into().expect("8 bytes");
    assert_eq!(
        encrypt_with_salt(r#"{"lrs_token":"T0KEN"}"#, SECRET, salt),
        TOKEN_ONLY
    );
    for plain in [
        "",
        "x",
        "exactly sixteen!",
        "a longer text of more than two blocks, é and 😀",
    ] {
        let sealed = encrypt(plain, SECRET).expect("/dev/urandom");
        assert!(
            sealed.starts_with("U2FsdGVkX1"),
            "Salted__ header: {sealed}"
        );
        assert!(!sealed.contains('\n'));
        assert_eq!(decrypt(&sealed, SECRET).as_deref(), Ok(plain));
        assert_ne!(
            encrypt(plain, SECRET).ok(),
            Some(sealed),
            "a fresh salt each time"
        );
    }
    let payload = LrsPayload {
        endpoint: Some(json!("https://lrs.example.com/")),
        token: None,
        username: Some(json!("u")),
        password: Some(json!("p")),
    };
    let sealed = encrypt(&payload_json(&payload), SECRET).expect("/dev/urandom");
    assert_eq!(open(&sealed, SECRET), Ok(payload));
}

/// A payload as JSON text, as a tenant's `lrs_*` fields would be written.
fn payload_json(payload: &LrsPayload) -> String {
    let mut obj = Map::new();
    let fields = [
        ("lrs_endpoint", &payload.endpoint),
        ("lrs_token", &payload.token),
        ("lrs_username", &payload.username),
        ("lrs_password", &payload.password),
    ];
    for (key, value) in fields {
        if let Some(v) = value {
            obj.insert(key.to_owned(), v.clone());
        }
    }
    Value::Object(obj).to_string()
}
