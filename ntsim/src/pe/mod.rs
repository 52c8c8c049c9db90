//! A PE image loader for kernel-mode images (`.sys`): the host stand-in for the Windows
//! kernel image loader (`MmLoadSystemImage`), as its behaviour follows from the public PE/COFF
//! specification. It reads AMD64 (PE32+) and i386 (PE32) images, and maps the one the host can
//! call, [`Machine::HOST`]: AMD64 on a 64-bit host, i386 on a 32-bit one (such as
//! `i686-unknown-linux-gnu`, where `extern "ntapi"` is stdcall, the x86 kernel's convention).
//!
//! [`load`] takes the file's bytes and a resolver for imports, and returns a [`PeImage`]:
//! mapped into this process at a fresh address (or at its ImageBase if it cannot be
//! relocated), relocated, its import address table bound, each section protected as it asks
//! (headers read-only, W+X refused). [`parse`] does all the validation without mapping
//! anything, for either machine on any host; `load` is `parse` followed by
//! [`ParsedImage::map`], which refuses the other machine naming both.
//!
//! ```ignore
//! let bytes = std::fs::read("target/drivers/videoprt_rs.sys")?;
//! let image = ntsim::pe::load("videoprt_rs.sys", &bytes, &mut |dll, symbol| {
//!     kernel_exports.lookup(dll, symbol) // Option<usize>
//! })?;
//! for (dll, n) in image.import_counts() {
//!     println!("{n} imports bound to {dll}");
//! }
//! let driver_entry = image.entry_point();
//! ```
//!
//! What is checked, in order (each refusal is a [`LoadError`] naming the file and the fault):
//!
//! * headers (`headers.rs`): MZ; `e_lfanew` 4-byte aligned with the NT
//!   headers inside the file; `PE\0\0`; Machine AMD64 or i386 (others refused by number);
//!   IMAGE_FILE_EXECUTABLE_IMAGE; 1..=[`MAX_SECTIONS`] sections; the machine's optional
//!   header (PE32+ magic for AMD64, PE32 for i386, the other refused by name); an optional
//!   header large enough for its NumberOfRvaAndSizes (at most 16) directories; subsystem
//!   native; power-of-two alignments (FileAlignment 512..=64 KiB, or equal to SectionAlignment
//!   below the page size); ImageBase a multiple of 64 KiB (and, for PE32, the image ending at
//!   or below 4 GiB); SizeOfImage a multiple of SectionAlignment up to [`MAX_IMAGE_SIZE`];
//!   SizeOfHeaders covering the section table, inside the file and the image;
//! * sections (`sections.rs`): aligned, ascending, not overlapping the
//!   headers or each other, inside SizeOfImage; raw data inside the file; none both writable
//!   and executable, nor any page shared so; the entry point inside an executable section;
//! * base relocations: blocks of at least 8 bytes, even, inside the directory; only
//!   `ABSOLUTE` and the machine's own type (`DIR64` for AMD64, `HIGHLOW` for i386); every
//!   target's 8 (or 4) bytes inside the image. Without relocations the image loads only at
//!   its ImageBase;
//! * imports: no delay-load directory; descriptors, thunk arrays (8-byte thunks for AMD64,
//!   4-byte for i386) and IAT slots inside the image; names NUL-terminated printable ASCII
//!   within [`MAX_NAME`] bytes; ordinals without reserved bits; at most [`MAX_IMPORT_DLLS`]
//!   DLLs and [`MAX_IMPORTS`] imports; each one provided by the resolver;
//! * exports: the directory and its three tables inside the image, at most [`MAX_EXPORTS`]
//!   entries, every name valid, every ordinal index and address RVA in range;
//! * when mapping: the machine is [`Machine::HOST`].
//!
//! Input-dependent paths never index or do unchecked arithmetic; the only `unsafe` code is
//! the mapping (`map.rs`: mmap, mprotect, munmap and the view of the
//! mapping used to write it). The `fuzz/` crate at the workspace root feeds [`load`] arbitrary
//! bytes.

mod bytes;
mod error;
mod exports;
mod headers;
mod image;
mod imports;
mod map;
mod relocs;
mod sections;
#[cfg(target_arch = "x86")]
mod thunks;

pub use bytes::{Rva, MAX_NAME};
pub use error::{ErrorKind, LoadError};
pub use exports::{Export, ExportTarget, MAX_EXPORTS};
pub use headers::{Machine, MAX_IMAGE_SIZE, MAX_SECTIONS};
pub use image::PeImage;
pub use imports::{BoundImport, Import, ImportName, ImportSymbol, MAX_IMPORTS, MAX_IMPORT_DLLS};
pub use relocs::ImagePlacement;
pub use sections::{
    Protection, SectionInfo, IMAGE_SCN_MEM_DISCARDABLE, IMAGE_SCN_MEM_EXECUTE, IMAGE_SCN_MEM_READ,
    IMAGE_SCN_MEM_WRITE,
};

use error::Problem;
use headers::Headers;
use sections::{check_pages, lay_out, page_protections};

/// A validated image, not yet mapped: everything [`ParsedImage::map`] needs.
pub struct ParsedImage<'a> {
    file_name: &'a str,
    file: &'a [u8],
    headers: Headers,
    sections: Vec<SectionInfo>,
    placement: ImagePlacement,
    imports: Vec<Import>,
    exports: Vec<Export>,
    /// Protection of each page once loaded.
    pages: Vec<Protection>,
}

impl ParsedImage<'_> {
    /// The machine.
    pub fn machine(&self) -> Machine {
        self.headers.machine
    }
    /// ImageBase: where the image was linked to run.
    pub fn image_base(&self) -> u64 {
        self.headers.image_base
    }
    /// SizeOfImage.
    pub fn size_of_image(&self) -> u32 {
        self.headers.size_of_image
    }
    /// AddressOfEntryPoint.
    pub fn entry_point(&self) -> Rva {
        self.headers.entry_point
    }
    /// Characteristics of the file header (IMAGE_FILE_*).
    pub fn characteristics(&self) -> u16 {
        self.headers.characteristics
    }
    /// The sections, validated.
    pub fn sections(&self) -> &[SectionInfo] {
        &self.sections
    }
    /// Relocatable (with its fixups) or bound to its ImageBase.
    pub fn placement(&self) -> &ImagePlacement {
        &self.placement
    }
    /// The imports, in import-table order.
    pub fn imports(&self) -> &[Import] {
        &self.imports
    }
    /// The exports.
    pub fn exports(&self) -> &[Export] {
        &self.exports
    }
}

/// Validates `bytes` as an AMD64 or i386 kernel image without mapping it (on any host).
/// `file_name` only names the file in errors.
pub fn parse<'a>(file_name: &'a str, bytes: &'a [u8]) -> Result<ParsedImage<'a>, LoadError> {
    parse_inner(file_name, bytes).map_err(|p| p.in_file(file_name))
}

fn parse_inner<'a>(file_name: &'a str, file: &'a [u8]) -> Result<ParsedImage<'a>, Problem> {
    let headers = headers::parse_headers(file)?;
    let sections = sections::parse_sections(file, &headers)?;
    let pages = page_protections(&headers, &sections, |_| false);
    check_pages(&pages, &sections)?;
    // The tables are read from the memory layout, which RVAs address. A zeroed vector costs
    // only the pages written (calloc'd memory is mapped lazily).
    let mut image = vec![0u8; headers.size_of_image as usize];
    lay_out(file, &headers, &sections, &mut image)?;
    let placement = relocs::parse(&image, &headers)?;
    let imports = imports::parse(&image, &headers)?;
    let exports = exports::parse(&image, &headers)?;
    Ok(ParsedImage {
        file_name,
        file,
        headers,
        sections,
        placement,
        imports,
        exports,
        pages,
    })
}

/// Parses, maps and binds a kernel image for this host's machine ([`Machine::HOST`]); see
/// the [module docs](self).
///
/// `resolve(dll, symbol)` gets each import with the DLL name as written in the import table
/// (`"ntoskrnl.exe"`, `"HAL.dll"`, `"videoprt_rs.sys"`) and returns its address, or `None`,
/// which fails the load naming `dll!symbol`.
pub fn load(
    file_name: &str,
    bytes: &[u8],
    resolve: &mut dyn FnMut(&str, ImportName<'_>) -> Option<usize>,
) -> Result<PeImage, LoadError> {
    parse(file_name, bytes)?.map(resolve)
}
