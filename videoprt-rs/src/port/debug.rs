//! `VideoPortDebugPrint`, defined in C (`csrc/debug_print.c`) because it is C-variadic, which
//! stable Rust cannot define. On Windows it forwards to `vDbgPrintEx(DPFLTR_IHVVIDEO_ID, level,
//! ...)`; on other hosts it takes its arguments in the Windows x64 convention too (so PE images
//! call it directly), formats them as DbgPrint does (LLP64 sizes, `%wZ`, at most 511 bytes a
//! message) and hands the text to ntsim's `NtsimDebugPrint`. VIDEO_DEBUG_LEVEL Error/Warn/Trace/Info map to the
//! DbgPrintEx levels 0..3 of the same names; any other level prints at the Info level. A NULL
//! `DebugMessage` prints nothing.
//!
//! This declaration lets Rust callers (and the tests) reach it as `__cdecl`: the Windows x64
//! convention on x86_64 (what `__cdecl` means there), cdecl on x86.

use core::ffi::c_char;
use ddk_sys::VIDEO_DEBUG_LEVEL;

#[ddk_sys::ntapi]
extern "ntapi-cdecl" {
    /// `VideoPortDebugPrint(VIDEO_DEBUG_LEVEL DebugPrintLevel, PSTR DebugMessage, ...)`.
    ///
    /// # Safety
    /// `DebugMessage` is NULL or a NUL-terminated printf format whose conversions match the
    /// arguments that follow.
    pub fn VideoPortDebugPrint(
        DebugPrintLevel: VIDEO_DEBUG_LEVEL,
        DebugMessage: *const c_char,
        ...
    );
}
