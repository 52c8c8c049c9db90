//! User-mode mappings of device memory: `MmMapLockedPagesSpecifyCache(MDL, UserMode, ...)`,
//! its exception guard `VprtMapLockedPagesUser`, and the user half of `MmUnmapLockedPages`.
//!
//! What a display driver's IOCTL_VIDEO_MAP_VIDEO_MEMORY needs: the port describes a kernel
//! view of a frame buffer (`MmMapIoSpace`) with an MDL (`IoAllocateMdl` +
//! `MmBuildMdlForNonPagedPool`) and maps that MDL into the calling process. In ntsim the
//! pages must be RAM behind a PCI BAR ([`crate::PciDeviceModel::ram`]); the user view is one
//! more alias of that RAM, placed in the current client process's address space
//! (`NtsimIsUserAddress` is true for it) and reachable from the client through
//! [`crate::UserHandle::mapping`]. The view is tracked per process; one left behind is a
//! leak ([`crate::LeakKind::UserMapping`]), also after its process exited.
//!
//! Failures, as Windows has them:
//! * the pages cannot be mapped (injected with [`crate::FaultKind::UserMapping`]): Windows
//!   raises an exception. `VprtMapLockedPagesUser` returns STATUS_INSUFFICIENT_RESOURCES; a
//!   direct `MmMapLockedPagesSpecifyCache` returns NULL and reports
//!   [`crate::verifier::ntsim_code::UNGUARDED_USER_MAPPING`];
//! * misuse (a NULL or unbuilt MDL, no client process current, pages that are not device
//!   RAM) is reported and fails either way (the guard returns STATUS_INVALID_PARAMETER).

use crate::fault::FaultKind;
use crate::machine::{cpu, State};
use crate::pci::{ram::HostView, UserView};
use crate::types::PAGE;
use crate::verifier::{bugcheck, ntsim_code};
use ddk_sys::*;

pub(crate) enum MapError {
    /// Reported already.
    Misuse,
    /// Windows would raise this exception code.
    Raise(NTSTATUS),
}

fn misuse(st: &mut State, code: u32, p: [u64; 3], routine: &'static str, message: String) {
    st.report(bugcheck::NTSIM_CHECK, code, p, routine, message);
}

/// Maps the pages of `mdl` into the current client process. The caller holds the lock.
///
/// # Safety
/// A non-NULL `mdl` must be a valid MDL with its PFN array (routine contract).
pub(crate) unsafe fn map_user(
    st: &mut State,
    process: usize,
    mdl: *mut MDL,
    routine: &'static str,
) -> Result<usize, MapError> {
    if mdl.is_null() {
        misuse(
            st,
            ntsim_code::MDL_MISUSE,
            [0; 3],
            routine,
            "NULL MDL".into(),
        );
        return Err(MapError::Misuse);
    }
    // SAFETY: a valid MDL (contract).
    let (flags, va, len) = unsafe {
        (
            (*mdl).MdlFlags,
            MmGetMdlVirtualAddress(mdl),
            MmGetMdlByteCount(mdl) as usize,
        )
    };
    if flags & (MDL_SOURCE_IS_NONPAGED_POOL | MDL_PAGES_LOCKED) == 0 || len == 0 {
        let msg = format!(
            "MDL {:#x} is neither locked nor built for non-paged pool (or is empty)",
            mdl as usize
        );
        misuse(st, ntsim_code::MDL_MISUSE, [mdl as u64, 0, 0], routine, msg);
        return Err(MapError::Misuse);
    }
    if process == st.processes.system() {
        let msg = format!(
            "UserMode mapping of MDL {:#x} with no client process current (only a client's \
             own request, such as its IOCTL, runs in its context)",
            mdl as usize
        );
        misuse(
            st,
            ntsim_code::WRONG_PROCESS,
            [mdl as u64, process as u64, 0],
            routine,
            msg,
        );
        return Err(MapError::Misuse);
    }
    let pages = ADDRESS_AND_SIZE_TO_SPAN_PAGES(va, len);
    // Where each page lives: (RAM, offset of the page in it), plus the first page's source.
    let mut backing = Vec::with_capacity(pages);
    let mut source = None;
    for i in 0..pages {
        // SAFETY: the PFN array holds `pages` entries (contract).
        let pfn = unsafe { MmGetMdlPfnArray(mdl).add(i).read() } as u64;
        let Some((device, bar, offset, ram)) = st.pci.ram_at(pfn * PAGE as u64) else {
            let msg = format!(
                "page {i} of MDL {:#x} (frame {pfn:#x}) is not device RAM; ntsim maps only \
                 RAM behind a PCI BAR into user mode",
                mdl as usize
            );
            misuse(
                st,
                ntsim_code::NOT_IMPLEMENTED,
                [mdl as u64, pfn, 0],
                routine,
                msg,
            );
            return Err(MapError::Misuse);
        };
        source.get_or_insert((device, bar, offset + BYTE_OFFSET(va) as u64));
        backing.push((ram.clone(), offset as usize));
    }
    if st.faults.hit(FaultKind::UserMapping) {
        return Err(MapError::Raise(STATUS_INSUFFICIENT_RESOURCES));
    }
    let view = HostView::reserve(pages * PAGE);
    let mut i = 0;
    while i < pages {
        // A run of pages consecutive in the same RAM is one mapping.
        let (ram, start) = &backing[i];
        let mut n = 1;
        while i + n < pages && backing[i + n].0.same(ram) && backing[i + n].1 == start + n * PAGE {
            n += 1;
        }
        // SAFETY: pages i..i+n of the fresh reservation, which `view` owns.
        unsafe { ram.map_at(view.base + i * PAGE, *start, n * PAGE) };
        i += n;
    }
    let user_va = view.base + BYTE_OFFSET(va);
    let serial = st.next_serial();
    let process_id = st.processes.id(process).unwrap_or(0);
    st.trace(|| {
        format!(
            "user view of {len:#x} bytes at {user_va:#x} in process {process_id} (MDL {:#x})",
            mdl as usize
        )
    });
    st.pci.user_views.insert(
        user_va,
        UserView {
            view,
            len,
            mdl: mdl as usize,
            process,
            process_id,
            source: source.expect("at least one page"),
            serial,
        },
    );
    Ok(user_va)
}

/// The user half of `MmUnmapLockedPages`: `None` if `va` is no user view (the caller handles
/// it as a system mapping), otherwise done or reported.
pub(crate) fn unmap_user(st: &mut State, process: usize, va: usize, mdl: *mut MDL) -> Option<()> {
    const R: &str = "MmUnmapLockedPages";
    let (at, v) = st.pci.user_view_at(va, 1)?;
    let (owner, owner_id, owner_mdl) = (v.process, v.process_id, v.mdl);
    if at != va {
        let msg = format!("{va:#x} is inside the user view at {at:#x}, not its start");
        misuse(
            st,
            ntsim_code::MDL_MISUSE,
            [mdl as u64, va as u64, 0],
            R,
            msg,
        );
        return Some(());
    }
    if owner_mdl != mdl as usize {
        let msg = format!(
            "user view {va:#x} was mapped through MDL {owner_mdl:#x}, not {:#x}",
            mdl as usize
        );
        misuse(
            st,
            ntsim_code::MDL_MISUSE,
            [mdl as u64, va as u64, 0],
            R,
            msg,
        );
        return Some(());
    }
    if owner != process {
        let current = st.processes.id(process).unwrap_or(0);
        let msg = format!(
            "user view {va:#x} belongs to process {owner_id}, but process {current} is \
             current: unmap it in its owner's context (its IRP_MJ_CLEANUP)"
        );
        misuse(
            st,
            ntsim_code::WRONG_PROCESS,
            [va as u64, process as u64, 0],
            R,
            msg,
        );
        return Some(());
    }
    // Dropping the view unmaps it from the host.
    st.pci.user_views.remove(&va);
    Some(())
}

/// Whether a user view was made through `mdl` (so it must not be freed yet).
pub(crate) fn mdl_has_user_view(st: &State, mdl: usize) -> bool {
    st.pci.user_views.values().any(|v| v.mdl == mdl)
}

/// The project's exception guard around `MmMapLockedPagesSpecifyCache(Mdl, UserMode,
/// CacheType, NULL, FALSE, Priority)`: STATUS_SUCCESS with the user address in `*UserVa`,
/// or the exception code (STATUS_INSUFFICIENT_RESOURCES when the pages cannot be mapped)
/// with `*UserVa` NULL. Misuse (reported) returns STATUS_INVALID_PARAMETER.
///
/// # Safety
/// `Mdl` must be a valid MDL (or NULL, reported); `UserVa` valid for a write (or NULL,
/// reported).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VprtMapLockedPagesUser(
    Mdl: *mut MDL,
    _CacheType: MEMORY_CACHING_TYPE,
    _Priority: MM_PAGE_PRIORITY,
    UserVa: *mut PVOID,
) -> NTSTATUS {
    const R: &str = "VprtMapLockedPagesUser";
    let cpu = cpu();
    let mut st = cpu.lock();
    if UserVa.is_null() {
        let msg = "NULL UserVa".to_string();
        misuse(&mut st, ntsim_code::BAD_ARGUMENT, [4, 0, 0], R, msg);
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: checked non-NULL; valid for a write (contract).
    unsafe { UserVa.write(core::ptr::null_mut()) };
    let process = crate::process::current(&cpu, &st);
    // SAFETY: forwarded contract.
    match unsafe { map_user(&mut st, process, Mdl, R) } {
        Ok(va) => {
            // SAFETY: as above.
            unsafe { UserVa.write(va as PVOID) };
            STATUS_SUCCESS
        }
        Err(MapError::Raise(status)) => status,
        Err(MapError::Misuse) => STATUS_INVALID_PARAMETER,
    }
}
