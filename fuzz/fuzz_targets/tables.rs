//! opendkim's KeyTable and SigningTable, both as `file:` and as `refile:` data sets, and
//! opendkim.conf: the administrator's files, which rotate rewrites in place. A table that is read
//! must be written back byte for byte, or a rotation would change lines nobody asked it to.
//!
//! Asserts: a table that parses gives its text back unchanged (to_text); every key it lists can
//! be found by name; the first line, read as a sender address, is looked up without panic and
//! its text round trips; opendkim.conf's accessors never panic. Text naming `Include` is skipped,
//! since opendkim.conf reads included files from disk.

#![no_main]

use std::path::Path;

use opendkim_config::{DataSetKind, KeyTable, OpendkimConf, SenderAddress, SigningTable};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let address: Option<SenderAddress> = text.lines().next().and_then(|line| line.parse().ok());
    if let Some(address) = &address {
        let again: SenderAddress = address.to_string().parse().expect("own text reads back");
        assert_eq!(&again, address);
    }
    for kind in [DataSetKind::File, DataSetKind::Refile] {
        if let Ok(table) = KeyTable::parse(text, kind) {
            assert_eq!(table.to_text(), text, "{kind:?} KeyTable round trip");
            for (_, entry) in table.entries() {
                assert!(table.get(&entry.name).is_some() || kind == DataSetKind::Refile);
            }
        }
        if let Ok(table) = SigningTable::parse(text, kind) {
            assert_eq!(table.to_text(), text, "{kind:?} SigningTable round trip");
            let _ = table.skipped_lines();
            if let Some(address) = &address {
                let _ = table.matches(address);
            }
        }
    }
    if !text.to_ascii_lowercase().contains("include") {
        check_conf(text);
    }
});

fn check_conf(text: &str) {
    let Ok(conf) = OpendkimConf::parse(text, Path::new("/etc/opendkim.conf")) else {
        return;
    };
    let _ = (
        conf.key_table(),
        conf.signing_table(),
        conf.selector(),
        conf.key_file(),
    );
    let _ = (
        conf.multiple_signatures(),
        conf.sub_domains(),
        conf.base_directory(),
    );
}
