//! An intrusive singly-linked list of pool records, the port's one list shape (adapters,
//! locked buffers, common buffers, contiguous blocks).
//!
//! Invariants: every linked record is live and linked at most once; the list is reached only
//! through the spin lock that owns it, so no two threads walk or change it at once.

use core::ptr::{null_mut, NonNull};

/// A record that can be linked: it holds its own `next` pointer.
pub(crate) trait Linked {
    fn next(&mut self) -> &mut *mut Self;
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
        // SAFETY: the record is live and not shared through any list yet.
        unsafe { *(*record.as_ptr()).next() = self.head };
        self.head = record.as_ptr();
    }

    /// Unlinks the first record.
    pub fn pop(&mut self) -> Option<NonNull<T>> {
        self.take(|_| true)
    }

    /// Unlinks the first record `matches` accepts.
    pub fn take(&mut self, mut matches: impl FnMut(&T) -> bool) -> Option<NonNull<T>> {
        let mut link: *mut *mut T = &mut self.head;
        // SAFETY: linked records are live (type invariant), and `link` always points at the
        // head or at a live record's `next` field.
        unsafe {
            while let Some(record) = NonNull::new(*link) {
                if matches(record.as_ref()) {
                    *link = *(*record.as_ptr()).next();
                    return Some(record);
                }
                link = (*record.as_ptr()).next();
            }
        }
        None
    }

    /// The first record `matches` accepts, for changing it in place.
    pub fn find_mut(&mut self, mut matches: impl FnMut(&T) -> bool) -> Option<&mut T> {
        let mut cursor = self.head;
        // SAFETY: linked records are live (type invariant); `&mut self` makes this the only
        // walk of the list, so the one reference handed out is unique.
        unsafe {
            while let Some(record) = cursor.as_mut() {
                if matches(record) {
                    return Some(record);
                }
                cursor = *record.next();
            }
        }
        None
    }

    /// The linked records, first to last.
    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        let mut cursor = self.head;
        core::iter::from_fn(move || {
            // SAFETY: linked records are live while the list is borrowed.
            let record = unsafe { cursor.as_mut()? };
            cursor = *record.next();
            Some(&*record)
        })
    }
}
