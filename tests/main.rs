//! Tests of the dkimkit binary, against the real peers a mail administrator uses: BIND's
//! named-checkzone, OpenSSL and dkimpy. A missing peer fails the test with the command that
//! installs it (`bash .ci/setup` installs them all).

// In tests a panic is the failure report, helpers included.
#![allow(clippy::unwrap_used)]

mod check;
mod docs;
mod genkey;
mod hostile;
mod interop;
mod key_safety;
mod record;
mod rotate;
mod sign_verify;
mod testkey;
mod util;
mod verify_dns;
