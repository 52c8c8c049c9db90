//! What the running kernel is, and the routines newer than NT 5.2 that the port uses when
//! they exist.
//!
//! C interface: `RtlGetVersion`, `MmGetSystemRoutineAddress`; `ExAllocatePool2` (Windows 10
//! version 2004) through a pointer found at run time, never a static import. The driver must
//! load on every kernel XDDM miniports ran on (Windows XP x64 / Server 2003 x64 onwards, and
//! third-party NT kernels), so its import table names only what NT 5.2 exports; anything
//! newer is looked up here, with a documented fallback:
//!
//! | used when present | fallback |
//! |---|---|
//! | `ExAllocatePool2(POOL_FLAG_NON_PAGED)` (zeroed, no-execute) | `ExAllocatePoolWithTag(NonPagedPoolNx)` from Windows 8, `NonPagedPool` before, then zeroed by the port |
//! | `ExAllocatePool2(POOL_FLAG_PAGED)` | `ExAllocatePoolWithTag(PagedPool)`, zeroed |
//! | (cache-aligned pool) | always `ExAllocatePoolWithTag(...CacheAligned)`, zeroed |
//! | `MdlMappingNoExecute` in `MmMapLockedPagesSpecifyCache` (Windows 8) | no flag (older kernels reject unknown priority bits) |
//! | `HalGetBusDataByOffset` (every Windows HAL; some third-party kernels lack it) | `VideoPortCheckForDeviceExistence` answers FALSE |
//! | the HAL's x86 BIOS emulator, `x86BiosCall`, `x86BiosAllocateBuffer`, `x86BiosFreeBuffer`, `x86BiosReadMemory`, `x86BiosWriteMemory` (Windows Vista; all five or none) | no INT 10h: `VideoPortQueryServices(VideoPortServicesInt10)` and `VideoPortInt10` answer ERROR_INVALID_FUNCTION |
//!
//! [`init`] runs at PASSIVE_LEVEL (`MmGetSystemRoutineAddress` requires it) from
//! `DllInitialize` and again from every `VideoPortInitialize`, because some loaders (Wine)
//! never call `DllInitialize`. Until it has run, the conservative fallbacks apply.
//!
//! What was learned is kept per kernel: in a static on Windows (one kernel per image), and per
//! simulated machine on other hosts, where one copy of the port serves many machines, each
//! possibly another Windows version.

use ddk_sys::*;

/// What [`init`] learned about the running kernel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct KernelFacts {
    /// `RtlGetVersion`'s major and minor, as `major << 8 | minor`.
    version: u32,
    /// `ExAllocatePool2`, or 0 where the kernel lacks it.
    ex_allocate_pool2: usize,
    /// `HalGetBusDataByOffset`, or 0 where the HAL lacks it.
    hal_get_bus_data_by_offset: usize,
    /// `x86BiosCall`, `x86BiosAllocateBuffer`, `x86BiosFreeBuffer`, `x86BiosReadMemory`,
    /// `x86BiosWriteMemory`; each 0 where missing.
    x86_bios: [usize; 5],
}

#[cfg(target_os = "windows")]
mod store {
    //! One kernel: a static, written once (every call writes the same facts).
    use super::KernelFacts;
    use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

    static VERSION: AtomicU32 = AtomicU32::new(0);
    static EX_ALLOCATE_POOL2: AtomicUsize = AtomicUsize::new(0);
    static HAL_GET_BUS_DATA_BY_OFFSET: AtomicUsize = AtomicUsize::new(0);
    static X86_BIOS: [AtomicUsize; 5] = [const { AtomicUsize::new(0) }; 5];
    /// 1 once the values above are published.
    static READY: AtomicU32 = AtomicU32::new(0);

    pub(super) fn get() -> Option<KernelFacts> {
        (READY.load(Ordering::Acquire) != 0).then(|| KernelFacts {
            version: VERSION.load(Ordering::Relaxed),
            ex_allocate_pool2: EX_ALLOCATE_POOL2.load(Ordering::Relaxed),
            hal_get_bus_data_by_offset: HAL_GET_BUS_DATA_BY_OFFSET.load(Ordering::Relaxed),
            x86_bios: core::array::from_fn(|i| X86_BIOS[i].load(Ordering::Relaxed)),
        })
    }

    pub(super) fn put(facts: KernelFacts) {
        VERSION.store(facts.version, Ordering::Relaxed);
        EX_ALLOCATE_POOL2.store(facts.ex_allocate_pool2, Ordering::Relaxed);
        HAL_GET_BUS_DATA_BY_OFFSET.store(facts.hal_get_bus_data_by_offset, Ordering::Relaxed);
        for (slot, address) in X86_BIOS.iter().zip(facts.x86_bios) {
            slot.store(address, Ordering::Relaxed);
        }
        READY.store(1, Ordering::Release);
    }
}

#[cfg(not(target_os = "windows"))]
mod store {
    //! Many simulated kernels in one process: the facts of each, by ntsim's machine serial.
    use super::KernelFacts;
    use std::sync::Mutex;

    #[ddk_sys::ntapi]
    extern "ntapi" {
        fn NtsimMachineSerial() -> u64;
    }

    static FACTS: Mutex<Vec<(u64, KernelFacts)>> = Mutex::new(Vec::new());

    fn machine() -> u64 {
        // SAFETY: an ntsim hook without arguments, callable at any IRQL.
        unsafe { NtsimMachineSerial() }
    }

    pub(super) fn get() -> Option<KernelFacts> {
        let machine = machine();
        let facts = FACTS.lock().unwrap_or_else(|e| e.into_inner());
        facts.iter().find(|(m, _)| *m == machine).map(|(_, f)| *f)
    }

    pub(super) fn put(new: KernelFacts) {
        let machine = machine();
        let mut facts = FACTS.lock().unwrap_or_else(|e| e.into_inner());
        match facts.iter_mut().find(|(m, _)| *m == machine) {
            Some((_, f)) => *f = new,
            None => facts.push((machine, new)),
        }
    }
}

/// Windows 8 (NT 6.2), packed like [`KernelFacts::version`].
const NT_6_2: u32 = 6 << 8 | 2;

/// A routine name as a counted UTF-16 string, built at compile time.
struct RoutineName<const N: usize>([u16; N]);

impl<const N: usize> RoutineName<N> {
    const fn new(ascii: &str) -> Self {
        let bytes = ascii.as_bytes();
        let mut wide = [0u16; N];
        let mut i = 0;
        while i < N {
            wide[i] = bytes[i] as u16;
            i += 1;
        }
        Self(wide)
    }

    /// Looks the routine up in the kernel's and HAL's export tables. PASSIVE_LEVEL only.
    fn resolve(&self) -> usize {
        let mut name = UNICODE_STRING {
            Length: (N * 2) as u16,
            MaximumLength: (N * 2) as u16,
            Buffer: self.0.as_ptr().cast_mut(),
        };
        // SAFETY: a valid counted string that the routine only reads; the caller runs at
        // PASSIVE_LEVEL (see `init`).
        unsafe { MmGetSystemRoutineAddress(&mut name) as usize }
    }
}

static EX_ALLOCATE_POOL2_NAME: RoutineName<15> = RoutineName::new("ExAllocatePool2");
static HAL_GET_BUS_DATA_BY_OFFSET_NAME: RoutineName<21> = RoutineName::new("HalGetBusDataByOffset");
static X86_BIOS_CALL_NAME: RoutineName<11> = RoutineName::new("x86BiosCall");
static X86_BIOS_ALLOCATE_NAME: RoutineName<21> = RoutineName::new("x86BiosAllocateBuffer");
static X86_BIOS_FREE_NAME: RoutineName<17> = RoutineName::new("x86BiosFreeBuffer");
static X86_BIOS_READ_NAME: RoutineName<17> = RoutineName::new("x86BiosReadMemory");
static X86_BIOS_WRITE_NAME: RoutineName<18> = RoutineName::new("x86BiosWriteMemory");

/// Learns the kernel version and resolves the optional routines. PASSIVE_LEVEL only;
/// cheap after the first call on a kernel.
pub fn init() {
    if store::get().is_some() {
        return;
    }
    let mut info = RTL_OSVERSIONINFOW::default();
    // SAFETY: a writable structure whose size field is set.
    let version = if unsafe { RtlGetVersion(&mut info) }.is_success() {
        (info.dwMajorVersion.min(0xff_ffff) << 8) | info.dwMinorVersion.min(0xff)
    } else {
        0
    };
    store::put(KernelFacts {
        version,
        ex_allocate_pool2: EX_ALLOCATE_POOL2_NAME.resolve(),
        hal_get_bus_data_by_offset: HAL_GET_BUS_DATA_BY_OFFSET_NAME.resolve(),
        x86_bios: [
            X86_BIOS_CALL_NAME.resolve(),
            X86_BIOS_ALLOCATE_NAME.resolve(),
            X86_BIOS_FREE_NAME.resolve(),
            X86_BIOS_READ_NAME.resolve(),
            X86_BIOS_WRITE_NAME.resolve(),
        ],
    });
}

/// The HAL's x86 BIOS emulator (Windows Vista onwards), as found by [`init`].
#[derive(Clone, Copy)]
pub struct X86Bios {
    pub call: PFN_x86BiosCall,
    pub allocate_buffer: PFN_x86BiosAllocateBuffer,
    pub free_buffer: PFN_x86BiosFreeBuffer,
    pub read_memory: PFN_x86BiosMemory,
    pub write_memory: PFN_x86BiosMemory,
}

/// The x86 BIOS emulator, when [`init`] found all five of its routines (a HAL with only some
/// of them is treated as having none).
pub fn x86_bios() -> Option<X86Bios> {
    let [call, allocate, free, read, write] = store::get()?.x86_bios;
    if [call, allocate, free, read, write].contains(&0) {
        return None;
    }
    // SAFETY: each address was exported by the HAL under the routine's name, whose
    // prototype the PFN type declares. Back to a pointer before each transmute (provenance).
    unsafe {
        Some(X86Bios {
            call: core::mem::transmute::<*const (), PFN_x86BiosCall>(call as *const ()),
            allocate_buffer: core::mem::transmute::<*const (), PFN_x86BiosAllocateBuffer>(
                allocate as *const (),
            ),
            free_buffer: core::mem::transmute::<*const (), PFN_x86BiosFreeBuffer>(
                free as *const (),
            ),
            read_memory: core::mem::transmute::<*const (), PFN_x86BiosMemory>(read as *const ()),
            write_memory: core::mem::transmute::<*const (), PFN_x86BiosMemory>(write as *const ()),
        })
    }
}

/// `(major, minor)` of the running kernel, `(0, 0)` before [`init`].
pub fn version() -> (u32, u32) {
    let v = store::get().unwrap_or_default().version;
    (v >> 8, v & 0xff)
}

fn at_least_windows_8() -> bool {
    store::get().is_some_and(|f| f.version >= NT_6_2)
}

/// Whether `ExAllocatePool2` was found (false before [`init`]).
pub fn has_ex_allocate_pool2() -> bool {
    store::get().is_some_and(|f| f.ex_allocate_pool2 != 0)
}

/// The HAL's `HalGetBusDataByOffset`, when [`init`] found it.
pub fn hal_get_bus_data_by_offset() -> Option<PFN_HalGetBusDataByOffset> {
    let address = store::get()?.hal_get_bus_data_by_offset;
    // SAFETY: the kernel exported this address under the name HalGetBusDataByOffset, whose
    // prototype PFN_HalGetBusDataByOffset declares. (Back to a pointer first, as for
    // ExAllocatePool2 below.)
    (address != 0).then(|| unsafe {
        core::mem::transmute::<*const (), PFN_HalGetBusDataByOffset>(address as *const ())
    })
}

/// The kinds of pool the port hands out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    NonPaged,
    Paged,
    NonPagedCacheAligned,
    PagedCacheAligned,
}

impl PoolKind {
    pub fn is_paged(self) -> bool {
        matches!(self, PoolKind::Paged | PoolKind::PagedCacheAligned)
    }
}

/// Zeroed, no-execute where the kernel can say so, non-paged pool of `size` bytes with `tag`,
/// or NULL. At or below DISPATCH_LEVEL.
pub fn allocate_nonpaged_zeroed(size: usize, tag: u32) -> PVOID {
    allocate(PoolKind::NonPaged, size, tag)
}

/// Zeroed pool of `kind`, `size` bytes, `tag`, or NULL. Non-paged memory is no-execute where
/// the kernel can say so. Paged kinds at or below APC_LEVEL, the others at or below
/// DISPATCH_LEVEL.
pub fn allocate(kind: PoolKind, size: usize, tag: u32) -> PVOID {
    let facts = store::get();
    let pool2 = facts.map(|f| f.ex_allocate_pool2).filter(|&p| p != 0);
    let flags = match kind {
        PoolKind::NonPaged => Some(POOL_FLAG_NON_PAGED),
        PoolKind::Paged => Some(POOL_FLAG_PAGED),
        // ExAllocatePool2 has no cache-aligned flag in the headers this port is built
        // against; the legacy routine's cache-aligned types say it exactly.
        PoolKind::NonPagedCacheAligned | PoolKind::PagedCacheAligned => None,
    };
    if let (Some(pool2), Some(flags)) = (pool2, flags) {
        // SAFETY: the kernel exported this address under the name ExAllocatePool2, whose
        // prototype PFN_ExAllocatePool2 declares; it zeroes what it returns. (Back to a pointer
        // before the transmute: an integer transmuted to a function pointer has no provenance.)
        let pool2: PFN_ExAllocatePool2 = unsafe { core::mem::transmute(pool2 as *const ()) };
        // SAFETY: the caller respects the kind's IRQL limit (contract).
        return unsafe { pool2(flags, size, tag) };
    }
    let nx = facts.is_some_and(|f| f.version >= NT_6_2);
    let pool_type = match (kind, nx) {
        (PoolKind::NonPaged, true) => POOL_TYPE::NonPagedPoolNx,
        (PoolKind::NonPaged, false) => POOL_TYPE::NonPagedPool,
        (PoolKind::NonPagedCacheAligned, true) => POOL_TYPE::NonPagedPoolNxCacheAligned,
        (PoolKind::NonPagedCacheAligned, false) => POOL_TYPE::NonPagedPoolCacheAligned,
        (PoolKind::Paged, _) => POOL_TYPE::PagedPool,
        (PoolKind::PagedCacheAligned, _) => POOL_TYPE::PagedPoolCacheAligned,
    };
    // SAFETY: a pool type this kernel knows; the caller respects its IRQL limit (contract).
    let block = unsafe { ExAllocatePoolWithTag(pool_type, size, tag) };
    if !block.is_null() {
        // SAFETY: a fresh block of `size` writable bytes.
        unsafe { core::ptr::write_bytes(block.cast::<u8>(), 0, size) };
    }
    block
}

/// The `MmMapLockedPagesSpecifyCache` priority flag that makes a mapping no-execute, or 0 on
/// kernels older than Windows 8, which do not know it.
pub fn mdl_mapping_no_execute() -> u32 {
    if at_least_windows_8() {
        MM_PAGE_PRIORITY::MdlMappingNoExecute.0
    } else {
        0
    }
}
