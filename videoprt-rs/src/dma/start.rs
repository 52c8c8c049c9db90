//! `VideoPortStartDma`: starts one chunk of a packet-based bus-master transfer.
//!
//! C interface (`video.h`), at or below DISPATCH_LEVEL:
//! `VP_STATUS VideoPortStartDma(PVOID HwDeviceExtension, PVP_DMA_ADAPTER, PVOID Mdl, ULONG
//! Offset, PULONG pLength, PEXECUTE_DMA ExecuteDmaRoutine, PVOID Context, BOOLEAN WriteToDevice)`.
//!
//! The chunk starts at the MDL's own virtual address plus `Offset` (the address the HAL indexes
//! the MDL's page array with, not a system mapping). `*pLength` is clamped to what one HAL
//! request can carry (the adapter's map registers, counted from the chunk's page offset), to the
//! miniport's `MaximumLength` and to the MDL's end, and written before the HAL can call back. The
//! HAL's `GetScatterGatherList` runs at DISPATCH_LEVEL; its list is handed to `HwVidExecuteDma`
//! as the `VP_SCATTER_GATHER_LIST` (same layout), at DISPATCH_LEVEL, now or later. A miniport
//! moves a buffer of any size by calling again with `Offset` advanced by `*pLength`.

use super::transfer::{TransferParams, TransferSlot};
use crate::irql::{self, Irql};
use crate::report::{self, port_code, Misuse};
use ddk_sys::*;

/// Bytes of one chunk: at most `requested`, the rest of the MDL, the device's maximum
/// (`max_chunk`: the miniport's `MaximumLength`, or `u32::MAX` for none) and what the
/// adapter's map registers (`map_bytes` = registers × PAGE_SIZE, at most `u32::MAX`) can span
/// starting at `page_offset` (< PAGE_SIZE).
#[inline(always)]
pub(crate) fn chunk_length(
    requested: u32,
    left_in_mdl: u32,
    max_chunk: u32,
    map_bytes: u32,
    page_offset: u32,
) -> u32 {
    requested
        .min(left_in_mdl)
        .min(max_chunk)
        .min(map_bytes.saturating_sub(page_offset))
}

/// The HAL's `DRIVER_LIST_CONTROL`: records the list, then runs the miniport's HwVidExecuteDma
/// at DISPATCH_LEVEL with no port lock held. If the adapter is being released, the list goes
/// straight back to the HAL instead. The adapter's pending count covers the miniport's routine
/// too: a release (device removal included) waits until it has returned, so neither the
/// record nor the list it was handed is freed under it.
#[ddk_sys::ntapi]
unsafe extern "ntapi" fn execute_trampoline(
    _device_object: PDEVICE_OBJECT,
    _irp: PIRP,
    list: PSCATTER_GATHER_LIST,
    context: PVOID,
) {
    // SAFETY: the HAL passes back the slot StartDma gave it; the adapter that owns the slot
    // outlives its pending transfers (release waits for them).
    let slot = unsafe { &*(context as *const TransferSlot) };
    let params = slot.params();
    // SAFETY: as above.
    let adapter = unsafe { &*slot.owner() };
    if adapter.pending.closing() {
        // SAFETY: the list was just delivered for this adapter and nobody else knows it.
        unsafe {
            adapter
                .hal
                .put_scatter_gather_list(list, params.write_to_device)
        };
        slot.release();
        adapter.pending_done();
        return;
    }
    slot.activate(list);
    // SAFETY: the miniport's routine, called as documented: its extension, the adapter handle,
    // the list (same layout as VP_SCATTER_GATHER_LIST) and its context.
    unsafe {
        (params.execute)(
            adapter.hw_extension,
            adapter.handle(),
            list.cast(),
            params.context,
        )
    };
    adapter.pending_done();
}

/// `VideoPortStartDma`.
///
/// Returns NO_ERROR when the chunk was handed to the HAL (HwVidExecuteDma has run or will run),
/// ERROR_NOT_ENOUGH_MEMORY when DMA resources are short (`*pLength` = 0), and
/// ERROR_INVALID_PARAMETER, reported, for input it can detect as bad.
///
/// # Safety
/// `mdl` must be NULL or an MDL from VideoPortLockBuffer on this device (checked);
/// `p_length`, when not NULL, must be valid for reads and writes until HwVidExecuteDma has run.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortStartDma(
    hw_device_extension: PVOID,
    vp_dma_adapter: PVP_DMA_ADAPTER,
    mdl: PVOID,
    offset: ULONG,
    p_length: *mut ULONG,
    execute_dma_routine: PEXECUTE_DMA,
    context: PVOID,
    write_to_device: BOOLEAN,
) -> VP_STATUS {
    const ROUTINE: &str = "VideoPortStartDma";
    let Some((device, irql)) = super::entry_at(ROUTINE, hw_device_extension, Irql::DISPATCH) else {
        return ERROR_INVALID_PARAMETER;
    };
    let Some(adapter) = device.adapter(ROUTINE, vp_dma_adapter) else {
        return ERROR_INVALID_PARAMETER;
    };
    let null_argument = |position| {
        report::misuse(
            ROUTINE,
            Misuse::Port {
                code: port_code::NULL_ARGUMENT,
                p2: position,
                p3: 0,
            },
        );
        ERROR_INVALID_PARAMETER
    };
    if p_length.is_null() {
        return null_argument(5);
    }
    let Some(execute) = execute_dma_routine else {
        return null_argument(6);
    };
    let mdl: PMDL = mdl.cast();
    if !device.is_locked_mdl(mdl) {
        report::misuse(
            ROUTINE,
            Misuse::Port {
                code: port_code::UNKNOWN_MDL,
                p2: mdl as usize,
                p3: 0,
            },
        );
        return ERROR_INVALID_PARAMETER;
    }
    // SAFETY: checked non-NULL; the caller guarantees it is readable and writable.
    let requested = unsafe { p_length.read() };
    // SAFETY: the MDL is one this device locked and has not unlocked.
    let (mdl_va, byte_count) = unsafe { (MmGetMdlVirtualAddress(mdl), MmGetMdlByteCount(mdl)) };
    if requested == 0 {
        report::misuse(ROUTINE, Misuse::ZeroLength);
        return ERROR_INVALID_PARAMETER;
    }
    if offset >= byte_count {
        report::misuse(ROUTINE, Misuse::OutsideMdl { offset, byte_count });
        return ERROR_INVALID_PARAMETER;
    }
    let current_va = mdl_va + offset as usize;
    let length = chunk_length(
        requested,
        byte_count - offset,
        adapter.max_chunk,
        adapter.map_bytes,
        BYTE_OFFSET(current_va) as u32,
    );
    let write_to_device = write_to_device != FALSE;
    let params = TransferParams {
        execute,
        context,
        write_to_device,
    };
    let Some(slot) = (length != 0)
        .then(|| adapter.claim_slot(params, mdl))
        .flatten()
    else {
        // SAFETY: as above.
        unsafe { p_length.write(0) };
        return ERROR_NOT_ENOUGH_MEMORY;
    };
    // Documented: *pLength holds the chunk before HwVidExecuteDma can run.
    // SAFETY: as above.
    unsafe { p_length.write(length) };
    adapter.pending.enter();
    let status = irql::at_dispatch_from(irql, || {
        // SAFETY: the MDL is locked, the range lies inside it, and the trampoline context
        // stays valid until the callback (the adapter outlives its pending transfers).
        unsafe {
            adapter.hal.get_scatter_gather_list(
                adapter.dma_device,
                mdl,
                current_va,
                length,
                Some(execute_trampoline),
                slot as *const TransferSlot as PVOID,
                write_to_device,
            )
        }
    });
    if status.is_success() {
        return NO_ERROR;
    }
    // The HAL did not queue the request, so the callback will never run.
    slot.release();
    adapter.pending_done();
    // SAFETY: as above.
    unsafe { p_length.write(0) };
    ERROR_NOT_ENOUGH_MEMORY
}
