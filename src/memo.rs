//! A bounded memory of facts that never change once known: a campaign's title, an Ed25519
//! signature that verified, an inclusion proof that held. Each memo belongs to the application's
//! `Caches` (src/caches.rs), never to the process. Verification answers the same questions over
//! and over (a poster scanned by a queue of people, a journalist re-checking); each remembered
//! answer saves a query or a public-key operation. Only facts that cannot become false may go in:
//! the key of an entry must name everything the answer depends on.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use rustc_hash::FxBuildHasher;

/// Remembers up to `capacity` answers; when full it forgets everything at once, which is cheaper
/// than tracking recency and costs only recomputation.
pub struct Memo<K, V> {
    capacity: usize,
    /// Fx, not SipHash: the keys are tree positions, hashes and codes read from our own records,
    /// not chosen by a visitor, and a scan looks up about twenty of them.
    known: Mutex<Option<HashMap<K, V, FxBuildHasher>>>,
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    pub const fn new(capacity: usize) -> Self {
        Self {
            capacity,
            known: Mutex::new(None),
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let known = self.known.lock().ok()?;
        known.as_ref()?.get(key).cloned()
    }

    pub fn remember(&self, key: K, value: V) {
        if let Ok(mut known) = self.known.lock() {
            let map = known.get_or_insert_with(HashMap::default);
            if map.len() >= self.capacity {
                map.clear();
            }
            map.insert(key, value);
        }
    }

    /// Remembers many answers under one lock; if they would overflow the memo it is emptied first.
    pub fn remember_all(&self, answers: impl IntoIterator<Item = (K, V)>) {
        if let Ok(mut known) = self.known.lock() {
            let map = known.get_or_insert_with(HashMap::default);
            for (key, value) in answers {
                if map.len() >= self.capacity {
                    map.clear();
                }
                map.insert(key, value);
            }
        }
    }

    /// The remembered answer, or `compute`'s, remembered when it is `Some`.
    pub fn get_or_try<E>(
        &self,
        key: K,
        compute: impl FnOnce() -> Result<Option<V>, E>,
    ) -> Result<Option<V>, E> {
        if let Some(known) = self.get(&key) {
            return Ok(Some(known));
        }
        let answer = compute()?;
        if let Some(value) = &answer {
            self.remember(key, value.clone());
        }
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_memo_forgets_and_keeps_answering() {
        let memo = Memo::new(2);
        memo.remember(1, "satu");
        memo.remember(2, "dua");
        assert_eq!(memo.get(&1), Some("satu"));
        memo.remember(3, "tiga");
        assert_eq!(memo.get(&1), None);
        assert_eq!(memo.get(&3), Some("tiga"));
        let computed = memo.get_or_try(4, || Ok::<_, ()>(Some("empat")));
        assert_eq!(computed, Ok(Some("empat")));
        assert_eq!(memo.get_or_try(4, || Err(())), Ok(Some("empat")));
        assert_eq!(memo.get_or_try(5, || Ok::<_, ()>(None)), Ok(None));
        assert_eq!(memo.get(&5), None);
    }
}
