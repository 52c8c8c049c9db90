//! The HAL's x86 BIOS emulator: `x86BiosCall`, `x86BiosAllocateBuffer`, `x86BiosFreeBuffer`,
//! `x86BiosReadMemory`, `x86BiosWriteMemory` (exported by `hal.dll` from Windows Vista on; the
//! video port reaches INT 10h through them on x64, where there is no V86 mode).
//!
//! Model:
//! * A real-mode address space of 1 MiB per machine ([`RealMemory`]): conventional memory
//!   below 0xA0000, the legacy VGA window 0xA0000-0xBFFFF (plain memory here), and ROM from
//!   0xC0000 (the video BIOS at C000:0000): reads work everywhere, writes to ROM are dropped as
//!   on hardware. An address range that leaves the 1 MiB fails with STATUS_INVALID_PARAMETER.
//! * Transfer buffers ([`BUFFER_WINDOW`]): 16 pages at 2000:0000, handed out in whole pages,
//!   first fit, each at offset 0 of its own segment. A request of 0 bytes or more than the
//!   window is STATUS_INVALID_PARAMETER / STATUS_INSUFFICIENT_RESOURCES; freeing an address
//!   that is not an allocation's start is STATUS_INVALID_PARAMETER. Buffers still allocated
//!   are leaks ([`LeakKind::BiosBuffer`]).
//! * `x86BiosCall(0x10, ...)` runs the video BIOS of the first Bochs display on the bus
//!   ([`crate::devices::vbe`]); without one, INT 10h is a bare IRET (registers unchanged,
//!   TRUE). Other interrupts are not emulated: FALSE, as the emulator answers what it cannot
//!   run.
//! * All five are PASSIVE_LEVEL (a higher IRQL is reported as 0xA and fails); a NULL pointer
//!   argument is reported ([`ntsim_code::BAD_ARGUMENT`]) and fails. Fault injection:
//!   [`FaultKind::BiosCall`] makes a call fail, [`FaultKind::BiosBuffer`] an allocation.
//! * A machine that plays a Windows older than Vista has none of them
//!   ([`crate::kernel_exports`]).

use crate::devices::bochs::Bochs;
use crate::fault::FaultKind;
use crate::machine::{cpu, Machine, State};
use crate::pci::with_model;
use crate::verifier::{bugcheck, ntsim_code, LeakKind, LeakReport};
use ddk_sys::*;
use std::any::Any;
use std::sync::{Arc, Mutex};

/// Bytes of real-mode address space.
pub const REAL_MEMORY: usize = 1 << 20;
/// First byte of ROM (the video BIOS segment C000h).
pub const ROM_START: u32 = 0xC0000;
/// The transfer-buffer window: linear start and length.
pub const BUFFER_WINDOW: (u32, u32) = (0x20000, 16 * 4096);
const PAGE: u32 = 4096;

/// The 1 MiB real-mode address space.
pub struct RealMemory {
    bytes: Vec<u8>,
}

impl Default for RealMemory {
    fn default() -> Self {
        RealMemory {
            bytes: vec![0; REAL_MEMORY],
        }
    }
}

/// `segment:offset` as a linear address.
pub fn linear(segment: u16, offset: u16) -> u32 {
    (u32::from(segment) << 4) + u32::from(offset)
}

impl RealMemory {
    fn span(at: u32, len: usize) -> Option<core::ops::Range<usize>> {
        let start = at as usize;
        let end = start.checked_add(len)?;
        (end <= REAL_MEMORY).then_some(start..end)
    }

    /// Reads `out.len()` bytes at linear `at`; false if that leaves the 1 MiB.
    pub fn read(&self, at: u32, out: &mut [u8]) -> bool {
        match Self::span(at, out.len()) {
            Some(r) => {
                out.copy_from_slice(&self.bytes[r]);
                true
            }
            None => false,
        }
    }

    /// Writes `data` at linear `at` as the processor would: bytes that fall in ROM are dropped.
    /// False (nothing written) if the range leaves the 1 MiB.
    pub fn write(&mut self, at: u32, data: &[u8]) -> bool {
        let Some(r) = Self::span(at, data.len()) else {
            return false;
        };
        let writable = (ROM_START as usize).saturating_sub(r.start).min(data.len());
        self.bytes[r.start..r.start + writable].copy_from_slice(&data[..writable]);
        true
    }

    /// Places ROM contents (the BIOS itself writing its tables).
    pub fn write_rom(&mut self, at: u32, data: &[u8]) {
        if let Some(r) = Self::span(at, data.len()) {
            self.bytes[r].copy_from_slice(data);
        }
    }
}

/// The emulator's state in a machine.
#[derive(Default)]
pub(crate) struct Bios {
    /// Shared so a device model can use it without the machine lock.
    pub memory: Arc<Mutex<RealMemory>>,
    /// Allocated buffers: (linear start, bytes), sorted by start.
    buffers: Vec<(u32, u32)>,
}

impl Bios {
    fn allocate(&mut self, size: u32) -> Option<u32> {
        let bytes = size.div_ceil(PAGE) * PAGE;
        let (window, window_len) = BUFFER_WINDOW;
        let mut at = window;
        for &(start, len) in &self.buffers {
            if start - at >= bytes {
                break;
            }
            at = start + len;
        }
        if at + bytes > window + window_len {
            return None;
        }
        let i = self.buffers.partition_point(|&(s, _)| s < at);
        self.buffers.insert(i, (at, bytes));
        Some(at)
    }

    pub(crate) fn leaks(&self, report: &mut LeakReport) {
        for &(start, len) in &self.buffers {
            report.push(
                LeakKind::BiosBuffer,
                format!(
                    "{len} bytes of real-mode memory at {:04X}:0000 (x86BiosAllocateBuffer) \
                     never freed (x86BiosFreeBuffer)",
                    start >> 4
                ),
            );
        }
    }
}

/// PASSIVE_LEVEL, or a report and false.
fn at_passive(st: &mut State, routine: &'static str) -> bool {
    let irql = cpu().irql();
    if irql == PASSIVE_LEVEL {
        return true;
    }
    st.report(
        bugcheck::IRQL_NOT_LESS_OR_EQUAL,
        u32::from(irql),
        [u64::from(PASSIVE_LEVEL), 0, 0],
        routine,
        format!("{routine} at IRQL {irql} (PASSIVE_LEVEL only)"),
    );
    false
}

fn null_argument(st: &mut State, routine: &'static str, position: u64, name: &str) {
    st.report(
        bugcheck::NTSIM_CHECK,
        ntsim_code::BAD_ARGUMENT,
        [position, 0, 0],
        routine,
        format!("{routine}: {name} is NULL"),
    );
}

/// `x86BiosAllocateBuffer`: `*Size` bytes (rounded up to pages, reported back in `*Size`) of
/// the transfer window.
///
/// # Safety
/// Each pointer is NULL or valid for its access.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn x86BiosAllocateBuffer(
    Size: *mut ULONG,
    Segment: *mut USHORT,
    Offset: *mut USHORT,
) -> NTSTATUS {
    const R: &str = "x86BiosAllocateBuffer";
    let cpu = cpu();
    let mut st = cpu.lock();
    if !at_passive(&mut st, R) {
        return STATUS_UNSUCCESSFUL;
    }
    for (i, (null, name)) in [
        (Size.is_null(), "Size"),
        (Segment.is_null(), "Segment"),
        (Offset.is_null(), "Offset"),
    ]
    .into_iter()
    .enumerate()
    {
        if null {
            null_argument(&mut st, R, i as u64 + 1, name);
            return STATUS_INVALID_PARAMETER;
        }
    }
    // SAFETY: non-NULL, valid (contract).
    let size = unsafe { Size.read() };
    if size == 0 {
        return STATUS_INVALID_PARAMETER;
    }
    if size > BUFFER_WINDOW.1 || st.faults.hit(FaultKind::BiosBuffer) {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    let Some(at) = st.bios.allocate(size) else {
        return STATUS_INSUFFICIENT_RESOURCES;
    };
    st.trace(|| format!("x86BiosAllocateBuffer({size}) = {:04X}:0000", at >> 4));
    // SAFETY: non-NULL, writable (contract).
    unsafe {
        Size.write(size.div_ceil(PAGE) * PAGE);
        Segment.write((at >> 4) as USHORT);
        Offset.write(0);
    }
    STATUS_SUCCESS
}

/// `x86BiosFreeBuffer`: frees the buffer that starts at `Segment:Offset`.
#[no_mangle]
#[ddk_sys::ntapi]
pub extern "ntapi" fn x86BiosFreeBuffer(Segment: USHORT, Offset: USHORT) -> NTSTATUS {
    const R: &str = "x86BiosFreeBuffer";
    let cpu = cpu();
    let mut st = cpu.lock();
    if !at_passive(&mut st, R) {
        return STATUS_UNSUCCESSFUL;
    }
    let at = linear(Segment, Offset);
    match st.bios.buffers.iter().position(|&(s, _)| s == at) {
        Some(i) => {
            st.bios.buffers.remove(i);
            STATUS_SUCCESS
        }
        None => STATUS_INVALID_PARAMETER,
    }
}

/// Shared body of the two memory routines.
///
/// # Safety
/// `buffer` is NULL or valid for `size` bytes of the access.
unsafe fn copy(
    routine: &'static str,
    segment: USHORT,
    offset: USHORT,
    buffer: PVOID,
    size: ULONG,
    write: bool,
) -> NTSTATUS {
    let cpu = cpu();
    let memory = {
        let mut st = cpu.lock();
        if !at_passive(&mut st, routine) {
            return STATUS_UNSUCCESSFUL;
        }
        if buffer.is_null() && size != 0 {
            null_argument(&mut st, routine, 3, "Buffer");
            return STATUS_INVALID_PARAMETER;
        }
        st.bios.memory.clone()
    };
    let at = linear(segment, offset);
    let mut mem = memory.lock().unwrap_or_else(|e| e.into_inner());
    let done = if size == 0 {
        RealMemory::span(at, 0).is_some()
    } else if write {
        // SAFETY: readable for `size` bytes (contract).
        let data = unsafe { std::slice::from_raw_parts(buffer.cast::<u8>(), size as usize) };
        mem.write(at, data)
    } else {
        // SAFETY: writable for `size` bytes (contract).
        let out = unsafe { std::slice::from_raw_parts_mut(buffer.cast::<u8>(), size as usize) };
        mem.read(at, out)
    };
    if done {
        STATUS_SUCCESS
    } else {
        STATUS_INVALID_PARAMETER
    }
}

/// `x86BiosReadMemory`: `Size` bytes at `Segment:Offset` into `Buffer`.
///
/// # Safety
/// `Buffer` is valid for writes of `Size` bytes.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn x86BiosReadMemory(
    Segment: USHORT,
    Offset: USHORT,
    Buffer: PVOID,
    Size: ULONG,
) -> NTSTATUS {
    // SAFETY: forwarded contract.
    unsafe { copy("x86BiosReadMemory", Segment, Offset, Buffer, Size, false) }
}

/// `x86BiosWriteMemory`: `Size` bytes from `Buffer` to `Segment:Offset` (ROM bytes dropped).
///
/// # Safety
/// `Buffer` is valid for reads of `Size` bytes.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn x86BiosWriteMemory(
    Segment: USHORT,
    Offset: USHORT,
    Buffer: PVOID,
    Size: ULONG,
) -> NTSTATUS {
    // SAFETY: forwarded contract.
    unsafe { copy("x86BiosWriteMemory", Segment, Offset, Buffer, Size, true) }
}

/// `x86BiosCall`: runs real-mode interrupt `InterruptNumber` with `*Registers`, which it
/// updates. TRUE if the emulator ran it.
///
/// # Safety
/// `Registers` is NULL or a valid `X86_BIOS_REGISTERS`.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn x86BiosCall(
    InterruptNumber: ULONG,
    Registers: PX86_BIOS_REGISTERS,
) -> BOOLEAN {
    const R: &str = "x86BiosCall";
    let cpu = cpu();
    let (memory, devices) = {
        let mut st = cpu.lock();
        if !at_passive(&mut st, R) {
            return FALSE;
        }
        if Registers.is_null() {
            null_argument(&mut st, R, 2, "Registers");
            return FALSE;
        }
        if st.faults.hit(FaultKind::BiosCall) {
            return FALSE;
        }
        if InterruptNumber != 0x10 {
            st.trace(|| format!("x86BiosCall: INT {InterruptNumber:#x} is not emulated"));
            return FALSE;
        }
        let devices: Vec<(usize, u64)> = st
            .pci
            .devices
            .iter()
            .enumerate()
            .map(|(i, d)| (i, d.bars.first().map_or(0, |b| b.base)))
            .collect();
        (st.bios.memory.clone(), devices)
    };
    // SAFETY: non-NULL, valid (contract).
    let mut regs = unsafe { Registers.read() };
    let machine = Machine::internal(cpu.shared.clone());
    for (index, frame_buffer) in devices {
        let ran = with_model(&machine, index, |model, ctx| {
            let any: &mut dyn Any = model;
            let bochs = any.downcast_mut::<Bochs>()?;
            let mut mem = memory.lock().unwrap_or_else(|e| e.into_inner());
            crate::devices::vbe::int10(bochs, ctx, &mut regs, &mut mem, frame_buffer as u32);
            Some(())
        });
        if ran.is_some() {
            break;
        }
    }
    // SAFETY: as above.
    unsafe { Registers.write(regs) };
    TRUE
}

impl Machine {
    /// `len` bytes of the real-mode address space at `segment:offset` (for tests; ROM
    /// included). Panics if the range leaves the 1 MiB.
    pub fn real_memory(&self, segment: u16, offset: u16, len: usize) -> Vec<u8> {
        let memory = self.lock().bios.memory.clone();
        let mut out = vec![0; len];
        let mem = memory.lock().unwrap_or_else(|e| e.into_inner());
        assert!(
            mem.read(linear(segment, offset), &mut out),
            "outside real memory"
        );
        out
    }

    /// Real-mode buffers allocated and not freed: (segment, bytes).
    pub fn bios_buffers(&self) -> Vec<(u16, u32)> {
        let st = self.lock();
        st.bios
            .buffers
            .iter()
            .map(|&(s, l)| ((s >> 4) as u16, l))
            .collect()
    }
}
