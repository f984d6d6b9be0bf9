//! `bbb-webhooks sign`: prints a checksummed API URL for a call and its
//! parameters, signed with the configured secret. Only the URL is printed.

use crate::checksum::Algorithm;
use crate::config::Config;
use crate::error::{Error, Result};

use super::Args;

pub fn run(args: &[String], config: &Config) -> Result<bool> {
    let args = Args::parse(args, &["algorithm"], &[])?;
    let alg = match args.value("algorithm") {
        Some(name) => Algorithm::from_name(name).ok_or_else(|| {
            Error::Usage(format!(
                "unknown algorithm {name:?}: use sha1, sha256, sha384 or sha512"
            ))
        })?,
        None => config
            .api_algorithms
            .first()
            .copied()
            .unwrap_or(Algorithm::Sha1),
    };
    if !config.api_algorithms.contains(&alg) {
        eprintln!(
            "bbb-webhooks: warning: {} is not in BBB_WEBHOOKS_API_CHECKSUM_ALGORITHMS; the service will refuse this URL",
            alg.name()
        );
    }
    let Some((call, rest)) = args.positional.split_first() else {
        return Err(Error::Usage(
            "sign needs a call, e.g. sign hooks/list (see --help)".into(),
        ));
    };
    let params = rest
        .iter()
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| Error::Usage(format!("{p:?} is not PARAM=VALUE")))
        })
        .collect::<Result<Vec<_>>>()?;
    let call = call.trim_matches('/');
    println!("{}", signed_url(config, call, &params, alg));
    Ok(true)
}

/// `http://<API><path>/<call>?<query>&checksum=<hex SHA(call + query + secret)>`,
/// the parameters form-encoded in the order given.
pub fn signed_url(
    config: &Config,
    call: &str,
    params: &[(String, String)],
    alg: Algorithm,
) -> String {
    let params: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let query = crate::checksum::signed_query(call, &params, config.secret.expose(), alg);
    format!("{}/{call}?{query}", super::api_base(config))
}
