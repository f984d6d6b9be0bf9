//! The API's XML answers, byte for byte as BBB's webhooks API writes them (no
//! whitespace between tags), with every value escaped. Pure functions.

use std::fmt::Write;

/// Escapes text for an XML element or attribute.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
    out
}

/// Wraps text in CDATA, splitting any `]]>` so the section cannot be closed early.
pub fn cdata(s: &str) -> String {
    let clean: String = s
        .chars()
        .map(|c| if is_xml_char(c) { c } else { '\u{FFFD}' })
        .collect();
    format!("<![CDATA[{}]]>", clean.replace("]]>", "]]]]><![CDATA[>"))
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// A failure answer with its message key and text.
pub fn failure(key: &str, message: &str) -> String {
    format!(
        "<response><returncode>FAILED</returncode><messageKey>{}</messageKey><message>{}</message></response>",
        escape(key),
        escape(message)
    )
}

/// A success answer whose body is `inner` (already XML).
pub fn success(inner: &str) -> String {
    format!("<response><returncode>SUCCESS</returncode>{inner}</response>")
}

/// `<name>text</name>` with the text escaped.
pub fn element(out: &mut String, name: &str, text: &str) {
    let _ = write!(out, "<{name}>{}</{name}>", escape(text));
}

/// `<name attr="value">text</name>`, both escaped.
pub fn element_with(out: &mut String, name: &str, attr: (&str, &str), text: &str) {
    let _ = write!(
        out,
        "<{name} {}=\"{}\">{}</{name}>",
        attr.0,
        escape(attr.1),
        escape(text)
    );
}

/// `<name><![CDATA[text]]></name>`.
pub fn cdata_element(out: &mut String, name: &str, text: &str) {
    let _ = write!(out, "<{name}>{}</{name}>", cdata(text));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
        assert_eq!(escape("ok\u{1}"), "ok\u{FFFD}");
    }

    #[test]
    fn cdata_splits_terminator() {
        assert_eq!(cdata("x]]>y"), "<![CDATA[x]]]]><![CDATA[>y]]>");
        assert_eq!(cdata("http://a/?b=1&c=2"), "<![CDATA[http://a/?b=1&c=2]]>");
    }

    #[test]
    fn failure_format() {
        assert_eq!(
            failure("checksumError", "You did not pass the checksum security check."),
            "<response><returncode>FAILED</returncode><messageKey>checksumError</messageKey><message>You did not pass the checksum security check.</message></response>"
        );
    }
}
