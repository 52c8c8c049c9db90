//! A spin lock over `KSPIN_LOCK` that owns the data it protects.
//!
//! C interface: `KeAcquireSpinLockRaiseToDpc`, `KeReleaseSpinLock`. Holding the lock raises the
//! processor to DISPATCH_LEVEL, so it may be taken at or below DISPATCH_LEVEL only, and no
//! miniport callback may run while it is held.

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use ddk_sys::{KeAcquireSpinLockRaiseToDpc, KeReleaseSpinLock, KIRQL, KSPIN_LOCK};

pub struct SpinLock<T> {
    lock: UnsafeCell<KSPIN_LOCK>,
    data: UnsafeCell<T>,
}

// SAFETY: the data is reachable only through a guard, and the kernel lock serialises guards.
unsafe impl<T: Send> Sync for SpinLock<T> {}
// SAFETY: moving the lock moves the data; nothing refers to the lock word while unlocked.
unsafe impl<T: Send> Send for SpinLock<T> {}

impl<T> SpinLock<T> {
    pub const fn new(data: T) -> Self {
        Self {
            lock: UnsafeCell::new(0),
            data: UnsafeCell::new(data),
        }
    }

    /// Acquires the lock, raising to DISPATCH_LEVEL until the guard drops.
    ///
    /// The caller must run at or below DISPATCH_LEVEL.
    pub fn lock(&self) -> SpinLockGuard<'_, T> {
        // SAFETY: the lock word lives as long as `self`; callers run at or below DISPATCH_LEVEL.
        let old_irql = unsafe { KeAcquireSpinLockRaiseToDpc(self.lock.get()) };
        SpinLockGuard {
            owner: self,
            old_irql,
        }
    }
}

pub struct SpinLockGuard<'a, T> {
    owner: &'a SpinLock<T>,
    old_irql: KIRQL,
}

impl<T> Deref for SpinLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock, so no other reference to the data exists.
        unsafe { &*self.owner.data.get() }
    }
}

impl<T> DerefMut for SpinLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock, so no other reference to the data exists.
        unsafe { &mut *self.owner.data.get() }
    }
}

impl<T> Drop for SpinLockGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: this guard acquired the lock and restores the IRQL saved at acquisition.
        unsafe { KeReleaseSpinLock(self.owner.lock.get(), self.old_irql) }
    }
}
