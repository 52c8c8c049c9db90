//! The host memory an image lives in: one anonymous private mapping, read-write while the
//! loader writes it, then protected page by page. The only `unsafe` code of the loader.

use super::sections::Protection;
use crate::types::PAGE;
use std::io;
use std::ptr::NonNull;

/// An anonymous mapping of whole pages, unmapped on drop.
///
/// Invariant: `ptr..ptr + len` is a live mapping owned by this value alone; while `sealed`
/// is false it is entirely PROT_READ | PROT_WRITE.
pub(crate) struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
    sealed: bool,
}

// SAFETY: the mapping is plain memory owned by this value; nothing in it is tied to the
// thread that created it, and `&Mapping` gives no access to the bytes.
unsafe impl Send for Mapping {}
// SAFETY: as above: shared references expose only the address and length.
unsafe impl Sync for Mapping {}

/// Why a fixed-address mapping failed.
pub(crate) enum FixedError {
    /// Something already lives in the range.
    InUse,
    Other(io::Error),
}

impl Mapping {
    /// `len` bytes (rounded up to pages) wherever the host puts them.
    pub(crate) fn anywhere(len: usize) -> io::Result<Mapping> {
        Self::map(None, len).map_err(|e| match e {
            FixedError::InUse => io::Error::from(io::ErrorKind::AddrInUse),
            FixedError::Other(e) => e,
        })
    }

    /// `len` bytes (rounded up to pages) at exactly `addr`, never replacing an existing
    /// mapping.
    pub(crate) fn fixed(addr: usize, len: usize) -> Result<Mapping, FixedError> {
        Self::map(Some(addr), len)
    }

    fn map(addr: Option<usize>, len: usize) -> Result<Mapping, FixedError> {
        let len = len
            .checked_next_multiple_of(PAGE)
            .filter(|&l| l != 0)
            .ok_or_else(|| FixedError::Other(io::Error::from(io::ErrorKind::InvalidInput)))?;
        let mut flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
        if addr.is_some() {
            flags |= libc::MAP_FIXED_NOREPLACE;
        }
        let hint = addr.unwrap_or(0) as *mut libc::c_void;
        // SAFETY: an anonymous private mapping; MAP_FIXED_NOREPLACE never replaces an
        // existing mapping, so no memory the process uses is affected.
        let p = unsafe { libc::mmap(hint, len, libc::PROT_READ | libc::PROT_WRITE, flags, -1, 0) };
        if p == libc::MAP_FAILED {
            let e = io::Error::last_os_error();
            return Err(if e.raw_os_error() == Some(libc::EEXIST) {
                FixedError::InUse
            } else {
                FixedError::Other(e)
            });
        }
        let Some(ptr) = NonNull::new(p.cast::<u8>()) else {
            return Err(FixedError::Other(io::Error::other(
                "mmap returned address 0",
            )));
        };
        let mapping = Mapping {
            ptr,
            len,
            sealed: false,
        };
        // Kernels before 4.17 take MAP_FIXED_NOREPLACE as a mere hint.
        if addr.is_some_and(|a| a != mapping.base()) {
            return Err(FixedError::InUse); // `mapping` unmaps on drop
        }
        Ok(mapping)
    }

    /// The first byte's address.
    pub(crate) fn base(&self) -> usize {
        self.ptr.as_ptr() as usize
    }

    /// The whole mapping, writable; `None` once [`protect`](Self::protect) has run.
    pub(crate) fn bytes_mut(&mut self) -> Option<&mut [u8]> {
        if self.sealed {
            return None;
        }
        // SAFETY: `ptr..ptr + len` is live and read-write while not sealed (invariant), and
        // `&mut self` makes this the only reference to it.
        Some(unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) })
    }

    /// Gives page `i` protection `pages[i]`, one mprotect per run of equal pages. Afterwards
    /// the mapping is no longer handed out as a slice.
    pub(crate) fn protect(&mut self, pages: &[Protection]) -> io::Result<()> {
        self.sealed = true;
        let mut start = 0;
        while start < pages.len() {
            let prot = pages.get(start).copied().unwrap_or_default();
            let run = pages
                .get(start..)
                .unwrap_or_default()
                .iter()
                .take_while(|&&p| p == prot)
                .count();
            let offset = start * PAGE;
            let len = (run * PAGE).min(self.len.saturating_sub(offset));
            if len == 0 {
                break;
            }
            // SAFETY: `offset..offset + len` lies inside this mapping (clamped above), which
            // no Rust reference points into (`bytes_mut` borrows end before `&mut self`
            // here, and it returns `None` from now on).
            let rc = unsafe {
                libc::mprotect(
                    self.ptr.as_ptr().add(offset).cast::<libc::c_void>(),
                    len,
                    host_prot(prot),
                )
            };
            if rc != 0 {
                return Err(io::Error::last_os_error());
            }
            start += run;
        }
        Ok(())
    }
}

fn host_prot(p: Protection) -> libc::c_int {
    let mut prot = libc::PROT_NONE;
    if p.read {
        prot |= libc::PROT_READ;
    }
    if p.write {
        prot |= libc::PROT_WRITE;
    }
    if p.execute {
        prot |= libc::PROT_EXEC;
    }
    prot
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the mapping is owned by this value and no reference into it outlives it.
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast::<libc::c_void>(), self.len);
        }
    }
}
