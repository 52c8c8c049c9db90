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

/// A lock usable at any IRQL: holding it raises the processor to HIGH_LEVEL, so no interrupt
/// service routine can run on this processor meanwhile, and other processors spin on an atomic
/// word. For tiny critical sections only (the device registry, consulted by entry points that
/// interrupt service routines call, such as VideoPortQueueDpc).
pub struct HighLock<T> {
    word: core::sync::atomic::AtomicBool,
    data: UnsafeCell<T>,
}

// SAFETY: the data is reachable only through a guard, and the atomic word serialises guards.
unsafe impl<T: Send> Sync for HighLock<T> {}

impl<T> HighLock<T> {
    pub const fn new(data: T) -> Self {
        Self {
            word: core::sync::atomic::AtomicBool::new(false),
            data: UnsafeCell::new(data),
        }
    }

    /// Acquires the lock at HIGH_LEVEL until the guard drops. Callable at any IRQL.
    pub fn lock(&self) -> HighLockGuard<'_, T> {
        use core::sync::atomic::Ordering;
        let old_irql = ddk_sys::KeGetCurrentIrql();
        if old_irql < ddk_sys::HIGH_LEVEL {
            // SAFETY: raising to HIGH_LEVEL from below; the guard lowers back on this processor.
            unsafe { ddk_sys::KeRaiseIrql(ddk_sys::HIGH_LEVEL) };
        }
        while self
            .word
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            core::hint::spin_loop();
        }
        HighLockGuard {
            owner: self,
            old_irql,
        }
    }
}

pub struct HighLockGuard<'a, T> {
    owner: &'a HighLock<T>,
    old_irql: KIRQL,
}

impl<T> Deref for HighLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.owner.data.get() }
    }
}

impl<T> DerefMut for HighLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock.
        unsafe { &mut *self.owner.data.get() }
    }
}

impl<T> Drop for HighLockGuard<'_, T> {
    fn drop(&mut self) {
        self.owner
            .word
            .store(false, core::sync::atomic::Ordering::Release);
        if self.old_irql < ddk_sys::HIGH_LEVEL {
            // SAFETY: restores the level saved when the lock was taken.
            unsafe { ddk_sys::KeLowerIrql(self.old_irql) };
        }
    }
}
