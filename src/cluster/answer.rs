//! The XML answers of a BBB server's hooks API, parsed into typed results.
//! This service and the Node.js reference answer in the same format; the
//! reference puts whitespace between some tags and does not escape values
//! (URLs are in CDATA), this service escapes and splits `]]>` across CDATA
//! sections: both read the same here. Pure; a small, bounded XML reader of
//! elements, their attributes and text (comments and the prolog are
//! skipped). `bbb-webhooks hooks` reads this service's answers with it too.

/// Deepest nesting accepted (the hooks API's answers are 4 deep).
const MAX_DEPTH: usize = 16;

/// One XML element: its name, its attributes (values decoded), its text
/// (every text and CDATA piece directly inside it, entities decoded) and
/// its child elements, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// The value of its attribute `name`.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The trimmed text of the first child named `name`.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }
}

/// A hook as a server's `hooks/list` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteHook {
    pub id: String,
    pub callback_url: String,
    /// `None` for a global hook.
    pub meeting_id: Option<String>,
    /// The `eventID` filter as listed (comma-separated); `None`: all events.
    pub event_ids: Option<String>,
    pub permanent: bool,
    /// `getRaw`: the hook receives raw BBB messages.
    pub raw: bool,
}

/// A `<response>`: `SUCCESS` with its content, or `FAILED` with its key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    Success(Element),
    Failed { key: String, message: String },
}

/// Parses a hooks API answer.
pub fn reply(xml: &str) -> Result<Reply, String> {
    let root = parse(xml)?;
    if root.name != "response" {
        return Err(format!(
            "the root element is <{}>, not <response>",
            root.name
        ));
    }
    match root.child_text("returncode") {
        Some("SUCCESS") => Ok(Reply::Success(root)),
        Some("FAILED") => Ok(Reply::Failed {
            key: root.child_text("messageKey").unwrap_or("").to_owned(),
            message: root.child_text("message").unwrap_or("").to_owned(),
        }),
        Some(other) => Err(format!("returncode {other:?}")),
        None => Err("no returncode".into()),
    }
}

/// The hooks of a successful `hooks/list` answer.
pub fn hooks(response: &Element) -> Result<Vec<RemoteHook>, String> {
    let list = response.child("hooks").ok_or("no <hooks> in the list")?;
    list.children
        .iter()
        .filter(|c| c.name == "hook")
        .map(|h| {
            let id = h.child_text("hookID").filter(|i| !i.is_empty());
            let url = h.child_text("callbackURL").filter(|u| !u.is_empty());
            let (Some(id), Some(url)) = (id, url) else {
                return Err("a <hook> without hookID or callbackURL".to_owned());
            };
            let opt = |name| {
                h.child_text(name)
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
            };
            Ok(RemoteHook {
                id: id.to_owned(),
                callback_url: url.to_owned(),
                meeting_id: opt("meetingID"),
                event_ids: opt("eventID"),
                permanent: h.child_text("permanentHook") == Some("true"),
                raw: h.child_text("rawData") == Some("true"),
            })
        })
        .collect()
}

/// The hook id of a successful `hooks/create` answer, and whether the server
/// said it had a hook for that URL already (`duplicateWarning`).
pub fn created(response: &Element) -> Result<(String, bool), String> {
    let id = response
        .child_text("hookID")
        .filter(|i| !i.is_empty())
        .ok_or("no hookID in the create answer")?;
    let duplicate = response.child_text("messageKey") == Some("duplicateWarning");
    Ok((id.to_owned(), duplicate))
}

/// Parses `xml` into its root element.
pub fn parse(xml: &str) -> Result<Element, String> {
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut rest = xml.trim_start_matches('\u{feff}');
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("<![CDATA[") {
            let end = r.find("]]>").ok_or("an unterminated CDATA section")?;
            stack
                .last_mut()
                .ok_or("CDATA outside the root")?
                .text
                .push_str(&r[..end]);
            rest = &r[end + 3..];
        } else if let Some(r) = rest.strip_prefix("<!--") {
            rest = r
                .find("-->")
                .map(|e| &r[e + 3..])
                .ok_or("an unterminated comment")?;
        } else if let Some(r) = rest.strip_prefix("<?").or_else(|| rest.strip_prefix("<!")) {
            rest = r
                .find('>')
                .map(|e| &r[e + 1..])
                .ok_or("an unterminated tag")?;
        } else if let Some(r) = rest.strip_prefix("</") {
            let end = r.find('>').ok_or("an unterminated end tag")?;
            let el = stack.pop().ok_or("an end tag without a start")?;
            if el.name != r[..end].trim() {
                return Err(format!("<{}> closed by </{}>", el.name, r[..end].trim()));
            }
            attach(&mut stack, &mut root, el)?;
            rest = &r[end + 1..];
        } else if let Some(r) = rest.strip_prefix('<') {
            let end = r.find('>').ok_or("an unterminated tag")?;
            let tag = &r[..end];
            let (tag, closed) = match tag.strip_suffix('/') {
                Some(t) => (t, true),
                None => (tag, false),
            };
            let tag = tag.trim_start();
            let (name, attrs) = tag.split_once(char::is_whitespace).unwrap_or((tag, ""));
            if name.is_empty() || root.is_some() || stack.len() >= MAX_DEPTH {
                return Err("a misplaced or too deeply nested tag".into());
            }
            let el = Element {
                name: name.to_owned(),
                attributes: attributes(attrs),
                ..Element::default()
            };
            if closed {
                attach(&mut stack, &mut root, el)?;
            } else {
                stack.push(el);
            }
            rest = &r[end + 1..];
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            let text = &rest[..end];
            match stack.last_mut() {
                Some(el) => el.text.push_str(&unescape(text)),
                None if text.trim().is_empty() => {}
                None => return Err("text outside the root".into()),
            }
            rest = &rest[end..];
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!("<{}> is not closed", open.name));
    }
    root.ok_or_else(|| "no element".into())
}

/// The `name="value"` (or `'value'`) pairs after a tag's name, values
/// decoded; reading stops at the first thing that is not one.
fn attributes(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some((name, after)) = rest.split_once('=') {
        let after = after.trim_start();
        let Some(quote) = after.chars().next().filter(|q| matches!(q, '"' | '\'')) else {
            break;
        };
        let Some((value, tail)) = after[1..].split_once(quote) else {
            break;
        };
        out.push((name.trim().to_owned(), unescape(value)));
        rest = tail;
    }
    out
}

/// Puts a finished element into its parent, or makes it the root.
fn attach(stack: &mut [Element], root: &mut Option<Element>, el: Element) -> Result<(), String> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None if root.is_none() => *root = Some(el),
        None => return Err("a second root element".into()),
    }
    Ok(())
}

/// Decodes the five named entities and numeric character references; any
/// other `&` stays as it is.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        // `rest` starts with the one-byte `&`; an entity ends within 10 characters.
        let after = rest.get(1..).unwrap_or("");
        let semi = after.char_indices().take(10).find(|(_, c)| *c == ';');
        let decoded = semi.and_then(|(semi, _)| {
            let c = match after.get(..semi)? {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                e => {
                    let n = match e.strip_prefix("#x").or_else(|| e.strip_prefix("#X")) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => e.strip_prefix('#')?.parse().ok()?,
                    };
                    char::from_u32(n)?
                }
            };
            Some((c, semi + 2))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A list as the Node.js reference writes it (3.x `api.js`).
    const REFERENCE_LIST: &str = "<response><returncode>SUCCESS</returncode><hooks>\
        <hook><hookID>1f7f6c6e-94b2-4b0e-8a51-8c9b8e6f1a01</hookID><callbackURL><![CDATA[https://lb.example.com/bigbluebutton/api/hooks/relay/bbb1]]></callbackURL><permanentHook>false</permanentHook><rawData>false</rawData></hook>\
        <hook><hookID>2</hookID><callbackURL><![CDATA[https://app/cb?a=1&b=2]]></callbackURL><meetingID><![CDATA[room 1]]></meetingID><eventID>meeting-created,user-joined</eventID><permanentHook>true</permanentHook><rawData>true</rawData></hook>\
        </hooks></response>";

    #[test]
    fn reference_list() {
        let Ok(Reply::Success(r)) = reply(REFERENCE_LIST) else {
            panic!("success");
        };
        let hooks = hooks(&r).expect("hooks");
        assert_eq!(hooks.len(), 2);
        assert_eq!(
            hooks[0],
            RemoteHook {
                id: "1f7f6c6e-94b2-4b0e-8a51-8c9b8e6f1a01".into(),
                callback_url: "https://lb.example.com/bigbluebutton/api/hooks/relay/bbb1".into(),
                meeting_id: None,
                event_ids: None,
                permanent: false,
                raw: false,
            }
        );
        assert_eq!(hooks[1].callback_url, "https://app/cb?a=1&b=2");
        assert_eq!(hooks[1].meeting_id.as_deref(), Some("room 1"));
        assert_eq!(
            hooks[1].event_ids.as_deref(),
            Some("meeting-created,user-joined")
        );
        assert!(hooks[1].permanent && hooks[1].raw);
    }

    /// The reference's create, duplicate and failure answers, with the
    /// whitespace its template literals leave between tags.
    #[test]
    fn reference_answers_with_whitespace() {
        let created_xml = "<response>       <returncode>SUCCESS</returncode>       <hookID>abc</hookID>       <permanentHook>false</permanentHook>       <rawData>false</rawData>     </response>";
        let Ok(Reply::Success(r)) = reply(created_xml) else {
            panic!("success");
        };
        assert_eq!(created(&r), Ok(("abc".into(), false)));
        let dup = "<response> <returncode>SUCCESS</returncode> <hookID>abc</hookID> <messageKey>duplicateWarning</messageKey> <message>There is already a hook for this callback URL.</message> </response>";
        let Ok(Reply::Success(r)) = reply(dup) else {
            panic!("success");
        };
        assert_eq!(created(&r), Ok(("abc".into(), true)));
        let failed = "<response>  <returncode>FAILED</returncode>  <messageKey>checksumError</messageKey>  <message>You did not pass the checksum security check.</message>  </response>";
        assert_eq!(
            reply(failed),
            Ok(Reply::Failed {
                key: "checksumError".into(),
                message: "You did not pass the checksum security check.".into()
            })
        );
    }

    /// This service escapes values and splits `]]>` inside CDATA.
    #[test]
    fn this_services_escaping() {
        let mut inner = String::from("<hooks><hook>");
        crate::xml::element(&mut inner, "hookID", "a&b");
        crate::xml::cdata_element(&mut inner, "callbackURL", "http://x/?q=]]>&r=<1>");
        inner.push_str(
            "<permanentHook>false</permanentHook><rawData>false</rawData></hook></hooks>",
        );
        let Ok(Reply::Success(r)) = reply(&crate::xml::success(&inner)) else {
            panic!("success");
        };
        let h = hooks(&r).expect("hooks");
        assert_eq!(h[0].id, "a&b");
        assert_eq!(h[0].callback_url, "http://x/?q=]]>&r=<1>");
        let empty = crate::xml::success("<hooks></hooks>");
        let Ok(Reply::Success(r)) = reply(&empty) else {
            panic!("success");
        };
        assert_eq!(hooks(&r), Ok(vec![]));
    }

    #[test]
    fn entities_and_prolog() {
        assert_eq!(unescape("a&amp;b&lt;&#65;&#x42;&bogus;&"), "a&b<AB&bogus;&");
        let doc = "<?xml version=\"1.0\"?>\n<!-- x --><response attr=\"1\" b = 'x&amp;y' odd><returncode>SUCCESS</returncode><removed>true</removed><empty c=\"\"/></response>\n";
        let Ok(Reply::Success(r)) = reply(doc) else {
            panic!("success");
        };
        assert_eq!(r.attribute("attr"), Some("1"));
        assert_eq!(r.attribute("b"), Some("x&y"));
        assert_eq!(r.attribute("odd"), None);
        assert_eq!(r.child_text("removed"), Some("true"));
        assert_eq!(r.child("empty").and_then(|e| e.attribute("c")), Some(""));
    }

    #[test]
    fn garbage_is_an_error() {
        for bad in [
            "",
            "not xml",
            "<html><body>404</body></html>",
            "<response><returncode>SUCCESS</returncode>",
            "<response></returncode></response>",
            "<response><returncode>MAYBE</returncode></response>",
            "<response/><response/>",
            "<response><![CDATA[x</response>",
        ] {
            assert!(reply(bad).is_err(), "{bad}");
        }
        assert!(parse("< \u{e9}>x</\u{e9}>").is_ok_and(|e| e.name == "\u{e9}"));
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep).is_err());
        let Ok(Reply::Success(r)) = reply("<response><returncode>SUCCESS</returncode></response>")
        else {
            panic!("success");
        };
        assert!(hooks(&r).is_err());
        assert!(created(&r).is_err());
        let nourl = "<response><returncode>SUCCESS</returncode><hooks><hook><hookID>1</hookID></hook></hooks></response>";
        let Ok(Reply::Success(r)) = reply(nourl) else {
            panic!("success");
        };
        assert!(hooks(&r).is_err());
    }
}
