//! The `bbb-webhooks` command: reads the configuration, then starts the
//! service and runs until it is stopped, or runs one admin subcommand. Prints
//! fatal errors; everything else is in the library.

#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use bbb_webhooks::admin;
use bbb_webhooks::config::Config;
use bbb_webhooks::error::{Error, Result};
use bbb_webhooks::service::Service;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

const USAGE: &str = "\
bbb-webhooks: relays BigBlueButton events from Redis to registered callback URLs

Usage: bbb-webhooks [--config FILE]
       bbb-webhooks [--config FILE] COMMAND ...
       bbb-webhooks --help | --version

Options:
  --config FILE  read KEY=value settings from FILE (default: /etc/bigbluebutton/bbb-webhooks.conf if it exists)
  --help         print this help
  --version      print the version

Commands (they read the same configuration; --config may also follow them):
  sign        print a checksummed API URL for CALL with its parameters
  hooks       list, create or destroy hooks through the running service's API
  test-event  publish the draft's test event on Redis (default meeting: test-meeting)
  catch       receive callbacks on 127.0.0.1 (default port 8090) and print each, verified
  check       check the configuration, Redis, the API port and the secret

Settings (environment variables override the file; empty means unset):
";

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("bbb-webhooks: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the service or a command; `Ok(false)`: a command reported a failure.
fn run() -> Result<bool> {
    let mut config_file: Option<PathBuf> = None;
    let mut command: Option<(String, Vec<String>)> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--config" {
            let f = args
                .next()
                .ok_or_else(|| Error::Usage("--config needs a file".into()))?;
            config_file = Some(PathBuf::from(f));
        } else if let Some(f) = arg.strip_prefix("--config=") {
            config_file = Some(PathBuf::from(f));
        } else if let Some((_, rest)) = &mut command {
            rest.push(arg);
        } else {
            match arg.as_str() {
                "-h" | "--help" => {
                    print!("{USAGE}{}", Config::keys_help());
                    println!("\nCommands' usage:\n{}", admin::USAGE);
                    return Ok(true);
                }
                "-V" | "--version" => {
                    println!("bbb-webhooks {}", env!("CARGO_PKG_VERSION"));
                    return Ok(true);
                }
                name if admin::COMMANDS.contains(&name) => command = Some((arg, Vec::new())),
                other => {
                    return Err(Error::Usage(format!(
                        "unknown argument {other:?} (see --help)"
                    )))
                }
            }
        }
    }
    let env: HashMap<String, String> = std::env::vars().collect();
    if let Some((name, rest)) = command {
        if rest.iter().any(|a| a == "--help" || a == "-h") {
            print!("Usage:\n{}", admin::USAGE);
            return Ok(true);
        }
        let ctx = admin::Context { env, config_file };
        return admin::run(&name, &rest, &ctx);
    }
    let config = Config::load(&env, config_file.as_deref())?;
    // Libraries log at warn at most; the service at the configured level.
    env_logger::Builder::new()
        .filter_level(config.log_level.min(log::LevelFilter::Warn))
        .filter_module("bbb_webhooks", config.log_level)
        // It logs each certificate failure; the delivery's own line says more.
        .filter_module("rustls_platform_verifier", log::LevelFilter::Off)
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
        Err(Error::Stopped) => return Ok(true),
        other => other?,
    };
    // Runs until SIGTERM or SIGINT.
    let _ = stop_rx.recv();
    service.shutdown();
    Ok(true)
}
