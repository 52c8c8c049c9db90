//! Loader entry points, panic handler and compiler-runtime symbols of the kernel image.

use ddk_sys::{DRIVER_OBJECT, NTSTATUS, PUNICODE_STRING, STATUS_SUCCESS};

/// Bug check code of a Rust panic in videoprt_rs.sys ("VPRS"). P1 = source line, P2 = column.
pub const VIDEOPRT_RS_PANIC: u32 = u32::from_be_bytes(*b"VPRS");

#[cfg(target_arch = "x86_64")]
#[link(name = "ntoskrnl.exe", kind = "raw-dylib", modifiers = "+verbatim")]
extern "C" {
    // The structured-exception handler that clang's `__try/__except` (the probe guard in
    // videoprt-rs/csrc) names in its unwind data.
    #[allow(dead_code)]
    fn __C_specific_handler();
    // What VideoPortDebugPrint (videoprt-rs/csrc/debug_print.c) forwards to.
    #[allow(dead_code)]
    fn vDbgPrintEx();
}

#[cfg(target_arch = "x86")]
#[link(
    name = "ntoskrnl.exe",
    kind = "raw-dylib",
    modifiers = "+verbatim",
    import_name_type = "undecorated"
)]
extern "C" {
    // The x86 frame-based SEH handler clang's `__try/__except` registers (C `_except_handler3`,
    // symbol `__except_handler3`; the kernel exports it as `_except_handler3`).
    #[allow(dead_code)]
    #[link_name = "__except_handler3"]
    fn except_handler3();
}

#[cfg(target_arch = "x86")]
#[link(
    name = "ntoskrnl.exe",
    kind = "raw-dylib",
    modifiers = "+verbatim",
    import_name_type = "undecorated"
)]
extern "stdcall" {
    // What VideoPortDebugPrint forwards to: NTAPI, four arguments (`_vDbgPrintEx@16`).
    #[allow(dead_code)]
    fn vDbgPrintEx(component: u32, level: u32, format: *const u8, args: *mut u8) -> u32;
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let (line, column) = info.location().map_or((0, 0), |l| (l.line(), l.column()));
    // SAFETY: KeBugCheckEx may be called at any IRQL and does not return.
    unsafe { ddk_sys::KeBugCheckEx(VIDEOPRT_RS_PANIC, line as usize, column as usize, 0, 0) }
}

/// Runs when the driver is started as a service. An export driver does its work through its
/// exports, so there is nothing to set up; it stays loaded while importers need it.
///
/// # Safety
/// Called by the I/O manager with a valid driver object and registry path.
#[no_mangle]
#[link_section = "INIT"]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn DriverEntry(
    _driver: *mut DRIVER_OBJECT,
    _registry: PUNICODE_STRING,
) -> NTSTATUS {
    STATUS_SUCCESS
}

/// Called by the loader when the image is loaded as an import of another driver, at
/// PASSIVE_LEVEL: learns the kernel version and its optional routines. Not every loader calls
/// it (Wine does not), so VideoPortInitialize does the same.
///
/// # Safety
/// Called by the loader with a valid registry path.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn DllInitialize(_registry: PUNICODE_STRING) -> NTSTATUS {
    videoprt::system::init();
    STATUS_SUCCESS
}

/// Called by the loader before it unloads the image when no importer is left. Per-device
/// state is reclaimed at device removal, so nothing is left to free here.
///
/// # Safety
/// Called by the loader.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn DllUnload() -> NTSTATUS {
    STATUS_SUCCESS
}
