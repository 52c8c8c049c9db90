//! `LiveSet`: the addresses of the port's live records (devices, adapters, locked MDLs), asked
//! "is this address one of them?" without a lock and without dereferencing the address.
//!
//! Every handle a miniport passes in (a `HwDeviceExtension`, a `PVP_DMA_ADAPTER`, an MDL) is
//! checked by comparing its value against the addresses the port handed out and has not taken
//! back, exactly what the locked list walks do. A foreign, made-up or stale pointer is only
//! compared, never read. This set answers most lookups from a fixed array of atomics: one load
//! of the high-water mark, then one load and compare per slot in use (for a video device: one
//! or two). The record lists behind their locks stay the owners' source of truth for
//! everything else (iteration, reclaiming), and for the records that did not fit the array.
//!
//! Invariants (writers are serialised by the owner: every `insert` and `remove` runs under the
//! lock of the owner's list, together with the list change):
//! - an address is in at most one slot, and only between its `insert` and its `remove`;
//! - `overflow` counts the inserted, not yet removed addresses that are in no slot. An address
//!   never moves between a slot and the overflow, so a live address is either in a slot for its
//!   whole life or counted in `overflow` for its whole life;
//! - `high` is at least one past every occupied slot.
//!
//! Hence [`LiveSet::lookup`]: an address found in a slot was inserted and not yet removed when
//! the slot was read; an address not found while `overflow` is 0 is not live (for any address
//! inserted before the lookup started: a slot store is published before `high` is raised, and
//! an address is handed to a miniport only after its `insert` returned). When `overflow` is not
//! 0, the answer is "maybe", and the caller walks its locked list. As with the locked walk, the
//! answer is about the moment of the lookup: a record the caller is using may not be removed
//! concurrently (each owner's documented contract), and a record freed and reallocated at the
//! same address is, like before, indistinguishable from the new one.

// The `models` crate compiles this file with loom's atomics to check its interleavings.
#[cfg(not(loom))]
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
#[cfg(loom)]
use loom::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

/// What [`LiveSet::lookup`] knows about an address.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Lookup {
    /// Inserted and not removed.
    Live,
    /// Not live.
    NotLive,
    /// Not in the array, and some live addresses are only in the owner's locked list.
    Ask,
}

pub(crate) struct LiveSet<T, const N: usize> {
    slots: [AtomicPtr<T>; N],
    /// One past the highest slot that may be occupied.
    high: AtomicUsize,
    /// Live addresses that are in no slot (see the invariants).
    overflow: AtomicUsize,
}

impl<T, const N: usize> LiveSet<T, N> {
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Self {
            slots: [const { AtomicPtr::new(core::ptr::null_mut()) }; N],
            high: AtomicUsize::new(0),
            overflow: AtomicUsize::new(0),
        }
    }

    /// Loom's atomics cannot be built in a constant.
    #[cfg(loom)]
    pub fn new() -> Self {
        Self {
            slots: core::array::from_fn(|_| AtomicPtr::new(core::ptr::null_mut())),
            high: AtomicUsize::new(0),
            overflow: AtomicUsize::new(0),
        }
    }

    /// Records a live address. The caller holds the owner's lock (writers are serialised) and
    /// `address` is non-NULL and not currently inserted.
    pub fn insert(&self, address: *mut T) {
        let free = self
            .slots
            .iter()
            .position(|s| s.load(Ordering::Relaxed).is_null());
        match free {
            Some(i) => {
                self.slots[i].store(address, Ordering::Release);
                if i >= self.high.load(Ordering::Relaxed) {
                    self.high.store(i + 1, Ordering::Release);
                }
            }
            None => {
                self.overflow.fetch_add(1, Ordering::AcqRel);
            }
        }
    }

    /// Forgets an address [`insert`](Self::insert)ed before. The caller holds the owner's
    /// lock, and `address` is inserted (the owner just took its record out of its list).
    pub fn remove(&self, address: *mut T) {
        let high = self.high.load(Ordering::Relaxed);
        match self.slots[..high.min(N)]
            .iter()
            .position(|s| s.load(Ordering::Relaxed) == address)
        {
            Some(i) => {
                self.slots[i].store(core::ptr::null_mut(), Ordering::Release);
                // Lower the mark past trailing free slots, so lookups stay short.
                let mut high = high;
                while high > 0 && self.slots[high - 1].load(Ordering::Relaxed).is_null() {
                    high -= 1;
                }
                self.high.store(high, Ordering::Release);
            }
            None => {
                self.overflow.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }

    /// Whether `address` is live; never dereferences it. Callable at any IRQL, lock-free.
    #[inline]
    pub fn lookup(&self, address: *const T) -> Lookup {
        if address.is_null() {
            return Lookup::NotLive;
        }
        // The first slot holds a device's first adapter, the first device, the oldest locked
        // buffer: most lookups end here. (Empty, it holds NULL, which `address` is not.)
        if let Some(first) = self.slots.first() {
            if core::ptr::eq(first.load(Ordering::Acquire), address) {
                return Lookup::Live;
            }
        }
        let high = self.high.load(Ordering::Acquire).min(N);
        for slot in self.slots[..high].iter().skip(1) {
            if core::ptr::eq(slot.load(Ordering::Acquire), address) {
                return Lookup::Live;
            }
        }
        if self.overflow.load(Ordering::Acquire) == 0 {
            Lookup::NotLive
        } else {
            Lookup::Ask
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn addr(n: usize) -> *mut u64 {
        (n * 8) as *mut u64
    }

    #[test]
    fn inserted_addresses_are_live_until_removed() {
        let set: LiveSet<u64, 2> = LiveSet::new();
        assert_eq!(set.lookup(addr(1)), Lookup::NotLive);
        set.insert(addr(1));
        set.insert(addr(2));
        assert_eq!(set.lookup(addr(1)), Lookup::Live);
        assert_eq!(set.lookup(addr(2)), Lookup::Live);
        assert_eq!(set.lookup(addr(3)), Lookup::NotLive);
        assert_eq!(set.lookup(core::ptr::null()), Lookup::NotLive);
        set.remove(addr(1));
        assert_eq!(set.lookup(addr(1)), Lookup::NotLive);
        assert_eq!(set.lookup(addr(2)), Lookup::Live);
        set.remove(addr(2));
        assert_eq!(set.high.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_full_array_sends_lookups_to_the_owner_until_the_overflow_is_gone() {
        let set: LiveSet<u64, 2> = LiveSet::new();
        set.insert(addr(1));
        set.insert(addr(2));
        set.insert(addr(3)); // overflow
        assert_eq!(set.lookup(addr(1)), Lookup::Live);
        assert_eq!(set.lookup(addr(3)), Lookup::Ask);
        assert_eq!(set.lookup(addr(4)), Lookup::Ask);
        // A slot frees up, but the overflowed address does not move into it.
        set.remove(addr(1));
        set.insert(addr(5));
        assert_eq!(set.lookup(addr(5)), Lookup::Live);
        assert_eq!(set.lookup(addr(3)), Lookup::Ask);
        set.remove(addr(3));
        assert_eq!(set.lookup(addr(3)), Lookup::NotLive);
        assert_eq!(set.lookup(addr(4)), Lookup::NotLive);
    }
}
