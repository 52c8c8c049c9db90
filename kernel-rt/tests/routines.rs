//! The shipped assembly, assembled for the host under a `test_` prefix and called with the
//! Microsoft x64 convention (`extern "win64"`), against Rust's own semantics.
#![cfg(all(target_arch = "x86_64", not(target_os = "windows")))]

kernel_rt::kernel_rt_routines!("test_");

extern "win64" {
    fn test_memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8;
    fn test_memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8;
    fn test_memset(dest: *mut u8, c: i32, n: usize) -> *mut u8;
    fn test_memcmp(a: *const u8, b: *const u8, n: usize) -> i32;
    fn test___CxxFrameHandler3() -> i32;
    fn test___chkstk();
}

mod mem;

#[test]
fn chkstk_probes_the_frame_and_preserves_registers() {
    for size in [0x10usize, 0x1000, 0x1008, 0x3000, 0x7ff8] {
        let (mut rax, mut rcx, mut rdx) = (size, 0x1111usize, 0x2222usize);
        // SAFETY: the probe touches at most 32 KiB below RSP, inside the test thread's stack;
        // it may clobber r10, r11 and flags only.
        unsafe {
            core::arch::asm!(
                "call {probe}",
                probe = sym test___chkstk,
                inout("rax") rax,
                inout("rcx") rcx,
                inout("rdx") rdx,
                out("r10") _,
                out("r11") _,
            )
        };
        assert_eq!((rax, rcx, rdx), (size, 0x1111, 0x2222), "size {size:#x}");
    }
}

#[test]
fn frame_handler_says_continue_search() {
    // SAFETY: takes no arguments.
    assert_eq!(unsafe { test___CxxFrameHandler3() }, 1);
}
