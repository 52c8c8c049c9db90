//! Which Windows the machine is: `RtlGetVersion` and `MmGetSystemRoutineAddress`.
//!
//! A driver that must load on old kernels imports only what NT 5.2 exports and looks newer
//! routines up at run time. ntsim answers that lookup from [`MachineConfig::os`]: a routine
//! newer than the simulated version is absent, so both paths of such a driver run under test.
//!
//! [`MachineConfig::os`]: crate::MachineConfig::os

use crate::machine::cpu;
use crate::verifier::{bugcheck, ntsim_code};
use ddk_sys::*;

/// A Windows kernel version (`RtlGetVersion`'s major, minor and build numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct OsVersion {
    pub major: u32,
    pub minor: u32,
    pub build: u32,
}

impl OsVersion {
    /// Windows XP x64 and Server 2003 x64 (NT 5.2): the oldest x64 kernel.
    pub const WINDOWS_SERVER_2003_X64: Self = Self::new(5, 2, 3790);
    /// Windows 7 SP1 (NT 6.1), the last client where XDDM display miniports run.
    pub const WINDOWS_7: Self = Self::new(6, 1, 7601);
    /// Windows 8 (NT 6.2): the first with `NonPagedPoolNx` and `MdlMappingNoExecute`.
    pub const WINDOWS_8: Self = Self::new(6, 2, 9200);
    /// Windows 10 version 2004: the first with `ExAllocatePool2`.
    pub const WINDOWS_10_2004: Self = Self::new(10, 0, 19041);

    pub const fn new(major: u32, minor: u32, build: u32) -> Self {
        Self {
            major,
            minor,
            build,
        }
    }

    /// `major << 8 | minor`, as violations carry it.
    pub(crate) fn packed(self) -> u64 {
        u64::from(self.major) << 8 | u64::from(self.minor)
    }
}

/// The machine's version (of the thread's entered machine).
pub(crate) fn current() -> OsVersion {
    cpu().lock().config.os
}

/// `RtlGetVersion`: fills an `RTL_OSVERSIONINFOW` with the simulated version, or an
/// `RTL_OSVERSIONINFOEXW` with it and the service pack ([`MachineConfig::service_pack`];
/// suite mask 0, product type `VER_NT_WORKSTATION`).
///
/// [`MachineConfig::service_pack`]: crate::MachineConfig::service_pack
///
/// # Safety
/// `lpVersionInformation` must point to a structure whose `dwOSVersionInfoSize` it sets.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn RtlGetVersion(lpVersionInformation: PRTL_OSVERSIONINFOW) -> NTSTATUS {
    if lpVersionInformation.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: readable for its size field (contract).
    let size = unsafe { (*lpVersionInformation).dwOSVersionInfoSize };
    // RTL_OSVERSIONINFOW (276 bytes) or RTL_OSVERSIONINFOEXW (284 bytes).
    if size != 276 && size != 284 {
        let os = current();
        cpu().lock().report(
            bugcheck::NTSIM_CHECK,
            ntsim_code::NEWER_THAN_KERNEL,
            [u64::from(size), os.packed(), 0],
            "RtlGetVersion",
            format!("dwOSVersionInfoSize {size} is neither 276 nor 284"),
        );
        return STATUS_INVALID_PARAMETER;
    }
    let (os, service_pack) = {
        let cpu = cpu();
        let st = cpu.lock();
        (st.config.os, st.config.service_pack)
    };
    if size == 284 {
        // SAFETY: the caller's size says it is an RTL_OSVERSIONINFOEXW, writable.
        unsafe {
            let ex = &mut *lpVersionInformation.cast::<RTL_OSVERSIONINFOEXW>();
            ex.wServicePackMajor = service_pack.0;
            ex.wServicePackMinor = service_pack.1;
            ex.wSuiteMask = 0;
            ex.wProductType = 1;
            ex.wReserved = 0;
        }
    }
    // SAFETY: writable for at least RTL_OSVERSIONINFOW (its size says so).
    unsafe {
        let info = &mut *lpVersionInformation;
        info.dwMajorVersion = os.major;
        info.dwMinorVersion = os.minor;
        info.dwBuildNumber = os.build;
        info.dwPlatformId = VER_PLATFORM_WIN32_NT;
        info.szCSDVersion = [0; 128];
    }
    STATUS_SUCCESS
}

/// `MmGetSystemRoutineAddress`: the address of a routine the simulated version exports, or
/// NULL. PASSIVE_LEVEL only (a higher IRQL is reported, and NULL returned).
///
/// # Safety
/// `SystemRoutineName` must be a valid `UNICODE_STRING`.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn MmGetSystemRoutineAddress(
    SystemRoutineName: PUNICODE_STRING,
) -> PVOID {
    const R: &str = "MmGetSystemRoutineAddress";
    let cpu = cpu();
    let irql = cpu.irql();
    if irql > PASSIVE_LEVEL {
        cpu.lock().report(
            bugcheck::IRQL_NOT_LESS_OR_EQUAL,
            u32::from(irql),
            [u64::from(PASSIVE_LEVEL), 0, 0],
            R,
            format!("{R} at IRQL {irql} (PASSIVE_LEVEL only)"),
        );
        return core::ptr::null_mut();
    }
    if SystemRoutineName.is_null() {
        return core::ptr::null_mut();
    }
    // SAFETY: a valid UNICODE_STRING (contract).
    let name = unsafe {
        let s = &*SystemRoutineName;
        if s.Buffer.is_null() {
            return core::ptr::null_mut();
        }
        String::from_utf16_lossy(std::slice::from_raw_parts(
            s.Buffer,
            usize::from(s.Length) / 2,
        ))
    };
    let os = cpu.lock().config.os;
    crate::kernel_exports::lookup_any(&name, os).map_or(core::ptr::null_mut(), |a| a as PVOID)
}
