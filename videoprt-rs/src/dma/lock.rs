//! `VideoPortLockBuffer` / `VideoPortUnlockBuffer`, and the obsolete `VideoPortLockPages` /
//! `VideoPortUnlockPages` built on the same locking.
//!
//! C interface (`video.h`):
//! `PVOID VideoPortLockBuffer(PVOID HwDeviceExtension, PVOID BaseAddress, ULONG Length,
//! VP_LOCK_OPERATION Operation)` (PASSIVE_LEVEL), `VOID VideoPortUnlockBuffer(PVOID
//! HwDeviceExtension, PVOID Mdl)` (at or below DISPATCH_LEVEL), `BOOLEAN VideoPortLockPages(PVOID
//! HwDeviceExtension, PVIDEO_REQUEST_PACKET pVrp, PEVENT pUEvent, PEVENT pDisplayEvent, DMA_FLAGS
//! DmaFlags)` and `BOOLEAN VideoPortUnlockPages(PVOID hwDeviceExtension, PDMA pDma)`.
//!
//! A buffer below the user/kernel boundary is probed as a user-mode buffer (so a user pointer
//! into kernel space is refused), anything else as kernel memory. The probe runs under an
//! exception guard (`VprtProbeAndLockPages`, a C `__try/__except` on Windows): a bad pointer or
//! range gives NULL, never an unhandled exception. Each locked MDL is recorded on its device, so
//! StartDma and UnlockBuffer accept only MDLs this device locked, and device removal unlocks
//! whatever the miniport forgot.

use super::adapter::transfers_on_mdl;
use crate::device::PortDevice;
use crate::irql::Irql;
use crate::live::Lookup;
use crate::pool;
use crate::report::{self, port_code, Misuse};
use crate::slist::{Link, Linked, SList};
use core::ptr::{null_mut, NonNull};
use ddk_sys::*;

#[ddk_sys::ntapi]
extern "ntapi" {
    /// `MmProbeAndLockPages` under an exception guard: STATUS_SUCCESS with the pages locked, or
    /// the exception code with the MDL untouched. (C on Windows; ntsim on other hosts.)
    fn VprtProbeAndLockPages(
        mdl: PMDL,
        access_mode: KPROCESSOR_MODE,
        operation: LOCK_OPERATION,
    ) -> NTSTATUS;
}

#[cfg(not(target_os = "windows"))]
#[ddk_sys::ntapi]
extern "ntapi" {
    /// ntsim's answer to "is this a user-space address" (host addresses have no fixed split).
    fn NtsimIsUserAddress(va: usize) -> BOOLEAN;
}

#[cfg(all(target_os = "windows", target_arch = "x86"))]
#[link(
    name = "ntoskrnl.exe",
    kind = "raw-dylib",
    modifiers = "+verbatim",
    import_name_type = "undecorated"
)]
extern "C" {
    /// The first address above user space: 0x7FFF0000, or 0xBFFF0000 on a /3GB system.
    static MmUserProbeAddress: usize;
}

/// Whether `va` lies in user space: below the x64 canonical split on Windows x64, below the
/// kernel's `MmUserProbeAddress` on Windows x86 (where /3GB moves the split).
fn is_user_address(va: usize) -> bool {
    #[cfg(all(target_os = "windows", target_arch = "x86_64"))]
    {
        va < 0x0000_8000_0000_0000
    }
    #[cfg(all(target_os = "windows", target_arch = "x86"))]
    {
        // SAFETY: an exported kernel variable set at boot and never written again.
        va < unsafe { MmUserProbeAddress }
    }
    #[cfg(not(target_os = "windows"))]
    // SAFETY: a pure query of the simulated address spaces.
    unsafe {
        NtsimIsUserAddress(va) != FALSE
    }
}

/// One MDL this device locked.
pub(crate) struct LockedBuffer {
    next: Link<LockedBuffer>,
    mdl: PMDL,
}

pub(crate) type LockedList = SList<LockedBuffer>;

impl Linked for LockedBuffer {
    fn link(&self) -> &Link<Self> {
        &self.next
    }
}

impl PortDevice {
    /// Whether `mdl` is a buffer this device locked and has not unlocked. Lock-free unless
    /// more buffers are locked than `live_mdls` holds; `mdl` is compared, never read.
    #[inline]
    pub(crate) fn is_locked_mdl(&self, mdl: PMDL) -> bool {
        match self.dma.live_mdls.lookup(mdl) {
            Lookup::Live => true,
            Lookup::NotLive => false,
            Lookup::Ask => self.is_locked_mdl_locked(mdl) != FALSE,
        }
    }

    /// The list walk under the lock. (Cold paths of entry points are `extern "ntapi"`: see
    /// [`report::misuse`].)
    #[cold]
    #[inline(never)]
    #[ddk_sys::ntapi]
    extern "ntapi" fn is_locked_mdl_locked(&self, mdl: PMDL) -> BOOLEAN {
        (!mdl.is_null() && self.dma.locked.lock().iter().any(|r| r.mdl == mdl)) as BOOLEAN
    }

    /// Probes, locks and records `length` bytes at `base`. PASSIVE_LEVEL.
    fn lock_buffer(
        &self,
        routine: &'static str,
        base: PVOID,
        length: u32,
        operation: LOCK_OPERATION,
    ) -> PMDL {
        // SAFETY: IoAllocateMdl only records the range; nothing is touched yet.
        let Some(mdl) =
            NonNull::new(unsafe { IoAllocateMdl(base, length, FALSE, FALSE, null_mut()) })
        else {
            return null_mut();
        };
        let record = match pool::alloc(LockedBuffer {
            next: Link::new(),
            mdl: mdl.as_ptr(),
        }) {
            Ok(record) => record,
            Err(_) => {
                // SAFETY: the MDL is ours and not locked.
                unsafe { IoFreeMdl(mdl.as_ptr()) };
                return null_mut();
            }
        };
        let mode = if is_user_address(base as usize) {
            UserMode
        } else {
            KernelMode
        };
        // SAFETY: a fresh MDL describing the caller's range; the guard turns a bad range into
        // a status instead of an exception.
        let status = unsafe { VprtProbeAndLockPages(mdl.as_ptr(), mode, operation) };
        if !status.is_success() {
            report::misuse(
                routine,
                Misuse::Port {
                    code: port_code::PROBE_FAILED,
                    p2: base as usize,
                    p3: length as usize,
                },
            );
            // SAFETY: neither the record nor the (unlocked) MDL was shared.
            unsafe {
                pool::free(record);
                IoFreeMdl(mdl.as_ptr());
            }
            return null_mut();
        }
        let mut locked = self.dma.locked.lock();
        locked.push(record);
        self.dma.live_mdls.insert(mdl.as_ptr());
        drop(locked);
        mdl.as_ptr()
    }

    /// Unlocks and forgets `mdl` if this device locked it; reports otherwise.
    fn unlock_buffer(&self, routine: &'static str, mdl: PMDL) -> bool {
        let outstanding = transfers_on_mdl(self, mdl);
        if outstanding != 0 {
            // Unlocking now would let the pages go while the device may still write them.
            report::misuse(
                routine,
                Misuse::Port {
                    code: port_code::UNLOCK_WITH_TRANSFERS,
                    p2: mdl as usize,
                    p3: outstanding,
                },
            );
            return false;
        }
        let mut locked = self.dma.locked.lock();
        let taken = locked.take(|r| r.mdl == mdl);
        if taken.is_some() {
            self.dma.live_mdls.remove(mdl);
        }
        drop(locked);
        let Some(record) = taken else {
            report::misuse(
                routine,
                Misuse::Port {
                    code: port_code::UNKNOWN_MDL,
                    p2: mdl as usize,
                    p3: 0,
                },
            );
            return false;
        };
        // SAFETY: the MDL was locked by this device and is no longer recorded anywhere.
        unsafe {
            MmUnlockPages(mdl);
            IoFreeMdl(mdl);
            pool::free(record);
        }
        true
    }

    /// Unlocks every buffer the miniport left locked (device removal), reporting each.
    pub(crate) fn unlock_all(&self, routine: &'static str) {
        loop {
            let mut locked = self.dma.locked.lock();
            let Some(record) = locked.pop() else {
                break;
            };
            // SAFETY: the record was unlinked and is live.
            let mdl = unsafe { record.as_ref().mdl };
            self.dma.live_mdls.remove(mdl);
            drop(locked);
            report::misuse(
                routine,
                Misuse::Port {
                    code: port_code::RECLAIMED,
                    p2: mdl as usize,
                    p3: 0,
                },
            );
            // SAFETY: as in unlock_buffer; all adapters are gone, so no transfer uses the MDL.
            unsafe {
                MmUnlockPages(mdl);
                IoFreeMdl(mdl);
                pool::free(record);
            }
        }
    }
}

/// `VideoPortLockBuffer`: an MDL for the locked buffer, or NULL (no memory, zero length, an
/// unknown operation, or a range that cannot be probed: the last three are reported).
///
/// # Safety
/// Callable with any arguments; the range is probed before use.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortLockBuffer(
    hw_device_extension: PVOID,
    base_address: PVOID,
    length: ULONG,
    operation: VP_LOCK_OPERATION,
) -> PVOID {
    const ROUTINE: &str = "VideoPortLockBuffer";
    let Some(device) = super::entry(ROUTINE, hw_device_extension, Irql::PASSIVE) else {
        return null_mut();
    };
    if length == 0 {
        report::misuse(ROUTINE, Misuse::ZeroLength);
        return null_mut();
    }
    if operation.0 > VP_LOCK_OPERATION::VpModifyAccess.0 {
        report::misuse(
            ROUTINE,
            Misuse::Port {
                code: port_code::BAD_ARGUMENT,
                p2: operation.0 as usize,
                p3: VP_LOCK_OPERATION::VpModifyAccess.0 as usize,
            },
        );
        return null_mut();
    }
    // VP_LOCK_OPERATION has LOCK_OPERATION's values.
    device
        .lock_buffer(ROUTINE, base_address, length, LOCK_OPERATION(operation.0))
        .cast()
}

/// `VideoPortUnlockBuffer`: unlocks the pages and frees the MDL. An MDL this device did not
/// lock, or one with transfers still outstanding, is reported and left alone.
///
/// # Safety
/// Callable with any arguments.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortUnlockBuffer(hw_device_extension: PVOID, mdl: PVOID) {
    const ROUTINE: &str = "VideoPortUnlockBuffer";
    if let Some(device) = super::entry(ROUTINE, hw_device_extension, Irql::DISPATCH) {
        device.unlock_buffer(ROUTINE, mdl.cast());
    }
}

/// `VideoPortLockPages` (obsolete): with `VideoPortDmaInitOnly`, locks `pVrp->InputBuffer` for
/// modify access and returns TRUE, with the handle in `pVrp->OutputBuffer` and its size in
/// `OutputBufferLength`. Other flags do nothing and return FALSE (documented). The handle is the
/// MDL, as `VideoPortGetMdl` documents; release it with `VideoPortUnlockPages`.
///
/// # Safety
/// `vrp`, when not NULL, must point to a valid request packet.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortLockPages(
    hw_device_extension: PVOID,
    vrp: PVIDEO_REQUEST_PACKET,
    _user_event: PEVENT,
    _display_event: PEVENT,
    dma_flags: DMA_FLAGS,
) -> BOOLEAN {
    const ROUTINE: &str = "VideoPortLockPages";
    if dma_flags != DMA_FLAGS::VideoPortDmaInitOnly {
        return FALSE;
    }
    let Some(device) = super::entry(ROUTINE, hw_device_extension, Irql::PASSIVE) else {
        return FALSE;
    };
    // SAFETY: the caller guarantees a non-NULL packet is valid.
    let Some(vrp) = (unsafe { vrp.as_mut() }) else {
        report::misuse(
            ROUTINE,
            Misuse::Port {
                code: port_code::NULL_ARGUMENT,
                p2: 2,
                p3: 0,
            },
        );
        return FALSE;
    };
    if vrp.InputBufferLength == 0 {
        report::misuse(ROUTINE, Misuse::ZeroLength);
        return FALSE;
    }
    let mdl = device.lock_buffer(
        ROUTINE,
        vrp.InputBuffer,
        vrp.InputBufferLength,
        LOCK_OPERATION::IoModifyAccess,
    );
    if mdl.is_null() {
        return FALSE;
    }
    vrp.OutputBuffer = mdl.cast();
    // SAFETY: a locked MDL from IoAllocateMdl: its Size covers header and page array.
    vrp.OutputBufferLength = unsafe { (*mdl).Size } as u16 as u32;
    TRUE
}

/// `VideoPortUnlockPages` (obsolete): releases what VideoPortLockPages locked. Always returns
/// TRUE (documented); a handle this device did not lock is reported and left alone.
///
/// # Safety
/// Callable with any arguments.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortUnlockPages(
    hw_device_extension: PVOID,
    dma: PDMA,
) -> BOOLEAN {
    const ROUTINE: &str = "VideoPortUnlockPages";
    if let Some(device) = super::entry(ROUTINE, hw_device_extension, Irql::PASSIVE) {
        device.unlock_buffer(ROUTINE, dma.cast());
    }
    TRUE
}
