// The c2s client machine fed arbitrary server bytes (plaintext or after STARTTLS) in arbitrary chunks and times.
// mkdir -p fuzz/corpus/client_machine && cargo +nightly fuzz run client_machine fuzz/corpus/client_machine fuzz/seeds/client_machine
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| jicofo::fuzzing::client_machine(data));
