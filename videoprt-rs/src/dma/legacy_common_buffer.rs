//! The Windows 2000 common-buffer and contiguous-memory functions, obsolete since XP but kept
//! so that old miniports keep working.
//!
//! C interface (`video.h`), all PASSIVE_LEVEL:
//! `PVOID VideoPortGetCommonBuffer(PVOID HwDeviceExtension, ULONG DesiredLength, ULONG
//! Alignment, PPHYSICAL_ADDRESS LogicalAddress, PULONG pActualLength, BOOLEAN CacheEnabled)`,
//! `VOID VideoPortFreeCommonBuffer(PVOID HwDeviceExtension, ULONG Length, PVOID VirtualAddress,
//! PHYSICAL_ADDRESS LogicalAddress, BOOLEAN CacheEnabled)` (note: Virtual before Logical, the
//! reverse of VideoPortReleaseCommonBuffer), and `PVOID VideoPortAllocateContiguousMemory(PVOID
//! HwDeviceExtension, ULONG NumberOfBytes, PHYSICAL_ADDRESS HighestAcceptableAddress)`.
//!
//! Get/FreeCommonBuffer take no adapter: the port creates one per device on first use (a
//! 32-bit bus master, so the buffers lie below 4 GiB) and releases it at device removal. It
//! does not depend on the miniport having called VideoPortGetDmaAdapter (a ReactOS bug).
//! AllocateContiguousMemory has no documented free function; the port records each block and
//! frees it at device removal.

use super::adapter::Adapter;
use crate::device::PortDevice;
use crate::irql::Irql;
use crate::pool;
use crate::report::{self, port_code, Misuse};
use crate::slist::{Link, Linked, SList};
use core::ptr::{null_mut, NonNull};
use core::sync::atomic::Ordering;
use ddk_sys::*;

/// One block from VideoPortAllocateContiguousMemory.
pub(crate) struct ContiguousBlock {
    next: Link<ContiguousBlock>,
    va: PVOID,
}

pub(crate) type ContiguousList = SList<ContiguousBlock>;

impl Linked for ContiguousBlock {
    fn link(&self) -> &Link<Self> {
        &self.next
    }
}

impl ContiguousBlock {
    /// Frees the memory and the record.
    ///
    /// # Safety
    /// `self` must be unlinked and come from pool::alloc.
    pub unsafe fn free(record: NonNull<Self>) {
        // SAFETY: forwarded contract; the block came from MmAllocateContiguousMemorySpecifyCache.
        unsafe {
            MmFreeContiguousMemory(record.as_ref().va);
            pool::free(record);
        }
    }
}

impl PortDevice {
    /// The device's implicit adapter for the Windows 2000 common-buffer functions.
    fn legacy_adapter(&self) -> Option<&Adapter> {
        let existing = self.dma.legacy_adapter.load(Ordering::Acquire);
        if !existing.is_null() {
            // SAFETY: the legacy adapter stays listed until device removal.
            return Some(unsafe { &*existing });
        }
        let description = VP_DEVICE_DESCRIPTION {
            ScatterGather: FALSE,
            Dma32BitAddresses: TRUE,
            Dma64BitAddresses: FALSE,
            MaximumLength: 0,
        };
        let created = self.create_adapter(&description)?;
        let created_ptr = created as *const Adapter as *mut Adapter;
        match self.dma.legacy_adapter.compare_exchange(
            null_mut(),
            created_ptr,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => Some(created),
            Err(winner) => {
                // Another thread created one first; ours has no transfers or buffers yet.
                self.put_adapter("VideoPortGetCommonBuffer", created.handle());
                // SAFETY: the winner stays listed until device removal.
                Some(unsafe { &*winner })
            }
        }
    }
}

/// `VideoPortGetCommonBuffer` (obsolete): a common buffer on the device's implicit adapter, or
/// NULL. `Alignment` is ignored (documented); `*pActualLength` receives the usable length
/// (`DesiredLength`), or 0 on failure.
///
/// # Safety
/// `logical_address` and `p_actual_length`, when not NULL, must be valid for writes.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortGetCommonBuffer(
    hw_device_extension: PVOID,
    desired_length: ULONG,
    _alignment: ULONG,
    logical_address: PPHYSICAL_ADDRESS,
    p_actual_length: *mut ULONG,
    cache_enabled: BOOLEAN,
) -> PVOID {
    const ROUTINE: &str = "VideoPortGetCommonBuffer";
    let Some(device) = super::entry(ROUTINE, hw_device_extension, Irql::PASSIVE) else {
        return null_mut();
    };
    if logical_address.is_null() || p_actual_length.is_null() {
        let position = if logical_address.is_null() { 4 } else { 5 };
        report::misuse(
            ROUTINE,
            Misuse::Port {
                code: port_code::NULL_ARGUMENT,
                p2: position,
                p3: 0,
            },
        );
        return null_mut();
    }
    // SAFETY: checked non-NULL; the caller guarantees it is writable.
    unsafe { p_actual_length.write(0) };
    if desired_length == 0 {
        report::misuse(ROUTINE, Misuse::ZeroLength);
        return null_mut();
    }
    let Some(adapter) = device.legacy_adapter() else {
        return null_mut();
    };
    let Some((va, logical)) =
        adapter.allocate_common_buffer(desired_length, cache_enabled != FALSE)
    else {
        return null_mut();
    };
    // SAFETY: checked non-NULL above.
    unsafe {
        logical_address.write(logical);
        p_actual_length.write(desired_length);
    }
    va
}

/// `VideoPortFreeCommonBuffer` (obsolete): frees a buffer from VideoPortGetCommonBuffer. Every
/// value must match the allocation; a mismatch is reported and frees nothing.
///
/// # Safety
/// Callable with any arguments.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortFreeCommonBuffer(
    hw_device_extension: PVOID,
    length: ULONG,
    virtual_address: PVOID,
    logical_address: PHYSICAL_ADDRESS,
    cache_enabled: BOOLEAN,
) {
    const ROUTINE: &str = "VideoPortFreeCommonBuffer";
    let Some(device) = super::entry(ROUTINE, hw_device_extension, Irql::PASSIVE) else {
        return;
    };
    let legacy = device.dma.legacy_adapter.load(Ordering::Acquire);
    // SAFETY: the legacy adapter stays listed until device removal.
    match unsafe { legacy.as_ref() } {
        Some(adapter) => adapter.release_common_buffer(
            ROUTINE,
            length,
            logical_address,
            virtual_address,
            cache_enabled != FALSE,
        ),
        None => report::misuse(
            ROUTINE,
            Misuse::CommonBufferMismatch {
                virtual_address: virtual_address as usize,
                length,
            },
        ),
    }
}

/// `VideoPortAllocateContiguousMemory` (obsolete): physically contiguous, cached, nonpaged
/// memory no higher than `HighestAcceptableAddress`, or NULL. Freed at device removal.
///
/// # Safety
/// Callable with any arguments.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortAllocateContiguousMemory(
    hw_device_extension: PVOID,
    number_of_bytes: ULONG,
    highest_acceptable_address: PHYSICAL_ADDRESS,
) -> PVOID {
    const ROUTINE: &str = "VideoPortAllocateContiguousMemory";
    let Some(device) = super::entry(ROUTINE, hw_device_extension, Irql::PASSIVE) else {
        return null_mut();
    };
    if number_of_bytes == 0 {
        report::misuse(ROUTINE, Misuse::ZeroLength);
        return null_mut();
    }
    let Ok(record) = pool::alloc(ContiguousBlock {
        next: Link::new(),
        va: null_mut(),
    }) else {
        return null_mut();
    };
    // SAFETY: a plain allocation request; NULL on failure.
    let va = unsafe {
        MmAllocateContiguousMemorySpecifyCache(
            number_of_bytes as usize,
            PHYSICAL_ADDRESS::default(),
            highest_acceptable_address,
            PHYSICAL_ADDRESS::default(),
            MEMORY_CACHING_TYPE::MmCached,
        )
    };
    if va.is_null() {
        // SAFETY: the record was never shared.
        unsafe { pool::free(record) };
        return null_mut();
    }
    // SAFETY: the record is not shared yet.
    unsafe { (*record.as_ptr()).va = va };
    device.dma.contiguous.lock().push(record);
    va
}
