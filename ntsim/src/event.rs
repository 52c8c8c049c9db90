//! Events: `KeInitializeEvent`, `KeSetEvent`, `KeClearEvent`, `KeReadStateEvent`,
//! `KeWaitForSingleObject`.
//!
//! `SignalState` is accessed atomically, so threads entered in one machine can signal each
//! other. A wait on an unsignalled event first runs the machine's pending work (DPCs, DMA
//! callbacks, device events) on the waiting thread, since on a deterministic machine that is
//! the only way the event can become signalled. If it is still unsignalled: with a timeout the
//! wait times out (and the simulated clock advances); with no timeout and no other thread
//! entered, nothing can ever signal it, so ntsim reports "wait would block forever" and
//! returns STATUS_UNSUCCESSFUL rather than hang. With other threads entered it keeps polling.

use crate::machine::{cpu, drain};
use crate::verifier::{bugcheck, ntsim_code};
use ddk_sys::*;
use std::sync::atomic::{AtomicI32, Ordering};

/// `STATUS_TIMEOUT` (a success code).
pub use ddk_sys::STATUS_TIMEOUT;

/// # Safety
/// `event` must be a valid KEVENT for the life of the returned reference.
unsafe fn signal<'a>(event: *mut KEVENT) -> &'a AtomicI32 {
    // SAFETY: SignalState is an aligned LONG inside a valid KEVENT (caller); ntsim only
    // accesses it atomically.
    unsafe { AtomicI32::from_ptr(core::ptr::addr_of_mut!((*event).Header.SignalState)) }
}

/// `KeInitializeEvent`.
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract: valid, initialised objects of the
/// declared types (ntsim checks what it can, and reports rather than trusts handles it owns).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn KeInitializeEvent(
    Event: *mut KEVENT,
    Type: EVENT_TYPE,
    State: BOOLEAN,
) {
    // SAFETY: `Event` points to writable KEVENT storage (contract). An empty wait list points
    // at itself.
    unsafe {
        let head = core::ptr::addr_of_mut!((*Event).Header.WaitListHead);
        Event.write(KEVENT {
            Header: DISPATCHER_HEADER {
                Lock: Type.0 as LONG,
                SignalState: (State != FALSE) as LONG,
                WaitListHead: LIST_ENTRY {
                    Flink: head,
                    Blink: head,
                },
            },
        });
    }
}

/// `KeSetEvent`: returns the previous state.
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract: valid, initialised objects of the
/// declared types (ntsim checks what it can, and reports rather than trusts handles it owns).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn KeSetEvent(
    Event: *mut KEVENT,
    _Increment: LONG,
    _Wait: BOOLEAN,
) -> LONG {
    // SAFETY: the event is valid by contract.
    unsafe { signal(Event) }.swap(1, Ordering::AcqRel)
}

/// `KeClearEvent`.
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract: valid, initialised objects of the
/// declared types (ntsim checks what it can, and reports rather than trusts handles it owns).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn KeClearEvent(Event: *mut KEVENT) {
    // SAFETY: the event is valid by contract.
    unsafe { signal(Event) }.store(0, Ordering::Release);
}

/// `KeReadStateEvent`: the current state (non-zero = signalled).
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract: valid, initialised objects of the
/// declared types.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn KeReadStateEvent(Event: *mut KEVENT) -> LONG {
    // SAFETY: the event is valid by contract.
    unsafe { signal(Event) }.load(Ordering::Acquire)
}

/// Takes the signal if set: a synchronization event resets, a notification event stays set.
fn try_take(event: *mut KEVENT) -> bool {
    // SAFETY: the event is valid by contract.
    let (s, kind) = unsafe { (signal(event), (*event).Header.Lock & 0xFF) };
    if kind as u32 == EVENT_TYPE::SynchronizationEvent.0 {
        s.compare_exchange(1, 0, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    } else {
        s.load(Ordering::Acquire) != 0
    }
}

/// `KeWaitForSingleObject` for events (the only waitable object ntsim simulates).
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract: valid, initialised objects of the
/// declared types (ntsim checks what it can, and reports rather than trusts handles it owns).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn KeWaitForSingleObject(
    Object: PVOID,
    _WaitReason: ULONG,
    _WaitMode: KPROCESSOR_MODE,
    _Alertable: BOOLEAN,
    Timeout: *mut LARGE_INTEGER,
) -> NTSTATUS {
    const R: &str = "KeWaitForSingleObject";
    let event = Object as *mut KEVENT;
    let cpu = cpu();
    let irql = cpu.irql();
    // SAFETY: a non-NULL timeout points to a LARGE_INTEGER (contract).
    let timeout = (!Timeout.is_null()).then(|| unsafe { Timeout.read() }.0);
    if irql > DISPATCH_LEVEL || (irql == DISPATCH_LEVEL && timeout != Some(0)) {
        let msg = format!("wait at IRQL {irql} (only a zero timeout is allowed at DISPATCH_LEVEL)");
        cpu.lock().report(
            bugcheck::IRQL_NOT_LESS_OR_EQUAL,
            irql as u32,
            [Object as u64, 0, 0],
            R,
            msg,
        );
        return STATUS_UNSUCCESSFUL;
    }
    loop {
        if try_take(event) {
            return STATUS_SUCCESS;
        }
        if timeout == Some(0) {
            return STATUS_TIMEOUT;
        }
        if drain(&cpu) > 0 {
            continue;
        }
        if try_take(event) {
            return STATUS_SUCCESS;
        }
        if let Some(t) = timeout {
            // Relative timeouts are negative, in 100 ns units; absolute ones just expire.
            cpu.lock().clock_us += t.unsigned_abs() / 10;
            return STATUS_TIMEOUT;
        }
        if cpu.shared.entered.load(Ordering::SeqCst) > 1 {
            std::thread::yield_now();
            continue;
        }
        let msg = format!(
            "event {:#x} is not signalled, no work is pending and no timeout was given",
            Object as usize
        );
        cpu.lock().report(
            bugcheck::NTSIM_CHECK,
            ntsim_code::WAIT_FOREVER,
            [Object as u64, 0, 0],
            R,
            msg,
        );
        return STATUS_UNSUCCESSFUL;
    }
}
