//! `bbb-webhooks hooks list|create|destroy`: calls the running service's API
//! with signed URLs and prints its XML answer readably, one line per hook.

use std::time::Duration;

use crate::checksum::Algorithm;
use crate::config::Config;
use crate::error::{Error, Result};

use super::{signed_url, Args};

const TIMEOUT: Duration = Duration::from_secs(10);

pub fn run(args: &[String], config: &Config) -> Result<bool> {
    let args = Args::parse(args, &["meeting", "events"], &["raw"])?;
    let mut pos = args.positional.iter().map(String::as_str);
    let sub = pos.next();
    let arg = pos.next();
    if let Some(extra) = pos.next() {
        return Err(Error::Usage(format!(
            "unexpected argument {extra:?} (see --help)"
        )));
    }
    let mut params: Vec<(String, String)> = Vec::new();
    let mut add = |k: &str, v: &str| params.push((k.to_owned(), v.to_owned()));
    let call = match (sub, arg) {
        (Some("list"), None) => {
            if let Some(m) = args.value("meeting") {
                add("meetingID", m);
            }
            "hooks/list"
        }
        (Some("create"), Some(url)) => {
            add("callbackURL", url);
            if let Some(m) = args.value("meeting") {
                add("meetingID", m);
            }
            if let Some(e) = args.value("events") {
                add("eventID", e);
            }
            if args.flag("raw") {
                add("getRaw", "true");
            }
            "hooks/create"
        }
        (Some("destroy"), Some(id)) => {
            add("hookID", id);
            "hooks/destroy"
        }
        _ => {
            return Err(Error::Usage(
                "hooks list [--meeting ID] | hooks create CALLBACK_URL [--meeting ID] [--events ID,ID] [--raw] | hooks destroy HOOK_ID".into(),
            ))
        }
    };
    let alg = config
        .api_algorithms
        .first()
        .copied()
        .unwrap_or(Algorithm::Sha1);
    let url = signed_url(config, call, &params, alg);
    let (status, body) = super::http_get(&url, TIMEOUT).map_err(|e| {
        Error::Other(format!(
            "cannot reach the API at {} ({e}); is the service running? (bbb-webhooks check)",
            super::api_base(config)
        ))
    })?;
    if status != 200 {
        eprintln!("FAILED: HTTP {status}: {}", body.trim());
        return Ok(false);
    }
    if tag(&body, "returncode").as_deref() != Some("SUCCESS") {
        eprintln!(
            "FAILED {}: {}",
            tag(&body, "messageKey").unwrap_or_default(),
            tag(&body, "message").unwrap_or_else(|| body.trim().to_owned())
        );
        return Ok(false);
    }
    match call {
        "hooks/list" => {
            let hooks = elements(&body, "hook");
            if hooks.is_empty() {
                println!("no hooks");
            }
            for h in hooks {
                println!("{}", hook_line(h));
            }
        }
        "hooks/create" => {
            let id = tag(&body, "hookID").unwrap_or_default();
            match tag(&body, "messageKey").as_deref() {
                Some("duplicateWarning") => {
                    println!("{id} (already registered for this callback URL)")
                }
                _ => println!(
                    "{id} created (permanent: {}, raw: {})",
                    tag(&body, "permanentHook").unwrap_or_default(),
                    tag(&body, "rawData").unwrap_or_default()
                ),
            }
        }
        _ => println!("removed"),
    }
    Ok(true)
}

/// One hook of `hooks/list`: id, URL, meeting, events, flags and status.
fn hook_line(h: &str) -> String {
    let mut line = format!(
        "{}  {}  meeting={}  events={}",
        tag(h, "hookID").unwrap_or_default(),
        tag(h, "callbackURL").unwrap_or_default(),
        tag(h, "meetingID").unwrap_or_else(|| "*".into()),
        tag(h, "eventID").unwrap_or_else(|| "*".into()),
    );
    if tag(h, "permanentHook").as_deref() == Some("true") {
        line.push_str("  permanent");
    }
    if tag(h, "rawData").as_deref() == Some("true") {
        line.push_str("  raw");
    }
    if let Some(s) = tag(h, "status") {
        line.push_str(&format!(
            "  {s}, {} pending",
            tag(h, "pending").unwrap_or_default()
        ));
    }
    if let Some(e) = tag(h, "lastError") {
        match attribute(h, "lastError", "reason") {
            Some(r) => line.push_str(&format!("  last error ({r}): {e}")),
            None => line.push_str(&format!("  last error: {e}")),
        }
    }
    line
}

/// The inner text of each `<name>` element of `xml`, in order.
fn elements<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{name}"), format!("</{name}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        // `<name>` or `<name attr="...">`, not `<nameLonger>`.
        let body = match after.as_bytes().first() {
            Some(b'>') => &after[1..],
            Some(b' ') => match after.find('>') {
                Some(gt) => &after[gt + 1..],
                None => break,
            },
            _ => {
                rest = after;
                continue;
            }
        };
        let Some(end) = body.find(&close) else { break };
        out.push(&body[..end]);
        rest = &body[end + close.len()..];
    }
    out
}

/// The value of attribute `attr` of the first `<name>` element.
fn attribute(xml: &str, name: &str, attr: &str) -> Option<String> {
    let open = format!("<{name} ");
    let start = xml.find(&open)? + open.len();
    let head = &xml[start..start + xml[start..].find('>')?];
    let key = format!("{attr}=\"");
    let v = &head[head.find(&key)? + key.len()..];
    Some(v[..v.find('"')?].to_owned())
}

/// The text of the first `<name>` element: CDATA sections joined, entities
/// decoded.
fn tag(xml: &str, name: &str) -> Option<String> {
    let inner = elements(xml, name).into_iter().next()?;
    if inner.starts_with("<![CDATA[") {
        return Some(
            inner
                .split("<![CDATA[")
                .map(|p| p.strip_suffix("]]>").unwrap_or(p))
                .collect(),
        );
    }
    Some(
        inner
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_api_xml() {
        let xml = "<response><returncode>SUCCESS</returncode><hooks><hook><hookID>1</hookID><callbackURL><![CDATA[http://a/?x=1&y=]]]]><![CDATA[>]]></callbackURL><permanentHook>false</permanentHook><rawData>true</rawData></hook><hook><hookID>2</hookID><callbackURL><![CDATA[http://b]]></callbackURL><meetingID><![CDATA[m]]></meetingID><eventID>a,b</eventID><permanentHook>true</permanentHook><rawData>false</rawData><status>failing</status><pending>3</pending><lastError reason=\"status_5xx\">HTTP 500 &amp; more</lastError></hook></hooks></response>";
        assert_eq!(tag(xml, "returncode").as_deref(), Some("SUCCESS"));
        let hooks = elements(xml, "hook");
        assert_eq!(hooks.len(), 2);
        assert_eq!(
            hook_line(hooks[0]),
            "1  http://a/?x=1&y=]]>  meeting=*  events=*  raw"
        );
        assert_eq!(
            hook_line(hooks[1]),
            "2  http://b  meeting=m  events=a,b  permanent  failing, 3 pending  last error (status_5xx): HTTP 500 & more"
        );
        assert_eq!(tag(xml, "nothing"), None);
    }
}
