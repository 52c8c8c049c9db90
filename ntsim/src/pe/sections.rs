//! The section table: where each section's bytes come from in the file, where they go in the
//! image, and with which protection they are mapped.
//!
//! Protection is decided per page, as the hardware enforces it: a page gets the union of the
//! protections of everything on it (the headers are read-only). With SectionAlignment at or
//! above the page size that is exactly each section's own protection; below it, sections
//! share pages, and a page that would end up writable and executable is refused just like a
//! W+X section.

use super::bytes::{printable, span, u32_at, Rva};
use super::error::{fail, ErrorKind, Problem};
use super::headers::{section_align, Headers, SECTION_HEADER_SIZE};
use crate::types::PAGE;
use std::fmt;

/// Section characteristics: the section can be discarded once the image has initialised.
pub const IMAGE_SCN_MEM_DISCARDABLE: u32 = 0x0200_0000;
/// Section characteristics: executable.
pub const IMAGE_SCN_MEM_EXECUTE: u32 = 0x2000_0000;
/// Section characteristics: readable.
pub const IMAGE_SCN_MEM_READ: u32 = 0x4000_0000;
/// Section characteristics: writable.
pub const IMAGE_SCN_MEM_WRITE: u32 = 0x8000_0000;

/// Page protection of a section or page. Write and execute imply read (x86 pages are always
/// readable when present).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Protection {
    /// Mapped at all.
    pub read: bool,
    /// Writable.
    pub write: bool,
    /// Executable.
    pub execute: bool,
}

impl Protection {
    /// Not accessible (discarded, or not part of any section).
    pub const NONE: Protection = Protection::new(false, false, false);
    /// Read-only.
    pub const READ: Protection = Protection::new(true, false, false);
    /// Read-write.
    pub const READ_WRITE: Protection = Protection::new(true, true, false);
    /// Read-execute.
    pub const READ_EXECUTE: Protection = Protection::new(true, false, true);

    const fn new(read: bool, write: bool, execute: bool) -> Self {
        Protection {
            read,
            write,
            execute,
        }
    }

    /// From IMAGE_SCN_MEM_READ / WRITE / EXECUTE.
    pub const fn from_characteristics(c: u32) -> Self {
        let write = c & IMAGE_SCN_MEM_WRITE != 0;
        let execute = c & IMAGE_SCN_MEM_EXECUTE != 0;
        Protection::new(
            c & IMAGE_SCN_MEM_READ != 0 || write || execute,
            write,
            execute,
        )
    }

    /// Everything either allows.
    pub const fn union(self, other: Protection) -> Protection {
        Protection::new(
            self.read || other.read,
            self.write || other.write,
            self.execute || other.execute,
        )
    }

    /// Writable and executable: never allowed.
    pub const fn is_write_execute(self) -> bool {
        self.write && self.execute
    }
}

impl fmt::Display for Protection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flag = |on: bool, c: char| if on { c } else { '-' };
        write!(
            f,
            "{}{}{}",
            flag(self.read, 'R'),
            flag(self.write, 'W'),
            flag(self.execute, 'X')
        )
    }
}

/// One validated section header.
///
/// Invariants (checked by `parse_sections`): `rva` is SectionAlignment-aligned, at or above
/// the headers and the previous section's aligned end; `rva + mem_size <= SizeOfImage`;
/// `raw_offset + raw_size` lies within the file; the section is not both writable and
/// executable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SectionInfo {
    /// The name as written (8 bytes at most, NUL padding dropped, odd bytes escaped).
    pub name: String,
    /// Where the section starts in the image.
    pub rva: Rva,
    /// Bytes the section occupies in memory: VirtualSize, or SizeOfRawData when that is 0.
    pub size: u32,
    /// Current protection: what the characteristics ask for, [`Protection::NONE`] once
    /// discarded by [`PeImage::discard_init`](super::PeImage::discard_init).
    pub protection: Protection,
    /// The raw IMAGE_SCN_* characteristics.
    pub characteristics: u32,
    pub(crate) raw_offset: u32,
    pub(crate) raw_size: u32,
}

impl SectionInfo {
    /// Bytes copied from the file: the rest of the section is zero-filled.
    pub(crate) fn copy_size(&self) -> u32 {
        self.raw_size.min(self.size)
    }

    /// `rva..rva + size` as image offsets.
    pub(crate) fn range(&self) -> std::ops::Range<usize> {
        let start = self.rva.offset();
        start..start.saturating_add(self.size as usize)
    }

    /// Freed after initialisation, as Windows frees them after DriverEntry: `INIT`, and any
    /// discardable section except `.reloc` (kept so the relocations remain inspectable).
    pub fn is_init_discardable(&self) -> bool {
        self.name == "INIT"
            || (self.characteristics & IMAGE_SCN_MEM_DISCARDABLE != 0 && self.name != ".reloc")
    }
}

/// Reads and validates the section table described by `h`.
pub(crate) fn parse_sections(file: &[u8], h: &Headers) -> Result<Vec<SectionInfo>, Problem> {
    let mut sections: Vec<SectionInfo> = Vec::with_capacity(usize::from(h.number_of_sections));
    // Lowest RVA the next section may start at.
    let mut next_free = section_align(h, u64::from(h.size_of_headers)).unwrap_or(u64::MAX);
    for i in 0..usize::from(h.number_of_sections) {
        let off = h.section_table + i * SECTION_HEADER_SIZE;
        let raw = file
            .get(off..)
            .and_then(|rest| rest.get(..SECTION_HEADER_SIZE))
            .ok_or_else(|| {
                Problem::new(
                    ErrorKind::Truncated,
                    "section table runs past the end of the file",
                )
            })?;
        let field = |at: usize| u32_at(raw, at).unwrap_or(0);
        let name_bytes = raw.get(..8).unwrap_or_default();
        let name_len = name_bytes.iter().position(|&b| b == 0).unwrap_or(8);
        let name = printable(name_bytes.get(..name_len).unwrap_or_default());
        let virtual_size = field(8);
        let rva = Rva(field(12));
        let raw_size = field(16);
        let raw_offset = field(20);
        let characteristics = field(36);
        let size = if virtual_size == 0 {
            raw_size
        } else {
            virtual_size
        };

        if rva.0 % h.section_alignment != 0 {
            return fail(
                ErrorKind::Section,
                format!(
                    "section {name} at RVA {rva} is not aligned to SectionAlignment {:#x}",
                    h.section_alignment
                ),
            );
        }
        if u64::from(rva.0) < next_free {
            let what = match sections.last() {
                Some(prev) => format!("section {} ({}+{:#x})", prev.name, prev.rva, prev.size),
                None => format!("the headers (SizeOfHeaders {:#x})", h.size_of_headers),
            };
            return fail(
                ErrorKind::Section,
                format!("section {name} at RVA {rva} overlaps or precedes {what}"),
            );
        }
        let end = u64::from(rva.0) + u64::from(size);
        if end > u64::from(h.size_of_image) {
            return fail(
                ErrorKind::Section,
                format!(
                    "section {name} {rva}+{size:#x} runs past SizeOfImage {:#x}",
                    h.size_of_image
                ),
            );
        }
        if raw_size != 0 && span(raw_offset as usize, raw_size as usize, file.len()).is_none() {
            return fail(
                ErrorKind::Truncated,
                format!(
                    "section {name} raw data {raw_offset:#x}+{raw_size:#x} runs past the end of the file ({:#x} bytes)",
                    file.len()
                ),
            );
        }
        let protection = Protection::from_characteristics(characteristics);
        if protection.is_write_execute() {
            return fail(
                ErrorKind::Section,
                format!("section {name} is both writable and executable (characteristics {characteristics:#010x})"),
            );
        }
        next_free = section_align(h, end).unwrap_or(u64::MAX);
        sections.push(SectionInfo {
            name,
            rva,
            size,
            protection,
            characteristics,
            raw_offset,
            raw_size,
        });
    }
    let entry = h.entry_point;
    let in_code = sections
        .iter()
        .any(|s| s.protection.execute && s.range().contains(&entry.offset()));
    if !in_code {
        return fail(
            ErrorKind::Header,
            format!("entry point RVA {entry} is not inside an executable section"),
        );
    }
    Ok(sections)
}

/// Protection of each page of the image (`ceil(SizeOfImage / PAGE)` entries): headers
/// read-only, each section's pages its protection (sections for which `skip` is true left
/// out), everything else [`Protection::NONE`]. Shared pages get the union.
pub(crate) fn page_protections(
    h: &Headers,
    sections: &[SectionInfo],
    skip: impl Fn(&SectionInfo) -> bool,
) -> Vec<Protection> {
    let pages = (h.size_of_image as usize).div_ceil(PAGE);
    let mut prot = vec![Protection::NONE; pages];
    let mut mark = |range: std::ops::Range<usize>, p: Protection| {
        if range.is_empty() {
            return;
        }
        let first = range.start / PAGE;
        let last = range.end.div_ceil(PAGE);
        for page in prot.iter_mut().take(last).skip(first) {
            *page = page.union(p);
        }
    };
    mark(0..h.size_of_headers as usize, Protection::READ);
    for s in sections.iter().filter(|s| !skip(s)) {
        mark(s.range(), s.protection);
    }
    prot
}

/// Refuses a page that sections sharing it would make writable and executable.
pub(crate) fn check_pages(pages: &[Protection], sections: &[SectionInfo]) -> Result<(), Problem> {
    let Some(page) = pages.iter().position(|p| p.is_write_execute()) else {
        return Ok(());
    };
    let page_range = page * PAGE..(page + 1) * PAGE;
    let names: Vec<&str> = sections
        .iter()
        .filter(|s| {
            let r = s.range();
            let writes_or_runs = s.protection.write || s.protection.execute;
            writes_or_runs && r.start < page_range.end && page_range.start < r.end
        })
        .map(|s| s.name.as_str())
        .collect();
    fail(
        ErrorKind::Section,
        format!(
            "sections {} share the page at RVA {:#x}, which would be writable and executable",
            names.join(", "),
            page_range.start
        ),
    )
}

/// Copies the headers and each section's raw data into `image` (zeroed, SizeOfImage bytes):
/// the memory layout. Bytes past a section's raw data stay zero.
pub(crate) fn lay_out(
    file: &[u8],
    h: &Headers,
    sections: &[SectionInfo],
    image: &mut [u8],
) -> Result<(), Problem> {
    let inconsistent = || Problem::new(ErrorKind::Section, "section layout does not fit the image");
    let soh = h.size_of_headers as usize;
    let src = file.get(..soh).ok_or_else(inconsistent)?;
    image
        .get_mut(..soh)
        .ok_or_else(inconsistent)?
        .copy_from_slice(src);
    for s in sections {
        let n = s.copy_size() as usize;
        if n == 0 {
            continue;
        }
        let from = span(s.raw_offset as usize, n, file.len()).ok_or_else(inconsistent)?;
        let to = span(s.rva.offset(), n, image.len()).ok_or_else(inconsistent)?;
        let src = file.get(from).ok_or_else(inconsistent)?;
        image
            .get_mut(to)
            .ok_or_else(inconsistent)?
            .copy_from_slice(src);
    }
    Ok(())
}
