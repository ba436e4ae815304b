//! Tests of the dkimkit binary, against the real peers a mail administrator uses: BIND's
//! named-checkzone, OpenSSL and dkimpy. A missing peer fails the test with the command that
//! installs it (`bash .ci/setup` installs them all).

// In tests a panic is the failure report, helpers included.
#![allow(clippy::unwrap_used)]

mod check;
mod dnssec_policy;
mod docs;
mod genkey;
mod genzone;
mod hostile;
mod interop;
mod json_docs;
mod key_safety;
mod mail_host;
mod mistakes;
mod opendkim_conf;
mod record;
mod rotate;
mod rotate_host;
mod rotate_provider;
mod sign_verify;
mod testkey;
mod util;
mod verify_dns;
