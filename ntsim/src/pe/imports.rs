//! The import directory: which symbols of which DLLs the image calls, and the IAT slots the
//! loader fills with their addresses.
//!
//! Each 20-byte descriptor names a DLL and two parallel thunk arrays: the lookup table
//! (OriginalFirstThunk, read) and the import address table (FirstThunk, written). Without a
//! lookup table the IAT itself holds the lookups until bound. A thunk is either an ordinal
//! (top bit set) or the RVA of a hint/name entry: a 16-bit hint, then the name. A zero
//! descriptor ends the directory, a zero thunk each array. Thunks and IAT slots are pointer
//! sized: 8 bytes with the ordinal flag in bit 63 for AMD64 (PE32+), 4 bytes with it in bit 31
//! for i386 (PE32).

use super::bytes::{name_at, span, u32_at, u64_at, Rva};
use super::error::{fail, ErrorKind, Problem};
use super::headers::{Directory, Headers, Machine};
use std::fmt;

const DESCRIPTOR_SIZE: usize = 20;
/// Most DLLs one image may import from.
pub const MAX_IMPORT_DLLS: usize = 256;
/// Most imports, all DLLs together. A driver has tens; a corrupt thunk array would otherwise
/// make the loader call the resolver for as long as the image has non-zero bytes.
pub const MAX_IMPORTS: usize = 16 * 1024;

const ORDINAL_FLAG64: u64 = 1 << 63;
const ORDINAL_FLAG32: u64 = 1 << 31;

/// An import as the resolver is asked for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportName<'a> {
    /// By name (the hint is not used).
    Name(&'a str),
    /// By ordinal.
    Ordinal(u16),
}

impl fmt::Display for ImportName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportName::Name(n) => f.write_str(n),
            ImportName::Ordinal(o) => write!(f, "#{o}"),
        }
    }
}

/// An owned [`ImportName`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ImportSymbol {
    /// By name.
    Name(String),
    /// By ordinal.
    Ordinal(u16),
}

impl ImportSymbol {
    /// The borrowed form handed to a resolver.
    pub fn as_import_name(&self) -> ImportName<'_> {
        match self {
            ImportSymbol::Name(n) => ImportName::Name(n),
            ImportSymbol::Ordinal(o) => ImportName::Ordinal(*o),
        }
    }
}

impl fmt::Display for ImportSymbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_import_name().fmt(f)
    }
}

/// One import the image needs, and the IAT slot that receives its address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    /// DLL name exactly as written in the import table (`ntoskrnl.exe`, `HAL.dll`, ...).
    pub dll: String,
    /// The symbol.
    pub symbol: ImportSymbol,
    /// Where its address is written.
    pub iat_slot: Rva,
}

/// An import after binding: what [`PeImage::imports`](super::PeImage::imports) lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoundImport {
    /// DLL name as written in the import table.
    pub dll: String,
    /// The symbol.
    pub symbol: ImportSymbol,
    /// The address the resolver returned, now in the IAT.
    pub address: usize,
    /// The IAT slot.
    pub iat_slot: Rva,
}

/// Reads the import directory of the laid-out `image`. Refuses delay-load imports: a kernel
/// image has nobody to resolve them later.
pub(crate) fn parse(image: &[u8], h: &Headers) -> Result<Vec<Import>, Problem> {
    let delay = h.directory(Directory::DelayImport);
    if delay.size != 0 {
        return fail(
            ErrorKind::Import,
            format!(
                "the image has a {} ({}+{:#x}): kernel images cannot use delay-load imports",
                Directory::DelayImport.name(),
                delay.rva,
                delay.size
            ),
        );
    }
    let dir = h.directory(Directory::Import);
    if dir.size == 0 {
        return Ok(Vec::new());
    }
    let width = h.machine.pointer_size();
    let mut imports = Vec::new();
    for index in 0.. {
        let at = (index * DESCRIPTOR_SIZE)
            .checked_add(dir.rva.offset())
            .and_then(|at| span(at, DESCRIPTOR_SIZE, image.len()))
            .and_then(|r| image.get(r));
        let Some(desc) = at else {
            return fail(
                ErrorKind::Import,
                format!(
                    "import descriptor {index} (directory at RVA {}) is outside the image; is the terminating zero descriptor missing?",
                    dir.rva
                ),
            );
        };
        let field = |off: usize| u32_at(desc, off).unwrap_or(0);
        let (lookup, name_rva, iat) = (field(0), Rva(field(12)), field(16));
        if lookup == 0 && name_rva.0 == 0 && iat == 0 {
            break;
        }
        if index >= MAX_IMPORT_DLLS {
            return fail(
                ErrorKind::Import,
                format!("more than {MAX_IMPORT_DLLS} import descriptors"),
            );
        }
        let dll = match name_at(image, name_rva) {
            Ok(n) => n.to_owned(),
            Err(e) => {
                return fail(
                    ErrorKind::Import,
                    format!("import descriptor {index}: DLL name at RVA {name_rva} {e}"),
                )
            }
        };
        if iat == 0 {
            return fail(
                ErrorKind::Import,
                format!(
                    "import descriptor {index} ({dll}) has no import address table (FirstThunk 0)"
                ),
            );
        }
        let table = if lookup != 0 { lookup } else { iat };
        for slot in 0.. {
            let thunk_rva = (slot * width).checked_add(table as usize);
            let thunk = thunk_rva.and_then(|t| read_thunk(image, t, h.machine));
            let Some(thunk) = thunk else {
                return fail(
                    ErrorKind::Import,
                    format!("import lookup table of {dll} (RVA {table:#x}) runs past the end of the image without a zero thunk"),
                );
            };
            if thunk == 0 {
                break;
            }
            if imports.len() >= MAX_IMPORTS {
                return fail(
                    ErrorKind::Import,
                    format!("more than {MAX_IMPORTS} imports (at {dll})"),
                );
            }
            let iat_slot = (slot * width)
                .checked_add(iat as usize)
                .and_then(|s| span(s, width, image.len()))
                .map(|r| Rva(r.start as u32));
            let Some(iat_slot) = iat_slot else {
                return fail(
                    ErrorKind::Import,
                    format!("IAT slot {slot} of {dll} (IAT at RVA {iat:#x}) is outside the image"),
                );
            };
            let symbol = decode_thunk(image, thunk, h.machine, &dll, slot)?;
            imports.push(Import {
                dll: dll.clone(),
                symbol,
                iat_slot,
            });
        }
    }
    Ok(imports)
}

fn read_thunk(image: &[u8], at: usize, machine: Machine) -> Option<u64> {
    match machine {
        Machine::Amd64 => u64_at(image, at),
        Machine::I386 => u32_at(image, at).map(u64::from),
    }
}

fn decode_thunk(
    image: &[u8],
    thunk: u64,
    machine: Machine,
    dll: &str,
    slot: usize,
) -> Result<ImportSymbol, Problem> {
    let flag = match machine {
        Machine::Amd64 => ORDINAL_FLAG64,
        Machine::I386 => ORDINAL_FLAG32,
    };
    if thunk & flag != 0 {
        let ordinal = thunk & !flag;
        return match u16::try_from(ordinal) {
            Ok(o) => Ok(ImportSymbol::Ordinal(o)),
            Err(_) => fail(
                ErrorKind::Import,
                format!("import {slot} of {dll}: ordinal thunk {thunk:#x} has reserved bits set"),
            ),
        };
    }
    let Ok(hint_name) = u32::try_from(thunk) else {
        return fail(
            ErrorKind::Import,
            format!("import {slot} of {dll}: hint/name RVA {thunk:#x} does not fit 32 bits"),
        );
    };
    let name_rva = Rva(hint_name.saturating_add(2));
    match name_at(image, name_rva) {
        Ok(name) => Ok(ImportSymbol::Name(name.to_owned())),
        Err(e) => fail(
            ErrorKind::Import,
            format!("import {slot} of {dll}: name at RVA {name_rva} {e}"),
        ),
    }
}
