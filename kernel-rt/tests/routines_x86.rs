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

fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[test]
fn memcpy_copies_and_returns_dest() {
    for n in [0, 1, 7, 64, 4097] {
        let src = bytes(n, 3);
        let mut dest = vec![0u8; n];
        // SAFETY: both buffers hold n bytes and do not overlap.
        let r = unsafe { test_memcpy(dest.as_mut_ptr(), src.as_ptr(), n) };
        assert_eq!(r, dest.as_mut_ptr());
        assert_eq!(dest, src);
    }
}

#[test]
fn memmove_handles_both_overlaps_and_leaves_the_direction_flag_clear() {
    for (from, to, n) in [
        (0, 5, 20),
        (5, 0, 20),
        (0, 1, 99),
        (1, 0, 99),
        (10, 10, 5),
        (0, 50, 20),
    ] {
        let mut ours = bytes(128, 9);
        let mut expected = ours.clone();
        expected.copy_within(from..from + n, to);
        // SAFETY: both ranges lie inside the 128-byte buffer.
        let r = unsafe { test_memmove(ours.as_mut_ptr().add(to), ours.as_ptr().add(from), n) };
        assert_eq!(r, ours.as_mut_ptr().wrapping_add(to));
        assert_eq!(ours, expected, "from {from} to {to}, {n} bytes");
        let src = bytes(16, 1);
        let mut dest = [0u8; 16];
        // SAFETY: 16-byte buffers.
        unsafe { test_memcpy(dest.as_mut_ptr(), src.as_ptr(), 16) };
        assert_eq!(&dest[..], &src[..]);
    }
}

#[test]
fn memset_fills_with_the_low_byte() {
    let mut buf = vec![7u8; 300];
    // SAFETY: 300-byte buffer; only the first 257 bytes are set.
    let r = unsafe { test_memset(buf.as_mut_ptr(), 0x1AB, 257) };
    assert_eq!(r, buf.as_mut_ptr());
    assert!(buf[..257].iter().all(|&b| b == 0xAB));
    assert!(buf[257..].iter().all(|&b| b == 7));
}

#[test]
fn memcmp_orders_like_c() {
    let a = b"videoprt-rs";
    let b = b"videoprt-RS";
    // SAFETY: 11-byte buffers.
    unsafe {
        assert_eq!(test_memcmp(a.as_ptr(), a.as_ptr(), 11), 0);
        assert!(test_memcmp(a.as_ptr(), b.as_ptr(), 11) > 0);
        assert!(test_memcmp(b.as_ptr(), a.as_ptr(), 11) < 0);
        assert_eq!(test_memcmp(a.as_ptr(), b.as_ptr(), 9), 0);
        assert_eq!(test_memcmp(a.as_ptr(), b.as_ptr(), 0), 0);
    }
}

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
