//! Executive pool: `ExAllocatePool2`, `ExAllocatePoolWithTag`, `ExFreePoolWithTag`.
//!
//! Every block is its own page-aligned region with frames from `MachineConfig::pool_memory`.
//! Blocks record tag, size, serial and allocating routine for leak reports. Freed blocks sit in
//! a small quarantine (still allocated on the host, no longer addressable) before the host
//! memory is returned, so a double free or a stale pointer is recognised as such instead of
//! hitting a new block that happens to reuse the address.
//!
//! Scatter/gather lists and MDLs are pool memory too (on Windows as here): they count in
//! [`PoolStats`], but only `IoFreeMdl` / `PutScatterGatherList` may free them.

use crate::fault::FaultKind;
use crate::machine::{cpu, State};
use crate::memory::{FrameRequest, RegionId, RegionKind};
use crate::types::PAGE;
use crate::verifier::{bugcheck, ntsim_code, pool_code, LeakKind, LeakReport};
use ddk_sys::*;
use std::collections::{HashMap, VecDeque};

const QUARANTINE: usize = 64;
/// Fill of memory the caller asked not to have zeroed, so reads of it stand out.
const UNINITIALIZED_FILL: u8 = 0xCD;

/// Who may free a block.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum PoolOwner {
    Driver,
    ScatterGatherList,
    Mdl,
}

pub(crate) struct PoolBlock {
    pub region: RegionId,
    pub size: usize,
    pub tag: u32,
    pub serial: u64,
    pub routine: &'static str,
    pub owner: PoolOwner,
}

/// Pool counters; every pool block counts, including the HAL's scatter/gather lists and MDLs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    pub allocations_total: u64,
    pub frees_total: u64,
    /// Blocks allocated and not freed.
    pub outstanding: u64,
    pub outstanding_bytes: u64,
    pub peak_outstanding_bytes: u64,
}

#[derive(Default)]
pub(crate) struct Pool {
    pub blocks: HashMap<usize, PoolBlock>,
    /// Recently freed addresses: serial and routine of the allocation, to name double frees.
    freed: HashMap<usize, (u64, &'static str)>,
    quarantine: VecDeque<RegionId>,
    pub stats: PoolStats,
}

/// `'Tag1'` as the four characters a debugger shows.
pub(crate) fn tag_str(tag: u32) -> String {
    tag.to_le_bytes()
        .iter()
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '.' })
        .collect()
}

impl Pool {
    pub(crate) fn leaks(&self, report: &mut LeakReport) {
        for (addr, b) in &self.blocks {
            if b.owner == PoolOwner::Driver {
                report.push(
                    LeakKind::Pool,
                    format!(
                        "{} bytes at {addr:#x}, tag '{}' ({}, serial {})",
                        b.size,
                        tag_str(b.tag),
                        b.routine,
                        b.serial
                    ),
                );
            }
        }
    }
}

/// Allocates a pool block (no fault injection, no IRQL check: callers do those).
pub(crate) fn alloc(
    st: &mut State,
    size: usize,
    tag: u32,
    owner: PoolOwner,
    routine: &'static str,
) -> Option<usize> {
    let pages = size.max(1).div_ceil(PAGE);
    let req = FrameRequest::scattered(st.config.pool_memory);
    let region = st.mem.alloc(&mut st.rng, RegionKind::Pool, pages, req)?;
    let addr = st.mem.regions[&region].base;
    let serial = st.next_serial();
    st.pool.freed.remove(&addr);
    st.pool.blocks.insert(
        addr,
        PoolBlock {
            region,
            size,
            tag,
            serial,
            routine,
            owner,
        },
    );
    let s = &mut st.pool.stats;
    s.allocations_total += 1;
    s.outstanding += 1;
    s.outstanding_bytes += size as u64;
    s.peak_outstanding_bytes = s.peak_outstanding_bytes.max(s.outstanding_bytes);
    Some(addr)
}

/// Frees a block by address (the caller checked ownership and tag).
pub(crate) fn free(st: &mut State, addr: usize) {
    let Some(block) = st.pool.blocks.remove(&addr) else {
        return;
    };
    let s = &mut st.pool.stats;
    s.frees_total += 1;
    s.outstanding -= 1;
    s.outstanding_bytes -= block.size as u64;
    st.pool.freed.insert(addr, (block.serial, block.routine));
    // Quarantine: the lock reference keeps the host memory allocated after `free` takes the
    // block out of the address space; it is dropped when the block leaves the quarantine.
    st.mem.add_ref(block.region, false);
    st.mem.free(block.region);
    st.pool.quarantine.push_back(block.region);
    if st.pool.quarantine.len() > QUARANTINE {
        let old = st.pool.quarantine.pop_front().expect("non-empty");
        st.mem.drop_ref(old, false);
    }
}

fn allocate(
    flags_paged: bool,
    size: usize,
    tag: u32,
    zero: bool,
    pool_type: u64,
    routine: &'static str,
) -> PVOID {
    let cpu = cpu();
    let irql = cpu.irql();
    let mut st = cpu.lock();
    let max = if flags_paged {
        APC_LEVEL
    } else {
        DISPATCH_LEVEL
    };
    if irql > max {
        st.report(
            bugcheck::BAD_POOL_CALLER,
            pool_code::ALLOCATE_BAD_IRQL,
            [irql as u64, pool_type, size as u64],
            routine,
            format!(
                "{size}-byte {} allocation at IRQL {irql} (maximum {max})",
                if flags_paged { "paged" } else { "non-paged" }
            ),
        );
        return core::ptr::null_mut();
    }
    if st.faults.hit(FaultKind::PoolAllocation) {
        return core::ptr::null_mut();
    }
    match alloc(&mut st, size, tag, PoolOwner::Driver, routine) {
        Some(addr) => {
            if !zero {
                // SAFETY: `addr` is a fresh block of at least `size` bytes.
                unsafe { core::ptr::write_bytes(addr as *mut u8, UNINITIALIZED_FILL, size) };
            }
            addr as PVOID
        }
        None => core::ptr::null_mut(),
    }
}

/// `ExAllocatePool2`: zeroed unless `POOL_FLAG_UNINITIALIZED`; NULL for a zero tag (after
/// reporting it, as Windows bug checks), for flags naming neither or both of paged and
/// non-paged, or when out of memory / failed by injection.
#[no_mangle]
#[ddk_sys::ntapi]
pub extern "ntapi" fn ExAllocatePool2(
    Flags: POOL_FLAGS,
    NumberOfBytes: SIZE_T,
    Tag: ULONG,
) -> PVOID {
    let non_paged = Flags & (POOL_FLAG_NON_PAGED | POOL_FLAG_NON_PAGED_EXECUTE) != 0;
    let paged = Flags & POOL_FLAG_PAGED != 0;
    if Tag == 0 {
        cpu().lock().report(
            bugcheck::BAD_POOL_CALLER,
            pool_code::ZERO_TAG,
            [Flags, NumberOfBytes as u64, 0],
            "ExAllocatePool2",
            "ExAllocatePool2 requires a non-zero pool tag".into(),
        );
        return core::ptr::null_mut();
    }
    if non_paged == paged {
        return core::ptr::null_mut();
    }
    let zero = Flags & POOL_FLAG_UNINITIALIZED == 0;
    allocate(paged, NumberOfBytes, Tag, zero, Flags, "ExAllocatePool2")
}

/// `ExAllocatePoolWithTag`: contents are not zeroed (ntsim fills them with 0xCD).
/// `NonPagedPoolNx` before Windows 8 is reported and fails.
#[no_mangle]
#[ddk_sys::ntapi]
pub extern "ntapi" fn ExAllocatePoolWithTag(
    PoolType: POOL_TYPE,
    NumberOfBytes: SIZE_T,
    Tag: ULONG,
) -> PVOID {
    let os = crate::version::current();
    let nx =
        PoolType == POOL_TYPE::NonPagedPoolNx || PoolType == POOL_TYPE::NonPagedPoolNxCacheAligned;
    if nx && os < crate::version::OsVersion::WINDOWS_8 {
        cpu().lock().report(
            bugcheck::NTSIM_CHECK,
            ntsim_code::NEWER_THAN_KERNEL,
            [u64::from(PoolType.0), os.packed(), 0],
            "ExAllocatePoolWithTag",
            format!(
                "pool type {} does not exist before Windows 8 (this machine is {}.{})",
                PoolType.0, os.major, os.minor
            ),
        );
        return core::ptr::null_mut();
    }
    // The paged types are the odd ones (PagedPool, PagedPoolCacheAligned, ...). Every ntsim
    // block is page-aligned, which satisfies the cache-aligned types too.
    let paged = PoolType.0 & 1 == 1;
    allocate(
        paged,
        NumberOfBytes,
        Tag,
        false,
        PoolType.0 as u64,
        "ExAllocatePoolWithTag",
    )
}

/// `ExFreePoolWithTag`. A `Tag` of 0 (`ExFreePool`) skips the tag check. Misuse is reported
/// (BAD_POOL_CALLER) and nothing is freed.
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract: valid, initialised objects of the
/// declared types (ntsim checks what it can, and reports rather than trusts handles it owns).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn ExFreePoolWithTag(P: PVOID, Tag: ULONG) {
    const R: &str = "ExFreePoolWithTag";
    let cpu = cpu();
    let irql = cpu.irql();
    let mut st = cpu.lock();
    let addr = P as usize;
    if irql > DISPATCH_LEVEL {
        st.report(
            bugcheck::BAD_POOL_CALLER,
            pool_code::FREE_BAD_IRQL,
            [irql as u64, addr as u64, 0],
            R,
            format!("free of {addr:#x} at IRQL {irql}"),
        );
        return;
    }
    let Some(block) = st.pool.blocks.get(&addr) else {
        let (code, msg) = match st.pool.freed.get(&addr) {
            Some((serial, routine)) => (
                pool_code::DOUBLE_FREE,
                format!("{addr:#x} was already freed (allocated by {routine}, serial {serial})"),
            ),
            None => (
                pool_code::INVALID_ADDRESS,
                format!("{addr:#x} is not the start of a pool block"),
            ),
        };
        let serial = st.pool.freed.get(&addr).map_or(0, |f| f.0);
        st.report(
            bugcheck::BAD_POOL_CALLER,
            code,
            [addr as u64, serial, 0],
            R,
            msg,
        );
        return;
    };
    if block.owner != PoolOwner::Driver {
        let msg = format!(
            "{addr:#x} belongs to {} (serial {}): free it with {}",
            block.routine,
            block.serial,
            if block.owner == PoolOwner::Mdl {
                "IoFreeMdl"
            } else {
                "PutScatterGatherList"
            }
        );
        st.report(
            bugcheck::BAD_POOL_CALLER,
            pool_code::INVALID_ADDRESS,
            [addr as u64, 0, 0],
            R,
            msg,
        );
        return;
    }
    if Tag != 0 && Tag != block.tag {
        let msg = format!(
            "{addr:#x} ({} bytes, {} serial {}) has tag '{}', freed with tag '{}'",
            block.size,
            block.routine,
            block.serial,
            tag_str(block.tag),
            tag_str(Tag)
        );
        let params = [addr as u64, Tag as u64, block.tag as u64];
        st.report(
            bugcheck::BAD_POOL_CALLER,
            pool_code::WRONG_TAG,
            params,
            R,
            msg,
        );
        return;
    }
    let region = block.region;
    if st.mem.regions.get(&region).is_some_and(|r| r.dma_refs > 0) {
        let msg = format!(
            "pool block {addr:#x} (serial {}) freed while mapped for DMA",
            block.serial
        );
        st.report(
            bugcheck::NTSIM_CHECK,
            ntsim_code::FREED_UNDER_DMA,
            [addr as u64, 0, 0],
            R,
            msg,
        );
    }
    free(&mut st, addr);
}

impl crate::Machine {
    /// Pool counters: use them to count allocations per transfer.
    pub fn pool_stats(&self) -> PoolStats {
        self.lock().pool.stats
    }
}
