//! QEMU's `edu` educational PCI device (1234:11e8), modeled from QEMU's `docs/specs/edu.rst`.
//!
//! BAR0 is 1 MiB of MMIO. Registers below 0x80 take 4-byte accesses only; from 0x80 up, 4 or 8
//! bytes. The DMA engine moves `count` bytes in one contiguous run between a bus address and
//! the device's 4 KiB buffer (device addresses 0x40000..0x41000), reaching memory only through
//! the device's IOMMU-style view, so a transfer to an unmapped address is a verifier violation.
//! Bus addresses are masked with `dma_mask` as QEMU does (28 bits unless the VM sets it): an
//! address that loses bits is reported (`EDU_DMA_TRUNCATED`), and the DMA then goes to the
//! truncated address — the silent corruption QEMU would commit, made visible.
//!
//! Timing: factorial and DMA complete as device events (`on_event`), run by
//! `Machine::run_until_idle`, not during the register write that starts them.

use crate::pci::{BarKind, BarSpec, DeviceContext, PciDeviceModel};
use crate::types::BusAddress;

pub const VENDOR_ID: u16 = 0x1234;
pub const DEVICE_ID: u16 = 0x11e8;
/// Identification register value: version 1.0 (`0xRRrr00ed`).
pub const IDENTIFICATION: u32 = 0x0100_00ed;
/// QEMU's default `dma_mask`: 28 bits.
pub const DEFAULT_DMA_MASK: u64 = (1 << 28) - 1;
pub const BAR0_SIZE: u64 = 1 << 20;
/// Device address of the DMA buffer, and its size.
pub const BUFFER_ADDRESS: u64 = 0x40000;
pub const BUFFER_SIZE: usize = 4096;

pub mod reg {
    pub const IDENTIFICATION: u64 = 0x00;
    pub const LIVENESS: u64 = 0x04;
    pub const FACTORIAL: u64 = 0x08;
    pub const STATUS: u64 = 0x20;
    pub const INTERRUPT_STATUS: u64 = 0x24;
    pub const INTERRUPT_RAISE: u64 = 0x60;
    pub const INTERRUPT_ACK: u64 = 0x64;
    pub const DMA_SOURCE: u64 = 0x80;
    pub const DMA_DESTINATION: u64 = 0x88;
    pub const DMA_COUNT: u64 = 0x90;
    pub const DMA_COMMAND: u64 = 0x98;
}

pub mod status {
    /// Factorial in progress (read-only).
    pub const COMPUTING: u32 = 0x01;
    /// Raise interrupt 0x01 when the factorial finishes.
    pub const IRQ_ON_FACTORIAL: u32 = 0x80;
}

pub mod command {
    pub const START: u64 = 0x01;
    /// 0: RAM -> device buffer; 1: device buffer -> RAM.
    pub const TO_RAM: u64 = 0x02;
    /// Raise interrupt [`super::DMA_INTERRUPT`] when done.
    pub const IRQ: u64 = 0x04;
}

/// Interrupt status bit raised at the end of a DMA with `command::IRQ`.
pub const DMA_INTERRUPT: u32 = 0x100;
/// Interrupt status bit raised at the end of a factorial with `status::IRQ_ON_FACTORIAL`.
pub const FACTORIAL_INTERRUPT: u32 = 0x001;

/// Violation codes the model reports (under ntsim's own check).
pub mod violation {
    /// A DMA bus address had bits outside `dma_mask`; the DMA used the truncated address.
    pub const EDU_DMA_TRUNCATED: u32 = 0x100;
    /// A DMA range outside the device buffer (QEMU: guest error); nothing was moved.
    pub const EDU_DMA_OUT_OF_BUFFER: u32 = 0x101;
    /// A register access of a size the spec does not allow.
    pub const EDU_BAD_ACCESS: u32 = 0x102;
    /// The device's DMA hit an address not mapped for it (the IOMMU view refused it).
    pub const EDU_DMA_FAULT: u32 = 0x103;
}

const EVENT_FACTORIAL: u64 = 1;
const EVENT_DMA: u64 = 2;

/// One completed DMA, for test and trace inspection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DmaRecord {
    /// Bus address as programmed.
    pub programmed: u64,
    /// Bus address used after the mask.
    pub used: u64,
    pub count: u64,
    pub to_ram: bool,
    /// Whether the view accepted the whole transfer.
    pub ok: bool,
}

/// The device state.
pub struct Edu {
    dma_mask: u64,
    liveness: u32,
    factorial: u32,
    status: u32,
    interrupt_status: u32,
    dma_source: u64,
    dma_destination: u64,
    dma_count: u64,
    dma_command: u64,
    buffer: [u8; BUFFER_SIZE],
    /// Every DMA the engine ran, oldest first.
    pub dma_log: Vec<DmaRecord>,
}

impl Edu {
    /// An edu device with the given `dma_mask` (`-device edu,dma_mask=...`).
    pub fn new(dma_mask: u64) -> Edu {
        Edu {
            dma_mask,
            liveness: 0,
            factorial: 0,
            status: 0,
            interrupt_status: 0,
            dma_source: 0,
            dma_destination: 0,
            dma_count: 0,
            dma_command: 0,
            buffer: [0; BUFFER_SIZE],
            dma_log: Vec::new(),
        }
    }

    /// The device's 4 KiB buffer.
    pub fn buffer(&self) -> &[u8; BUFFER_SIZE] {
        &self.buffer
    }

    pub fn buffer_mut(&mut self) -> &mut [u8; BUFFER_SIZE] {
        &mut self.buffer
    }

    pub fn interrupt_status(&self) -> u32 {
        self.interrupt_status
    }

    fn raise(&mut self, ctx: &mut DeviceContext<'_>, bits: u32) {
        ctx.trace(|| format!("edu: interrupt {bits:#x} raised"));
        self.interrupt_status |= bits;
        if self.interrupt_status != 0 {
            ctx.raise_interrupt();
        }
    }

    fn acknowledge(&mut self, ctx: &mut DeviceContext<'_>, bits: u32) {
        self.interrupt_status &= !bits;
        if self.interrupt_status == 0 {
            ctx.lower_interrupt();
        }
    }

    /// QEMU's address clamp: AND with the mask, reported when bits were lost.
    fn clamp(&self, ctx: &mut DeviceContext<'_>, address: u64) -> u64 {
        let used = address & self.dma_mask;
        if used != address {
            ctx.report(
                violation::EDU_DMA_TRUNCATED,
                format!(
                    "edu: DMA address {address:#x} is outside dma_mask {:#x}; the device uses {used:#x}",
                    self.dma_mask
                ),
            );
        }
        used
    }

    /// The buffer range `[address, address + count)` as an index range, if inside the buffer.
    fn buffer_range(address: u64, count: u64) -> Option<core::ops::Range<usize>> {
        let start = address.checked_sub(BUFFER_ADDRESS)?;
        let end = start.checked_add(count)?;
        (end <= BUFFER_SIZE as u64).then_some(start as usize..end as usize)
    }

    fn run_dma(&mut self, ctx: &mut DeviceContext<'_>) {
        let to_ram = self.dma_command & command::TO_RAM != 0;
        let count = self.dma_count;
        let (device_side, ram_side) = if to_ram {
            (self.dma_source, self.dma_destination)
        } else {
            (self.dma_destination, self.dma_source)
        };
        match Self::buffer_range(device_side, count) {
            None => ctx.report(
                violation::EDU_DMA_OUT_OF_BUFFER,
                format!("edu: DMA of {count:#x} bytes at device address {device_side:#x} is outside the buffer"),
            ),
            Some(range) => {
                let used = self.clamp(ctx, ram_side);
                let address = BusAddress(used);
                let result = if to_ram {
                    ctx.dma().write(address, &self.buffer[range])
                } else {
                    ctx.dma().read(address, &mut self.buffer[range])
                };
                if let Err(fault) = &result {
                    ctx.report(violation::EDU_DMA_FAULT, format!("edu: DMA refused by the IOMMU view: {fault}"));
                }
                ctx.trace(|| {
                    format!(
                        "edu: DMA {} {count:#x} bytes, bus {used:#x}, device buffer +{:#x}",
                        if to_ram { "device -> RAM" } else { "RAM -> device" },
                        device_side - BUFFER_ADDRESS
                    )
                });
                self.dma_log.push(DmaRecord { programmed: ram_side, used, count, to_ram, ok: result.is_ok() });
            }
        }
        self.dma_command &= !command::START;
        if self.dma_command & command::IRQ != 0 {
            self.raise(ctx, DMA_INTERRUPT);
        }
    }
}

/// n! in 32-bit arithmetic, as the device computes it (wrapping).
fn factorial(n: u32) -> u32 {
    (1..=n).fold(1u32, |acc, k| acc.wrapping_mul(k))
}

impl PciDeviceModel for Edu {
    fn vendor_id(&self) -> u16 {
        VENDOR_ID
    }

    fn device_id(&self) -> u16 {
        DEVICE_ID
    }

    fn bars(&self) -> Vec<BarSpec> {
        vec![BarSpec {
            kind: BarKind::Memory32,
            size: BAR0_SIZE,
        }]
    }

    fn has_interrupt(&self) -> bool {
        true
    }

    fn read(&mut self, ctx: &mut DeviceContext<'_>, bar: usize, offset: u64, size: u8) -> u64 {
        if bar != 0 || !access_allowed(offset, size) {
            ctx.report(
                violation::EDU_BAD_ACCESS,
                format!("edu: read of {size} bytes at BAR{bar}+{offset:#x}"),
            );
            return u64::MAX;
        }
        match offset {
            reg::IDENTIFICATION => IDENTIFICATION.into(),
            reg::LIVENESS => self.liveness.into(),
            reg::FACTORIAL => self.factorial.into(),
            reg::STATUS => self.status.into(),
            reg::INTERRUPT_STATUS => self.interrupt_status.into(),
            reg::DMA_SOURCE => self.dma_source,
            reg::DMA_DESTINATION => self.dma_destination,
            reg::DMA_COUNT => self.dma_count,
            reg::DMA_COMMAND => self.dma_command,
            _ => u64::MAX,
        }
    }

    fn write(
        &mut self,
        ctx: &mut DeviceContext<'_>,
        bar: usize,
        offset: u64,
        size: u8,
        value: u64,
    ) {
        if bar != 0 || !access_allowed(offset, size) {
            ctx.report(
                violation::EDU_BAD_ACCESS,
                format!("edu: write of {size} bytes at BAR{bar}+{offset:#x}"),
            );
            return;
        }
        let value32 = value as u32;
        match offset {
            reg::LIVENESS => self.liveness = !value32,
            reg::FACTORIAL if self.status & status::COMPUTING == 0 => {
                self.factorial = value32;
                self.status |= status::COMPUTING;
                ctx.schedule(EVENT_FACTORIAL);
            }
            reg::STATUS => {
                self.status =
                    (self.status & status::COMPUTING) | (value32 & status::IRQ_ON_FACTORIAL);
            }
            reg::INTERRUPT_RAISE => self.raise(ctx, value32),
            reg::INTERRUPT_ACK => self.acknowledge(ctx, value32),
            reg::DMA_SOURCE => set_part(&mut self.dma_source, size, value),
            reg::DMA_DESTINATION => set_part(&mut self.dma_destination, size, value),
            reg::DMA_COUNT => set_part(&mut self.dma_count, size, value),
            reg::DMA_COMMAND if self.dma_command & command::START == 0 => {
                set_part(&mut self.dma_command, size, value);
                if self.dma_command & command::START != 0 {
                    ctx.schedule(EVENT_DMA);
                }
            }
            _ => {}
        }
    }

    fn on_event(&mut self, ctx: &mut DeviceContext<'_>, token: u64) {
        match token {
            EVENT_FACTORIAL => {
                self.factorial = factorial(self.factorial);
                self.status &= !status::COMPUTING;
                if self.status & status::IRQ_ON_FACTORIAL != 0 {
                    self.raise(ctx, FACTORIAL_INTERRUPT);
                }
            }
            EVENT_DMA => self.run_dma(ctx),
            _ => {}
        }
    }
}

/// Sizes the spec allows: 4 bytes below 0x80, 4 or 8 from 0x80 up (naturally aligned).
fn access_allowed(offset: u64, size: u8) -> bool {
    let sizes_ok = if offset < 0x80 {
        size == 4
    } else {
        size == 4 || size == 8
    };
    sizes_ok && offset % u64::from(size) == 0 && offset + u64::from(size) <= BAR0_SIZE
}

/// A 4-byte write replaces the low half of a 64-bit register (as QEMU's edu does); 8 replaces all.
fn set_part(register: &mut u64, size: u8, value: u64) {
    *register = if size == 8 {
        value
    } else {
        value & 0xffff_ffff
    };
}
