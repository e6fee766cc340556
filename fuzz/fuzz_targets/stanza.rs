// Every stanza reader and reply writer of src/stanza on arbitrary bytes.
// mkdir -p fuzz/corpus/stanza && cargo +nightly fuzz run stanza fuzz/corpus/stanza fuzz/seeds/stanza
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| jicofo::stanza::fuzz::fuzz_stanza(data));
