//! Table-driven tests of [`super::map`].
