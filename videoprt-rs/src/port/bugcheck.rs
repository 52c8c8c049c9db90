//! `VideoPortRegisterBugcheckCallback`: the miniport's data in the crash dump.
//!
//! C interface (`video.h`): `VP_STATUS VideoPortRegisterBugcheckCallback(PVOID
//! HwDeviceExtension, ULONG BugcheckCode, PVIDEO_BUGCHECK_CALLBACK Callback, ULONG
//! BugcheckDataSize)`. Documented: only bug check 0xEA (THREAD_STUCK_IN_DEVICE_DRIVER) can be
//! hooked; `BugcheckDataSize` is the miniport's data plus `BUGCHECK_DATA_SIZE_RESERVED` (48)
//! and at most 4000; a NULL `Callback` or a zero size unhooks. NO_ERROR on success.
//!
//! Over `KeRegisterBugCheckReasonCallback` / `KeDeregisterBugCheckReasonCallback` (Windows XP
//! SP1 / Server 2003, so NT 5.2: imported statically). The record lives in the device extension
//! (non-paged), the dump buffer of `BugcheckDataSize` bytes is non-paged pool allocated at
//! registration (a bug check callback may not allocate). Registering again replaces the hook.
//!
//! **How the callback learns the bug check code.** `KBUGCHECK_SECONDARY_DUMP_DATA`
//! (`KbCallbackSecondaryDumpData`) carries no code, and no documented routine returns it.
//! `KBUGCHECK_SECONDARY_DUMP_DATA_EX` (`KbCallbackSecondaryMultiPartDumpData`, Windows Server
//! 2008 / NT 6.0 and later) carries `BugCheckCode` and its parameters. So:
//!
//! | kernel | reason registered | HwVidBugcheckCallback is called |
//! |---|---|---|
//! | NT 6.0 and later | `KbCallbackSecondaryMultiPartDumpData` | only for bug check 0xEA |
//! | NT 5.2 | `KbCallbackSecondaryDumpData` | for every bug check that writes secondary dump data (the code cannot be known; it is passed as 0xEA, the code registered, and the header says 0 = unknown) |
//!
//! **Dump record** (tagged with [`VIDEOPRT_RS_DUMP_GUID`], `BugcheckDataSize` bytes): the
//! first 48 bytes (the reserved part) are the port's header, [`DumpHeader`]: "VPRS", the bug
//! check code (0 when unknown) and its four parameters, the miniport's data size; the miniport
//! writes `BugcheckDataSize - 48` bytes after it (`Buffer`, `BufferSize`).
//!
//! **Removal**: XDDM has no teardown callback in which a miniport could unhook, so a hook still
//! registered at REMOVE is the normal end: the port deregisters it silently and frees the
//! buffer.
//!
//! Misuse (reported, ERROR_INVALID_PARAMETER): a code other than 0xEA, a size of 1..=48 (no
//! room for any data) or above 4000, a callback with a zero size or a size with no callback are
//! unhooks (documented). Above DISPATCH_LEVEL: reported, ERROR_INVALID_PARAMETER. Where the
//! kernel refuses the registration: ERROR_INVALID_FUNCTION.

use crate::device::PortDevice;
use crate::irql::{require_at_most, Irql};
use crate::report::{self, port_code, Misuse};
use crate::sync::SpinLock;
use crate::system;
use core::cell::UnsafeCell;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicPtr, AtomicU32, AtomicUsize, Ordering};
use ddk_sys::*;

/// The only bug check code a miniport may hook (THREAD_STUCK_IN_DEVICE_DRIVER).
pub const HOOKABLE_CODE: ULONG = 0xEA;
/// The largest `BugcheckDataSize` (documented).
pub const MAX_DATA_SIZE: ULONG = 4000;
/// Pool tag of the dump buffers ("VprD").
const TAG: u32 = u32::from_le_bytes(*b"VprD");

/// The GUID that tags videoprt-rs's secondary dump data
/// (`{56505253-b0c4-4ea0-9a31-3d5e6b708192}`).
pub const VIDEOPRT_RS_DUMP_GUID: GUID = GUID {
    Data1: 0x5650_5253,
    Data2: 0xb0c4,
    Data3: 0x4ea0,
    Data4: [0x9a, 0x31, 0x3d, 0x5e, 0x6b, 0x70, 0x81, 0x92],
};

/// The component name the port registers its records under.
static COMPONENT: &[u8] = b"videoprt-rs\0";

/// The port's 48 reserved bytes at the start of each dump record.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DumpHeader {
    /// "VPRS" as a little-endian ULONG.
    pub signature: ULONG,
    /// The bug check code, or 0 where the kernel does not say (NT 5.2).
    pub bugcheck_code: ULONG,
    /// The bug check parameters, widened to 64 bits so the header is 48 bytes on x86 too.
    pub parameters: [u64; 4],
    /// Bytes of miniport data after the header.
    pub data_size: ULONG,
    pub reserved: ULONG,
}
const _: () = assert!(size_of::<DumpHeader>() == BUGCHECK_DATA_SIZE_RESERVED as usize);

/// The signature of [`DumpHeader`].
pub const SIGNATURE: ULONG = u32::from_le_bytes(*b"VPRS");

/// A device's hook. `record` first: the callback finds the hook from the record it is given.
#[repr(C)]
pub(crate) struct Hook {
    record: UnsafeCell<KBUGCHECK_REASON_CALLBACK_RECORD>,
    device: AtomicPtr<PortDevice>,
    /// The miniport's HwVidBugcheckCallback (0 = none).
    callback: AtomicUsize,
    buffer: AtomicPtr<u8>,
    size: AtomicU32,
    /// Serialises (de)registration; the bug check callback reads the atomics without it.
    registration: SpinLock<()>,
}

impl Hook {
    pub(crate) const fn new() -> Self {
        Hook {
            // SAFETY: all-zero bytes are a valid, unregistered record.
            record: UnsafeCell::new(unsafe { core::mem::zeroed() }),
            device: AtomicPtr::new(null_mut()),
            callback: AtomicUsize::new(0),
            buffer: AtomicPtr::new(null_mut()),
            size: AtomicU32::new(0),
            registration: SpinLock::new(()),
        }
    }

    pub(crate) fn set_device(&self, device: *mut PortDevice) {
        self.device.store(device, Ordering::Release);
    }

    /// Deregisters and frees the buffer, if hooked. At or below DISPATCH_LEVEL, with
    /// `registration` held.
    fn unhook_locked(&self) {
        let buffer = self.buffer.swap(null_mut(), Ordering::AcqRel);
        if buffer.is_null() {
            return;
        }
        // SAFETY: the record was registered with this buffer (buffer non-NULL ⇔ registered).
        unsafe { KeDeregisterBugCheckReasonCallback(self.record.get()) };
        self.callback.store(0, Ordering::Release);
        self.size.store(0, Ordering::Release);
        // SAFETY: allocated by `hook` with TAG; no longer reachable from the record.
        unsafe { ExFreePoolWithTag(buffer.cast(), TAG) };
    }

    /// The end of the device: unhooks silently (XDDM has no teardown callback; see the module
    /// documentation).
    pub(crate) fn release(&self) {
        let _g = self.registration.lock();
        self.unhook_locked();
    }
}

/// The reason callback: runs at HIGH_LEVEL during a bug check, without locks.
///
/// # Safety
/// Called by the kernel with the record this module registered and the structure its reason
/// names.
#[ddk_sys::ntapi]
unsafe extern "ntapi" fn reason_callback(
    Reason: KBUGCHECK_CALLBACK_REASON,
    Record: *mut KBUGCHECK_REASON_CALLBACK_RECORD,
    ReasonSpecificData: PVOID,
    _ReasonSpecificDataLength: ULONG,
) {
    // SAFETY: `record` is the first field of the repr(C) Hook it was registered from.
    let hook = unsafe { &*Record.cast::<Hook>() };
    let device = hook.device.load(Ordering::Acquire);
    let buffer = hook.buffer.load(Ordering::Acquire);
    let size = hook.size.load(Ordering::Acquire);
    let callback = hook.callback.load(Ordering::Acquire);
    if device.is_null() || buffer.is_null() || callback == 0 || ReasonSpecificData.is_null() {
        return;
    }
    // SAFETY: stored from a non-NULL PVIDEO_BUGCHECK_CALLBACK. (Back to a pointer before the
    // transmute: an integer transmuted to a function pointer has no provenance.)
    let callback: unsafe extern "ntapi" fn(PVOID, ULONG, PUCHAR, ULONG) =
        unsafe { core::mem::transmute(callback as *const ()) };
    // SAFETY: registered devices live until removal deregisters this record.
    let hw = unsafe { (*device).hw_extension() };
    let fill = |code: ULONG, parameters: [ULONG_PTR; 4]| {
        let header = DumpHeader {
            signature: SIGNATURE,
            bugcheck_code: code,
            parameters: parameters.map(|p| p as u64),
            data_size: size - BUGCHECK_DATA_SIZE_RESERVED,
            reserved: 0,
        };
        // SAFETY: the buffer holds `size` > 48 bytes; the miniport gets the part after the
        // header and may write at most BufferSize bytes (its contract).
        unsafe {
            buffer.cast::<DumpHeader>().write_unaligned(header);
            callback(
                hw,
                HOOKABLE_CODE,
                buffer.add(BUGCHECK_DATA_SIZE_RESERVED as usize),
                size - BUGCHECK_DATA_SIZE_RESERVED,
            );
        }
    };
    match Reason {
        KBUGCHECK_CALLBACK_REASON::KbCallbackSecondaryMultiPartDumpData => {
            // SAFETY: this reason's structure (contract).
            let data =
                unsafe { &mut *ReasonSpecificData.cast::<KBUGCHECK_SECONDARY_DUMP_DATA_EX>() };
            if data.BugCheckCode != HOOKABLE_CODE || size > data.MaximumAllowed {
                return;
            }
            fill(
                data.BugCheckCode,
                [
                    data.BugCheckParameter1,
                    data.BugCheckParameter2,
                    data.BugCheckParameter3,
                    data.BugCheckParameter4,
                ],
            );
            data.Guid = VIDEOPRT_RS_DUMP_GUID;
            data.OutBuffer = buffer.cast();
            data.OutBufferLength = size;
        }
        KBUGCHECK_CALLBACK_REASON::KbCallbackSecondaryDumpData => {
            // SAFETY: this reason's structure (contract).
            let data = unsafe { &mut *ReasonSpecificData.cast::<KBUGCHECK_SECONDARY_DUMP_DATA>() };
            if size > data.MaximumAllowed {
                return;
            }
            if data.OutBuffer.is_null() {
                // The size query.
                data.Guid = VIDEOPRT_RS_DUMP_GUID;
                data.OutBuffer = buffer.cast();
                data.OutBufferLength = size;
            } else if data.OutBuffer == buffer.cast() {
                // The data itself; the code is unknown on these kernels.
                fill(0, [0; 4]);
            }
        }
        _ => {}
    }
}

/// `VideoPortRegisterBugcheckCallback`.
///
/// # Safety
/// `Callback` is NULL or a non-paged HwVidBugcheckCallback that stays loaded while hooked.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortRegisterBugcheckCallback(
    HwDeviceExtension: PVOID,
    BugcheckCode: ULONG,
    Callback: PVIDEO_BUGCHECK_CALLBACK,
    BugcheckDataSize: ULONG,
) -> VP_STATUS {
    const ROUTINE: &str = "VideoPortRegisterBugcheckCallback";
    if !require_at_most(ROUTINE, Irql::DISPATCH) {
        return ERROR_INVALID_PARAMETER;
    }
    let Some(device) = PortDevice::from_hw_extension(ROUTINE, HwDeviceExtension) else {
        return ERROR_INVALID_PARAMETER;
    };
    let hook = &device.port.bugcheck;
    if Callback.is_none() || BugcheckDataSize == 0 {
        hook.release();
        return NO_ERROR;
    }
    let bad = |value: ULONG, limit: ULONG| {
        report::misuse(
            ROUTINE,
            Misuse::Port {
                code: port_code::BAD_ARGUMENT,
                p2: value as usize,
                p3: limit as usize,
            },
        );
        ERROR_INVALID_PARAMETER
    };
    if BugcheckCode != HOOKABLE_CODE {
        return bad(BugcheckCode, HOOKABLE_CODE);
    }
    if BugcheckDataSize <= BUGCHECK_DATA_SIZE_RESERVED {
        return bad(BugcheckDataSize, BUGCHECK_DATA_SIZE_RESERVED + 1);
    }
    if BugcheckDataSize > MAX_DATA_SIZE {
        return bad(BugcheckDataSize, MAX_DATA_SIZE);
    }
    let buffer = system::allocate_nonpaged_zeroed(BugcheckDataSize as usize, TAG).cast::<u8>();
    if buffer.is_null() {
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    let reason = if system::version() >= (6, 0) {
        KBUGCHECK_CALLBACK_REASON::KbCallbackSecondaryMultiPartDumpData
    } else {
        KBUGCHECK_CALLBACK_REASON::KbCallbackSecondaryDumpData
    };
    let _g = hook.registration.lock();
    hook.unhook_locked();
    hook.callback
        .store(Callback.map_or(0, |f| f as usize), Ordering::Release);
    hook.size.store(BugcheckDataSize, Ordering::Release);
    hook.buffer.store(buffer, Ordering::Release);
    // SAFETY: the record lives in the device extension until removal deregisters it; the
    // component is a static NUL-terminated string.
    let registered = unsafe {
        KeRegisterBugCheckReasonCallback(
            hook.record.get(),
            Some(reason_callback),
            reason,
            COMPONENT.as_ptr().cast_mut(),
        )
    };
    if registered == FALSE {
        hook.buffer.store(null_mut(), Ordering::Release);
        hook.callback.store(0, Ordering::Release);
        hook.size.store(0, Ordering::Release);
        // SAFETY: allocated above, never published to the kernel.
        unsafe { ExFreePoolWithTag(buffer.cast(), TAG) };
        return ERROR_INVALID_FUNCTION;
    }
    NO_ERROR
}
