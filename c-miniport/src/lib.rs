//! The edu sample miniport in portable C (`edu_miniport.c`), compiled for the host and linked
//! with videoprt-rs and ntsim, so the same end-to-end scenarios as the Rust sample run against
//! it. On Windows the same source is `c_edu_miniport_gnu.sys` / `c_edu_miniport_lld.sys`
//! (`cargo xtask build`).
//!
//! | file | what |
//! |---|---|
//! | `edu_miniport.c` | the miniport: HwFindAdapter, HwInterrupt, the DPC, HwStartIO, packet and common-buffer DMA |
//! | `include/videoprt_rs.h` | every export of videoprt_rs.sys, redeclared after mingw-w64's `ddk/video.h` |
//! | `include/videoprt_host.h` | the NT/video.h types for the host build, with Windows x64 sizes |
#![cfg(not(target_os = "windows"))]

// The VideoPort functions the C code calls come from videoprt-rs itself (over ntsim).
extern crate videoprt as _;

use ddk_sys::{NTSTATUS, PDRIVER_OBJECT, PUNICODE_STRING};

extern "win64" {
    /// The C miniport's `DriverEntry` (renamed `CEduDriverEntry` on the host). video.h
    /// declares it `ULONG DriverEntry(PVOID, PVOID)`: the same registers as ntsim's
    /// `DriverEntry` type, and the ULONG is the NTSTATUS of VideoPortInitialize.
    #[link_name = "CEduDriverEntry"]
    pub fn DriverEntry(driver_object: PDRIVER_OBJECT, registry_path: PUNICODE_STRING) -> NTSTATUS;
}
