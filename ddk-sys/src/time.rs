//! `KeQuerySystemTime`: on x64 not an export but a read of the shared user data page
//! (`wdm.h`: `KI_USER_SHARED_DATA + 0x14`, a `KSYSTEM_TIME`; the page is at 0xFFFFF78000000000
//! on x64 and 0xFFDF0000 on x86, where the kernel's export does the same read). Here an inline function: that read
//! on Windows, ntsim's hook `NtsimQuerySystemTime` on any other host.

use crate::basic::{LARGE_INTEGER, PHYSICAL_ADDRESS};

#[cfg(not(target_os = "windows"))]
#[ddk_sys::ntapi]
extern "ntapi" {
    fn NtsimQuerySystemTime() -> i64;
}

/// The system time: 100-nanosecond intervals since January 1, 1601 (UTC). Any IRQL.
#[inline]
pub fn KeQuerySystemTime() -> LARGE_INTEGER {
    #[cfg(target_os = "windows")]
    {
        /// `SharedSystemTime`: LowPart, High1Time, High2Time.
        #[cfg(target_pointer_width = "64")]
        const SHARED_SYSTEM_TIME: usize = 0xFFFF_F780_0000_0014;
        #[cfg(target_pointer_width = "32")]
        const SHARED_SYSTEM_TIME: usize = 0xFFDF_0014;
        let at = SHARED_SYSTEM_TIME as *const u32;
        loop {
            // SAFETY: the shared user data page is mapped read-only at this fixed address in
            // every kernel address space (x64 and x86); volatile reads, as the clock interrupt updates it.
            // The kernel writes High2Time, LowPart, then High1Time; equal highs mean the three
            // reads belong to one update.
            let (high1, low, high2) = unsafe {
                (
                    at.add(1).read_volatile() as i32,
                    at.read_volatile(),
                    at.add(2).read_volatile() as i32,
                )
            };
            if high1 == high2 {
                return PHYSICAL_ADDRESS((i64::from(high1) << 32) | i64::from(low));
            }
        }
    }
    #[cfg(not(target_os = "windows"))]
    // SAFETY: ntsim's hook reads the calling machine's simulated clock.
    PHYSICAL_ADDRESS(unsafe { NtsimQuerySystemTime() })
}
