//! The simulated user address space: buffers an application would pass to a driver.
//!
//! A user buffer is page-granular host memory registered as user memory with a protection.
//! A probe for user mode succeeds only for ranges entirely inside live user memory (and, for
//! write or modify access, read-write memory). Anything else is a bad user pointer.

use crate::machine::{Machine, Shared};
use crate::memory::{FrameRequest, RegionId, RegionKind};
use crate::types::{UserProt, PAGE};
use std::sync::Arc;

/// A live user-mode allocation. Free it with [`Machine::user_free`]; until then its memory
/// stays valid (an unfreed buffer is released with the machine).
pub struct UserBuffer {
    shared: Arc<Shared>,
    ptr: usize,
    len: usize,
    region: RegionId,
}

impl UserBuffer {
    /// The user-mode address of the first byte.
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr as *mut u8
    }
    /// Length requested at allocation.
    pub fn len(&self) -> usize {
        self.len
    }
    /// True for a zero-length buffer.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Copies `data` into the buffer at `offset` (as the application would).
    pub fn write(&self, offset: usize, data: &[u8]) {
        assert!(
            offset + data.len() <= self.len,
            "write past the user buffer"
        );
        // SAFETY: the range is inside this live allocation (checked above; it stays allocated
        // until `user_free` consumes `self`).
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), self.as_ptr().add(offset), data.len())
        };
    }
    /// The buffer's current contents.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = vec![0; self.len];
        // SAFETY: as in `write`.
        unsafe { std::ptr::copy_nonoverlapping(self.as_ptr(), v.as_mut_ptr(), self.len) };
        v
    }
}

impl Machine {
    /// Allocates `len` bytes (at least one page, zeroed) of user memory with frames from
    /// `MachineConfig::user_memory`.
    pub fn user_alloc(&self, len: usize, prot: UserProt) -> UserBuffer {
        let mut st = self.lock();
        let req = FrameRequest::scattered(st.config.user_memory);
        let st = &mut *st;
        let region = st
            .mem
            .alloc(
                &mut st.rng,
                RegionKind::User(prot),
                len.max(1).div_ceil(PAGE),
                req,
            )
            .expect("ntsim: out of simulated physical memory");
        let ptr = st.mem.regions[&region].base;
        UserBuffer {
            shared: self.shared.clone(),
            ptr,
            len,
            region,
        }
    }

    /// Frees a user buffer: its range becomes a bad user pointer at once. Pages still locked
    /// by an MDL stay allocated until they are unlocked, as on Windows.
    pub fn user_free(&self, buffer: UserBuffer) {
        assert!(
            Arc::ptr_eq(&buffer.shared, &self.shared),
            "user buffer of another machine"
        );
        self.lock().mem.free(buffer.region);
    }
}
