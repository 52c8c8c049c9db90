//! The port core: how videoprt-rs hosts a PnP video miniport. One file per family:
//!
//! | file | functions |
//! |---|---|
//! | `initialize.rs` | VideoPortInitialize; DriverUnload |
//! | `driver_data.rs` | where a driver's registration lives (driver-object extension, or the port's table on kernels without them) |
//! | `pnp.rs` | AddDevice; IRP_MJ_PNP (start, stop, remove, bus relations, pass-down), IRP_MJ_SYSTEM_CONTROL; VideoPortGetAssociatedDeviceExtension |
//! | `child.rs` | child devices: HwGetVideoChildDescriptor, child PDOs and their PnP queries, VideoPortEnumerateChildren |
//! | `power.rs` | IRP_MJ_POWER for the adapter and its children → HwGetPowerState/HwSetPowerState |
//! | `ddc.rs` | VideoPortDDCMonitorHelper (EDID over the miniport's I2C lines) |
//! | `dispatch.rs` | IRP_MJ_CREATE/CLEANUP/CLOSE, IRP_MJ_DEVICE_CONTROL → VIDEO_REQUEST_PACKET → HwStartIO |
//! | `resources.rs` | VideoPortGetAccessRanges, VideoPortVerifyAccessRanges, VideoPortGetDeviceBase, VideoPortFreeDeviceBase |
//! | `map_memory.rs` | VideoPortMapMemory, VideoPortUnmapMemory (system space or the calling process) |
//! | `registers.rs` | VideoPortRead/Write{Register,Port}{Uchar,Ushort,Ulong} and the Buffer variants |
//! | `interrupt.rs` | the ISR trampoline, VideoPortQueueDpc, VideoPortSynchronizeExecution |
//! | `memory.rs` | VideoPortZeroMemory, VideoPortMoveMemory, VideoPortCompareMemory, VideoPortStallExecution, VideoPortInterlocked* |
//! | `bus.rs` | VideoPortGetBusData, VideoPortSetBusData, VideoPortGetVgaStatus (PCI config space through the PDO's BUS_INTERFACE_STANDARD) |
//! | `device_existence.rs` | VideoPortCheckForDeviceExistence (and its misspelt twin ...Existance): a scan of every PCI bus |
//! | `device_data.rs` | VideoPortGetDeviceData (the registry's hardware description tree) |
//! | `registry.rs` | VideoPortGetRegistryParameters, VideoPortSetRegistryParameters, VideoPortFlushRegistry (the device's driver key) |
//! | `version.rs` | VideoPortGetVersion (RtlGetVersion) |
//! | `debug.rs` | VideoPortDebugPrint (C, `csrc/debug_print.c`) |
//! | `pool.rs` | VideoPortAllocatePool, VideoPortFreePool, VideoPortAllocateBuffer, VideoPortReleaseBuffer |
//! | `event.rs` | VideoPortCreateEvent, DeleteEvent, SetEvent, ClearEvent, ReadStateEvent, WaitForSingleObject |
//! | `spin_lock.rs` | VideoPortCreateSpinLock, DeleteSpinLock, AcquireSpinLock(AtDpcLevel), ReleaseSpinLock(FromDpcLevel) |
//! | `time.rs` | VideoPortGetCurrentIrql, VideoPortQuerySystemTime, VideoPortQueryPerformanceCounter |
//! | `timer.rs` | VideoPortStartTimer, VideoPortStopTimer (HwTimer once a second, over the FDO's I/O timer) |
//! | `device_lock.rs` | VideoPortAcquireDeviceLock, VideoPortReleaseDeviceLock (the HwStartIO lock) |
//! | `rom.rs` | VideoPortGetRomImage, VideoPortScanRom (obsolete) |
//! | `bugcheck.rs` | VideoPortRegisterBugcheckCallback (the miniport's data in the crash dump, over a bug check reason callback) |
//! | `log.rs` | VideoPortLogError (the system error log; queued to a DPC from above DISPATCH_LEVEL) |
//! | `objects.rs` | the pool blocks, events and spin locks of each device: handle checks, reclaim at removal |
//! | `services.rs` | VideoPortQueryServices (the INT 10h interface; AGP, I2C and the rest not provided) |
//! | `int10.rs` | VideoPortInt10 and the INT 10h interface's services, over the HAL's x86 BIOS emulator |
//! | `proc_address.rs` | `VIDEO_PORT_CONFIG_INFO.VideoPortGetProcAddress`: any export of videoprt_rs.sys by name |
//!
//! Per device, [`PortState`] (a field of [`PortDevice`]) holds the lower device, the
//! resources of the last START, the device-memory mappings handed out, the connected
//! interrupt and the miniport DPC. Decisions (resource parsing, range checks, status mapping)
//! are plain Rust that runs on the host against ntsim; the `extern "ntapi"` exports only
//! validate and call them.

// Parameter names follow the video.h prototypes, so each export reads like its documentation.
#![allow(non_snake_case, non_upper_case_globals)]

pub mod bugcheck;
pub mod bus;
pub mod child;
pub mod ddc;
pub mod debug;
pub mod device_data;
pub mod device_existence;
pub mod device_lock;
pub mod dispatch;
pub mod driver_data;
pub mod event;
pub mod initialize;
pub mod int10;
pub mod interrupt;
pub mod log;
pub mod map_memory;
pub mod memory;
pub(crate) mod objects;
pub mod pnp;
pub mod pool;
pub mod power;
pub mod proc_address;
pub mod registers;
pub mod registry;
pub mod resources;
pub mod rom;
pub mod services;
pub mod spin_lock;
pub mod time;
pub mod timer;
pub mod version;

use crate::device::PortDevice;
use crate::sync::{HighLock, SpinLock};
use core::cell::UnsafeCell;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, Ordering};
use ddk_sys::*;
use initialize::DriverExtension;
use resources::{Claims, Mappings, Resources};

/// Lifecycle of a port device.
pub(crate) mod state {
    /// AddDevice done; not started (or start failed, or stopped).
    pub const ADDED: u32 = 0;
    /// Inside HwFindAdapter: the resource functions that only it may call are allowed.
    pub const FINDING: u32 = 1;
    /// HwInitialize succeeded; IOCTLs go to HwStartIO.
    pub const STARTED: u32 = 2;
    /// Surprise-removed: hardware gone, waiting for REMOVE.
    pub const GONE: u32 = 3;
}

/// The port core's per-device state.
pub struct PortState {
    pub(crate) driver: AtomicPtr<DriverExtension>,
    pub(crate) lower: AtomicPtr<DEVICE_OBJECT>,
    pub(crate) state: AtomicU32,
    pub(crate) resources: SpinLock<Resources>,
    pub(crate) mappings: SpinLock<Mappings>,
    pub(crate) claims: SpinLock<Claims>,
    pub(crate) interrupt: AtomicPtr<KINTERRUPT>,
    /// The bus driver's BUS_INTERFACE_STANDARD, queried at START (referenced until stop).
    pub(crate) bus: SpinLock<Option<BUS_INTERFACE_STANDARD>>,
    /// The one DPC VideoPortQueueDpc uses (as videoprt: queuing it again while queued fails).
    pub(crate) dpc: UnsafeCell<KDPC>,
    /// Serialises HwStartIO calls (a synchronization event, signalled = free).
    pub(crate) start_io: UnsafeCell<KEVENT>,
    /// The miniport's pool blocks, events and spin locks.
    pub(crate) objects: SpinLock<objects::Objects>,
    /// The FDO has an I/O timer for HwTimer.
    pub(crate) timer_ready: AtomicBool,
    /// The miniport holds the device lock (VideoPortAcquireDeviceLock).
    pub(crate) device_lock_held: AtomicBool,
    /// Error-log entries from above DISPATCH_LEVEL, and the DPC that writes them.
    pub(crate) log: HighLock<log::PendingLog>,
    pub(crate) log_dpc: UnsafeCell<KDPC>,
    /// The buffer VideoPortGetRomImage last returned (freed by the next call or at stop).
    pub(crate) rom_image: AtomicPtr<core::ffi::c_void>,
    /// The miniport's bug check hook (VideoPortRegisterBugcheckCallback).
    pub(crate) bugcheck: bugcheck::Hook,
    /// The INT 10h interface's references and buffer (VideoPortQueryServices).
    pub(crate) int10: int10::Int10State,
    /// The child devices the miniport reported (HwGetVideoChildDescriptor).
    pub(crate) children: SpinLock<child::ChildTable>,
    /// Power state and the system transition in progress.
    pub(crate) power: power::PowerState,
}

impl PortState {
    pub(crate) const fn new() -> Self {
        // SAFETY: all-zero bytes are a valid KDPC and KEVENT (initialised in `init`).
        let (dpc, event, log_dpc) = unsafe {
            (
                core::mem::zeroed(),
                core::mem::zeroed(),
                core::mem::zeroed(),
            )
        };
        PortState {
            driver: AtomicPtr::new(null_mut()),
            lower: AtomicPtr::new(null_mut()),
            state: AtomicU32::new(state::ADDED),
            resources: SpinLock::new(Resources::new()),
            mappings: SpinLock::new(Mappings::new()),
            claims: SpinLock::new(Claims::new()),
            interrupt: AtomicPtr::new(null_mut()),
            bus: SpinLock::new(None),
            dpc: UnsafeCell::new(dpc),
            start_io: UnsafeCell::new(event),
            objects: SpinLock::new(objects::Objects::new()),
            timer_ready: AtomicBool::new(false),
            device_lock_held: AtomicBool::new(false),
            log: HighLock::new(log::PendingLog::new()),
            log_dpc: UnsafeCell::new(log_dpc),
            rom_image: AtomicPtr::new(null_mut()),
            bugcheck: bugcheck::Hook::new(),
            int10: int10::Int10State::new(),
            children: SpinLock::new(child::ChildTable::new()),
            power: power::PowerState::new(),
        }
    }

    /// Initialises the kernel objects in place.
    ///
    /// # Safety
    /// `device` is the PortDevice holding `self`, at its final address.
    pub(crate) unsafe fn init(&self, device: *mut PortDevice) {
        // SAFETY: the objects live inside the device, whose address is stable until detach.
        unsafe {
            KeInitializeDpc(
                self.dpc.get(),
                Some(interrupt::dpc_trampoline),
                device.cast(),
            );
            KeInitializeEvent(self.start_io.get(), EVENT_TYPE::SynchronizationEvent, TRUE);
            KeInitializeDpc(self.log_dpc.get(), Some(log::log_dpc), device.cast());
        }
        self.bugcheck.set_device(device);
    }

    pub(crate) fn state(&self) -> u32 {
        self.state.load(Ordering::Acquire)
    }

    pub(crate) fn set_state(&self, s: u32) {
        self.state.store(s, Ordering::Release);
    }

    /// The miniport's initialization data (NULL for devices not made by AddDevice).
    pub(crate) fn driver(&self) -> Option<&DriverExtension> {
        // SAFETY: the driver-object extension lives as long as the driver object, which
        // outlives its devices.
        unsafe { self.driver.load(Ordering::Acquire).as_ref() }
    }
}

/// The NTSTATUS an IRP completes with for the miniport's VP_STATUS.
pub fn vp_to_ntstatus(status: VP_STATUS) -> NTSTATUS {
    match status {
        NO_ERROR => STATUS_SUCCESS,
        ERROR_INVALID_FUNCTION => STATUS_INVALID_DEVICE_REQUEST,
        ERROR_NOT_ENOUGH_MEMORY => STATUS_INSUFFICIENT_RESOURCES,
        ERROR_DEV_NOT_EXIST => STATUS_DEVICE_DOES_NOT_EXIST,
        ERROR_INVALID_PARAMETER => STATUS_INVALID_PARAMETER,
        ERROR_INSUFFICIENT_BUFFER => STATUS_BUFFER_TOO_SMALL,
        ERROR_MORE_DATA => STATUS_BUFFER_OVERFLOW,
        ERROR_BUSY => STATUS_DEVICE_BUSY,
        _ => STATUS_UNSUCCESSFUL,
    }
}
