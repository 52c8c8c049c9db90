//! An intrusive singly-linked list of pool records, the port's one list shape (adapters,
//! locked buffers, common buffers, contiguous blocks, the miniport's kernel objects).
//!
//! Invariants: every linked record is live and linked at most once; the list is reached only
//! through the spin lock that owns it, so no two threads walk or change it at once.
//!
//! Other threads hold `&T` to linked records (an adapter handle in use by a miniport, say)
//! while the list links and unlinks its neighbours, so a record's link is a [`Link`]: an
//! interior-mutable pointer, changed through `&T`. The list never makes a `&mut T` to a record
//! (that would assert exclusive access the port does not have; Miri reports it).

use core::ptr::{null_mut, NonNull};
use core::sync::atomic::{AtomicPtr, Ordering::Relaxed};

/// A record's `next` pointer. Read and written only under the owning list's lock, so
/// `Relaxed` suffices; it is atomic only to be changeable through a shared reference.
pub(crate) struct Link<T>(AtomicPtr<T>);

impl<T> Link<T> {
    pub const fn new() -> Self {
        Link(AtomicPtr::new(null_mut()))
    }

    fn get(&self) -> *mut T {
        self.0.load(Relaxed)
    }

    fn set(&self, next: *mut T) {
        self.0.store(next, Relaxed)
    }
}

/// A record that can be linked: it holds its own [`Link`].
pub(crate) trait Linked {
    fn link(&self) -> &Link<Self>
    where
        Self: Sized;
}

pub(crate) struct SList<T> {
    head: *mut T,
}

// SAFETY: the list holds addresses of pool records only, and is used behind a lock.
unsafe impl<T> Send for SList<T> {}

impl<T: Linked> SList<T> {
    pub const fn new() -> Self {
        Self { head: null_mut() }
    }

    /// Links a record that is not linked anywhere.
    pub fn push(&mut self, record: NonNull<T>) {
        // SAFETY: the record is live (the caller's record, about to be listed).
        unsafe { record.as_ref() }.link().set(self.head);
        self.head = record.as_ptr();
    }

    /// Unlinks the first record.
    pub fn pop(&mut self) -> Option<NonNull<T>> {
        self.take(|_| true)
    }

    /// Unlinks the first record `matches` accepts.
    pub fn take(&mut self, mut matches: impl FnMut(&T) -> bool) -> Option<NonNull<T>> {
        let mut previous: Option<NonNull<T>> = None;
        let mut cursor = self.head;
        while let Some(record) = NonNull::new(cursor) {
            // SAFETY: linked records are live (type invariant).
            let this = unsafe { record.as_ref() };
            let next = this.link().get();
            if matches(this) {
                match previous {
                    // SAFETY: `previous` is a linked record, live (type invariant).
                    Some(p) => unsafe { p.as_ref() }.link().set(next),
                    None => self.head = next,
                }
                return Some(record);
            }
            previous = Some(record);
            cursor = next;
        }
        None
    }

    /// The first record `matches` accepts.
    pub fn find(&self, mut matches: impl FnMut(&T) -> bool) -> Option<&T> {
        self.iter().find(|r| matches(r))
    }

    /// The linked records, first to last.
    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        let mut cursor = self.head;
        core::iter::from_fn(move || {
            // SAFETY: linked records are live while the list is borrowed.
            let record = unsafe { cursor.as_ref()? };
            cursor = record.link().get();
            Some(record)
        })
    }
}
