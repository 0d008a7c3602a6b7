//! Fuzz target `script`: see `mastery_boundary::fuzzing::script` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mastery_boundary::fuzzing::script(data));
