//! The I/O manager and PnP subset a port driver needs: driver load and unload, device objects
//! and stacks, IRPs, interrupt objects, and a user-mode client.
//!
//! C interface simulated: `IoCreateDevice`, `IoDeleteDevice`, `IoAttachDeviceToDeviceStack`,
//! `IoDetachDevice`, `IofCallDriver`, `IofCompleteRequest`, `IoAllocateDriverObjectExtension`,
//! `IoGetDriverObjectExtension` ([`device`], [`irp`]), `IoConnectInterrupt`,
//! `IoDisconnectInterrupt`, `KeFlushQueuedDpcs` ([`interrupt`]), and the project hook
//! `NtsimDebugPrint` ([`debug`]).
//!
//! # Using it
//!
//! ```ignore
//! let machine = Machine::new(MachineConfig::default());
//! let _g = machine.enter();
//! let pdo = machine.plug_pci_device(Box::new(MyModel::default()));
//! // DriverEntry with a DRIVER_OBJECT and "\Registry\Machine\System\CurrentControlSet\Services\mini".
//! let driver = machine.load_driver("mini", driver_entry)?;
//! // AddDevice, then IRP_MN_START_DEVICE with the PDO's raw and translated resources.
//! let node = machine.start_device(&driver, pdo)?;
//! let handle = machine.open(&node)?;                       // IRP_MJ_CREATE
//! let n = handle.ioctl(MY_IOCTL, &input, &mut output)?;    // IRP_MJ_DEVICE_CONTROL
//! handle.close();                                          // IRP_MJ_CLEANUP + IRP_MJ_CLOSE
//! machine.run_until_idle();                                // interrupts, DPCs, device events
//! assert_eq!(machine.remove_device(node), STATUS_SUCCESS); // QUERY_REMOVE + REMOVE
//! machine.unload_driver(driver);                           // DriverUnload
//! machine.assert_clean();
//! ```
//!
//! PDOs have no driver object: ntsim is their bus driver. It completes PnP and power IRPs sent
//! to a PDO with STATUS_SUCCESS (other PnP minors keep the status they carry) and anything
//! else with STATUS_INVALID_DEVICE_REQUEST.

pub mod children;
pub mod client;
pub mod debug;
pub mod device;
pub mod error_log;
pub mod interrupt;
pub mod irp;
pub mod power;
pub mod timer;

use crate::machine::State;
use crate::verifier::{LeakKind, LeakReport};
use std::alloc::Layout;
use std::collections::HashMap;

pub use children::ChildDevice;
pub use client::{UserHandle, UserMapping};
pub use device::{DeviceNode, Driver};

/// A loaded driver: the objects ntsim made for it.
pub(crate) struct DriverRecord {
    pub name: String,
    /// Host allocations behind the object: DRIVER_EXTENSION, names, registry path. Only held:
    /// the DRIVER_OBJECT (and the driver) point into them.
    #[allow(dead_code)]
    pub extension: HostBox<ddk_sys::DRIVER_EXTENSION>,
    #[allow(dead_code)]
    pub registry_path: HostBox<ddk_sys::UNICODE_STRING>,
    #[allow(dead_code)]
    pub strings: Vec<HostBox<[u16]>>,
    /// `IoAllocateDriverObjectExtension` blocks: (client id, address, layout).
    pub client_extensions: Vec<(usize, usize, Layout)>,
}

/// A host allocation the simulated kernel hands out pointers into, owned like a `Box` but held
/// as a raw pointer: moving a `Box` asserts unique access to its contents and so invalidates
/// every pointer given out before the move (the driver's registry path, found by Miri).
/// Moving a `HostBox` does not.
pub(crate) struct HostBox<T: ?Sized>(core::ptr::NonNull<T>);

impl<T: ?Sized> HostBox<T> {
    pub fn new(value: Box<T>) -> Self {
        HostBox(core::ptr::NonNull::from(Box::leak(value)))
    }

    /// The allocation, valid until the `HostBox` drops.
    pub fn as_ptr(&self) -> *mut T {
        self.0.as_ptr()
    }
}

impl<T: ?Sized> Drop for HostBox<T> {
    fn drop(&mut self) {
        // SAFETY: from Box::leak in `new`, dropped once.
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

// SAFETY: owns a `T` as a Box does; the pointers handed out are the simulated kernel's contract.
unsafe impl<T: ?Sized + Send> Send for HostBox<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Sync> Sync for HostBox<T> {}

/// A device object made by `IoCreateDevice`.
pub(crate) struct DeviceRecord {
    pub layout: Layout,
    pub driver: usize,
    pub name: Option<String>,
    /// The device this one was attached on top of, until `IoDetachDevice`.
    pub attached_to: usize,
}

/// An IRP ntsim built and sent.
pub(crate) struct IrpRecord {
    pub layout: Layout,
    pub completed: bool,
    pub what: &'static str,
    /// A driver called `PoStartNextPowerIrp` for it.
    pub power_started_next: bool,
}

#[derive(Default)]
pub(crate) struct IoState {
    /// Driver objects by address.
    pub drivers: HashMap<usize, DriverRecord>,
    pub devices: HashMap<usize, DeviceRecord>,
    pub irps: HashMap<usize, IrpRecord>,
    /// Connected interrupt objects by address.
    pub interrupts: HashMap<usize, interrupt::InterruptObject>,
    /// `VideoPortDebugPrint` and friends: (level, text).
    pub debug_output: Vec<(u32, String)>,
    /// I/O timers, one per device object that has one.
    pub timers: Vec<timer::IoTimer>,
    /// The system error log, and entries allocated but not yet written.
    pub error_log: Vec<error_log::ErrorLogEntry>,
    pub error_log_outstanding: HashMap<usize, error_log::Outstanding>,
    /// `ObfReferenceObject` counts of device objects.
    pub references: HashMap<usize, isize>,
    /// Child devices by their parent's PDO, as the PnP manager knows them.
    pub children: HashMap<usize, Vec<children::ChildDevice>>,
    /// `PoSetPowerState`: (device, POWER_STATE_TYPE) → state.
    pub power_states: HashMap<(usize, u32), u32>,
    /// `PoRequestPowerIrp` requests by IRP.
    pub power_requests: HashMap<usize, power::PowerRequest>,
    /// User handles open on each device node, by PDO.
    pub opens: HashMap<usize, usize>,
    /// Surprise-removed device nodes (by PDO) whose IRP_MN_REMOVE_DEVICE waits for their
    /// last handle to close.
    pub removals_pending: std::collections::HashSet<usize>,
}

pub(crate) fn leaks(st: &State, report: &mut LeakReport) {
    for (addr, e) in &st.io.error_log_outstanding {
        report.push(
            LeakKind::Pool,
            format!(
                "error-log entry {addr:#x} for object {:#x} allocated and never written",
                e.io_object
            ),
        );
    }
    for (addr, d) in &st.io.drivers {
        report.push(
            LeakKind::Driver,
            format!("driver object {addr:#x} of '{}' still loaded", d.name),
        );
    }
    for (addr, d) in &st.io.devices {
        report.push(
            LeakKind::DeviceObject,
            format!(
                "device object {addr:#x} ({}) of driver {:#x} not deleted (IoCreateDevice)",
                d.name.as_deref().unwrap_or("unnamed"),
                d.driver
            ),
        );
    }
    for (addr, i) in &st.io.interrupts {
        report.push(
            LeakKind::Interrupt,
            format!(
                "interrupt object {addr:#x} (vector {:#x}) still connected (IoConnectInterrupt)",
                i.vector
            ),
        );
    }
    for (addr, irp) in &st.io.irps {
        report.push(
            LeakKind::Irp,
            format!("IRP {addr:#x} ({}) never completed", irp.what),
        );
    }
}

/// UTF-16 of `s`.
pub(crate) fn wide(s: &str) -> Box<[u16]> {
    s.encode_utf16().collect::<Vec<_>>().into_boxed_slice()
}
