//! Bounds-checked little-endian field access, relative virtual addresses, and the bounded
//! ASCII strings (DLL and symbol names) that tables point at.
//!
//! Nothing here indexes a slice directly: every read goes through `get`, so a bad offset is a
//! `None`, never a panic.

use std::fmt;
use std::ops::Range;

/// A relative virtual address: an offset from the start of the mapped image (not of the file).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rva(pub u32);

impl Rva {
    /// The RVA as an index into the laid-out image.
    pub const fn offset(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for Rva {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

fn array_at<const N: usize>(b: &[u8], off: usize) -> Option<[u8; N]> {
    b.get(off..off.checked_add(N)?)?.try_into().ok()
}

pub(crate) fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    array_at(b, off).map(u16::from_le_bytes)
}

pub(crate) fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    array_at(b, off).map(u32::from_le_bytes)
}

pub(crate) fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    array_at(b, off).map(u64::from_le_bytes)
}

/// `start..start + len` if it lies inside `0..limit`.
pub(crate) fn span(start: usize, len: usize, limit: usize) -> Option<Range<usize>> {
    let end = start.checked_add(len)?;
    (end <= limit).then_some(start..end)
}

/// `value` rounded up to `align` (a power of two), or `None` on overflow.
pub(crate) fn align_up(value: u64, align: u64) -> Option<u64> {
    let mask = align.checked_sub(1)?;
    Some(value.checked_add(mask)? & !mask)
}

/// Longest name accepted, terminating NUL included: generous for C and C++ symbols, small
/// enough that a missing terminator is caught early.
pub const MAX_NAME: usize = 256;

/// Why a name could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NameError {
    OutsideImage,
    RunsToEnd,
    Unterminated,
    Empty,
    NotPrintable { at: usize, byte: u8 },
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::OutsideImage => f.write_str("is outside the image"),
            NameError::RunsToEnd => f.write_str("runs to the end of the image without a NUL"),
            NameError::Unterminated => {
                write!(f, "has no NUL within {MAX_NAME} bytes")
            }
            NameError::Empty => f.write_str("is empty"),
            NameError::NotPrintable { at, byte } => {
                write!(f, "has a non-printable byte {byte:#04x} at offset {at}")
            }
        }
    }
}

/// The NUL-terminated printable-ASCII name at `rva` in the laid-out `image`.
pub(crate) fn name_at(image: &[u8], rva: Rva) -> Result<&str, NameError> {
    let rest = image.get(rva.offset()..).ok_or(NameError::OutsideImage)?;
    if rest.is_empty() {
        return Err(NameError::OutsideImage);
    }
    let window = rest.get(..MAX_NAME).unwrap_or(rest);
    let Some(len) = window.iter().position(|&b| b == 0) else {
        return Err(if window.len() < MAX_NAME {
            NameError::RunsToEnd
        } else {
            NameError::Unterminated
        });
    };
    let name = window.get(..len).ok_or(NameError::OutsideImage)?;
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if let Some(at) = name.iter().position(|b| !b.is_ascii_graphic()) {
        let byte = name.get(at).copied().unwrap_or(0);
        return Err(NameError::NotPrintable { at, byte });
    }
    // Graphic ASCII is valid UTF-8.
    std::str::from_utf8(name).map_err(|_| NameError::NotPrintable { at: 0, byte: 0 })
}

/// A section or file name made safe to print: non-printable bytes become `\xNN`.
pub(crate) fn printable(raw: &[u8]) -> String {
    let mut s = String::new();
    for &b in raw {
        if b.is_ascii_graphic() || b == b' ' {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s
}
