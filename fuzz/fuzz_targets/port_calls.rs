//! Random sequences of videoprt-rs's exported DMA, pool, event, spin-lock, registry, timer and
//! memory-mapping calls on ntsim, made the way a miniport makes them (the exported C ABI), with
//! live, stale (already released), foreign (another device's, or another family's) and made-up
//! handles, addresses and device extensions, at raised IRQLs, with ntsim failing a chosen pool,
//! MDL, adapter, scatter/gather, common-buffer or user-mapping request.
//!
//! Each input gets a fresh machine with two devices. The first is started as PnP starts one: a
//! tiny miniport written here (DriverEntry -> VideoPortInitialize; HwFindAdapter keeps its
//! access ranges, after one VideoPortGetAccessRanges call with fuzzed arguments; HwTimer
//! counts ticks; HwStartIO runs calls in a client process's context, for user-mode mappings)
//! on a small PCI model with a RAM BAR, a register BAR and an I/O BAR. The second is attached
//! directly with `PortDevice::attach` (no miniport, no resources): it owns the "foreign"
//! adapter, MDL, event and lock, and has no HwTimer. Checks: no crash (under
//! AddressSanitizer); every transfer that completes is byte-exact (a bus-master device reads
//! or writes each scatter/gather element through ntsim's IOMMU view); a registry value set
//! reads back byte-exact through VideoPortGetRegistryParameters (and is in ntsim's registry);
//! HwTimer ticks arrive only while the timer is started, once a simulated second; a timer call
//! on the device without HwTimer is reported (MISSING_CALLBACK); a device base or mapping that
//! the call should grant is granted, and a write through it reaches the device model (its RAM,
//! registers or ports); a client that closes has exactly its user mappings undone and
//! reported; after the sequence the IRQL goes back to PASSIVE_LEVEL, the pool blocks still held
//! are freed, and the devices are removed (the started one with REMOVE_DEVICE after the client
//! closes, or first vetoed while it is open, or surprise-removed with REMOVE waiting for the
//! close; the other with `PortDevice::detach`; both reclaim what is left, reporting it): then
//! nothing may be left allocated, and no tick may follow. Reports of misuse are expected
//! and fine; a call with valid arguments must not report anything.
#![no_main]

use arbitrary::Arbitrary;
use core::ptr::{null_mut, NonNull};
use ddk_sys::*;
use libfuzzer_sys::fuzz_target;
use ntsim::fault::FaultKind;
use ntsim::{
    BarKind, BarSpec, BusAddress, DeviceContext, DeviceMemory, DeviceNode, Driver, Machine,
    MachineConfig, PciDeviceModel, Pdo, Placement, UserBuffer, UserHandle, UserProt,
};
use std::alloc::Layout;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::Mutex;
use videoprt::device::PortDevice;
use videoprt::dma::adapter::{VideoPortGetDmaAdapter, VideoPortPutDmaAdapter};
use videoprt::dma::common_buffer::{VideoPortAllocateCommonBuffer, VideoPortReleaseCommonBuffer};
use videoprt::dma::complete::VideoPortCompleteDma;
use videoprt::dma::lock::{VideoPortLockBuffer, VideoPortUnlockBuffer};
use videoprt::dma::start::VideoPortStartDma;
use videoprt::port::event::{
    VideoPortClearEvent, VideoPortCreateEvent, VideoPortDeleteEvent, VideoPortReadStateEvent,
    VideoPortSetEvent, VideoPortWaitForSingleObject,
};
use videoprt::port::initialize::VideoPortInitialize;
use videoprt::port::map_memory::{VideoPortMapMemory, VideoPortUnmapMemory};
use videoprt::port::pool::{VideoPortAllocatePool, VideoPortFreePool};
use videoprt::port::registers::{
    VideoPortReadPortUchar, VideoPortReadRegisterUlong, VideoPortWritePortUchar,
    VideoPortWriteRegisterUlong,
};
use videoprt::port::registry::{
    VideoPortFlushRegistry, VideoPortGetRegistryParameters, VideoPortSetRegistryParameters,
};
use videoprt::port::resources::{
    VideoPortFreeDeviceBase, VideoPortGetAccessRanges, VideoPortGetDeviceBase,
};
use videoprt::port::spin_lock::{
    VideoPortAcquireSpinLock, VideoPortAcquireSpinLockAtDpcLevel, VideoPortCreateSpinLock,
    VideoPortDeleteSpinLock, VideoPortReleaseSpinLock, VideoPortReleaseSpinLockFromDpcLevel,
};
use videoprt::port::timer::{VideoPortStartTimer, VideoPortStopTimer};
use videoprt::report::{port_code, DMA_VIOLATION, VIDEOPRT_RS_CHECK};

/// `PORT_CALLS_TRACE=1` prints what the registry, timer and mapping calls returned (to see
/// what a seed does).
macro_rules! trace {
    ($($t:tt)*) => {{
        static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        if *ON.get_or_init(|| std::env::var_os("PORT_CALLS_TRACE").is_some()) {
            eprintln!($($t)*);
        }
    }};
}

const HW_EXTENSION_SIZE: u32 = 64;
const MAX_OPS: usize = 24;
const MAX_BUFFER: usize = 5 * 4096;
const MAX_ROUNDS: usize = 64;

/// A handle argument.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Handle {
    /// One this device holds now (by index, wrapping).
    Live(u8),
    /// One it released earlier.
    Stale(u8),
    /// One the other device holds.
    Foreign,
    /// A made-up value.
    Garbage(u64),
    Null,
}

/// The `HwDeviceExtension` argument.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Device {
    Mine,
    Mine2,
    Mine3,
    Other,
    Garbage(u64),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Fault {
    Pool,
    Mdl,
    Adapter,
    ScatterGather,
    CommonBuffer,
    UserMapping,
}

/// A registry value name.
#[derive(Arbitrary, Debug, Clone)]
enum Name {
    /// One of [`NAMES`] (by index, wrapping): plain, subkey paths, names differing in case,
    /// `DefaultSettings.*`, empty components.
    Table(u8),
    /// Up to 24 characters of [`ALPHABET`] (backslashes included).
    Made(Vec<u8>),
    Null,
    /// 32,768 characters: more than a UNICODE_STRING holds.
    TooLong,
    /// 32,767 characters: the longest a UNICODE_STRING holds.
    Longest,
}

const NAMES: &[&str] = &[
    "Value",
    "VALUE",
    "Other",
    "",
    "Sub\\Value",
    "sub\\vALUE",
    "Sub\\Deeper\\Value",
    "Sub",
    "DefaultSettings.XResolution",
    "defaultsettings.BitsPerPel",
    "Sub\\",
    "\\Value",
    "Sub\\\\Value",
    "HardwareInformation.ChipType",
    "\u{3a9}mega",
];
/// Paths a file value names (the first two are the same file).
const FILES: &[&str] = &[
    "\\SystemRoot\\System32\\fuzz.bin",
    "\\SYSTEMROOT\\system32\\FUZZ.BIN",
    "\\??\\C:\\fuzz\\other.bin",
    "relative.bin",
    "",
];
const ALPHABET: &[char] = &['a', 'B', '\\', '.', '0', '\u{3a9}', 'x'];

/// The data of a registry value.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Data {
    Bytes {
        len: u16,
        seed: u8,
    },
    /// Up to 64 KiB.
    Big {
        kib: u8,
    },
    /// A NULL pointer with this length.
    Null {
        len: u32,
    },
}

/// What the GetRegistryParameters callback does.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Callback {
    Records,
    /// Records, then returns an error.
    Fails,
    Null,
}

/// A bus address for GetDeviceBase / MapMemory, relative to one of the device's BARs (0 RAM,
/// 1 registers, 2 ports; wrapping).
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Where {
    Inside {
        bar: u8,
        offset: u32,
    },
    /// `back` bytes before the BAR's end.
    NearEnd {
        bar: u8,
        back: u16,
    },
    /// `by` bytes before the BAR's start.
    Below {
        bar: u8,
        by: u16,
    },
    Anywhere(u64),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Length {
    Small(u16),
    /// To the end of the BAR.
    Rest,
    Zero,
    /// At least 2 GiB.
    Huge(u32),
    Pages(u8),
}

/// `*VirtualAddress` on input to MapMemory / the ProcessHandle of UnmapMemory.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Process {
    Null,
    /// `NtCurrentProcess()`.
    Current,
    Garbage(u64),
}

#[derive(Arbitrary, Debug)]
enum Op {
    GetAdapter {
        dev: Device,
        scatter_gather: bool,
        dma64: bool,
        maximum_length: u32,
    },
    PutAdapter {
        dev: Device,
        adapter: Handle,
    },
    AllocateCommon {
        dev: Device,
        adapter: Handle,
        length: u16,
    },
    ReleaseCommon {
        dev: Device,
        adapter: Handle,
        buffer: Handle,
        /// Pass a wrong length.
        wrong_length: bool,
    },
    Lock {
        dev: Device,
        length: u16,
        offset: u16,
        to_device: bool,
    },
    Unlock {
        dev: Device,
        mdl: Handle,
    },
    /// A whole packet transfer on a live adapter and MDL: the StartDma/CompleteDma loop, the
    /// device moving each element; checked byte for byte.
    Transfer {
        adapter: u8,
        mdl: u8,
    },
    /// One StartDma with any arguments; its list (if delivered) stays outstanding.
    Start {
        dev: Device,
        adapter: Handle,
        mdl: Handle,
        offset: u16,
        length: u16,
        to_device: bool,
    },
    Complete {
        dev: Device,
        adapter: Handle,
        list: Handle,
        to_device: bool,
    },
    AllocatePool {
        dev: Device,
        length: u16,
    },
    FreePool {
        dev: Device,
        block: Handle,
    },
    /// VideoPortCreateEvent with any flags (undefined bits are refused).
    CreateEvent {
        dev: Device,
        flags: u8,
    },
    /// Set, Clear, ReadState, a zero-timeout wait, or Delete, on any event handle.
    Event {
        dev: Device,
        event: Handle,
        what: EventCall,
    },
    CreateSpinLock {
        dev: Device,
    },
    /// Acquire then release (the plain or the at-DPC-level pair) on any lock handle, or
    /// delete it.
    SpinLock {
        dev: Device,
        lock: Handle,
        what: LockCall,
    },
    /// KeRaiseIrql to APC_LEVEL, DISPATCH_LEVEL or a device IRQL.
    Raise(u8),
    /// KeLowerIrql back to where the last Raise started.
    Lower,
    Fault {
        kind: Fault,
        nth: u8,
    },
    /// Runs what is pending (DPCs, deferred scatter/gather callbacks) at PASSIVE_LEVEL.
    Idle,
    /// VideoPortSetRegistryParameters.
    SetRegistry {
        dev: Device,
        name: Name,
        data: Data,
    },
    /// A REG_SZ or REG_EXPAND_SZ value naming a file (one of [`FILES`]), written as an INF
    /// would (not through the port), and that file, for Get with `IsParameterFileName`.
    FileValue {
        other: bool,
        name: Name,
        path: u8,
        expand: bool,
        /// The string keeps its NUL (else it ends at the last character).
        terminated: bool,
        /// One more byte after the string (a length that is not a whole number of characters).
        odd: bool,
        /// Put the file there, with `len % 8193` bytes.
        exists: bool,
        len: u16,
    },
    /// VideoPortGetRegistryParameters with a recording callback.
    GetRegistry {
        dev: Device,
        name: Name,
        file: bool,
        callback: Callback,
    },
    FlushRegistry {
        dev: Device,
    },
    /// VideoPortStartTimer or VideoPortStopTimer.
    Timer {
        dev: Device,
        start: bool,
    },
    /// Moves the simulated clock on by `n % 16` quarter seconds (at PASSIVE_LEVEL: what is due
    /// runs, HwTimer ticks among it).
    Advance(u8),
    /// VideoPortGetDeviceBase with any InIoSpace bits, `1 + times % 8` times (to reach the
    /// limit of bases at once).
    DeviceBase {
        dev: Device,
        at: Where,
        length: Length,
        space: u8,
        times: u8,
    },
    FreeDeviceBase {
        dev: Device,
        base: Handle,
    },
    /// VideoPortMapMemory with any InIoSpace bits, from the system context or a client's
    /// (HwStartIO of an IOCTL), optionally with NULL pointer arguments (bits of `nulls`).
    MapMemory {
        dev: Device,
        at: Where,
        length: Length,
        space: u8,
        process: Process,
        in_client: bool,
        nulls: Option<u8>,
    },
    UnmapMemory {
        dev: Device,
        map: Handle,
        process: Process,
        in_client: bool,
    },
    /// A write through a live device base (or mapping), checked at the device model.
    Touch {
        mapping: bool,
        which: u8,
        offset: u32,
        seed: u8,
    },
    /// VideoPortGetAccessRanges outside HwFindAdapter: refused.
    AccessRanges {
        dev: Device,
        entries: u8,
        null: bool,
    },
    /// The client closes its handle (its process exits): the port undoes and reports the
    /// user mappings it left. The next call in a client opens a new one.
    CloseClient,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum EventCall {
    Set,
    Clear,
    ReadState,
    WaitNoTimeout,
    Delete,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum LockCall {
    AcquireRelease,
    AtDpcLevel,
    Delete,
}

#[derive(Arbitrary, Debug)]
struct Input {
    user_memory_high: bool,
    map_registers: u8,
    /// HwFindAdapter's first VideoPortGetAccessRanges: entries (% 9) and a NULL array.
    find_entries: u8,
    find_null: bool,
    /// How the started device goes (% 3): the client closes, then REMOVE; REMOVE with the
    /// client still open (vetoed), then as before; a surprise removal with the client open.
    ending: u8,
    ops: Vec<Op>,
}

/// Lists HwVidExecuteDma received, in order: (adapter, list, elements, context).
type Delivered = (usize, usize, Vec<(BusAddress, u32)>, usize);
static DELIVERED: Mutex<Vec<Delivered>> = Mutex::new(Vec::new());

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn execute(
    _hw: PVOID,
    adapter: PVP_DMA_ADAPTER,
    list: PVP_SCATTER_GATHER_LIST,
    context: PVOID,
) {
    // SAFETY: the port passes the list the HAL built, valid until CompleteDma.
    let elements = unsafe {
        let n = (*list).NumberOfElements as usize;
        let first = core::ptr::addr_of!((*list).Elements).cast::<VP_SCATTER_GATHER_ELEMENT>();
        (0..n)
            .map(|i| *first.add(i))
            .map(|e| (BusAddress(e.Address.get()), e.Length))
            .collect()
    };
    DELIVERED
        .lock()
        .unwrap()
        .push((adapter as usize, list as usize, elements, context as usize));
}

/// The started device's PCI model: BAR0 is RAM (a frame buffer), BAR1 is 4 KiB of 32-bit
/// registers that read back what was written, BAR2 is 32 I/O ports that do the same.
struct FuzzDevice {
    ram: DeviceMemory,
    registers: Vec<u32>,
    ports: [u8; PORTS as usize],
}

const RAM_BYTES: u64 = 64 << 10;
const REGISTER_BYTES: u64 = 4096;
const PORTS: u64 = 32;

impl PciDeviceModel for FuzzDevice {
    fn vendor_id(&self) -> u16 {
        0x1af4
    }
    fn device_id(&self) -> u16 {
        0x10f7
    }
    fn bars(&self) -> Vec<BarSpec> {
        vec![
            BarSpec {
                kind: BarKind::Memory32Prefetchable,
                size: RAM_BYTES,
            },
            BarSpec {
                kind: BarKind::Memory32,
                size: REGISTER_BYTES,
            },
            BarSpec {
                kind: BarKind::Io,
                size: PORTS,
            },
        ]
    }
    fn has_interrupt(&self) -> bool {
        false
    }
    fn ram(&self, bar: usize) -> Option<DeviceMemory> {
        (bar == 0).then(|| self.ram.clone())
    }
    fn read(&mut self, _ctx: &mut DeviceContext<'_>, bar: usize, offset: u64, size: u8) -> u64 {
        let value = match bar {
            1 => u64::from(self.registers[(offset / 4) as usize % self.registers.len()]),
            2 => u64::from(self.ports[offset as usize % self.ports.len()]),
            _ => u64::MAX,
        };
        if size >= 8 {
            value
        } else {
            value & ((1u64 << (8 * size)) - 1)
        }
    }
    fn write(
        &mut self,
        _ctx: &mut DeviceContext<'_>,
        bar: usize,
        offset: u64,
        _size: u8,
        value: u64,
    ) {
        match bar {
            1 => {
                let n = self.registers.len();
                self.registers[(offset / 4) as usize % n] = value as u32;
            }
            2 => {
                let n = self.ports.len();
                self.ports[offset as usize % n] = value as u8;
            }
            _ => {}
        }
    }
}

/// The miniport's HwDeviceExtension.
#[repr(C)]
struct Extension {
    /// What VideoPortGetAccessRanges gave HwFindAdapter.
    ranges: [VIDEO_ACCESS_RANGE; 4],
}

/// The last HwDeviceExtension HwFindAdapter saw.
static FOUND_HW: AtomicUsize = AtomicUsize::new(0);
/// HwTimer calls, and whether one ran at another IRQL than DISPATCH_LEVEL.
static TICKS: AtomicU32 = AtomicU32::new(0);
static TICK_IRQL_WRONG: AtomicBool = AtomicBool::new(false);
/// The fuzzed VideoPortGetAccessRanges call HwFindAdapter makes first: (entries, NULL array)
/// in; (status, entries written) out.
static FIND_CALL: Mutex<(u8, bool, VP_STATUS, Vec<VIDEO_ACCESS_RANGE>)> =
    Mutex::new((0, false, NO_ERROR, Vec::new()));

const IOCTL_RUN: u32 = CTL_CODE(FILE_DEVICE_VIDEO, 0x900, METHOD_BUFFERED, FILE_ANY_ACCESS);

thread_local! {
    /// What HwStartIO runs for IOCTL_RUN, in the client process's context.
    static IN_CLIENT: RefCell<Option<Box<dyn FnOnce()>>> = const { RefCell::new(None) };
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn find_adapter(
    hw: PVOID,
    _context: PVOID,
    _argument: *mut WCHAR,
    _config: PVIDEO_PORT_CONFIG_INFO,
    again: PUCHAR,
) -> VP_STATUS {
    FOUND_HW.store(hw as usize, Ordering::SeqCst);
    let (entries, null) = {
        let call = FIND_CALL.lock().unwrap();
        (call.0, call.1)
    };
    let mut ranges = [VIDEO_ACCESS_RANGE {
        RangeLength: 0xDEAD,
        ..VIDEO_ACCESS_RANGE::default()
    }; 8];
    let array = if null {
        null_mut()
    } else {
        ranges.as_mut_ptr()
    };
    // SAFETY: a live extension; the array (if any) holds 8 >= entries % 9 entries.
    let status = unsafe {
        VideoPortGetAccessRanges(
            hw,
            0,
            null_mut(),
            u32::from(entries % 9),
            array,
            null_mut(),
            null_mut(),
            null_mut(),
        )
    };
    {
        let mut call = FIND_CALL.lock().unwrap();
        call.2 = status;
        call.3 = ranges.to_vec();
    }
    // SAFETY: all-zero is a valid VIDEO_ACCESS_RANGE array.
    let mut mine: [VIDEO_ACCESS_RANGE; 4] = unsafe { core::mem::zeroed() };
    // SAFETY: a live extension; the array holds 4 entries.
    let status = unsafe {
        VideoPortGetAccessRanges(
            hw,
            0,
            null_mut(),
            4,
            mine.as_mut_ptr(),
            null_mut(),
            null_mut(),
            null_mut(),
        )
    };
    if status != NO_ERROR {
        return status;
    }
    // SAFETY: the port hands the miniport its own extension, of Extension's size.
    unsafe { (*hw.cast::<Extension>()).ranges = mine };
    // SAFETY: the out flag is writable.
    unsafe { *again = FALSE };
    NO_ERROR
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn initialize(_hw: PVOID) -> BOOLEAN {
    TRUE
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn start_io(_hw: PVOID, vrp: PVIDEO_REQUEST_PACKET) -> BOOLEAN {
    // SAFETY: the port's packet, valid during the call.
    let vrp = unsafe { &mut *vrp };
    let status = if vrp.IoControlCode == IOCTL_RUN {
        match IN_CLIENT.with(|c| c.borrow_mut().take()) {
            Some(f) => {
                f();
                NO_ERROR
            }
            None => ERROR_INVALID_FUNCTION,
        }
    } else {
        ERROR_INVALID_FUNCTION
    };
    // SAFETY: the port's status block.
    unsafe {
        (*vrp.StatusBlock).Status = status;
        (*vrp.StatusBlock).Information = 0;
    }
    TRUE
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn hw_timer(_hw: PVOID) {
    if KeGetCurrentIrql() != DISPATCH_LEVEL {
        TICK_IRQL_WRONG.store(true, Ordering::SeqCst);
    }
    TICKS.fetch_add(1, Ordering::SeqCst);
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn driver_entry(
    driver: *mut DRIVER_OBJECT,
    path: *mut UNICODE_STRING,
) -> NTSTATUS {
    // SAFETY: all-zero is the documented start.
    let mut data: VIDEO_HW_INITIALIZATION_DATA = unsafe { core::mem::zeroed() };
    data.HwInitDataSize = SIZE_OF_WXP_VIDEO_HW_INITIALIZATION_DATA;
    data.HwFindAdapter = Some(find_adapter);
    data.HwInitialize = Some(initialize);
    data.HwStartIO = Some(start_io);
    data.HwTimer = Some(hw_timer);
    data.HwDeviceExtensionSize = core::mem::size_of::<Extension>() as u32;
    // SAFETY: DriverEntry's arguments, passed on.
    NTSTATUS(
        unsafe { VideoPortInitialize(driver.cast(), path.cast(), &mut data, null_mut()) } as i32,
    )
}

/// The started device: its node, driver, extension, BARs, RAM, and a client (opened when a
/// call must run in a client process).
struct Started {
    pdo: Pdo,
    node: Option<DeviceNode>,
    driver: Option<Driver>,
    hw: PVOID,
    /// (bus address, size) of BAR0 (RAM), BAR1 (registers), BAR2 (ports).
    bars: [(u64, u64); 3],
    ram: DeviceMemory,
    client: Option<UserHandle>,
}

impl Started {
    fn hw(&self) -> PVOID {
        self.hw
    }
}

/// A device as AddDevice attaches it: its port extension in host memory.
struct Attached {
    pdo: ntsim::Pdo,
    device: Option<&'static PortDevice>,
    memory: *mut u8,
    layout: Layout,
}

impl Attached {
    fn new(machine: &Machine, name: &str) -> Attached {
        let pdo = machine.create_pdo(name);
        let layout =
            Layout::from_size_align(PortDevice::extension_size(HW_EXTENSION_SIZE), 16).unwrap();
        // SAFETY: non-zero size.
        let memory = unsafe { std::alloc::alloc_zeroed(layout) };
        let at = NonNull::new(memory.cast::<PortDevice>()).expect("host allocation");
        // SAFETY: 16-aligned, zeroed, large enough, freed only after detach (in Drop).
        let device = unsafe { PortDevice::attach(at, pdo.as_ptr(), null_mut(), HW_EXTENSION_SIZE) };
        Attached {
            pdo,
            device: Some(device),
            memory,
            layout,
        }
    }

    fn hw(&self) -> PVOID {
        self.device.expect("attached").hw_extension()
    }

    /// Device removal: the port reclaims what the miniport left.
    fn detach(&mut self) {
        if let Some(device) = self.device.take() {
            // SAFETY: no other call on this device runs or follows.
            unsafe { device.detach() };
        }
    }
}

impl Drop for Attached {
    fn drop(&mut self) {
        self.detach();
        // SAFETY: allocated in `new` with this layout; the device is detached.
        unsafe { std::alloc::dealloc(self.memory, self.layout) };
    }
}

/// Live and released handles of one kind.
struct Pool<T: Copy> {
    live: Vec<T>,
    stale: Vec<T>,
}

impl<T: Copy> Default for Pool<T> {
    fn default() -> Self {
        Pool {
            live: Vec::new(),
            stale: Vec::new(),
        }
    }
}

impl<T: Copy> Pool<T> {
    fn pick(&self, h: Handle, key: impl Fn(&T) -> usize, foreign: usize) -> (usize, Option<usize>) {
        match h {
            Handle::Live(i) if !self.live.is_empty() => {
                let i = i as usize % self.live.len();
                (key(&self.live[i]), Some(i))
            }
            Handle::Stale(i) if !self.stale.is_empty() => {
                (key(&self.stale[i as usize % self.stale.len()]), None)
            }
            Handle::Live(_) | Handle::Stale(_) | Handle::Null => (0, None),
            Handle::Foreign => (foreign, None),
            Handle::Garbage(g) => (g as usize, None),
        }
    }

    fn release(&mut self, i: usize) -> T {
        let t = self.live.swap_remove(i);
        self.stale.push(t);
        t
    }
}

#[derive(Clone, Copy)]
struct Locked {
    mdl: usize,
    /// Index into the user buffers.
    buffer: usize,
    offset: usize,
    length: usize,
    to_device: bool,
}

#[derive(Clone, Copy)]
struct Common {
    adapter: usize,
    va: usize,
    logical: i64,
    length: u32,
}

struct World {
    machine: Machine,
    mine: Started,
    other: Attached,
    foreign_adapter: usize,
    foreign_mdl: usize,
    adapters: Pool<usize>,
    mdls: Pool<Locked>,
    commons: Pool<Common>,
    lists: Pool<(usize, usize)>,
    /// (HwDeviceExtension, block).
    blocks: Pool<(usize, usize)>,
    events: Pool<usize>,
    locks: Pool<usize>,
    foreign_event: usize,
    foreign_lock: usize,
    users: Vec<UserBuffer>,
    irqls: Vec<KIRQL>,
    /// The context of the last transfer's StartDma (its delivery is told apart by it).
    token: usize,
    /// Device bases (GetDeviceBase) and mappings (MapMemory) of the started device.
    bases: Pool<Mapped>,
    maps: Pool<Mapped>,
    /// Registry values set: (HwDeviceExtension, lower-case name) -> data.
    registry: HashMap<(usize, String), Vec<u8>>,
    /// Files put on the machine, by lower-case path.
    files: HashMap<String, Vec<u8>>,
    /// A fault was injected: a call with valid arguments may fail.
    faults: bool,
    timer: TimerModel,
}

impl World {
    fn hw(&self, d: Device) -> PVOID {
        match d {
            Device::Mine | Device::Mine2 | Device::Mine3 => self.mine.hw(),
            Device::Other => self.other.hw(),
            Device::Garbage(g) => g as PVOID,
        }
    }

    fn passive(&self) -> bool {
        self.irqls.is_empty()
    }

    /// Takes the lists delivered since the last call into the outstanding set.
    fn collect_deliveries(&mut self) -> Vec<Delivered> {
        let delivered = std::mem::take(&mut *DELIVERED.lock().unwrap());
        for (adapter, list, _, _) in &delivered {
            self.lists.live.push((*adapter, *list));
        }
        delivered
    }

    fn get_adapter(&mut self, hw: PVOID, scatter_gather: bool, dma64: bool, max: u32) {
        let mut desc = VP_DEVICE_DESCRIPTION {
            ScatterGather: scatter_gather as u8,
            Dma32BitAddresses: (!dma64) as u8,
            Dma64BitAddresses: dma64 as u8,
            MaximumLength: max,
        };
        // SAFETY: exported C ABI with a valid description.
        let adapter = unsafe { VideoPortGetDmaAdapter(hw, &mut desc) };
        if !adapter.is_null() && hw == self.mine.hw() {
            self.adapters.live.push(adapter as usize);
        }
    }

    fn lock(&mut self, hw: PVOID, length: usize, offset: usize, to_device: bool) -> usize {
        let buffer = self.users.len();
        let user = self
            .machine
            .user_alloc(offset + length.max(1), UserProt::ReadWrite);
        user.write(0, &pattern(offset + length.max(1), buffer as u64));
        let va = user.as_ptr() as usize + offset;
        self.users.push(user);
        let operation = if to_device {
            VP_LOCK_OPERATION::VpReadAccess
        } else {
            VP_LOCK_OPERATION::VpWriteAccess
        };
        // SAFETY: exported C ABI; the range lies in a live user buffer (or is refused).
        let mdl = unsafe { VideoPortLockBuffer(hw, va as PVOID, length as u32, operation) };
        if !mdl.is_null() && hw == self.mine.hw() {
            self.mdls.live.push(Locked {
                mdl: mdl as usize,
                buffer,
                offset,
                length,
                to_device,
            });
        }
        mdl as usize
    }

    /// The StartDma/CompleteDma loop over a whole locked buffer, the device moving each element.
    fn transfer(&mut self, adapter: usize, locked: Locked) {
        let view = self.machine.device_view(self.mine.pdo);
        let user = self.users[locked.buffer].to_vec();
        let source = user[locked.offset..][..locked.length].to_vec();
        let from_device = pattern(locked.length, 77);
        let mut moved = Vec::new();
        let mut offset = 0usize;
        // At most this many StartDma/CompleteDma rounds (an adapter with a MaximumLength of a
        // few bytes would need thousands): the bytes moved by then are checked.
        let mut rounds = 0;
        while offset < locked.length && rounds < MAX_ROUNDS {
            rounds += 1;
            self.collect_deliveries();
            self.token += 1;
            let token = self.token;
            let mut length = (locked.length - offset) as u32;
            // SAFETY: exported C ABI: a live adapter and MDL of this device, a live variable.
            let status = unsafe {
                VideoPortStartDma(
                    self.mine.hw(),
                    adapter as PVP_DMA_ADAPTER,
                    locked.mdl as PVOID,
                    offset as u32,
                    &mut length,
                    Some(execute),
                    token as PVOID,
                    locked.to_device as u8,
                )
            };
            if status != NO_ERROR {
                return;
            }
            if self.passive() {
                self.machine.run_until_idle();
            }
            let delivered = self.collect_deliveries();
            let Some((_, list, elements, _)) = delivered.into_iter().find(|d| d.3 == token) else {
                // Deferred (no map registers free now): it stays outstanding.
                return;
            };
            let listed: u64 = elements.iter().map(|e| u64::from(e.1)).sum();
            assert_eq!(
                listed,
                u64::from(length),
                "the list covers exactly *pLength"
            );
            let mut at = offset;
            for (address, bytes) in elements {
                let bytes = bytes as usize;
                if locked.to_device {
                    let mut chunk = vec![0; bytes];
                    view.read(address, &mut chunk)
                        .expect("the device reads a listed element");
                    moved.extend_from_slice(&chunk);
                } else {
                    view.write(address, &from_device[at..at + bytes])
                        .expect("the device writes a listed element");
                }
                at += bytes;
            }
            // SAFETY: exported C ABI: the list HwVidExecuteDma got.
            let status = unsafe {
                VideoPortCompleteDma(
                    self.mine.hw(),
                    adapter as PVP_DMA_ADAPTER,
                    list as PVP_SCATTER_GATHER_LIST,
                    locked.to_device as u8,
                )
            };
            assert_eq!(status, NO_ERROR, "CompleteDma of a delivered list");
            self.lists.live.retain(|l| l.1 != list);
            self.lists.stale.push((adapter, list));
            offset += length as usize;
        }
        if locked.to_device {
            assert!(moved == source[..offset], "the device read different bytes");
        } else {
            let landed = self.users[locked.buffer].to_vec();
            assert!(
                landed[locked.offset..][..offset] == from_device[..offset],
                "memory received different bytes"
            );
        }
    }
}

/// What a GetRegistryParameters callback saw: (HwDeviceExtension, Context, data).
type Got = (usize, usize, Vec<u8>);
static GOT: Mutex<Vec<Got>> = Mutex::new(Vec::new());
static CALLBACK_FAILS: AtomicBool = AtomicBool::new(false);

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn record(
    hw: PVOID,
    context: PVOID,
    _name: *mut WCHAR,
    data: PVOID,
    length: ULONG,
) -> VP_STATUS {
    let bytes = if length == 0 {
        Vec::new()
    } else {
        // SAFETY: the port passes `length` readable bytes.
        unsafe { std::slice::from_raw_parts(data.cast::<u8>(), length as usize) }.to_vec()
    };
    GOT.lock()
        .unwrap()
        .push((hw as usize, context as usize, bytes));
    if CALLBACK_FAILS.load(Ordering::SeqCst) {
        ERROR_INVALID_FUNCTION
    } else {
        NO_ERROR
    }
}

/// A device base or mapping the port handed out.
#[derive(Clone, Copy)]
struct Mapped {
    /// What the miniport got.
    va: usize,
    /// Bytes it may touch.
    length: u64,
    /// BAR index (0 RAM, 1 registers, 2 ports) and offset into it.
    bar: usize,
    offset: u64,
    /// In the client's process.
    user: bool,
}

/// What the HwTimer ticks must look like.
#[derive(Default)]
struct TimerModel {
    running: bool,
    /// Clock and tick count when it was started, or the count when it was stopped.
    since_us: u64,
    ticks: u32,
}

const IRQL_CODE: u32 = 0x13;

fn port(code: u32) -> (u32, u32) {
    (VIDEOPRT_RS_CHECK, code)
}

impl World {
    fn is_mine(&self, hw: PVOID) -> bool {
        hw == self.mine.hw()
    }

    /// Whether `hw` is one of the two devices' extensions.
    fn known(&self, hw: PVOID) -> bool {
        hw == self.mine.hw() || hw == self.other.hw()
    }

    fn pdo_of(&self, hw: PVOID) -> Pdo {
        if self.is_mine(hw) {
            self.mine.pdo
        } else {
            self.other.pdo
        }
    }

    /// Port and IRQL codes reported since the last call.
    fn codes(&self) -> Vec<(u32, u32)> {
        self.machine
            .take_violations()
            .iter()
            .map(|v| (v.bugcheck, v.code))
            .collect()
    }

    /// Runs `f` in the client's process (HwStartIO of an IOCTL) if it can be opened and the
    /// IRQL is PASSIVE_LEVEL; else in the caller's (system) context. (result, in the client)
    fn in_client<R: 'static>(&mut self, f: impl FnOnce() -> R + 'static) -> (R, bool) {
        if !self.passive() {
            return (f(), false);
        }
        if self.mine.client.is_none() {
            let node = self.mine.node.as_ref().expect("started");
            self.mine.client = self.machine.open(node).ok();
        }
        let Some(client) = &self.mine.client else {
            return (f(), false);
        };
        let out = std::rc::Rc::new(RefCell::new(None));
        let into = out.clone();
        IN_CLIENT.with(|c| {
            *c.borrow_mut() = Some(Box::new(move || {
                *into.borrow_mut() = Some(f());
            }))
        });
        let status = client.ioctl(IOCTL_RUN, &[], &mut []);
        let leftover = IN_CLIENT.with(|c| c.borrow_mut().take());
        if let Some(f) = leftover {
            // Not dispatched (an injected pool failure, say): run it here.
            assert!(status.is_err(), "HwStartIO ran without taking the call");
            f();
            let r = out.borrow_mut().take().expect("ran");
            return (r, false);
        }
        let r = out.borrow_mut().take().expect("HwStartIO ran the call");
        (r, true)
    }

    /// The registry name for `n`: (UTF-16 with its NUL, as text), or None for NULL.
    fn name(n: &Name) -> Option<(Vec<u16>, String)> {
        let text: String = match n {
            Name::Table(i) => NAMES[*i as usize % NAMES.len()].to_string(),
            Name::Made(bytes) => bytes
                .iter()
                .take(24)
                .map(|b| ALPHABET[*b as usize % ALPHABET.len()])
                .collect(),
            Name::Null => return None,
            // Built once: 32 K characters cost more than the call.
            Name::TooLong | Name::Longest => {
                static LONG: std::sync::OnceLock<[(Vec<u16>, String); 2]> =
                    std::sync::OnceLock::new();
                let long = LONG.get_or_init(|| {
                    [("a", 32_768), ("L", 32_767)].map(|(c, n)| {
                        let text = c.repeat(n);
                        (text.encode_utf16().chain(Some(0)).collect(), text)
                    })
                });
                return Some(long[usize::from(matches!(n, Name::Longest))].clone());
            }
        };
        let wide = text.encode_utf16().chain(Some(0)).collect();
        Some((wide, text))
    }

    /// Whether the port accepts `name` as a value path: fits a UNICODE_STRING, and no empty
    /// component when it has a backslash.
    fn name_ok(name: &str) -> bool {
        let chars = if name.is_ascii() {
            name.len()
        } else {
            name.encode_utf16().count()
        };
        chars <= 32_767 && (!name.contains('\\') || name.split('\\').all(|c| !c.is_empty()))
    }

    fn set_registry(&mut self, hw: PVOID, name: &Name, data: Data) {
        let named = World::name(name);
        let (pointer, length, bytes): (PVOID, u32, Vec<u8>) = match data {
            Data::Bytes { len, seed } => {
                let bytes = pattern(len as usize % 4097, u64::from(seed));
                (null_mut(), bytes.len() as u32, bytes)
            }
            Data::Big { kib } => {
                let bytes = pattern((kib as usize % 64 + 1) * 1024, u64::from(kib));
                (null_mut(), bytes.len() as u32, bytes)
            }
            Data::Null { len } => (null_mut(), len, Vec::new()),
        };
        let null_data = matches!(data, Data::Null { .. });
        let mut wide = named.as_ref().map(|n| n.0.clone());
        let name_ptr = wide.as_mut().map_or(null_mut(), |w| w.as_mut_ptr());
        let data_ptr = if null_data {
            pointer
        } else {
            bytes.as_ptr() as PVOID
        };
        // SAFETY: exported C ABI; a terminated name (or NULL) and `length` readable bytes (or
        // NULL).
        let status = unsafe { VideoPortSetRegistryParameters(hw, name_ptr, data_ptr, length) };
        let codes = self.codes();
        let text = named.as_ref().map(|n| n.1.as_str());
        trace!(
            "Set {:?} {length} bytes: {status:?} {codes:x?}",
            text.map(|t| &t[..t.len().min(40)])
        );
        let valid = self.passive()
            && self.known(hw)
            && text.is_some_and(|t| {
                World::name_ok(t)
                    && !t
                        .get(..16)
                        .is_some_and(|p| p.eq_ignore_ascii_case("DefaultSettings."))
            })
            && !(null_data && length != 0);
        if valid && !self.faults {
            assert_eq!(status, NO_ERROR, "Set {text:?} ({length} bytes)");
            assert!(
                codes.is_empty(),
                "Set with valid arguments reported {codes:?}"
            );
        }
        if !valid {
            assert_eq!(status, ERROR_INVALID_PARAMETER, "Set {text:?}");
        }
        if status == NO_ERROR {
            let text = text.expect("named");
            let stored = self
                .machine
                .registry_value(self.pdo_of(hw), text)
                .expect("the value is in the registry");
            assert_eq!(stored.kind, REG_BINARY);
            assert!(
                stored.data == bytes,
                "the registry holds exactly what was set"
            );
            self.registry
                .insert((hw as usize, text.to_lowercase()), bytes);
        }
    }

    fn get_registry(&mut self, hw: PVOID, name: &Name, file: bool, callback: Callback) {
        let named = World::name(name);
        let mut wide = named.as_ref().map(|n| n.0.clone());
        let name_ptr = wide.as_mut().map_or(null_mut(), |w| w.as_mut_ptr());
        GOT.lock().unwrap().clear();
        CALLBACK_FAILS.store(matches!(callback, Callback::Fails), Ordering::SeqCst);
        let routine: PMINIPORT_GET_REGISTRY_ROUTINE = match callback {
            Callback::Null => None,
            _ => Some(record),
        };
        // SAFETY: exported C ABI; a terminated name (or NULL) and the recording callback.
        let status = unsafe {
            VideoPortGetRegistryParameters(hw, name_ptr, file as u8, routine, 0xC0DE as PVOID)
        };
        let codes = self.codes();
        let got = std::mem::take(&mut *GOT.lock().unwrap());
        let text = named.as_ref().map(|n| n.1.as_str());
        trace!(
            "Get {:?} file {file}: {status:?}, {} callbacks {codes:x?}",
            text.map(|t| &t[..t.len().min(40)]),
            got.len()
        );
        let valid = self.passive()
            && self.known(hw)
            && text.is_some_and(World::name_ok)
            && !matches!(callback, Callback::Null);
        if !valid {
            assert_eq!(status, ERROR_INVALID_PARAMETER);
            assert!(got.is_empty(), "no callback for a refused call");
            return;
        }
        let text = text.expect("named");
        let stored = self.machine.registry_value(self.pdo_of(hw), text);
        if let Some(set) = self.registry.get(&(hw as usize, text.to_lowercase())) {
            let stored = stored.as_ref().expect("a value set stays");
            assert!(stored.data == *set, "the registry still holds what was set");
        }
        match (stored, file) {
            (None, _) => {
                assert_eq!(status, ERROR_INVALID_PARAMETER, "Get of a missing value");
                assert!(got.is_empty());
            }
            (Some(v), true) => {
                let string = v.kind == REG_SZ || v.kind == REG_EXPAND_SZ;
                let chars: Vec<u16> = v
                    .data
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .take_while(|&c| c != 0)
                    .collect();
                let path = String::from_utf16_lossy(&chars).to_lowercase();
                // An object name without a root directory is absolute (`\...`), or no name.
                let absolute = path.starts_with('\\');
                let contents = self.files.get(&path).filter(|_| string && absolute);
                let Some(contents) = contents else {
                    assert_eq!(status, ERROR_INVALID_PARAMETER, "no such file {path:?}");
                    assert!(got.is_empty(), "no callback without a file");
                    return;
                };
                if self.faults && got.is_empty() {
                    assert_eq!(status, ERROR_INVALID_PARAMETER);
                    return;
                }
                assert_eq!(got.len(), 1, "one callback with the file");
                let (h, context, data) = &got[0];
                assert_eq!((*h, *context), (hw as usize, 0xC0DE));
                assert!(data == contents, "the callback gets the whole file");
                let expected = if matches!(callback, Callback::Fails) {
                    ERROR_INVALID_PARAMETER
                } else {
                    NO_ERROR
                };
                assert_eq!(status, expected);
            }
            (Some(v), false) => {
                if self.faults && got.is_empty() {
                    assert_eq!(status, ERROR_INVALID_PARAMETER);
                    return;
                }
                assert_eq!(got.len(), 1, "one callback");
                let (h, context, data) = &got[0];
                assert_eq!((*h, *context), (hw as usize, 0xC0DE));
                assert!(*data == v.data, "Get reads back exactly what was set");
                let expected = if matches!(callback, Callback::Fails) {
                    ERROR_INVALID_PARAMETER
                } else {
                    NO_ERROR
                };
                assert_eq!(status, expected);
                if !self.faults {
                    assert!(
                        codes.is_empty(),
                        "Get with valid arguments reported {codes:?}"
                    );
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn file_value(
        &mut self,
        other: bool,
        name: &Name,
        path: u8,
        expand: bool,
        terminated: bool,
        odd: bool,
        exists: bool,
        len: u16,
    ) {
        let Some((_, text)) = World::name(name) else {
            return;
        };
        if !World::name_ok(&text) || text.len() > 64 {
            return;
        }
        let path = FILES[path as usize % FILES.len()];
        let mut data: Vec<u8> = path.encode_utf16().flat_map(u16::to_le_bytes).collect();
        if terminated {
            data.extend_from_slice(&[0, 0]);
        }
        if odd {
            data.push(b'x');
        }
        let kind = if expand { REG_EXPAND_SZ } else { REG_SZ };
        let (hw, pdo) = if other {
            (self.other.hw(), self.other.pdo)
        } else {
            (self.mine.hw(), self.mine.pdo)
        };
        self.machine.set_registry_value(pdo, &text, kind, &data);
        self.registry
            .insert((hw as usize, text.to_lowercase()), data);
        if exists && !path.is_empty() {
            let contents = pattern(len as usize % 8193, u64::from(len));
            self.machine.add_file(path, &contents);
            self.files.insert(path.to_lowercase(), contents);
        }
    }

    /// Checks the HwTimer ticks against the model; `drained`: everything due has run.
    fn check_timer(&self, drained: bool) {
        assert!(
            !TICK_IRQL_WRONG.load(Ordering::SeqCst),
            "HwTimer ran at another IRQL than DISPATCH_LEVEL"
        );
        let ticks = TICKS.load(Ordering::SeqCst);
        if self.timer.running {
            let due = self.timer.ticks
                + ((self.machine.clock_us() - self.timer.since_us) / 1_000_000) as u32;
            assert!(ticks <= due, "{ticks} ticks, only {due} due");
            if drained {
                assert_eq!(ticks, due, "every due tick ran");
            }
        } else {
            assert_eq!(ticks, self.timer.ticks, "a tick while the timer is stopped");
        }
    }

    fn timer_call(&mut self, hw: PVOID, start: bool) {
        let allowed = KeGetCurrentIrql() <= DISPATCH_LEVEL;
        // SAFETY: exported C ABI; the extension is validated.
        unsafe {
            if start {
                VideoPortStartTimer(hw);
            } else {
                VideoPortStopTimer(hw);
            }
        }
        let codes = self.codes();
        trace!(
            "Timer start {start}: {codes:x?}, {} ticks at {} us",
            TICKS.load(Ordering::SeqCst),
            self.machine.clock_us()
        );
        if !allowed {
            assert_eq!(codes, vec![(DMA_VIOLATION, IRQL_CODE)]);
            return;
        }
        if self.is_mine(hw) {
            assert!(codes.is_empty(), "timer call reported {codes:?}");
            let ticks = TICKS.load(Ordering::SeqCst);
            if start && !self.timer.running {
                self.timer = TimerModel {
                    running: true,
                    since_us: self.machine.clock_us(),
                    ticks,
                };
            } else if !start {
                self.timer = TimerModel {
                    running: false,
                    since_us: 0,
                    ticks,
                };
            }
        } else if hw == self.other.hw() {
            assert_eq!(codes, vec![port(port_code::MISSING_CALLBACK)], "no HwTimer");
        } else {
            assert_eq!(codes, vec![port(port_code::UNKNOWN_DEVICE_EXTENSION)]);
        }
    }

    /// (address, length) for a `Where` and a `Length`.
    fn place(&self, at: Where, length: Length) -> (u64, u64) {
        let bar = |b: u8| self.mine.bars[b as usize % 3];
        let address = match at {
            Where::Inside { bar: b, offset } => {
                let (base, size) = bar(b);
                base + u64::from(offset) % size
            }
            Where::NearEnd { bar: b, back } => {
                let (base, size) = bar(b);
                base + size - (u64::from(back) % size).max(1)
            }
            Where::Below { bar: b, by } => bar(b).0.wrapping_sub(u64::from(by).max(1)),
            Where::Anywhere(a) => a,
        };
        let length = match length {
            Length::Small(n) => u64::from(n),
            Length::Rest => self
                .mine
                .bars
                .iter()
                .find(|(base, size)| address >= *base && address < base + size)
                .map_or(4096, |(base, size)| base + size - address),
            Length::Zero => 0,
            Length::Huge(n) => u64::from(n | 0x8000_0000),
            Length::Pages(n) => u64::from(n % 17) * 4096,
        };
        (address, length)
    }

    /// The BAR (index, offset) holding `address..+length` in that space, if any.
    fn inside(&self, address: u64, length: u64, io: bool) -> Option<(usize, u64)> {
        self.mine
            .bars
            .iter()
            .enumerate()
            .find_map(|(i, (base, size))| {
                let bar_io = i == 2;
                (bar_io == io
                    && address >= *base
                    && address
                        .checked_add(length)
                        .is_some_and(|end| end <= base + size))
                .then(|| (i, address - base))
            })
    }

    /// Writes through a device base or mapping and checks the device got it; `at` picks the
    /// offset.
    fn reach(&self, m: Mapped, at: u64, seed: u8) {
        if m.length == 0 {
            return;
        }
        let k = at % m.length;
        let device_offset = m.offset + k;
        match m.bar {
            0 => {
                let n = (m.length - k).min(16) as usize;
                let bytes = pattern(n, u64::from(seed) + 1);
                if m.user {
                    let client = self.mine.client.as_ref().expect("a client");
                    let view = client
                        .mapping(m.va + k as usize, n)
                        .expect("a live user view in the client");
                    view.write(0, &bytes);
                } else {
                    // SAFETY: a live system-space view of device RAM of `m.length` bytes.
                    unsafe {
                        core::ptr::copy_nonoverlapping(
                            bytes.as_ptr(),
                            (m.va + k as usize) as *mut u8,
                            n,
                        )
                    };
                }
                let landed = self.mine.ram.to_vec(device_offset as usize, n);
                assert!(
                    landed == bytes,
                    "a write through the view reaches device RAM"
                );
                // And the other way round.
                let back: Vec<u8> = bytes.iter().map(|b| !b).collect();
                self.mine.ram.write(device_offset as usize, &back);
                let mut seen = vec![0; n];
                if m.user {
                    let client = self.mine.client.as_ref().expect("a client");
                    client
                        .mapping(m.va + k as usize, n)
                        .expect("live")
                        .read(0, &mut seen);
                } else {
                    // SAFETY: as above.
                    unsafe {
                        core::ptr::copy_nonoverlapping(
                            (m.va + k as usize) as *const u8,
                            seen.as_mut_ptr(),
                            n,
                        )
                    };
                }
                assert!(seen == back, "the view shows what the device wrote");
            }
            1 => {
                // The first 4-aligned register from k that fits.
                let k = k + (4 - device_offset % 4) % 4;
                if k + 4 > m.length {
                    return;
                }
                let register = ((m.offset + k) / 4) as usize;
                let value = u32::from(seed).wrapping_mul(0x0101_0101) ^ register as u32;
                let address = (m.va + k as usize) as *mut u32;
                // SAFETY: a register of the device mapped by the port.
                let read = unsafe {
                    VideoPortWriteRegisterUlong(address, value);
                    VideoPortReadRegisterUlong(address)
                };
                let stored = self
                    .machine
                    .with_pci_model::<FuzzDevice, _>(self.mine.pdo, |d| d.registers[register]);
                assert_eq!(stored, value, "a register write reaches the device");
                assert_eq!(read, value, "a register read reaches the device");
            }
            _ => {
                let port = device_offset as usize;
                let address = (m.va + k as usize) as *mut u8;
                // SAFETY: a port of the device, as the port handed it out.
                let read = unsafe {
                    VideoPortWritePortUchar(address, seed);
                    VideoPortReadPortUchar(address)
                };
                let stored = self
                    .machine
                    .with_pci_model::<FuzzDevice, _>(self.mine.pdo, |d| d.ports[port]);
                assert_eq!(
                    (stored, read),
                    (seed, seed),
                    "a port write reaches the device"
                );
            }
        }
        assert!(self.codes().is_empty(), "touching a live mapping reported");
    }

    fn device_base(&mut self, hw: PVOID, at: Where, length: Length, space: u8) {
        let (address, length) = self.place(at, length);
        let io = space & VIDEO_MEMORY_SPACE_IO as u8 != 0;
        let user = space & VIDEO_MEMORY_SPACE_USER_MODE as u8 != 0;
        let length32 = length.min(u64::from(u32::MAX)) as u32;
        // SAFETY: exported C ABI; any arguments are accepted.
        let va =
            unsafe { VideoPortGetDeviceBase(hw, PHYSICAL_ADDRESS::new(address), length32, space) };
        let codes = self.codes();
        trace!("GetDeviceBase {address:#x}+{length32:#x} space {space:#x}: {va:?} {codes:x?}");
        let target = self.inside(address, u64::from(length32), io);
        let expected = self.passive()
            && self.is_mine(hw)
            && length32 != 0
            && !user
            && target.is_some()
            && self.bases.live.len() < 32;
        if expected {
            assert!(!va.is_null(), "GetDeviceBase of {address:#x}+{length32:#x}");
            assert!(codes.is_empty(), "GetDeviceBase reported {codes:?}");
        } else {
            assert!(
                va.is_null(),
                "GetDeviceBase of {address:#x}+{length32:#x} granted"
            );
        }
        if let Some((bar, offset)) = target.filter(|_| !va.is_null()) {
            let m = Mapped {
                va: va as usize,
                length: u64::from(length32),
                bar,
                offset,
                user: false,
            };
            self.bases.live.push(m);
            self.reach(m, u64::from(space), space);
        }
    }

    fn free_device_base(&mut self, hw: PVOID, base: Handle) {
        let foreign = self.maps.live.first().map_or(0, |m| m.va);
        let (va, _) = self.bases.pick(base, |m| m.va, foreign);
        // SAFETY: exported C ABI; the address is looked up first.
        unsafe { VideoPortFreeDeviceBase(hw, va as PVOID) };
        let codes = self.codes();
        trace!("FreeDeviceBase {va:#x}: {codes:x?}");
        if !self.passive() || !self.is_mine(hw) {
            assert!(!codes.is_empty(), "a refused FreeDeviceBase is reported");
            return;
        }
        match self.bases.live.iter().position(|m| m.va == va && va != 0) {
            Some(i) => {
                assert!(
                    codes.is_empty(),
                    "FreeDeviceBase of a live base reported {codes:?}"
                );
                self.bases.release(i);
            }
            None => assert_eq!(codes, vec![port(port_code::UNKNOWN_MAPPING)]),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn map_memory(
        &mut self,
        hw: PVOID,
        at: Where,
        length: Length,
        space: u8,
        process: Process,
        in_client: bool,
        nulls: Option<u8>,
    ) {
        let (address, length) = self.place(at, length);
        let length32 = length.min(u64::from(u32::MAX)) as u32;
        let handle = match process {
            Process::Null => 0usize,
            Process::Current => usize::MAX,
            Process::Garbage(g) => g as usize,
        };
        let nulls = nulls.map_or(0, |n| n % 7 + 1);
        let call = move || {
            let (mut length, mut flags, mut va) = (length32, u32::from(space), handle as PVOID);
            let pointers = (
                if nulls & 1 != 0 {
                    null_mut()
                } else {
                    &mut length as PULONG
                },
                if nulls & 2 != 0 {
                    null_mut()
                } else {
                    &mut flags as PULONG
                },
                if nulls & 4 != 0 {
                    null_mut()
                } else {
                    &mut va as *mut PVOID
                },
            );
            // SAFETY: exported C ABI; each pointer is NULL or a live local.
            let status = unsafe {
                VideoPortMapMemory(
                    hw,
                    PHYSICAL_ADDRESS::new(address),
                    pointers.0,
                    pointers.1,
                    pointers.2,
                )
            };
            (status, va as usize, length)
        };
        let ((status, va, mapped), client) = if in_client {
            self.in_client(call)
        } else {
            (call(), false)
        };
        let codes = self.codes();
        trace!(
            "MapMemory {address:#x}+{length32:#x} space {space:#x} process {handle:#x} \
             nulls {nulls} (client {client}): {status:?} {va:#x}+{mapped:#x} {codes:x?}"
        );
        let io = space & VIDEO_MEMORY_SPACE_IO as u8 != 0;
        let user = space & VIDEO_MEMORY_SPACE_USER_MODE as u8 != 0 || handle != 0;
        let target = self.inside(address, u64::from(length32), io);
        let expected = self.passive()
            && self.is_mine(hw)
            && nulls == 0
            && length32 != 0
            && (handle == 0 || handle == usize::MAX)
            && !(io && user)
            && target.is_some_and(|(bar, _)| !user || (client && bar == 0));
        if expected && !self.faults {
            assert_eq!(status, NO_ERROR, "MapMemory of {address:#x}+{length32:#x}");
            assert!(codes.is_empty(), "MapMemory reported {codes:?}");
        }
        if !expected {
            assert_ne!(
                status, NO_ERROR,
                "MapMemory of {address:#x}+{length32:#x} granted"
            );
        }
        if status != NO_ERROR {
            return;
        }
        let (bar, offset) = target.expect("granted inside a BAR");
        if user {
            let end = (va + length32 as usize).next_multiple_of(4096);
            assert_eq!(
                mapped as usize,
                end - va,
                "a user view ends with its last page"
            );
        } else {
            assert_eq!(mapped, length32, "a system view has the length asked for");
        }
        let m = Mapped {
            va,
            length: u64::from(length32),
            bar,
            offset,
            user,
        };
        self.maps.live.push(m);
        self.reach(m, u64::from(space) * 31, space);
    }

    fn unmap_memory(&mut self, hw: PVOID, map: Handle, process: Process, in_client: bool) {
        let foreign = self.bases.live.first().map_or(0, |m| m.va);
        let (va, _) = self.maps.pick(map, |m| m.va, foreign);
        let handle = match process {
            Process::Null => 0usize,
            Process::Current => usize::MAX,
            Process::Garbage(g) => g as usize,
        };
        let call = move || {
            // SAFETY: exported C ABI; the address is looked up first.
            unsafe { VideoPortUnmapMemory(hw, va as PVOID, handle as HANDLE) }
        };
        let (status, client) = if in_client {
            self.in_client(call)
        } else {
            (call(), false)
        };
        let codes = self.codes();
        trace!("UnmapMemory {va:#x} process {handle:#x} (client {client}): {status:?} {codes:x?}");
        let handle_ok = handle == 0 || handle == usize::MAX;
        let found = self
            .maps
            .live
            .iter()
            .position(|m| m.va == va && if m.user { client } else { handle == 0 });
        let expected = self.passive() && self.is_mine(hw) && handle_ok && found.is_some();
        if expected {
            assert_eq!(status, NO_ERROR, "UnmapMemory of a live mapping");
            assert!(codes.is_empty(), "UnmapMemory reported {codes:?}");
            let i = found.expect("found");
            let m = self.maps.release(i);
            if m.user {
                let client = self.mine.client.as_ref().expect("a client");
                assert!(client.mapping(m.va, 1).is_none(), "the user view is gone");
            }
        } else {
            assert_eq!(status, ERROR_INVALID_PARAMETER, "UnmapMemory refused");
            assert!(!codes.is_empty(), "a refused UnmapMemory is reported");
        }
    }
}

fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Plugs the fuzz device and starts the miniport on it, HwFindAdapter making its fuzzed
/// GetAccessRanges call first (checked here).
fn start(machine: &Machine, find_entries: u8, find_null: bool) -> Started {
    let ram = DeviceMemory::new(RAM_BYTES as usize);
    let pdo = machine.plug_pci_device(Box::new(FuzzDevice {
        ram: ram.clone(),
        registers: vec![0; (REGISTER_BYTES / 4) as usize],
        ports: [0; PORTS as usize],
    }));
    *FIND_CALL.lock().unwrap() = (find_entries, find_null, NO_ERROR, Vec::new());
    FOUND_HW.store(0, Ordering::SeqCst);
    let driver = machine
        .load_driver("vprsfuzz", driver_entry)
        .expect("DriverEntry");
    let node = machine.start_device(&driver, pdo).expect("START");
    let hw = FOUND_HW.load(Ordering::SeqCst) as PVOID;
    let bar = |i| {
        let (_, base, size) = machine.pci_bar(pdo, i).expect("BAR");
        (base, size)
    };
    let bars = [bar(0), bar(1), bar(2)];
    // The fuzzed call: NULL array refused, too small an array filled and ERROR_MORE_DATA,
    // else every range and the rest zeroed.
    let (entries, null, status, got) = FIND_CALL.lock().unwrap().clone();
    let entries = entries as usize % 9;
    let codes: Vec<_> = machine
        .take_violations()
        .iter()
        .map(|v| (v.bugcheck, v.code))
        .collect();
    if null && entries > 0 {
        assert_eq!(status, ERROR_INVALID_PARAMETER);
        assert_eq!(codes, vec![port(port_code::NULL_ARGUMENT)]);
    } else {
        assert!(codes.is_empty(), "GetAccessRanges reported {codes:?}");
        let expected = if entries < 3 {
            ERROR_MORE_DATA
        } else {
            NO_ERROR
        };
        assert_eq!(status, expected, "GetAccessRanges with {entries} entries");
        for (i, r) in got.iter().enumerate() {
            let want = match i {
                i if i >= entries => (0xDEAD, 0, 0),
                i if i < 3 => (bars[i].1 as u32, bars[i].0, u8::from(i == 2)),
                _ => (0, 0, 0),
            };
            assert_eq!(
                (r.RangeLength, r.RangeStart.get(), r.RangeInIoSpace),
                want,
                "access range {i}"
            );
        }
    }
    // SAFETY: the extension HwFindAdapter filled, live while the device is started.
    let ranges = unsafe { (*hw.cast::<Extension>()).ranges };
    for (i, (base, size)) in bars.iter().enumerate() {
        assert_eq!(
            (ranges[i].RangeStart.get(), u64::from(ranges[i].RangeLength)),
            (*base, *size),
            "HwFindAdapter's access range {i}"
        );
    }
    Started {
        pdo,
        node: Some(node),
        driver: Some(driver),
        hw,
        bars,
        ram,
        client: None,
    }
}

fn run(input: &Input) {
    let placement = if input.user_memory_high {
        Placement::Above4G
    } else {
        Placement::Interleaved
    };
    let machine = Machine::new(MachineConfig {
        user_memory: placement,
        max_map_registers_per_adapter: u32::from(input.map_registers % 32) + 1,
        ..MachineConfig::default()
    });
    let _cpu = machine.enter();
    DELIVERED.lock().unwrap().clear();
    TICKS.store(0, Ordering::SeqCst);
    TICK_IRQL_WRONG.store(false, Ordering::SeqCst);
    let mine = start(&machine, input.find_entries, input.find_null);
    let other = Attached::new(&machine, "other bus master");
    let mut world = World {
        machine: machine.clone(),
        mine,
        other,
        foreign_adapter: 0,
        foreign_mdl: 0,
        adapters: Pool::default(),
        mdls: Pool::default(),
        commons: Pool::default(),
        lists: Pool::default(),
        blocks: Pool::default(),
        events: Pool::default(),
        locks: Pool::default(),
        foreign_event: 0,
        foreign_lock: 0,
        users: Vec::new(),
        irqls: Vec::new(),
        token: 0,
        bases: Pool::default(),
        maps: Pool::default(),
        registry: HashMap::new(),
        files: HashMap::new(),
        faults: false,
        timer: TimerModel::default(),
    };
    // The other device's adapter and locked buffer: the foreign handles.
    let other_hw = world.other.hw();
    let mut desc = VP_DEVICE_DESCRIPTION {
        ScatterGather: 1,
        Dma32BitAddresses: 1,
        Dma64BitAddresses: 0,
        MaximumLength: 1 << 16,
    };
    // SAFETY: exported C ABI with a valid description.
    world.foreign_adapter = unsafe { VideoPortGetDmaAdapter(other_hw, &mut desc) } as usize;
    world.foreign_mdl = world.lock(other_hw, 100, 10, true);
    let mut event: PEVENT = null_mut();
    // SAFETY: exported C ABI; a live output variable.
    unsafe { VideoPortCreateEvent(other_hw, 0, null_mut(), &mut event) };
    world.foreign_event = event as usize;
    let mut lock: PSPIN_LOCK = null_mut();
    // SAFETY: as above.
    unsafe { VideoPortCreateSpinLock(other_hw, &mut lock) };
    world.foreign_lock = lock as usize;

    for op in input.ops.iter().take(MAX_OPS) {
        match *op {
            Op::GetAdapter {
                dev,
                scatter_gather,
                dma64,
                maximum_length,
            } => world.get_adapter(world.hw(dev), scatter_gather, dma64, maximum_length),
            Op::PutAdapter { dev, adapter } => {
                let (a, live) = world.adapters.pick(adapter, |a| *a, world.foreign_adapter);
                let hw = world.hw(dev);
                // SAFETY: exported C ABI; any arguments are accepted.
                unsafe { VideoPortPutDmaAdapter(hw, a as PVP_DMA_ADAPTER) };
                if let (Some(i), true, true) = (live, hw == world.mine.hw(), world.passive()) {
                    world.adapters.release(i);
                }
            }
            Op::AllocateCommon {
                dev,
                adapter,
                length,
            } => {
                let (a, _) = world.adapters.pick(adapter, |a| *a, world.foreign_adapter);
                let hw = world.hw(dev);
                let mut logical = PHYSICAL_ADDRESS(0);
                // SAFETY: exported C ABI; a live output variable.
                let va = unsafe {
                    VideoPortAllocateCommonBuffer(
                        hw,
                        a as PVP_DMA_ADAPTER,
                        u32::from(length),
                        &mut logical,
                        FALSE,
                        null_mut(),
                    )
                };
                if !va.is_null() {
                    // SAFETY: the port returned `length` bytes of common buffer.
                    unsafe { core::ptr::write_bytes(va.cast::<u8>(), 0xA5, length as usize) };
                    world.commons.live.push(Common {
                        adapter: a,
                        va: va as usize,
                        logical: logical.0,
                        length: u32::from(length),
                    });
                }
            }
            Op::ReleaseCommon {
                dev,
                adapter,
                buffer,
                wrong_length,
            } => {
                let (_, live) = world.commons.pick(buffer, |c| c.va, 0);
                let common = match (live, buffer) {
                    (Some(i), _) => world.commons.live[i],
                    (None, Handle::Stale(i)) if !world.commons.stale.is_empty() => {
                        world.commons.stale[i as usize % world.commons.stale.len()]
                    }
                    (None, Handle::Garbage(g)) => Common {
                        adapter: g as usize,
                        va: g.rotate_left(17) as usize,
                        logical: g as i64,
                        length: g as u32,
                    },
                    _ => Common {
                        adapter: 0,
                        va: 0,
                        logical: 0,
                        length: 0,
                    },
                };
                let (a, _) = match adapter {
                    Handle::Live(_) => (common.adapter, None),
                    other => world.adapters.pick(other, |a| *a, world.foreign_adapter),
                };
                let hw = world.hw(dev);
                let length = common.length.wrapping_add(u32::from(wrong_length));
                // SAFETY: exported C ABI; any arguments are accepted.
                unsafe {
                    VideoPortReleaseCommonBuffer(
                        hw,
                        a as PVP_DMA_ADAPTER,
                        length,
                        PHYSICAL_ADDRESS(common.logical),
                        common.va as PVOID,
                        FALSE,
                    )
                };
                let exact = hw == world.mine.hw() && a == common.adapter && !wrong_length;
                if let (Some(i), true, true) = (live, exact, world.passive()) {
                    world.commons.release(i);
                }
            }
            Op::Lock {
                dev,
                length,
                offset,
                to_device,
            } => {
                let hw = world.hw(dev);
                world.lock(
                    hw,
                    length as usize % MAX_BUFFER,
                    offset as usize % 4096,
                    to_device,
                );
            }
            Op::Unlock { dev, mdl } => {
                let (m, live) = world.mdls.pick(mdl, |l| l.mdl, world.foreign_mdl);
                let hw = world.hw(dev);
                let outstanding = !world.lists.live.is_empty();
                // SAFETY: exported C ABI; any arguments are accepted.
                unsafe { VideoPortUnlockBuffer(hw, m as PVOID) };
                // With a list outstanding the port may refuse; keep the MDL as live then.
                if let (Some(i), true, false) = (live, hw == world.mine.hw(), outstanding) {
                    if KeGetCurrentIrql() <= DISPATCH_LEVEL {
                        world.mdls.release(i);
                    }
                }
            }
            Op::Transfer { adapter, mdl } => {
                if world.adapters.live.is_empty() || world.mdls.live.is_empty() {
                    continue;
                }
                if KeGetCurrentIrql() > DISPATCH_LEVEL {
                    continue;
                }
                let a = world.adapters.live[adapter as usize % world.adapters.live.len()];
                let m = world.mdls.live[mdl as usize % world.mdls.live.len()];
                if m.length == 0 {
                    continue;
                }
                world.transfer(a, m);
            }
            Op::Start {
                dev,
                adapter,
                mdl,
                offset,
                length,
                to_device,
            } => {
                let (a, _) = world.adapters.pick(adapter, |a| *a, world.foreign_adapter);
                let (m, _) = world.mdls.pick(mdl, |l| l.mdl, world.foreign_mdl);
                let hw = world.hw(dev);
                let mut length = u32::from(length);
                // SAFETY: exported C ABI; a live length variable; the rest is checked.
                unsafe {
                    VideoPortStartDma(
                        hw,
                        a as PVP_DMA_ADAPTER,
                        m as PVOID,
                        u32::from(offset),
                        &mut length,
                        Some(execute),
                        null_mut(),
                        to_device as u8,
                    )
                };
                if world.passive() {
                    world.machine.run_until_idle();
                }
                world.collect_deliveries();
            }
            Op::Complete {
                dev,
                adapter,
                list,
                to_device,
            } => {
                let (l, live) = world.lists.pick(list, |l| l.1, 0);
                let (a, _) = match (adapter, live) {
                    (Handle::Live(_), Some(i)) => (world.lists.live[i].0, None),
                    (h, _) => world.adapters.pick(h, |a| *a, world.foreign_adapter),
                };
                let hw = world.hw(dev);
                // SAFETY: exported C ABI; handles are checked before use.
                let status = unsafe {
                    VideoPortCompleteDma(
                        hw,
                        a as PVP_DMA_ADAPTER,
                        l as PVP_SCATTER_GATHER_LIST,
                        to_device as u8,
                    )
                };
                if let (Some(i), true) = (live, status == NO_ERROR) {
                    world.lists.release(i);
                }
            }
            Op::AllocatePool { dev, length } => {
                let hw = world.hw(dev);
                // SAFETY: exported C ABI.
                let p = unsafe {
                    VideoPortAllocatePool(
                        hw,
                        VP_POOL_TYPE::VpNonPagedPool,
                        length as usize,
                        u32::from_le_bytes(*b"Fuzz"),
                    )
                };
                if !p.is_null() {
                    // SAFETY: the port returned `length` bytes of pool.
                    unsafe { core::ptr::write_bytes(p.cast::<u8>(), 0x5A, length as usize) };
                    if hw == world.mine.hw() || hw == world.other.hw() {
                        world.blocks.live.push((hw as usize, p as usize));
                    }
                }
            }
            Op::FreePool { dev, block } => {
                let (p, live) = world.blocks.pick(block, |b| b.1, 0);
                let hw = world.hw(dev);
                // SAFETY: exported C ABI; the block is checked before use.
                unsafe { VideoPortFreePool(hw, p as PVOID) };
                let owner = live.is_some_and(|i| world.blocks.live[i].0 == hw as usize);
                if let (Some(i), true, true) = (live, owner, KeGetCurrentIrql() <= DISPATCH_LEVEL) {
                    world.blocks.release(i);
                }
            }
            Op::CreateEvent { dev, flags } => {
                let hw = world.hw(dev);
                let mut event: PEVENT = null_mut();
                // SAFETY: exported C ABI; a live output variable.
                let status =
                    unsafe { VideoPortCreateEvent(hw, u32::from(flags), null_mut(), &mut event) };
                assert_eq!(
                    status == NO_ERROR,
                    !event.is_null(),
                    "an event iff NO_ERROR"
                );
                if !event.is_null() && hw == world.mine.hw() {
                    world.events.live.push(event as usize);
                }
            }
            Op::Event { dev, event, what } => {
                let (e, live) = world.events.pick(event, |e| *e, world.foreign_event);
                let hw = world.hw(dev);
                let e = e as PEVENT;
                // SAFETY: exported C ABI; handles are looked up before use.
                unsafe {
                    match what {
                        EventCall::Set => {
                            VideoPortSetEvent(hw, e);
                        }
                        EventCall::Clear => VideoPortClearEvent(hw, e),
                        EventCall::ReadState => {
                            VideoPortReadStateEvent(hw, e);
                        }
                        EventCall::WaitNoTimeout => {
                            let mut zero = PHYSICAL_ADDRESS(0);
                            VideoPortWaitForSingleObject(hw, e.cast(), &mut zero);
                        }
                        EventCall::Delete => {
                            let status = VideoPortDeleteEvent(hw, e);
                            if let (Some(i), NO_ERROR) = (live, status) {
                                world.events.release(i);
                            }
                        }
                    }
                }
            }
            Op::CreateSpinLock { dev } => {
                let hw = world.hw(dev);
                let mut lock: PSPIN_LOCK = null_mut();
                // SAFETY: exported C ABI; a live output variable.
                let status = unsafe { VideoPortCreateSpinLock(hw, &mut lock) };
                assert_eq!(status == NO_ERROR, !lock.is_null(), "a lock iff NO_ERROR");
                if !lock.is_null() && hw == world.mine.hw() {
                    world.locks.live.push(lock as usize);
                }
            }
            Op::SpinLock { dev, lock, what } => {
                let (l, live) = world.locks.pick(lock, |l| *l, world.foreign_lock);
                let hw = world.hw(dev);
                let l = l as PSPIN_LOCK;
                let before = KeGetCurrentIrql();
                // SAFETY: exported C ABI; handles are looked up before use. A refused acquire
                // is followed by a release the port refuses the same way.
                unsafe {
                    match what {
                        LockCall::AcquireRelease => {
                            let mut old = 0u8;
                            VideoPortAcquireSpinLock(hw, l, &mut old);
                            VideoPortReleaseSpinLock(hw, l, old);
                        }
                        LockCall::AtDpcLevel => {
                            VideoPortAcquireSpinLockAtDpcLevel(hw, l);
                            VideoPortReleaseSpinLockFromDpcLevel(hw, l);
                        }
                        LockCall::Delete => {
                            let status = VideoPortDeleteSpinLock(hw, l);
                            if let (Some(i), NO_ERROR) = (live, status) {
                                world.locks.release(i);
                            }
                        }
                    }
                }
                assert_eq!(KeGetCurrentIrql(), before, "the IRQL is back where it was");
            }
            Op::Raise(level) => {
                let to = match level % 3 {
                    0 => APC_LEVEL,
                    1 => DISPATCH_LEVEL,
                    _ => 5 + level % 8,
                };
                let current = KeGetCurrentIrql();
                if to >= current {
                    // SAFETY: raising from the current IRQL; lowered in order below.
                    world.irqls.push(unsafe { KeRaiseIrql(to) });
                }
            }
            Op::Lower => {
                if let Some(back) = world.irqls.pop() {
                    // SAFETY: back to the IRQL the matching raise started from.
                    unsafe { KeLowerIrql(back) };
                }
            }
            Op::Fault { kind, nth } => {
                let kind = match kind {
                    Fault::Pool => FaultKind::PoolAllocation,
                    Fault::Mdl => FaultKind::MdlAllocation,
                    Fault::Adapter => FaultKind::AdapterRequest,
                    Fault::ScatterGather => FaultKind::ScatterGatherList,
                    Fault::CommonBuffer => FaultKind::CommonBuffer,
                    Fault::UserMapping => FaultKind::UserMapping,
                };
                world.machine.fail_nth(kind, u64::from(nth % 4) + 1);
                world.faults = true;
            }
            Op::Idle => {
                if world.passive() {
                    world.machine.run_until_idle();
                    world.collect_deliveries();
                    world.check_timer(true);
                }
            }
            Op::SetRegistry {
                dev,
                ref name,
                data,
            } => {
                world.codes();
                world.set_registry(world.hw(dev), name, data);
            }
            Op::FileValue {
                other,
                ref name,
                path,
                expand,
                terminated,
                odd,
                exists,
                len,
            } => world.file_value(other, name, path, expand, terminated, odd, exists, len),
            Op::GetRegistry {
                dev,
                ref name,
                file,
                callback,
            } => {
                world.codes();
                world.get_registry(world.hw(dev), name, file, callback);
            }
            Op::FlushRegistry { dev } => {
                let hw = world.hw(dev);
                // SAFETY: exported C ABI; the extension is validated.
                let status = unsafe { VideoPortFlushRegistry(hw) };
                let expected = if world.passive() && world.known(hw) {
                    NO_ERROR
                } else {
                    ERROR_INVALID_PARAMETER
                };
                assert_eq!(status, expected, "FlushRegistry");
            }
            Op::Timer { dev, start } => {
                world.codes();
                world.timer_call(world.hw(dev), start);
            }
            Op::Advance(n) => {
                if world.passive() {
                    world.machine.advance_clock(u64::from(n % 16) * 250_000);
                    world.collect_deliveries();
                    world.check_timer(true);
                }
            }
            Op::DeviceBase {
                dev,
                at,
                length,
                space,
                times,
            } => {
                for _ in 0..=times % 8 {
                    world.codes();
                    world.device_base(world.hw(dev), at, length, space);
                }
            }
            Op::CloseClient => {
                if world.passive() {
                    if let Some(client) = world.mine.client.take() {
                        world.codes();
                        client.close();
                        let left: Vec<usize> = world
                            .machine
                            .take_violations()
                            .iter()
                            .map(|v| {
                                assert_eq!(
                                    (v.bugcheck, v.code, v.routine),
                                    (VIDEOPRT_RS_CHECK, port_code::OBJECT_LEFT, "IRP_MJ_CLEANUP"),
                                    "only the user mappings left are reported"
                                );
                                v.params[1] as usize
                            })
                            .collect();
                        let mut users: Vec<usize> = world
                            .maps
                            .live
                            .iter()
                            .filter(|m| m.user)
                            .map(|m| m.va)
                            .collect();
                        let mut left = left;
                        left.sort_unstable();
                        users.sort_unstable();
                        assert_eq!(left, users, "each user mapping left is undone and reported");
                        while let Some(i) = world.maps.live.iter().position(|m| m.user) {
                            world.maps.release(i);
                        }
                    }
                }
            }
            Op::FreeDeviceBase { dev, base } => {
                world.codes();
                world.free_device_base(world.hw(dev), base);
            }
            Op::MapMemory {
                dev,
                at,
                length,
                space,
                process,
                in_client,
                nulls,
            } => {
                world.codes();
                world.map_memory(world.hw(dev), at, length, space, process, in_client, nulls);
            }
            Op::UnmapMemory {
                dev,
                map,
                process,
                in_client,
            } => {
                world.codes();
                world.unmap_memory(world.hw(dev), map, process, in_client);
            }
            Op::Touch {
                mapping,
                which,
                offset,
                seed,
            } => {
                let pool = if mapping { &world.maps } else { &world.bases };
                if !pool.live.is_empty() {
                    let m = pool.live[which as usize % pool.live.len()];
                    world.codes();
                    world.reach(m, u64::from(offset), seed);
                }
            }
            Op::AccessRanges { dev, entries, null } => {
                let hw = world.hw(dev);
                let mut ranges = [VIDEO_ACCESS_RANGE::default(); 8];
                let array = if null {
                    null_mut()
                } else {
                    ranges.as_mut_ptr()
                };
                world.codes();
                // SAFETY: exported C ABI; the array (if any) holds 8 >= entries % 9 entries.
                let status = unsafe {
                    VideoPortGetAccessRanges(
                        hw,
                        0,
                        null_mut(),
                        u32::from(entries % 9),
                        array,
                        null_mut(),
                        null_mut(),
                        null_mut(),
                    )
                };
                assert_eq!(status, ERROR_INVALID_PARAMETER, "only in HwFindAdapter");
                let codes = world.codes();
                if world.passive() && world.is_mine(hw) {
                    assert_eq!(codes, vec![port(port_code::NOT_IN_FIND_ADAPTER)]);
                }
            }
        }
        world.check_timer(false);
    }
    // Back to PASSIVE_LEVEL, pending work run, pool handed back; then removal.
    while let Some(back) = world.irqls.pop() {
        // SAFETY: as in Op::Lower.
        unsafe { KeLowerIrql(back) };
    }
    world.machine.run_until_idle();
    world.collect_deliveries();
    world.check_timer(true);
    for (hw, p) in std::mem::take(&mut world.blocks.live) {
        // SAFETY: exported C ABI; a block this device allocated and has not freed.
        unsafe { VideoPortFreePool(hw as PVOID, p as PVOID) };
    }
    let node = world.mine.node.take().expect("started");
    let client = world.mine.client.take();
    match (input.ending % 3, client) {
        (1, Some(client)) => {
            // Vetoed while the client is open; the device stays and still answers.
            assert_eq!(
                world.machine.remove_device(node.clone()),
                STATUS_DEVICE_BUSY,
                "REMOVE_DEVICE with a handle open"
            );
            let ok = client.ioctl(IOCTL_RUN, &[], &mut []);
            assert_eq!(
                ok,
                Err(STATUS_INVALID_DEVICE_REQUEST),
                "HwStartIO still answers"
            );
            client.close();
            assert_eq!(world.machine.remove_device(node), STATUS_SUCCESS);
        }
        (2, client) => {
            // Surprise removal: REMOVE_DEVICE waits for the last handle.
            let status = world.machine.surprise_remove_device(node);
            match client {
                Some(client) => {
                    assert_eq!(status, STATUS_PENDING, "REMOVE waits for the client");
                    client.close();
                }
                None => assert_eq!(status, STATUS_SUCCESS),
            }
        }
        (_, client) => {
            if let Some(client) = client {
                client.close();
            }
            assert_eq!(
                world.machine.remove_device(node),
                STATUS_SUCCESS,
                "REMOVE_DEVICE"
            );
        }
    }
    world
        .machine
        .unload_driver(world.mine.driver.take().expect("loaded"));
    let ticks = TICKS.load(Ordering::SeqCst);
    world.machine.advance_clock(3_000_000);
    assert_eq!(TICKS.load(Ordering::SeqCst), ticks, "a tick after removal");
    world.other.detach();
    for user in world.users.drain(..) {
        world.machine.user_free(user);
    }
    world.machine.run_until_idle();
    let leaks = world.machine.leaks();
    assert!(leaks.is_empty(), "left after removal:\n{leaks}");
    world.machine.take_violations();
}

fuzz_target!(|input: Input| run(&input));
