//! The panic handler of sample_miniport.sys.
//!
//! A miniport imports only from the port driver, so it cannot call KeBugCheckEx. A fast-fail
//! (`int 0x29`, documented for kernel mode) stops the system with bug check 0x139 instead; no
//! path a caller can reach panics.

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    const FAST_FAIL_FATAL_APP_EXIT: u32 = 7;
    // SAFETY: `int 0x29` raises a non-continuable fast-fail; it never returns.
    unsafe {
        core::arch::asm!("int 0x29", in("ecx") FAST_FAIL_FATAL_APP_EXIT, options(noreturn, nostack))
    }
}
