//! Calls into a HAL `DMA_ADAPTER` through its `DMA_OPERATIONS` table.
//!
//! C interface: `DMA_OPERATIONS` (`wdm.h`). The port asks for a version-3 table and uses only
//! version-1 entries. An entry the HAL left NULL makes the call fail as if the HAL refused it.

use core::ptr::NonNull;
use ddk_sys::*;

/// The HAL's `GetScatterGatherList`.
#[ddk_sys::ntapi]
type GetScatterGatherList = unsafe extern "ntapi" fn(
    *mut DMA_ADAPTER,
    *mut DEVICE_OBJECT,
    *mut MDL,
    PVOID,
    ULONG,
    PDRIVER_LIST_CONTROL,
    PVOID,
    BOOLEAN,
) -> NTSTATUS;

/// The HAL's `PutScatterGatherList`.
#[ddk_sys::ntapi]
type PutScatterGatherList =
    unsafe extern "ntapi" fn(*mut DMA_ADAPTER, *mut SCATTER_GATHER_LIST, BOOLEAN);

/// A live HAL adapter from `IoGetDmaAdapter`, with the two per-transfer entries of its
/// `DMA_OPERATIONS` read once (the table belongs to the adapter and does not change while it
/// lives; Driver Verifier substitutes its own before `IoGetDmaAdapter` returns).
///
/// Invariant: the pointer stays valid until [`HalAdapter::put`].
pub(crate) struct HalAdapter {
    adapter: NonNull<DMA_ADAPTER>,
    /// The HAL's entry, or [`no_get_scatter_gather_list`] where the HAL left it NULL.
    get_scatter_gather_list: GetScatterGatherList,
    /// The HAL's entry, or [`no_put_scatter_gather_list`] where the HAL left it NULL.
    put_scatter_gather_list: PutScatterGatherList,
}

/// Stands in for a NULL `GetScatterGatherList`: the HAL refuses every request.
#[ddk_sys::ntapi]
unsafe extern "ntapi" fn no_get_scatter_gather_list(
    _: *mut DMA_ADAPTER,
    _: *mut DEVICE_OBJECT,
    _: *mut MDL,
    _: PVOID,
    _: ULONG,
    _: PDRIVER_LIST_CONTROL,
    _: PVOID,
    _: BOOLEAN,
) -> NTSTATUS {
    STATUS_NOT_SUPPORTED
}

/// Stands in for a NULL `PutScatterGatherList` (no list can exist without a Get).
#[ddk_sys::ntapi]
unsafe extern "ntapi" fn no_put_scatter_gather_list(
    _: *mut DMA_ADAPTER,
    _: *mut SCATTER_GATHER_LIST,
    _: BOOLEAN,
) {
}

// SAFETY: the HAL adapter is a kernel object usable from any processor.
unsafe impl Send for HalAdapter {}
// SAFETY: as above; the HAL synchronises its own state.
unsafe impl Sync for HalAdapter {}

impl HalAdapter {
    /// # Safety
    /// `adapter` must come from `IoGetDmaAdapter` and not have been put.
    pub unsafe fn new(adapter: NonNull<DMA_ADAPTER>) -> Self {
        // SAFETY: the adapter is live (caller's contract); its table outlives it.
        let ops = unsafe { adapter.as_ref().DmaOperations.as_ref() };
        Self {
            adapter,
            get_scatter_gather_list: ops
                .and_then(|ops| ops.GetScatterGatherList)
                .unwrap_or(no_get_scatter_gather_list),
            put_scatter_gather_list: ops
                .and_then(|ops| ops.PutScatterGatherList)
                .unwrap_or(no_put_scatter_gather_list),
        }
    }

    pub fn as_ptr(&self) -> *mut DMA_ADAPTER {
        self.adapter.as_ptr()
    }

    fn ops(&self) -> Option<&DMA_OPERATIONS> {
        // SAFETY: the adapter is live (type invariant); its table outlives it.
        unsafe { self.adapter.as_ref().DmaOperations.as_ref() }
    }

    /// `GetScatterGatherList`. Must be called at DISPATCH_LEVEL.
    #[inline]
    ///
    /// # Safety
    /// `mdl` must describe locked memory containing `current_va .. current_va + length`;
    /// `routine` must be safe to call with `context` at DISPATCH_LEVEL until the list is put.
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn get_scatter_gather_list(
        &self,
        device: PDEVICE_OBJECT,
        mdl: PMDL,
        current_va: usize,
        length: u32,
        routine: PDRIVER_LIST_CONTROL,
        context: PVOID,
        write_to_device: bool,
    ) -> NTSTATUS {
        let get = self.get_scatter_gather_list;
        // SAFETY: forwarded contract; the adapter is live.
        unsafe {
            get(
                self.as_ptr(),
                device,
                mdl,
                current_va as PVOID,
                length,
                routine,
                context,
                write_to_device as BOOLEAN,
            )
        }
    }

    /// `PutScatterGatherList`: flushes, unmaps and frees the list. Must be called at DISPATCH_LEVEL.
    #[inline]
    ///
    /// # Safety
    /// `list` must be outstanding on this adapter and not be used afterwards.
    pub unsafe fn put_scatter_gather_list(
        &self,
        list: PSCATTER_GATHER_LIST,
        write_to_device: bool,
    ) {
        // SAFETY: forwarded contract.
        unsafe { (self.put_scatter_gather_list)(self.as_ptr(), list, write_to_device as BOOLEAN) }
    }

    /// `AllocateCommonBuffer`: returns the virtual address and fills `logical`. PASSIVE_LEVEL.
    pub fn allocate_common_buffer(
        &self,
        length: u32,
        logical: &mut PHYSICAL_ADDRESS,
        cache_enabled: bool,
    ) -> PVOID {
        match self.ops().and_then(|ops| ops.AllocateCommonBuffer) {
            // SAFETY: the adapter is live and `logical` is valid for writes.
            Some(allocate) => unsafe {
                allocate(self.as_ptr(), length, logical, cache_enabled as BOOLEAN)
            },
            None => core::ptr::null_mut(),
        }
    }

    /// `FreeCommonBuffer`. PASSIVE_LEVEL.
    ///
    /// # Safety
    /// The arguments must be exactly those of a live allocation on this adapter.
    pub unsafe fn free_common_buffer(
        &self,
        length: u32,
        logical: PHYSICAL_ADDRESS,
        va: PVOID,
        cache_enabled: bool,
    ) {
        if let Some(free) = self.ops().and_then(|ops| ops.FreeCommonBuffer) {
            // SAFETY: forwarded contract.
            unsafe { free(self.as_ptr(), length, logical, va, cache_enabled as BOOLEAN) }
        }
    }

    /// `PutDmaAdapter`.
    ///
    /// # Safety
    /// Every list and common buffer of the adapter must have been released, and `self` must
    /// not be used afterwards.
    pub unsafe fn put(&self) {
        if let Some(put) = self.ops().and_then(|ops| ops.PutDmaAdapter) {
            // SAFETY: forwarded contract.
            unsafe { put(self.as_ptr()) }
        }
    }
}
