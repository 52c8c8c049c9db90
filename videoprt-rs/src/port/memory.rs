//! Memory and timing helpers: `VideoPortZeroMemory`, `VideoPortZeroDeviceMemory`,
//! `VideoPortMoveMemory`,
//! `VideoPortCompareMemory`, `VideoPortStallExecution`, `VideoPortInterlockedExchange`,
//! `VideoPortInterlockedIncrement`, `VideoPortInterlockedDecrement`.
//!
//! C interface (`video.h`): `VOID VideoPortZeroMemory(PVOID Destination, ULONG Length)`,
//! `VOID VideoPortZeroDeviceMemory(PVOID Destination, ULONG Length)` (device memory from
//! GetDeviceBase/MapMemory: written as registers, a byte at a time up to a 4-byte boundary,
//! then 4 bytes at a time, never read),
//! `VOID VideoPortMoveMemory(PVOID Destination, PVOID Source, ULONG Length)` (overlap allowed),
//! `ULONG VideoPortCompareMemory(PVOID Source1, PVOID Source2, SIZE_T Length)` (the number of
//! leading bytes that match, as RtlCompareMemory), `VOID VideoPortStallExecution(ULONG
//! Microseconds)`, `LONG FASTCALL VideoPortInterlockedExchange(PLONG Target, LONG Value)` (`extern "ntapi-fastcall"`:
//! ECX, EDX on x86), `LONG FASTCALL VideoPortInterlockedIncrement(PLONG Addend)`,
//! `LONG FASTCALL VideoPortInterlockedDecrement(PLONG Addend)`. A NULL pointer with a non-zero
//! length is reported and nothing is touched.

use crate::report::{self, port_code, Misuse};
use core::sync::atomic::{AtomicI32, Ordering};
use ddk_sys::*;

fn null(routine: &'static str, position: usize) {
    report::misuse(
        routine,
        Misuse::Port {
            code: port_code::NULL_ARGUMENT,
            p2: position,
            p3: 0,
        },
    );
}

/// `VideoPortZeroMemory`.
///
/// # Safety
/// `Destination` NULL or writable for `Length` bytes.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortZeroMemory(Destination: PVOID, Length: ULONG) {
    if Length == 0 {
        return;
    }
    if Destination.is_null() {
        return null("VideoPortZeroMemory", 1);
    }
    // SAFETY: writable for Length bytes (contract).
    unsafe { core::ptr::write_bytes(Destination.cast::<u8>(), 0, Length as usize) };
}

/// `VideoPortMoveMemory`.
///
/// # Safety
/// `Destination` writable and `Source` readable for `Length` bytes (or NULL).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortMoveMemory(Destination: PVOID, Source: PVOID, Length: ULONG) {
    if Length == 0 {
        return;
    }
    if Destination.is_null() || Source.is_null() {
        return null(
            "VideoPortMoveMemory",
            if Destination.is_null() { 1 } else { 2 },
        );
    }
    // SAFETY: valid ranges (contract); `copy` allows overlap.
    unsafe {
        core::ptr::copy(
            Source.cast::<u8>(),
            Destination.cast::<u8>(),
            Length as usize,
        )
    };
}

/// `VideoPortCompareMemory`: how many leading bytes are equal.
///
/// # Safety
/// Both readable for `Length` bytes (or NULL).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortCompareMemory(
    Source1: PVOID,
    Source2: PVOID,
    Length: SIZE_T,
) -> ULONG {
    if Length == 0 {
        return 0;
    }
    if Source1.is_null() || Source2.is_null() {
        null(
            "VideoPortCompareMemory",
            if Source1.is_null() { 1 } else { 2 },
        );
        return 0;
    }
    let (a, b) = (Source1.cast::<u8>(), Source2.cast::<u8>());
    let mut n = 0;
    // SAFETY: readable for Length bytes (contract).
    while n < Length && unsafe { a.add(n).read() == b.add(n).read() } {
        n += 1;
    }
    // video.h returns ULONG; a match longer than 4 GiB saturates.
    ULONG::try_from(n).unwrap_or(ULONG::MAX)
}

/// `VideoPortZeroDeviceMemory`.
///
/// # Safety
/// `Destination` is NULL or device memory mapped for `Length` bytes.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortZeroDeviceMemory(Destination: PVOID, Length: ULONG) {
    if Length == 0 {
        return;
    }
    if Destination.is_null() {
        null("VideoPortZeroDeviceMemory", 1);
        return;
    }
    let start = Destination as usize;
    let end = start + Length as usize;
    let mut at = start;
    // SAFETY: every address written lies in the mapped range (contract).
    unsafe {
        while at < end && (at % 4 != 0 || end - at < 4) {
            super::registers::write_register(at as *mut u8, 0u8);
            at += 1;
        }
        while end - at >= 4 {
            super::registers::write_register(at as *mut u32, 0u32);
            at += 4;
        }
        while at < end {
            super::registers::write_register(at as *mut u8, 0u8);
            at += 1;
        }
    }
}

/// `VideoPortStallExecution`: busy-waits (KeStallExecutionProcessor).
#[no_mangle]
#[ddk_sys::ntapi]
pub extern "ntapi" fn VideoPortStallExecution(Microseconds: ULONG) {
    // SAFETY: no pointers.
    unsafe { KeStallExecutionProcessor(Microseconds) };
}

/// # Safety
/// `target` non-NULL, 4-aligned, valid.
unsafe fn atomic<'a>(target: *mut LONG) -> &'a AtomicI32 {
    // SAFETY: forwarded contract.
    unsafe { AtomicI32::from_ptr(target) }
}

/// `VideoPortInterlockedExchange`: returns the previous value.
///
/// # Safety
/// `Target` NULL or a valid, 4-aligned LONG.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi-fastcall" fn VideoPortInterlockedExchange(
    Target: *mut LONG,
    Value: LONG,
) -> LONG {
    if Target.is_null() {
        null("VideoPortInterlockedExchange", 1);
        return 0;
    }
    // SAFETY: contract.
    unsafe { atomic(Target) }.swap(Value, Ordering::SeqCst)
}

/// `VideoPortInterlockedIncrement`: returns the new value.
///
/// # Safety
/// `Addend` NULL or a valid, 4-aligned LONG.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi-fastcall" fn VideoPortInterlockedIncrement(Addend: *mut LONG) -> LONG {
    if Addend.is_null() {
        null("VideoPortInterlockedIncrement", 1);
        return 0;
    }
    // SAFETY: contract.
    unsafe { atomic(Addend) }
        .fetch_add(1, Ordering::SeqCst)
        .wrapping_add(1)
}

/// `VideoPortInterlockedDecrement`: returns the new value.
///
/// # Safety
/// `Addend` NULL or a valid, 4-aligned LONG.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi-fastcall" fn VideoPortInterlockedDecrement(Addend: *mut LONG) -> LONG {
    if Addend.is_null() {
        null("VideoPortInterlockedDecrement", 1);
        return 0;
    }
    // SAFETY: contract.
    unsafe { atomic(Addend) }
        .fetch_sub(1, Ordering::SeqCst)
        .wrapping_sub(1)
}
