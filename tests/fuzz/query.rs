//! Query strings and API checksums: whatever the text, splitting off the
//! checksum keeps every other pair byte for byte, encoding round-trips, and
//! only the checksum of what was signed, in an allowed algorithm, verifies.

use bbb_webhooks::checksum::{self, Algorithm};
use bbb_webhooks::query;

use crate::{run, Budget, Rng};

fn query_case(rng: &mut Rng) {
    // Arbitrary text: nothing panics; without a checksum pair nothing changes.
    let raw = rng.string_from(&["checksum", "checksum=", "&", "=", "%", "+", "&&"]);
    let (kept, sum) = query::split_checksum(&raw);
    assert!(kept.len() <= raw.len());
    if !raw
        .split('&')
        .any(|p| p == "checksum" || p.starts_with("checksum="))
    {
        assert_eq!((kept.as_str(), sum), (raw.as_str(), None), "{raw:?}");
    }
    let _ = query::params(&raw);
    let _ = query::decode(&raw);

    // Pairs built here: every non-checksum pair is kept byte for byte, in
    // order, and the first checksum is the one returned.
    let n = rng.below(6);
    let mut pairs = Vec::new();
    let mut expected_kept = Vec::new();
    let mut expected_sum = None;
    for _ in 0..n {
        let key = match rng.below(4) {
            0 => "checksum".to_owned(),
            1 => rng
                .pick(&[
                    "Checksum",
                    "checksum%3D",
                    "xchecksum",
                    "checksum ",
                    "checksumx",
                ])
                .to_string(),
            _ => rng.string().replace(['&', '='], ""),
        };
        let value = rng.string().replace('&', "");
        let pair = if rng.chance(5) {
            key.clone()
        } else {
            format!("{key}={value}")
        };
        if key == "checksum" {
            if expected_sum.is_none() {
                expected_sum = Some(if pair.contains('=') {
                    value.clone()
                } else {
                    String::new()
                });
            }
        } else {
            expected_kept.push(pair.clone());
        }
        pairs.push(pair);
    }
    let raw = pairs.join("&");
    let (kept, sum) = query::split_checksum(&raw);
    assert_eq!(kept, expected_kept.join("&"), "{raw:?}");
    assert_eq!(sum.map(str::to_owned), expected_sum, "{raw:?}");

    // Encoding round trips, and params decode what was encoded.
    let s = rng.string();
    let encoded = query::form_encode(&s);
    assert_eq!(query::decode(&encoded), s);
    assert!(encoded
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"*-._+%".contains(&b)));
    let params: Vec<(String, String)> = (0..rng.below(5))
        .map(|_| (rng.string(), rng.string()))
        .filter(|(k, _)| !k.is_empty())
        .collect();
    let raw: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{}={}", query::form_encode(k), query::form_encode(v)))
        .collect();
    assert_eq!(query::params(&raw.join("&")), params);
}

/// Splitting, decoding and encoding lose nothing and keep every pair but
/// the checksum.
#[test]
fn every_pair_but_the_checksum_is_kept_and_encoding_round_trips() {
    run("query", Budget::quick(3000), query_case);
}

#[test]
#[ignore = "long run: FUZZ_SECONDS=<n> cargo test --release --test fuzz -- --ignored"]
fn long_every_pair_but_the_checksum_is_kept_and_encoding_round_trips() {
    run("query", Budget::long(), query_case);
}

fn checksum_case(rng: &mut Rng) {
    let call = rng.string_from(&["hooks/create", "hooks/list", "subscribeEvent"]);
    let query_text = rng.string();
    let secret = rng.string();
    let allowed: Vec<Algorithm> = Algorithm::ALL
        .into_iter()
        .filter(|_| !rng.chance(3))
        .collect();
    // Anything as a checksum: no panic, and random text does not verify.
    let junk = match rng.below(3) {
        0 => rng.string(),
        1 => (0..*rng.pick(&[40, 64, 96, 128]))
            .map(|_| *rng.pick(&b"0123456789abcdef"[..]) as char)
            .collect(),
        _ => (0..*rng.pick(&[39, 40, 41, 64, 128]))
            .map(|_| rng.char())
            .collect(),
    };
    assert!(!checksum::verify_api(
        &call,
        &query_text,
        &secret,
        &junk,
        &allowed
    ));

    let alg = *rng.pick(&Algorithm::ALL);
    let sum = alg.hex_digest(&[call.as_bytes(), query_text.as_bytes(), secret.as_bytes()]);
    assert_eq!(
        checksum::verify_api(&call, &query_text, &secret, &sum, &allowed),
        allowed.contains(&alg)
    );
    let all = Algorithm::ALL;
    assert!(checksum::verify_api(
        &call,
        &query_text,
        &secret,
        &sum,
        &all
    ));
    // Any one character of the checksum changed: refused.
    let mut chars: Vec<char> = sum.chars().collect();
    let i = rng.below(chars.len());
    let old = chars[i];
    while chars[i] == old {
        chars[i] = rng.char();
    }
    let changed: String = chars.into_iter().collect();
    assert!(!checksum::verify_api(
        &call,
        &query_text,
        &secret,
        &changed,
        &all
    ));
    // Any one character of what was signed changed: refused.
    let mutate = |rng: &mut Rng, s: &str| -> String {
        let mut chars: Vec<char> = s.chars().collect();
        if chars.is_empty() || rng.chance(4) {
            let at = rng.below(chars.len() + 1);
            let c = rng.char();
            chars.insert(at, c);
        } else {
            let i = rng.below(chars.len());
            let old = chars[i];
            while chars[i] == old {
                chars[i] = rng.char();
            }
        }
        chars.into_iter().collect()
    };
    let q2 = mutate(rng, &query_text);
    assert!(!checksum::verify_api(&call, &q2, &secret, &sum, &all));
    let s2 = mutate(rng, &secret);
    assert!(!checksum::verify_api(&call, &query_text, &s2, &sum, &all));
}

#[test]
fn only_the_checksum_of_what_was_signed_verifies() {
    run("checksum", Budget::quick(1500), checksum_case);
}

#[test]
#[ignore = "long run: FUZZ_SECONDS=<n> cargo test --release --test fuzz -- --ignored"]
fn long_only_the_checksum_of_what_was_signed_verifies() {
    run("checksum", Budget::long(), checksum_case);
}
