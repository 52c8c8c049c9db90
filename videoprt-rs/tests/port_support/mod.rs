//! A small PCI device model and a Rust test miniport for the port-core tests.
//!
//! Device "VPRS test" (1af4:10f0): BAR0 is 4 KiB of MMIO with
//! * 0x00 ID (read-only, 0x5650_5253),
//! * 0x04 SCRATCH (read/write),
//! * 0x08 DOORBELL (write: after one device event, STATUS.bit0 is set and the line asserted),
//! * 0x0C STATUS (read; write 1s to clear bits; clearing bit0 lowers the line);
//!
//! BAR1 is 16 I/O ports; port 0 echoes the last byte written to it.
//!
//! The miniport maps BAR0 in HwFindAdapter, checks ID in HwInitialize, acknowledges the
//! interrupt in HwInterrupt and queues a DPC that counts, and answers IOCTLs.
#![allow(dead_code, non_snake_case)]

use core::ptr::null_mut;
use ddk_sys::*;
use ntsim::{BarKind, BarSpec, DeviceContext, PciDeviceModel};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Mutex;
use videoprt::port::initialize::VideoPortInitialize;
use videoprt::port::interrupt::VideoPortQueueDpc;
use videoprt::port::registers::*;
use videoprt::port::resources::{VideoPortGetAccessRanges, VideoPortGetDeviceBase};

pub const ID: u32 = 0x5650_5253;
pub const REG_ID: u64 = 0x00;
pub const REG_SCRATCH: u64 = 0x04;
pub const REG_DOORBELL: u64 = 0x08;
pub const REG_STATUS: u64 = 0x0C;

#[derive(Default)]
pub struct TestDevice {
    pub scratch: u32,
    pub status: u32,
    pub port0: u8,
    pub doorbells: u32,
    pub reads: u32,
}

impl PciDeviceModel for TestDevice {
    fn vendor_id(&self) -> u16 {
        0x1af4
    }
    fn device_id(&self) -> u16 {
        0x10f0
    }
    fn bars(&self) -> Vec<BarSpec> {
        vec![
            BarSpec {
                kind: BarKind::Memory32,
                size: 4096,
            },
            BarSpec {
                kind: BarKind::Io,
                size: 16,
            },
        ]
    }
    fn has_interrupt(&self) -> bool {
        true
    }
    fn read(&mut self, _ctx: &mut DeviceContext<'_>, bar: usize, offset: u64, size: u8) -> u64 {
        self.reads += 1;
        // A narrower read returns the addressed bytes of the 32-bit register, as on a bus.
        let register = match (bar, offset & !3) {
            (0, REG_ID) => ID as u64,
            (0, REG_SCRATCH) => self.scratch as u64,
            (0, REG_STATUS) => self.status as u64,
            (1, 0) if offset == 0 => self.port0 as u64,
            _ => 0,
        };
        let shifted = register >> (8 * (offset & 3));
        if size >= 8 {
            shifted
        } else {
            shifted & ((1u64 << (8 * size)) - 1)
        }
    }
    fn write(
        &mut self,
        ctx: &mut DeviceContext<'_>,
        bar: usize,
        offset: u64,
        _size: u8,
        value: u64,
    ) {
        match (bar, offset) {
            (0, REG_SCRATCH) => self.scratch = value as u32,
            (0, REG_DOORBELL) => {
                self.doorbells += 1;
                ctx.schedule(1);
            }
            (0, REG_STATUS) => {
                self.status &= !(value as u32);
                if self.status & 1 == 0 {
                    ctx.lower_interrupt();
                }
            }
            (1, 0) => self.port0 = value as u8,
            _ => {}
        }
    }
    fn on_event(&mut self, ctx: &mut DeviceContext<'_>, token: u64) {
        if token == 1 {
            self.status |= 1;
            ctx.raise_interrupt();
        }
    }
}

/// The miniport's HwDeviceExtension.
#[repr(C)]
pub struct Extension {
    pub bar0: *mut u8,
    pub ports: *mut u8,
    pub bar0_length: u32,
    pub interrupts: u32,
    pub dpcs: u32,
    pub isr_irql: u8,
    pub dpc_irql: u8,
}

pub const IOCTL_GET_ID: u32 = CTL_CODE(FILE_DEVICE_VIDEO, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS);
pub const IOCTL_SET_SCRATCH: u32 =
    CTL_CODE(FILE_DEVICE_VIDEO, 0x801, METHOD_BUFFERED, FILE_ANY_ACCESS);
pub const IOCTL_RING: u32 = CTL_CODE(FILE_DEVICE_VIDEO, 0x802, METHOD_BUFFERED, FILE_ANY_ACCESS);
pub const IOCTL_COUNTS: u32 =
    CTL_CODE(FILE_DEVICE_VIDEO, 0x803, METHOD_OUT_DIRECT, FILE_ANY_ACCESS);
pub const IOCTL_LIAR: u32 = CTL_CODE(FILE_DEVICE_VIDEO, 0x804, METHOD_BUFFERED, FILE_ANY_ACCESS);
pub const IOCTL_NEITHER: u32 = CTL_CODE(FILE_DEVICE_VIDEO, 0x805, METHOD_NEITHER, FILE_ANY_ACCESS);

/// What the test miniport does wrong, for bad-input tests.
pub static FAULT: AtomicU32 = AtomicU32::new(0);
pub const FAULT_NONE: u32 = 0;
pub const FAULT_FIND_FAILS: u32 = 1;
pub const FAULT_INIT_FAILS: u32 = 2;
pub const FAULT_MAP_OUTSIDE: u32 = 3;
/// The last HwDeviceExtension the miniport saw (for direct calls in tests).
pub static LAST_HW: AtomicUsize = AtomicUsize::new(0);
pub static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn log(s: impl Into<String>) {
    LOG.lock().unwrap().push(s.into());
}

unsafe fn ext<'a>(hw: PVOID) -> &'a mut Extension {
    // SAFETY: the port passes the miniport's own extension.
    unsafe { &mut *(hw as *mut Extension) }
}

#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn find_adapter(
    hw: PVOID,
    _ctx: PVOID,
    _args: *mut WCHAR,
    config: PVIDEO_PORT_CONFIG_INFO,
    _again: *mut UCHAR,
) -> VP_STATUS {
    LAST_HW.store(hw as usize, Ordering::SeqCst);
    // SAFETY: the port's config and the miniport's extension.
    unsafe {
        assert_eq!((*config).Length, size_of::<VIDEO_PORT_CONFIG_INFO>() as u32);
        assert_eq!((*config).AdapterInterfaceType, INTERFACE_TYPE::PCIBus);
        let mut ranges = [VIDEO_ACCESS_RANGE::default(); 2];
        let vp = VideoPortGetAccessRanges(
            hw,
            0,
            null_mut(),
            2,
            ranges.as_mut_ptr(),
            null_mut(),
            null_mut(),
            null_mut(),
        );
        if vp != NO_ERROR {
            return vp;
        }
        if FAULT.load(Ordering::SeqCst) == FAULT_FIND_FAILS {
            return ERROR_DEV_NOT_EXIST;
        }
        let e = ext(hw);
        let start = if FAULT.load(Ordering::SeqCst) == FAULT_MAP_OUTSIDE {
            PHYSICAL_ADDRESS::new(ranges[0].RangeStart.get() + 0x10_0000)
        } else {
            ranges[0].RangeStart
        };
        e.bar0 = VideoPortGetDeviceBase(hw, start, ranges[0].RangeLength, 0).cast();
        if e.bar0.is_null() {
            return ERROR_INVALID_PARAMETER;
        }
        e.bar0_length = ranges[0].RangeLength;
        assert_eq!(ranges[1].RangeInIoSpace, 1);
        e.ports = VideoPortGetDeviceBase(hw, ranges[1].RangeStart, ranges[1].RangeLength, 1).cast();
        log(format!(
            "find: irq level {} vector {}",
            (*config).BusInterruptLevel,
            (*config).BusInterruptVector
        ));
    }
    NO_ERROR
}

#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn initialize(hw: PVOID) -> BOOLEAN {
    // SAFETY: the extension's mapped BAR0.
    unsafe {
        let e = ext(hw);
        let id = VideoPortReadRegisterUlong(e.bar0.add(REG_ID as usize).cast());
        if id != ID || FAULT.load(Ordering::SeqCst) == FAULT_INIT_FAILS {
            return FALSE;
        }
    }
    TRUE
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn dpc(hw: PVOID, context: PVOID) {
    // SAFETY: the extension.
    let e = unsafe { ext(hw) };
    e.dpcs += context as u32;
    e.dpc_irql = KeGetCurrentIrql();
}

#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn interrupt(hw: PVOID) -> BOOLEAN {
    // SAFETY: the extension's mapped BAR0.
    unsafe {
        let e = ext(hw);
        let status = VideoPortReadRegisterUlong(e.bar0.add(REG_STATUS as usize).cast());
        if status & 1 == 0 {
            return FALSE;
        }
        VideoPortWriteRegisterUlong(e.bar0.add(REG_STATUS as usize).cast(), 1);
        e.interrupts += 1;
        e.isr_irql = KeGetCurrentIrql();
        VideoPortQueueDpc(hw, Some(dpc), 1 as PVOID);
    }
    TRUE
}

#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn start_io(hw: PVOID, vrp: PVIDEO_REQUEST_PACKET) -> BOOLEAN {
    // SAFETY: the port's VRP and the extension.
    unsafe {
        let e = ext(hw);
        let v = &mut *vrp;
        let sb = &mut *v.StatusBlock;
        sb.Information = 0;
        sb.Status = match v.IoControlCode {
            IOCTL_GET_ID => {
                if v.OutputBufferLength < 4 || v.OutputBuffer.is_null() {
                    ERROR_INSUFFICIENT_BUFFER
                } else {
                    let id = VideoPortReadRegisterUlong(e.bar0.add(REG_ID as usize).cast());
                    v.OutputBuffer.cast::<u32>().write_unaligned(id);
                    sb.Information = 4;
                    NO_ERROR
                }
            }
            IOCTL_SET_SCRATCH => {
                if v.InputBufferLength < 4 || v.InputBuffer.is_null() {
                    ERROR_INSUFFICIENT_BUFFER
                } else {
                    let value = v.InputBuffer.cast::<u32>().read_unaligned();
                    VideoPortWriteRegisterUlong(e.bar0.add(REG_SCRATCH as usize).cast(), value);
                    VideoPortWritePortUchar(e.ports, value as u8);
                    NO_ERROR
                }
            }
            IOCTL_RING => {
                VideoPortWriteRegisterUlong(e.bar0.add(REG_DOORBELL as usize).cast(), 1);
                NO_ERROR
            }
            IOCTL_COUNTS => {
                if v.OutputBufferLength < 12 {
                    ERROR_INSUFFICIENT_BUFFER
                } else {
                    let out = v.OutputBuffer.cast::<u32>();
                    out.write_unaligned(e.interrupts);
                    out.add(1).write_unaligned(e.dpcs);
                    out.add(2)
                        .write_unaligned(VideoPortReadPortUchar(e.ports) as u32);
                    sb.Information = 12;
                    NO_ERROR
                }
            }
            IOCTL_LIAR => {
                sb.Information = v.OutputBufferLength as usize + 100;
                NO_ERROR
            }
            _ => ERROR_INVALID_FUNCTION,
        };
    }
    TRUE
}

pub fn init_data() -> VIDEO_HW_INITIALIZATION_DATA {
    // SAFETY: all-zero is valid (DriverEntry must zero it first anyway).
    let mut d: VIDEO_HW_INITIALIZATION_DATA = unsafe { core::mem::zeroed() };
    d.HwInitDataSize = SIZE_OF_WXP_VIDEO_HW_INITIALIZATION_DATA;
    d.HwFindAdapter = Some(find_adapter);
    d.HwInitialize = Some(initialize);
    d.HwInterrupt = Some(interrupt);
    d.HwStartIO = Some(start_io);
    d.HwDeviceExtensionSize = size_of::<Extension>() as u32;
    d
}

/// The test miniport's DriverEntry.
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn driver_entry(
    driver: *mut DRIVER_OBJECT,
    path: *mut UNICODE_STRING,
) -> NTSTATUS {
    let mut data = init_data();
    // SAFETY: DriverEntry's arguments, passed on as VideoPortInitialize wants.
    NTSTATUS(
        unsafe { VideoPortInitialize(driver.cast(), path.cast(), &mut data, null_mut()) } as i32,
    )
}

/// Tests in one binary share the statics above: each holds this for its whole run.
pub static SERIAL: Mutex<()> = Mutex::new(());

pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    let g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    FAULT.store(FAULT_NONE, Ordering::SeqCst);
    LOG.lock().unwrap().clear();
    g
}

/// The port codes (bug check VPRS) and ntsim codes reported so far, draining them.
pub fn take_codes(machine: &ntsim::Machine) -> Vec<(u32, u32)> {
    machine
        .take_violations()
        .iter()
        .map(|v| (v.bugcheck, v.code))
        .collect()
}
