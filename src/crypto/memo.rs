//! A bounded memory of verification results, keyed by a SHA-256 digest of what
//! was verified (an access token; a signature with its content and CA): the
//! same bytes are checked again and again, and the check is a function of them
//! alone. When full it is emptied whole, which bounds memory under any load
//! (the active clients verify once more each).

use std::collections::HashMap;
use std::sync::Mutex;

/// Results remembered by digest, at most `max` at once.
#[derive(Debug)]
pub struct Memo<V> {
    max: usize,
    entries: Mutex<HashMap<[u8; 32], V>>,
}

impl<V: Clone> Memo<V> {
    /// An empty memory of at most `max` entries.
    pub fn new(max: usize) -> Self {
        Self {
            max: max.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The result remembered for `key`, if any.
    pub fn get(&self, key: &[u8; 32]) -> Option<V> {
        self.entries.lock().ok()?.get(key).cloned()
    }

    /// Remembers `value` for `key` (emptying the memory first when it is full).
    pub fn put(&self, key: [u8; 32], value: V) {
        if let Ok(mut m) = self.entries.lock() {
            if m.len() >= self.max && !m.contains_key(&key) {
                m.clear();
            }
            m.insert(key, value);
        }
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.entries.lock().map(|m| m.len()).unwrap_or_default()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::Memo;

    #[test]
    fn the_memory_never_holds_more_than_its_bound() {
        let m = Memo::new(3);
        for i in 0..3u8 {
            m.put([i; 32], i);
        }
        assert_eq!((m.len(), m.get(&[2; 32])), (3, Some(2)));
        // The same key again is an update, not a fourth entry.
        m.put([2; 32], 9);
        assert_eq!((m.len(), m.get(&[0; 32])), (3, Some(0)));
        // A fourth key empties the memory first.
        m.put([7; 32], 7);
        assert_eq!(
            (m.len(), m.get(&[0; 32]), m.get(&[7; 32])),
            (1, None, Some(7))
        );
        for i in 0..100u8 {
            m.put([i; 32], i);
            assert!(m.len() <= 3);
        }
    }
}
