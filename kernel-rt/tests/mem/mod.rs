//! The memcpy/memmove/memset/memcmp checks both routine tests share: the shipped assembly
//! against Rust's own semantics, whichever convention the including test declares them with.

use super::{test_memcmp, test_memcpy, test_memmove, test_memset};

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
        // A forward copy right after must still go forward (DF cleared).
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
