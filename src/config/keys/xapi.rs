//! The xAPI keys of the key table (issue 14, docs/xapi.md): turning the
//! output on, the configured LRS and its credentials, and the namespace of
//! every identifier. Declared here, listed in `TABLE` with the others; that
//! a namespace is set when xAPI is on is checked by `Config`.

use super::super::parse::{boolean, optional, optional_text, whole, Key};
use super::super::Secret;
use crate::xapi::lrs::statements_url;
use crate::xapi::Namespace;

pub const XAPI_ENABLED: Key<bool> = Key {
    name: "BBB_WEBHOOKS_XAPI_ENABLED",
    default: "false",
    help: "send xAPI statements of meetings to a Learning Record Store (see docs/xapi.md)",
    expects: "true or false",
    parse: boolean,
};

/// Kept as given: each meeting's statements URL is derived from it.
pub const XAPI_LRS_URL: Key<Option<String>> = Key {
    name: "BBB_WEBHOOKS_XAPI_LRS_URL",
    default: "",
    help: "LRS of the meetings whose secret-lrs-payload names none; statements go to its xAPI/statements; unset: only meetings with their own LRS send",
    expects: "an absolute http(s) URL without a user or password",
    parse: |s| match optional(s) {
        None => Ok(None),
        Some(url) => whole(s, statements_url(url).map(|_| Some(url.to_owned()))),
    },
};

pub const XAPI_LRS_USERNAME: Key<Option<String>> = Key {
    name: "BBB_WEBHOOKS_XAPI_LRS_USERNAME",
    default: "",
    help: "user name of Basic authentication with the LRS, also for a payload without one",
    expects: "a user name",
    parse: optional_text,
};

pub const XAPI_LRS_PASSWORD: Key<Option<Secret>> = Key {
    name: "BBB_WEBHOOKS_XAPI_LRS_PASSWORD",
    default: "",
    help: "password of Basic authentication with the LRS, also for a payload without one",
    expects: "a password",
    parse: |s| Ok(optional(s).map(Secret::new)),
};

/// Sent in a header: only characters a header value carries (Latin-1 ones
/// go as single bytes, as the reference sends them).
pub const XAPI_LRS_TOKEN: Key<Option<Secret>> = Key {
    name: "BBB_WEBHOOKS_XAPI_LRS_TOKEN",
    default: "",
    help: "bearer token of the configured LRS, for meetings without a payload; wins over user name and password",
    expects: "a token of printable characters",
    parse: |s| {
        let printable = |c: char| (' '..='~').contains(&c) || ('\u{a0}'..='\u{ff}').contains(&c);
        whole(
            s,
            Some(optional(s).map(Secret::new)).filter(|_| s.chars().all(printable)),
        )
    },
};

pub const XAPI_UUID_NAMESPACE: Key<Option<Namespace>> = Key {
    name: "BBB_WEBHOOKS_XAPI_UUID_NAMESPACE",
    default: "",
    help: "namespace of every xAPI identifier, any UUID (the Node.js module's uuid_namespace); required when xAPI is on",
    expects: "a UUID like 01234567-89ab-cdef-0123-456789abcdef",
    parse: |s| match optional(s) {
        None => Ok(None),
        Some(ns) => Namespace::parse(ns).map(Some).map_err(|_| s),
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lrs_url_must_give_a_statements_url() {
        assert_eq!((XAPI_LRS_URL.parse)(""), Ok(None));
        let url = "https://lrs.example.com/data/xAPI";
        assert_eq!((XAPI_LRS_URL.parse)(url), Ok(Some(url.to_owned())));
        for bad in ["lrs.example.com", "ftp://lrs/", "https://u:p@lrs/"] {
            assert_eq!((XAPI_LRS_URL.parse)(bad), Err(bad), "{bad}");
        }
    }

    #[test]
    fn any_uuid_is_a_namespace_even_the_reference_default() {
        let ns = (XAPI_UUID_NAMESPACE.parse)("01234567-89ab-cdef-0123-456789abcdef");
        assert!(matches!(ns, Ok(Some(_))));
        assert_eq!((XAPI_UUID_NAMESPACE.parse)(""), Ok(None));
        assert_eq!((XAPI_UUID_NAMESPACE.parse)("nope"), Err("nope"));
    }

    #[test]
    fn credentials_are_secrets_and_a_token_fits_a_header() {
        let token = (XAPI_LRS_TOKEN.parse)("abc.DEF-123 é").expect("a token");
        let token = token.map(|t| t.expose().to_owned());
        assert_eq!(token.as_deref(), Some("abc.DEF-123 é"));
        for bad in ["a\u{7f}b", "a\tb", "€"] {
            assert_eq!((XAPI_LRS_TOKEN.parse)(bad).map(|_| ()), Err(bad), "{bad:?}");
        }
        let password = (XAPI_LRS_PASSWORD.parse)("pw").expect("a password");
        assert!(!format!("{password:?}").contains("pw"));
        assert_eq!((XAPI_ENABLED.parse)("off"), Ok(false));
    }
}
