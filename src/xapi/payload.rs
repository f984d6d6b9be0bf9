//! The per-meeting LRS payload (`meta_secret-lrs-payload`, XAPI.md §8): the
//! text `openssl enc -aes-256-cbc -pbkdf2 -a [-A] -pass pass:<secret>`
//! writes, opened into LRS credentials, and made the same way. Pure except
//! for the random salt of [`encrypt`]. Nothing here logs, and no error or
//! `Debug` output shows the payload, the secret or a credential.

use std::fmt;

use aes::Aes256;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use serde_json::Value;
use sha2::Sha256;

use super::{base64, js};

/// OpenSSL's default PBKDF2 iteration count (`-pbkdf2` without `-iter`).
const ITERATIONS: u32 = 10_000;

/// What a payload says: the LRS fields, as JSON values (the reference
/// applies JavaScript truthiness and `String()` to them, see
/// [`super::lrs`]). Other keys are ignored.
#[derive(Clone, Default, PartialEq)]
pub struct LrsPayload {
    pub endpoint: Option<Value>,
    pub token: Option<Value>,
    pub username: Option<Value>,
    pub password: Option<Value>,
}

impl fmt::Debug for LrsPayload {
    /// Says which fields are there, never their values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let has = |v: &Option<Value>| if v.is_some() { "<set>" } else { "<none>" };
        f.debug_struct("LrsPayload")
            .field("endpoint", &has(&self.endpoint))
            .field("token", &has(&self.token))
            .field("username", &has(&self.username))
            .field("password", &has(&self.password))
            .finish()
    }
}

/// Why a payload cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadError {
    /// Not a string, too short, or AES-256-CBC with this secret fails (a
    /// wrong secret, a length that is not a multiple of 16, bad padding).
    Undecryptable,
    /// The plaintext is not JSON.
    NotJson,
    /// The JSON has neither a truthy `lrs_token` nor a truthy `lrs_username`
    /// and `lrs_password` (`null`, numbers and arrays included).
    NoCredentials,
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PayloadError::Undecryptable => "does not decrypt with the server secret",
            PayloadError::NotJson => "decrypts, but not to JSON",
            PayloadError::NoCredentials => "has no lrs_token nor lrs_username and lrs_password",
        })
    }
}

impl std::error::Error for PayloadError {}

/// Decrypts and validates a payload: [`decrypt`], JSON, then credentials.
pub fn open(text: &str, secret: &str) -> Result<LrsPayload, PayloadError> {
    let plain = decrypt(text, secret)?;
    let json: Value = serde_json::from_str(&plain).map_err(|_| PayloadError::NotJson)?;
    let Value::Object(mut obj) = json else {
        return Err(PayloadError::NoCredentials);
    };
    let mut take = |key: &str| obj.remove(key);
    let payload = LrsPayload {
        endpoint: take("lrs_endpoint"),
        token: take("lrs_token"),
        username: take("lrs_username"),
        password: take("lrs_password"),
    };
    let basic = js::truthy(payload.username.as_ref()) && js::truthy(payload.password.as_ref());
    if js::truthy(payload.token.as_ref()) || basic {
        Ok(payload)
    } else {
        Err(PayloadError::NoCredentials)
    }
}

/// The plaintext of a payload: lenient base64 ([`base64::decode_lenient`]),
/// 8 bytes of header (`Salted__`, not checked), 8 of salt, then the
/// ciphertext; key and IV from PBKDF2-HMAC-SHA256 of the secret's UTF-8
/// bytes (10,000 iterations, 48 bytes); PKCS#7 padding checked; the text
/// decoded as UTF-8 with invalid sequences replaced.
pub fn decrypt(text: &str, secret: &str) -> Result<String, PayloadError> {
    let bytes = base64::decode_lenient(text);
    let salt = bytes.get(8..16).ok_or(PayloadError::Undecryptable)?;
    let mut ciphertext = bytes.get(16..).ok_or(PayloadError::Undecryptable)?.to_vec();
    if ciphertext.is_empty() || ciphertext.len() % 16 != 0 {
        return Err(PayloadError::Undecryptable);
    }
    let (key, iv) = key_iv(secret, salt);
    let plain = cbc::Decryptor::<Aes256>::new_from_slices(&key, &iv)
        .map_err(|_| PayloadError::Undecryptable)?
        .decrypt_padded_mut::<Pkcs7>(&mut ciphertext)
        .map_err(|_| PayloadError::Undecryptable)?;
    Ok(String::from_utf8_lossy(plain).into_owned())
}

/// Encrypts `plaintext` as `openssl enc -aes-256-cbc -pbkdf2 -a -A` does,
/// with a random salt from `/dev/urandom`: one line of base64 that
/// [`decrypt`] (and `openssl enc -d ... -a -A`) opens with `secret`.
pub fn encrypt(plaintext: &str, secret: &str) -> std::io::Result<String> {
    let mut salt = [0u8; 8];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut salt)?;
    Ok(encrypt_with_salt(plaintext, secret, salt))
}

/// [`encrypt`] with a given salt, for reproducible output, of any bytes
/// (text or not).
pub fn encrypt_with_salt(plaintext: impl AsRef<[u8]>, secret: &str, salt: [u8; 8]) -> String {
    let plaintext = plaintext.as_ref();
    let (key, iv) = key_iv(secret, &salt);
    let len = plaintext.len();
    let mut buf = plaintext.to_vec();
    buf.resize(len + 16 - len % 16, 0);
    let mut out = b"Salted__".to_vec();
    out.extend(salt);
    let encrypted = cbc::Encryptor::<Aes256>::new_from_slices(&key, &iv)
        .ok()
        .and_then(|c| c.encrypt_padded_mut::<Pkcs7>(&mut buf, len).ok());
    // Neither fails: the key and IV have their sizes, the buffer has room
    // for a full block of padding.
    out.extend(encrypted.unwrap_or_default());
    base64::encode(&out)
}

/// AES-256 key and CBC IV from the secret and salt.
fn key_iv(secret: &str, salt: &[u8]) -> ([u8; 32], [u8; 16]) {
    let mut out = [0u8; 48];
    pbkdf2::pbkdf2_hmac::<Sha256>(secret.as_bytes(), salt, ITERATIONS, &mut out);
    let (mut key, mut iv) = ([0u8; 32], [0u8; 16]);
    let (k, i) = out.split_at(32);
    key.copy_from_slice(k);
    iv.copy_from_slice(i);
    (key, iv)
}

#[cfg(test)]
#[path = "tests/payload.rs"]
mod tests;
