//! `VIDEO_PORT_CONFIG_INFO.VideoPortGetProcAddress`: the address of a video port function by
//! name, so one miniport binary can use functions a newer port exports and still load on an
//! older one (VirtualBox's XPDM miniport finds its events, DPCs and pool routines this way).
//!
//! Semantics (Microsoft's page "PVIDEO_PORT_GET_PROC_ADDRESS callback function"): PASSIVE_LEVEL;
//! `FunctionName` is a NUL-terminated ASCII name; the result is the function's address, or
//! NULL if the port does not export it. Here: any export of `videoprt_rs.sys`
//! ([`crate::exports::lookup`], the same table ntsim's loader binds imports with), NULL for
//! anything else, including a name longer than any export (read no further than that) or not
//! ASCII. A raised IRQL, an unknown `HwDeviceExtension` or a NULL name is reported, and NULL
//! returned.

use crate::device::PortDevice;
use crate::exports;
use crate::irql::{require_at_most, Irql};
use crate::report;
use core::ptr::null_mut;
use ddk_sys::*;

/// Longer than every export's name; a name not terminated within it names no export.
const MAX_NAME: usize = 64;

/// The function `VIDEO_PORT_CONFIG_INFO.VideoPortGetProcAddress` points at.
///
/// # Safety
/// `FunctionName` is NULL or a NUL-terminated string (read up to its NUL or [`MAX_NAME`]
/// bytes, whichever comes first).
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn get_proc_address(
    HwDeviceExtension: PVOID,
    FunctionName: *mut UCHAR,
) -> PVOID {
    const R: &str = "VideoPortGetProcAddress";
    if !require_at_most(R, Irql::PASSIVE) {
        return null_mut();
    }
    if PortDevice::from_hw_extension(R, HwDeviceExtension).is_none() {
        return null_mut();
    }
    if FunctionName.is_null() {
        report::null_argument(R, 2);
        return null_mut();
    }
    let mut name = [0u8; MAX_NAME];
    let mut len = 0;
    loop {
        if len == MAX_NAME {
            return null_mut();
        }
        // SAFETY: a NUL-terminated string (contract), read up to its NUL.
        let byte = unsafe { FunctionName.add(len).read() };
        if byte == 0 {
            break;
        }
        name[len] = byte;
        len += 1;
    }
    let Ok(name) = core::str::from_utf8(&name[..len]) else {
        return null_mut();
    };
    exports::lookup(name).map_or(null_mut(), |address| address as PVOID)
}
