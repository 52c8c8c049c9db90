//! HwStartIO: the IOCTLs of `include/edu_sample.h`. Every request is validated against the
//! 4 KiB device buffer and the request's own buffer sizes before the device is touched.

use crate::dma;
use crate::edu;
use crate::extension::DeviceExtension;
use core::mem::size_of;
use ddk_sys::*;

const fn code(function: u32) -> u32 {
    CTL_CODE(
        FILE_DEVICE_VIDEO,
        0x900 + function,
        METHOD_BUFFERED,
        FILE_ANY_ACCESS,
    )
}
pub const IOCTL_EDU_SAMPLE_IDENTIFY: u32 = code(0);
pub const IOCTL_EDU_SAMPLE_WRITE: u32 = code(1);
pub const IOCTL_EDU_SAMPLE_READ: u32 = code(2);
pub const IOCTL_EDU_SAMPLE_WRITE_COMMON: u32 = code(3);
pub const IOCTL_EDU_SAMPLE_READ_COMMON: u32 = code(4);

/// `EDU_SAMPLE_IDENTITY`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    pub identification: u32,
    pub alive: u32,
}

/// `EDU_SAMPLE_TRANSFER`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Transfer {
    pub device_offset: u32,
    pub length: u32,
    pub buffer: u64,
}

/// `EDU_SAMPLE_COMMON_HEADER`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CommonHeader {
    pub device_offset: u32,
    pub length: u32,
}

const _: () = {
    assert!(size_of::<Identity>() == 8);
    assert!(size_of::<Transfer>() == 16);
    assert!(size_of::<CommonHeader>() == 8);
};

/// A request's outcome: status and `Information`.
type Outcome = (VP_STATUS, usize);

/// Checks `device_offset`/`length` against the device buffer.
fn in_device_buffer(device_offset: u32, length: u32) -> bool {
    length != 0
        && device_offset
            .checked_add(length)
            .is_some_and(|end| end <= edu::BUFFER_SIZE)
}

/// Reads a `T` from the start of the request's input, if it is long enough.
fn input<T: Copy>(vrp: &VIDEO_REQUEST_PACKET) -> Option<T> {
    if vrp.InputBuffer.is_null() || (vrp.InputBufferLength as usize) < size_of::<T>() {
        return None;
    }
    // SAFETY: the port's system buffer holds InputBufferLength bytes (checked above).
    Some(unsafe { core::ptr::read_unaligned(vrp.InputBuffer as *const T) })
}

fn identify(ext: &DeviceExtension, vrp: &VIDEO_REQUEST_PACKET) -> Outcome {
    if vrp.OutputBuffer.is_null() || (vrp.OutputBufferLength as usize) < size_of::<Identity>() {
        return (ERROR_INSUFFICIENT_BUFFER, size_of::<Identity>());
    }
    let probe = 0x5a5a_1234;
    ext.write(edu::LIVENESS, probe);
    let identity = Identity {
        identification: ext.read(edu::IDENTIFICATION),
        alive: (ext.read(edu::LIVENESS) == !probe) as u32,
    };
    // SAFETY: the output buffer holds at least an Identity (checked above).
    unsafe { core::ptr::write_unaligned(vrp.OutputBuffer as *mut Identity, identity) };
    (NO_ERROR, size_of::<Identity>())
}

fn packet(
    hw: PVOID,
    ext: &DeviceExtension,
    vrp: &VIDEO_REQUEST_PACKET,
    to_device: bool,
) -> Outcome {
    let Some(request) = input::<Transfer>(vrp) else {
        return (ERROR_INSUFFICIENT_BUFFER, size_of::<Transfer>());
    };
    if !in_device_buffer(request.device_offset, request.length) || request.buffer == 0 {
        return (ERROR_INVALID_PARAMETER, 0);
    }
    match dma::packet(
        hw,
        ext,
        request.buffer as usize as PVOID,
        request.length,
        request.device_offset,
        to_device,
    ) {
        // Information counts bytes returned in the output buffer: none here.
        Ok(_) => (NO_ERROR, 0),
        Err(status) => (status, 0),
    }
}

fn write_common(ext: &DeviceExtension, vrp: &VIDEO_REQUEST_PACKET) -> Outcome {
    let Some(header) = input::<CommonHeader>(vrp) else {
        return (ERROR_INSUFFICIENT_BUFFER, size_of::<CommonHeader>());
    };
    if !in_device_buffer(header.device_offset, header.length) {
        return (ERROR_INVALID_PARAMETER, 0);
    }
    let needed = size_of::<CommonHeader>() + header.length as usize;
    if (vrp.InputBufferLength as usize) < needed {
        return (ERROR_INSUFFICIENT_BUFFER, needed);
    }
    // SAFETY: the data follows the header inside the input buffer (length checked above).
    let data = unsafe { (vrp.InputBuffer as *const u8).add(size_of::<CommonHeader>()) };
    match dma::write_common(ext, data, header.length, header.device_offset) {
        Ok(()) => (NO_ERROR, 0),
        Err(status) => (status, 0),
    }
}

fn read_common(ext: &DeviceExtension, vrp: &VIDEO_REQUEST_PACKET) -> Outcome {
    let Some(header) = input::<CommonHeader>(vrp) else {
        return (ERROR_INSUFFICIENT_BUFFER, size_of::<CommonHeader>());
    };
    if !in_device_buffer(header.device_offset, header.length) {
        return (ERROR_INVALID_PARAMETER, 0);
    }
    if vrp.OutputBuffer.is_null() || vrp.OutputBufferLength < header.length {
        return (ERROR_INSUFFICIENT_BUFFER, header.length as usize);
    }
    // The header has been read, so the shared system buffer may now be overwritten.
    match dma::read_common(
        ext,
        vrp.OutputBuffer.cast(),
        header.length,
        header.device_offset,
    ) {
        Ok(()) => (NO_ERROR, header.length as usize),
        Err(status) => (status, 0),
    }
}

/// HwVidStartIO.
///
/// # Safety
/// Called by the port with this miniport's extension and a valid request packet.
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn start_io(hw: PVOID, vrp: PVIDEO_REQUEST_PACKET) -> BOOLEAN {
    // SAFETY: the port passes our extension and a valid packet with a status block.
    let (ext, vrp) = unsafe { (DeviceExtension::from_hw(hw), &*vrp) };
    let (status, information) = match vrp.IoControlCode {
        IOCTL_EDU_SAMPLE_IDENTIFY => identify(ext, vrp),
        IOCTL_EDU_SAMPLE_WRITE => packet(hw, ext, vrp, true),
        IOCTL_EDU_SAMPLE_READ => packet(hw, ext, vrp, false),
        IOCTL_EDU_SAMPLE_WRITE_COMMON => write_common(ext, vrp),
        IOCTL_EDU_SAMPLE_READ_COMMON => read_common(ext, vrp),
        _ => (ERROR_INVALID_FUNCTION, 0),
    };
    // SAFETY: the port always supplies a status block.
    unsafe {
        (*vrp.StatusBlock).Status = status;
        (*vrp.StatusBlock).Information = information;
    }
    TRUE
}
