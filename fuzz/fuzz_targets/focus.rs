// The focus fed a script of stanzas on both streams, stream changes and clock jumps.
// mkdir -p fuzz/corpus/focus && cargo +nightly fuzz run focus fuzz/corpus/focus fuzz/seeds/focus
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| jicofo::fuzzing::focus(data));
