//! Memory descriptor lists and physical memory: `IoAllocateMdl`, `IoFreeMdl`,
//! `MmProbeAndLockPages` (and the SEH-guarded `VprtProbeAndLockPages`), `MmUnlockPages`,
//! `MmBuildMdlForNonPagedPool`, `MmMapLockedPagesSpecifyCache`, `MmUnmapLockedPages`,
//! `MmGetPhysicalAddress`, `MmAllocateContiguousMemorySpecifyCache`, `MmFreeContiguousMemory`.
//!
//! Host differences, by design:
//! * `MmMapLockedPagesSpecifyCache` returns the buffer's own address: every simulated VA is
//!   already host-addressable, so a "system mapping" is the same memory. The MDL flags
//!   (`MDL_MAPPED_TO_SYSTEM_VA`, `MappedSystemVa`) are maintained as on Windows.
//! * A bad range cannot raise an exception on the host. `VprtProbeAndLockPages` (the project's
//!   SEH guard) returns STATUS_ACCESS_VIOLATION; a direct `MmProbeAndLockPages` reports an
//!   "unguarded probe" violation. Either way the MDL is left unlocked.
//! * A locked page stays allocated on the host until it is unlocked, even if its user
//!   allocation is freed meanwhile, as locked pages stay resident on Windows.

use crate::fault::FaultKind;
use crate::machine::{cpu, ContiguousRecord, State};
use crate::memory::{FrameRequest, RegionId, RegionKind};
use crate::pool::{self, PoolOwner};
use crate::types::{UserProt, PAGE};
use crate::verifier::{bugcheck, ntsim_code, LeakKind, LeakReport};
use ddk_sys::*;

/// What ntsim knows about an MDL it allocated or locked.
#[derive(Default)]
pub(crate) struct MdlRecord {
    /// Serial of the `IoAllocateMdl` call, if ntsim allocated it.
    pub allocated: Option<u64>,
    /// Regions referenced by the lock, one entry per locked page.
    pub locked: Option<Vec<RegionId>>,
}

const MDL_TAG: u32 = u32::from_le_bytes(*b"Mdl ");

pub(crate) fn leaks(st: &State, report: &mut LeakReport) {
    for (addr, rec) in &st.mdls {
        if let Some(serial) = rec.allocated {
            report.push(
                LeakKind::Mdl,
                format!("MDL at {addr:#x} (IoAllocateMdl, serial {serial})"),
            );
        }
        if let Some(pages) = &rec.locked {
            report.push(
                LeakKind::LockedPages,
                format!(
                    "{} page(s) locked by MDL {addr:#x} (MmProbeAndLockPages)",
                    pages.len()
                ),
            );
        }
    }
}

fn mdl_misuse(st: &mut State, mdl: *mut MDL, routine: &'static str, message: String) {
    st.report(
        bugcheck::NTSIM_CHECK,
        ntsim_code::MDL_MISUSE,
        [mdl as u64, 0, 0],
        routine,
        message,
    );
}

/// The buffer an MDL describes: (first byte, byte count, pages spanned).
///
/// # Safety
/// `mdl` must point to a readable MDL header.
unsafe fn extent(mdl: *const MDL) -> (usize, usize, usize) {
    // SAFETY: guaranteed by the caller.
    let (va, len) = unsafe { (MmGetMdlVirtualAddress(mdl), MmGetMdlByteCount(mdl) as usize) };
    (va, len, ADDRESS_AND_SIZE_TO_SPAN_PAGES(va, len))
}

/// Checks the range and, if it is good, locks it. Err: why the range is bad.
///
/// # Safety
/// `mdl` must point to a writable MDL with room for its PFN array.
unsafe fn probe_and_lock(
    st: &mut State,
    mdl: *mut MDL,
    mode: KPROCESSOR_MODE,
    op: LOCK_OPERATION,
) -> Result<(), String> {
    // SAFETY: the caller guarantees the MDL is valid.
    let (va, len, pages) = unsafe { extent(mdl) };
    let write = op != LOCK_OPERATION::IoReadAccess;
    let mut pfns = Vec::with_capacity(pages);
    let mut regions = Vec::with_capacity(pages);
    for i in 0..pages {
        let page = PAGE_ALIGN(va) + i * PAGE;
        let Some((id, r)) = st.mem.region_at(page) else {
            return Err(format!("{page:#x} is not mapped memory"));
        };
        let user_page = matches!(r.kind, RegionKind::User(_));
        if mode != KernelMode && !(mode == UserMode && user_page) {
            return Err(format!("{page:#x} is kernel memory, probed for user mode"));
        }
        if write && r.kind == RegionKind::User(UserProt::ReadOnly) {
            return Err(format!("{page:#x} is read-only, probed for write"));
        }
        pfns.push(r.pfns[(page - r.base) / PAGE]);
        regions.push(id);
    }
    let _ = len;
    for (i, pfn) in pfns.iter().enumerate() {
        // SAFETY: the caller guarantees room for `pages` PFNs after the header.
        unsafe { MmGetMdlPfnArray(mdl).add(i).write(pfn.0 as PFN_NUMBER) };
    }
    for id in &regions {
        st.mem.add_ref(*id, false);
    }
    // SAFETY: the MDL is valid for writes.
    unsafe {
        (*mdl).MdlFlags |= MDL_PAGES_LOCKED | if write { MDL_WRITE_OPERATION } else { 0 };
    }
    st.mdls.entry(mdl as usize).or_default().locked = Some(regions);
    Ok(())
}

/// Shared front half of both probes; Ok(None) = locked, Ok(Some(why)) = bad range.
fn probe(
    mdl: *mut MDL,
    mode: KPROCESSOR_MODE,
    op: LOCK_OPERATION,
    routine: &'static str,
) -> Result<Option<String>, ()> {
    let cpu = cpu();
    let irql = cpu.irql();
    let mut st = cpu.lock();
    if mdl.is_null() {
        mdl_misuse(&mut st, mdl, routine, "NULL MDL".into());
        return Err(());
    }
    if irql > DISPATCH_LEVEL {
        let msg = format!("{routine} at IRQL {irql} (maximum DISPATCH_LEVEL)");
        st.report(
            bugcheck::IRQL_NOT_LESS_OR_EQUAL,
            irql as u32,
            [DISPATCH_LEVEL as u64, 0, 0],
            routine,
            msg,
        );
        return Err(());
    }
    // SAFETY: a non-NULL MDL pointer from the driver is a valid MDL (routine contract).
    let flags = unsafe { (*mdl).MdlFlags };
    if flags & MDL_PAGES_LOCKED != 0 {
        mdl_misuse(
            &mut st,
            mdl,
            routine,
            format!("MDL {:#x} is already locked", mdl as usize),
        );
        return Err(());
    }
    // SAFETY: as above; ntsim-allocated and driver-built MDLs both carry their PFN array.
    Ok(unsafe { probe_and_lock(&mut st, mdl, mode, op) }.err())
}

/// `MmProbeAndLockPages`. On a bad range Windows raises an exception; the host cannot, so this
/// reports an "unguarded probe" violation and returns with the MDL unlocked.
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract: valid, initialised objects of the
/// declared types (ntsim checks what it can, and reports rather than trusts handles it owns).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn MmProbeAndLockPages(
    MemoryDescriptorList: *mut MDL,
    AccessMode: KPROCESSOR_MODE,
    Operation: LOCK_OPERATION,
) {
    const R: &str = "MmProbeAndLockPages";
    if let Ok(Some(why)) = probe(MemoryDescriptorList, AccessMode, Operation, R) {
        // SAFETY: `probe` checked the MDL is non-NULL; it is valid by contract.
        let va = unsafe { MmGetMdlVirtualAddress(MemoryDescriptorList) };
        let msg = format!(
            "bad range ({why}); on Windows this raises an exception: call it under an SEH guard"
        );
        cpu().lock().report(
            bugcheck::NTSIM_CHECK,
            ntsim_code::UNGUARDED_PROBE,
            [MemoryDescriptorList as u64, va as u64, 0],
            R,
            msg,
        );
    }
}

/// The project's SEH guard around `MmProbeAndLockPages`: STATUS_SUCCESS with the pages locked,
/// or STATUS_ACCESS_VIOLATION with the MDL left unlocked when the range is bad.
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract: valid, initialised objects of the
/// declared types (ntsim checks what it can, and reports rather than trusts handles it owns).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VprtProbeAndLockPages(
    Mdl: *mut MDL,
    AccessMode: KPROCESSOR_MODE,
    Operation: LOCK_OPERATION,
) -> NTSTATUS {
    match probe(Mdl, AccessMode, Operation, "VprtProbeAndLockPages") {
        Ok(None) => STATUS_SUCCESS,
        Ok(Some(_)) => STATUS_ACCESS_VIOLATION,
        Err(()) => STATUS_INVALID_PARAMETER,
    }
}

/// `MmUnlockPages`: also undoes a system mapping, as on Windows.
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract: valid, initialised objects of the
/// declared types (ntsim checks what it can, and reports rather than trusts handles it owns).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn MmUnlockPages(MemoryDescriptorList: *mut MDL) {
    const R: &str = "MmUnlockPages";
    let mdl = MemoryDescriptorList;
    let cpu = cpu();
    let mut st = cpu.lock();
    let regions = st
        .mdls
        .get_mut(&(mdl as usize))
        .and_then(|r| r.locked.take());
    let Some(regions) = regions else {
        mdl_misuse(
            &mut st,
            mdl,
            R,
            format!("MDL {:#x} is not locked", mdl as usize),
        );
        return;
    };
    if st
        .mdls
        .get(&(mdl as usize))
        .is_some_and(|r| r.allocated.is_none())
    {
        st.mdls.remove(&(mdl as usize));
    }
    for id in regions {
        st.mem.drop_ref(id, false);
    }
    // SAFETY: the MDL was locked by ntsim, so it is a valid MDL.
    unsafe {
        (*mdl).MdlFlags &= !(MDL_PAGES_LOCKED | MDL_WRITE_OPERATION | MDL_MAPPED_TO_SYSTEM_VA)
    };
}

/// `IoAllocateMdl`: an MDL in pool (tag `'Mdl '`), attached to `Irp` if one is given. NULL if
/// the PFN array would not fit an MDL or when failed by injection.
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract: valid, initialised objects of the
/// declared types (ntsim checks what it can, and reports rather than trusts handles it owns).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn IoAllocateMdl(
    VirtualAddress: PVOID,
    Length: ULONG,
    SecondaryBuffer: BOOLEAN,
    _ChargeQuota: BOOLEAN,
    Irp: *mut IRP,
) -> *mut MDL {
    let va = VirtualAddress as usize;
    let size = MmSizeOfMdl(va, Length as usize);
    if size > i16::MAX as usize {
        return core::ptr::null_mut();
    }
    let cpu = cpu();
    let mut st = cpu.lock();
    if st.faults.hit(FaultKind::MdlAllocation) {
        return core::ptr::null_mut();
    }
    let Some(addr) = pool::alloc(&mut st, size, MDL_TAG, PoolOwner::Mdl, "IoAllocateMdl") else {
        return core::ptr::null_mut();
    };
    let mdl = addr as *mut MDL;
    // SAFETY: `addr` is a fresh pool block of `size >= size_of::<MDL>()` bytes, page-aligned.
    unsafe {
        mdl.write(MDL {
            Next: core::ptr::null_mut(),
            Size: size as CSHORT,
            MdlFlags: 0,
            Process: core::ptr::null_mut(),
            MappedSystemVa: core::ptr::null_mut(),
            StartVa: PAGE_ALIGN(va) as PVOID,
            ByteCount: Length,
            ByteOffset: BYTE_OFFSET(va) as ULONG,
        })
    };
    let serial = st.pool.blocks[&addr].serial;
    st.mdls.insert(
        addr,
        MdlRecord {
            allocated: Some(serial),
            locked: None,
        },
    );
    if !Irp.is_null() {
        // SAFETY: a non-NULL Irp is a valid IRP (routine contract); the chain is NULL-terminated.
        unsafe {
            if SecondaryBuffer == FALSE || (*Irp).MdlAddress.is_null() {
                (*Irp).MdlAddress = mdl;
            } else {
                let mut tail = (*Irp).MdlAddress;
                while !(*tail).Next.is_null() {
                    tail = (*tail).Next;
                }
                (*tail).Next = mdl;
            }
        }
    }
    mdl
}

/// `IoFreeMdl`. A locked MDL or one ntsim did not allocate is reported and not freed.
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract: valid, initialised objects of the
/// declared types (ntsim checks what it can, and reports rather than trusts handles it owns).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn IoFreeMdl(Mdl: *mut MDL) {
    const R: &str = "IoFreeMdl";
    let cpu = cpu();
    let mut st = cpu.lock();
    let key = Mdl as usize;
    match st.mdls.get(&key) {
        Some(rec) if rec.allocated.is_some() => {
            if crate::usermap::mdl_has_user_view(&st, key) {
                let msg = format!(
                    "MDL {key:#x} freed while a user-mode mapping made through it is still \
                     mapped (MmUnmapLockedPages first)"
                );
                mdl_misuse(&mut st, Mdl, R, msg);
                return;
            }
            if rec.locked.is_some() {
                let msg = format!(
                    "MDL {key:#x} (IoAllocateMdl serial {}) freed while its pages are locked",
                    rec.allocated.unwrap_or(0)
                );
                mdl_misuse(&mut st, Mdl, R, msg);
                return;
            }
            st.mdls.remove(&key);
            pool::free(&mut st, key);
        }
        _ => mdl_misuse(
            &mut st,
            Mdl,
            R,
            format!("{key:#x} is not an MDL from IoAllocateMdl (or was freed)"),
        ),
    }
}

/// `MmBuildMdlForNonPagedPool`: fills the PFN array for kernel memory and sets
/// `MDL_SOURCE_IS_NONPAGED_POOL` and `MappedSystemVa`.
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract: valid, initialised objects of the
/// declared types (ntsim checks what it can, and reports rather than trusts handles it owns).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn MmBuildMdlForNonPagedPool(MemoryDescriptorList: *mut MDL) {
    const R: &str = "MmBuildMdlForNonPagedPool";
    let mdl = MemoryDescriptorList;
    let cpu = cpu();
    let mut st = cpu.lock();
    // SAFETY: the MDL is valid by contract.
    let (va, _, pages) = unsafe { extent(mdl) };
    let mut pfns = Vec::with_capacity(pages);
    for i in 0..pages {
        let page = PAGE_ALIGN(va) + i * PAGE;
        // Device memory mapped by MmMapIoSpace: the frames of the BAR behind the view (the
        // first page may start before the mapping, the view being page-aligned).
        let device = st
            .pci
            .mapping_physical(page.max(va))
            .map(|pa| crate::types::Pfn(pa / PAGE as u64));
        match st.mem.region_at(page) {
            Some((_, r)) if !matches!(r.kind, RegionKind::User(_)) => {
                pfns.push(r.pfns[(page - r.base) / PAGE])
            }
            _ if device.is_some() => pfns.push(device.expect("checked")),
            _ => {
                let msg = format!("{page:#x} is not non-paged kernel memory");
                st.report(
                    bugcheck::NTSIM_CHECK,
                    ntsim_code::BAD_ADDRESS,
                    [mdl as u64, page as u64, 0],
                    R,
                    msg,
                );
                return;
            }
        }
    }
    // SAFETY: the MDL is valid and has room for its PFN array (contract).
    unsafe {
        for (i, pfn) in pfns.iter().enumerate() {
            MmGetMdlPfnArray(mdl).add(i).write(pfn.0 as PFN_NUMBER);
        }
        (*mdl).MdlFlags |= MDL_SOURCE_IS_NONPAGED_POOL;
        (*mdl).MappedSystemVa = va as PVOID;
    }
}

/// `MmMapLockedPagesSpecifyCache`. KernelMode returns the buffer's own address, which is
/// already addressable on the host. UserMode maps device RAM into the current client process
/// (see [`crate::usermap`]); on failure Windows raises an exception, which the host cannot:
/// NULL and an "unguarded" report (use `VprtMapLockedPagesUser`).
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract: valid, initialised objects of the
/// declared types (ntsim checks what it can, and reports rather than trusts handles it owns).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn MmMapLockedPagesSpecifyCache(
    MemoryDescriptorList: *mut MDL,
    AccessMode: KPROCESSOR_MODE,
    _CacheType: MEMORY_CACHING_TYPE,
    _RequestedAddress: PVOID,
    _BugCheckOnFailure: ULONG,
    Priority: MM_PAGE_PRIORITY,
) -> PVOID {
    const R: &str = "MmMapLockedPagesSpecifyCache";
    let mdl = MemoryDescriptorList;
    let cpu = cpu();
    let mut st = cpu.lock();
    let os = st.config.os;
    if Priority.0 & MM_PAGE_PRIORITY::MdlMappingNoExecute.0 != 0
        && os < crate::version::OsVersion::WINDOWS_8
    {
        st.report(
            bugcheck::NTSIM_CHECK,
            ntsim_code::NEWER_THAN_KERNEL,
            [u64::from(Priority.0), os.packed(), 0],
            R,
            format!(
                "MdlMappingNoExecute does not exist before Windows 8 (this machine is {}.{})",
                os.major, os.minor
            ),
        );
        return core::ptr::null_mut();
    }
    if AccessMode == UserMode {
        let process = crate::process::current(&cpu, &st);
        // SAFETY: forwarded contract.
        return match unsafe { crate::usermap::map_user(&mut st, process, mdl, R) } {
            Ok(va) => va as PVOID,
            Err(crate::usermap::MapError::Misuse) => core::ptr::null_mut(),
            Err(crate::usermap::MapError::Raise(status)) => {
                let msg = format!(
                    "the pages of MDL {:#x} could not be mapped into user space; on Windows \
                     this raises an exception ({:#x}): call it under an exception guard \
                     (VprtMapLockedPagesUser)",
                    mdl as usize, status.0 as u32
                );
                st.report(
                    bugcheck::NTSIM_CHECK,
                    ntsim_code::UNGUARDED_USER_MAPPING,
                    [mdl as u64, 0, 0],
                    R,
                    msg,
                );
                core::ptr::null_mut()
            }
        };
    }
    if AccessMode != KernelMode {
        let msg = format!("AccessMode {AccessMode} is neither KernelMode nor UserMode");
        mdl_misuse(&mut st, mdl, R, msg);
        return core::ptr::null_mut();
    }
    // SAFETY: the MDL is valid by contract.
    unsafe {
        let flags = (*mdl).MdlFlags;
        if flags & MDL_SOURCE_IS_NONPAGED_POOL != 0 {
            return (*mdl).MappedSystemVa;
        }
        if flags & MDL_PAGES_LOCKED == 0 {
            mdl_misuse(
                &mut st,
                mdl,
                R,
                format!(
                    "MDL {:#x} is neither locked nor built for non-paged pool",
                    mdl as usize
                ),
            );
            return core::ptr::null_mut();
        }
        let va = MmGetMdlVirtualAddress(mdl) as PVOID;
        (*mdl).MdlFlags |= MDL_MAPPED_TO_SYSTEM_VA;
        (*mdl).MappedSystemVa = va;
        va
    }
}

/// `MmUnmapLockedPages`: a user view (in its owner's process context) or a system mapping.
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract: valid, initialised objects of the
/// declared types (ntsim checks what it can, and reports rather than trusts handles it owns).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn MmUnmapLockedPages(
    BaseAddress: PVOID,
    MemoryDescriptorList: *mut MDL,
) {
    let mdl = MemoryDescriptorList;
    {
        let cpu = cpu();
        let mut st = cpu.lock();
        let process = crate::process::current(&cpu, &st);
        let user = crate::usermap::unmap_user(&mut st, process, BaseAddress as usize, mdl);
        if user.is_some() {
            return;
        }
        if mdl.is_null() {
            mdl_misuse(&mut st, mdl, "MmUnmapLockedPages", "NULL MDL".into());
            return;
        }
    }
    // SAFETY: the MDL is valid by contract.
    let (flags, mapped) = unsafe { ((*mdl).MdlFlags, (*mdl).MappedSystemVa) };
    if flags & MDL_MAPPED_TO_SYSTEM_VA == 0 || mapped != BaseAddress {
        let msg = format!(
            "{:#x} is not the system mapping of MDL {:#x}",
            BaseAddress as usize, mdl as usize
        );
        mdl_misuse(&mut cpu().lock(), mdl, "MmUnmapLockedPages", msg);
        return;
    }
    // SAFETY: as above.
    unsafe { (*mdl).MdlFlags &= !MDL_MAPPED_TO_SYSTEM_VA };
}

/// `MmGetPhysicalAddress`: 0 for an address that is not live memory of the machine.
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract: valid, initialised objects of the
/// declared types (ntsim checks what it can, and reports rather than trusts handles it owns).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn MmGetPhysicalAddress(BaseAddress: PVOID) -> PHYSICAL_ADDRESS {
    let va = BaseAddress as usize;
    let st = cpu();
    let st = st.lock();
    match st.mem.translate(va) {
        Some((pfn, _)) => PHYSICAL_ADDRESS::new(pfn.address().0 + BYTE_OFFSET(va) as u64),
        None => PHYSICAL_ADDRESS::new(st.pci.mapping_physical(va).unwrap_or(0)),
    }
}

/// `MmAllocateContiguousMemorySpecifyCache`: physically contiguous, within the bounds, never
/// crossing `BoundaryAddressMultiple` (if non-zero) or 4 GiB.
#[no_mangle]
#[ddk_sys::ntapi]
pub extern "ntapi" fn MmAllocateContiguousMemorySpecifyCache(
    NumberOfBytes: SIZE_T,
    LowestAcceptableAddress: PHYSICAL_ADDRESS,
    HighestAcceptableAddress: PHYSICAL_ADDRESS,
    BoundaryAddressMultiple: PHYSICAL_ADDRESS,
    _CacheType: MEMORY_CACHING_TYPE,
) -> PVOID {
    if NumberOfBytes == 0 {
        return core::ptr::null_mut();
    }
    let cpu = cpu();
    let mut st = cpu.lock();
    let req = FrameRequest {
        placement: st.config.contiguous_memory,
        min_pfn: LowestAcceptableAddress.get().div_ceil(PAGE as u64),
        max_pfn: HighestAcceptableAddress.get() >> 12,
        contiguous: true,
        boundary_pages: BoundaryAddressMultiple.get() >> 12,
    };
    let st = &mut *st;
    let Some(region) = st.mem.alloc(
        &mut st.rng,
        RegionKind::Contiguous,
        NumberOfBytes.div_ceil(PAGE),
        req,
    ) else {
        return core::ptr::null_mut();
    };
    let va = st.mem.regions[&region].base;
    let serial = st.next_serial();
    st.contiguous.insert(
        va,
        ContiguousRecord {
            region,
            bytes: NumberOfBytes,
            serial,
        },
    );
    va as PVOID
}

/// `MmFreeContiguousMemory`.
///
/// # Safety
/// Pointer arguments must meet the routine's WDK contract: valid, initialised objects of the
/// declared types (ntsim checks what it can, and reports rather than trusts handles it owns).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn MmFreeContiguousMemory(BaseAddress: PVOID) {
    let cpu = cpu();
    let mut st = cpu.lock();
    match st.contiguous.remove(&(BaseAddress as usize)) {
        Some(rec) => st.mem.free(rec.region),
        None => {
            let msg = format!(
                "{:#x} is not contiguous memory from MmAllocateContiguousMemorySpecifyCache",
                BaseAddress as usize
            );
            st.report(
                bugcheck::NTSIM_CHECK,
                ntsim_code::BAD_ADDRESS,
                [BaseAddress as u64, 0, 0],
                "MmFreeContiguousMemory",
                msg,
            );
        }
    }
}
