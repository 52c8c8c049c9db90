//! Base relocations: the places holding absolute addresses, which move with the image.
//!
//! The directory is a run of blocks, each an 8-byte header (page RVA, block size) followed by
//! 16-bit entries (type in the top 4 bits, offset in the page below). AMD64 images use
//! `DIR64` (add the load delta to 8 bytes), i386 images `HIGHLOW` (add it to 4 bytes), both
//! `ABSOLUTE` (padding); any other type, or the other machine's type, is refused, since
//! applying it wrongly would corrupt the image silently.

use super::bytes::{span, u16_at, u32_at, Rva};
use super::error::{fail, ErrorKind, Problem};
use super::headers::{DataDirectory, Directory, Headers, Machine, IMAGE_FILE_RELOCS_STRIPPED};

const IMAGE_REL_BASED_ABSOLUTE: u16 = 0;
const IMAGE_REL_BASED_HIGHLOW: u16 = 3;
const IMAGE_REL_BASED_DIR64: u16 = 10;
const BLOCK_HEADER_SIZE: usize = 8;

/// Where an image may be placed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImagePlacement {
    /// Anywhere: these fixups (RVAs of pointer-sized absolute addresses: 8 bytes for AMD64,
    /// 4 for i386) adjust it.
    Relocatable(Vec<Rva>),
    /// Only at its preferred ImageBase: it has no relocation information.
    PreferredBaseOnly,
}

/// Reads the base relocation directory of the laid-out `image`.
///
/// As the Windows loader decides: an image whose characteristics say
/// IMAGE_FILE_RELOCS_STRIPPED can only live at its ImageBase. Without that flag, an image with
/// no relocation directory has no absolute addresses to fix (code that is all RIP-relative, as
/// small drivers often are) and loads anywhere unchanged. A present directory is validated
/// even when the flag is set, so a malformed one is never accepted.
pub(crate) fn parse(image: &[u8], h: &Headers) -> Result<ImagePlacement, Problem> {
    let dir = h.directory(Directory::BaseReloc);
    let fixups = if dir.size == 0 {
        Vec::new()
    } else {
        parse_blocks(image, dir, h.machine)?
    };
    if h.characteristics & IMAGE_FILE_RELOCS_STRIPPED != 0 {
        return Ok(ImagePlacement::PreferredBaseOnly);
    }
    Ok(ImagePlacement::Relocatable(fixups))
}

fn parse_blocks(image: &[u8], dir: DataDirectory, machine: Machine) -> Result<Vec<Rva>, Problem> {
    let Some(table) =
        span(dir.rva.offset(), dir.size as usize, image.len()).and_then(|r| image.get(r))
    else {
        return fail(
            ErrorKind::Relocation,
            format!(
                "base relocation directory {}+{:#x} is outside the image ({:#x} bytes)",
                dir.rva,
                dir.size,
                image.len()
            ),
        );
    };
    let width = machine.pointer_size();
    let mut fixups = Vec::new();
    let mut at = 0usize;
    while at < table.len() {
        let block_rva = dir.rva.0.saturating_add(at as u32);
        let (Some(page), Some(block_size)) = (u32_at(table, at), u32_at(table, at + 4)) else {
            return fail(
                ErrorKind::Relocation,
                format!("base relocation block at RVA {block_rva:#x} is cut off by the end of the directory"),
            );
        };
        let block_size = block_size as usize;
        if block_size < BLOCK_HEADER_SIZE || block_size % 2 != 0 {
            return fail(
                ErrorKind::Relocation,
                format!("base relocation block at RVA {block_rva:#x} has size {block_size:#x} (must be at least 8 and even)"),
            );
        }
        let Some(block) = span(at, block_size, table.len()).and_then(|r| table.get(r)) else {
            return fail(
                ErrorKind::Relocation,
                format!(
                    "base relocation block at RVA {block_rva:#x} (size {block_size:#x}) runs past the end of the directory ({}+{:#x})",
                    dir.rva, dir.size
                ),
            );
        };
        let entries = (block_size - BLOCK_HEADER_SIZE) / 2;
        for e in 0..entries {
            let entry = u16_at(block, BLOCK_HEADER_SIZE + 2 * e).unwrap_or(0);
            let kind = entry >> 12;
            let target = u64::from(page) + u64::from(entry & 0xfff);
            let wanted = match machine {
                Machine::Amd64 => IMAGE_REL_BASED_DIR64,
                Machine::I386 => IMAGE_REL_BASED_HIGHLOW,
            };
            if kind == IMAGE_REL_BASED_ABSOLUTE {
                continue;
            }
            if kind != wanted {
                return fail(
                    ErrorKind::Relocation,
                    format!(
                        "relocation type {kind} ({}) at RVA {target:#x} is not supported for {}",
                        type_name(kind),
                        machine.short_name()
                    ),
                );
            }
            let fits = usize::try_from(target)
                .ok()
                .and_then(|t| span(t, width, image.len()));
            if fits.is_none() {
                return fail(
                    ErrorKind::Relocation,
                    format!(
                        "{} relocation target RVA {target:#x} (block at RVA {block_rva:#x}) is not {width} bytes inside the image ({:#x} bytes)",
                        type_name(kind),
                        image.len()
                    ),
                );
            }
            // `fits` checked target + width <= image length, which is below 4 GiB.
            fixups.push(Rva(target as u32));
        }
        at += block_size;
    }
    Ok(fixups)
}

/// Adds `delta` to the pointer-sized value at each fixup (checked in range by [`parse`]): 8
/// bytes for AMD64, 4 for i386 (where the delta is taken modulo 2^32, as the 32-bit address
/// space wraps).
pub(crate) fn apply(image: &mut [u8], fixups: &[Rva], delta: u64, machine: Machine) {
    let width = machine.pointer_size();
    for f in fixups {
        let Some(slot) = image.get_mut(f.offset()..f.offset().saturating_add(width)) else {
            continue;
        };
        match machine {
            Machine::Amd64 => {
                let old = u64::from_le_bytes(slot.try_into().unwrap_or([0; 8]));
                slot.copy_from_slice(&old.wrapping_add(delta).to_le_bytes());
            }
            Machine::I386 => {
                let old = u32::from_le_bytes(slot.try_into().unwrap_or([0; 4]));
                slot.copy_from_slice(&old.wrapping_add(delta as u32).to_le_bytes());
            }
        }
    }
}

fn type_name(kind: u16) -> &'static str {
    match kind {
        1 => "HIGH",
        2 => "LOW",
        3 => "HIGHLOW",
        4 => "HIGHADJ",
        5 => "MIPS_JMPADDR/ARM_MOV32",
        7 => "THUMB_MOV32",
        8 => "RISCV_LOW12S",
        9 => "MIPS_JMPADDR16/IA64_IMM64",
        10 => "DIR64",
        _ => "reserved",
    }
}
