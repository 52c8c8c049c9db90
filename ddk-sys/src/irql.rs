//! `KIRQL` values and the IRQL routines.
//!
//! On x64, `KeGetCurrentIrql`, `KeRaiseIrql` and `KeLowerIrql` are not exports: `wdm.h` inlines
//! them as reads and writes of CR8. On x86 they are the HAL's: `KeGetCurrentIrql` (NTAPI),
//! `KfRaiseIrql` and `KfLowerIrql` (FASTCALL; `KeRaiseIrql`/`KeLowerIrql` are macros over them),
//! since the x86 IRQL is the HAL's business (no CR8 in 32-bit mode). Here they are inline
//! functions: CR8 on Windows x64, the HAL on Windows x86, ntsim's hooks (`NtsimGetCurrentIrql`,
//! `NtsimRaiseIrql`, `NtsimLowerIrql`) on any other host.

pub type KIRQL = u8;
pub const PASSIVE_LEVEL: KIRQL = 0;
pub const APC_LEVEL: KIRQL = 1;
pub const DISPATCH_LEVEL: KIRQL = 2;
/// Lowest device IRQL (x64 and x86); interrupt service routines run at or above it.
pub const DIRQL_MIN: KIRQL = 3;
/// x64: 13; x86: `CLOCK2_LEVEL`, 28.
#[cfg(target_arch = "x86_64")]
pub const CLOCK_LEVEL: KIRQL = 13;
#[cfg(target_arch = "x86")]
pub const CLOCK_LEVEL: KIRQL = 28;
/// x64: 15; x86: 31.
#[cfg(target_arch = "x86_64")]
pub const HIGH_LEVEL: KIRQL = 15;
#[cfg(target_arch = "x86")]
pub const HIGH_LEVEL: KIRQL = 31;

#[cfg(not(target_os = "windows"))]
#[ddk_sys::ntapi]
extern "ntapi" {
    fn NtsimGetCurrentIrql() -> KIRQL;
    fn NtsimRaiseIrql(new_irql: KIRQL) -> KIRQL;
    fn NtsimLowerIrql(new_irql: KIRQL);
}

#[cfg(all(target_os = "windows", target_arch = "x86"))]
mod hal {
    use super::KIRQL;

    #[link(name = "hal.dll", kind = "raw-dylib", modifiers = "+verbatim")]
    #[ddk_sys::ntapi]
    extern "ntapi" {
        pub fn KeGetCurrentIrql() -> KIRQL;
    }

    #[link(name = "hal.dll", kind = "raw-dylib", modifiers = "+verbatim")]
    #[ddk_sys::ntapi]
    extern "ntapi-fastcall" {
        pub fn KfRaiseIrql(NewIrql: KIRQL) -> KIRQL;
        pub fn KfLowerIrql(NewIrql: KIRQL);
    }
}

/// Returns the current processor's IRQL.
#[inline]
pub fn KeGetCurrentIrql() -> KIRQL {
    #[cfg(all(target_os = "windows", target_arch = "x86"))]
    // SAFETY: the HAL's KeGetCurrentIrql may be called at any IRQL.
    unsafe {
        hal::KeGetCurrentIrql()
    }
    #[cfg(all(target_os = "windows", target_arch = "x86_64"))]
    {
        let cr8: u64;
        // SAFETY: reading CR8 is allowed at CPL 0 and has no side effects.
        unsafe {
            core::arch::asm!("mov {}, cr8", out(reg) cr8, options(nomem, nostack, preserves_flags))
        };
        cr8 as KIRQL
    }
    #[cfg(not(target_os = "windows"))]
    // SAFETY: ntsim's hook reads the calling simulated processor's IRQL.
    unsafe {
        NtsimGetCurrentIrql()
    }
}

/// Raises IRQL to `new_irql` and returns the previous IRQL.
///
/// # Safety
/// `new_irql` must be at or above the current IRQL, and the caller must restore the returned
/// IRQL with [`KeLowerIrql`] on the same processor.
#[inline]
pub unsafe fn KeRaiseIrql(new_irql: KIRQL) -> KIRQL {
    #[cfg(all(target_os = "windows", target_arch = "x86"))]
    // SAFETY: the caller guarantees `new_irql >= current` and that it will restore the result.
    unsafe {
        hal::KfRaiseIrql(new_irql)
    }
    #[cfg(all(target_os = "windows", target_arch = "x86_64"))]
    {
        let old = KeGetCurrentIrql();
        // SAFETY: the caller guarantees `new_irql >= old` and that it will restore `old`.
        unsafe {
            core::arch::asm!("mov cr8, {}", in(reg) new_irql as u64, options(nostack, preserves_flags))
        };
        old
    }
    #[cfg(not(target_os = "windows"))]
    // SAFETY: ntsim checks the direction and reports a violation if it is wrong.
    unsafe {
        NtsimRaiseIrql(new_irql)
    }
}

/// Lowers IRQL to `new_irql`.
///
/// # Safety
/// `new_irql` must be the value returned by the matching [`KeRaiseIrql`].
#[inline]
pub unsafe fn KeLowerIrql(new_irql: KIRQL) {
    #[cfg(all(target_os = "windows", target_arch = "x86"))]
    // SAFETY: the caller restores an IRQL it raised from.
    unsafe {
        hal::KfLowerIrql(new_irql)
    };
    #[cfg(all(target_os = "windows", target_arch = "x86_64"))]
    // SAFETY: the caller restores an IRQL it raised from.
    unsafe {
        core::arch::asm!("mov cr8, {}", in(reg) new_irql as u64, options(nostack, preserves_flags))
    };
    #[cfg(not(target_os = "windows"))]
    // SAFETY: ntsim checks the direction and reports a violation if it is wrong.
    unsafe {
        NtsimLowerIrql(new_irql)
    }
}
