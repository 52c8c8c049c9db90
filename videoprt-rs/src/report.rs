//! Reports of miniport misuse: what the port detected, in which call, about which object.
//!
//! A detected misuse never reaches the HAL: the entry point refuses it and returns its error.
//! The report carries a code modeled on bug check 0xE6 (DRIVER_VERIFIER_DMA_VIOLATION)
//! parameter 1 where one fits, otherwise a port code under bug check [`VIDEOPRT_RS_CHECK`].
//! On Windows the report goes to the debugger (`DbgPrintEx`); under ntsim it is recorded as a
//! verifier violation (`NtsimReportViolation`), so tests can assert it.

use core::fmt::{self, Write};

/// 0xE6, DRIVER_VERIFIER_DMA_VIOLATION.
pub const DMA_VIOLATION: u32 = 0xE6;
/// The port's own check code ("VPRS"), for misuse that has no 0xE6 counterpart.
pub const VIDEOPRT_RS_CHECK: u32 = u32::from_be_bytes(*b"VPRS");

/// Port codes under [`VIDEOPRT_RS_CHECK`].
pub mod port_code {
    /// `HwDeviceExtension` is not one the port handed out (P2 = the pointer).
    pub const UNKNOWN_DEVICE_EXTENSION: u32 = 0x01;
    /// A required pointer argument is NULL (P2 = argument position, 1-based).
    pub const NULL_ARGUMENT: u32 = 0x02;
    /// The MDL was not returned by VideoPortLockBuffer on this device (P2 = MDL).
    pub const UNKNOWN_MDL: u32 = 0x03;
    /// CompleteDma's WriteToDevice differs from StartDma's (P2 = list, P3 = given).
    pub const DIRECTION_MISMATCH: u32 = 0x04;
    /// LockBuffer's range could not be probed and locked (P2 = address, P3 = length).
    pub const PROBE_FAILED: u32 = 0x05;
    /// An argument is out of range (P2 = value, P3 = limit).
    pub const BAD_ARGUMENT: u32 = 0x06;
    /// At device removal, the port unlocked a buffer the miniport left locked (P2 = MDL).
    pub const RECLAIMED: u32 = 0x07;
    /// A buffer was unlocked while transfers on it were outstanding (P2 = MDL, P3 = count).
    pub const UNLOCK_WITH_TRANSFERS: u32 = 0x08;
    /// VideoPortInitialize: HwInitDataSize is no known size (P2 = size, P3 = XP size).
    pub const BAD_INIT_DATA_SIZE: u32 = 0x09;
    /// VideoPortInitialize: a required callback is NULL (P2: 1 HwFindAdapter,
    /// 2 HwInitialize, 3 HwStartIO).
    pub const MISSING_CALLBACK: u32 = 0x0A;
    /// A range outside the device's resources (P2 = bus address, P3 = length).
    pub const RANGE_NOT_OWNED: u32 = 0x0B;
    /// FreeDeviceBase of an address GetDeviceBase did not return (P2 = address).
    pub const UNKNOWN_MAPPING: u32 = 0x0C;
    /// VerifyAccessRanges with overlapping, non-shareable ranges (P2, P3 = the two starts).
    pub const OVERLAPPING_RANGES: u32 = 0x0D;
    /// HwStartIO returned Information larger than the output buffer; clamped
    /// (P2 = Information, P3 = output length).
    pub const INFORMATION_TOO_LARGE: u32 = 0x0E;
    /// A routine that only HwFindAdapter may call was called elsewhere (P2 = device state).
    pub const NOT_IN_FIND_ADAPTER: u32 = 0x0F;
    /// A device object that is not one of the port's (P2 = the pointer).
    pub const UNKNOWN_DEVICE_OBJECT: u32 = 0x10;
    /// A pool block, event, spin lock or mapping that is not a live object of this device:
    /// never allocated here, already freed, or another device's (P2 = kind: 1 pool, 2 buffer,
    /// 3 event, 4 spin lock, 5 memory mapping; P3 = the handle).
    pub const UNKNOWN_OBJECT: u32 = 0x11;
    /// At device removal, the port freed an object the miniport left (P2 = kind as for
    /// UNKNOWN_OBJECT, P3 = the object).
    pub const OBJECT_LEFT: u32 = 0x12;
    /// An event deleted while a thread waits on it; refused (P2 = the event, P3 = waiters).
    pub const EVENT_IN_USE: u32 = 0x13;
    /// An interface the port handed out (VideoPortQueryServices) used or dereferenced while
    /// the miniport holds no reference on it (P2 = the interface's Context).
    pub const INTERFACE_NOT_REFERENCED: u32 = 0x14;
    /// HwGetVideoChildDescriptor returned something other than a VIDEO_ENUM_* value; the
    /// enumeration stops there (P2 = the status, P3 = ChildIndex).
    pub const CHILD_STATUS: u32 = 0x20;
    /// Two children reported the same UId; the later one is ignored (P2 = UId, P3 =
    /// ChildIndex).
    pub const DUPLICATE_CHILD_UID: u32 = 0x21;
    /// More children than the port hosts; the rest are ignored (P2 = ChildIndex, P3 = limit).
    pub const TOO_MANY_CHILDREN: u32 = 0x22;
}

/// What the port detected.
#[derive(Clone, Copy, Debug)]
pub enum Misuse {
    /// 0xE6/0x13: called above the routine's IRQL limit.
    WrongIrql { expected_max: u8, current: u8 },
    /// 0xE6/0x19: NULL adapter.
    NullAdapter,
    /// 0xE6/0x18: an adapter that is not live on this device (released, foreign or garbage).
    AdapterNotLive { adapter: usize },
    /// 0xE6/0x06: a scatter/gather list that is not outstanding on this adapter.
    ListNotOutstanding { list: usize },
    /// 0xE6/0x1B: Offset lies outside the MDL.
    OutsideMdl { offset: u32, byte_count: u32 },
    /// 0xE6/0x21: zero-length transfer.
    ZeroLength,
    /// 0xE6/0x03: a common buffer release that matches no allocation.
    CommonBufferMismatch { virtual_address: usize, length: u32 },
    /// 0xE6/0x07: adapter released with common buffers outstanding.
    AdapterReleasedWithCommonBuffers { adapter: usize, count: usize },
    /// 0xE6/0x0A: adapter released with scatter/gather lists outstanding.
    AdapterReleasedWithLists { adapter: usize, count: usize },
    /// A port code (see [`port_code`]).
    Port { code: u32, p2: usize, p3: usize },
}

impl Misuse {
    /// (bug check, P1, P2, P3, P4).
    pub fn codes(self) -> (u32, u32, usize, usize, usize) {
        use Misuse::*;
        match self {
            WrongIrql {
                expected_max,
                current,
            } => (DMA_VIOLATION, 0x13, 2, expected_max.into(), current.into()),
            NullAdapter => (DMA_VIOLATION, 0x19, 0, 0, 0),
            AdapterNotLive { adapter } => (DMA_VIOLATION, 0x18, adapter, 0, 0),
            ListNotOutstanding { list } => (DMA_VIOLATION, 0x06, list, 0, 0),
            OutsideMdl { offset, byte_count } => {
                (DMA_VIOLATION, 0x1B, offset as usize, byte_count as usize, 0)
            }
            ZeroLength => (DMA_VIOLATION, 0x21, 0, 0, 0),
            CommonBufferMismatch {
                virtual_address,
                length,
            } => (DMA_VIOLATION, 0x03, virtual_address, length as usize, 0),
            AdapterReleasedWithCommonBuffers { adapter, count } => {
                (DMA_VIOLATION, 0x07, adapter, count, 0)
            }
            AdapterReleasedWithLists { adapter, count } => (DMA_VIOLATION, 0x0A, adapter, count, 0),
            Port { code, p2, p3 } => (VIDEOPRT_RS_CHECK, code, p2, p3, 0),
        }
    }
}

/// The name of an object kind of [`port_code::UNKNOWN_OBJECT`].
fn object_kind(kind: usize) -> &'static str {
    match kind {
        1 => "pool block (VideoPortAllocatePool)",
        2 => "buffer (VideoPortAllocateBuffer)",
        3 => "event",
        4 => "spin lock",
        5 => "memory mapping (VideoPortMapMemory)",
        6 => "INT 10h buffer (Int10AllocateBuffer; P3 = segment << 16 | offset)",
        _ => "object",
    }
}

impl fmt::Display for Misuse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Misuse::*;
        match *self {
            WrongIrql {
                expected_max,
                current,
            } => write!(
                f,
                "called at IRQL {current}, above its limit {expected_max}"
            ),
            NullAdapter => write!(f, "NULL VpDmaAdapter"),
            AdapterNotLive { adapter } => {
                write!(f, "adapter {adapter:#x} is not live on this device")
            }
            ListNotOutstanding { list } => {
                write!(f, "scatter/gather list {list:#x} is not outstanding on this adapter (completed twice, or never started here)")
            }
            OutsideMdl { offset, byte_count } => write!(
                f,
                "Offset {offset:#x} is outside the MDL ({byte_count:#x} bytes)"
            ),
            ZeroLength => write!(f, "zero-length transfer"),
            CommonBufferMismatch {
                virtual_address,
                length,
            } => {
                write!(
                    f,
                    "no common buffer matches VA {virtual_address:#x}, length {length:#x} exactly"
                )
            }
            AdapterReleasedWithCommonBuffers { adapter, count } => {
                write!(f, "adapter {adapter:#x} released with {count} common buffer(s) outstanding; reclaimed")
            }
            AdapterReleasedWithLists { adapter, count } => {
                write!(
                    f,
                    "adapter {adapter:#x} released with {count} transfer(s) outstanding; reclaimed"
                )
            }
            Port { code, p2, p3 } => match code {
                port_code::UNKNOWN_DEVICE_EXTENSION => write!(
                    f,
                    "HwDeviceExtension {p2:#x} is not one this port handed out"
                ),
                port_code::NULL_ARGUMENT => write!(f, "argument {p2} is NULL"),
                port_code::UNKNOWN_MDL => write!(
                    f,
                    "MDL {p2:#x} was not returned by VideoPortLockBuffer on this device"
                ),
                port_code::DIRECTION_MISMATCH => {
                    write!(f, "WriteToDevice {p3} does not match the transfer of list {p2:#x}; completed in its own direction")
                }
                port_code::PROBE_FAILED => {
                    write!(f, "range {p2:#x}+{p3:#x} cannot be probed and locked")
                }
                port_code::BAD_ARGUMENT => {
                    write!(f, "argument value {p2:#x} is out of range (limit {p3:#x})")
                }
                port_code::RECLAIMED => {
                    write!(f, "reclaimed {p2:#x}, which the miniport left behind")
                }
                port_code::UNLOCK_WITH_TRANSFERS => {
                    write!(f, "MDL {p2:#x} unlocked with {p3} transfer(s) outstanding")
                }
                port_code::BAD_INIT_DATA_SIZE => write!(
                    f,
                    "HwInitDataSize {p2:#x} is not the NT4, Windows 2000 or XP size (XP: {p3:#x})"
                ),
                port_code::MISSING_CALLBACK => write!(
                    f,
                    "required callback {} is NULL",
                    match p2 {
                        1 => "HwFindAdapter",
                        2 => "HwInitialize",
                        _ => "HwStartIO",
                    }
                ),
                port_code::RANGE_NOT_OWNED => write!(
                    f,
                    "range {p2:#x}+{p3:#x} is not inside the device's resources"
                ),
                port_code::UNKNOWN_MAPPING => {
                    write!(f, "{p2:#x} is not a device base mapped on this device")
                }
                port_code::OVERLAPPING_RANGES => {
                    write!(
                        f,
                        "ranges at {p2:#x} and {p3:#x} overlap and are not both shareable"
                    )
                }
                port_code::INFORMATION_TOO_LARGE => write!(
                    f,
                    "Information {p2} exceeds the {p3}-byte output buffer; clamped"
                ),
                port_code::NOT_IN_FIND_ADAPTER => {
                    write!(
                        f,
                        "may only be called from HwFindAdapter (device state {p2})"
                    )
                }
                port_code::CHILD_STATUS => write!(
                    f,
                    "HwGetVideoChildDescriptor returned {p2:#x} for ChildIndex {p3}, not a \
                     VIDEO_ENUM_* status; enumeration stopped"
                ),
                port_code::DUPLICATE_CHILD_UID => write!(
                    f,
                    "child UId {p2:#x} reported again at ChildIndex {p3}; ignored"
                ),
                port_code::TOO_MANY_CHILDREN => write!(
                    f,
                    "child at ChildIndex {p2} is past the port's {p3} children; ignored"
                ),
                port_code::UNKNOWN_DEVICE_OBJECT => {
                    write!(f, "{p2:#x} is not a device object of this port")
                }
                port_code::UNKNOWN_OBJECT => write!(
                    f,
                    "{p3:#x} is not a live {} of this device (freed already, another device's, or never allocated)",
                    object_kind(p2)
                ),
                port_code::OBJECT_LEFT => write!(
                    f,
                    "{} {p3:#x} was left by the miniport; freed",
                    object_kind(p2)
                ),
                port_code::EVENT_IN_USE => write!(
                    f,
                    "event {p2:#x} deleted while {p3} thread(s) wait on it; not deleted"
                ),
                port_code::INTERFACE_NOT_REFERENCED => write!(
                    f,
                    "interface with Context {p2:#x} used without a reference (dereferenced more often than referenced)"
                ),
                _ => write!(f, "port code {code:#x} ({p2:#x}, {p3:#x})"),
            },
        }
    }
}

/// A fixed buffer `fmt::Write` target: no heap in the kernel.
struct MessageBuffer {
    bytes: [u8; 240],
    len: usize,
}

impl Write for MessageBuffer {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.bytes.len() - self.len;
        let take = s.len().min(room);
        self.bytes[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        Ok(())
    }
}

#[cfg(not(target_os = "windows"))]
#[ddk_sys::ntapi]
extern "ntapi" {
    /// ntsim records a driver-detected violation in its verifier.
    fn NtsimReportViolation(
        bugcheck: u32,
        code: u32,
        p2: usize,
        p3: usize,
        p4: usize,
        routine: *const u8,
        routine_len: usize,
        message: *const u8,
        message_len: usize,
    );
}

#[cfg(not(target_os = "windows"))]
#[ddk_sys::ntapi]
extern "ntapi" {
    /// ntsim keeps the debugger's output.
    fn NtsimDebugPrint(level: u32, text: *const u8, len: usize);
}

#[cfg(target_os = "windows")]
#[link(name = "ntoskrnl.exe", kind = "raw-dylib", modifiers = "+verbatim")]
extern "C" {
    fn DbgPrintEx(component_id: u32, level: u32, format: *const u8, ...) -> u32;
}

/// Reports a required pointer argument (`position`, 1-based) that is NULL.
pub fn null_argument(routine: &'static str, position: usize) {
    misuse(
        routine,
        Misuse::Port {
            code: port_code::NULL_ARGUMENT,
            p2: position,
            p3: 0,
        },
    );
}

/// Reports `misuse` detected in `routine`.
///
/// Reports are the cold path of every entry point, so they are made through a function of the
/// Windows x64 convention: an entry point (itself `extern "ntapi"`) then keeps no registers
/// live for a report it does not make. On a non-Windows host, any call from a win64 function
/// to a Rust-convention function makes the caller save and restore xmm6-xmm15 (callee-saved
/// in one convention, not in the other) on every call, reported or not. On Windows both
/// conventions agree and this changes nothing.
#[inline(always)]
pub fn misuse(routine: &'static str, misuse: Misuse) {
    misuse_cold(&routine, &misuse)
}

#[cold]
#[inline(never)]
#[ddk_sys::ntapi]
extern "ntapi" fn misuse_cold(routine: &&'static str, misuse: &Misuse) {
    report(routine, *misuse)
}

fn report(routine: &'static str, misuse: Misuse) {
    let mut message = MessageBuffer {
        bytes: [0; 240],
        len: 0,
    };
    let _ = write!(message, "{misuse}");
    let (bugcheck, code, p2, p3, p4) = misuse.codes();
    #[cfg(not(target_os = "windows"))]
    // SAFETY: both strings are valid for the given lengths during the call.
    unsafe {
        NtsimReportViolation(
            bugcheck,
            code,
            p2,
            p3,
            p4,
            routine.as_ptr(),
            routine.len(),
            message.bytes.as_ptr(),
            message.len,
        )
    };
    #[cfg(target_os = "windows")]
    {
        const DPFLTR_IHVVIDEO_ID: u32 = 23;
        const DPFLTR_ERROR_LEVEL: u32 = 0;
        // SAFETY: the format's conversions match the arguments; `%.*s` bounds both strings.
        unsafe {
            DbgPrintEx(
                DPFLTR_IHVVIDEO_ID,
                DPFLTR_ERROR_LEVEL,
                c"videoprt_rs: %.*s: %.*s [%X/%X %IX %IX %IX]\n"
                    .as_ptr()
                    .cast(),
                routine.len() as i32,
                routine.as_ptr(),
                message.len as i32,
                message.bytes.as_ptr(),
                bugcheck,
                code,
                p2,
                p3,
                p4,
            )
        };
    }
}

/// Prints one informational line, `videoprt_rs: <args>`, to the debugger (`DbgPrintEx`,
/// DPFLTR_IHVVIDEO_ID at DPFLTR_INFO_LEVEL: filtered out unless a debugger asks for it); under
/// ntsim, into the machine's debug output. Lines longer than 240 bytes are cut.
pub fn trace(args: fmt::Arguments<'_>) {
    let mut message = MessageBuffer {
        bytes: [0; 240],
        len: 0,
    };
    let _ = message.write_fmt(args);
    #[cfg(not(target_os = "windows"))]
    {
        let mut line = MessageBuffer {
            bytes: [0; 240],
            len: 0,
        };
        let text = core::str::from_utf8(&message.bytes[..message.len]).unwrap_or("");
        let _ = writeln!(line, "videoprt_rs: {text}");
        // SAFETY: the text is valid for its length during the call.
        unsafe { NtsimDebugPrint(3, line.bytes.as_ptr(), line.len) };
    }
    #[cfg(target_os = "windows")]
    {
        const DPFLTR_IHVVIDEO_ID: u32 = 23;
        const DPFLTR_INFO_LEVEL: u32 = 3;
        // SAFETY: the format's one conversion matches the arguments; `%.*s` bounds the text.
        unsafe {
            DbgPrintEx(
                DPFLTR_IHVVIDEO_ID,
                DPFLTR_INFO_LEVEL,
                c"videoprt_rs: %.*s\n".as_ptr().cast(),
                message.len as i32,
                message.bytes.as_ptr(),
            )
        };
    }
}
