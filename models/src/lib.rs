//! The port's lock-free structures, compiled from videoprt-rs's own source files with loom's
//! atomics (this crate builds with `cfg(loom)`), so that the tests below explore their
//! interleavings. Nothing here is a copy: the `#[path]` modules are the shipped code.
//!
//! Checked so far: `live::LiveSet`, the lock-free "is this handle one of ours?" check that
//! every export (the ISR-level ones included) runs against device, adapter and MDL records
//! while other threads insert and remove them.

// Its items are crate-visible in the port; here only the tests below use them.
#[allow(dead_code)]
#[path = "../../videoprt-rs/src/live.rs"]
mod live;

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

    fn model(f: impl Fn() + Sync + Send + 'static) {
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
}
