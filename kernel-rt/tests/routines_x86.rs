//! The shipped x86 assembly (`kernel_rt_routines_x86!`), assembled for a 32-bit host under a
//! `test_` prefix and called with cdecl, as the compiler calls them in the i686 kernel image;
//! checked against Rust's own semantics. Runs on `i686-unknown-linux-gnu` (`cargo xtask test`).
#![cfg(all(target_arch = "x86", not(target_os = "windows")))]

kernel_rt::kernel_rt_routines_x86!("test_");

extern "C" {
    fn test_memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8;
    fn test_memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8;
    fn test_memset(dest: *mut u8, c: i32, n: usize) -> *mut u8;
    fn test_memcmp(a: *const u8, b: *const u8, n: usize) -> i32;
    fn test__chkstk();
    fn test__alloca_probe();
}

mod mem;

/// The x86 contract: EAX = frame size in, ESP lowered by exactly that much on return, every
/// page in between touched, ECX and EDX preserved. Both names are the same routine.
#[test]
fn chkstk_lowers_esp_by_the_frame_size_and_preserves_registers() {
    for probe in [test__chkstk as unsafe extern "C" fn(), test__alloca_probe] {
        for size in [0x10usize, 0xffc, 0x1000, 0x1008, 0x3000, 0x7ff8] {
            let (mut moved, mut ecx, mut edx) = (size, 0x1111usize, 0x2222usize);
            // SAFETY: the probe touches at most 32 KiB below ESP, inside the test thread's
            // stack, and ESP is restored from EDI before anything else runs.
            unsafe {
                core::arch::asm!(
                    "mov edi, esp",
                    "call {probe}",
                    "mov eax, edi",
                    "sub eax, esp",
                    "mov esp, edi",
                    probe = in(reg) probe,
                    inout("eax") moved,
                    inout("ecx") ecx,
                    inout("edx") edx,
                    out("edi") _,
                )
            };
            assert_eq!((moved, ecx, edx), (size, 0x1111, 0x2222), "size {size:#x}");
        }
    }
}
