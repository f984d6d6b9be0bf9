//! Property tests with a seeded generator, for the parsers that take
//! untrusted input, one target per file: query strings and checksums (the
//! API, `query.rs`), the event mapping (Redis messages, `mapping.rs`), the
//! configuration (environment and files, `config.rs`), callback URLs and
//! event filters (`hooks.rs`), the callback body (`callback.rs`), and the
//! hook and mapping records stored in Redis (loaded from a private
//! `redis-server`, `stored.rs`). This file holds the seeded generator and
//! the runner they share.
//!
//! `cargo test` runs a bounded number of cases per target. A long run by
//! hand, of every target or of one (its module name as the filter):
//!
//! ```sh
//! FUZZ_SECONDS=300 cargo test --release --test fuzz -- --ignored --nocapture --test-threads 8
//! FUZZ_SECONDS=300 cargo test --release --test fuzz -- --ignored --nocapture config::
//! ```
//!
//! `FUZZ_SEED=<n>` starts from another seed (a failure prints the seed of the
//! failing case, which reproduces it with `FUZZ_CASES=1`). Inputs that once
//! failed are kept in the `regressions_*` tests next to their target.

#[path = "../support/mod.rs"]
mod support;

mod callback;
mod config;
mod hooks;
mod mapping;
mod query;
mod stored;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

/// A small, fast, seeded generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A short length, mostly small, sometimes long.
    fn len(&mut self) -> usize {
        match self.below(10) {
            0 => 0,
            1..=6 => self.below(8),
            7 | 8 => self.below(40),
            _ => self.below(300),
        }
    }

    fn char(&mut self) -> char {
        const SPECIAL: &[char] = &[
            '%',
            '+',
            '&',
            '=',
            '?',
            '#',
            '/',
            ':',
            ' ',
            '\t',
            '\n',
            '\r',
            '\0',
            '"',
            '\'',
            '\\',
            '<',
            '>',
            ']',
            '[',
            '{',
            '}',
            ',',
            ';',
            '!',
            '@',
            '~',
            '*',
            '.',
            '-',
            '_',
            'é',
            'ß',
            '€',
            '✓',
            '\u{1F600}',
            '\u{FEFF}',
            '\u{7F}',
            '\u{85}',
            '\u{2028}',
            '\u{FFFD}',
        ];
        match self.below(6) {
            0 => *self.pick(SPECIAL),
            1 => *self.pick(&b"0123456789abcdefABCDEF"[..]) as char,
            2 => char::from_u32(self.next() as u32 % 0x11_0000).unwrap_or('x'),
            _ => (b' ' + self.below(95) as u8) as char,
        }
    }

    fn string(&mut self) -> String {
        let n = self.len();
        (0..n).map(|_| self.char()).collect()
    }

    /// A string made of `parts`, random characters and `%XX` escapes.
    fn string_from(&mut self, parts: &[&str]) -> String {
        let mut s = String::new();
        for _ in 0..self.below(5) {
            match self.below(4) {
                0 => {
                    let part = *self.pick(parts);
                    s.push_str(part);
                }
                1 => {
                    let c = self.char();
                    s.push(c);
                }
                2 => s.push_str(&format!("%{:02X}", self.below(256))),
                _ => {
                    let t = self.string();
                    s.push_str(&t);
                }
            }
        }
        s
    }

    fn bytes(&mut self) -> Vec<u8> {
        let n = self.len();
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// How many cases a target runs: `FUZZ_CASES`, else `default`; with
/// `FUZZ_SECONDS` it runs until that much time has passed instead.
struct Budget {
    cases: u64,
    until: Option<Instant>,
    seed: u64,
}

impl Budget {
    fn quick(default: u64) -> Budget {
        let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u64>().ok());
        Budget {
            cases: env("FUZZ_CASES").unwrap_or(default),
            until: None,
            seed: env("FUZZ_SEED").unwrap_or(0x5eed),
        }
    }

    fn long() -> Budget {
        let secs = std::env::var("FUZZ_SECONDS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(60);
        Budget {
            cases: u64::MAX,
            until: Some(Instant::now() + Duration::from_secs(secs)),
            ..Budget::quick(0)
        }
    }
}

/// Runs `case` with a fresh generator per case; a panic names the case's seed.
fn run(target: &str, budget: Budget, mut case: impl FnMut(&mut Rng)) {
    let start = Instant::now();
    let mut n = 0u64;
    while n < budget.cases && budget.until.is_none_or(|u| Instant::now() < u) {
        let seed = budget.seed.wrapping_add(n);
        let mut rng = Rng(seed);
        if let Err(e) = catch_unwind(AssertUnwindSafe(|| case(&mut rng))) {
            let what = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            panic!("{target}: case failed, reproduce with FUZZ_SEED={seed} FUZZ_CASES=1: {what}");
        }
        n += 1;
    }
    eprintln!("{target}: {n} cases in {:.1?}", start.elapsed());
}
