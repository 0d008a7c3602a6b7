//! The mastery command line.
fn main() {}
