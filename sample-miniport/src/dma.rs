//! DMA on the edu engine through videoprt-rs.
//!
//! Packet DMA: the caller's buffer is locked (VideoPortLockBuffer), then moved chunk by chunk:
//! VideoPortStartDma sets `*pLength` to what one chunk can carry and hands the chunk's
//! scatter/gather list to [`execute_dma`], which programs the engine with the first element.
//! The engine does one contiguous run at a time, so each "DMA done" interrupt's DPC programs
//! the next element, and after the last one calls VideoPortCompleteDma. HwStartIO waits for
//! that, then starts the next chunk at `Offset + *pLength`.
//!
//! Common-buffer DMA: the engine moves between the device buffer and the common buffer
//! allocated in HwFindAdapter; the CPU copies between the common buffer and the request.

use crate::edu;
use crate::extension::{operation, DeviceExtension};
use crate::videoport::*;
use core::sync::atomic::Ordering;
use ddk_sys::*;

/// How long one engine operation may take before the request fails with ERROR_BUSY.
const TIMEOUT_US: u32 = 1_000_000;

/// HwVidExecuteDma (DISPATCH_LEVEL): keeps the list and starts its first element.
#[ddk_sys::ntapi]
unsafe extern "ntapi" fn execute_dma(
    _hw: PVOID,
    _adapter: PVP_DMA_ADAPTER,
    list: PVP_SCATTER_GATHER_LIST,
    context: PVOID,
) {
    // SAFETY: StartDma was given this miniport's extension as the context.
    let ext = unsafe { &*(context as *const DeviceExtension) };
    ext.dma.list.store(list, Ordering::Release);
    program_next_element(ext, list);
}

/// Starts the engine on the list's next element. Returns false when none is left.
fn program_next_element(ext: &DeviceExtension, list: PVP_SCATTER_GATHER_LIST) -> bool {
    let index = ext.dma.next_element.load(Ordering::Acquire);
    // SAFETY: the list stays valid until CompleteDma, which only the DPC calls after the last
    // element; `index` is checked against NumberOfElements first.
    let element = unsafe {
        if index >= (*list).NumberOfElements {
            return false;
        }
        *core::ptr::addr_of!((*list).Elements)
            .cast::<VP_SCATTER_GATHER_ELEMENT>()
            .add(index as usize)
    };
    let device_address = ext.dma.device_address.load(Ordering::Acquire);
    ext.dma.next_element.store(index + 1, Ordering::Release);
    ext.dma
        .device_address
        .store(device_address + element.Length, Ordering::Release);
    ext.start_engine(
        element.Address,
        device_address,
        element.Length,
        ext.dma.to_device.load(Ordering::Acquire),
    );
    true
}

/// From the DMA-done DPC during a packet chunk: the next element, or CompleteDma.
pub fn packet_element_done(hw: PVOID, ext: &DeviceExtension) {
    let list = ext.dma.list.load(Ordering::Acquire);
    if list.is_null() || program_next_element(ext, list) {
        return;
    }
    let to_device = ext.dma.to_device.load(Ordering::Acquire);
    #[cfg(not(target_os = "windows"))]
    if crate::misbehave::is(crate::misbehave::Misbehavior::SkipCompleteDma) {
        ext.dma.list.store(core::ptr::null_mut(), Ordering::Release);
        ext.dma.done.store(true, Ordering::Release);
        return;
    }
    // SAFETY: the list came from HwVidExecuteDma for this adapter and every element is done.
    unsafe { VideoPortCompleteDma(hw, ext.adapter, list, to_device as BOOLEAN) };
    #[cfg(not(target_os = "windows"))]
    if crate::misbehave::is(crate::misbehave::Misbehavior::RestartAfterComplete) {
        // The bug under test: the engine runs again on the addresses it was just given back.
        let command = edu::DMA_START | if to_device { 0 } else { edu::DMA_TO_RAM };
        ext.write(edu::DMA_COMMAND, command);
    }
    ext.dma.list.store(core::ptr::null_mut(), Ordering::Release);
    ext.dma.done.store(true, Ordering::Release);
}

/// Moves `length` bytes between the caller's buffer at `buffer` and the device buffer at
/// `device_offset` by packet DMA. Returns the number of StartDma chunks.
pub fn packet(
    hw: PVOID,
    ext: &DeviceExtension,
    buffer: PVOID,
    length: u32,
    device_offset: u32,
    to_device: bool,
) -> Result<u32, VP_STATUS> {
    let access = if to_device {
        VP_LOCK_OPERATION::VpReadAccess
    } else {
        VP_LOCK_OPERATION::VpWriteAccess
    };
    // SAFETY: the port probes the caller's range and returns NULL if it cannot be locked.
    let mdl = unsafe { VideoPortLockBuffer(hw, buffer, length, access) };
    if mdl.is_null() {
        return Err(ERROR_INVALID_PARAMETER);
    }
    let mut offset = 0;
    let mut chunks = 0;
    let result = loop {
        if offset == length {
            break Ok(chunks);
        }
        ext.begin(
            operation::PACKET,
            to_device,
            edu::BUFFER_ADDRESS + device_offset + offset,
        );
        let mut chunk = length - offset;
        // SAFETY: a locked MDL of this device; `chunk` lives until the chunk is complete.
        let status = unsafe {
            VideoPortStartDma(
                hw,
                ext.adapter,
                mdl,
                offset,
                &mut chunk,
                Some(execute_dma),
                ext as *const DeviceExtension as PVOID,
                to_device as BOOLEAN,
            )
        };
        if status != NO_ERROR {
            break Err(status);
        }
        if !ext.wait_done(TIMEOUT_US) {
            abandon(hw, ext, to_device);
            break Err(ERROR_BUSY);
        }
        offset += chunk;
        chunks += 1;
    };
    // SAFETY: every chunk on this MDL is complete (or abandoned and completed).
    unsafe { VideoPortUnlockBuffer(hw, mdl) };
    result
}

/// The device never finished: give the chunk's list back so nothing stays mapped.
fn abandon(hw: PVOID, ext: &DeviceExtension, to_device: bool) {
    ext.dma.operation.store(operation::IDLE, Ordering::Release);
    let list = ext.dma.list.swap(core::ptr::null_mut(), Ordering::AcqRel);
    if !list.is_null() {
        // SAFETY: the list is outstanding on this adapter; the DPC no longer touches it.
        unsafe { VideoPortCompleteDma(hw, ext.adapter, list, to_device as BOOLEAN) };
    }
}

/// Copies `data` into the common buffer and moves it to the device buffer at `device_offset`.
pub fn write_common(
    ext: &DeviceExtension,
    data: *const u8,
    length: u32,
    device_offset: u32,
) -> Result<(), VP_STATUS> {
    // SAFETY: `data` holds `length` bytes (validated by the IOCTL) and the common buffer is a
    // page; length <= BUFFER_SIZE.
    unsafe { VideoPortMoveMemory(ext.common_va.cast(), data as PVOID, length) };
    run_common(ext, length, device_offset, true)
}

/// Moves `length` bytes from the device buffer at `device_offset` to `out` via the common buffer.
pub fn read_common(
    ext: &DeviceExtension,
    out: *mut u8,
    length: u32,
    device_offset: u32,
) -> Result<(), VP_STATUS> {
    run_common(ext, length, device_offset, false)?;
    // SAFETY: `out` has room for `length` bytes (validated by the IOCTL).
    unsafe { VideoPortMoveMemory(out.cast(), ext.common_va.cast(), length) };
    Ok(())
}

fn run_common(
    ext: &DeviceExtension,
    length: u32,
    device_offset: u32,
    to_device: bool,
) -> Result<(), VP_STATUS> {
    ext.begin(
        operation::COMMON,
        to_device,
        edu::BUFFER_ADDRESS + device_offset,
    );
    ext.start_engine(
        ext.common_logical,
        edu::BUFFER_ADDRESS + device_offset,
        length,
        to_device,
    );
    if ext.wait_done(TIMEOUT_US) {
        Ok(())
    } else {
        ext.dma.operation.store(operation::IDLE, Ordering::Release);
        Err(ERROR_BUSY)
    }
}
