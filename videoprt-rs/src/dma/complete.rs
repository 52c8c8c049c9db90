//! `VideoPortCompleteDma`: ends one chunk started by VideoPortStartDma.
//!
//! C interface (`video.h`), at or below DISPATCH_LEVEL, never from an ISR:
//! `VP_STATUS VideoPortCompleteDma(PVOID HwDeviceExtension, PVP_DMA_ADAPTER,
//! PVP_SCATTER_GATHER_LIST VpScatterGather, BOOLEAN WriteToDevice)`.
//!
//! The list must be outstanding on that adapter: it is looked up among the adapter's transfer
//! slots before anything touches it, so a second completion, a list of another adapter or a
//! made-up pointer is reported and refused instead of reaching the HAL. The HAL's
//! `PutScatterGatherList` is the flush point (it flushes the adapter buffers, copying bounced
//! device-to-memory data back into the caller's pages) and frees the map registers and list.
//! The port does not call `FlushAdapterBuffers` itself: that routine needs the
//! `MapRegisterBase` of the MapTransfer path, which the scatter/gather path never hands out.

use crate::irql::{self, Irql};
use crate::report::{self, port_code, Misuse};
use ddk_sys::*;

/// `VideoPortCompleteDma`: NO_ERROR (documented) for a transfer that was outstanding;
/// ERROR_INVALID_PARAMETER, reported, for a list that was not, or for a direction that does not
/// match StartDma's (that transfer is still completed, in its own direction, so nothing leaks
/// and bounced data lands where it belongs).
///
/// # Safety
/// Callable with any arguments.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortCompleteDma(
    hw_device_extension: PVOID,
    vp_dma_adapter: PVP_DMA_ADAPTER,
    vp_scatter_gather: PVP_SCATTER_GATHER_LIST,
    write_to_device: BOOLEAN,
) -> VP_STATUS {
    const ROUTINE: &str = "VideoPortCompleteDma";
    let Some((device, irql)) = super::entry_at(ROUTINE, hw_device_extension, Irql::DISPATCH) else {
        return ERROR_INVALID_PARAMETER;
    };
    let Some(adapter) = device.adapter(ROUTINE, vp_dma_adapter) else {
        return ERROR_INVALID_PARAMETER;
    };
    let list: PSCATTER_GATHER_LIST = vp_scatter_gather.cast();
    let Some(slot) = adapter.claim_for_completion(list) else {
        report::misuse(
            ROUTINE,
            Misuse::ListNotOutstanding {
                list: list as usize,
            },
        );
        return ERROR_INVALID_PARAMETER;
    };
    let recorded = slot.params().write_to_device;
    // SAFETY: the slot was ACTIVE with this list, and claiming it makes this call its only user.
    irql::at_dispatch_from(irql, || unsafe {
        adapter.hal.put_scatter_gather_list(list, recorded)
    });
    slot.release();
    if recorded != (write_to_device != FALSE) {
        report::misuse(
            ROUTINE,
            Misuse::Port {
                code: port_code::DIRECTION_MISMATCH,
                p2: list as usize,
                p3: write_to_device as usize,
            },
        );
        return ERROR_INVALID_PARAMETER;
    }
    NO_ERROR
}
