//! The xAPI output (XAPI.md): webhook events in, xAPI statements for a
//! Learning Record Store out. This is the pure core; nothing here does I/O.

pub mod base64;
pub mod format;
pub mod id;
pub mod js;
pub mod lrs;
pub mod payload;
mod posix_tz;
mod tzif;
pub mod zone;
