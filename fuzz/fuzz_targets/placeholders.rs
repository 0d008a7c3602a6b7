//! Fuzz target `placeholders`: see `mastery_boundary::fuzzing::placeholders_target` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mastery_boundary::fuzzing::placeholders_target(data));
