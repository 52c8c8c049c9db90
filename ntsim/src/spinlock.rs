//! Spin locks: `KeAcquireSpinLockRaiseToDpc`, `KeReleaseSpinLock`,
//! `KeAcquireSpinLockAtDpcLevel`, `KeReleaseSpinLockFromDpcLevel`.
//!
//! A real atomic lock on the `KSPIN_LOCK` word, so several entered threads exclude each other.
//! The owner stores its processor token in the word; that is how a recursive acquire
//! (SPIN_LOCK_ALREADY_OWNED, which would deadlock) and a release by a non-owner
//! (SPIN_LOCK_NOT_OWNED) are recognised and reported instead of hanging.

use crate::machine::{cpu, Cpu};
use crate::verifier::bugcheck;
use ddk_sys::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// # Safety
/// `lock` must be a valid, 8-aligned `KSPIN_LOCK` that lives as long as it is used.
unsafe fn word<'a>(lock: *mut KSPIN_LOCK) -> &'a AtomicUsize {
    // SAFETY: KSPIN_LOCK is a usize-sized, usize-aligned word (caller guarantees validity);
    // all ntsim accesses to it are atomic.
    unsafe { AtomicUsize::from_ptr(lock) }
}

fn acquire(cpu: &Cpu, lock: *mut KSPIN_LOCK, routine: &'static str) {
    // SAFETY: the spin lock is valid by contract.
    let w = unsafe { word(lock) };
    loop {
        match w.compare_exchange_weak(0, cpu.token, Ordering::Acquire, Ordering::Relaxed) {
            Ok(_) => return,
            Err(owner) if owner == cpu.token => {
                let msg = format!(
                    "spin lock {:#x} acquired again by its owner (this would deadlock)",
                    lock as usize
                );
                cpu.lock().report(
                    bugcheck::SPIN_LOCK_ALREADY_OWNED,
                    0,
                    [lock as u64, 0, 0],
                    routine,
                    msg,
                );
                return;
            }
            Err(_) => std::thread::yield_now(),
        }
    }
}

fn release(cpu: &Cpu, lock: *mut KSPIN_LOCK, routine: &'static str) -> bool {
    // SAFETY: the spin lock is valid by contract.
    let w = unsafe { word(lock) };
    if w.compare_exchange(cpu.token, 0, Ordering::Release, Ordering::Relaxed)
        .is_err()
    {
        let msg = format!(
            "spin lock {:#x} released by a processor that does not own it",
            lock as usize
        );
        cpu.lock().report(
            bugcheck::SPIN_LOCK_NOT_OWNED,
            0,
            [lock as u64, 0, 0],
            routine,
            msg,
        );
        return false;
    }
    true
}

fn irql_above(cpu: &Cpu, max: KIRQL, routine: &'static str) -> bool {
    let irql = cpu.irql();
    if irql > max {
        let msg = format!("{routine} at IRQL {irql} (maximum {max})");
        cpu.lock().report(
            bugcheck::IRQL_NOT_LESS_OR_EQUAL,
            irql as u32,
            [max as u64, 0, 0],
            routine,
            msg,
        );
        return true;
    }
    false
}

/// `KeAcquireSpinLockRaiseToDpc`: raises to DISPATCH_LEVEL, returns the old IRQL.
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract: valid, initialised objects of the
/// declared types (ntsim checks what it can, and reports rather than trusts handles it owns).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn KeAcquireSpinLockRaiseToDpc(SpinLock: *mut KSPIN_LOCK) -> KIRQL {
    const R: &str = "KeAcquireSpinLockRaiseToDpc";
    let cpu = cpu();
    let old = cpu.irql();
    if irql_above(&cpu, DISPATCH_LEVEL, R) {
        return old;
    }
    cpu.set_irql(DISPATCH_LEVEL);
    acquire(&cpu, SpinLock, R);
    old
}

/// `KeReleaseSpinLock`: releases and lowers to `NewIrql`.
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract: valid, initialised objects of the
/// declared types (ntsim checks what it can, and reports rather than trusts handles it owns).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn KeReleaseSpinLock(SpinLock: *mut KSPIN_LOCK, NewIrql: KIRQL) {
    const R: &str = "KeReleaseSpinLock";
    let cpu = cpu();
    if cpu.irql() != DISPATCH_LEVEL {
        let irql = cpu.irql();
        let msg = format!("{R} at IRQL {irql}: the lock is held at DISPATCH_LEVEL");
        cpu.lock().report(
            bugcheck::IRQL_NOT_LESS_OR_EQUAL,
            irql as u32,
            [DISPATCH_LEVEL as u64, 0, 0],
            R,
            msg,
        );
    }
    release(&cpu, SpinLock, R);
    if NewIrql > DISPATCH_LEVEL {
        let msg = format!("{R} to IRQL {NewIrql}, above DISPATCH_LEVEL");
        cpu.lock().report(
            bugcheck::IRQL_NOT_LESS_OR_EQUAL,
            DISPATCH_LEVEL as u32,
            [NewIrql as u64, 0, 0],
            R,
            msg,
        );
        return;
    }
    cpu.set_irql(NewIrql);
}

/// `KeAcquireSpinLockAtDpcLevel`: the caller must already be at DISPATCH_LEVEL.
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract: valid, initialised objects of the
/// declared types (ntsim checks what it can, and reports rather than trusts handles it owns).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn KeAcquireSpinLockAtDpcLevel(SpinLock: *mut KSPIN_LOCK) {
    const R: &str = "KeAcquireSpinLockAtDpcLevel";
    let cpu = cpu();
    let irql = cpu.irql();
    if irql < DISPATCH_LEVEL {
        let msg = format!("{R} at IRQL {irql}: must be at DISPATCH_LEVEL or above");
        cpu.lock().report(
            bugcheck::IRQL_NOT_GREATER_OR_EQUAL,
            irql as u32,
            [DISPATCH_LEVEL as u64, 0, 0],
            R,
            msg,
        );
    }
    acquire(&cpu, SpinLock, R);
}

/// `KeReleaseSpinLockFromDpcLevel`.
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract: valid, initialised objects of the
/// declared types (ntsim checks what it can, and reports rather than trusts handles it owns).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn KeReleaseSpinLockFromDpcLevel(SpinLock: *mut KSPIN_LOCK) {
    release(&cpu(), SpinLock, "KeReleaseSpinLockFromDpcLevel");
}
