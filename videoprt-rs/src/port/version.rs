//! `VideoPortGetVersion`: the running Windows version, from `RtlGetVersion`.
//!
//! Semantics (Microsoft's pages "VideoPortGetVersion function" and "VPOSVERSIONINFO
//! structure"): the caller sets `Size` to the size of `VPOSVERSIONINFO` (20 bytes); any other
//! size gets ERROR_INVALID_PARAMETER and nothing written. Otherwise `MajorVersion`,
//! `MinorVersion`, `BuildNumber`, `ServicePackMajor` and `ServicePackMinor` are filled from
//! `RtlGetVersion(RTL_OSVERSIONINFOEXW)` and the result is NO_ERROR. PASSIVE_LEVEL. Misuse is
//! reported and refused: a raised IRQL, an unknown `HwDeviceExtension`, a NULL
//! `pVpOsVersionInfo`.

use crate::device::PortDevice;
use crate::irql::{require_at_most, Irql};
use crate::report::{self, port_code, Misuse};
use ddk_sys::*;

/// `VideoPortGetVersion`.
///
/// # Safety
/// `pVpOsVersionInfo` is NULL or points to a `VPOSVERSIONINFO` of at least the `Size` it
/// states.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortGetVersion(
    HwDeviceExtension: PVOID,
    pVpOsVersionInfo: PVPOSVERSIONINFO,
) -> VP_STATUS {
    const R: &str = "VideoPortGetVersion";
    if !require_at_most(R, Irql::PASSIVE) {
        return ERROR_INVALID_PARAMETER;
    }
    if PortDevice::from_hw_extension(R, HwDeviceExtension).is_none() {
        return ERROR_INVALID_PARAMETER;
    }
    if pVpOsVersionInfo.is_null() {
        report::misuse(
            R,
            Misuse::Port {
                code: port_code::NULL_ARGUMENT,
                p2: 2,
                p3: 0,
            },
        );
        return ERROR_INVALID_PARAMETER;
    }
    // SAFETY: non-NULL, readable for its Size field (contract).
    let size = unsafe { (*pVpOsVersionInfo).Size };
    if size as usize != core::mem::size_of::<VPOSVERSIONINFO>() {
        return ERROR_INVALID_PARAMETER;
    }
    let mut info = RTL_OSVERSIONINFOEXW::default();
    // SAFETY: an RTL_OSVERSIONINFOEXW with its size set.
    let status = unsafe { RtlGetVersion((&mut info as *mut RTL_OSVERSIONINFOEXW).cast()) };
    if !status.is_success() {
        return ERROR_INVALID_PARAMETER;
    }
    // SAFETY: a VPOSVERSIONINFO (its Size says so), writable (contract).
    unsafe {
        pVpOsVersionInfo.write(VPOSVERSIONINFO {
            Size: size,
            MajorVersion: info.dwMajorVersion,
            MinorVersion: info.dwMinorVersion,
            BuildNumber: info.dwBuildNumber,
            ServicePackMajor: info.wServicePackMajor,
            ServicePackMinor: info.wServicePackMinor,
        })
    };
    NO_ERROR
}
