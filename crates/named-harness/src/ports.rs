//! Free ports on 127.0.0.1 for named to listen on.
//!
//! named binds its ports itself, so a port can only be checked free and handed over; another
//! process may take it in between. Ports are drawn at random from below the kernel's ephemeral
//! range (32768 and up on Linux), where the kernel never puts the client sockets it picks on its
//! own, so the only competitors are other harness servers; each port is handed out once per
//! process, and the server retries with new ports when named reports one taken anyway.

use std::collections::BTreeSet;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::sync::Mutex;

/// The loopback address every server listens on.
pub(crate) const LOOPBACK: Ipv4Addr = Ipv4Addr::LOCALHOST;

const FIRST_PORT: u16 = 20_000;
const PORT_COUNT: u16 = 12_000;
const MAX_TRIES: usize = 1_000;

static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// A port that is free on 127.0.0.1 for both UDP and TCP right now, and that no other server of
/// this process was given.
///
/// # Panics
///
/// When no free port turns up after many tries.
pub(crate) fn free_port() -> u16 {
    let mut handed_out = HANDED_OUT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    for _ in 0..MAX_TRIES {
        let port = FIRST_PORT + random_below(PORT_COUNT);
        if handed_out.contains(&port) {
            continue;
        }
        let address = SocketAddr::from((LOOPBACK, port));
        if UdpSocket::bind(address).is_ok() && TcpListener::bind(address).is_ok() {
            handed_out.insert(port);
            return port;
        }
    }
    panic!(
        "no free port on {LOOPBACK} between {FIRST_PORT} and {}",
        FIRST_PORT + PORT_COUNT
    );
}

/// A random number below `bound`, from the standard library's randomly keyed hasher (the
/// harness needs spread, not cryptographic quality).
fn random_below(bound: u16) -> u16 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    let value = hasher.finish() % u64::from(bound);
    u16::try_from(value).unwrap_or(0)
}
