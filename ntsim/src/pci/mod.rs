//! The simulated PCI bus: device models, BAR assignment, config space, resources for PnP
//! start, MMIO and port routing, and `MmMapIoSpace` / `MmUnmapIoSpace`.
//!
//! A device model ([`PciDeviceModel`]) is plugged in with [`Machine::plug_pci_device`], which
//! makes its PDO and assigns bus addresses to its BARs (memory BARs from 0xE000_0000 for
//! 32-bit, from 0x80_0000_0000 for 64-bit; I/O BARs from port 0xC000; each aligned to its size)
//! and an interrupt: raw line 16 + n, translated vector 0x60 + n at DIRQL 5 + n % 7.
//! Translation is the identity for memory and ports (as on x64).
//!
//! Register access reaches a model only through a mapping: `MmMapIoSpace` of a range inside a
//! memory BAR returns a fresh virtual range (host memory that is never touched through it), and
//! the port's register routines call the hooks `NtsimReadRegister` / `NtsimWriteRegister`
//! (x64 `READ_REGISTER_*` are inline volatile accesses, which cannot reach a model). Ports go
//! through `NtsimReadPort` / `NtsimWritePort` to the I/O BAR that decodes them. An address
//! neither mapped nor backed by kernel memory is reported (ntsim code
//! [`crate::verifier::ntsim_code::UNMAPPED_REGISTER`]): reads return all ones, writes are
//! dropped. Plain kernel memory (pool, common buffers) is accessed directly.
//!
//! A BAR the model backs with RAM ([`PciDeviceModel::ram`], e.g. a frame buffer) is different:
//! `MmMapIoSpace` of it returns a real view of that RAM (another mapping of the same host
//! pages, see [`ram`]), where plain loads and stores work and the register hooks load and
//! store directly. Models may also decode fixed legacy ports
//! ([`PciDeviceModel::legacy_ports`]).
//!
//! Models run without the machine lock held, one call at a time per model. They assert their
//! interrupt line and schedule their own later events through the [`DeviceContext`].

mod mmio;
pub mod ram;

use crate::hal::device_view::DeviceView;
use crate::machine::{Machine, State};
use crate::pdo::Pdo;
use crate::verifier::{bugcheck, LeakKind, LeakReport};
use ddk_sys::*;
use std::any::Any;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

pub use ram::DeviceMemory;

/// What a base address register decodes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BarKind {
    Memory32,
    Memory64,
    Io,
    /// 32-bit memory with the prefetchable bit set (a frame buffer, typically).
    Memory32Prefetchable,
    /// 64-bit memory with the prefetchable bit set.
    Memory64Prefetchable,
    /// An unimplemented BAR slot (reads as zero, gets no address or resource), so the next
    /// spec lands in the next slot: QEMU's VGA has BAR0 and BAR2 and no BAR1.
    Unused,
}

impl BarKind {
    /// A memory BAR (any width, prefetchable or not).
    pub fn is_memory(self) -> bool {
        !matches!(self, BarKind::Io | BarKind::Unused)
    }
}

/// One BAR of a model: kind and size in bytes (rounded up to a power of two, at least 16).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct BarSpec {
    pub kind: BarKind,
    pub size: u64,
}

/// A PCI device model on the simulated bus.
pub trait PciDeviceModel: Send + Any {
    fn vendor_id(&self) -> u16;
    fn device_id(&self) -> u16;
    /// BAR0, BAR1, ...; ntsim assigns bus addresses.
    fn bars(&self) -> Vec<BarSpec>;
    /// Whether the device has a legacy INTx line.
    fn has_interrupt(&self) -> bool;
    /// Base class, subclass and programming interface of the config header (offsets 0x0B,
    /// 0x0A, 0x09). Default: a display controller of the "other" subclass (03h/80h).
    fn class_code(&self) -> (u8, u8, u8) {
        (0x03, 0x80, 0x00)
    }
    /// The revision ID (config offset 08h).
    fn revision_id(&self) -> u8 {
        0
    }
    /// Subsystem vendor and subsystem IDs (config 2Ch/2Eh); QEMU gives every device it
    /// emulates Red Hat's 1AF4h / 1100h.
    fn subsystem_ids(&self) -> (u16, u16) {
        (0x1AF4, 0x1100)
    }
    /// The expansion ROM image behind the ROM base address register, if the device has one
    /// (read through the bus interface with `PCI_WHICHSPACE_ROM`).
    fn expansion_rom(&self) -> Option<Vec<u8>> {
        None
    }
    /// A register read of `size` bytes (1, 2, 4 or 8) at `offset` into BAR `bar`.
    fn read(&mut self, ctx: &mut DeviceContext<'_>, bar: usize, offset: u64, size: u8) -> u64;
    /// A register write.
    fn write(&mut self, ctx: &mut DeviceContext<'_>, bar: usize, offset: u64, size: u8, value: u64);
    /// Runs a device event scheduled with [`DeviceContext::schedule`] (e.g. "DMA done"), from
    /// [`Machine::run_until_idle`].
    fn on_event(&mut self, ctx: &mut DeviceContext<'_>, token: u64) {
        let _ = (ctx, token);
    }
    /// The RAM behind memory BAR `bar`, if it is RAM rather than registers (asked once, at
    /// plug time). Such a BAR never reaches [`PciDeviceModel::read`]/[`PciDeviceModel::write`]:
    /// mappings of it are views of this memory (at least the BAR's size), which the model
    /// reads and writes through its own clone.
    fn ram(&self, bar: usize) -> Option<DeviceMemory> {
        let _ = bar;
        None
    }
    /// Fixed legacy I/O port ranges the device decodes besides its BARs (VGA's 0x3C0-0x3DF,
    /// Bochs' 0x1CE/0x1CF), asked once at plug time. Accesses reach
    /// [`PciDeviceModel::port_read`]/[`PciDeviceModel::port_write`] with the port number.
    /// Two devices claiming the same port is a harness error (plugging panics).
    fn legacy_ports(&self) -> Vec<core::ops::Range<u16>> {
        Vec::new()
    }
    /// A read of `size` bytes at legacy port `port` (inside [`PciDeviceModel::legacy_ports`]).
    fn port_read(&mut self, ctx: &mut DeviceContext<'_>, port: u16, size: u8) -> u64 {
        let _ = (ctx, port, size);
        u64::MAX
    }
    /// A write at a legacy port.
    fn port_write(&mut self, ctx: &mut DeviceContext<'_>, port: u16, size: u8, value: u64) {
        let _ = (ctx, port, size, value);
    }
}

/// What a model may do while it runs: DMA through its device view, assert or lower its
/// interrupt line, schedule later events, report violations it detects.
pub struct DeviceContext<'a> {
    machine: &'a Machine,
    index: usize,
    view: DeviceView,
}

impl DeviceContext<'_> {
    /// The device's IOMMU-style DMA view (what [`Machine::device_view`] of its PDO gives).
    pub fn dma(&self) -> &DeviceView {
        &self.view
    }

    /// Asserts the INTx line (level-triggered): the connected ISR runs at DIRQL from
    /// `run_until_idle` until the line is lowered or the ISR returns FALSE.
    pub fn raise_interrupt(&mut self) {
        self.machine.lock().pci.devices[self.index].line = true;
    }

    /// Deasserts the INTx line.
    pub fn lower_interrupt(&mut self) {
        let mut st = self.machine.lock();
        let d = &mut st.pci.devices[self.index];
        d.line = false;
        d.masked = false;
        d.claimed_runs = 0;
    }

    /// Schedules `on_event(token)` to run later from `run_until_idle` (device time passes).
    pub fn schedule(&mut self, token: u64) {
        let index = self.index;
        self.machine
            .lock()
            .events
            .push_back(Box::new(move |m: &Machine| run_event(m, index, token)));
    }

    /// Records a violation the device detected (bug check
    /// [`crate::verifier::bugcheck::DEVICE_MODEL_CHECK`], P1 = `code`, P2 = the PDO).
    /// Adds a line to the machine's trace (if tracing is on).
    pub fn trace(&mut self, line: impl FnOnce() -> String) {
        self.machine.lock().trace(line);
    }

    pub fn report(&mut self, code: u32, message: String) {
        let mut st = self.machine.lock();
        let pdo = st.pci.devices[self.index].pdo;
        st.report(
            bugcheck::DEVICE_MODEL_CHECK,
            code,
            [pdo as u64, 0, 0],
            "PciDeviceModel",
            message,
        );
    }
}

pub(crate) type SharedModel = Arc<Mutex<Box<dyn PciDeviceModel>>>;

pub(crate) struct Bar {
    pub kind: BarKind,
    pub base: u64,
    pub size: u64,
    /// RAM behind the BAR ([`PciDeviceModel::ram`]).
    pub ram: Option<DeviceMemory>,
}

pub(crate) struct PciDevice {
    pub pdo: usize,
    pub model: SharedModel,
    pub bars: Vec<Bar>,
    pub has_interrupt: bool,
    pub irq_line: u32,
    pub vector: u32,
    pub dirql: KIRQL,
    /// The INTx line is asserted.
    pub line: bool,
    /// Every ISR declined (or a storm): ignored until the device lowers the line.
    pub masked: bool,
    pub claimed_runs: u32,
    pub config: [u8; 256],
    /// References held on the device's BUS_INTERFACE_STANDARD.
    pub interface_refs: u32,
    /// Legacy port ranges ([`PciDeviceModel::legacy_ports`]).
    pub legacy: Vec<core::ops::Range<u16>>,
    /// The expansion ROM ([`PciDeviceModel::expansion_rom`]).
    pub rom: Option<Vec<u8>>,
}

/// An `MmMapIoSpace` mapping.
pub(crate) struct Mapping {
    pub len: usize,
    pub device: usize,
    pub bar: usize,
    /// Offset of the mapping's first byte in the BAR.
    pub offset: u64,
    pub backing: MappingBacking,
}

/// What is behind an `MmMapIoSpace` address.
pub(crate) enum MappingBacking {
    /// Registers: host memory that is never touched through the mapping (the register hooks
    /// reach the model instead), allocated with this layout.
    Registers(std::alloc::Layout),
    /// A view of the BAR's RAM (page-aligned; the mapping starts `va - view.base` into it).
    Ram(ram::HostView),
}

/// A user-mode view of device RAM (`MmMapLockedPagesSpecifyCache(UserMode)`).
pub(crate) struct UserView {
    /// The reservation holding the view's pages (keyed in `PciState::user_views` by the
    /// user address returned, which is `view.base + ByteOffset`).
    pub view: ram::HostView,
    /// Bytes the MDL describes.
    pub len: usize,
    pub mdl: usize,
    /// The owning process (`PEPROCESS`) and its number.
    pub process: usize,
    pub process_id: u64,
    /// (device index, BAR, offset in the BAR) of the first byte.
    pub source: (usize, usize, u64),
    pub serial: u64,
}

pub(crate) struct PciState {
    pub devices: Vec<PciDevice>,
    /// Mappings by virtual address.
    pub mappings: BTreeMap<usize, Mapping>,
    /// User-mode views of device RAM by user address.
    pub user_views: BTreeMap<usize, UserView>,
    next_mem32: u64,
    next_mem64: u64,
    next_io: u64,
}

impl Default for PciState {
    fn default() -> Self {
        PciState {
            devices: Vec::new(),
            mappings: BTreeMap::new(),
            user_views: BTreeMap::new(),
            next_mem32: 0xE000_0000,
            next_mem64: 0x80_0000_0000,
            next_io: 0xC000,
        }
    }
}

impl PciState {
    pub(crate) fn vector_exists(&self, vector: u32) -> bool {
        self.devices
            .iter()
            .any(|d| d.has_interrupt && d.vector == vector)
    }

    /// (device index, vector) of every asserted, unmasked line.
    pub(crate) fn asserted_lines(&self) -> Vec<(usize, u32)> {
        self.devices
            .iter()
            .enumerate()
            .filter(|(_, d)| d.line && !d.masked)
            .map(|(i, d)| (i, d.vector))
            .collect()
    }

    /// Bookkeeping after the ISRs of `device` ran: masks the line if none claimed it or after
    /// `limit` claimed runs with the line still up (returns the vector then).
    pub(crate) fn after_isr(&mut self, device: usize, claimed: bool, limit: u32) -> Option<u32> {
        let d = &mut self.devices[device];
        if !d.line {
            return None;
        }
        if !claimed {
            d.masked = true;
            return None;
        }
        d.claimed_runs += 1;
        if d.claimed_runs >= limit {
            d.masked = true;
            return Some(d.vector);
        }
        None
    }

    /// The RAM and offset in it behind physical address `pa`, if a RAM BAR decodes it.
    pub(crate) fn ram_at(&self, pa: u64) -> Option<(usize, usize, u64, &DeviceMemory)> {
        self.devices.iter().enumerate().find_map(|(i, d)| {
            d.bars.iter().enumerate().find_map(|(b, bar)| {
                let ram = bar.ram.as_ref()?;
                (pa >= bar.base && pa < bar.base + bar.size).then(|| (i, b, pa - bar.base, ram))
            })
        })
    }

    /// The `MmMapIoSpace` mapping containing `va`: (its address, the mapping).
    pub(crate) fn mapping_at(&self, va: usize) -> Option<(usize, &Mapping)> {
        let (&base, m) = self.mappings.range(..=va).next_back()?;
        (va < base + m.len).then_some((base, m))
    }

    /// The physical address behind `va` inside an `MmMapIoSpace` mapping.
    pub(crate) fn mapping_physical(&self, va: usize) -> Option<u64> {
        let (base, m) = self.mapping_at(va)?;
        Some(self.devices[m.device].bars[m.bar].base + m.offset + (va - base) as u64)
    }

    /// The user view containing `[va, va + len)`: (its user address, the view).
    pub(crate) fn user_view_at(&self, va: usize, len: usize) -> Option<(usize, &UserView)> {
        let (&at, v) = self.user_views.range(..=va).next_back()?;
        v.view.contains(va, len).then_some((at, v))
    }

    fn index_of(&self, pdo: Pdo) -> Option<usize> {
        self.devices
            .iter()
            .position(|d| d.pdo == pdo.as_ptr() as usize)
    }
}

pub(crate) fn leaks(st: &State, report: &mut LeakReport) {
    for d in st.pci.devices.iter().filter(|d| d.interface_refs != 0) {
        report.push(
            LeakKind::InterfaceReference,
            format!(
                "{} reference(s) on the BUS_INTERFACE_STANDARD of PDO {:#x} never dereferenced",
                d.interface_refs, d.pdo
            ),
        );
    }
    for (va, m) in &st.pci.mappings {
        report.push(
            LeakKind::IoSpaceMapping,
            format!(
                "{} bytes of BAR{} at {va:#x} still mapped (MmMapIoSpace)",
                m.len, m.bar
            ),
        );
    }
    for (va, v) in &st.pci.user_views {
        let (device, bar, offset) = v.source;
        let pdo = st.pci.devices[device].pdo;
        let exited = if st.processes.exited(v.process) {
            "; the process has exited (its handle was closed) with the view still mapped"
        } else {
            ""
        };
        report.push(
            LeakKind::UserMapping,
            format!(
                "{} bytes of device memory (PDO {pdo:#x} BAR{bar}+{offset:#x}) mapped at user \
                 address {va:#x} of process {} by MDL {:#x} \
                 (MmMapLockedPagesSpecifyCache UserMode, serial {}) never unmapped \
                 (MmUnmapLockedPages){exited}",
                v.len, v.process_id, v.mdl, v.serial
            ),
        );
    }
}

fn run_event(machine: &Machine, index: usize, token: u64) {
    with_model(machine, index, |model, ctx| model.on_event(ctx, token));
}

/// Calls `f` on the model of device `index` with a context; no machine lock is held.
pub(crate) fn with_model<R>(
    machine: &Machine,
    index: usize,
    f: impl FnOnce(&mut dyn PciDeviceModel, &mut DeviceContext<'_>) -> R,
) -> R {
    let (model, pdo) = {
        let st = machine.lock();
        let d = &st.pci.devices[index];
        (d.model.clone(), d.pdo)
    };
    let mut ctx = DeviceContext {
        machine,
        index,
        view: DeviceView::internal(
            Machine::internal(machine.shared.clone()),
            crate::pdo::Pdo::from_raw(pdo),
        ),
    };
    let mut m = model.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut **m, &mut ctx)
}

fn put16(c: &mut [u8; 256], at: usize, v: u16) {
    c[at..at + 2].copy_from_slice(&v.to_le_bytes());
}
fn put32(c: &mut [u8; 256], at: usize, v: u32) {
    c[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

impl Machine {
    /// Plugs `model` into the simulated PCI bus: a new PDO, bus addresses for its BARs, an
    /// interrupt line if it has one, and a type-0 config space.
    pub fn plug_pci_device(&self, model: Box<dyn PciDeviceModel>) -> Pdo {
        let (vendor, device) = (model.vendor_id(), model.device_id());
        let (base_class, subclass, prog_if) = model.class_code();
        let specs = model.bars();
        let has_interrupt = model.has_interrupt();
        let legacy = model.legacy_ports();
        let rom = model.expansion_rom();
        let revision = model.revision_id();
        let (sub_vendor, subsystem) = model.subsystem_ids();
        let rams: Vec<Option<DeviceMemory>> = (0..specs.len()).map(|b| model.ram(b)).collect();
        let pdo = self.create_pdo(&format!("PCI {vendor:04x}:{device:04x}"));
        // SAFETY: our own PDO; PDOs are the bottom of a one-location stack.
        unsafe { (*pdo.as_ptr()).StackSize = 1 };
        let mut st = self.lock();
        let pci = &mut st.pci;
        let n = pci.devices.len() as u32;
        let mut config = [0u8; 256];
        put16(&mut config, 0, vendor);
        put16(&mut config, 2, device);
        // Command: memory + I/O space + bus master.
        put16(&mut config, 4, 0x0007);
        config[0x0B] = base_class;
        config[0x0A] = subclass;
        config[0x09] = prog_if;
        config[0x08] = revision;
        put16(&mut config, 0x2C, sub_vendor);
        put16(&mut config, 0x2E, subsystem);
        for range in &legacy {
            let clash = pci.devices.iter().any(|d| {
                d.legacy
                    .iter()
                    .any(|r| r.start < range.end && range.start < r.end)
            });
            assert!(
                !clash,
                "ntsim: legacy ports {range:#x?} of {vendor:04x}:{device:04x} are already claimed"
            );
        }
        let mut bars = Vec::new();
        let mut slot = 0;
        for (spec, ram) in specs.into_iter().zip(rams) {
            let ram = ram.filter(|_| spec.kind.is_memory());
            let mut size = spec.size.max(16).next_power_of_two();
            if let Some(ram) = &ram {
                // Views are whole pages.
                size = size.max(crate::types::PAGE as u64);
                assert!(
                    ram.len() as u64 >= size,
                    "ntsim: the RAM behind BAR{} ({ram:?}) is smaller than the BAR ({size:#x})",
                    bars.len()
                );
            }
            let next = match spec.kind {
                BarKind::Memory32 | BarKind::Memory32Prefetchable => Some(&mut pci.next_mem32),
                BarKind::Memory64 | BarKind::Memory64Prefetchable => Some(&mut pci.next_mem64),
                BarKind::Io => Some(&mut pci.next_io),
                BarKind::Unused => None,
            };
            let (base, size) = match next {
                Some(next) => {
                    let base = next.div_ceil(size) * size;
                    *next = base + size;
                    (base, size)
                }
                None => (0, 0),
            };
            if slot < 6 {
                let at = 0x10 + slot * 4;
                match spec.kind {
                    BarKind::Memory32 => put32(&mut config, at, base as u32),
                    BarKind::Memory32Prefetchable => put32(&mut config, at, base as u32 | 8),
                    BarKind::Io => put32(&mut config, at, base as u32 | 1),
                    BarKind::Unused => {}
                    BarKind::Memory64 | BarKind::Memory64Prefetchable => {
                        let prefetch = if spec.kind == BarKind::Memory64 { 0 } else { 8 };
                        put32(&mut config, at, base as u32 | 4 | prefetch);
                        if slot + 1 < 6 {
                            put32(&mut config, at + 4, (base >> 32) as u32);
                        }
                        slot += 1;
                    }
                }
            }
            slot += 1;
            bars.push(Bar {
                kind: spec.kind,
                base,
                size,
                ram,
            });
        }
        let irq_line = 16 + n;
        if has_interrupt {
            config[0x3C] = irq_line as u8;
            config[0x3D] = 1;
        }
        pci.devices.push(PciDevice {
            pdo: pdo.as_ptr() as usize,
            model: Arc::new(Mutex::new(model)),
            bars,
            has_interrupt,
            irq_line,
            vector: 0x60 + n,
            dirql: 5 + (n % 7) as KIRQL,
            line: false,
            masked: false,
            claimed_runs: 0,
            config,
            interface_refs: 0,
            legacy,
            rom,
        });
        pdo
    }

    /// Runs `f` on the model behind `pdo`, downcast to `M` (panics if `pdo` is not a PCI
    /// device of this machine or its model is not an `M`). Do not call it from inside the
    /// model's own callbacks.
    pub fn with_pci_model<M: PciDeviceModel + 'static, R>(
        &self,
        pdo: Pdo,
        f: impl FnOnce(&mut M) -> R,
    ) -> R {
        let model = {
            let st = self.lock();
            let index = st
                .pci
                .index_of(pdo)
                .expect("not a PCI device of this machine");
            st.pci.devices[index].model.clone()
        };
        let mut guard = model.lock().unwrap_or_else(|e| e.into_inner());
        let any: &mut dyn Any = &mut **guard;
        f(any
            .downcast_mut::<M>()
            .expect("the model is not of the requested type"))
    }

    /// The bus address assigned to BAR `bar` of the device behind `pdo` (for tests).
    pub fn pci_bar(&self, pdo: Pdo, bar: usize) -> Option<(BarKind, u64, u64)> {
        let st = self.lock();
        let index = st.pci.index_of(pdo)?;
        st.pci.devices[index]
            .bars
            .get(bar)
            .map(|b| (b.kind, b.base, b.size))
    }

    /// `len` bytes of the config space of the device behind `pdo`, from `offset`.
    pub fn pci_config(&self, pdo: Pdo, offset: usize, len: usize) -> Option<Vec<u8>> {
        let st = self.lock();
        let index = st.pci.index_of(pdo)?;
        let c = &st.pci.devices[index].config;
        (offset + len <= c.len()).then(|| c[offset..offset + len].to_vec())
    }
}

/// The raw and translated `CM_RESOURCE_LIST`s of `pdo` (u32 buffers, so 4-aligned as the
/// `pack(4)` layout needs). A PDO that is no PCI device gets a list with no descriptors.
pub(crate) fn resources(machine: &Machine, pdo: Pdo) -> (Vec<u32>, Vec<u32>) {
    let st = machine.lock();
    let mut raw = Vec::new();
    let mut translated = Vec::new();
    if let Some(index) = st.pci.index_of(pdo) {
        let d = &st.pci.devices[index];
        for b in d.bars.iter().filter(|b| b.kind != BarKind::Unused) {
            let (ty, flags) = match b.kind {
                BarKind::Io => (CmResourceTypePort, CM_RESOURCE_PORT_IO),
                BarKind::Memory32Prefetchable | BarKind::Memory64Prefetchable => {
                    (CmResourceTypeMemory, CM_RESOURCE_MEMORY_PREFETCHABLE)
                }
                _ => (CmResourceTypeMemory, 0),
            };
            let desc = CM_PARTIAL_RESOURCE_DESCRIPTOR {
                Type: ty,
                ShareDisposition: CmResourceShareDeviceExclusive,
                Flags: flags,
                u: CM_PARTIAL_RESOURCE_DESCRIPTOR_U {
                    Generic: CM_RANGE {
                        Start: PACKED_PHYSICAL_ADDRESS::new(b.base),
                        Length: b.size as u32,
                    },
                },
            };
            raw.push(desc);
            translated.push(desc);
        }
        if d.has_interrupt {
            let mk = |level: u16, vector: u32, affinity: usize| CM_PARTIAL_RESOURCE_DESCRIPTOR {
                Type: CmResourceTypeInterrupt,
                ShareDisposition: CmResourceShareShared,
                Flags: CM_RESOURCE_INTERRUPT_LEVEL_SENSITIVE,
                u: CM_PARTIAL_RESOURCE_DESCRIPTOR_U {
                    Interrupt: CM_INTERRUPT {
                        Level: level,
                        Group: 0,
                        Vector: vector,
                        Affinity: affinity,
                    },
                },
            };
            raw.push(mk(d.irq_line as u16, d.irq_line, usize::MAX));
            translated.push(mk(d.dirql as u16, d.vector, 1));
        }
    }
    (build_list(&raw), build_list(&translated))
}

fn build_list(descs: &[CM_PARTIAL_RESOURCE_DESCRIPTOR]) -> Vec<u32> {
    let desc_size = size_of::<CM_PARTIAL_RESOURCE_DESCRIPTOR>();
    // Count, then one full descriptor: InterfaceType, BusNumber, Version/Revision, Count.
    let header = 4 + 16;
    let bytes = header + desc_size * descs.len().max(1);
    let mut buf = vec![0u32; bytes.div_ceil(4)];
    let p = buf.as_mut_ptr().cast::<u8>();
    // SAFETY: the buffer holds `bytes` bytes; the writes below stay inside it and use
    // unaligned stores for the pack(4) fields.
    unsafe {
        p.cast::<u32>().write_unaligned(1);
        p.add(4)
            .cast::<i32>()
            .write_unaligned(INTERFACE_TYPE::PCIBus.0);
        p.add(8).cast::<u32>().write_unaligned(0);
        p.add(12).cast::<u16>().write_unaligned(1);
        p.add(14).cast::<u16>().write_unaligned(1);
        p.add(16).cast::<u32>().write_unaligned(descs.len() as u32);
        for (i, d) in descs.iter().enumerate() {
            p.add(header + i * desc_size)
                .cast::<CM_PARTIAL_RESOURCE_DESCRIPTOR>()
                .write_unaligned(*d);
        }
    }
    buf
}

/// Whether a config-space byte takes writes through SetBusData: command, cache line size,
/// latency timer, interrupt line and the device-specific area. IDs, status, class, BARs
/// (assigned by the PnP manager) and the rest read as written at plug time.
fn config_writable(at: usize) -> bool {
    matches!(at, 0x04..=0x05 | 0x0C..=0x0D | 0x3C | 0x40..=0xFF)
}

/// The bus driver's answer to IRP_MN_QUERY_INTERFACE for `GUID_BUS_INTERFACE_STANDARD` on
/// `pdo`: `None` when the PDO is no PCI device or the interface is another one (the IRP's
/// status stays as it was, as a bus driver leaves it), otherwise the IRP's status.
///
/// # Safety
/// `q` is the current stack location's `Parameters.QueryInterface` of a live IRP.
pub(crate) unsafe fn query_interface(
    st: &mut State,
    pdo: *mut DEVICE_OBJECT,
    q: &IO_STACK_QUERY_INTERFACE,
) -> Option<NTSTATUS> {
    // SAFETY: the caller's GUID pointer (contract); NULL is refused.
    let guid = unsafe { q.InterfaceType.as_ref() }?;
    if *guid != GUID_BUS_INTERFACE_STANDARD {
        return None;
    }
    let index = st.pci.index_of(Pdo::from_raw(pdo as usize))?;
    if usize::from(q.Size) < size_of::<BUS_INTERFACE_STANDARD>()
        || q.Version < 1
        || q.Interface.is_null()
    {
        return Some(STATUS_INVALID_PARAMETER);
    }
    let interface = BUS_INTERFACE_STANDARD {
        Size: size_of::<BUS_INTERFACE_STANDARD>() as u16,
        Version: 1,
        Context: pdo.cast(),
        InterfaceReference: Some(bus_interface_reference),
        InterfaceDereference: Some(bus_interface_dereference),
        TranslateBusAddress: Some(bus_translate_address),
        GetDmaAdapter: Some(bus_get_dma_adapter),
        SetBusData: Some(bus_set_data),
        GetBusData: Some(bus_get_data),
    };
    // SAFETY: the requester's buffer holds at least `q.Size` bytes (contract), checked above.
    unsafe {
        q.Interface
            .cast::<BUS_INTERFACE_STANDARD>()
            .write(interface)
    };
    // The interface is returned referenced.
    st.pci.devices[index].interface_refs += 1;
    Some(STATUS_SUCCESS)
}

fn with_device<R>(context: PVOID, f: impl FnOnce(&mut PciDevice) -> R) -> Option<R> {
    let cpu = crate::machine::cpu();
    let mut st = cpu.lock();
    let index = st.pci.index_of(Pdo::from_raw(context as usize))?;
    Some(f(&mut st.pci.devices[index]))
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn bus_interface_reference(context: PVOID) {
    with_device(context, |d| d.interface_refs += 1);
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn bus_interface_dereference(context: PVOID) {
    let underflow = with_device(context, |d| match d.interface_refs.checked_sub(1) {
        Some(n) => {
            d.interface_refs = n;
            false
        }
        None => true,
    });
    if underflow == Some(true) {
        crate::machine::cpu().lock().report(
            bugcheck::NTSIM_CHECK,
            crate::verifier::ntsim_code::IO_MISUSE,
            [context as u64, 0, 0],
            "InterfaceDereference",
            "BUS_INTERFACE_STANDARD dereferenced more often than referenced".to_string(),
        );
    }
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn bus_translate_address(
    _context: PVOID,
    bus_address: PHYSICAL_ADDRESS,
    _length: ULONG,
    _address_space: *mut ULONG,
    translated: *mut PHYSICAL_ADDRESS,
) -> BOOLEAN {
    if translated.is_null() {
        return FALSE;
    }
    // Translation is the identity (see the module documentation).
    // SAFETY: the caller's out pointer.
    unsafe { translated.write(bus_address) };
    TRUE
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn bus_get_dma_adapter(
    context: PVOID,
    description: *mut DEVICE_DESCRIPTION,
    map_registers: *mut ULONG,
) -> *mut DMA_ADAPTER {
    // SAFETY: forwarded to the HAL with the PDO the interface was made for.
    unsafe { crate::hal::adapter::IoGetDmaAdapter(context.cast(), description, map_registers) }
}

/// The bytes of config space `[offset, offset + length)` that exist, as a range.
fn config_span(data_type: ULONG, offset: ULONG, length: ULONG) -> Option<std::ops::Range<usize>> {
    let offset = offset as usize;
    if data_type != PCI_WHICHSPACE_CONFIG || offset >= 256 {
        return None;
    }
    Some(offset..offset + (length as usize).min(256 - offset))
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn bus_get_data(
    context: PVOID,
    data_type: ULONG,
    buffer: PVOID,
    offset: ULONG,
    length: ULONG,
) -> ULONG {
    if buffer.is_null() {
        return 0;
    }
    if data_type == PCI_WHICHSPACE_ROM {
        return with_device(context, |d| {
            let Some(rom) = &d.rom else { return 0 };
            let start = (offset as usize).min(rom.len());
            let end = start + (length as usize).min(rom.len() - start);
            // SAFETY: the caller's buffer holds `length` >= `end - start` bytes.
            unsafe {
                std::ptr::copy_nonoverlapping(rom[start..end].as_ptr(), buffer.cast(), end - start)
            };
            (end - start) as ULONG
        })
        .unwrap_or(0);
    }
    let Some(span) = config_span(data_type, offset, length) else {
        return 0;
    };
    with_device(context, |d| {
        let bytes = &d.config[span.clone()];
        // SAFETY: the caller's buffer holds `length` >= `bytes.len()` bytes.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), buffer.cast(), bytes.len()) };
        bytes.len() as ULONG
    })
    .unwrap_or(0)
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn bus_set_data(
    context: PVOID,
    data_type: ULONG,
    buffer: PVOID,
    offset: ULONG,
    length: ULONG,
) -> ULONG {
    let Some(span) = config_span(data_type, offset, length) else {
        return 0;
    };
    if buffer.is_null() {
        return 0;
    }
    with_device(context, |d| {
        for (i, at) in span.clone().enumerate() {
            // SAFETY: the caller's buffer holds `length` >= `span.len()` bytes.
            let byte = unsafe { buffer.cast::<u8>().add(i).read() };
            if config_writable(at) {
                d.config[at] = byte;
            }
        }
        span.len() as ULONG
    })
    .unwrap_or(0)
}

/// `HalGetBusDataByOffset`: configuration space by bus and slot, as the HAL scans it.
/// `PCIConfiguration` only. Every device of the simulated bus is on bus 0, device number = the
/// order it was plugged, function 0. A slot without a device returns 2 bytes, the invalid
/// vendor ID 0xFFFF (as the documentation says); a bus that does not exist returns 0.
///
/// # Safety
/// `Buffer` is valid for writes of `Length` bytes.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn HalGetBusDataByOffset(
    BusDataType: ddk_sys::BUS_DATA_TYPE,
    BusNumber: ULONG,
    SlotNumber: ULONG,
    Buffer: PVOID,
    Offset: ULONG,
    Length: ULONG,
) -> ULONG {
    if BusDataType != ddk_sys::BUS_DATA_TYPE::PCIConfiguration || BusNumber != 0 || Buffer.is_null()
    {
        return 0;
    }
    // PCI_SLOT_NUMBER: device in bits 0..5, function in bits 5..8.
    let (device, function) = ((SlotNumber & 0x1F) as usize, (SlotNumber >> 5) & 0x7);
    let config = {
        let cpu = crate::machine::cpu();
        let st = cpu.lock();
        (function == 0)
            .then(|| st.pci.devices.get(device).map(|d| d.config))
            .flatten()
    };
    let Some(config) = config else {
        if Length < 2 {
            return 0;
        }
        // SAFETY: at least 2 writable bytes (contract).
        unsafe { Buffer.cast::<u16>().write_unaligned(0xFFFF) };
        return 2;
    };
    let Some(span) = config_span(PCI_WHICHSPACE_CONFIG, Offset, Length) else {
        return 0;
    };
    let bytes = &config[span];
    // SAFETY: `Length` >= `bytes.len()` writable bytes (contract).
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), Buffer.cast(), bytes.len()) };
    bytes.len() as ULONG
}
