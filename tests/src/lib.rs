//! Cross-crate acceptance tests.
