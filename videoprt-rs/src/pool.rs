//! Typed nonpaged-pool allocations with the port's tag (`ExAllocatePool2` where the kernel has
//! it, else `ExAllocatePoolWithTag`; see [`crate::system`]), freed with `ExFreePoolWithTag`.
//!
//! Only objects whose life spans many transfers come from here (adapters, common-buffer and
//! locked-buffer records); nothing on the per-transfer path allocates.

use core::ptr::NonNull;
use ddk_sys::ExFreePoolWithTag;

/// Pool tag "Vprs" (stored little-endian, so it reads "Vprs" in pool dumps).
pub const TAG: u32 = u32::from_le_bytes(*b"Vprs");

/// Allocates zeroed nonpaged memory for a `T` and moves `value` into it.
///
/// Gives `value` back when the pool is exhausted, so the caller can release what it owns.
/// Callable at or below DISPATCH_LEVEL.
pub fn alloc<T>(value: T) -> Result<NonNull<T>, T> {
    // Pool allocations are aligned to 16 bytes, enough for every type the port stores there.
    let raw = crate::system::allocate_nonpaged_zeroed(core::mem::size_of::<T>(), TAG);
    let Some(ptr) = NonNull::new(raw.cast::<T>()) else {
        return Err(value);
    };
    debug_assert!(core::mem::align_of::<T>() <= 16);
    // SAFETY: `ptr` is valid for writes of a `T` and not yet initialised.
    unsafe { ptr.as_ptr().write(value) };
    Ok(ptr)
}

/// Drops the `T` at `ptr` and returns its memory to the pool.
///
/// # Safety
/// `ptr` must come from [`alloc`] with the same `T`, be live, and not be used afterwards.
pub unsafe fn free<T>(ptr: NonNull<T>) {
    // SAFETY: the caller guarantees `ptr` holds a live `T` from `alloc`.
    unsafe {
        ptr.as_ptr().drop_in_place();
        ExFreePoolWithTag(ptr.as_ptr().cast(), TAG);
    }
}
