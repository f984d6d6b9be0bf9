//! The xAPI part of the configuration (docs/xapi.md): its typed fields, read
//! from the `BBB_WEBHOOKS_XAPI_*` keys (declared in `keys/xapi.rs`), the
//! rule that a namespace is set when xAPI is on, and what logs and `check`
//! may show of it (never the password or the token).

use super::keys;
use super::sources::Values;
use super::Secret;
use crate::error::{Error, Result};
use crate::xapi::{LrsDefaults, Namespace};

/// Whether and where xAPI statements go. Each field says its key and that
/// key's default.
#[derive(Clone, Debug, Default)]
pub struct XapiConfig {
    /// `BBB_WEBHOOKS_XAPI_ENABLED`, default `false`: false means off.
    pub enabled: bool,
    /// The configured LRS, as given (a valid http(s) URL without
    /// credentials): `BBB_WEBHOOKS_XAPI_LRS_URL`, unset by default.
    pub lrs_url: Option<String>,
    /// `BBB_WEBHOOKS_XAPI_LRS_USERNAME`, unset by default.
    pub lrs_username: Option<String>,
    /// `BBB_WEBHOOKS_XAPI_LRS_PASSWORD`, unset by default.
    pub lrs_password: Option<Secret>,
    /// `BBB_WEBHOOKS_XAPI_LRS_TOKEN`, unset by default.
    pub lrs_token: Option<Secret>,
    /// Always set when `enabled`: `BBB_WEBHOOKS_XAPI_UUID_NAMESPACE`, unset by default.
    pub uuid_namespace: Option<Namespace>,
}

impl XapiConfig {
    /// Each field from its key. xAPI on without a namespace is an error
    /// naming the key: every identifier a statement carries derives from it.
    pub(super) fn from_values(v: &Values) -> Result<XapiConfig> {
        let c = XapiConfig {
            enabled: v.parse(&keys::XAPI_ENABLED)?,
            lrs_url: v.parse(&keys::XAPI_LRS_URL)?,
            lrs_username: v.parse(&keys::XAPI_LRS_USERNAME)?,
            lrs_password: v.parse(&keys::XAPI_LRS_PASSWORD)?,
            lrs_token: v.parse(&keys::XAPI_LRS_TOKEN)?,
            uuid_namespace: v.parse(&keys::XAPI_UUID_NAMESPACE)?,
        };
        if c.enabled && c.uuid_namespace.is_none() {
            return Err(Error::Config(format!(
                "{} is on but {} is unset: set it to the uuid_namespace of the Node.js xAPI module, or any UUID (every statement's ids derive from it)",
                keys::XAPI_ENABLED.name,
                keys::XAPI_UUID_NAMESPACE.name
            )));
        }
        Ok(c)
    }

    /// The configured LRS as the xAPI output takes it: what meetings
    /// without a payload use, and the fallback of what a payload lacks.
    pub fn lrs_defaults(&self) -> LrsDefaults {
        let expose = |s: &Option<Secret>| s.as_ref().map(|s| s.expose().to_owned());
        LrsDefaults {
            endpoint: self.lrs_url.clone(),
            username: self.lrs_username.clone(),
            password: expose(&self.lrs_password),
            token: expose(&self.lrs_token),
        }
    }

    /// The configured LRS for logs and `check`: its statements URL and how
    /// it is authenticated, never the credentials themselves; `None`
    /// without an LRS URL.
    pub fn lrs_shown(&self) -> Option<String> {
        let url = self.lrs_url.as_deref()?;
        let statements = crate::xapi::lrs::statements_url(url).unwrap_or_else(|| url.to_owned());
        let auth = match (&self.lrs_token, &self.lrs_username, &self.lrs_password) {
            (Some(_), _, _) => "a bearer token",
            (None, None, None) => "no credentials (Basic undefined:undefined, as the reference)",
            (None, Some(_), Some(_)) => "Basic authentication",
            (None, _, _) => "Basic authentication with a part missing (sent as undefined)",
        };
        Some(format!("{} with {auth}", crate::redact::url(&statements)))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::Path;

    use super::super::Config;

    fn load(pairs: &[(&str, &str)]) -> crate::error::Result<Config> {
        let env: HashMap<String, String> = [
            ("BBB_WEBHOOKS_SHARED_SECRET", "s3cret"),
            ("BBB_WEBHOOKS_SERVER_DOMAIN", "bbb.example.com"),
            ("BBB_WEBHOOKS_BBB_PROPERTIES", ""),
        ]
        .iter()
        .chain(pairs)
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        Config::load(&env, Some(Path::new("/dev/null")))
    }

    const NS: (&str, &str) = (
        "BBB_WEBHOOKS_XAPI_UUID_NAMESPACE",
        "01234567-89ab-cdef-0123-456789abcdef",
    );

    #[test]
    fn off_by_default_and_false_means_off() {
        let c = load(&[]).expect("defaults");
        assert!(!c.xapi.enabled && c.xapi.lrs_url.is_none());
        let c = load(&[("BBB_WEBHOOKS_XAPI_ENABLED", "false")]).expect("off");
        assert!(!c.xapi.enabled);
    }

    #[test]
    fn on_needs_a_namespace_and_says_which_key() {
        let e = load(&[("BBB_WEBHOOKS_XAPI_ENABLED", "true")])
            .expect_err("no namespace")
            .to_string();
        assert!(
            e.contains("BBB_WEBHOOKS_XAPI_UUID_NAMESPACE is unset"),
            "{e}"
        );
        let c = load(&[("BBB_WEBHOOKS_XAPI_ENABLED", "true"), NS]).expect("on");
        assert!(c.xapi.enabled);
        assert_eq!(
            c.xapi.uuid_namespace.map(|n| n.to_string()).as_deref(),
            Some(NS.1)
        );
        let e = load(&[("BBB_WEBHOOKS_XAPI_UUID_NAMESPACE", "0123")])
            .expect_err("not a UUID")
            .to_string();
        assert!(e.contains("BBB_WEBHOOKS_XAPI_UUID_NAMESPACE"), "{e}");
    }

    #[test]
    fn credentials_never_show() {
        let c = load(&[
            ("BBB_WEBHOOKS_XAPI_ENABLED", "true"),
            NS,
            (
                "BBB_WEBHOOKS_XAPI_LRS_URL",
                "https://lrs.example.com/data/xAPI",
            ),
            ("BBB_WEBHOOKS_XAPI_LRS_USERNAME", "user"),
            ("BBB_WEBHOOKS_XAPI_LRS_PASSWORD", "pa55word"),
            ("BBB_WEBHOOKS_XAPI_LRS_TOKEN", "t0ken"),
        ])
        .expect("loads");
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("pa55word") && !debug.contains("t0ken"),
            "{debug}"
        );
        assert_eq!(
            c.xapi.lrs_shown().as_deref(),
            Some("https://lrs.example.com/xAPI/statements with a bearer token")
        );
        let d = c.xapi.lrs_defaults();
        assert_eq!(d.password.as_deref(), Some("pa55word"));
        assert_eq!(d.token.as_deref(), Some("t0ken"));
        // A bad token is named, never shown.
        let e = load(&[("BBB_WEBHOOKS_XAPI_LRS_TOKEN", "t0ken\u{7f}")])
            .expect_err("not printable")
            .to_string();
        assert!(e.contains("BBB_WEBHOOKS_XAPI_LRS_TOKEN"), "{e}");
        assert!(!e.contains("t0ken\u{7f}"), "{e}");
        let e = load(&[("BBB_WEBHOOKS_XAPI_LRS_URL", "https://user:pw@lrs/")])
            .expect_err("credentials in the URL")
            .to_string();
        assert!(
            e.contains("BBB_WEBHOOKS_XAPI_LRS_URL") && !e.contains("pw@"),
            "{e}"
        );
    }
}
