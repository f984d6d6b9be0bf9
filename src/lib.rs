#![forbid(unsafe_code)]
pub mod mapping;
