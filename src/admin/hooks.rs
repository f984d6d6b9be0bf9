//! `bbb-webhooks hooks list|create|destroy`: calls the running service's API
//! with signed URLs and prints its XML answer readably, one line per hook.

use std::time::Duration;

use crate::checksum::Algorithm;
use crate::cluster::answer::{self, Element};
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
    let root = answer::parse(&body).unwrap_or_default();
    let field = |name| text(&root, name);
    if field("returncode") != Some("SUCCESS") {
        eprintln!(
            "FAILED {}: {}",
            field("messageKey").unwrap_or_default(),
            field("message").unwrap_or(body.trim())
        );
        return Ok(false);
    }
    match call {
        "hooks/list" => {
            let hooks: Vec<&Element> = root.child("hooks").map_or_else(Vec::new, |list| {
                list.children.iter().filter(|c| c.name == "hook").collect()
            });
            if hooks.is_empty() {
                println!("no hooks");
            }
            for h in hooks {
                println!("{}", hook_line(h));
            }
        }
        "hooks/create" => {
            let id = field("hookID").unwrap_or_default();
            match field("messageKey") {
                Some("duplicateWarning") => {
                    println!("{id} (already registered for this callback URL)")
                }
                _ => println!(
                    "{id} created (permanent: {}, raw: {})",
                    field("permanentHook").unwrap_or_default(),
                    field("rawData").unwrap_or_default()
                ),
            }
        }
        _ => println!("removed"),
    }
    Ok(true)
}

/// One hook of `hooks/list`: id, URL, meeting, events, flags and status.
fn hook_line(h: &Element) -> String {
    let field = |name| text(h, name);
    let mut line = format!(
        "{}  {}  meeting={}  events={}",
        field("hookID").unwrap_or_default(),
        field("callbackURL").unwrap_or_default(),
        field("meetingID").unwrap_or("*"),
        field("eventID").unwrap_or("*"),
    );
    if field("permanentHook") == Some("true") {
        line.push_str("  permanent");
    }
    if field("rawData") == Some("true") {
        line.push_str("  raw");
    }
    if let Some(s) = field("status") {
        line.push_str(&format!(
            "  {s}, {} pending",
            field("pending").unwrap_or_default()
        ));
    }
    if let Some(e) = h.child("lastError") {
        match e.attribute("reason") {
            Some(r) => line.push_str(&format!("  last error ({r}): {}", e.text)),
            None => line.push_str(&format!("  last error: {}", e.text)),
        }
    }
    line
}

/// The text of `el`'s first child `name`, as the API wrote it (CDATA
/// sections joined, entities decoded).
fn text<'a>(el: &'a Element, name: &str) -> Option<&'a str> {
    el.child(name).map(|c| c.text.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_api_xml() {
        let xml = "<response><returncode>SUCCESS</returncode><hooks><hook><hookID>1</hookID><callbackURL><![CDATA[http://a/?x=1&y=]]]]><![CDATA[>]]></callbackURL><permanentHook>false</permanentHook><rawData>true</rawData></hook><hook><hookID>2</hookID><callbackURL><![CDATA[http://b]]></callbackURL><meetingID><![CDATA[m]]></meetingID><eventID>a,b</eventID><permanentHook>true</permanentHook><rawData>false</rawData><status>failing</status><pending>3</pending><lastError reason=\"status_5xx\">HTTP 500 &amp; more</lastError></hook></hooks></response>";
        let root = answer::parse(xml).expect("parses");
        assert_eq!(text(&root, "returncode"), Some("SUCCESS"));
        let hooks = &root.child("hooks").expect("hooks").children;
        assert_eq!(hooks.len(), 2);
        assert_eq!(
            hook_line(&hooks[0]),
            "1  http://a/?x=1&y=]]>  meeting=*  events=*  raw"
        );
        assert_eq!(
            hook_line(&hooks[1]),
            "2  http://b  meeting=m  events=a,b  permanent  failing, 3 pending  last error (status_5xx): HTTP 500 & more"
        );
        assert_eq!(text(&root, "nothing"), None);
    }
}
