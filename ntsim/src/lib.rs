//! ntsim: a user-mode simulation of the NT kernel and HAL DMA subset, the host stand-in for
//! `ntoskrnl.exe` and `hal.dll`.
//!
//! C interface simulated: the `extern "ntapi"` routines declared in `ddk_sys::routines`
//! (pool, MDLs, physical memory, DPCs, spin locks, events, `KeSynchronizeExecution`,
//! `KeStallExecutionProcessor`, `KeBugCheckEx`, `IoGetDmaAdapter`), the IRQL hooks of
//! `ddk_sys::irql` (`NtsimGetCurrentIrql`, `NtsimRaiseIrql`, `NtsimLowerIrql`), the project's
//! SEH guard `VprtProbeAndLockPages`, and the `DMA_OPERATIONS` table behind every adapter. Each
//! is a `#[no_mangle] extern "ntapi"` definition with the declared signature, so driver code
//! links against ntsim exactly as it links against the kernel on Windows.
//!
//! # Using it
//!
//! ```ignore
//! use ddk_sys::*;
//! use ntsim::{Machine, MachineConfig, UserProt};
//!
//! // Every test makes its own machine; there is no global one, so tests run in parallel.
//! let machine = Machine::new(MachineConfig::default());
//! // Bind this thread to it: one simulated processor, at PASSIVE_LEVEL, until `_g` drops.
//! // NT routines called on a thread that has not entered a machine abort the process.
//! let _g = machine.enter();
//!
//! // Application memory (a bad user pointer is anything outside live user buffers).
//! let user = machine.user_alloc(3 * 4096, UserProt::ReadWrite);
//! user.write(0, b"hello");
//!
//! // A device and its DMA adapter, through the same symbols a driver calls.
//! let pdo = machine.create_pdo("edu");
//! let mut desc = DEVICE_DESCRIPTION { Version: DEVICE_DESCRIPTION_VERSION, Master: TRUE,
//!     ScatterGather: TRUE, Dma32BitAddresses: TRUE, InterfaceType: PCIBus,
//!     MaximumLength: 0x10000, ..Default::default() };
//! let mut registers = 0;
//! let adapter = unsafe { IoGetDmaAdapter(pdo.as_ptr(), &mut desc, &mut registers) };
//!
//! // ... IoAllocateMdl + VprtProbeAndLockPages, raise to DISPATCH_LEVEL,
//! // (*(*adapter).DmaOperations).GetScatterGatherList(...): the callback gets the list ...
//!
//! // The device moves data only through its view: the bus addresses mapped for it now.
//! let device = machine.device_view(pdo);
//! let mut bytes = [0u8; 5];
//! device.read(ntsim::BusAddress(sg_element_address), &mut bytes)?;
//!
//! // Deferred work (DPCs, callbacks that waited for map registers, device events) runs here.
//! machine.run_until_idle();
//!
//! // The verdict: no violations and no leaks, or a readable panic.
//! machine.assert_clean();
//! ```
//!
//! * Violations are recorded, not raised (an `extern "ntapi"` routine cannot unwind):
//!   [`Machine::violations`], [`Machine::take_violations`]. Each [`Violation`] carries the bug
//!   check code (0xE6 DMA, 0xC2 pool, 0x9/0xA IRQL, ... see [`verifier`]), its parameters and
//!   a message naming the objects and where they were allocated. With
//!   [`MachineConfig::strict`] the first violation fails the test at the next harness call.
//! * [`Machine::leaks`] lists what is still allocated: adapters, lists, map registers, queued
//!   requests, common buffers, MDLs, locked pages, pool, contiguous memory, queued DPCs.
//! * [`Machine::pool_stats`] counts pool allocations (driver, MDL and scatter/gather list
//!   blocks alike), for allocations-per-transfer measurements.
//! * Fault injection: [`Machine::fail_nth`] fails the Nth future request of a [`FaultKind`];
//!   [`fault::sweep`] runs a scenario once per failure point, each on a fresh machine, and
//!   requires every run to end clean.
//! * Memory: frames are scattered deterministically from [`MachineConfig::seed`]; placement
//!   below/above 4 GiB is configurable per class ([`Placement`]). [`Machine::physical_address`],
//!   [`Machine::read_physical`] and [`Machine::write_physical`] inspect it unchecked.
//!
//! `KeBugCheckEx` prints and aborts the process (see [`bugcheck`](mod@bugcheck)).
//!
//! * Drivers and devices ([`io`]): [`Machine::load_driver`] (DriverEntry),
//!   [`Machine::start_device`] (AddDevice + IRP_MN_START_DEVICE), [`Machine::open`] and
//!   [`UserHandle::ioctl`] (a user-mode client), [`Machine::remove_device`],
//!   [`Machine::unload_driver`]; interrupt objects delivered from `run_until_idle`.
//! * A PCI bus ([`pci`]): [`Machine::plug_pci_device`] with a [`PciDeviceModel`] (BARs,
//!   config space, an INTx line), MMIO through `MmMapIoSpace` and the register hooks.
//! * The registry ([`registry`]): one per machine, surviving driver reloads;
//!   `IoOpenDeviceRegistryKey` and the `Zw*Key`/`Zw*ValueKey` routines over validated handles
//!   ([`handle`]); [`Machine::registry_value`], [`Machine::set_registry_value`]. A read-only
//!   file store ([`file`]) behind `ZwCreateFile`/`ZwReadFile`: [`Machine::add_file`].
//! * Kernel images ([`pe`]): [`pe::load`] maps an AMD64 `.sys` file as the Windows kernel
//!   loader does (validated headers, relocations, bound imports, per-section protection).
//!
//! Not simulated yet: slave DMA, `AllocateAdapterChannel`/`MapTransfer` and the other entries
//! listed in the `hal::ops` module docs, MDL chains in one transfer (`Mdl->Next` is ignored),
//! user-mode mappings of anything but device RAM, child devices, power management beyond
//! passing IRPs down.
//!
//! * Device memory ([`pci::ram`], [`usermap`], [`process`]): a model may back a memory BAR
//!   with RAM ([`DeviceMemory`], [`PciDeviceModel::ram`]); `MmMapIoSpace` of it is a real
//!   view, and `MmMapLockedPagesSpecifyCache(UserMode)` (or the guard
//!   `VprtMapLockedPagesUser`) of an MDL over such a view maps it into the current client
//!   process ([`UserHandle::mapping`]). `PsGetCurrentProcess` is the client's process while
//!   its requests are dispatched. [`devices::bochs`] is QEMU's Bochs display on top of it.
//! * The HAL's x86 BIOS emulator ([`hal::x86bios`]): `x86BiosCall` and the real-mode memory
//!   routines (Windows Vista onwards), INT 10h answered by the Bochs display's VBE BIOS
//!   ([`devices::vbe`]); [`Machine::real_memory`], [`Machine::bios_buffers`].

// Parameter names follow the C prototypes, so the routines read like their documentation.
#![allow(non_snake_case)]

pub mod bugcheck;
pub mod clock;
pub mod config;
pub mod devices;
pub mod dpc;
pub mod driver_hooks;
pub mod event;
pub mod fault;
pub mod file;
pub mod hal;
pub mod handle;
pub mod interrupt;
pub mod io;
pub mod irql;
pub mod kernel_exports;
mod machine;
pub mod mdl;
pub(crate) mod memory;
pub mod pci;
pub mod pdo;
pub mod pe;
pub mod pool;
pub mod process;
pub mod registry;
pub mod spinlock;
pub mod types;
pub mod user;
pub mod usermap;
pub mod verifier;
pub mod version;

pub use config::MachineConfig;
pub use event::STATUS_TIMEOUT;
pub use fault::{sweep, sweep_with, FaultKind, SweepReport};
pub use hal::device_view::{DeviceView, DmaFault, DmaFaultKind};
pub use io::{ChildDevice, DeviceNode, Driver, UserHandle, UserMapping};
pub use machine::{EnterGuard, Machine};
pub use pci::{BarKind, BarSpec, DeviceContext, DeviceMemory, PciDeviceModel};
pub use pdo::Pdo;
pub use pool::PoolStats;
pub use registry::RegistryValue;
pub use types::{BusAddress, Pfn, Placement, UserProt, PAGE};
pub use user::UserBuffer;
pub use verifier::{Leak, LeakKind, LeakReport, Violation};
pub use version::OsVersion;
