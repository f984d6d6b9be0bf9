//! `bbb-webhooks test-event`: publishes the draft specification's test event
//! on `bigbluebutton:events` and says how many subscribers got it.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::store::Conn;

use super::Args;

/// The channel the draft's test event goes to.
pub const CHANNEL: &str = "bigbluebutton:events";

pub fn run(args: &[String], config: &Config) -> Result<bool> {
    let args = Args::parse(args, &["meeting"], &[])?;
    if let Some(extra) = args.positional.first() {
        return Err(Error::Usage(format!(
            "unexpected argument {extra:?} (see --help)"
        )));
    }
    let meeting = args.value("meeting").unwrap_or("test-meeting");
    let message = serde_json::json!({
        "data": "hola ola",
        "meetingID": meeting,
        "event": "TestEvent",
    })
    .to_string();
    let mut conn = Conn::new(&config.redis_url)?;
    let receivers: i64 = conn
        .run(|c| redis::cmd("PUBLISH").arg(CHANNEL).arg(&message).query(c))
        .map_err(|e| {
            Error::Other(format!(
                "cannot publish on {} ({e}); check BBB_WEBHOOKS_REDIS_URL",
                config.redis_url
            ))
        })?;
    println!("published TestEvent for meeting {meeting} on {CHANNEL}: {receivers} subscribers");
    if receivers == 0 {
        eprintln!("nobody is subscribed to {CHANNEL}: is the service running on this Redis?");
        return Ok(false);
    }
    Ok(true)
}
