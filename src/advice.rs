//! The command line's part of the advice: the libraries say what is wrong and what to do in
//! their own terms (a name server, a key's record), and the flag or subcommand is added here.

use dkim_dns::ResolverSetupError;
use dkim_rotate::RotateError;
use dkim_rotate::publish::PublishError;
use mail_dns::Code;

/// What to add to the advice of a finding with the stable code `code`.
pub fn for_finding(code: Code) -> &'static str {
    match code.as_str() {
        "dns.temporary" => " (--nameserver)",
        "dkim.syntax" | "dkim.key-mismatch" | "dkim.key-type-mismatch" => {
            "; dkimkit record -k KEYFILE prints a key's record"
        }
        "dkim.too-small" => "; dkimkit genkey makes one",
        "dnssec.not-validated" => " (--nameserver, --trust-anchor)",
        _ => "",
    }
}

/// A key check finding's advice, as the command line gives it.
pub fn for_key_finding(finding: &dkim_core::key_check::Finding) -> String {
    let code = mail_dns::code_of(finding);
    format!("{}{}", finding.advice(), for_finding(code))
}

/// What to add after the words of an error whose cause is `error`, when a flag fixes it.
pub fn for_error(error: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    if let Some(ResolverSetupError::NoNameServers) = error.downcast_ref() {
        return Some("; give one with --nameserver");
    }
    let mut publish = match error.downcast_ref() {
        Some(RotateError::Publish(publish)) => publish,
        _ => return None,
    };
    while let PublishError::Together(inner) = publish {
        publish = inner;
    }
    match publish {
        PublishError::NoZoneFile { .. } => Some("; add --zone-file ZONE=PATH for it"),
        PublishError::Api(api) if api.is_missing_zone() => {
            Some(", or give --nameserver so that rotate asks DNS which zone holds the name")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use dkim_core::key_check::{Finding, KeyProblem};

    use super::*;
    use crate::output::{describe, describe_cause};

    #[test]
    fn the_flag_that_fixes_a_library_error_is_added_after_its_words() {
        let no_servers = anyhow::Error::new(ResolverSetupError::NoNameServers);
        assert_eq!(
            describe(&no_servers.context("cannot set up DNS")),
            "cannot set up DNS: /etc/resolv.conf names no name server; give one with --nameserver"
        );
        let no_zone_file = || PublishError::NoZoneFile {
            name: "s._domainkey.example.com".to_owned(),
        };
        let together = PublishError::Together(Arc::new(no_zone_file()));
        for error in [no_zone_file(), together] {
            assert_eq!(
                describe_cause(&RotateError::Publish(error)),
                "no zone file given is for a zone holding s._domainkey.example.com; add \
                 --zone-file ZONE=PATH for it"
            );
        }
    }

    #[test]
    fn findings_name_the_flag_or_subcommand_that_does_what_they_advise() {
        let temporary = Finding::Key(KeyProblem::Lookup(dkim_dns::LookupError::Timeout {
            name: "s._domainkey.example.com".to_owned(),
        }));
        assert!(for_key_finding(&temporary).ends_with("or check that server (--nameserver)"));
        assert!(
            for_key_finding(&Finding::KeyMismatch)
                .ends_with("matches the record; dkimkit record -k KEYFILE prints a key's record")
        );
    }
}
