//! One-pass 128-bit state hashing for the state cache ([`crate::engine::statecache`]).
//!
//! A [`StateHasher`] is a [`Hasher`] that only collects the bytes it is fed (a type's `Hash`
//! impl decides them, as for any hasher: lengths of slices included, so what is hashed stays
//! prefix-free) and hashes them once, with XXH3-128, when asked. It is meant for
//! `World::fingerprint` (about 800 bytes of state per decision of the bounded search), which
//! hashes the world twice with SipHash-1-3 (64 bits each, seeded apart), and for the
//! per-thread folds of `World::learn` and `World::forget` (one SipHash each). One XXH3 pass
//! instead took `verify -v V5 -s park-unpark -k 2` from 8.0 to 6.9 CPU seconds with the same
//! schedules, states and cuts. The collision odds stay those of a 128-bit hash: below 10^-20
//! over a billion states.
//!
//! Integers are written at their full width: a variable-length code (LEB128) made a third of
//! the bytes but cost more to write than it saved in hashing (7.7 CPU seconds on the same
//! search). The buffer is taken from, and given back to, a per-thread spare, so a fingerprint
//! allocates nothing once the thread has made one.

use std::cell::Cell;
use std::hash::{Hash, Hasher};

thread_local! {
    /// A buffer kept for the thread's next hasher.
    static SPARE: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Collects what is hashed into it; [`StateHasher::finish128`] hashes it in one pass.
#[derive(Debug)]
pub struct StateHasher {
    bytes: Vec<u8>,
}

impl Default for StateHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl StateHasher {
    /// A hasher with nothing in it.
    pub fn new() -> Self {
        let mut bytes = SPARE.take();
        bytes.clear();
        StateHasher { bytes }
    }

    /// The 128-bit hash (XXH3-128) of everything written so far.
    pub fn finish128(&self) -> u128 {
        xxhash_rust::xxh3::xxh3_128(&self.bytes)
    }

    /// The bytes written so far.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for StateHasher {
    fn drop(&mut self) {
        // Keep the larger buffer: a fingerprint's, rather than a small fold's.
        let mine = std::mem::take(&mut self.bytes);
        let other = SPARE.take();
        SPARE.set(if mine.capacity() >= other.capacity() {
            mine
        } else {
            other
        });
    }
}

impl Hasher for StateHasher {
    /// The low 64 bits of [`StateHasher::finish128`] (XXH3-128's low half is as good a
    /// 64-bit hash as XXH3-64).
    fn finish(&self) -> u64 {
        self.finish128() as u64
    }

    fn write(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
    }

    fn write_u8(&mut self, i: u8) {
        self.bytes.push(i);
    }

    fn write_u16(&mut self, i: u16) {
        self.bytes.extend_from_slice(&i.to_le_bytes());
    }

    fn write_u32(&mut self, i: u32) {
        self.bytes.extend_from_slice(&i.to_le_bytes());
    }

    fn write_u64(&mut self, i: u64) {
        self.bytes.extend_from_slice(&i.to_le_bytes());
    }

    fn write_u128(&mut self, i: u128) {
        self.bytes.extend_from_slice(&i.to_le_bytes());
    }

    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
}

/// The 128-bit hash of `x` (one [`StateHasher`] pass).
pub fn hash128(x: impl Hash) -> u128 {
    let mut h = StateHasher::new();
    x.hash(&mut h);
    h.finish128()
}

/// The 64-bit hash of `x`, for folding something into a running 64-bit fingerprint
/// (`hash64((old, x))`).
pub fn hash64(x: impl Hash) -> u64 {
    hash128(x) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_hash_equal_and_different_ones_apart() {
        let a = (1u32, "park", vec![1u8, 2, 3], Some(7u64));
        assert_eq!(hash128(&a), hash128(a.clone()));
        assert_ne!(hash128((1u32, "park")), hash128((1u32, "unpark")));
        assert_ne!(hash128(1u32), hash128(1u64), "widths are distinct bytes");
        assert_eq!(hash64(5u8), hash128(5u8) as u64);
    }

    #[test]
    fn what_is_hashed_stays_prefix_free() {
        // Slices write their length first, so moving an element from one to the other
        // changes the bytes.
        let x: (Vec<u8>, Vec<u8>) = (vec![1, 2], vec![3]);
        let y: (Vec<u8>, Vec<u8>) = (vec![1], vec![2, 3]);
        assert_ne!(hash128(&x), hash128(&y));
        let (mut hx, mut hy) = (StateHasher::new(), StateHasher::new());
        x.hash(&mut hx);
        y.hash(&mut hy);
        assert_ne!(hx.bytes(), hy.bytes());
    }

    #[test]
    fn a_hasher_starts_empty_whatever_the_spare_held() {
        let mut h = StateHasher::new();
        0xdead_beef_u64.hash(&mut h);
        drop(h);
        let h = StateHasher::new();
        assert!(h.bytes().is_empty());
        assert_eq!(h.finish128(), xxhash_rust::xxh3::xxh3_128(&[]));
    }

    #[test]
    fn many_small_states_do_not_collide() {
        let mut seen = std::collections::HashSet::new();
        for a in 0u32..200 {
            for b in 0u8..50 {
                assert!(seen.insert(hash128((a, b, [a as u8; 3]))));
                assert!(seen.insert(hash64((u64::from(a), b)) as u128 | 1 << 127));
            }
        }
    }
}
