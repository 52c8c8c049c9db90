//! Memory descriptor lists (`MDL`) and the `wdm.h` macros that read them.
//!
//! An MDL describes a virtually contiguous buffer: `StartVa` is the page-aligned start,
//! `ByteOffset` the offset of the first byte in that page, `ByteCount` the length. The array of
//! page frame numbers (`PFN_NUMBER`, one per spanned page) follows the header in memory.

use crate::basic::*;
#[cfg_attr(target_pointer_width = "32", allow(unused_imports))]
use core::mem::{offset_of, size_of};

#[repr(C)]
#[derive(Debug)]
pub struct MDL {
    pub Next: *mut MDL,
    /// Bytes of header plus PFN array.
    pub Size: CSHORT,
    pub MdlFlags: CSHORT,
    pub Process: PVOID,
    pub MappedSystemVa: PVOID,
    pub StartVa: PVOID,
    pub ByteCount: ULONG,
    pub ByteOffset: ULONG,
}
pub type PMDL = *mut MDL;

pub const MDL_MAPPED_TO_SYSTEM_VA: CSHORT = 0x0001;
pub const MDL_PAGES_LOCKED: CSHORT = 0x0002;
pub const MDL_SOURCE_IS_NONPAGED_POOL: CSHORT = 0x0004;
pub const MDL_ALLOCATED_FIXED_SIZE: CSHORT = 0x0008;
pub const MDL_PARTIAL: CSHORT = 0x0010;
pub const MDL_IO_SPACE: CSHORT = 0x0800;
pub const MDL_WRITE_OPERATION: CSHORT = 0x0080;

#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(size_of::<MDL>() == 48);
    assert!(offset_of!(MDL, Size) == 8);
    assert!(offset_of!(MDL, MdlFlags) == 10);
    assert!(offset_of!(MDL, Process) == 16);
    assert!(offset_of!(MDL, MappedSystemVa) == 24);
    assert!(offset_of!(MDL, StartVa) == 32);
    assert!(offset_of!(MDL, ByteCount) == 40);
    assert!(offset_of!(MDL, ByteOffset) == 44);
};

/// `BYTE_OFFSET(va)`.
#[inline]
pub const fn BYTE_OFFSET(va: usize) -> usize {
    va & (PAGE_SIZE - 1)
}

/// `PAGE_ALIGN(va)`.
#[inline]
pub const fn PAGE_ALIGN(va: usize) -> usize {
    va & !(PAGE_SIZE - 1)
}

/// `BYTES_TO_PAGES(size)`.
#[inline]
pub const fn BYTES_TO_PAGES(size: usize) -> usize {
    (size >> PAGE_SHIFT) + ((size & (PAGE_SIZE - 1)) != 0) as usize
}

/// `ADDRESS_AND_SIZE_TO_SPAN_PAGES(va, size)`: pages touched by `size` bytes starting at `va`.
#[inline]
pub const fn ADDRESS_AND_SIZE_TO_SPAN_PAGES(va: usize, size: usize) -> usize {
    if size == 0 {
        return 0;
    }
    BYTES_TO_PAGES(BYTE_OFFSET(va) + size)
}

/// `MmSizeOfMdl(base, length)`: header plus PFN array.
#[inline]
pub const fn MmSizeOfMdl(base: usize, length: usize) -> usize {
    size_of::<MDL>() + ADDRESS_AND_SIZE_TO_SPAN_PAGES(base, length) * size_of::<PFN_NUMBER>()
}

/// `MmGetMdlVirtualAddress(mdl)`: the buffer's own (possibly user) virtual address.
///
/// # Safety
/// `mdl` must point to a valid MDL.
#[inline]
pub unsafe fn MmGetMdlVirtualAddress(mdl: *const MDL) -> usize {
    // SAFETY: the caller guarantees `mdl` is valid for reads.
    unsafe { (*mdl).StartVa as usize + (*mdl).ByteOffset as usize }
}

/// `MmGetMdlByteCount(mdl)`.
///
/// # Safety
/// `mdl` must point to a valid MDL.
#[inline]
pub unsafe fn MmGetMdlByteCount(mdl: *const MDL) -> u32 {
    // SAFETY: the caller guarantees `mdl` is valid for reads.
    unsafe { (*mdl).ByteCount }
}

/// `MmGetMdlPfnArray(mdl)`: the PFN array after the header.
///
/// # Safety
/// `mdl` must point to a valid MDL allocated with room for its PFN array.
#[inline]
pub unsafe fn MmGetMdlPfnArray(mdl: *mut MDL) -> *mut PFN_NUMBER {
    // SAFETY: the PFN array directly follows the header of a valid MDL.
    unsafe { mdl.add(1).cast() }
}
