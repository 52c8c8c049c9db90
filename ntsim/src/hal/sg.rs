//! Scatter/gather DMA: `GetScatterGatherList`, `BuildScatterGatherList`,
//! `PutScatterGatherList`, `FlushAdapterBuffers`, `CalculateScatterGatherList`.
//!
//! A request is validated and its list storage allocated at once (so an allocation failure is
//! always reported synchronously: STATUS_INSUFFICIENT_RESOURCES and no callback). Then, if map
//! registers are free and nobody is queued ahead, the list is built and the callback runs
//! before the call returns; otherwise the request waits, FIFO, and is built and called back
//! from `Machine::run_until_idle` once a Put frees enough registers.
//!
//! Elements: physically contiguous pages merge into one element, never across a 4 GiB line.
//! A page the device cannot address is bounced (the element points at a bounce page below the
//! device's limit). An adapter without scatter/gather always gets exactly one element: if its
//! pages are not contiguous and addressable, the whole transfer goes through one contiguous
//! bounce run. Bounce data moves like real map registers: to-device data is copied in when
//! the list is built; device-to-memory data is copied back only at `FlushAdapterBuffers` or
//! `PutScatterGatherList`, so a driver that reads its buffer before either sees stale data.
//!
//! `FlushAdapterBuffers` in this path identifies the list by (adapter, MDL, CurrentVa, Length)
//! and ignores `MapRegisterBase`, which a Get/Put driver does not have.

use super::{check_irql, live_adapter, IrqlRule, Run};
use crate::fault::FaultKind;
use crate::machine::{cpu, Cpu, State};
use crate::memory::{FrameRequest, RegionId, RegionKind};
use crate::pool::{self, PoolOwner};
use crate::types::{Pfn, Placement, PAGE};
use crate::verifier::{bugcheck, dma_code, ntsim_code};
use ddk_sys::*;

const SG_TAG: u32 = u32::from_le_bytes(*b"SgLs");

#[derive(Clone, Copy)]
pub(crate) struct PageRef {
    pfn: Pfn,
    host: usize,
    region: RegionId,
}

/// A validated request whose list storage exists but whose list is not built yet.
#[ddk_sys::ntapi]
pub(crate) struct Request {
    pub adapter: usize,
    pub serial: u64,
    device: usize,
    mdl: usize,
    current_va: usize,
    length: u32,
    routine:
        unsafe extern "ntapi" fn(*mut DEVICE_OBJECT, *mut IRP, *mut SCATTER_GATHER_LIST, PVOID),
    context: usize,
    write: bool,
    pages: Vec<PageRef>,
    registers: u32,
    list: usize,
    caller_buffer: bool,
}

/// A built, outstanding list.
pub(crate) struct SgRecord {
    pub adapter: usize,
    pub serial: u64,
    pub registers: u32,
    pub caller_buffer: bool,
    pub write: bool,
    mdl: usize,
    current_va: usize,
    length: u32,
    pub runs: Vec<Run>,
    /// (original host address, bounce host address, bytes) for copy-back.
    bounces: Vec<(usize, usize, usize)>,
    bounce_regions: Vec<RegionId>,
    page_regions: Vec<RegionId>,
}

/// A callback ready to run.
#[ddk_sys::ntapi]
struct Callback {
    routine:
        unsafe extern "ntapi" fn(*mut DEVICE_OBJECT, *mut IRP, *mut SCATTER_GATHER_LIST, PVOID),
    device: usize,
    list: usize,
    context: usize,
}

impl Callback {
    /// Calls the driver at DISPATCH_LEVEL. Must run without the machine lock.
    fn run(self, cpu: &Cpu) {
        let device = self.device as *mut DEVICE_OBJECT;
        let irp = if device.is_null() {
            core::ptr::null_mut()
        } else {
            // SAFETY: a non-NULL DeviceObject passed to GetScatterGatherList is a valid device
            // object (routine contract).
            unsafe { (*device).CurrentIrp }
        };
        let old = cpu.irql();
        cpu.set_irql(DISPATCH_LEVEL);
        // SAFETY: the driver's DRIVER_LIST_CONTROL with the arguments its contract promises,
        // at DISPATCH_LEVEL, with no ntsim lock held.
        unsafe {
            (self.routine)(
                device,
                irp,
                self.list as *mut SCATTER_GATHER_LIST,
                self.context as PVOID,
            )
        };
        cpu.set_irql(old);
    }
}

fn e6(st: &mut State, code: u32, params: [u64; 3], routine: &'static str, msg: String) {
    st.report(
        bugcheck::DRIVER_VERIFIER_DMA_VIOLATION,
        code,
        params,
        routine,
        msg,
    );
}

/// Where the list goes.
#[derive(Clone, Copy)]
enum Storage {
    Pool,
    Caller { buffer: usize, length: u32 },
}

#[allow(clippy::too_many_arguments)]
fn start(
    adapter: *mut DMA_ADAPTER,
    device: *mut DEVICE_OBJECT,
    mdl: *mut MDL,
    current_va: PVOID,
    length: ULONG,
    routine: PDRIVER_LIST_CONTROL,
    context: PVOID,
    write: BOOLEAN,
    storage: Storage,
    r: &'static str,
) -> NTSTATUS {
    let cpu = cpu();
    let irql = cpu.irql();
    let mut st = cpu.lock();
    if !check_irql(&mut st, irql, IrqlRule::Exactly(DISPATCH_LEVEL), r) {
        return STATUS_UNSUCCESSFUL;
    }
    let Some(a) = live_adapter(&mut st, adapter, r) else {
        return STATUS_INVALID_PARAMETER;
    };
    let va = current_va as usize;
    let Some(routine) = routine else {
        let msg = format!("{r} without an ExecutionRoutine");
        st.report(
            bugcheck::NTSIM_CHECK,
            ntsim_code::BAD_ADDRESS,
            [0; 3],
            r,
            msg,
        );
        return STATUS_INVALID_PARAMETER;
    };
    if mdl.is_null() {
        e6(
            &mut st,
            dma_code::ADDRESS_OUTSIDE_MDL,
            [va as u64, 0, 0],
            r,
            format!("CurrentVa {va:#x} with a NULL MDL"),
        );
        return STATUS_INVALID_PARAMETER;
    }
    if length == 0 {
        e6(
            &mut st,
            dma_code::ZERO_LENGTH,
            [0; 3],
            r,
            format!("zero-length transfer at {va:#x} (MDL {:#x})", mdl as usize),
        );
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: a non-NULL MDL passed to the HAL is a valid MDL (routine contract).
    let (flags, start_va, mdl_va, mdl_len) = unsafe {
        (
            (*mdl).MdlFlags,
            (*mdl).StartVa as usize,
            MmGetMdlVirtualAddress(mdl),
            MmGetMdlByteCount(mdl) as usize,
        )
    };
    if flags & (MDL_PAGES_LOCKED | MDL_SOURCE_IS_NONPAGED_POOL) == 0 {
        let msg = format!(
            "MDL {:#x} is neither locked (MmProbeAndLockPages) nor built for non-paged pool",
            mdl as usize
        );
        e6(
            &mut st,
            dma_code::UNLOCKED_BUFFER,
            [mdl as u64, 0, 0],
            r,
            msg,
        );
        return STATUS_INVALID_PARAMETER;
    }
    let mdl_end = mdl_va + mdl_len;
    if va < mdl_va || va >= mdl_end {
        let (sub, side) = if va < mdl_va {
            (1, "before")
        } else {
            (2, "after")
        };
        let msg = format!(
            "CurrentVa {va:#x} lies {side} MDL {:#x} ({mdl_va:#x}, {mdl_len} bytes)",
            mdl as usize
        );
        e6(
            &mut st,
            dma_code::INVALID_DMA_BUFFER,
            [sub, va as u64, mdl as u64],
            r,
            msg,
        );
        return STATUS_INVALID_PARAMETER;
    }
    if va + length as usize > mdl_end {
        let excess = va + length as usize - mdl_end;
        let msg = format!(
            "{length} bytes at {va:#x} run {excess} bytes past the end of MDL {:#x}",
            mdl as usize
        );
        e6(
            &mut st,
            dma_code::BUFFER_TOO_SMALL,
            [excess as u64, 0, 0],
            r,
            msg,
        );
        return STATUS_INVALID_PARAMETER;
    }
    let registers = ADDRESS_AND_SIZE_TO_SPAN_PAGES(va, length as usize);
    if registers as u32 > st.hal.adapters[&a].granted {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    // Resolve the pages now: the MDL must stay locked until Put anyway.
    let first = (PAGE_ALIGN(va) - start_va) / PAGE;
    let mut pages = Vec::with_capacity(registers);
    for i in 0..registers {
        // SAFETY: a locked MDL has one PFN per spanned page; `first + i` is within the MDL
        // because the range check above passed.
        let pfn = Pfn(unsafe { MmGetMdlPfnArray(mdl).add(first + i).read() } as u64);
        let Some((host, region)) = st.mem.frame_host(pfn) else {
            let msg = format!(
                "MDL {:#x} names {pfn}, which is not memory of this machine",
                mdl as usize
            );
            st.report(
                bugcheck::NTSIM_CHECK,
                ntsim_code::BAD_ADDRESS,
                [mdl as u64, pfn.0, 0],
                r,
                msg,
            );
            return STATUS_INVALID_PARAMETER;
        };
        pages.push(PageRef { pfn, host, region });
    }
    let size = SCATTER_GATHER_LIST::size_for(registers);
    let (list, caller_buffer) = match storage {
        Storage::Caller { buffer, length } => {
            if (length as usize) < size {
                return STATUS_BUFFER_TOO_SMALL;
            }
            (buffer, true)
        }
        Storage::Pool => {
            if st.faults.hit(FaultKind::ScatterGatherList) {
                return STATUS_INSUFFICIENT_RESOURCES;
            }
            match pool::alloc(&mut st, size, SG_TAG, PoolOwner::ScatterGatherList, r) {
                Some(p) => (p, false),
                None => return STATUS_INSUFFICIENT_RESOURCES,
            }
        }
    };
    for p in &pages {
        st.mem.add_ref(p.region, true);
    }
    let serial = st.next_serial();
    st.hal.adapters.get_mut(&a).expect("live").lists_allocated += 1;
    let request = Request {
        adapter: a,
        serial,
        device: device as usize,
        mdl: mdl as usize,
        current_va: va,
        length,
        routine,
        context: context as usize,
        write: write != FALSE,
        pages,
        registers: registers as u32,
        list,
        caller_buffer,
    };
    if st.hal.waiters.is_empty() && st.hal.free_registers >= request.registers {
        let callback = build(&mut st, request);
        drop(st);
        if let Some(cb) = callback {
            cb.run(&cpu);
        }
    } else {
        st.hal.waiters.push_back(request);
    }
    STATUS_SUCCESS
}

/// Builds the list of a request whose registers are available, taking them. None if the
/// bounce memory could not be found (reported; the request is dropped).
fn build(st: &mut State, req: Request) -> Option<Callback> {
    let (limit, sg) = {
        let a = &st.hal.adapters[&req.adapter];
        (a.max_address, a.scatter_gather)
    };
    let max_pfn = (limit.saturating_add(1) >> 12).saturating_sub(1);
    let offset = BYTE_OFFSET(req.current_va);
    let mut remaining = req.length as usize;
    // (page, offset in page, bytes) per spanned page.
    let chunks: Vec<(PageRef, usize, usize)> = req
        .pages
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let off = if i == 0 { offset } else { 0 };
            let n = (PAGE - off).min(remaining);
            remaining -= n;
            (*p, off, n)
        })
        .collect();
    let unreachable = |p: &PageRef| p.pfn.0 > max_pfn;
    let contiguous = req.pages.windows(2).all(|w| w[1].pfn.0 == w[0].pfn.0 + 1);
    let mut runs = Vec::with_capacity(chunks.len());
    let mut bounces = Vec::new();
    let mut bounce_regions = Vec::new();
    let device_writable = !req.write;
    let bounce_request = FrameRequest::contiguous(Placement::Below4G, max_pfn);
    if !sg && (!contiguous || req.pages.iter().any(unreachable)) {
        // One contiguous bounce run for the whole transfer, same in-page layout.
        let Some(region) = st.mem.alloc(
            &mut st.rng,
            RegionKind::Bounce,
            chunks.len(),
            bounce_request,
        ) else {
            return drop_unbuildable(st, req);
        };
        let (base, pfn0) = (
            st.mem.regions[&region].base,
            st.mem.regions[&region].pfns[0],
        );
        bounce_regions.push(region);
        for (i, (p, off, n)) in chunks.iter().enumerate() {
            let host = base + i * PAGE + off;
            runs.push(Run {
                bus: pfn0.address().0 + (i * PAGE + off) as u64,
                len: *n,
                host,
                device_writable,
            });
            bounces.push((p.host + off, host, *n));
        }
    } else {
        for (p, off, n) in &chunks {
            if unreachable(p) {
                let Some(region) = st
                    .mem
                    .alloc(&mut st.rng, RegionKind::Bounce, 1, bounce_request)
                else {
                    for r in bounce_regions {
                        st.mem.free(r);
                    }
                    return drop_unbuildable(st, req);
                };
                let (base, pfn) = (
                    st.mem.regions[&region].base,
                    st.mem.regions[&region].pfns[0],
                );
                bounce_regions.push(region);
                runs.push(Run {
                    bus: pfn.address().0 + *off as u64,
                    len: *n,
                    host: base + off,
                    device_writable,
                });
                bounces.push((p.host + off, base + off, *n));
            } else {
                runs.push(Run {
                    bus: p.pfn.address().0 + *off as u64,
                    len: *n,
                    host: p.host + off,
                    device_writable,
                });
            }
        }
    }
    if req.write {
        for &(orig, bounce, n) in &bounces {
            // SAFETY: both ranges are live host memory held by this request (DMA references on
            // the original pages, the bounce regions owned by it) and do not overlap.
            unsafe { core::ptr::copy_nonoverlapping(orig as *const u8, bounce as *mut u8, n) };
        }
    }
    let mut elements: Vec<SCATTER_GATHER_ELEMENT> = Vec::with_capacity(runs.len());
    for run in &runs {
        if let Some(last) = elements.last_mut() {
            let end = last.Address.get() + last.Length as u64;
            if end == run.bus
                && (last.Address.get() >> 32) == ((run.bus + run.len as u64 - 1) >> 32)
            {
                last.Length += run.len as u32;
                continue;
            }
        }
        elements.push(SCATTER_GATHER_ELEMENT {
            Address: PHYSICAL_ADDRESS::new(run.bus),
            Length: run.len as u32,
            Reserved: 0,
        });
    }
    st.trace(|| {
        let bounced_runs: Vec<&Run> = runs
            .iter()
            .filter(|r| bounces.iter().any(|b| b.1 == r.host))
            .collect();
        let described: Vec<String> = elements
            .iter()
            .map(|e| {
                let (start, end) = (e.Address.get(), e.Address.get() + u64::from(e.Length));
                let bounced = bounced_runs.iter().any(|r| r.bus >= start && r.bus < end);
                format!(
                    "{start:#x}+{:#x}{}",
                    e.Length,
                    if bounced { " (bounced)" } else { "" }
                )
            })
            .collect();
        // SAFETY: the MDL is locked for this request (checked when it was made).
        let mdl_va = unsafe { MmGetMdlVirtualAddress(req.mdl as *const MDL) };
        format!(
            "GetScatterGatherList: offset {:#x}, length {:#x}, {}: {} element(s) [{}]",
            req.current_va.wrapping_sub(mdl_va),
            req.length,
            if req.write {
                "to device"
            } else {
                "from device"
            },
            elements.len(),
            described.join(", ")
        )
    });
    let list = req.list as *mut SCATTER_GATHER_LIST;
    // SAFETY: the storage holds `size_for(registers)` bytes (checked or allocated so), and
    // there are at most `registers` elements; pool blocks are page-aligned and caller buffers
    // are the caller's responsibility to align (documented contract).
    unsafe {
        list.write(SCATTER_GATHER_LIST {
            NumberOfElements: elements.len() as u32,
            Reserved: 0,
            Elements: [],
        });
        let first = core::ptr::addr_of_mut!((*list).Elements).cast::<SCATTER_GATHER_ELEMENT>();
        for (i, e) in elements.iter().enumerate() {
            first.add(i).write(*e);
        }
    }
    st.hal.free_registers -= req.registers;
    let callback = Callback {
        routine: req.routine,
        device: req.device,
        list: req.list,
        context: req.context,
    };
    st.hal.lists.insert(
        req.list,
        SgRecord {
            adapter: req.adapter,
            serial: req.serial,
            registers: req.registers,
            caller_buffer: req.caller_buffer,
            write: req.write,
            mdl: req.mdl,
            current_va: req.current_va,
            length: req.length,
            runs,
            bounces,
            bounce_regions,
            page_regions: req.pages.iter().map(|p| p.region).collect(),
        },
    );
    Some(callback)
}

fn drop_unbuildable(st: &mut State, req: Request) -> Option<Callback> {
    let msg = format!(
        "no bounce memory below the limit of {} for request serial {}",
        st.hal.describe(req.adapter),
        req.serial
    );
    st.not_implemented("bounce memory exhaustion (waiting for bounce pages)");
    st.violations.last_mut().expect("just reported").message = msg;
    discard_request(st, req);
    None
}

/// Drops a request that will never be built: storage, DMA references, counters.
fn discard_request(st: &mut State, req: Request) {
    for p in &req.pages {
        st.mem.drop_ref(p.region, true);
    }
    if !req.caller_buffer {
        pool::free(st, req.list);
    }
    if let Some(a) = st.hal.adapters.get_mut(&req.adapter) {
        a.lists_freed += 1;
    }
}

/// Removes queued requests of an adapter being put.
pub(crate) fn drop_waiters(st: &mut State, adapter: usize) {
    let (mine, others): (Vec<Request>, Vec<Request>) =
        st.hal.waiters.drain(..).partition(|w| w.adapter == adapter);
    st.hal.waiters = others.into();
    for w in mine {
        discard_request(st, w);
    }
}

/// Copies device-written bounce data back into the caller's pages.
fn copy_back(rec: &SgRecord) {
    if rec.write {
        return;
    }
    for &(orig, bounce, n) in &rec.bounces {
        // SAFETY: as in `build`: both ranges are live and held by this list.
        unsafe { core::ptr::copy_nonoverlapping(bounce as *const u8, orig as *mut u8, n) };
    }
}

/// Completes a list: copy-back, unmap, free registers, bounce pages and storage.
pub(crate) fn release(st: &mut State, list: usize) {
    let Some(rec) = st.hal.lists.remove(&list) else {
        return;
    };
    copy_back(&rec);
    st.trace(|| {
        let bounced: usize = rec.bounces.iter().map(|b| b.2).sum();
        let copied = if !rec.write && bounced != 0 {
            format!(", {bounced:#x} bounced bytes copied back")
        } else {
            String::new()
        };
        format!(
            "PutScatterGatherList: {} map register(s) freed{copied}",
            rec.registers
        )
    });
    for id in &rec.page_regions {
        st.mem.drop_ref(*id, true);
    }
    for id in &rec.bounce_regions {
        st.mem.free(*id);
    }
    st.hal.free_registers += rec.registers;
    if !rec.caller_buffer {
        pool::free(st, list);
    }
    if let Some(a) = st.hal.adapters.get_mut(&rec.adapter) {
        a.lists_freed += 1;
    }
}

/// Builds and calls back the first queued request if its registers are free now.
pub(crate) fn service_one_waiter(cpu: &Cpu) -> bool {
    let callback = {
        let mut st = cpu.lock();
        match st.hal.waiters.front() {
            Some(w) if w.registers <= st.hal.free_registers => {}
            _ => return false,
        }
        let req = st.hal.waiters.pop_front().expect("checked");
        build(&mut st, req)
    };
    if let Some(cb) = callback {
        cb.run(cpu);
    }
    true
}

/// `GetScatterGatherList`.
#[allow(clippy::too_many_arguments)]
#[ddk_sys::ntapi]
pub(crate) unsafe extern "ntapi" fn get_scatter_gather_list(
    DmaAdapter: *mut DMA_ADAPTER,
    DeviceObject: *mut DEVICE_OBJECT,
    Mdl: *mut MDL,
    CurrentVa: PVOID,
    Length: ULONG,
    ExecutionRoutine: PDRIVER_LIST_CONTROL,
    Context: PVOID,
    WriteToDevice: BOOLEAN,
) -> NTSTATUS {
    let r = "GetScatterGatherList";
    start(
        DmaAdapter,
        DeviceObject,
        Mdl,
        CurrentVa,
        Length,
        ExecutionRoutine,
        Context,
        WriteToDevice,
        Storage::Pool,
        r,
    )
}

/// `BuildScatterGatherList`: as Get, with the list in the caller's buffer (which Put does not
/// free). STATUS_BUFFER_TOO_SMALL if it cannot hold the worst-case list.
#[allow(clippy::too_many_arguments)]
#[ddk_sys::ntapi]
pub(crate) unsafe extern "ntapi" fn build_scatter_gather_list(
    DmaAdapter: *mut DMA_ADAPTER,
    DeviceObject: *mut DEVICE_OBJECT,
    Mdl: *mut MDL,
    CurrentVa: PVOID,
    Length: ULONG,
    ExecutionRoutine: PDRIVER_LIST_CONTROL,
    Context: PVOID,
    WriteToDevice: BOOLEAN,
    ScatterGatherBuffer: PVOID,
    ScatterGatherBufferLength: ULONG,
) -> NTSTATUS {
    let storage = Storage::Caller {
        buffer: ScatterGatherBuffer as usize,
        length: ScatterGatherBufferLength,
    };
    if ScatterGatherBuffer.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    let r = "BuildScatterGatherList";
    start(
        DmaAdapter,
        DeviceObject,
        Mdl,
        CurrentVa,
        Length,
        ExecutionRoutine,
        Context,
        WriteToDevice,
        storage,
        r,
    )
}

fn direction_check(st: &mut State, list: usize, write: BOOLEAN, routine: &'static str) {
    let rec = &st.hal.lists[&list];
    if rec.write != (write != FALSE) {
        let msg = format!(
            "list {list:#x} (serial {}) was mapped {} but {routine} says {}; the mapping's direction is used",
            rec.serial,
            if rec.write { "to the device" } else { "from the device" },
            if write != FALSE { "to the device" } else { "from the device" }
        );
        st.report(
            bugcheck::NTSIM_CHECK,
            ntsim_code::DIRECTION_MISMATCH,
            [list as u64, write as u64, 0],
            routine,
            msg,
        );
    }
}

/// `PutScatterGatherList`: copy-back (device-to-memory bounce), unmap, free registers and the
/// list. An unknown, foreign or already put list is reported (0x06) and never touched.
#[ddk_sys::ntapi]
pub(crate) unsafe extern "ntapi" fn put_scatter_gather_list(
    DmaAdapter: *mut DMA_ADAPTER,
    ScatterGather: *mut SCATTER_GATHER_LIST,
    WriteToDevice: BOOLEAN,
) {
    const R: &str = "PutScatterGatherList";
    let cpu = cpu();
    let irql = cpu.irql();
    let mut st = cpu.lock();
    check_irql(&mut st, irql, IrqlRule::Exactly(DISPATCH_LEVEL), R);
    let Some(a) = live_adapter(&mut st, DmaAdapter, R) else {
        return;
    };
    let list = ScatterGather as usize;
    let owner = st.hal.lists.get(&list).map(|l| l.adapter);
    if owner != Some(a) {
        let (allocated, freed) = {
            let rec = &st.hal.adapters[&a];
            (rec.lists_allocated, rec.lists_freed + 1)
        };
        let msg = match owner {
            Some(other) => format!(
                "list {list:#x} belongs to {}, not {}",
                st.hal.describe(other),
                st.hal.describe(a)
            ),
            None => format!(
                "list {list:#x} is not an outstanding list of {} (already put, or never built)",
                st.hal.describe(a)
            ),
        };
        e6(
            &mut st,
            dma_code::SG_LIST_DOUBLE_FREE,
            [allocated, freed, list as u64],
            R,
            msg,
        );
        return;
    }
    direction_check(&mut st, list, WriteToDevice, R);
    release(&mut st, list);
}

/// `FlushAdapterBuffers`: copies device-written bounce data back. FALSE (and 0xE6/0x16) if no
/// outstanding list of the adapter matches (Mdl, CurrentVa, Length).
#[ddk_sys::ntapi]
pub(crate) unsafe extern "ntapi" fn flush_adapter_buffers(
    DmaAdapter: *mut DMA_ADAPTER,
    Mdl: *mut MDL,
    _MapRegisterBase: PVOID,
    CurrentVa: PVOID,
    Length: ULONG,
    WriteToDevice: BOOLEAN,
) -> BOOLEAN {
    const R: &str = "FlushAdapterBuffers";
    let cpu = cpu();
    let irql = cpu.irql();
    let mut st = cpu.lock();
    check_irql(&mut st, irql, IrqlRule::AtMost(DISPATCH_LEVEL), R);
    let Some(a) = live_adapter(&mut st, DmaAdapter, R) else {
        return FALSE;
    };
    let (mdl, va) = (Mdl as usize, CurrentVa as usize);
    let found = st
        .hal
        .lists
        .iter()
        .find(|(_, l)| l.adapter == a && l.mdl == mdl && l.current_va == va && l.length == Length)
        .map(|(k, _)| *k);
    let Some(list) = found else {
        let msg = format!(
            "no outstanding list of {} maps MDL {mdl:#x} at {va:#x} for {Length} bytes",
            st.hal.describe(a)
        );
        e6(
            &mut st,
            dma_code::FLUSH_NOT_MAPPED,
            [mdl as u64, va as u64, 0],
            R,
            msg,
        );
        return FALSE;
    };
    direction_check(&mut st, list, WriteToDevice, R);
    copy_back(&st.hal.lists[&list]);
    TRUE
}

/// `CalculateScatterGatherList`: worst-case list size and map registers for (CurrentVa,
/// Length); with an MDL, the range must lie inside it (else STATUS_BUFFER_TOO_SMALL).
#[ddk_sys::ntapi]
pub(crate) unsafe extern "ntapi" fn calculate_scatter_gather_list(
    DmaAdapter: *mut DMA_ADAPTER,
    Mdl: *mut MDL,
    CurrentVa: PVOID,
    Length: ULONG,
    ScatterGatherListSize: *mut ULONG,
    pNumberOfMapRegisters: *mut ULONG,
) -> NTSTATUS {
    const R: &str = "CalculateScatterGatherList";
    let cpu = cpu();
    let mut st = cpu.lock();
    let Some(a) = live_adapter(&mut st, DmaAdapter, R) else {
        return STATUS_INVALID_PARAMETER;
    };
    let va = CurrentVa as usize;
    if !Mdl.is_null() {
        // SAFETY: a non-NULL MDL is valid by contract.
        let (mdl_va, mdl_len) =
            unsafe { (MmGetMdlVirtualAddress(Mdl), MmGetMdlByteCount(Mdl) as usize) };
        if va < mdl_va || va + Length as usize > mdl_va + mdl_len {
            return STATUS_BUFFER_TOO_SMALL;
        }
    }
    let registers = ADDRESS_AND_SIZE_TO_SPAN_PAGES(va, Length as usize);
    if registers as u32 > st.hal.adapters[&a].granted {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    if ScatterGatherListSize.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: non-NULL out-parameters are valid by contract.
    unsafe {
        ScatterGatherListSize.write(SCATTER_GATHER_LIST::size_for(registers) as ULONG);
        if !pNumberOfMapRegisters.is_null() {
            pNumberOfMapRegisters.write(registers as ULONG);
        }
    }
    STATUS_SUCCESS
}
