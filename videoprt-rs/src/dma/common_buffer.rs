//! `VideoPortAllocateCommonBuffer` and `VideoPortReleaseCommonBuffer`: memory the CPU and the
//! device share for the adapter's lifetime.
//!
//! C interface (`video.h`), both PASSIVE_LEVEL:
//! `PVOID VideoPortAllocateCommonBuffer(PVOID HwDeviceExtension, PVP_DMA_ADAPTER, ULONG
//! DesiredLength, PPHYSICAL_ADDRESS LogicalAddress, BOOLEAN CacheEnabled, PVOID Reserved)` and
//! `VOID VideoPortReleaseCommonBuffer(PVOID HwDeviceExtension, PVP_DMA_ADAPTER, ULONG Length,
//! PHYSICAL_ADDRESS LogicalAddress, PVOID VirtualAddress, BOOLEAN CacheEnabled)`.
//!
//! Each allocation is recorded on its adapter, so a release must match one exactly (no partial
//! or double frees reach the HAL), and whatever the miniport never releases is reclaimed when
//! the adapter or the device goes away.

use super::adapter::Adapter;
use super::hal::HalAdapter;
use crate::irql::Irql;
use crate::pool;
use crate::report::{self, port_code, Misuse};
use crate::slist::{Link, Linked, SList};
use core::ptr::{null_mut, NonNull};
use ddk_sys::*;

/// One live common buffer: the exact values the HAL must get back.
pub(crate) struct CommonBuffer {
    next: Link<CommonBuffer>,
    pub virtual_address: PVOID,
    pub logical_address: PHYSICAL_ADDRESS,
    pub length: u32,
    pub cache_enabled: bool,
}

impl CommonBuffer {
    /// Frees the memory through `hal` and the record itself.
    ///
    /// # Safety
    /// `self` must be unlinked, come from pool::alloc, and describe a live allocation on `hal`.
    pub unsafe fn free(record: NonNull<Self>, hal: &HalAdapter) {
        // SAFETY: forwarded contract.
        unsafe {
            let b = record.as_ref();
            hal.free_common_buffer(
                b.length,
                b.logical_address,
                b.virtual_address,
                b.cache_enabled,
            );
            pool::free(record);
        }
    }
}

pub(crate) type CommonBufferList = SList<CommonBuffer>;

impl Linked for CommonBuffer {
    fn link(&self) -> &Link<Self> {
        &self.next
    }
}

impl Adapter {
    /// Allocates and records a common buffer. PASSIVE_LEVEL.
    pub(crate) fn allocate_common_buffer(
        &self,
        length: u32,
        cache_enabled: bool,
    ) -> Option<(PVOID, PHYSICAL_ADDRESS)> {
        let record = pool::alloc(CommonBuffer {
            next: Link::new(),
            virtual_address: null_mut(),
            logical_address: PHYSICAL_ADDRESS::default(),
            length,
            cache_enabled,
        })
        .ok()?;
        let mut logical = PHYSICAL_ADDRESS::default();
        let va = self
            .hal
            .allocate_common_buffer(length, &mut logical, cache_enabled);
        if va.is_null() {
            // SAFETY: the record came from pool::alloc and was never shared.
            unsafe { pool::free(record) };
            return None;
        }
        // SAFETY: the record is not shared yet.
        unsafe {
            (*record.as_ptr()).virtual_address = va;
            (*record.as_ptr()).logical_address = logical;
        }
        self.common_buffers.lock().push(record);
        Some((va, logical))
    }

    /// Releases the common buffer matching all four values; reports and frees nothing otherwise.
    pub(crate) fn release_common_buffer(
        &self,
        routine: &'static str,
        length: u32,
        logical: PHYSICAL_ADDRESS,
        va: PVOID,
        cache_enabled: bool,
    ) {
        let found = self.common_buffers.lock().take(|b| {
            b.virtual_address == va
                && b.logical_address == logical
                && b.length == length
                && b.cache_enabled == cache_enabled
        });
        match found {
            // SAFETY: the record was unlinked and describes a live allocation on this adapter.
            Some(buffer) => unsafe { CommonBuffer::free(buffer, &self.hal) },
            None => report::misuse(
                routine,
                Misuse::CommonBufferMismatch {
                    virtual_address: va as usize,
                    length,
                },
            ),
        }
    }
}

/// `VideoPortAllocateCommonBuffer`: the buffer's virtual address, its device-visible address
/// in `*LogicalAddress`, or NULL. `Reserved` is ignored (documented: pass NULL).
///
/// # Safety
/// `logical_address`, when not NULL, must be valid for writes.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortAllocateCommonBuffer(
    hw_device_extension: PVOID,
    vp_dma_adapter: PVP_DMA_ADAPTER,
    desired_length: ULONG,
    logical_address: PPHYSICAL_ADDRESS,
    cache_enabled: BOOLEAN,
    _reserved: PVOID,
) -> PVOID {
    const ROUTINE: &str = "VideoPortAllocateCommonBuffer";
    let Some(device) = super::entry(ROUTINE, hw_device_extension, Irql::PASSIVE) else {
        return null_mut();
    };
    let Some(adapter) = device.adapter(ROUTINE, vp_dma_adapter) else {
        return null_mut();
    };
    if logical_address.is_null() {
        report::misuse(
            ROUTINE,
            Misuse::Port {
                code: port_code::NULL_ARGUMENT,
                p2: 4,
                p3: 0,
            },
        );
        return null_mut();
    }
    if desired_length == 0 {
        report::misuse(ROUTINE, Misuse::ZeroLength);
        return null_mut();
    }
    match adapter.allocate_common_buffer(desired_length, cache_enabled != FALSE) {
        Some((va, logical)) => {
            // SAFETY: checked non-NULL; the caller guarantees it is writable.
            unsafe { logical_address.write(logical) };
            va
        }
        None => null_mut(),
    }
}

/// `VideoPortReleaseCommonBuffer`: every value must equal the allocation's; a mismatch is
/// reported and frees nothing.
///
/// # Safety
/// Callable with any arguments.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortReleaseCommonBuffer(
    hw_device_extension: PVOID,
    vp_dma_adapter: PVP_DMA_ADAPTER,
    length: ULONG,
    logical_address: PHYSICAL_ADDRESS,
    virtual_address: PVOID,
    cache_enabled: BOOLEAN,
) {
    const ROUTINE: &str = "VideoPortReleaseCommonBuffer";
    let Some(device) = super::entry(ROUTINE, hw_device_extension, Irql::PASSIVE) else {
        return;
    };
    if let Some(adapter) = device.adapter(ROUTINE, vp_dma_adapter) {
        adapter.release_common_buffer(
            ROUTINE,
            length,
            logical_address,
            virtual_address,
            cache_enabled != FALSE,
        );
    }
}
