//! The miniport's HwDeviceExtension, and access to the edu registers through the port.
//!
//! Invariants: `registers` is the port's mapping of BAR0 (at least `edu::BAR0_SIZE` bytes) from
//! HwFindAdapter on; `adapter` and the common buffer are valid from HwFindAdapter until the
//! device goes away (XDDM miniports keep them for the device's life).

use crate::edu;
use crate::videoport::*;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, Ordering};
use ddk_sys::*;

/// What an operation in flight on the edu engine is.
pub mod operation {
    pub const IDLE: u32 = 0;
    /// A packet-DMA chunk: HwVidExecuteDma programs the first element, the DPC the rest.
    pub const PACKET: u32 = 1;
    /// One engine run against the common buffer.
    pub const COMMON: u32 = 2;
}

/// DMA progress, shared by HwStartIO (PASSIVE), HwVidExecuteDma and the DPC (DISPATCH).
pub struct DmaProgress {
    pub operation: AtomicU32,
    pub to_device: AtomicBool,
    /// The current chunk's list (from HwVidExecuteDma until CompleteDma).
    pub list: AtomicPtr<VP_SCATTER_GATHER_LIST>,
    /// Next element of `list` to program.
    pub next_element: AtomicU32,
    /// Device buffer address the next element moves to or from.
    pub device_address: AtomicU32,
    /// Set by the DPC when the operation has finished (and, for packets, been completed).
    pub done: AtomicBool,
    /// Interrupts taken (for the trace and tests).
    pub interrupts: AtomicU32,
}

#[repr(C)]
pub struct DeviceExtension {
    pub registers: *mut u8,
    pub adapter: PVP_DMA_ADAPTER,
    pub common_va: *mut u8,
    pub common_logical: PHYSICAL_ADDRESS,
    pub dma: DmaProgress,
}

impl DeviceExtension {
    /// # Safety
    /// `hw` must be the HwDeviceExtension the port passed to a callback of this miniport.
    pub unsafe fn from_hw<'a>(hw: PVOID) -> &'a DeviceExtension {
        // SAFETY: the port allocated HwDeviceExtensionSize bytes for a DeviceExtension, zeroed
        // (a valid initial value for every field), and HwFindAdapter filled it in.
        unsafe { &*(hw as *const DeviceExtension) }
    }

    /// # Safety
    /// As [`from_hw`](Self::from_hw), and no other reference may be live (HwFindAdapter only).
    pub unsafe fn from_hw_mut<'a>(hw: PVOID) -> &'a mut DeviceExtension {
        // SAFETY: as above; HwFindAdapter runs before any other callback.
        unsafe { &mut *(hw as *mut DeviceExtension) }
    }

    fn register(&self, offset: u32) -> *mut ULONG {
        debug_assert!(offset < edu::BAR0_SIZE);
        // SAFETY: offsets are register constants inside the mapped BAR0 (type invariant).
        unsafe { self.registers.add(offset as usize).cast() }
    }

    pub fn read(&self, offset: u32) -> u32 {
        // SAFETY: a register of the mapped BAR0.
        unsafe { VideoPortReadRegisterUlong(self.register(offset)) }
    }

    pub fn write(&self, offset: u32, value: u32) {
        // SAFETY: a register of the mapped BAR0.
        unsafe { VideoPortWriteRegisterUlong(self.register(offset), value) }
    }

    /// Starts one engine run: `count` bytes between bus address `bus` and the device buffer at
    /// `device_address`, raising the DMA interrupt when done.
    pub fn start_engine(
        &self,
        bus: PHYSICAL_ADDRESS,
        device_address: u32,
        count: u32,
        to_device: bool,
    ) {
        // The adapter is 32-bit, so every bus address fits a 4-byte register write.
        let bus = bus.low_part();
        if to_device {
            self.write(edu::DMA_SOURCE, bus);
            self.write(edu::DMA_DESTINATION, device_address);
        } else {
            self.write(edu::DMA_SOURCE, device_address);
            self.write(edu::DMA_DESTINATION, bus);
        }
        self.write(edu::DMA_COUNT, count);
        let direction = if to_device { 0 } else { edu::DMA_TO_RAM };
        self.write(edu::DMA_COMMAND, edu::DMA_START | edu::DMA_IRQ | direction);
    }

    /// Resets the progress record for a new operation.
    pub fn begin(&self, operation: u32, to_device: bool, device_address: u32) {
        self.dma.done.store(false, Ordering::Relaxed);
        self.dma.to_device.store(to_device, Ordering::Relaxed);
        self.dma
            .device_address
            .store(device_address, Ordering::Relaxed);
        self.dma.next_element.store(0, Ordering::Relaxed);
        self.dma
            .list
            .store(core::ptr::null_mut(), Ordering::Relaxed);
        self.dma.operation.store(operation, Ordering::Release);
    }

    /// Waits (at PASSIVE_LEVEL) until the DPC marks the operation done, letting time pass with
    /// VideoPortStallExecution. Returns false if the device did not finish in `timeout_us`.
    pub fn wait_done(&self, timeout_us: u32) -> bool {
        const STEP_US: u32 = 10;
        let mut waited = 0;
        while !self.dma.done.load(Ordering::Acquire) {
            if waited >= timeout_us {
                return false;
            }
            // SAFETY: a plain delay at PASSIVE_LEVEL.
            unsafe { VideoPortStallExecution(STEP_US) };
            waited += STEP_US;
        }
        self.dma.operation.store(operation::IDLE, Ordering::Release);
        true
    }
}
