//! One answer per name for a whole run.
//!
//! A run checks many keys and messages, and many of them share a selector; asking DNS again for
//! each would be slow and could give different answers within one report. Errors are kept too:
//! a name that timed out once is not retried behind the user's back (the exit code says "retry
//! later", RFC 6376 6.1.2). When several threads ask for the same name at once, one asks the
//! inner lookup and the others wait for its answer.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, OnceLock};

use super::records::{RecordKind, RecordLookup, Records};
use super::{KeyLookup, LookupError, TxtAnswer};
use dkim_core::lookup::comparable_name;

/// Wraps a lookup and remembers every answer and every error for as long as it lives: key
/// records by name, and other records by name and type.
#[derive(Debug)]
pub struct CachingLookup<L> {
    inner: L,
    txt: OnceMap<String, Result<TxtAnswer, LookupError>>,
    records: OnceMap<(String, RecordKind), Result<Records, LookupError>>,
}

/// One value per key, computed once: the first caller fills a key's cell, the others wait on it.
#[derive(Debug)]
struct OnceMap<K, V> {
    cells: Mutex<HashMap<K, Arc<OnceLock<V>>>>,
}

impl<K: Eq + Hash, V: Clone> OnceMap<K, V> {
    fn new() -> Self {
        OnceMap {
            cells: Mutex::new(HashMap::new()),
        }
    }

    /// The value for `key`, computed by `compute` if no one has yet. The map's lock is held only
    /// to find the cell, never during `compute`, so different keys are computed in parallel.
    fn get_or_compute(&self, key: K, compute: impl FnOnce() -> V) -> V {
        let cell = {
            // A poisoned lock only means another thread panicked while holding it; the map
            // itself is always consistent (one insert), so it is still safe to use.
            let mut cells = self
                .cells
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            Arc::clone(cells.entry(key).or_default())
        };
        // OnceLock runs `compute` once; concurrent callers block until it is done.
        cell.get_or_init(compute).clone()
    }
}

impl<L> CachingLookup<L> {
    /// Caches the answers of `inner`.
    pub fn new(inner: L) -> Self {
        CachingLookup {
            inner,
            txt: OnceMap::new(),
            records: OnceMap::new(),
        }
    }

    /// The wrapped lookup.
    pub fn inner(&self) -> &L {
        &self.inner
    }
}

impl<L: KeyLookup> KeyLookup for CachingLookup<L> {
    fn lookup_txt(&self, name: &str) -> Result<TxtAnswer, LookupError> {
        self.txt
            .get_or_compute(comparable_name(name), || self.inner.lookup_txt(name))
    }
}

impl<L: RecordLookup> RecordLookup for CachingLookup<L> {
    fn lookup_records(&self, name: &str, kind: RecordKind) -> Result<Records, LookupError> {
        self.records
            .get_or_compute((comparable_name(name), kind), || {
                self.inner.lookup_records(name, kind)
            })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc::{Receiver, Sender, channel};
    use std::sync::{Barrier, Mutex};
    use std::thread;

    use super::*;
    use crate::{DnssecStatus, StaticLookup};

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

    /// Counts the record lookups that reach it.
    #[derive(Default)]
    struct CountingRecords {
        calls: AtomicUsize,
    }

    impl RecordLookup for CountingRecords {
        fn lookup_records(&self, _: &str, kind: RecordKind) -> Result<Records, LookupError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            Ok(Records {
                name_exists: true,
                data: vec![crate::RecordData::Text(kind.to_string())],
                cname_chain: Vec::new(),
                dnssec: DnssecStatus::NotValidated,
            })
        }
    }

    #[test]
    fn records_are_kept_per_name_and_type() {
        let cache = CachingLookup::new(CountingRecords::default());
        let txt = cache.lookup_records("a.example", RecordKind::Txt).unwrap();
        assert_eq!(txt.texts().collect::<Vec<_>>(), ["TXT"]);
        assert_eq!(
            cache.lookup_records("A.Example.", RecordKind::Txt).unwrap(),
            txt
        );
        let mx = cache.lookup_records("a.example", RecordKind::Mx).unwrap();
        assert_eq!(mx.texts().collect::<Vec<_>>(), ["MX"]);
        assert_eq!(cache.inner().calls.load(Ordering::SeqCst), 2);
    }
}
