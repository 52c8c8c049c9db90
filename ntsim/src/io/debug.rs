//! The debug-print hook: `NtsimDebugPrint` receives text a driver formatted (on Windows it
//! would go to `vDbgPrintEx`). ntsim records it per machine and echoes it to stderr when the
//! environment variable `NTSIM_DEBUG_PRINT` is set.

use crate::machine::{cpu, Machine};

/// Records one debug message at `level`.
///
/// # Safety
/// `text` must be valid for reads of `len` bytes.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn NtsimDebugPrint(level: u32, text: *const u8, len: usize) {
    // SAFETY: contract.
    let text =
        String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(text, len) }).into_owned();
    if std::env::var_os("NTSIM_DEBUG_PRINT").is_some() {
        eprint!("[dbg {level}] {text}");
    }
    cpu().lock().io.debug_output.push((level, text));
}

impl Machine {
    /// Every debug message printed so far, as (level, text).
    pub fn debug_output(&self) -> Vec<(u32, String)> {
        self.lock().io.debug_output.clone()
    }
}
