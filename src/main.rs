//! The `bbb-webhooks` command: reads the configuration, starts the service and
//! runs until it is stopped. Prints fatal errors; everything else is in the
//! library.

#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use bbb_webhooks::config::Config;
use bbb_webhooks::error::{Error, Result};
use bbb_webhooks::service::Service;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

const USAGE: &str = "\
bbb-webhooks: relays BigBlueButton events from Redis to registered callback URLs

Usage: bbb-webhooks [--config FILE]
       bbb-webhooks --help | --version

Options:
  --config FILE  read KEY=value settings from FILE (default: /etc/bigbluebutton/bbb-webhooks.conf if it exists)
  --help         print this help
  --version      print the version

Settings (environment variables override the file; empty means unset):
";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bbb-webhooks: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let mut config_file: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}{}", Config::keys_help());
                return Ok(());
            }
            "-V" | "--version" => {
                println!("bbb-webhooks {}", env!("CARGO_PKG_VERSION"));
                return Ok(());
            }
            "--config" => {
                let f = args
                    .next()
                    .ok_or_else(|| Error::Config("--config needs a file".into()))?;
                config_file = Some(PathBuf::from(f));
            }
            other => match other.strip_prefix("--config=") {
                Some(f) => config_file = Some(PathBuf::from(f)),
                None => {
                    return Err(Error::Config(format!(
                        "unknown argument {other:?} (see --help)"
                    )))
                }
            },
        }
    }
    let env: HashMap<String, String> = std::env::vars().collect();
    let config = Config::load(&env, config_file.as_deref())?;
    // Libraries log at warn at most; the service at the configured level.
    env_logger::Builder::new()
        .filter_level(config.log_level.min(log::LevelFilter::Warn))
        .filter_module("bbb_webhooks", config.log_level)
        .format_target(false)
        .init();
    log::info!("bbb-webhooks {} starting", env!("CARGO_PKG_VERSION"));
    let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(1);
    let mut signals = Signals::new([SIGTERM, SIGINT])?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                log::info!("signal {sig} received, stopping");
                let _ = stop_tx.send(());
            }
        })?;
    let service = match Service::start(config, &stop_rx) {
        Err(Error::Stopped) => return Ok(()),
        other => other?,
    };
    // Runs until SIGTERM or SIGINT.
    let _ = stop_rx.recv();
    service.shutdown();
    Ok(())
}
