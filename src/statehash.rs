//! One-pass 128-bit state hashing for the state cache ([`crate::engine::statecache`]).
//!
//! A [`StateHasher`] is a [`Hasher`] that only collects the bytes it is fed (a type's `Hash`
//! impl decides them, as for any hasher: lengths of slices included, so what is hashed stays
//! prefix-free) and hashes them once, with XXH3-128, when asked. It serves
//! `World::fingerprint` (about 800 bytes of state per decision of the bounded search), which
//! hashed the world twice with SipHash-1-3 (64 bits each, seeded apart): one XXH3 pass
//! instead took `verify -v V5 -s park-unpark -k 2` from 8.0 to 6.9 CPU seconds with the same
//! schedules, states and cuts. The collision odds stay those of a 128-bit hash: below 10^-20
//! over a billion states.
//!
//! The per-thread folds of `World::learn` and `World::forget` (a few words, at almost every
//! step of every replayed prefix) go through [`hash64`]: the same bytes, collected on the
//! stack ([`FoldHasher`]) and hashed with XXH3-64. Through a [`StateHasher`] they cost 11 % of
//! `verify -v V5 -s park-unpark --reduce` (the thread-local spare, the 128-bit hash).
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

    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
    }
}

/// The `write_*` methods of a [`Hasher`] that collects bytes through its `put`: integers at
/// their full width, little-endian (the same bytes for both hashers of this module).
macro_rules! byte_writes {
    () => {
        fn write(&mut self, bytes: &[u8]) {
            self.put(bytes);
        }

        fn write_u8(&mut self, i: u8) {
            self.put(&[i]);
        }

        fn write_u16(&mut self, i: u16) {
            self.put(&i.to_le_bytes());
        }

        fn write_u32(&mut self, i: u32) {
            self.put(&i.to_le_bytes());
        }

        fn write_u64(&mut self, i: u64) {
            self.put(&i.to_le_bytes());
        }

        fn write_u128(&mut self, i: u128) {
            self.put(&i.to_le_bytes());
        }

        fn write_usize(&mut self, i: usize) {
            self.write_u64(i as u64);
        }
    };
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

    byte_writes!();
}

/// The 128-bit hash of `x` (one [`StateHasher`] pass).
pub fn hash128(x: impl Hash) -> u128 {
    let mut h = StateHasher::new();
    x.hash(&mut h);
    h.finish128()
}

/// The 64-bit hash of `x`, for folding something into a running 64-bit fingerprint
/// (`hash64((old, x))`): one XXH3-64 pass over bytes collected on the stack
/// ([`FoldHasher`]), since what a thread learns at a step is a few words and it learns at
/// almost every step of every replayed prefix.
pub fn hash64(x: impl Hash) -> u64 {
    let mut h = FoldHasher::default();
    x.hash(&mut h);
    h.finish()
}

/// A [`Hasher`] for small values: collects up to [`FoldHasher::INLINE`] bytes on the stack,
/// the rest in a heap buffer, and hashes them with XXH3-64 when asked (the same bytes as a
/// [`StateHasher`] would collect, so the same prefix-freedom).
#[derive(Debug)]
pub struct FoldHasher {
    inline: [u8; FoldHasher::INLINE],
    len: usize,
    spill: Vec<u8>,
}

impl Default for FoldHasher {
    fn default() -> Self {
        FoldHasher {
            inline: [0; FoldHasher::INLINE],
            len: 0,
            spill: Vec::new(),
        }
    }
}

impl FoldHasher {
    /// Bytes kept on the stack.
    pub const INLINE: usize = 64;

    // Inlined into each fixed-width write, so that its copy is a few stores, not a call.
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        if self.spill.is_empty() && self.len + bytes.len() <= Self::INLINE {
            self.inline[self.len..self.len + bytes.len()].copy_from_slice(bytes);
            self.len += bytes.len();
        } else {
            if self.spill.is_empty() {
                self.spill.extend_from_slice(&self.inline[..self.len]);
            }
            self.spill.extend_from_slice(bytes);
        }
    }
}

impl Hasher for FoldHasher {
    fn finish(&self) -> u64 {
        if self.spill.is_empty() {
            xxhash_rust::xxh3::xxh3_64(&self.inline[..self.len])
        } else {
            xxhash_rust::xxh3::xxh3_64(&self.spill)
        }
    }

    byte_writes!();
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
        assert_ne!(hash64((1u32, "park")), hash64((1u32, "unpark")));
        assert_eq!(hash64(5u8), xxhash_rust::xxh3::xxh3_64(&[5]));
    }

    #[test]
    fn a_fold_hashes_the_bytes_a_state_hasher_collects_inline_or_spilled() {
        let small = (3u64, "blocked", Some(2u8));
        let big = (vec![7u32; 40], "a long value", 9u128);
        let mut s = StateHasher::new();
        small.hash(&mut s);
        assert_eq!(hash64(small), xxhash_rust::xxh3::xxh3_64(s.bytes()));
        let mut s = StateHasher::new();
        big.hash(&mut s);
        assert!(s.bytes().len() > FoldHasher::INLINE, "spills");
        assert_eq!(hash64(&big), xxhash_rust::xxh3::xxh3_64(s.bytes()));
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
                assert!(seen.insert(u128::from(hash64((u64::from(a), b))) | 1 << 127));
            }
        }
    }
}
