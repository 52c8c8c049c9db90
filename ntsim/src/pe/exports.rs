//! The export directory: the symbols the image offers to others (an export driver such as
//! `videoprt_rs.sys` exports the `VideoPort*` routines).
//!
//! A 40-byte directory points at three tables: the address table (one RVA per ordinal), the
//! name pointer table and, parallel to it, the ordinal table (an index into the address
//! table per name). An address RVA inside the export directory itself is a forwarder (a
//! string `DLL.Symbol`), which this loader reports but does not follow.

use super::bytes::{name_at, span, u16_at, u32_at, Rva};
use super::error::{fail, ErrorKind, Problem};
use super::headers::{Directory, Headers};

const DIRECTORY_SIZE: usize = 40;
/// Most address-table entries (and names) accepted: the ordinal space.
pub const MAX_EXPORTS: u32 = 0x1_0000;

/// What an export resolves to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportTarget {
    /// Code or data in this image.
    Rva(Rva),
    /// Another DLL's symbol (`"NTOSKRNL.KeBugCheckEx"`): not supported, so not resolvable.
    Forwarder(String),
}

/// One export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Export {
    /// Name, for exports that have one.
    pub name: Option<String>,
    /// Ordinal (Base + address table index).
    pub ordinal: u32,
    /// Where it points.
    pub target: ExportTarget,
}

fn table<'a>(
    image: &'a [u8],
    rva: u32,
    count: u32,
    width: usize,
    what: &str,
) -> Result<&'a [u8], Problem> {
    let len = (count as usize).saturating_mul(width);
    match span(rva as usize, len, image.len()).and_then(|r| image.get(r)) {
        Some(t) => Ok(t),
        None => fail(
            ErrorKind::Export,
            format!("export {what} ({count} entries at RVA {rva:#x}) is outside the image"),
        ),
    }
}

/// Reads the export directory of the laid-out `image`; every index and RVA bounds-checked.
pub(crate) fn parse(image: &[u8], h: &Headers) -> Result<Vec<Export>, Problem> {
    let dir = h.directory(Directory::Export);
    if dir.size == 0 {
        return Ok(Vec::new());
    }
    let dir_range = span(dir.rva.offset(), dir.size as usize, image.len());
    let Some(header) = dir_range
        .clone()
        .filter(|r| r.len() >= DIRECTORY_SIZE)
        .and_then(|r| image.get(r.start..r.start + DIRECTORY_SIZE))
    else {
        return fail(
            ErrorKind::Export,
            format!(
                "export directory {}+{:#x} is outside the image or smaller than {DIRECTORY_SIZE} bytes",
                dir.rva, dir.size
            ),
        );
    };
    let dir_range = dir_range.unwrap_or(0..0);
    let field = |off: usize| u32_at(header, off).unwrap_or(0);
    let (base, functions, names) = (field(16), field(20), field(24));
    let (functions_rva, names_rva, ordinals_rva) = (field(28), field(32), field(36));
    if functions > MAX_EXPORTS || names > MAX_EXPORTS {
        return fail(
            ErrorKind::Export,
            format!("export directory claims {functions} functions and {names} names (at most {MAX_EXPORTS})"),
        );
    }
    let addresses = table(image, functions_rva, functions, 4, "address table")?;
    let name_table = table(image, names_rva, names, 4, "name pointer table")?;
    let ordinal_table = table(image, ordinals_rva, names, 2, "ordinal table")?;

    let mut exports: Vec<Export> = Vec::new();
    // Address table index -> position in `exports` (None: unused entry).
    let mut position = vec![None; functions as usize];
    for (index, slot) in position.iter_mut().enumerate() {
        let rva = u32_at(addresses, index * 4).unwrap_or(0);
        if rva == 0 {
            continue; // an unused ordinal
        }
        let ordinal = base.saturating_add(index as u32);
        let target = if dir_range.contains(&(rva as usize)) {
            match name_at(image, Rva(rva)) {
                Ok(s) => ExportTarget::Forwarder(s.to_owned()),
                Err(e) => {
                    return fail(
                        ErrorKind::Export,
                        format!("export ordinal {ordinal}: forwarder string at RVA {rva:#x} {e}"),
                    )
                }
            }
        } else if rva < h.size_of_image {
            ExportTarget::Rva(Rva(rva))
        } else {
            return fail(
                ErrorKind::Export,
                format!(
                    "export ordinal {ordinal} points at RVA {rva:#x}, outside the image ({:#x} bytes)",
                    h.size_of_image
                ),
            );
        };
        *slot = Some(exports.len());
        exports.push(Export {
            name: None,
            ordinal,
            target,
        });
    }
    for n in 0..names as usize {
        let name_rva = Rva(u32_at(name_table, n * 4).unwrap_or(0));
        let name = match name_at(image, name_rva) {
            Ok(s) => s.to_owned(),
            Err(e) => {
                return fail(
                    ErrorKind::Export,
                    format!("export name {n} at RVA {name_rva} {e}"),
                )
            }
        };
        let index = usize::from(u16_at(ordinal_table, n * 2).unwrap_or(0));
        let Some(entry) = position.get(index) else {
            return fail(
                ErrorKind::Export,
                format!("export name {n} ({name}) has ordinal index {index}, but the address table has {functions} entries"),
            );
        };
        let Some(existing) = entry.and_then(|p| exports.get_mut(p)) else {
            return fail(
                ErrorKind::Export,
                format!("export name {n} ({name}) refers to unused address table entry {index}"),
            );
        };
        if existing.name.is_none() {
            existing.name = Some(name);
        } else {
            // A second name for the same entry.
            let alias = Export {
                name: Some(name),
                ..existing.clone()
            };
            exports.push(alias);
        }
    }
    Ok(exports)
}
