//! HwFindAdapter, HwInitialize, HwInterrupt and the DMA-done DPC.

use crate::dma;
use crate::edu;
use crate::extension::{operation, DeviceExtension};
use crate::videoport::*;
use core::ptr::null_mut;
use core::sync::atomic::Ordering;
use ddk_sys::*;

/// HwVidFindAdapter: claims BAR0, checks the device, gets a 32-bit DMA adapter and a one-page
/// common buffer.
///
/// # Safety
/// Called by the port with this miniport's extension and a valid ConfigInfo.
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn find_adapter(
    hw: PVOID,
    _context: PVOID,
    _arguments: *mut u16,
    _config: PVIDEO_PORT_CONFIG_INFO,
    again: *mut UCHAR,
) -> VP_STATUS {
    // SAFETY: the port passes a writable flag; HwFindAdapter is the first callback.
    unsafe { again.write(FALSE) };
    // SAFETY: as above.
    let ext = unsafe { DeviceExtension::from_hw_mut(hw) };
    let mut range = VIDEO_ACCESS_RANGE::default();
    let mut slot = 0u32;
    // SAFETY: exported port function; a PnP miniport passes no requested resources.
    let status = unsafe {
        VideoPortGetAccessRanges(
            hw,
            0,
            null_mut(),
            1,
            &mut range,
            null_mut(),
            null_mut(),
            &mut slot,
        )
    };
    if status != NO_ERROR {
        return status;
    }
    if range.RangeInIoSpace != 0 || range.RangeLength < edu::BAR0_SIZE {
        return ERROR_DEV_NOT_EXIST;
    }
    // SAFETY: the range is this device's BAR0, as the port reported it.
    let base = unsafe {
        VideoPortGetDeviceBase(
            hw,
            range.RangeStart,
            range.RangeLength,
            range.RangeInIoSpace,
        )
    };
    if base.is_null() {
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    ext.registers = base.cast();
    if ext.read(edu::IDENTIFICATION) & 0xff != edu::IDENTIFICATION_MAGIC {
        return ERROR_DEV_NOT_EXIST;
    }
    let mut description = VP_DEVICE_DESCRIPTION {
        ScatterGather: TRUE,
        Dma32BitAddresses: TRUE,
        Dma64BitAddresses: FALSE,
        // One engine run moves at most the device buffer.
        MaximumLength: edu::BUFFER_SIZE,
    };
    // SAFETY: exported port function with a valid description.
    ext.adapter = unsafe { VideoPortGetDmaAdapter(hw, &mut description) };
    if ext.adapter.is_null() {
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    let mut logical = PHYSICAL_ADDRESS::default();
    // SAFETY: exported port function; the adapter is live.
    let va = unsafe {
        VideoPortAllocateCommonBuffer(
            hw,
            ext.adapter,
            edu::BUFFER_SIZE,
            &mut logical,
            FALSE,
            null_mut(),
        )
    };
    if va.is_null() {
        // The adapter is released with the device.
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    ext.common_va = va.cast();
    ext.common_logical = logical;
    NO_ERROR
}

/// HwVidInitialize: the device needs no setup beyond FindAdapter.
///
/// # Safety
/// Called by the port.
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn initialize(_hw: PVOID) -> BOOLEAN {
    TRUE
}

/// HwVidInterrupt (DIRQL): acknowledges whatever the device raised and queues the DPC for a
/// finished DMA. No DMA function may be called here.
///
/// # Safety
/// Called by the port with this miniport's extension.
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn interrupt(hw: PVOID) -> BOOLEAN {
    // SAFETY: the port passes our extension.
    let ext = unsafe { DeviceExtension::from_hw(hw) };
    if ext.registers.is_null() {
        return FALSE;
    }
    let status = ext.read(edu::INTERRUPT_STATUS);
    if status == 0 {
        return FALSE;
    }
    ext.write(edu::INTERRUPT_ACK, status);
    ext.dma.interrupts.fetch_add(1, Ordering::Relaxed);
    if status & edu::DMA_INTERRUPT != 0 {
        // SAFETY: queueing a DPC is allowed from the ISR.
        unsafe { VideoPortQueueDpc(hw, Some(dma_done), null_mut()) };
    }
    TRUE
}

/// The DPC (DISPATCH_LEVEL) for a finished engine run: continue or finish the operation.
#[ddk_sys::ntapi]
unsafe extern "ntapi" fn dma_done(hw: PVOID, _context: PVOID) {
    // SAFETY: the port passes our extension.
    let ext = unsafe { DeviceExtension::from_hw(hw) };
    match ext.dma.operation.load(Ordering::Acquire) {
        operation::PACKET => dma::packet_element_done(hw, ext),
        operation::COMMON => ext.dma.done.store(true, Ordering::Release),
        _ => {}
    }
}
