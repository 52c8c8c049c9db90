//! `VideoPortMapMemory` and `VideoPortUnmapMemory`: video memory mapped into system space, or
//! into the calling process for a display driver or application (IOCTL_VIDEO_MAP_VIDEO_MEMORY,
//! IOCTL_VIDEO_SHARE_VIDEO_MEMORY).
//!
//! C interface (`video.h`), PASSIVE_LEVEL:
//! - `VP_STATUS VideoPortMapMemory(PVOID HwDeviceExtension, PHYSICAL_ADDRESS PhysicalAddress,
//!   PULONG Length, PULONG InIoSpace, PVOID *VirtualAddress)`. `*InIoSpace`: `..._MEMORY` or
//!   `..._IO`, optionally `..._P6CACHE` (write-combined) and `..._USER_MODE`; `..._DENSE` is
//!   obsolete and ignored. `*VirtualAddress` on input is NULL (system space; or, with
//!   `..._USER_MODE`, the current process) or a process handle (user space of that process;
//!   only the current process, `NtCurrentProcess()`, is accepted). On output it receives the
//!   address and `*Length` the bytes mapped: the input for system space, rounded to the end of
//!   the last page for a user mapping (only the input length may be touched).
//! - `VP_STATUS VideoPortUnmapMemory(PVOID HwDeviceExtension, PVOID VirtualAddress,
//!   HANDLE ProcessHandle)`: `ProcessHandle` NULL for a system-space mapping, else the process
//!   it was mapped into (again only the current one).
//!
//! The range must lie inside the device's own resources. System space: `MmMapIoSpace`. User
//! space: `MmMapIoSpace`, an MDL over that view (`IoAllocateMdl`, `MmBuildMdlForNonPagedPool`)
//! and `MmMapLockedPagesSpecifyCache(UserMode)` inside an exception guard
//! (`VprtMapLockedPagesUser`: it raises on failure). I/O space is handed back as the port
//! address, as VideoPortGetDeviceBase does. Every mapping is recorded on its device with its
//! process: an unmap of anything else is reported and refused; what a process leaves is
//! undone (and reported) when it closes its handle (IRP_MJ_CLEANUP, in that process), and what
//! is left at stop or removal is reported (system mappings undone; a user mapping of a process
//! still alive is left to that process's cleanup).

use super::objects::{self, kind};
use crate::device::PortDevice;
use crate::irql::{require_at_most, Irql};
use crate::report::{self, port_code, Misuse};
use crate::slist::{Link, Linked};
use core::ptr::null_mut;
use ddk_sys::*;

/// `NtCurrentProcess()`.
const CURRENT_PROCESS: HANDLE = usize::MAX as HANDLE;

/// A mapping handed to the miniport.
pub(crate) struct MemoryMapping {
    next: Link<MemoryMapping>,
    /// What the miniport got (`*VirtualAddress`).
    pub va: usize,
    /// The system-space view (`MmMapIoSpace`), 0 for I/O space.
    pub kva: usize,
    /// Bytes of the system-space view.
    pub length: usize,
    /// The MDL of a user mapping, else 0.
    pub mdl: usize,
    /// The process of a user mapping, else 0.
    pub process: usize,
}

impl Linked for MemoryMapping {
    fn link(&self) -> &Link<Self> {
        &self.next
    }
}

fn bad(routine: &'static str, p2: usize, p3: usize) -> VP_STATUS {
    report::misuse(
        routine,
        Misuse::Port {
            code: port_code::BAD_ARGUMENT,
            p2,
            p3,
        },
    );
    ERROR_INVALID_PARAMETER
}

fn current_process() -> usize {
    // SAFETY: no arguments; the process the calling thread runs in.
    unsafe { IoGetCurrentProcess() as usize }
}

/// Undoes the views of a mapping. A user view is unmapped in the caller's process, which must
/// be its own (callers make sure).
///
/// # Safety
/// `m` is unlinked and no longer reachable.
unsafe fn undo(m: &MemoryMapping) {
    // SAFETY: the views were made by map_memory with these values (contract).
    unsafe {
        if m.mdl != 0 {
            MmUnmapLockedPages(m.va as PVOID, m.mdl as *mut MDL);
            IoFreeMdl(m.mdl as *mut MDL);
        }
        if m.kva != 0 {
            MmUnmapIoSpace(m.kva as PVOID, m.length);
        }
    }
}

/// `VideoPortMapMemory`.
///
/// # Safety
/// `Length`, `InIoSpace` and `VirtualAddress` are NULL (reported) or valid for reads and
/// writes.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortMapMemory(
    HwDeviceExtension: PVOID,
    PhysicalAddress: PHYSICAL_ADDRESS,
    Length: PULONG,
    InIoSpace: PULONG,
    VirtualAddress: *mut PVOID,
) -> VP_STATUS {
    const R: &str = "VideoPortMapMemory";
    if !require_at_most(R, Irql::PASSIVE) {
        return ERROR_INVALID_PARAMETER;
    }
    let Some(device) = PortDevice::from_hw_extension(R, HwDeviceExtension) else {
        return ERROR_INVALID_PARAMETER;
    };
    for (position, p) in [
        (3, Length as usize),
        (4, InIoSpace as usize),
        (5, VirtualAddress as usize),
    ] {
        if p == 0 {
            report::null_argument(R, position);
            return ERROR_INVALID_PARAMETER;
        }
    }
    // SAFETY: all three are valid (contract; NULL refused above).
    let (length, flags, process) = unsafe { (*Length, *InIoSpace, *VirtualAddress) };
    let io = flags & VIDEO_MEMORY_SPACE_IO != 0;
    let user = flags & VIDEO_MEMORY_SPACE_USER_MODE != 0 || !process.is_null();
    if length == 0 {
        return bad(R, 0, 0);
    }
    if !process.is_null() && process != CURRENT_PROCESS {
        // Another process's handle: mapping there needs attaching to it; not supported.
        return bad(R, process as usize, CURRENT_PROCESS as usize);
    }
    if io && user {
        return bad(R, flags as usize, VIDEO_MEMORY_SPACE_USER_MODE as usize);
    }
    let start = PhysicalAddress.get();
    let found = device
        .port
        .resources
        .lock()
        .find(start, u64::from(length), io);
    let Some(range) = found else {
        report::misuse(
            R,
            Misuse::Port {
                code: port_code::RANGE_NOT_OWNED,
                p2: start as usize,
                p3: length as usize,
            },
        );
        return ERROR_INVALID_PARAMETER;
    };
    let translated = range.translated + (start - range.raw);
    let mut mapping = MemoryMapping {
        next: Link::new(),
        va: 0,
        kva: 0,
        length: length as usize,
        mdl: 0,
        process: 0,
    };
    let mut mapped_length = length;
    if range.translated_io {
        mapping.va = translated as usize;
    } else {
        let cache = if flags & VIDEO_MEMORY_SPACE_P6CACHE != 0 {
            MEMORY_CACHING_TYPE::MmWriteCombined
        } else {
            MEMORY_CACHING_TYPE::MmNonCached
        };
        // SAFETY: a range inside the device's own translated resources.
        let kva =
            unsafe { MmMapIoSpace(PHYSICAL_ADDRESS::new(translated), length as usize, cache) };
        if kva.is_null() {
            return ERROR_NOT_ENOUGH_MEMORY;
        }
        mapping.kva = kva as usize;
        mapping.va = kva as usize;
        if user {
            match map_user(kva, length, cache) {
                Ok((va, mdl)) => {
                    mapping.va = va;
                    mapping.mdl = mdl;
                    mapping.process = current_process();
                    // The view ends with its last page.
                    let end = (va + length as usize).next_multiple_of(PAGE_SIZE);
                    mapped_length = ULONG::try_from(end - va).unwrap_or(length);
                }
                Err(status) => {
                    // SAFETY: mapped above, handed to nobody.
                    unsafe { MmUnmapIoSpace(kva, length as usize) };
                    return status;
                }
            }
        }
    }
    let va = mapping.va;
    match crate::pool::alloc(mapping) {
        Ok(record) => device.port.objects.lock().maps.push(record),
        Err(mapping) => {
            // SAFETY: never published; its views are undone here, in the mapping process.
            unsafe { undo(&mapping) };
            return ERROR_NOT_ENOUGH_MEMORY;
        }
    }
    // SAFETY: valid for writes (contract).
    unsafe {
        *VirtualAddress = va as PVOID;
        *Length = mapped_length;
    }
    NO_ERROR
}

/// The user-view granularity.
const PAGE_SIZE: usize = 4096;

/// Maps the system-space view `kva` of `length` bytes into the current process.
fn map_user(
    kva: PVOID,
    length: ULONG,
    cache: MEMORY_CACHING_TYPE,
) -> Result<(usize, usize), VP_STATUS> {
    // SAFETY: a live system-space view of device memory of `length` bytes.
    let mdl = unsafe { IoAllocateMdl(kva, length, FALSE, FALSE, null_mut()) };
    if mdl.is_null() {
        return Err(ERROR_NOT_ENOUGH_MEMORY);
    }
    let mut va: PVOID = null_mut();
    // SAFETY: an MDL over non-paged (device) memory; the guard turns the exception a failed
    // user mapping raises into a status.
    let status = unsafe {
        MmBuildMdlForNonPagedPool(mdl);
        VprtMapLockedPagesUser(mdl, cache, MM_PAGE_PRIORITY::NormalPagePriority, &mut va)
    };
    if !status.is_success() || va.is_null() {
        // SAFETY: ours, never mapped.
        unsafe { IoFreeMdl(mdl) };
        return Err(ERROR_NOT_ENOUGH_MEMORY);
    }
    Ok((va as usize, mdl as usize))
}

/// `VideoPortUnmapMemory`.
///
/// # Safety
/// `VirtualAddress` may be anything (it is looked up among the device's mappings).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortUnmapMemory(
    HwDeviceExtension: PVOID,
    VirtualAddress: PVOID,
    ProcessHandle: HANDLE,
) -> VP_STATUS {
    const R: &str = "VideoPortUnmapMemory";
    if !require_at_most(R, Irql::PASSIVE) {
        return ERROR_INVALID_PARAMETER;
    }
    let Some(device) = PortDevice::from_hw_extension(R, HwDeviceExtension) else {
        return ERROR_INVALID_PARAMETER;
    };
    if !ProcessHandle.is_null() && ProcessHandle != CURRENT_PROCESS {
        return bad(R, ProcessHandle as usize, CURRENT_PROCESS as usize);
    }
    let me = current_process();
    // A user mapping is unmapped only in its own process; a system one with no handle.
    let record = device.port.objects.lock().maps.take(|m| {
        m.va == VirtualAddress as usize
            && if m.process == 0 {
                ProcessHandle.is_null()
            } else {
                m.process == me
            }
    });
    let Some(record) = record else {
        objects::unknown(R, kind::MAPPING, VirtualAddress as usize);
        return ERROR_INVALID_PARAMETER;
    };
    // SAFETY: unlinked above; a user view is unmapped in its own process (checked).
    unsafe {
        undo(record.as_ref());
        crate::pool::free(record);
    }
    NO_ERROR
}

impl PortDevice {
    /// IRP_MJ_CLEANUP of a process: undoes (and reports) the user mappings it still has.
    pub(crate) fn unmap_process(&self, routine: &'static str) {
        let me = current_process();
        loop {
            let Some(record) = self.port.objects.lock().maps.take(|m| m.process == me) else {
                break;
            };
            // SAFETY: unlinked; this is the mapping's own process.
            unsafe {
                objects::left(routine, kind::MAPPING, record.as_ref().va);
                undo(record.as_ref());
                crate::pool::free(record);
            }
        }
    }

    /// Stop or removal: reports every mapping left; undoes the system-space ones (user views
    /// belong to processes whose cleanup undoes them).
    pub(crate) fn unmap_memory_all(&self, routine: &'static str) {
        loop {
            let Some(record) = self.port.objects.lock().maps.take(|m| m.process == 0) else {
                break;
            };
            // SAFETY: unlinked; a system-space view.
            unsafe {
                objects::left(routine, kind::MAPPING, record.as_ref().va);
                undo(record.as_ref());
                crate::pool::free(record);
            }
        }
        let users: usize = self.port.objects.lock().maps.iter().count();
        if users > 0 {
            for m in self.port.objects.lock().maps.iter() {
                objects::left(routine, kind::MAPPING, m.va);
            }
        }
    }
}
