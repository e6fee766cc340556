// Frames split at script-chosen points equal the frames of the whole input.
// mkdir -p fuzz/corpus/framer_chunking && cargo +nightly fuzz run framer_chunking fuzz/corpus/framer_chunking fuzz/seeds/framer_chunking
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| jicofo::fuzzing::framer_chunking(data));
