//! The DOS header, the NT headers and the optional header: what machine the image is for,
//! where it wants to live, how it is laid out in the file and in memory, and where its data
//! directories are.
//!
//! Field offsets are those of the PE/COFF specification. Two machines are parsed, each with
//! its own optional header: AMD64 with PE32+ (magic 0x20b: 64-bit ImageBase and stack/heap
//! sizes, data directories at 112) and i386 with PE32 (magic 0x10b: BaseOfData, 32-bit
//! ImageBase and stack/heap sizes, data directories at 96). Any other machine, or a machine
//! with the other header, is refused. Which machine a host can *run* is [`Machine::HOST`],
//! checked when mapping, not here: parsing works for both on every host.

use super::bytes::{align_up, u16_at, u32_at, u64_at, Rva};
use super::error::{fail, ErrorKind, Problem};
use crate::types::PAGE;

pub(crate) const IMAGE_FILE_MACHINE_AMD64: u16 = 0x8664;
pub(crate) const IMAGE_FILE_MACHINE_I386: u16 = 0x14c;
/// Characteristics: the image has no base relocations and must load at its ImageBase.
pub const IMAGE_FILE_RELOCS_STRIPPED: u16 = 0x0001;
/// Characteristics: an image, not an object file.
pub const IMAGE_FILE_EXECUTABLE_IMAGE: u16 = 0x0002;
const PE32_MAGIC: u16 = 0x10b;
const PE32_PLUS_MAGIC: u16 = 0x20b;
const IMAGE_SUBSYSTEM_NATIVE: u16 = 1;

const DOS_HEADER_SIZE: usize = 0x40;
const E_LFANEW: usize = 0x3c;
const FILE_HEADER_SIZE: usize = 20;
/// The PE32+ optional header up to (not including) the data directories.
const PE32_PLUS_FIXED_SIZE: usize = 112;
/// The PE32 optional header up to (not including) the data directories.
const PE32_FIXED_SIZE: usize = 96;
pub(crate) const SECTION_HEADER_SIZE: usize = 40;
const DATA_DIRECTORY_SIZE: usize = 8;
const MAX_DATA_DIRECTORIES: u32 = 16;

/// Windows refuses images with more sections than this.
pub const MAX_SECTIONS: u16 = 96;
/// Largest SizeOfImage accepted. Far above any driver; it bounds the memory a hostile header
/// can make the loader reserve.
pub const MAX_IMAGE_SIZE: u32 = 512 << 20;
/// Largest SectionAlignment accepted (2 MiB, a large page).
const MAX_SECTION_ALIGNMENT: u32 = 2 << 20;
/// ImageBase granularity required by the specification.
const IMAGE_BASE_ALIGNMENT: u64 = 0x1_0000;

/// The machine an image is built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Machine {
    /// x64: PE32+ optional header, 8-byte thunks, `DIR64` relocations.
    Amd64,
    /// x86: PE32 optional header, 4-byte thunks, `HIGHLOW` relocations.
    I386,
}

impl Machine {
    /// The machine whose images this host can map and call: the one matching the host's
    /// pointer width (AMD64 on a 64-bit host, i386 on a 32-bit one, where `extern "ntapi"` is
    /// stdcall, the x86 kernel convention).
    #[cfg(target_pointer_width = "64")]
    pub const HOST: Machine = Machine::Amd64;
    /// The machine whose images this host can map and call: the one matching the host's
    /// pointer width (AMD64 on a 64-bit host, i386 on a 32-bit one, where `extern "ntapi"` is
    /// stdcall, the x86 kernel convention).
    #[cfg(target_pointer_width = "32")]
    pub const HOST: Machine = Machine::I386;

    fn from_raw(raw: u16) -> Result<Self, Problem> {
        match raw {
            IMAGE_FILE_MACHINE_AMD64 => Ok(Machine::Amd64),
            IMAGE_FILE_MACHINE_I386 => Ok(Machine::I386),
            other => fail(
                ErrorKind::Unsupported,
                format!("machine {other:#06x} is neither AMD64 (0x8664) nor i386 (0x14c)"),
            ),
        }
    }

    /// The IMAGE_FILE_MACHINE_* value.
    pub const fn raw(self) -> u16 {
        match self {
            Machine::Amd64 => IMAGE_FILE_MACHINE_AMD64,
            Machine::I386 => IMAGE_FILE_MACHINE_I386,
        }
    }

    /// The name used in messages: `AMD64 (0x8664)`, `i386 (0x14c)`.
    pub const fn name(self) -> &'static str {
        match self {
            Machine::Amd64 => "AMD64 (0x8664)",
            Machine::I386 => "i386 (0x14c)",
        }
    }

    /// `AMD64`, `i386`.
    pub const fn short_name(self) -> &'static str {
        match self {
            Machine::Amd64 => "AMD64",
            Machine::I386 => "i386",
        }
    }

    /// Bytes in an import thunk and in a pointer-sized relocation.
    pub const fn pointer_size(self) -> usize {
        match self {
            Machine::Amd64 => 8,
            Machine::I386 => 4,
        }
    }

    /// The optional header this machine needs: (magic, its name, fixed size before the data
    /// directories).
    const fn optional_header(self) -> (u16, &'static str, usize) {
        match self {
            Machine::Amd64 => (PE32_PLUS_MAGIC, "PE32+ (0x20b)", PE32_PLUS_FIXED_SIZE),
            Machine::I386 => (PE32_MAGIC, "PE32 (0x10b)", PE32_FIXED_SIZE),
        }
    }
}

impl std::fmt::Display for Machine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The data directories the loader reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Directory {
    Export = 0,
    Import = 1,
    BaseReloc = 5,
    DelayImport = 13,
}

impl Directory {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Directory::Export => "export directory",
            Directory::Import => "import directory",
            Directory::BaseReloc => "base relocation directory",
            Directory::DelayImport => "delay-load import directory",
        }
    }
}

/// One data directory entry. Absent when `size` is 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct DataDirectory {
    pub(crate) rva: Rva,
    pub(crate) size: u32,
}

/// The header fields the loader uses, validated.
///
/// Invariants (checked by [`parse_headers`]): `section_alignment` and `file_alignment` are
/// powers of two with `file_alignment <= section_alignment`; `size_of_image` is a nonzero
/// multiple of `section_alignment` no larger than [`MAX_IMAGE_SIZE`];
/// `size_of_headers <= size_of_image` and `size_of_headers` bytes exist in the file and hold
/// the whole section table; `image_base + size_of_image` does not overflow.
#[derive(Clone, Debug)]
pub(crate) struct Headers {
    pub(crate) machine: Machine,
    pub(crate) characteristics: u16,
    pub(crate) number_of_sections: u16,
    /// File offset of the first section header.
    pub(crate) section_table: usize,
    pub(crate) image_base: u64,
    pub(crate) entry_point: Rva,
    pub(crate) section_alignment: u32,
    pub(crate) size_of_image: u32,
    pub(crate) size_of_headers: u32,
    directories: [DataDirectory; MAX_DATA_DIRECTORIES as usize],
}

impl Headers {
    /// A data directory; absent (size 0) when beyond NumberOfRvaAndSizes.
    pub(crate) fn directory(&self, which: Directory) -> DataDirectory {
        self.directories
            .get(which as usize)
            .copied()
            .unwrap_or_default()
    }
}

fn truncated(what: &str, offset: usize, len: usize, file_len: usize) -> Problem {
    Problem::new(
        ErrorKind::Truncated,
        format!(
            "{what} ({len:#x} bytes at {offset:#x}) runs past the end of the file ({file_len:#x} bytes)"
        ),
    )
}

/// Reads and validates everything up to the section table (whose extent it checks, not its
/// contents).
pub(crate) fn parse_headers(file: &[u8]) -> Result<Headers, Problem> {
    let len = file.len();
    let dos = file
        .get(..DOS_HEADER_SIZE)
        .ok_or_else(|| truncated("DOS header", 0, DOS_HEADER_SIZE, len))?;
    if dos.get(..2) != Some(b"MZ".as_slice()) {
        return fail(ErrorKind::Header, "no MZ signature: not a PE image");
    }
    let e_lfanew = u32_at(dos, E_LFANEW).unwrap_or(0) as usize;
    if e_lfanew % 4 != 0 {
        return fail(
            ErrorKind::Header,
            format!("e_lfanew {e_lfanew:#x} is not 4-byte aligned"),
        );
    }
    let nt_fixed = 4 + FILE_HEADER_SIZE;
    let nt = file
        .get(e_lfanew..)
        .and_then(|rest| rest.get(..nt_fixed))
        .ok_or_else(|| {
            let what = format!("NT headers at e_lfanew {e_lfanew:#x}");
            truncated(&what, e_lfanew, nt_fixed, len)
        })?;
    if nt.get(..4) != Some(b"PE\0\0".as_slice()) {
        return fail(
            ErrorKind::Header,
            format!("no PE\\0\\0 signature at e_lfanew {e_lfanew:#x}"),
        );
    }
    let field16 = |off: usize| u16_at(nt, 4 + off).unwrap_or(0);
    let machine = Machine::from_raw(field16(0))?;
    let number_of_sections = field16(2);
    let size_of_optional_header = usize::from(field16(16));
    let characteristics = field16(18);
    if characteristics & IMAGE_FILE_EXECUTABLE_IMAGE == 0 {
        return fail(
            ErrorKind::Header,
            format!("characteristics {characteristics:#06x} lack IMAGE_FILE_EXECUTABLE_IMAGE: not an image"),
        );
    }
    if number_of_sections == 0 {
        return fail(ErrorKind::Section, "the image has no sections");
    }
    if number_of_sections > MAX_SECTIONS {
        return fail(
            ErrorKind::Section,
            format!("NumberOfSections {number_of_sections} exceeds {MAX_SECTIONS}"),
        );
    }

    let opt_offset = e_lfanew + nt_fixed;
    let magic =
        u16_at(file, opt_offset).ok_or_else(|| truncated("optional header", opt_offset, 2, len))?;
    let (wanted_magic, header_name, fixed_size) = machine.optional_header();
    if magic != wanted_magic {
        return match magic {
            PE32_MAGIC | PE32_PLUS_MAGIC => fail(
                ErrorKind::Unsupported,
                format!(
                    "optional header is {} (magic {magic:#x}) but an {} image needs {header_name}",
                    if magic == PE32_MAGIC { "PE32" } else { "PE32+" },
                    machine.short_name(),
                ),
            ),
            other => fail(
                ErrorKind::Header,
                format!(
                    "optional header magic {other:#06x} is neither PE32 (0x10b) nor PE32+ (0x20b)"
                ),
            ),
        };
    }
    if size_of_optional_header < fixed_size {
        return fail(
            ErrorKind::Header,
            format!("SizeOfOptionalHeader {size_of_optional_header:#x} is smaller than the {header_name} fixed fields ({fixed_size:#x})"),
        );
    }
    let opt = file
        .get(opt_offset..)
        .and_then(|rest| rest.get(..size_of_optional_header))
        .ok_or_else(|| truncated("optional header", opt_offset, size_of_optional_header, len))?;
    let o32 = |off: usize| u32_at(opt, off).unwrap_or(0);

    // The fields up to SectionAlignment differ: PE32 has BaseOfData at 24 and a 32-bit
    // ImageBase at 28, PE32+ a 64-bit ImageBase at 24. From SectionAlignment (32) to the
    // subsystem (68) both agree; then PE32's four stack and heap sizes are 32-bit, so
    // NumberOfRvaAndSizes is the last fixed field of either.
    let entry_point = Rva(o32(16));
    let image_base = match machine {
        Machine::Amd64 => u64_at(opt, 24).unwrap_or(0),
        Machine::I386 => u64::from(o32(28)),
    };
    let section_alignment = o32(32);
    let file_alignment = o32(36);
    let size_of_image = o32(56);
    let size_of_headers = o32(60);
    let subsystem = u16_at(opt, 68).unwrap_or(0);
    let number_of_rva_and_sizes = o32(fixed_size - 4);

    if number_of_rva_and_sizes > MAX_DATA_DIRECTORIES {
        return fail(
            ErrorKind::Header,
            format!("NumberOfRvaAndSizes {number_of_rva_and_sizes} exceeds {MAX_DATA_DIRECTORIES}"),
        );
    }
    let dirs_len = number_of_rva_and_sizes as usize * DATA_DIRECTORY_SIZE;
    if size_of_optional_header < fixed_size + dirs_len {
        return fail(
            ErrorKind::Header,
            format!("SizeOfOptionalHeader {size_of_optional_header:#x} cannot hold {number_of_rva_and_sizes} data directories"),
        );
    }
    let mut directories = [DataDirectory::default(); MAX_DATA_DIRECTORIES as usize];
    for (i, d) in directories
        .iter_mut()
        .take(number_of_rva_and_sizes as usize)
        .enumerate()
    {
        let off = fixed_size + i * DATA_DIRECTORY_SIZE;
        *d = DataDirectory {
            rva: Rva(o32(off)),
            size: o32(off + 4),
        };
    }

    if subsystem != IMAGE_SUBSYSTEM_NATIVE {
        return fail(
            ErrorKind::Unsupported,
            format!(
                "subsystem {subsystem} ({}) is not native (1): not a kernel-mode image",
                subsystem_name(subsystem)
            ),
        );
    }
    check_alignments(section_alignment, file_alignment)?;
    if image_base == 0 || image_base % IMAGE_BASE_ALIGNMENT != 0 {
        return fail(
            ErrorKind::Header,
            format!("ImageBase {image_base:#x} is not a nonzero multiple of 64 KiB"),
        );
    }
    if size_of_image == 0 || size_of_image > MAX_IMAGE_SIZE {
        return fail(
            ErrorKind::Header,
            format!("SizeOfImage {size_of_image:#x} is 0 or above {MAX_IMAGE_SIZE:#x}"),
        );
    }
    if size_of_image % section_alignment != 0 {
        return fail(
            ErrorKind::Header,
            format!("SizeOfImage {size_of_image:#x} is not a multiple of SectionAlignment {section_alignment:#x}"),
        );
    }
    // A PE32 image lives in a 32-bit address space: it must end at or below 4 GiB.
    let address_space_end = match machine {
        Machine::Amd64 => u64::MAX,
        Machine::I386 => 1 << 32,
    };
    if image_base
        .checked_add(u64::from(size_of_image))
        .is_none_or(|end| end > address_space_end)
    {
        return fail(
            ErrorKind::Header,
            format!("ImageBase {image_base:#x} + SizeOfImage {size_of_image:#x} overflows the {} address space", machine.name()),
        );
    }

    let section_table = opt_offset + size_of_optional_header;
    let table_len = usize::from(number_of_sections) * SECTION_HEADER_SIZE;
    let headers_end = section_table + table_len;
    if headers_end > len {
        return Err(truncated(
            &format!("section table ({number_of_sections} entries)"),
            section_table,
            table_len,
            len,
        ));
    }
    let soh = size_of_headers as usize;
    if soh < headers_end {
        return fail(
            ErrorKind::Header,
            format!("SizeOfHeaders {size_of_headers:#x} does not cover the headers and section table (which end at {headers_end:#x})"),
        );
    }
    if soh > len {
        return Err(truncated("headers (SizeOfHeaders)", 0, soh, len));
    }
    if size_of_headers > size_of_image {
        return fail(
            ErrorKind::Header,
            format!("SizeOfHeaders {size_of_headers:#x} exceeds SizeOfImage {size_of_image:#x}"),
        );
    }

    Ok(Headers {
        machine,
        characteristics,
        number_of_sections,
        section_table,
        image_base,
        entry_point,
        section_alignment,
        size_of_image,
        size_of_headers,
        directories,
    })
}

/// Both alignments are powers of two. FileAlignment is 512..=64 KiB and at most
/// SectionAlignment; below the page size the two must be equal (the file is then laid out
/// as in memory).
fn check_alignments(section: u32, file: u32) -> Result<(), Problem> {
    if !section.is_power_of_two() || section > MAX_SECTION_ALIGNMENT {
        return fail(
            ErrorKind::Header,
            format!("SectionAlignment {section:#x} is not a power of two up to {MAX_SECTION_ALIGNMENT:#x}"),
        );
    }
    if !file.is_power_of_two() {
        return fail(
            ErrorKind::Header,
            format!("FileAlignment {file:#x} is not a power of two"),
        );
    }
    if (section as usize) < PAGE {
        if file != section {
            return fail(
                ErrorKind::Header,
                format!("SectionAlignment {section:#x} is below the page size, so FileAlignment ({file:#x}) must equal it"),
            );
        }
    } else if !(512..=0x1_0000).contains(&file) || file > section {
        return fail(
            ErrorKind::Header,
            format!("FileAlignment {file:#x} is not between 0x200 and min(0x10000, SectionAlignment {section:#x})"),
        );
    }
    Ok(())
}

/// `value` rounded up to SectionAlignment, for section ends (bounded by SizeOfImage, so no
/// overflow in practice; `None` still reported by callers).
pub(crate) fn section_align(h: &Headers, value: u64) -> Option<u64> {
    align_up(value, u64::from(h.section_alignment))
}

fn subsystem_name(subsystem: u16) -> &'static str {
    match subsystem {
        0 => "unknown",
        2 => "Windows GUI",
        3 => "Windows console",
        5 => "OS/2 console",
        7 => "POSIX console",
        8 => "native Win9x driver",
        9 => "Windows CE GUI",
        10 => "EFI application",
        11 => "EFI boot service driver",
        12 => "EFI runtime driver",
        13 => "EFI ROM",
        14 => "Xbox",
        16 => "Windows boot application",
        _ => "unrecognised",
    }
}
