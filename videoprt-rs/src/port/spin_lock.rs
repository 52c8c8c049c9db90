//! Spin locks: `VideoPortCreateSpinLock`, `VideoPortDeleteSpinLock`,
//! `VideoPortAcquireSpinLock`, `VideoPortAcquireSpinLockAtDpcLevel`, `VideoPortReleaseSpinLock`,
//! `VideoPortReleaseSpinLockFromDpcLevel`.
//!
//! C interface (`video.h`), over `KSPIN_LOCK` (on x64 `KeAcquireSpinLock` is
//! `KeAcquireSpinLockRaiseToDpc`):
//! - `VP_STATUS VideoPortCreateSpinLock(PVOID HwDeviceExtension, PSPIN_LOCK *SpinLock)`:
//!   NO_ERROR, ERROR_NOT_ENOUGH_MEMORY or ERROR_INVALID_PARAMETER; at or below DISPATCH_LEVEL.
//! - `VP_STATUS VideoPortDeleteSpinLock(PVOID HwDeviceExtension, PSPIN_LOCK SpinLock)`:
//!   NO_ERROR or ERROR_INVALID_PARAMETER.
//! - `VOID VideoPortAcquireSpinLock(PVOID HwDeviceExtension, PSPIN_LOCK SpinLock,
//!   PUCHAR OldIrql)`: at or below DISPATCH_LEVEL, raises to DISPATCH_LEVEL;
//!   `VideoPortReleaseSpinLock(..., UCHAR NewIrql)` gives the lock back and lowers again.
//! - `...AtDpcLevel` / `...FromDpcLevel`: the caller is already at DISPATCH_LEVEL.
//!
//! Every `PSPIN_LOCK` is looked up among its device's locks first (see `objects.rs`); an
//! unknown, deleted or foreign lock is reported and nothing is acquired or released (an
//! acquire that does nothing still writes the caller's IRQL to `OldIrql`, so its matching
//! release leaves the IRQL where it was).

use super::objects::{self, kind, SpinLockObject};
use crate::device::PortDevice;
use crate::irql::{require_at_most, Irql};
use crate::report::{self, port_code, Misuse};
use core::ptr::null_mut;
use ddk_sys::*;

/// The device's spin lock `lock`, or `None` after reporting it. Each lookup briefly takes the
/// device's object lock (a different lock from the miniport's).
fn find_lock(
    routine: &'static str,
    hw_extension: PVOID,
    lock: PSPIN_LOCK,
) -> Option<*mut KSPIN_LOCK> {
    let device = PortDevice::from_hw_extension(routine, hw_extension)?;
    if lock.is_null() {
        report::null_argument(routine, 2);
        return None;
    }
    let found = device
        .port
        .objects
        .lock()
        .spin_locks
        .iter()
        .find(|l| objects::address_of(*l) == lock as usize)
        .map(|l| l.lock.get());
    if found.is_none() {
        objects::unknown(routine, kind::SPIN_LOCK, lock as usize);
    }
    found
}

/// Reports a call made at an IRQL other than DISPATCH_LEVEL.
fn require_dispatch(routine: &'static str) -> bool {
    let current = Irql::current();
    if current == Irql::DISPATCH {
        return true;
    }
    report::misuse(
        routine,
        Misuse::Port {
            code: port_code::BAD_ARGUMENT,
            p2: current.0 as usize,
            p3: DISPATCH_LEVEL as usize,
        },
    );
    false
}

/// `VideoPortCreateSpinLock`.
///
/// # Safety
/// `SpinLock` is NULL (reported) or valid for a write.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortCreateSpinLock(
    HwDeviceExtension: PVOID,
    SpinLock: *mut PSPIN_LOCK,
) -> VP_STATUS {
    const ROUTINE: &str = "VideoPortCreateSpinLock";
    if !require_at_most(ROUTINE, Irql::DISPATCH) {
        return ERROR_INVALID_PARAMETER;
    }
    let Some(device) = PortDevice::from_hw_extension(ROUTINE, HwDeviceExtension) else {
        return ERROR_INVALID_PARAMETER;
    };
    if SpinLock.is_null() {
        report::null_argument(ROUTINE, 2);
        return ERROR_INVALID_PARAMETER;
    }
    let Ok(record) = crate::pool::alloc(SpinLockObject::new()) else {
        // SAFETY: valid for a write (contract).
        unsafe { SpinLock.write(null_mut()) };
        return ERROR_NOT_ENOUGH_MEMORY;
    };
    // SAFETY: the record is ours, at its final address; a spin lock starts released.
    unsafe { KeInitializeSpinLock((*record.as_ptr()).lock.get()) };
    device.port.objects.lock().spin_locks.push(record);
    // SAFETY: valid for a write (contract).
    unsafe { SpinLock.write(record.as_ptr().cast()) };
    NO_ERROR
}

/// `VideoPortDeleteSpinLock`.
///
/// # Safety
/// `SpinLock` may be anything (it is looked up among the device's locks).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortDeleteSpinLock(
    HwDeviceExtension: PVOID,
    SpinLock: PSPIN_LOCK,
) -> VP_STATUS {
    const ROUTINE: &str = "VideoPortDeleteSpinLock";
    if !require_at_most(ROUTINE, Irql::DISPATCH) {
        return ERROR_INVALID_PARAMETER;
    }
    let Some(device) = PortDevice::from_hw_extension(ROUTINE, HwDeviceExtension) else {
        return ERROR_INVALID_PARAMETER;
    };
    let record = device
        .port
        .objects
        .lock()
        .spin_locks
        .take(|l| objects::address_of(l) == SpinLock as usize);
    match record {
        Some(record) => {
            // SAFETY: unlinked above: no lookup can reach it any more.
            unsafe { crate::pool::free(record) };
            NO_ERROR
        }
        None => {
            objects::unknown(ROUTINE, kind::SPIN_LOCK, SpinLock as usize);
            ERROR_INVALID_PARAMETER
        }
    }
}

/// `VideoPortAcquireSpinLock`.
///
/// # Safety
/// `OldIrql` is NULL (reported) or valid for a write; the caller releases with
/// VideoPortReleaseSpinLock and the IRQL written here.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortAcquireSpinLock(
    HwDeviceExtension: PVOID,
    SpinLock: PSPIN_LOCK,
    OldIrql: PUCHAR,
) {
    const ROUTINE: &str = "VideoPortAcquireSpinLock";
    if OldIrql.is_null() {
        report::null_argument(ROUTINE, 3);
        return;
    }
    // SAFETY: valid for a write (contract): the caller's level, until the lock is taken.
    unsafe { OldIrql.write(Irql::current().0) };
    if !require_at_most(ROUTINE, Irql::DISPATCH) {
        return;
    }
    if let Some(lock) = find_lock(ROUTINE, HwDeviceExtension, SpinLock) {
        // SAFETY: a live lock of this device; at or below DISPATCH_LEVEL (checked).
        unsafe { OldIrql.write(KeAcquireSpinLockRaiseToDpc(lock)) };
    }
}

/// `VideoPortAcquireSpinLockAtDpcLevel`.
///
/// # Safety
/// The caller runs at DISPATCH_LEVEL and releases with VideoPortReleaseSpinLockFromDpcLevel.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortAcquireSpinLockAtDpcLevel(
    HwDeviceExtension: PVOID,
    SpinLock: PSPIN_LOCK,
) {
    const ROUTINE: &str = "VideoPortAcquireSpinLockAtDpcLevel";
    if !require_dispatch(ROUTINE) {
        return;
    }
    if let Some(lock) = find_lock(ROUTINE, HwDeviceExtension, SpinLock) {
        // SAFETY: a live lock of this device, at DISPATCH_LEVEL (checked).
        unsafe { KeAcquireSpinLockAtDpcLevel(lock) };
    }
}

/// `VideoPortReleaseSpinLock`.
///
/// # Safety
/// `NewIrql` is what the matching VideoPortAcquireSpinLock wrote.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortReleaseSpinLock(
    HwDeviceExtension: PVOID,
    SpinLock: PSPIN_LOCK,
    NewIrql: UCHAR,
) {
    const ROUTINE: &str = "VideoPortReleaseSpinLock";
    if !require_dispatch(ROUTINE) {
        return;
    }
    if let Some(lock) = find_lock(ROUTINE, HwDeviceExtension, SpinLock) {
        // SAFETY: a live lock of this device, released at DISPATCH_LEVEL to the level the
        // acquire returned (contract); the kernel (or ntsim) reports a lock not held.
        unsafe { KeReleaseSpinLock(lock, NewIrql) };
    }
}

/// `VideoPortReleaseSpinLockFromDpcLevel`.
///
/// # Safety
/// The caller holds the lock, acquired at DISPATCH_LEVEL.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortReleaseSpinLockFromDpcLevel(
    HwDeviceExtension: PVOID,
    SpinLock: PSPIN_LOCK,
) {
    const ROUTINE: &str = "VideoPortReleaseSpinLockFromDpcLevel";
    if !require_dispatch(ROUTINE) {
        return;
    }
    if let Some(lock) = find_lock(ROUTINE, HwDeviceExtension, SpinLock) {
        // SAFETY: a live lock of this device, at DISPATCH_LEVEL.
        unsafe { KeReleaseSpinLockFromDpcLevel(lock) };
    }
}
