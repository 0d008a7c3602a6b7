//! Fuzz target `answers`: see `mastery_boundary::fuzzing::answers` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mastery_boundary::fuzzing::answers(data));
