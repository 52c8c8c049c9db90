//! RAM behind a memory BAR (a frame buffer, say): host memory that the device model, kernel
//! views (`MmMapIoSpace`) and user views (`MmMapLockedPagesSpecifyCache(UserMode)`) all reach
//! directly.
//!
//! The memory is a Linux memfd; every view is another `mmap` of the same file, so all views
//! alias the same pages: a store through one is seen by a load through any other, with no
//! hook in between. That is what a PE-loaded driver or a display driver does with a frame
//! buffer: plain loads and stores.
//!
//! Under Miri, which cannot `mmap` a file, the memory is a heap block and a kernel view is the
//! block itself at the view's offset (so views of one range share an address: a test that maps
//! the same range twice at once cannot run there); user views, which need pages placed at a
//! chosen address, are refused with a panic naming the reason.

use crate::types::PAGE;
#[cfg(not(miri))]
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;

/// Device RAM shared by a model and the views of its BAR. Cheap to clone (all clones are the
/// same memory). Starts zeroed.
#[derive(Clone)]
pub struct DeviceMemory {
    inner: Arc<Inner>,
}

struct Inner {
    #[cfg(not(miri))]
    fd: OwnedFd,
    /// The model's own view of the whole memory.
    base: *mut u8,
    len: usize,
}

// SAFETY: `base` is a shared mapping owned by `Inner` for its whole life; the memory is plain
// bytes reachable from any thread (accesses are copies, see the methods).
unsafe impl Send for Inner {}
// SAFETY: as above; `&Inner` hands out no references into the memory, only copies.
unsafe impl Sync for Inner {}

impl Drop for Inner {
    fn drop(&mut self) {
        #[cfg(not(miri))]
        // SAFETY: `base`/`len` are the mapping made in `DeviceMemory::new`, unmapped only here.
        unsafe {
            libc::munmap(self.base.cast(), self.len)
        };
        #[cfg(miri)]
        // SAFETY: the block allocated in `DeviceMemory::new` with this layout, freed only here.
        unsafe {
            std::alloc::dealloc(self.base, miri_layout(self.len))
        };
    }
}

/// The layout of the heap block standing in for the memfd under Miri.
#[cfg(miri)]
fn miri_layout(len: usize) -> std::alloc::Layout {
    std::alloc::Layout::from_size_align(len, PAGE).expect("page-aligned device RAM")
}

#[cfg(miri)]
fn no_user_views(len: usize) -> ! {
    panic!("ntsim: a user view of {len:#x} bytes of device RAM places pages with mmap, which Miri cannot run")
}

#[cfg(not(miri))]
fn os_error(what: &str) -> ! {
    panic!("ntsim: {what} failed: {}", std::io::Error::last_os_error())
}

impl DeviceMemory {
    /// `len` bytes (rounded up to whole pages, at least one) of zeroed device RAM.
    pub fn new(len: usize) -> DeviceMemory {
        let len = len.max(1).div_ceil(PAGE) * PAGE;
        #[cfg(miri)]
        {
            // SAFETY: a non-zero size.
            let base = unsafe { std::alloc::alloc_zeroed(miri_layout(len)) };
            if base.is_null() {
                std::alloc::handle_alloc_error(miri_layout(len));
            }
            DeviceMemory {
                inner: Arc::new(Inner { base, len }),
            }
        }
        #[cfg(not(miri))]
        Self::new_memfd(len)
    }

    #[cfg(not(miri))]
    fn new_memfd(len: usize) -> DeviceMemory {
        // SAFETY: a NUL-terminated name and valid flags.
        let raw = unsafe { libc::memfd_create(c"ntsim-device-ram".as_ptr(), libc::MFD_CLOEXEC) };
        if raw < 0 {
            os_error("memfd_create");
        }
        // SAFETY: `raw` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: a valid descriptor.
        if unsafe { libc::ftruncate(fd.as_raw_fd(), len as libc::off_t) } != 0 {
            os_error("ftruncate");
        }
        // SAFETY: a shared mapping of the whole file, at an address the kernel picks.
        let base = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if base == libc::MAP_FAILED {
            os_error("mmap of device RAM");
        }
        DeviceMemory {
            inner: Arc::new(Inner {
                fd,
                base: base.cast(),
                len,
            }),
        }
    }

    /// Size in bytes (a whole number of pages).
    pub fn len(&self) -> usize {
        self.inner.len
    }

    /// Never true (at least one page); here for the `len` convention.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The model's own view of the memory (valid while any clone lives).
    pub fn as_ptr(&self) -> *mut u8 {
        self.inner.base
    }

    fn check(&self, offset: usize, len: usize) {
        assert!(
            offset
                .checked_add(len)
                .is_some_and(|end| end <= self.inner.len),
            "device RAM access {offset:#x}+{len:#x} past its {:#x} bytes",
            self.inner.len
        );
    }

    /// Copies `buf.len()` bytes from `offset`.
    pub fn read(&self, offset: usize, buf: &mut [u8]) {
        self.check(offset, buf.len());
        // SAFETY: inside the mapping (checked); other views may store concurrently, as a
        // device's memory changes under it: the copy sees some interleaving of those bytes.
        unsafe {
            core::ptr::copy_nonoverlapping(self.as_ptr().add(offset), buf.as_mut_ptr(), buf.len())
        };
    }

    /// Copies `data` to `offset`.
    pub fn write(&self, offset: usize, data: &[u8]) {
        self.check(offset, data.len());
        // SAFETY: as in `read`.
        unsafe {
            core::ptr::copy_nonoverlapping(data.as_ptr(), self.as_ptr().add(offset), data.len())
        };
    }

    /// Sets `len` bytes from `offset` to `byte`.
    pub fn fill(&self, offset: usize, len: usize, byte: u8) {
        self.check(offset, len);
        // SAFETY: as in `read`.
        unsafe { self.as_ptr().add(offset).write_bytes(byte, len) };
    }

    /// `len` bytes from `offset`.
    pub fn to_vec(&self, offset: usize, len: usize) -> Vec<u8> {
        let mut v = vec![0; len];
        self.read(offset, &mut v);
        v
    }

    /// A new view of `[offset, offset + len)` (page-aligned offset, whole pages) at an
    /// address the host picks.
    pub(crate) fn map(&self, offset: usize, len: usize) -> HostView {
        assert!(offset % PAGE == 0 && len % PAGE == 0 && len > 0);
        self.check(offset, len);
        #[cfg(miri)]
        return HostView {
            base: self.inner.base.wrapping_add(offset) as usize,
            len,
            owned: false,
        };
        #[cfg(not(miri))]
        self.map_file(offset, len)
    }

    #[cfg(not(miri))]
    fn map_file(&self, offset: usize, len: usize) -> HostView {
        // SAFETY: a shared mapping of a range of the file (checked in `map`).
        let p = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                self.inner.fd.as_raw_fd(),
                offset as libc::off_t,
            )
        };
        if p == libc::MAP_FAILED {
            os_error("mmap of a device RAM view");
        }
        HostView {
            base: p as usize,
            len,
            owned: true,
        }
    }

    /// Maps `[offset, offset + len)` over `at` inside a reservation (see [`HostView::reserve`]).
    ///
    /// # Safety
    /// `[at, at + len)` must lie inside a live reservation owned by the caller.
    pub(crate) unsafe fn map_at(&self, at: usize, offset: usize, len: usize) {
        assert!(offset % PAGE == 0 && len % PAGE == 0 && at % PAGE == 0);
        self.check(offset, len);
        #[cfg(miri)]
        no_user_views(len);
        #[cfg(not(miri))]
        {
            // SAFETY: MAP_FIXED over pages the caller owns (contract), with a range of the file.
            let p = unsafe {
                libc::mmap(
                    at as *mut libc::c_void,
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED | libc::MAP_FIXED,
                    self.inner.fd.as_raw_fd(),
                    offset as libc::off_t,
                )
            };
            if p == libc::MAP_FAILED {
                os_error("mmap of a device RAM page");
            }
        }
    }

    pub(crate) fn same(&self, other: &DeviceMemory) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl core::fmt::Debug for DeviceMemory {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "DeviceMemory({:#x} bytes)", self.inner.len)
    }
}

/// A host address range mapped for a view; unmapped on drop when `owned`.
pub(crate) struct HostView {
    pub base: usize,
    pub len: usize,
    /// The view is its own mapping (always, except Miri's views into the heap block).
    owned: bool,
}

impl HostView {
    /// `len` bytes of inaccessible address space, to be filled with [`DeviceMemory::map_at`].
    pub(crate) fn reserve(len: usize) -> HostView {
        #[cfg(miri)]
        no_user_views(len);
        #[cfg(not(miri))]
        {
            // SAFETY: an anonymous, inaccessible reservation at an address the host picks.
            let p = unsafe {
                libc::mmap(
                    core::ptr::null_mut(),
                    len,
                    libc::PROT_NONE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                    -1,
                    0,
                )
            };
            if p == libc::MAP_FAILED {
                os_error("mmap reservation");
            }
            HostView {
                base: p as usize,
                len,
                owned: true,
            }
        }
    }

    pub(crate) fn contains(&self, va: usize, len: usize) -> bool {
        va >= self.base
            && va
                .checked_add(len)
                .is_some_and(|e| e <= self.base + self.len)
    }
}

impl Drop for HostView {
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: the range this view mapped (or reserved), unmapped only here.
            unsafe { libc::munmap(self.base as *mut libc::c_void, self.len) };
        }
    }
}
