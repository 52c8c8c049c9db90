//! Facts about a PE image (a built `.sys`) and its import libraries, read with the `object`
//! crate: what the PE tests assert and what `cargo xtask build` prints.

use object::pe;
use object::read::pe::{ImageNtHeaders, ImageOptionalHeader, PeFile, PeFile32, PeFile64};
use object::{LittleEndian as LE, Object, ObjectSection};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// One section header.
#[derive(Debug, Clone)]
pub struct Section {
    pub name: String,
    pub virtual_size: u32,
    pub characteristics: u32,
}

impl Section {
    pub fn is_writable(&self) -> bool {
        self.characteristics & pe::IMAGE_SCN_MEM_WRITE != 0
    }
    pub fn is_executable(&self) -> bool {
        self.characteristics & pe::IMAGE_SCN_MEM_EXECUTE != 0
    }
    pub fn is_discardable(&self) -> bool {
        self.characteristics & pe::IMAGE_SCN_MEM_DISCARDABLE != 0
    }
}

/// What a loader and a reviewer care about in a kernel-mode image.
#[derive(Debug, Clone)]
pub struct PeFacts {
    pub file_size: u64,
    pub machine: u16,
    /// The COFF header's Characteristics (`IMAGE_FILE_*`).
    pub characteristics: u16,
    pub subsystem: u16,
    pub dll_characteristics: u16,
    pub entry_rva: u32,
    pub image_base: u64,
    /// The checksum field of the optional header.
    pub checksum: u32,
    /// The checksum recomputed over the file (the algorithm of `CheckSumMappedFile`).
    pub computed_checksum: u32,
    pub sections: Vec<Section>,
    /// DLL name -> imported function names.
    pub imports: BTreeMap<String, Vec<String>>,
    pub exports: Vec<String>,
}

impl PeFacts {
    /// Reads an AMD64 (PE32+) or x86 (PE32) image.
    pub fn read(path: &Path) -> Result<Self, String> {
        let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        if let Ok(file) = PeFile64::parse(&*data) {
            Self::from_file(&file, &data)
        } else {
            let file = PeFile32::parse(&*data)
                .map_err(|e| format!("{}: not a PE32 or PE32+ image: {e}", path.display()))?;
            Self::from_file(&file, &data)
        }
    }

    fn from_file<Pe: ImageNtHeaders>(file: &PeFile<'_, Pe>, data: &[u8]) -> Result<Self, String> {
        let nt = file.nt_headers();
        let optional = nt.optional_header();
        let sections = file
            .sections()
            .map(|s| {
                let header = s.pe_section();
                Section {
                    name: s.name().unwrap_or("?").to_string(),
                    virtual_size: header.virtual_size.get(LE),
                    characteristics: header.characteristics.get(LE),
                }
            })
            .collect();
        let mut imports: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for import in file.imports().map_err(|e| e.to_string())? {
            imports
                .entry(String::from_utf8_lossy(import.library()).into_owned())
                .or_default()
                .push(String::from_utf8_lossy(import.name()).into_owned());
        }
        let mut exports: Vec<String> = file
            .exports()
            .map_err(|e| e.to_string())?
            .iter()
            .map(|e| String::from_utf8_lossy(e.name()).into_owned())
            .collect();
        exports.sort();
        Ok(Self {
            file_size: data.len() as u64,
            machine: nt.file_header().machine.get(LE),
            characteristics: nt.file_header().characteristics.get(LE),
            subsystem: optional.subsystem(),
            dll_characteristics: optional.dll_characteristics(),
            entry_rva: optional.address_of_entry_point(),
            image_base: optional.image_base(),
            checksum: optional.check_sum(),
            computed_checksum: pe_checksum(data, checksum_offset(data)),
            sections,
            imports,
            exports,
        })
    }

    /// The section holding the entry point.
    pub fn entry_section(&self, path: &Path) -> Option<String> {
        let data = std::fs::read(path).ok()?;
        match PeFile64::parse(&*data) {
            Ok(file) => self.section_of_entry(&file),
            Err(_) => self.section_of_entry(&PeFile32::parse(&*data).ok()?),
        }
    }

    fn section_of_entry<Pe: ImageNtHeaders>(&self, file: &PeFile<'_, Pe>) -> Option<String> {
        file.sections()
            .find(|s| {
                let start = s.address() - file.relative_address_base();
                (start..start + s.size()).contains(&u64::from(self.entry_rva))
            })
            .and_then(|s| s.name().ok().map(str::to_string))
    }
}

/// What GNU ld (mingw-w64) cannot do for a kernel driver, done after the link (as ReactOS's
/// `pefixup` does): marks the `INIT` section discardable and writes the PE checksum, which
/// the kernel loader checks for drivers.
pub fn finish_gnu_ld_driver(path: &Path) -> Result<(), String> {
    let mut data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    is_pe(&data).map_err(|e| format!("{}: {e}", path.display()))?;
    let u16_at = |d: &[u8], o: usize| u16::from_le_bytes([d[o], d[o + 1]]) as usize;
    let e_lfanew = u32::from_le_bytes(data[0x3c..0x40].try_into().expect("4 bytes")) as usize;
    let sections = u16_at(&data, e_lfanew + 4 + 2);
    let optional_size = u16_at(&data, e_lfanew + 4 + 16);
    let table = e_lfanew + 4 + 20 + optional_size;
    let mut init = false;
    for index in 0..sections {
        let header = table + index * 40;
        if &data[header..header + 8] == b"INIT\0\0\0\0" {
            let at = header + 36;
            let flags = u32::from_le_bytes(data[at..at + 4].try_into().expect("4 bytes"))
                | pe::IMAGE_SCN_MEM_DISCARDABLE;
            data[at..at + 4].copy_from_slice(&flags.to_le_bytes());
            init = true;
        }
    }
    if !init {
        return Err(format!("{}: no INIT section", path.display()));
    }
    let field = checksum_offset(&data);
    data[field..field + 4].copy_from_slice(&[0; 4]);
    let checksum = pe_checksum(&data, field);
    data[field..field + 4].copy_from_slice(&checksum.to_le_bytes());
    std::fs::write(path, &data).map_err(|e| format!("{}: {e}", path.display()))
}

/// Clears `IMAGE_FILE_DLL` from a miniport image and rewrites the PE checksum.
///
/// A miniport is started as a service, with DriverEntry as its entry point: an executable
/// image, as the WDK's linker writes drivers (link /DRIVER without /DLL). rustc links every
/// `cdylib` with /DLL and has no way to say otherwise, so the Rust sample is finished here.
/// Export drivers (videoprt_rs.sys) keep the flag: the WDK builds them from a .def file whose
/// LIBRARY statement makes the linker write a DLL.
pub fn clear_dll_characteristic(path: &Path) -> Result<(), String> {
    let mut data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    is_pe(&data).map_err(|e| format!("{}: {e}", path.display()))?;
    let e_lfanew = u32::from_le_bytes(data[0x3c..0x40].try_into().expect("4 bytes")) as usize;
    // Signature (4), then Characteristics at offset 18 of the COFF file header.
    let at = e_lfanew + 4 + 18;
    let flags = u16::from_le_bytes([data[at], data[at + 1]]) & !pe::IMAGE_FILE_DLL;
    data[at..at + 2].copy_from_slice(&flags.to_le_bytes());
    let field = checksum_offset(&data);
    data[field..field + 4].copy_from_slice(&[0; 4]);
    let checksum = pe_checksum(&data, field);
    data[field..field + 4].copy_from_slice(&checksum.to_le_bytes());
    std::fs::write(path, &data).map_err(|e| format!("{}: {e}", path.display()))
}

/// Whether `data` parses as a PE32+ (AMD64) or PE32 (x86) image. The header fields this module
/// patches (Characteristics, CheckSum, section flags) sit at the same offsets in both.
fn is_pe(data: &[u8]) -> Result<(), String> {
    match PeFile64::parse(data) {
        Ok(_) => Ok(()),
        Err(_) => PeFile32::parse(data)
            .map(drop)
            .map_err(|e| format!("not a PE32 or PE32+ image: {e}")),
    }
}

/// File offset of the optional header's CheckSum field.
fn checksum_offset(data: &[u8]) -> usize {
    let e_lfanew = u32::from_le_bytes(data[0x3c..0x40].try_into().expect("4 bytes")) as usize;
    // Signature (4) + COFF file header (20) + 64 bytes into the optional header.
    e_lfanew + 4 + 20 + 64
}

/// The PE image checksum: a 16-bit one's-complement-style sum of the file (with the checksum
/// field taken as zero), plus the file length.
pub fn pe_checksum(data: &[u8], checksum_field: usize) -> u32 {
    let mut sum: u64 = 0;
    for (i, chunk) in data.chunks(2).enumerate() {
        let offset = i * 2;
        if offset == checksum_field || offset == checksum_field + 2 {
            continue;
        }
        let word = u16::from_le_bytes([chunk[0], *chunk.get(1).unwrap_or(&0)]);
        sum += u64::from(word);
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum = (sum & 0xffff) + (sum >> 16);
    (sum as u32) + data.len() as u32
}

impl fmt::Display for PeFacts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let machine = if self.machine == pe::IMAGE_FILE_MACHINE_AMD64 {
            "AMD64"
        } else if self.machine == pe::IMAGE_FILE_MACHINE_I386 {
            "x86"
        } else {
            "other"
        };
        let subsystem = if self.subsystem == pe::IMAGE_SUBSYSTEM_NATIVE {
            "NATIVE"
        } else {
            "other"
        };
        writeln!(
            f,
            "  {} bytes, {machine}, subsystem {subsystem}, entry RVA {:#x}, checksum {:#x}",
            self.file_size, self.entry_rva, self.checksum
        )?;
        let sections: Vec<String> = self
            .sections
            .iter()
            .map(|s| {
                let mut flags = String::new();
                flags.push(if s.characteristics & pe::IMAGE_SCN_MEM_READ != 0 {
                    'r'
                } else {
                    '-'
                });
                flags.push(if s.is_writable() { 'w' } else { '-' });
                flags.push(if s.is_executable() { 'x' } else { '-' });
                if s.is_discardable() {
                    flags.push('d');
                }
                format!("{} {} ({flags})", s.name, s.virtual_size)
            })
            .collect();
        writeln!(f, "  sections: {}", sections.join(", "))?;
        if self.imports.is_empty() {
            writeln!(f, "  imports: none")?;
        }
        for (dll, names) in &self.imports {
            writeln!(
                f,
                "  imports from {dll} ({}): {}",
                names.len(),
                names.join(", ")
            )?;
        }
        write!(
            f,
            "  exports ({}): {}",
            self.exports.len(),
            self.exports.join(", ")
        )
    }
}

/// RVA of `symbol` according to the linker's map file next to the image: lld-link's `/MAP`
/// ("Preferred load address is ...", then `section:offset symbol va object` lines) or GNU
/// ld's `-Map` (`0x<va>  symbol` lines, relative to the image's ImageBase).
pub fn map_file_rva(image: &Path, symbol: &str) -> Option<u64> {
    let map = std::fs::read_to_string(image.with_extension("map")).ok()?;
    let lld_base = map
        .lines()
        .find_map(|l| l.trim().strip_prefix("Preferred load address is "));
    let Some(base) = lld_base else {
        let base = PeFacts::read(image).ok()?.image_base;
        return map.lines().find_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields[..] {
                [va, name] if name == symbol => va
                    .strip_prefix("0x")
                    .and_then(|va| u64::from_str_radix(va, 16).ok())
                    .map(|va| va - base),
                _ => None,
            }
        });
    };
    let base = u64::from_str_radix(base.trim(), 16).ok()?;
    map.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        (fields.get(1) == Some(&symbol))
            .then(|| {
                fields
                    .get(2)
                    .and_then(|va| u64::from_str_radix(va, 16).ok())
            })
            .flatten()
            .map(|va| va - base)
    })
}

/// Names listed under EXPORTS in a module-definition (`.def`) file.
pub fn def_exports(def: &str) -> Vec<String> {
    let mut names: Vec<String> = def
        .lines()
        .map(|l| l.split(';').next().unwrap_or("").trim())
        .skip_while(|l| !l.eq_ignore_ascii_case("EXPORTS"))
        .skip(1)
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    names.sort();
    names
}

/// Names listed under EXPORTS that an import library should offer (not `PRIVATE`).
pub fn def_public_exports(def: &str) -> Vec<String> {
    let mut names: Vec<String> = def
        .lines()
        .map(|l| l.split(';').next().unwrap_or("").trim())
        .skip_while(|l| !l.eq_ignore_ascii_case("EXPORTS"))
        .skip(1)
        .filter(|l| !l.split_whitespace().any(|w| w == "PRIVATE"))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    names.sort();
    names
}

/// Names the import libraries offer besides the exports, and the export each binds to:
/// mingw-w64's video.h spells VideoPortUnlockBuffer "VideoPortUnLockBuffer", a name no
/// videoprt.sys exports.
pub const IMPORT_ALIASES: &[(&str, &str)] = &[("VideoPortUnLockBuffer", "VideoPortUnlockBuffer")];

/// What an import library says: for each symbol, the DLL it binds to.
pub fn import_library_symbols(path: &Path) -> Result<BTreeMap<String, String>, String> {
    use object::read::archive::ArchiveFile;
    use object::read::coff::ImportFile;
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let archive = ArchiveFile::parse(&*data)
        .map_err(|e| format!("{}: not an archive: {e}", path.display()))?;
    let mut symbols = BTreeMap::new();
    for member in archive.members() {
        let member = member.map_err(|e| e.to_string())?;
        let bytes = member.data(&*data).map_err(|e| e.to_string())?;
        if let Ok(import) = ImportFile::parse(bytes) {
            // Short import object (MSVC / lld-link style).
            symbols.insert(
                String::from_utf8_lossy(import.symbol()).into_owned(),
                String::from_utf8_lossy(import.dll()).into_owned(),
            );
        } else if let Ok(obj) = object::File::parse(bytes) {
            // Long import object (GNU dlltool style): the DLL name sits in .idata$7 of the head
            // member; the per-function members carry `__imp_` symbols.
            for sym in obj.symbols() {
                use object::ObjectSymbol;
                if let Ok(name) = sym.name() {
                    if let Some(func) = name.strip_prefix("__imp_") {
                        if sym.is_definition() {
                            symbols.insert(func.to_string(), String::new());
                        }
                    }
                }
            }
            for section in obj.sections() {
                if section.name() == Ok(".idata$7") {
                    if let Ok(bytes) = section.data() {
                        let name: String = bytes
                            .iter()
                            .take_while(|&&b| b != 0)
                            .map(|&b| b as char)
                            .collect();
                        if name.contains('.') {
                            symbols.insert(String::from("<dll>"), name);
                        }
                    }
                }
            }
        }
    }
    Ok(symbols)
}
