//! One answer per name for a whole run.
//!
//! A run checks many keys and messages, and many of them share a selector; asking DNS again for
//! each would be slow and could give different answers within one report. Errors are kept too:
//! a name that timed out once is not retried behind the user's back (the exit code says "retry
//! later", RFC 6376 6.1.2). When several threads ask for the same name at once, one asks the
//! inner lookup and the others wait for its answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::names::comparable_name;
use super::{KeyLookup, LookupError, TxtAnswer};

type Outcome = Result<TxtAnswer, LookupError>;

/// Wraps a lookup and remembers every answer and every error for as long as it lives.
#[derive(Debug)]
pub struct CachingLookup<L> {
    inner: L,
    /// One cell per name (as [`comparable_name`] writes it); the first caller fills it, the
    /// others wait on it.
    outcomes: Mutex<HashMap<String, Arc<OnceLock<Outcome>>>>,
}

impl<L: KeyLookup> CachingLookup<L> {
    /// Caches the answers of `inner`.
    pub fn new(inner: L) -> Self {
        CachingLookup {
            inner,
            outcomes: Mutex::new(HashMap::new()),
        }
    }

    /// The wrapped lookup.
    pub fn inner(&self) -> &L {
        &self.inner
    }

    /// The cell for `name`, made on first use. The map's lock is held only for this, never
    /// during a lookup, so lookups of different names run in parallel.
    fn cell(&self, name: &str) -> Arc<OnceLock<Outcome>> {
        // A poisoned lock only means another thread panicked while holding it; the map itself is
        // always consistent (one insert), so it is still safe to use.
        let mut outcomes = self
            .outcomes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(outcomes.entry(comparable_name(name)).or_default())
    }
}

impl<L: KeyLookup> KeyLookup for CachingLookup<L> {
    fn lookup_txt(&self, name: &str) -> Result<TxtAnswer, LookupError> {
        // OnceLock runs the lookup once; concurrent callers block until it is done.
        self.cell(name)
            .get_or_init(|| self.inner.lookup_txt(name))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc::{Receiver, Sender, channel};
    use std::sync::{Barrier, Mutex};
    use std::thread;

    use super::*;
    use crate::dns::{DnssecStatus, StaticLookup};

    /// Counts the lookups that reach it; the first one announces itself and then waits to be
    /// released, so the test controls when it finishes.
    struct CountingLookup {
        inner: StaticLookup,
        calls: AtomicUsize,
        started: Mutex<Sender<()>>,
        release: Mutex<Receiver<()>>,
    }

    impl KeyLookup for CountingLookup {
        fn lookup_txt(&self, name: &str) -> Result<TxtAnswer, LookupError> {
            if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
                self.started.lock().unwrap().send(()).unwrap();
                self.release.lock().unwrap().recv().unwrap();
            }
            self.inner.lookup_txt(name)
        }
    }

    fn counting(inner: StaticLookup) -> (CountingLookup, Receiver<()>, Sender<()>) {
        let (started_sender, started) = channel();
        let (release, release_receiver) = channel();
        let lookup = CountingLookup {
            inner,
            calls: AtomicUsize::new(0),
            started: Mutex::new(started_sender),
            release: Mutex::new(release_receiver),
        };
        (lookup, started, release)
    }

    #[test]
    fn concurrent_lookups_of_a_name_make_one_query() {
        const THREADS: usize = 8;
        let (inner, started, release) =
            counting(StaticLookup::new().with("s._domainkey.example.com", "v=DKIM1; p="));
        let cache = CachingLookup::new(inner);
        let barrier = Barrier::new(THREADS);
        let answers = thread::scope(|scope| {
            let handles: Vec<_> = (0..THREADS)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        cache.lookup_txt("s._domainkey.example.com")
                    })
                })
                .collect();
            // The first lookup is inside the inner lookup, holding it until released; every
            // other thread is past the barrier and asking the cache meanwhile.
            started.recv().unwrap();
            release.send(()).unwrap();
            handles
                .into_iter()
                .map(|handle| handle.join().unwrap())
                .collect::<Vec<_>>()
        });
        assert_eq!(cache.inner().calls.load(Ordering::SeqCst), 1);
        assert_eq!(answers.len(), THREADS);
        for answer in answers {
            let answer = answer.unwrap();
            assert_eq!(answer.records, ["v=DKIM1; p="]);
            assert_eq!(answer.dnssec, DnssecStatus::NotValidated);
        }
    }

    #[test]
    fn answers_and_errors_are_kept_per_name() {
        let (inner, started, release) =
            counting(StaticLookup::new().with("a._domainkey.example.com", "v=DKIM1; p="));
        release.send(()).unwrap();
        let cache = CachingLookup::new(inner);
        assert!(cache.lookup_txt("a._domainkey.example.com").is_ok());
        started.recv().unwrap();
        assert!(cache.lookup_txt("A._domainkey.example.com.").is_ok());
        let missing = cache.lookup_txt("b._domainkey.example.com");
        assert!(matches!(missing, Err(LookupError::NoSuchName { .. })));
        assert_eq!(cache.lookup_txt("b._domainkey.example.com"), missing);
        assert_eq!(cache.inner().calls.load(Ordering::SeqCst), 2);
    }
}
