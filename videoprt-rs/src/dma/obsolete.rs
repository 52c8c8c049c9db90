//! The Windows 2000 packet-DMA-by-IOCTL family, obsolete since Windows 2000.
//!
//! C interface: `VideoPortDoDma`, `VideoPortGetDmaContext`, `VideoPortSetDmaContext`,
//! `VideoPortGetBytesUsed`, `VideoPortSetBytesUsed`, `VideoPortSignalDmaComplete`,
//! `VideoPortAssociateEventsWithDmaHandle`, `VideoPortMapDmaMemory`, `VideoPortUnmapDmaMemory`
//! and `VideoPortGetMdl` (`video.h`).
//!
//! The documentation gives each of these a fixed result on Windows 2000 and later, and that
//! result is exactly what they return here, whatever the arguments: they touch no argument, so
//! no argument can make them fault. Miniports must not depend on them (use StartDma/CompleteDma).
//! `VideoPortLockPages` and `VideoPortUnlockPages` are not fixed (LockPages really locks memory
//! for `VideoPortDmaInitOnly`), so they live with the buffer-locking services instead.

use core::ptr::null_mut;
use ddk_sys::{
    BOOLEAN, DMA_FLAGS, FALSE, HANDLE, PDMA, PHYSICAL_ADDRESS, PVIDEO_REQUEST_PACKET, PVOID, ULONG,
};

/// `VideoPortDoDma`: always returns NULL (documented; the miniport's HwStartDma is never called).
#[no_mangle]
#[ddk_sys::ntapi]
pub extern "ntapi" fn VideoPortDoDma(
    _hw_device_extension: PVOID,
    _dma: PDMA,
    _flags: DMA_FLAGS,
) -> PDMA {
    null_mut()
}

/// `VideoPortGetDmaContext`: always returns NULL (documented).
#[no_mangle]
#[ddk_sys::ntapi]
pub extern "ntapi" fn VideoPortGetDmaContext(_hw_device_extension: PVOID, _dma: PDMA) -> PVOID {
    null_mut()
}

/// `VideoPortSetDmaContext`: does nothing (documented as obsolete; GetDmaContext never returns
/// what was set).
#[no_mangle]
#[ddk_sys::ntapi]
pub extern "ntapi" fn VideoPortSetDmaContext(
    _hw_device_extension: PVOID,
    _dma: PDMA,
    _instance_context: PVOID,
) {
}

/// `VideoPortGetBytesUsed`: always returns 0 (documented).
#[no_mangle]
#[ddk_sys::ntapi]
pub extern "ntapi" fn VideoPortGetBytesUsed(_hw_device_extension: PVOID, _dma: PDMA) -> ULONG {
    0
}

/// `VideoPortSetBytesUsed`: does nothing (documented as obsolete; GetBytesUsed always returns 0).
#[no_mangle]
#[ddk_sys::ntapi]
pub extern "ntapi" fn VideoPortSetBytesUsed(
    _hw_device_extension: PVOID,
    _dma: PDMA,
    _bytes_used: ULONG,
) {
}

/// `VideoPortSignalDmaComplete`: always returns FALSE (documented).
#[no_mangle]
#[ddk_sys::ntapi]
pub extern "ntapi" fn VideoPortSignalDmaComplete(
    _hw_device_extension: PVOID,
    _dma_handle: PDMA,
) -> BOOLEAN {
    FALSE
}

/// `VideoPortAssociateEventsWithDmaHandle`: always returns NULL (documented).
#[no_mangle]
#[ddk_sys::ntapi]
pub extern "ntapi" fn VideoPortAssociateEventsWithDmaHandle(
    _hw_device_extension: PVOID,
    _vrp: PVIDEO_REQUEST_PACKET,
    _mapped_user_event: PVOID,
    _display_driver_event: PVOID,
) -> PDMA {
    null_mut()
}

/// `VideoPortMapDmaMemory`: always returns NULL (documented); `*VirtualAddress`, `*Length` and
/// `*InIoSpace` are left untouched.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
#[ddk_sys::ntapi]
pub extern "ntapi" fn VideoPortMapDmaMemory(
    _hw_device_extension: PVOID,
    _vrp: PVIDEO_REQUEST_PACKET,
    _board_address: PHYSICAL_ADDRESS,
    _length: *mut ULONG,
    _in_io_space: *mut ULONG,
    _mapped_user_event: PVOID,
    _display_driver_event: PVOID,
    _virtual_address: *mut PVOID,
) -> PDMA {
    null_mut()
}

/// `VideoPortUnmapDmaMemory`: always returns FALSE (documented).
#[no_mangle]
#[ddk_sys::ntapi]
pub extern "ntapi" fn VideoPortUnmapDmaMemory(
    _hw_device_extension: PVOID,
    _virtual_address: PVOID,
    _process_handle: HANDLE,
    _board_memory_handle: PDMA,
) -> BOOLEAN {
    FALSE
}

/// `VideoPortGetMdl`: returns `pDma` itself, "for compatibility" (documented). The handle of
/// this family is the MDL.
#[no_mangle]
#[ddk_sys::ntapi]
pub extern "ntapi" fn VideoPortGetMdl(_hw_device_extension: PVOID, dma: PDMA) -> PVOID {
    dma.cast()
}
