//! `VideoPortDDCMonitorHelper`: reads a monitor's EDID over DDC2B, an I2C bus whose clock
//! (SCL) and data (SDA) lines the miniport drives and reads through its callbacks.
//!
//! C interface (`video.h`): `BOOLEAN VideoPortDDCMonitorHelper(PVOID HwDeviceExtension, PVOID
//! DDCControl, PUCHAR EdidBuffer, ULONG EdidBufferSize)`, PASSIVE_LEVEL; `DDCControl` is a
//! `DDC_CONTROL` (`Size` = its size, the four `I2C_CALLBACKS`, `EdidSegment`). A callback
//! writes 1 to release a line (it floats high) and 0 to pull it low; a read returns the
//! line's level.
//!
//! The transfer, as VESA E-DDC describes it for an EDID EEPROM at I2C address 0xA0 (the
//! segment pointer at 0x60): a STOP to free the bus; for `EdidSegment` other than 0, START,
//! 0x60, the segment; then START, 0xA0, word offset 0, repeated START, 0xA1, and
//! min(`EdidBufferSize`, 256) bytes, each acknowledged but the last, then STOP. Each bit takes
//! about 10 µs (100 kHz, `KeStallExecutionProcessor`), and a clock the monitor holds low
//! (stretching) is waited for up to 2 ms. The first 128 bytes must sum to 0 mod 256, and for
//! segment 0 start with the EDID header; otherwise the read is tried again, three times in
//! all. TRUE with the bytes in `EdidBuffer`, or FALSE (the buffer's contents are then
//! undefined).
//!
//! Bad input is reported and returns FALSE: an unknown `HwDeviceExtension`, a NULL
//! `DDCControl` or `EdidBuffer`, a `Size` that is not `sizeof(DDC_CONTROL)`, a NULL callback,
//! an `EdidBufferSize` below 128, or a call above PASSIVE_LEVEL.

use crate::device::PortDevice;
use crate::irql::{self, Irql};
use crate::report::{self, port_code, Misuse};
use ddk_sys::*;

const ROUTINE: &str = "VideoPortDDCMonitorHelper";
/// I2C addresses (8-bit form, write direction) of the EDID EEPROM and the segment pointer.
const EDID_ADDRESS: u8 = 0xA0;
const SEGMENT_ADDRESS: u8 = 0x60;
/// Microseconds per half clock period: 100 kHz standard-mode I2C.
const HALF_BIT_US: u32 = 5;
/// Polls of a stretched clock (each HALF_BIT_US): 2 ms.
const STRETCH_POLLS: u32 = 400;
const ATTEMPTS: u32 = 3;

/// The miniport's lines.
struct Bus {
    hw: PVOID,
    cb: I2C_CALLBACKS,
}

impl Bus {
    fn stall() {
        // SAFETY: a HAL routine callable at any IRQL.
        unsafe { KeStallExecutionProcessor(HALF_BIT_US) };
    }

    fn sda(&self, high: bool) {
        if let Some(f) = self.cb.WriteDataLine {
            // SAFETY: the miniport's callback with its own extension.
            unsafe { f(self.hw, u8::from(high)) };
        }
    }

    fn read_sda(&self) -> bool {
        // SAFETY: as in `sda`.
        self.cb
            .ReadDataLine
            .is_some_and(|f| unsafe { f(self.hw) } != 0)
    }

    /// Sets SCL; raising it waits while the monitor stretches the clock. False on a clock
    /// held low too long.
    fn scl(&self, high: bool) -> bool {
        if let Some(f) = self.cb.WriteClockLine {
            // SAFETY: as in `sda`.
            unsafe { f(self.hw, u8::from(high)) };
        }
        if !high {
            return true;
        }
        for _ in 0..STRETCH_POLLS {
            // SAFETY: as in `sda`.
            let level = self.cb.ReadClockLine.map(|f| unsafe { f(self.hw) });
            if level.is_some_and(|l| l != 0) {
                return true;
            }
            Self::stall();
        }
        false
    }

    /// START (or repeated START): SDA falls while SCL is high.
    fn start(&self) -> bool {
        self.sda(true);
        Self::stall();
        let ok = self.scl(true);
        Self::stall();
        self.sda(false);
        Self::stall();
        self.scl(false);
        Self::stall();
        ok
    }

    /// STOP: SDA rises while SCL is high.
    fn stop(&self) -> bool {
        self.sda(false);
        Self::stall();
        let ok = self.scl(true);
        Self::stall();
        self.sda(true);
        Self::stall();
        ok
    }

    fn write_bit(&self, bit: bool) -> bool {
        self.sda(bit);
        Self::stall();
        let ok = self.scl(true);
        Self::stall();
        self.scl(false);
        ok
    }

    fn read_bit(&self) -> Option<bool> {
        self.sda(true);
        Self::stall();
        if !self.scl(true) {
            return None;
        }
        Self::stall();
        let bit = self.read_sda();
        self.scl(false);
        Some(bit)
    }

    /// Sends a byte, MSB first; true if the receiver acknowledged it.
    fn write_byte(&self, byte: u8) -> bool {
        for i in (0..8).rev() {
            if !self.write_bit(byte >> i & 1 != 0) {
                return false;
            }
        }
        self.read_bit() == Some(false)
    }

    /// Receives a byte and acknowledges it (`ack`) or not (the last byte).
    fn read_byte(&self, ack: bool) -> Option<u8> {
        let mut byte = 0u8;
        for _ in 0..8 {
            byte = byte << 1 | u8::from(self.read_bit()?);
        }
        self.write_bit(!ack).then_some(byte)
    }

    /// One EDID read into `out`; false on a NAK or a stuck clock.
    fn read_edid(&self, segment: u8, out: &mut [u8]) -> bool {
        if !self.stop() {
            return false;
        }
        let mut ok = true;
        if segment != 0 {
            ok = self.start() && self.write_byte(SEGMENT_ADDRESS) && self.write_byte(segment);
        }
        ok = ok
            && self.start()
            && self.write_byte(EDID_ADDRESS)
            && self.write_byte(0)
            && self.start()
            && self.write_byte(EDID_ADDRESS | 1);
        if ok {
            let last = out.len() - 1;
            for (i, b) in out.iter_mut().enumerate() {
                match self.read_byte(i != last) {
                    Some(v) => *b = v,
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
        }
        self.stop() && ok
    }
}

/// Whether `block` (the first 128 bytes read) is a plausible EDID block.
pub fn edid_block_valid(block: &[u8], segment: u8) -> bool {
    const HEADER: [u8; 8] = [0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00];
    block.len() >= 128
        && block[..128].iter().fold(0u8, |a, b| a.wrapping_add(*b)) == 0
        && (segment != 0 || block[..8] == HEADER)
}

fn bad(p2: usize, p3: usize) -> BOOLEAN {
    report::misuse(
        ROUTINE,
        Misuse::Port {
            code: port_code::BAD_ARGUMENT,
            p2,
            p3,
        },
    );
    FALSE
}

/// `VideoPortDDCMonitorHelper`.
///
/// # Safety
/// `DDCControl` is NULL or a readable `DDC_CONTROL` of the size it states; `EdidBuffer` is
/// NULL or writable for `EdidBufferSize` bytes.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortDDCMonitorHelper(
    HwDeviceExtension: PVOID,
    DDCControl: PVOID,
    EdidBuffer: PUCHAR,
    EdidBufferSize: ULONG,
) -> BOOLEAN {
    if !irql::require_at_most(ROUTINE, Irql::PASSIVE) {
        return FALSE;
    }
    if PortDevice::from_hw_extension(ROUTINE, HwDeviceExtension).is_none() {
        return FALSE;
    }
    for (position, p) in [(2, DDCControl as usize), (3, EdidBuffer as usize)] {
        if p == 0 {
            report::null_argument(ROUTINE, position);
            return FALSE;
        }
    }
    // SAFETY: readable for at least its Size field (contract).
    let size = unsafe { DDCControl.cast::<ULONG>().read_unaligned() };
    if size as usize != size_of::<DDC_CONTROL>() {
        return bad(size as usize, size_of::<DDC_CONTROL>());
    }
    // SAFETY: a DDC_CONTROL of the right size (checked above; contract).
    let control = unsafe { DDCControl.cast::<DDC_CONTROL>().read_unaligned() };
    let cb = control.I2CCallbacks;
    if cb.WriteClockLine.is_none()
        || cb.WriteDataLine.is_none()
        || cb.ReadClockLine.is_none()
        || cb.ReadDataLine.is_none()
    {
        return bad(0, 4);
    }
    if EdidBufferSize < 128 {
        return bad(EdidBufferSize as usize, 128);
    }
    let len = (EdidBufferSize as usize).min(256);
    // SAFETY: writable for EdidBufferSize >= len bytes (contract).
    let out = unsafe { core::slice::from_raw_parts_mut(EdidBuffer, len) };
    let bus = Bus {
        hw: HwDeviceExtension,
        cb,
    };
    for _ in 0..ATTEMPTS {
        if bus.read_edid(control.EdidSegment, out) && edid_block_valid(out, control.EdidSegment) {
            return TRUE;
        }
    }
    FALSE
}
