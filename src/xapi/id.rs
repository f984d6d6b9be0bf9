//! The namespace of every xAPI identifier and the identifiers made in it
//! (UUID v5 of the names in XAPI.md §5). Parsing accepts any 128-bit UUID,
//! including the reference's shipped default that its own library rejects.

use std::fmt;
use std::str::FromStr;

/// The configured `uuid_namespace`: 16 bytes, whatever their version and
/// variant bits say.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Namespace([u8; 16]);

/// Why a namespace text is not a UUID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadNamespace;

impl fmt::Display for BadNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a UUID: expected 32 hexadecimal digits grouped 8-4-4-4-12, like 01234567-89ab-cdef-0123-456789abcdef")
    }
}

impl std::error::Error for BadNamespace {}

impl Namespace {
    /// Parses the canonical text form, 8-4-4-4-12 hexadecimal digits in any
    /// case (surrounding white space ignored). Unlike the reference's
    /// library, the version and variant digits are not checked.
    pub fn parse(text: &str) -> Result<Namespace, BadNamespace> {
        let text = text.trim().as_bytes();
        if text.len() != 36 {
            return Err(BadNamespace);
        }
        let mut bytes = [0u8; 16];
        let mut nibbles = 0;
        for (i, &c) in text.iter().enumerate() {
            if matches!(i, 8 | 13 | 18 | 23) {
                if c != b'-' {
                    return Err(BadNamespace);
                }
                continue;
            }
            let v = char::from(c).to_digit(16).ok_or(BadNamespace)? as u8;
            let byte = bytes.get_mut(nibbles / 2).ok_or(BadNamespace)?;
            *byte = (*byte << 4) | v;
            nibbles += 1;
        }
        Ok(Namespace(bytes))
    }

    /// The namespace's 16 bytes.
    pub fn bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// `uuid5(name)`: the version 5 UUID of `name`'s UTF-8 bytes in this
    /// namespace, lower-case hyphenated.
    pub fn uuid(&self, name: &str) -> String {
        crate::uuid::v5(&self.0, name)
    }
}

impl FromStr for Namespace {
    type Err = BadNamespace;
    fn from_str(s: &str) -> Result<Namespace, BadNamespace> {
        Namespace::parse(s)
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::uuid::format(&self.0))
    }
}

impl fmt::Debug for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Namespace({self})")
    }
}

/// The IRI of activity `uuid`: `https://<domain>/xapi/activities/<uuid>`.
pub fn activity_iri(domain: &str, uuid: &str) -> String {
    format!("https://{domain}/xapi/activities/{uuid}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The namespace of the verified examples of XAPI.md §5.
    const NS: &str = "22946e5b-1860-4436-a025-cb133ca4c1d3";

    #[test]
    fn identifiers_match_the_reference_examples() {
        let ns = Namespace::parse(NS).expect("a UUID");
        let cases = [
            ("random-9019868", "664fb8be-0394-5a1f-a6f1-588fc85c2337"),
            (
                "8043c8452ae9830aac14c517adff3839dbd9228f-1698771157700",
                "4b8b734d-0adc-5d89-ba4b-d78688bb94fe",
            ),
            (
                "random-9019868_20231031",
                "2b0e1c19-5ba4-5e5d-aeb7-d817125b7815",
            ),
            (
                "w_xfsb9gxtlfom_micro",
                "377f1634-b4aa-5e42-bf52-ffe9dd465c26",
            ),
            (
                "w_xfsb9gxtlfom_camera",
                "74e08661-3989-5a7c-bff8-501c3b5a7e45",
            ),
            (
                "w_xfsb9gxtlfom_screen",
                "0fb496b6-6780-5b8d-8c9c-02c063efb197",
            ),
            (
                "undefined_1698771232706",
                "e7a41a77-4cc9-5e48-ad48-afc5b5740438",
            ),
            (
                "2be5820127b5f8efc050fa003e83ef53fa62c356-1698771157729/1/1698771266437",
                "182e3395-9bcf-5366-8804-e7f897b54d47",
            ),
        ];
        for (name, want) in cases {
            assert_eq!(ns.uuid(name), want, "{name}");
        }
    }

    #[test]
    fn any_128_bit_uuid_is_a_namespace() {
        // The reference's shipped default: version digit c, variant 0.
        let default = Namespace::parse("01234567-89ab-cdef-0123-456789abcdef").expect("accepted");
        assert_eq!(default.bytes()[0..2], [0x01, 0x23]);
        assert_eq!(default.to_string(), "01234567-89ab-cdef-0123-456789abcdef");
        let upper: Namespace = " 22946E5B-1860-4436-A025-CB133CA4C1D3\n"
            .parse()
            .expect("accepted");
        assert_eq!(upper.to_string(), NS);
        assert_eq!(format!("{upper:?}"), format!("Namespace({NS})"));
        let nil = Namespace::parse("00000000-0000-0000-0000-000000000000").expect("accepted");
        assert_eq!(nil.bytes(), &[0; 16]);
    }

    #[test]
    fn other_text_is_refused_with_a_clear_error() {
        for bad in [
            "",
            "not-a-uuid",
            "22946e5b18604436a025cb133ca4c1d3",
            "{22946e5b-1860-4436-a025-cb133ca4c1d3}",
            "22946e5b-1860-4436-a025-cb133ca4c1d",
            "22946e5b-1860-4436-a025-cb133ca4c1d3a",
            "22946e5b-1860-4436-a025_cb133ca4c1d3",
            "g2946e5b-1860-4436-a025-cb133ca4c1d3",
            "22946e5b-1860-4436-a025-cb133ca4c1é",
            "+2946e5b-1860-4436-a025-cb133ca4c1d3",
        ] {
            assert_eq!(Namespace::parse(bad), Err(BadNamespace), "{bad:?}");
        }
        assert!(BadNamespace.to_string().starts_with("not a UUID"));
    }

    #[test]
    fn activity_iris_put_the_uuid_under_the_domain() {
        assert_eq!(
            activity_iri("myserver.com", "182e3395-9bcf-5366-8804-e7f897b54d47"),
            "https://myserver.com/xapi/activities/182e3395-9bcf-5366-8804-e7f897b54d47"
        );
    }
}
