//! The edu device's register map, from QEMU's `docs/specs/edu.rst` (BAR0, 1 MiB of MMIO).

pub const VENDOR_ID: u16 = 0x1234;
pub const DEVICE_ID: u16 = 0x11e8;
pub const BAR0_SIZE: u32 = 1 << 20;

/// Identification: `0xRRrr00ed`; the low byte identifies the device.
pub const IDENTIFICATION: u32 = 0x00;
pub const IDENTIFICATION_MAGIC: u32 = 0xed;
/// Liveness: reads back the bitwise NOT of the last value written.
pub const LIVENESS: u32 = 0x04;
/// Interrupt status (read) / raise (write) / acknowledge (write).
pub const INTERRUPT_STATUS: u32 = 0x24;
pub const INTERRUPT_ACK: u32 = 0x64;
/// DMA engine: source, destination, count, command (4-byte writes load the low 32 bits).
pub const DMA_SOURCE: u32 = 0x80;
pub const DMA_DESTINATION: u32 = 0x88;
pub const DMA_COUNT: u32 = 0x90;
pub const DMA_COMMAND: u32 = 0x98;

pub const DMA_START: u32 = 0x01;
/// Direction: device buffer -> RAM (clear: RAM -> device buffer).
pub const DMA_TO_RAM: u32 = 0x02;
pub const DMA_IRQ: u32 = 0x04;
/// Interrupt status bit of a finished DMA.
pub const DMA_INTERRUPT: u32 = 0x100;

/// The device buffer: 4 KiB at device address 0x40000.
pub const BUFFER_ADDRESS: u32 = 0x40000;
pub const BUFFER_SIZE: u32 = 4096;
