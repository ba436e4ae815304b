//! A TSIG key file in BIND's syntax (TsigKey::parse), as `rotate --tsig-key` reads it: the
//! administrator's, but often a whole named.conf fragment pasted in.
//!
//! The first byte chooses whether a key name is wanted (the first line of the rest) or the only
//! key is taken. Asserts: a key that parses has the wanted name (compared as DNS names: case and
//! a trailing dot aside), and its
//! Debug form never shows the secret.

#![no_main]

use dkim_dns::TsigKey;
use dkimkit_fuzz::choice_and_payload;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (choice, payload) = choice_and_payload(data);
    let Ok(text) = std::str::from_utf8(payload) else {
        return;
    };
    let wanted = (choice & 1 == 1).then(|| text.lines().next().unwrap_or_default());
    let Ok(key) = TsigKey::parse(text, wanted) else {
        return;
    };
    let name = key.name();
    assert_eq!(name, name.to_ascii_lowercase());
    // No root dot; a name may end in an escaped dot (`a\.`), a dot inside its last label.
    assert!(!name.ends_with('.') || name.ends_with("\\."), "{name:?}");
    // A name written with escapes (`\065`) is shown decoded, so only plain names compare as text.
    if let Some(wanted) = wanted.map(str::trim).filter(|w| !w.contains('\\')) {
        let wanted = wanted.strip_suffix('.').unwrap_or(wanted);
        assert!(
            name.eq_ignore_ascii_case(wanted),
            "{name:?} is not the wanted {wanted:?}"
        );
    }
    let debug = format!("{key:?}");
    assert!(debug.contains("<redacted>"), "{debug}");
    let _ = key.algorithm();
});
