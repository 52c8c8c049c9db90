//! Test helpers: a tiny "driver" that uses the NT symbols the way videoprt-rs will.
// Each test file uses a different subset.
#![allow(dead_code)]

use ddk_sys::*;
use ntsim::{BusAddress, DeviceView, Machine, MachineConfig, UserBuffer};
use std::sync::Mutex;

/// One DRIVER_LIST_CONTROL call as the driver saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call {
    pub tag: usize,
    pub list: usize,
    pub irql: KIRQL,
}

/// Where callbacks record themselves.
#[derive(Default)]
pub struct Log(pub Mutex<Vec<Call>>);

impl Log {
    pub fn calls(&self) -> Vec<Call> {
        self.0.lock().unwrap().clone()
    }
    pub fn tags(&self) -> Vec<usize> {
        self.calls().iter().map(|c| c.tag).collect()
    }
}

/// The context a callback receives.
pub struct Ctx {
    pub log: *const Log,
    pub tag: usize,
}

#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn on_list(
    _dev: *mut DEVICE_OBJECT,
    _irp: *mut IRP,
    sg: *mut SCATTER_GATHER_LIST,
    ctx: PVOID,
) {
    // SAFETY: tests pass a live `Ctx` whose log outlives the transfer.
    let c = unsafe { &*(ctx as *const Ctx) };
    // SAFETY: as above.
    let log = unsafe { &*c.log };
    log.0.lock().unwrap().push(Call {
        tag: c.tag,
        list: sg as usize,
        irql: KeGetCurrentIrql(),
    });
}

pub fn machine_with(f: impl FnOnce(&mut MachineConfig)) -> Machine {
    let mut config = MachineConfig::default();
    f(&mut config);
    Machine::new(config)
}

/// A bus-master description: PCI, scatter/gather as given, `width` 32 or 64.
pub fn desc(scatter_gather: bool, width: u32, max_len: u32) -> DEVICE_DESCRIPTION {
    DEVICE_DESCRIPTION {
        Version: DEVICE_DESCRIPTION_VERSION,
        Master: TRUE,
        ScatterGather: scatter_gather as u8,
        Dma32BitAddresses: (width == 32) as u8,
        Dma64BitAddresses: (width == 64) as u8,
        InterfaceType: INTERFACE_TYPE::PCIBus,
        MaximumLength: max_len,
        ..Default::default()
    }
}

pub fn get_adapter(pdo: ntsim::Pdo, mut d: DEVICE_DESCRIPTION) -> (*mut DMA_ADAPTER, u32) {
    let mut n = 0;
    // SAFETY: valid PDO and description; the thread is entered.
    let a = unsafe { IoGetDmaAdapter(pdo.as_ptr(), &mut d, &mut n) };
    (a, n)
}

pub fn ops(a: *mut DMA_ADAPTER) -> &'static DMA_OPERATIONS {
    // SAFETY: `a` came from IoGetDmaAdapter; its table is static.
    unsafe { &*(*a).DmaOperations }
}

pub fn put_adapter(a: *mut DMA_ADAPTER) {
    // SAFETY: forwarding the adapter to its own table.
    unsafe { ops(a).PutDmaAdapter.unwrap()(a) }
}

/// IoAllocateMdl + VprtProbeAndLockPages for `len` bytes at `offset` of a user buffer.
pub fn lock_user(buf: &UserBuffer, offset: usize, len: usize, op: LOCK_OPERATION) -> *mut MDL {
    // SAFETY: the range is inside the live buffer; the MDL is freshly allocated.
    unsafe {
        let mdl = IoAllocateMdl(
            buf.as_ptr().add(offset).cast(),
            len as u32,
            FALSE,
            FALSE,
            core::ptr::null_mut(),
        );
        assert!(!mdl.is_null());
        assert_eq!(VprtProbeAndLockPages(mdl, UserMode, op), STATUS_SUCCESS);
        mdl
    }
}

pub fn unlock_free(mdl: *mut MDL) {
    // SAFETY: a locked MDL from `lock_user`.
    unsafe {
        MmUnlockPages(mdl);
        IoFreeMdl(mdl);
    }
}

/// Runs `f` at DISPATCH_LEVEL.
pub fn at_dispatch<R>(f: impl FnOnce() -> R) -> R {
    // SAFETY: raising from PASSIVE and restoring the returned IRQL.
    let old = unsafe { KeRaiseIrql(DISPATCH_LEVEL) };
    let r = f();
    // SAFETY: restores the IRQL returned above.
    unsafe { KeLowerIrql(old) };
    r
}

/// GetScatterGatherList at DISPATCH_LEVEL for `len` bytes at `offset` into the MDL.
pub fn get_sg(
    a: *mut DMA_ADAPTER,
    mdl: *mut MDL,
    offset: usize,
    len: u32,
    write: bool,
    ctx: &Ctx,
) -> NTSTATUS {
    at_dispatch(|| {
        // SAFETY: valid adapter, locked MDL, a range inside it, a live context.
        unsafe {
            let va = MmGetMdlVirtualAddress(mdl) + offset;
            ops(a).GetScatterGatherList.unwrap()(
                a,
                core::ptr::null_mut(),
                mdl,
                va as PVOID,
                len,
                Some(on_list),
                ctx as *const Ctx as PVOID,
                write as u8,
            )
        }
    })
}

pub fn put_sg(a: *mut DMA_ADAPTER, list: usize, write: bool) {
    // SAFETY: PutScatterGatherList validates the list itself; that is what is under test.
    at_dispatch(|| unsafe {
        ops(a).PutScatterGatherList.unwrap()(a, list as *mut SCATTER_GATHER_LIST, write as u8)
    })
}

pub fn elements(list: usize) -> Vec<SCATTER_GATHER_ELEMENT> {
    // SAFETY: an outstanding list built by ntsim.
    unsafe {
        let l = list as *const SCATTER_GATHER_LIST;
        let first = core::ptr::addr_of!((*l).Elements).cast::<SCATTER_GATHER_ELEMENT>();
        (0..(*l).NumberOfElements as usize)
            .map(|i| first.add(i).read())
            .collect()
    }
}

/// The device reads every element of a list, in order.
pub fn device_read(view: &DeviceView, list: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for e in elements(list) {
        let mut chunk = vec![0; e.Length as usize];
        view.read(BusAddress(e.Address.get()), &mut chunk)
            .expect("mapped element");
        out.extend_from_slice(&chunk);
    }
    out
}

/// The device writes `data` across the elements of a list, in order.
pub fn device_write(view: &DeviceView, list: usize, data: &[u8]) {
    let mut done = 0;
    for e in elements(list) {
        let n = e.Length as usize;
        view.write(BusAddress(e.Address.get()), &data[done..done + n])
            .expect("mapped element");
        done += n;
    }
    assert_eq!(done, data.len());
}

/// A recognisable byte pattern.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}
