//! The C sample miniports, compiled for the host and linked with videoprt-rs and ntsim: the edu
//! sample (`edu_miniport.c`, the same end-to-end scenarios as the Rust sample) and the display
//! sample for QEMU's Bochs adapter (`bochs_miniport.c`, run by
//! `sample_miniport::display`). On Windows the same sources are `c_edu_miniport_{gnu,lld}.sys`
//! and `c_bochs_miniport_{gnu,lld}.sys` (`cargo xtask build`).
//!
//! | file | what |
//! |---|---|
//! | `edu_miniport.c` | the miniport: HwFindAdapter, HwInterrupt, the DPC, HwStartIO, packet and common-buffer DMA |
//! | `bochs_miniport.c` | the display miniport: DISPI detection, the mode table, the standard video IOCTLs, the frame buffer mapped into the client |
//! | `vbe_miniport.c` | a VESA BIOS display miniport: modes, mode sets and the monitor's EDID through INT 10h (VideoPortQueryServices' INT10 interface, VideoPortInt10), VideoPortQueryServices found with VideoPortGetProcAddress, HwGetVideoChildDescriptor |
//! | `layout_probe.c` | the host header's ntddvdeo.h layouts, for the layout test |
//! | `include/videoprt_rs.h` | every export of videoprt_rs.sys, redeclared after mingw-w64's `ddk/video.h` |
//! | `include/videoprt_host.h` | the NT/video.h types for the host build, with Windows x64 sizes |
//!
//! The host build is 64-bit only (`videoprt_host.h` is the Windows x64 layout): on a 32-bit
//! host this crate is empty, and its end-to-end test runs the x86 edu images instead.
#![cfg(all(not(target_os = "windows"), target_pointer_width = "64"))]

// The VideoPort functions the C code calls come from videoprt-rs itself (over ntsim).
extern crate videoprt as _;

use ddk_sys::{NTSTATUS, PDRIVER_OBJECT, PUNICODE_STRING};
use std::ffi::{c_char, c_ulonglong, CStr};

#[ddk_sys::ntapi]
extern "ntapi" {
    /// The C miniport's `DriverEntry` (renamed `CEduDriverEntry` on the host). video.h
    /// declares it `ULONG DriverEntry(PVOID, PVOID)`: the same registers as ntsim's
    /// `DriverEntry` type, and the ULONG is the NTSTATUS of VideoPortInitialize.
    #[link_name = "CEduDriverEntry"]
    pub fn DriverEntry(driver_object: PDRIVER_OBJECT, registry_path: PUNICODE_STRING) -> NTSTATUS;
}

#[ddk_sys::ntapi]
extern "ntapi" {
    /// The C Bochs display miniport's `DriverEntry` (renamed `CBochsDriverEntry` on the host).
    #[link_name = "CBochsDriverEntry"]
    pub fn BochsDriverEntry(
        driver_object: PDRIVER_OBJECT,
        registry_path: PUNICODE_STRING,
    ) -> NTSTATUS;

    /// The deliberately broken build of the same source (BOCHS_MISBEHAVE_LEAK: it forgets
    /// VideoPortUnmapMemory and VideoPortFreePool), for the tests that expect the port to
    /// report it.
    #[link_name = "CBochsLeakDriverEntry"]
    pub fn BochsLeakDriverEntry(
        driver_object: PDRIVER_OBJECT,
        registry_path: PUNICODE_STRING,
    ) -> NTSTATUS;

    /// The C VBE display miniport's `DriverEntry` (renamed `CVbeDriverEntry` on the host).
    #[link_name = "CVbeDriverEntry"]
    pub fn VbeDriverEntry(
        driver_object: PDRIVER_OBJECT,
        registry_path: PUNICODE_STRING,
    ) -> NTSTATUS;

    /// The VBE miniport's HwGetVideoChildDescriptor (exported by the host build only).
    #[link_name = "VbeHostGetChildDescriptor"]
    pub fn VbeGetChildDescriptor(
        hw_device_extension: ddk_sys::PVOID,
        child_enum_info: *mut VideoChildEnumInfo,
        video_child_type: *mut u32,
        child_descriptor: *mut u8,
        uid: *mut u32,
        unused: *mut u32,
    ) -> ddk_sys::VP_STATUS;
}

/// `VIDEO_CHILD_ENUM_INFO` (video.h).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VideoChildEnumInfo {
    pub size: u32,
    pub child_descriptor_size: u32,
    pub child_index: u32,
    pub acpi_hw_id: u32,
    pub child_hw_device_extension: ddk_sys::PVOID,
}

#[repr(C)]
struct LayoutRow {
    type_name: *const c_char,
    member: *const c_char,
    offset: usize,
    size: usize,
}

#[repr(C)]
struct ConstantRow {
    name: *const c_char,
    value: c_ulonglong,
}

extern "C" {
    static CVideoLayout: [LayoutRow; 0];
    static CVideoLayoutRows: usize;
    static CVideoConstants: [ConstantRow; 0];
    static CVideoConstantRows: usize;
}

/// One structure or member of ntddvdeo.h as the host build lays it out (`layout_probe.c`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub type_name: String,
    /// Empty for the whole structure.
    pub member: String,
    pub offset: usize,
    pub size: usize,
}

fn string(p: *const c_char) -> String {
    // SAFETY: layout_probe.c's rows hold string literals.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// The host header's layouts of VIDEO_MODE_INFORMATION, VIDEO_NUM_MODES, VIDEO_MODE,
/// VIDEO_MEMORY and VIDEO_MEMORY_INFORMATION.
pub fn host_video_layouts() -> Vec<Layout> {
    // SAFETY: layout_probe.c defines CVideoLayoutRows rows in CVideoLayout, never written.
    let rows = unsafe {
        std::slice::from_raw_parts(
            core::ptr::addr_of!(CVideoLayout).cast::<LayoutRow>(),
            CVideoLayoutRows,
        )
    };
    rows.iter()
        .map(|r| Layout {
            type_name: string(r.type_name),
            member: string(r.member),
            offset: r.offset,
            size: r.size,
        })
        .collect()
}

/// The host header's IOCTL codes and flags: (name, value).
pub fn host_video_constants() -> Vec<(String, u64)> {
    // SAFETY: as in host_video_layouts.
    let rows = unsafe {
        std::slice::from_raw_parts(
            core::ptr::addr_of!(CVideoConstants).cast::<ConstantRow>(),
            CVideoConstantRows,
        )
    };
    rows.iter().map(|r| (string(r.name), r.value)).collect()
}
