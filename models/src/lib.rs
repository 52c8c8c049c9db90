//! The port's lock-free structures, compiled from videoprt-rs's own source files with loom's
//! atomics (this crate builds with `cfg(loom)`), so that the tests below explore their
//! interleavings. Nothing here is a copy: the `#[path]` modules are the shipped code.
//!
//! Checked so far:
//! - `live::LiveSet`, the lock-free "is this handle one of ours?" check that every export (the
//!   ISR-level ones included) runs against device, adapter and MDL records while other threads
//!   insert and remove them;
//! - `transfer::TransferSlot`, the per-adapter slot state machine: StartDma claims racing each
//!   other, CompleteDma racing a duplicate CompleteDma and the removal-time reclaim, a late
//!   duplicate completion racing the slot's reuse for the next transfer. (The slot's
//!   non-atomic fields are outside loom's view; their ownership follows from the atomics
//!   checked here.)
//! - `pending::PendingCallbacks` with the slots, as an adapter's release uses them: a
//!   deferred HAL callback racing the release (device removal), VideoPortPutDmaAdapter with
//!   one transfer active and being completed and another still queued with the HAL, and a
//!   miniport completing inside its HwVidExecuteDma while the adapter is released. Every
//!   HAL list goes back exactly once, every slot ends FREE, and the miniport's routine never
//!   runs on a released adapter.

// Its items are crate-visible in the port; here only the tests below use them.
#[allow(dead_code)]
#[path = "../../videoprt-rs/src/live.rs"]
mod live;

/// The adapter type `transfer.rs` names (only as a pointer it stores).
mod adapter {
    pub struct Adapter;
}

#[allow(dead_code)]
#[path = "../../videoprt-rs/src/dma/transfer.rs"]
mod transfer;

#[allow(dead_code)]
#[path = "../../videoprt-rs/src/dma/pending.rs"]
mod pending;

#[cfg(test)]
mod release;

#[cfg(test)]
mod tests {
    use super::live::{LiveSet, Lookup};
    use loom::sync::atomic::{AtomicBool, Ordering};
    use loom::sync::{Arc, Mutex};
    use loom::thread;

    /// A fake record address (only compared, never dereferenced).
    fn addr(n: usize) -> *mut u64 {
        (n * 8) as *mut u64
    }

    /// The owner's lock, which serialises writers (the set's documented contract).
    struct Owner {
        set: LiveSet<u64, 2>,
        lock: Mutex<()>,
    }

    impl Owner {
        fn insert(&self, n: usize) {
            let _g = self.lock.lock().unwrap();
            self.set.insert(addr(n));
        }
        fn remove(&self, n: usize) {
            let _g = self.lock.lock().unwrap();
            self.set.remove(addr(n));
        }
    }

    pub(crate) fn model(f: impl Fn() + Sync + Send + 'static) {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(3);
        builder.check(f);
    }

    /// A handle given to a miniport after its insert is never denied by a lookup on another
    /// thread (Live, or Ask when it had to go to the owner's list), while other records come
    /// and go and move the high-water mark down and up; an address never inserted is never
    /// live, nor a removed one once all is done.
    #[test]
    fn a_published_handle_is_found_while_others_come_and_go() {
        model(|| {
            let owner = Arc::new(Owner {
                set: LiveSet::new(),
                lock: Mutex::new(()),
            });
            owner.insert(1);
            let handed_over = Arc::new(AtomicBool::new(false));
            let writer = {
                let (owner, handed_over) = (owner.clone(), handed_over.clone());
                thread::spawn(move || {
                    owner.insert(2);
                    handed_over.store(true, Ordering::Release);
                    owner.remove(1);
                })
            };
            let churn = {
                let owner = owner.clone();
                thread::spawn(move || {
                    owner.insert(3);
                    owner.remove(3);
                })
            };
            if handed_over.load(Ordering::Acquire) {
                assert_ne!(owner.set.lookup(addr(2)), Lookup::NotLive);
            }
            assert_ne!(owner.set.lookup(addr(9)), Lookup::Live);
            writer.join().unwrap();
            churn.join().unwrap();
            assert_ne!(owner.set.lookup(addr(2)), Lookup::NotLive);
            assert_ne!(owner.set.lookup(addr(1)), Lookup::Live);
        });
    }

    /// Once a removal is known to a thread, that thread never sees the address live again.
    #[test]
    fn a_removed_handle_is_not_live_once_its_removal_is_known() {
        model(|| {
            let owner = Arc::new(Owner {
                set: LiveSet::new(),
                lock: Mutex::new(()),
            });
            owner.insert(1);
            let removed = Arc::new(AtomicBool::new(false));
            let remover = {
                let (owner, removed) = (owner.clone(), removed.clone());
                thread::spawn(move || {
                    owner.remove(1);
                    removed.store(true, Ordering::Release);
                })
            };
            let churn = {
                let owner = owner.clone();
                thread::spawn(move || {
                    owner.insert(4);
                    owner.insert(5); // fills the array: overflow
                    owner.remove(5);
                    owner.remove(4);
                })
            };
            if removed.load(Ordering::Acquire) {
                assert_ne!(owner.set.lookup(addr(1)), Lookup::Live);
            }
            remover.join().unwrap();
            churn.join().unwrap();
            assert_eq!(owner.set.lookup(addr(1)), Lookup::NotLive);
            assert_eq!(owner.set.lookup(addr(4)), Lookup::NotLive);
        });
    }

    /// A handle that did not fit the array is never answered "not live" while it lives: the
    /// lookup sends the caller to the owner's list instead.
    #[test]
    fn an_overflowed_handle_is_never_denied() {
        model(|| {
            let owner = Arc::new(Owner {
                set: LiveSet::new(),
                lock: Mutex::new(()),
            });
            owner.insert(1);
            owner.insert(2);
            let handed_over = Arc::new(AtomicBool::new(false));
            let writer = {
                let (owner, handed_over) = (owner.clone(), handed_over.clone());
                thread::spawn(move || {
                    owner.insert(3); // no free slot
                    handed_over.store(true, Ordering::Release);
                    owner.remove(1);
                    owner.insert(6); // takes the freed slot
                })
            };
            if handed_over.load(Ordering::Acquire) {
                assert_ne!(owner.set.lookup(addr(3)), Lookup::NotLive);
            }
            writer.join().unwrap();
            assert_eq!(owner.set.lookup(addr(3)), Lookup::Ask);
            assert_eq!(owner.set.lookup(addr(6)), Lookup::Live);
        });
    }

    mod slots {
        use crate::transfer::{TransferParams, TransferSlot, ACTIVE, FREE};
        use ddk_sys::{PSCATTER_GATHER_LIST, PVOID, PVP_DMA_ADAPTER, PVP_SCATTER_GATHER_LIST};
        use loom::sync::atomic::{AtomicUsize, Ordering};
        use loom::sync::Arc;
        use loom::thread;

        #[ddk_sys::ntapi]
        unsafe extern "ntapi" fn execute(
            _: PVOID,
            _: PVP_DMA_ADAPTER,
            _: PVP_SCATTER_GATHER_LIST,
            _: PVOID,
        ) {
        }

        fn params() -> TransferParams {
            TransferParams {
                execute,
                context: core::ptr::null_mut(),
                write_to_device: true,
            }
        }

        /// A fake HAL list address (only compared).
        fn list(n: usize) -> PSCATTER_GATHER_LIST {
            (n * 64) as PSCATTER_GATHER_LIST
        }

        /// StartDma on one slot from two threads: exactly one claims it.
        #[test]
        fn one_start_claims_a_free_slot() {
            super::model(|| {
                let slot = Arc::new(TransferSlot::new());
                let wins = Arc::new(AtomicUsize::new(0));
                let starts: Vec<_> = (0..2)
                    .map(|_| {
                        let (slot, wins) = (slot.clone(), wins.clone());
                        thread::spawn(move || {
                            if slot.claim(params(), core::ptr::null_mut()) {
                                wins.fetch_add(1, Ordering::Relaxed);
                            }
                        })
                    })
                    .collect();
                for s in starts {
                    s.join().unwrap();
                }
                assert_eq!(wins.load(Ordering::Relaxed), 1);
                assert_ne!(slot.state(), FREE);
            });
        }

        /// CompleteDma twice for the same list while removal reclaims the adapter's slots:
        /// exactly one of the three puts the list back, and the slot ends FREE.
        #[test]
        fn one_completion_wins_against_a_duplicate_and_the_reclaim() {
            super::model(|| {
                let slot = Arc::new(TransferSlot::new());
                assert!(slot.claim(params(), core::ptr::null_mut()));
                slot.activate(list(1));
                let wins = Arc::new(AtomicUsize::new(0));
                let mut threads: Vec<_> = (0..2)
                    .map(|_| {
                        let (slot, wins) = (slot.clone(), wins.clone());
                        thread::spawn(move || {
                            if slot.claim_for_completion(list(1)) {
                                wins.fetch_add(1, Ordering::Relaxed);
                                slot.release();
                            }
                        })
                    })
                    .collect();
                threads.push({
                    let (slot, wins) = (slot.clone(), wins.clone());
                    thread::spawn(move || {
                        if let Some(l) = slot.claim_any_active() {
                            assert_eq!(l, list(1));
                            wins.fetch_add(1, Ordering::Relaxed);
                            slot.release();
                        }
                    })
                });
                for t in threads {
                    t.join().unwrap();
                }
                assert_eq!(wins.load(Ordering::Relaxed), 1);
                assert_eq!(slot.state(), FREE);
            });
        }

        /// A miniport completes a list twice; between the two the slot is reused for the next
        /// transfer. The late duplicate never takes the new transfer's slot.
        #[test]
        fn a_late_duplicate_completion_never_takes_the_next_transfer() {
            super::model(|| {
                let slot = Arc::new(TransferSlot::new());
                assert!(slot.claim(params(), core::ptr::null_mut()));
                slot.activate(list(1));
                let completions = Arc::new(AtomicUsize::new(0));
                let next_started = Arc::new(AtomicUsize::new(0));
                let first = {
                    let (slot, completions, next) =
                        (slot.clone(), completions.clone(), next_started.clone());
                    thread::spawn(move || {
                        if slot.claim_for_completion(list(1)) {
                            completions.fetch_add(1, Ordering::Relaxed);
                            slot.release();
                            // The next StartDma takes the freed slot; the HAL maps list 2.
                            if slot.claim(params(), core::ptr::null_mut()) {
                                slot.activate(list(2));
                                next.store(1, Ordering::Release);
                            }
                        }
                    })
                };
                let duplicate = {
                    let (slot, completions) = (slot.clone(), completions.clone());
                    thread::spawn(move || {
                        if slot.claim_for_completion(list(1)) {
                            completions.fetch_add(1, Ordering::Relaxed);
                            slot.release();
                        }
                    })
                };
                first.join().unwrap();
                duplicate.join().unwrap();
                assert_eq!(completions.load(Ordering::Relaxed), 1);
                if next_started.load(Ordering::Acquire) == 1 {
                    assert_eq!(slot.state(), ACTIVE);
                    assert!(
                        slot.claim_for_completion(list(2)),
                        "the next transfer is still there to complete"
                    );
                }
            });
        }
    }
}
