//! Key records parsed once per run rather than once per message.
//!
//! Verifying a batch, the messages that share a selector share its record: parsing the tag
//! list, decoding the key and preparing it for aws-lc cost as much as a tenth of verifying a
//! small message, so they are done once per record text and kept. A changed record is a
//! different text, and is parsed afresh.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::crypto::VerifyingKey;
use crate::key::PublicKey;
use crate::record::{KeyRecord, RecordError};

/// A key record, and its public key ready to verify with.
pub(crate) struct PreparedKey {
    pub(crate) record: KeyRecord,
    /// The key, or why there is none (a revoked record's `p=` is empty).
    pub(crate) key: Result<PublicKey, Arc<RecordError>>,
    /// The key prepared for aws-lc, or why there is none or aws-lc refuses it.
    pub(crate) verifying: Result<VerifyingKey, Arc<RecordError>>,
}

impl PreparedKey {
    fn parse(text: &str) -> Result<Self, RecordError> {
        let record = KeyRecord::parse(text)?;
        let key = record.public_key().map_err(Arc::new);
        let verifying = match &key {
            Ok(key) => {
                VerifyingKey::new(key).map_err(|e| Arc::new(RecordError::UnusablePublicKey(e)))
            }
            Err(e) => Err(Arc::clone(e)),
        };
        Ok(PreparedKey {
            record,
            key,
            verifying,
        })
    }
}

/// Prepared keys by record text, shared by the threads verifying a batch.
#[derive(Default)]
pub(crate) struct PreparedKeys {
    by_text: Mutex<HashMap<String, Arc<PreparedKey>>>,
}

impl PreparedKeys {
    /// The record `text` prepared, from the cache or parsed now. Records that do not parse are
    /// not kept: they are rare, and their error is what the caller reports.
    pub(crate) fn get(&self, text: &str) -> Result<Arc<PreparedKey>, RecordError> {
        if let Some(prepared) = self.lock().get(text) {
            return Ok(Arc::clone(prepared));
        }
        // Parsed outside the lock, so threads meeting a new record at once do not queue; the
        // first to finish is kept.
        let prepared = Arc::new(PreparedKey::parse(text)?);
        Ok(Arc::clone(
            self.lock().entry(text.to_owned()).or_insert(prepared),
        ))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<PreparedKey>>> {
        // A panic while holding the lock leaves only a complete map behind.
        self.by_text
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::{KeySpec, PrivateKey};

    fn record_text() -> String {
        let key = PrivateKey::generate(KeySpec::Ed25519).unwrap();
        KeyRecord::new(&key.public_key()).to_value()
    }

    #[test]
    fn a_record_is_parsed_once_and_a_changed_one_again() {
        let keys = PreparedKeys::default();
        let (first, second) = (record_text(), record_text());
        let a = keys.get(&first).unwrap();
        assert!(Arc::ptr_eq(&a, &keys.get(&first).unwrap()));
        let b = keys.get(&second).unwrap();
        assert!(!Arc::ptr_eq(&a, &b));
        assert!(a.verifying.is_ok() && b.verifying.is_ok());
    }

    #[test]
    fn a_revoked_record_is_kept_with_the_reason_it_has_no_key() {
        let keys = PreparedKeys::default();
        let revoked = keys.get("v=DKIM1; k=rsa; p=").unwrap();
        assert!(revoked.record.is_revoked());
        assert!(revoked.key.is_err() && revoked.verifying.is_err());
        assert!(keys.get("v=DKIM1; k=rsa; p=!!!").is_err());
    }
}
