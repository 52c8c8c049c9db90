//! The kernel image loader (`ntsim::pe`) on a 64-bit host: synthetic images built here, one
//! per test, each stating what it changes from a valid one; a table of malformed images, each
//! refused with a message naming the file and the fault; and the real driver images when
//! built. AMD64 images (PE32+) are parsed and mapped; i386 images (PE32, `Spec::valid_pe32`
//! and the x86 drivers in `target/drivers/x86/`) are parsed, with their own malformed
//! table, and refused for mapping naming both machines.
//!
//! 64-bit hosts only (the synthetic AMD64 images are mapped here). On a 32-bit (i686) host,
//! `pe_loader_x86.rs` maps and checks the x86 images, and sample-miniport's and c-miniport's
//! end-to-end tests run them.
#![cfg(target_pointer_width = "64")]

use ntsim::pe::{self, ErrorKind, ExportTarget, ImagePlacement, ImportName, Protection};
use std::collections::HashMap;
use std::sync::Mutex;

// ---------------------------------------------------------------------------------------
// A tiny PE32+ (and PE32) builder.
//
// Layout of the valid image (`Spec::valid()`): headers in the first 0x400 bytes of the file
// (e_lfanew 0x80), SectionAlignment 0x1000, FileAlignment 0x200:
//   .text  0x1000 RX   code; entry point 0x1000
//   .data  0x2000 RW   two absolute addresses (relocated), VirtualSize 0x1400 > raw 0x200
//   INIT   0x4000 RX   discardable
//   .reloc 0x5000 R    discardable; DIR64 fixups for the two .data addresses
//   .rdata 0x6000 R    import directory, lookup tables, IAT, names; export directory
// ---------------------------------------------------------------------------------------

const E_LFANEW: usize = 0x80;
const FILE_HEADER: usize = E_LFANEW + 4;
const OPTIONAL_HEADER: usize = FILE_HEADER + 20;
/// The section table of a PE32+ image (after a 0xf0-byte optional header; PE32's is 0xe0).
const SECTION_TABLE: usize = OPTIONAL_HEADER + 0xf0;
const SIZE_OF_HEADERS: usize = 0x400;

const R: u32 = 0x4000_0000;
const W: u32 = 0x8000_0000;
const X: u32 = 0x2000_0000;
const CODE: u32 = 0x20;
const DISCARDABLE: u32 = 0x0200_0000;

const IMAGE_BASE: u64 = 0x1_4000_0000;
const TEXT: &[u8] = &[
    0x48, 0x31, 0xc0, 0xc3, 0x90, 0x90, 0x90, 0x90, 0xc3, 0xcc, 0xcc, 0xcc,
];

#[derive(Clone)]
struct SectionSpec {
    name: &'static str,
    rva: u32,
    virtual_size: u32,
    data: Vec<u8>,
    characteristics: u32,
    /// Overrides of the header fields the builder computes.
    raw_ptr: Option<u32>,
    raw_size: Option<u32>,
}

fn section(name: &'static str, rva: u32, data: Vec<u8>, characteristics: u32) -> SectionSpec {
    SectionSpec {
        name,
        rva,
        virtual_size: data.len() as u32,
        data,
        characteristics,
        raw_ptr: None,
        raw_size: None,
    }
}

#[derive(Clone)]
enum Sym {
    Name(&'static str),
    /// A name written as these bytes, then a NUL.
    NameBytes(Vec<u8>),
    Ordinal(u16),
    /// The thunk value as is.
    Raw(u64),
}

#[derive(Clone)]
struct Dll {
    name: Vec<u8>,
    symbols: Vec<Sym>,
    /// Emit an import lookup table (OriginalFirstThunk); else the IAT holds the lookups.
    ilt: bool,
}

fn dll(name: &str, symbols: Vec<Sym>) -> Dll {
    Dll {
        name: name.as_bytes().to_vec(),
        symbols,
        ilt: true,
    }
}

#[derive(Clone, Default)]
struct Exports {
    /// Address table: RVA per index (0 = unused).
    functions: Vec<u32>,
    /// (name, ordinal-table value).
    names: Vec<(&'static str, u16)>,
    /// Address table indices made forwarders to this string.
    forwarders: Vec<(usize, &'static str)>,
    base: u32,
}

#[derive(Clone)]
struct Spec {
    machine: u16,
    magic: u16,
    characteristics: u16,
    image_base: u64,
    section_alignment: u32,
    file_alignment: u32,
    /// None: end of the last section, aligned.
    size_of_image: Option<u32>,
    subsystem: u16,
    entry: u32,
    sections: Vec<SectionSpec>,
    imports: Vec<Dll>,
    exports: Option<Exports>,
    /// Raw contents of `.reloc` (see `reloc_block`).
    relocs: Vec<u8>,
    /// (index, rva, size) written over the computed data directories.
    directory_overrides: Vec<(usize, u32, u32)>,
}

fn reloc_block(page: u32, entries: &[u16]) -> Vec<u8> {
    let size = 8 + 2 * entries.len() as u32;
    reloc_block_sized(page, size, entries)
}

fn reloc_block_sized(page: u32, size: u32, entries: &[u16]) -> Vec<u8> {
    let mut b = page.to_le_bytes().to_vec();
    b.extend(size.to_le_bytes());
    for e in entries {
        b.extend(e.to_le_bytes());
    }
    b
}

const DIR64: u16 = 10 << 12;
const HIGHLOW: u16 = 3 << 12;
/// ImageBase of the PE32 image (as the GNU-linked x86 miniport).
const IMAGE_BASE32: u64 = 0x1_0000;
/// `xor eax, eax; ret; nop x4; ret; int3 x3`.
const TEXT32: &[u8] = &[
    0x31, 0xc0, 0xc3, 0x90, 0x90, 0x90, 0x90, 0x90, 0xc3, 0xcc, 0xcc, 0xcc,
];

struct Tables {
    bytes: Vec<u8>,
    import: (u32, u32),
    iat: (u32, u32),
    export: (u32, u32),
}

impl Spec {
    fn valid() -> Spec {
        let mut data = IMAGE_BASE.wrapping_add(0x1008).to_le_bytes().to_vec();
        data.extend(IMAGE_BASE.wrapping_add(0x6000).to_le_bytes());
        data.extend(b"data!");
        let mut data_section = section(".data", 0x2000, data, R | W);
        data_section.virtual_size = 0x1400;
        Spec {
            machine: 0x8664,
            magic: 0x20b,
            characteristics: 0x0022,
            image_base: IMAGE_BASE,
            section_alignment: 0x1000,
            file_alignment: 0x200,
            size_of_image: None,
            subsystem: 1,
            entry: 0x1000,
            sections: vec![
                section(".text", 0x1000, TEXT.to_vec(), R | X | CODE),
                data_section,
                section("INIT", 0x4000, vec![0xc3; 0x20], R | X | CODE | DISCARDABLE),
                section(".reloc", 0x5000, Vec::new(), R | DISCARDABLE),
                section(".rdata", 0x6000, Vec::new(), R),
            ],
            imports: vec![
                dll(
                    "ntoskrnl.exe",
                    vec![Sym::Name("KeBugCheckEx"), Sym::Name("ExAllocatePool2")],
                ),
                dll(
                    "HAL.dll",
                    vec![Sym::Ordinal(7), Sym::Name("KeStallExecutionProcessor")],
                ),
                Dll {
                    ilt: false,
                    ..dll("videoprt_rs.sys", vec![Sym::Name("VideoPortInitialize")])
                },
            ],
            exports: Some(Exports {
                functions: vec![0x1000, 0x1008, 0, 0x2008],
                names: vec![("DriverHelper", 1), ("Entry", 0), ("SomeData", 3)],
                forwarders: vec![(2, "NTOSKRNL.KeBugCheckEx")],
                base: 1,
            }),
            relocs: reloc_block(0x2000, &[DIR64, DIR64 | 8, 0]),
            directory_overrides: Vec::new(),
        }
    }

    /// The same image for i386: PE32 optional header, 4-byte absolute addresses in `.data`
    /// with `HIGHLOW` fixups, 4-byte thunks (ordinal flag in bit 31), ImageBase 0x10000.
    fn valid_pe32() -> Spec {
        let mut spec = Spec::valid();
        spec.machine = 0x14c;
        spec.magic = 0x10b;
        spec.characteristics = 0x0102; // EXECUTABLE_IMAGE | 32BIT_MACHINE
        spec.image_base = IMAGE_BASE32;
        let mut data = (IMAGE_BASE32 as u32 + 0x1008).to_le_bytes().to_vec();
        data.extend((IMAGE_BASE32 as u32 + 0x6000).to_le_bytes());
        data.extend(b"data!");
        let data_section = spec.section_mut(".data");
        data_section.data = data;
        spec.section_mut(".text").data = TEXT32.to_vec();
        spec.relocs = reloc_block(0x2000, &[HIGHLOW, HIGHLOW | 4, 0]);
        spec
    }

    fn is_pe32(&self) -> bool {
        self.magic == 0x10b
    }

    /// Bytes in a thunk (and the ordinal flag's bit): 8 for PE32+, 4 for PE32.
    fn thunk_size(&self) -> usize {
        if self.is_pe32() {
            4
        } else {
            8
        }
    }

    /// The `.rdata` tables at `rva`: bytes and (RVA, size) of the import, IAT and export
    /// directories.
    fn tables(&self, rva: u32) -> Tables {
        let width = self.thunk_size();
        let ordinal_flag = 1u64 << (8 * width - 1);
        let mut out = Vec::new();
        let at = |out: &Vec<u8>| rva + out.len() as u32;
        let import_dir = if self.imports.is_empty() {
            (0, 0)
        } else {
            let desc_len = 20 * (self.imports.len() + 1);
            out.resize(desc_len, 0);
            // Lookup tables and IATs, then names; patch the descriptors and thunks after.
            let mut ilts = Vec::new();
            let mut iats = Vec::new();
            for d in &self.imports {
                let n = (d.symbols.len() + 1) * width;
                ilts.push(if d.ilt { at(&out) } else { 0 });
                if d.ilt {
                    out.resize(out.len() + n, 0);
                }
                iats.push(at(&out));
                out.resize(out.len() + n, 0);
            }
            let mut thunk_values = Vec::new();
            for d in &self.imports {
                let mut values = Vec::new();
                for s in &d.symbols {
                    values.push(match s {
                        Sym::Name(n) => hint_name(&mut out, rva, n.as_bytes()),
                        Sym::NameBytes(b) => hint_name(&mut out, rva, b),
                        Sym::Ordinal(o) => ordinal_flag | u64::from(*o),
                        Sym::Raw(v) => *v,
                    });
                }
                thunk_values.push(values);
            }
            for (i, d) in self.imports.iter().enumerate() {
                let name = at(&out);
                out.extend(&d.name);
                out.push(0);
                let desc = 20 * i;
                put32(&mut out, desc, ilts[i]);
                put32(&mut out, desc + 12, name);
                put32(&mut out, desc + 16, iats[i]);
                for (j, v) in thunk_values[i].iter().enumerate() {
                    for table in [ilts[i], iats[i]] {
                        if table != 0 {
                            let at = (table - rva) as usize + width * j;
                            if width == 4 {
                                put32(&mut out, at, *v as u32);
                            } else {
                                put64(&mut out, at, *v);
                            }
                        }
                    }
                }
            }
            (rva, desc_len as u32)
        };
        let iat_dir = match (self.imports.first(), self.imports.last()) {
            (Some(_), Some(_)) => {
                // IATs are interleaved with ILTs here; name the first one only.
                let first = u32::from_le_bytes(out[16..20].try_into().unwrap());
                let width = width as u32;
                (first, width * (self.imports[0].symbols.len() as u32 + 1))
            }
            _ => (0, 0),
        };
        while out.len() % 8 != 0 {
            out.push(0);
        }
        let export_dir = match &self.exports {
            None => (0, 0),
            Some(e) => {
                let dir = out.len();
                out.resize(dir + 40, 0);
                // Forwarder strings live inside the directory's extent.
                let mut functions = e.functions.clone();
                for (index, fwd) in &e.forwarders {
                    functions[*index] = at(&out);
                    out.extend(fwd.as_bytes());
                    out.push(0);
                }
                let dll_name = at(&out);
                out.extend(b"test.sys\0");
                let dir_size = out.len() - dir;
                let address_table = at(&out);
                for f in &functions {
                    out.extend(f.to_le_bytes());
                }
                let name_table = at(&out);
                out.resize(out.len() + 4 * e.names.len(), 0);
                let ordinal_table = at(&out);
                for (_, index) in &e.names {
                    out.extend(index.to_le_bytes());
                }
                for (i, (name, _)) in e.names.iter().enumerate() {
                    let name_rva = at(&out);
                    out.extend(name.as_bytes());
                    out.push(0);
                    put32(&mut out, (name_table - rva) as usize + 4 * i, name_rva);
                }
                put32(&mut out, dir + 12, dll_name);
                put32(&mut out, dir + 16, e.base);
                put32(&mut out, dir + 20, functions.len() as u32);
                put32(&mut out, dir + 24, e.names.len() as u32);
                put32(&mut out, dir + 28, address_table);
                put32(&mut out, dir + 32, name_table);
                put32(&mut out, dir + 36, ordinal_table);
                (rva + dir as u32, dir_size as u32)
            }
        };
        Tables {
            bytes: out,
            import: import_dir,
            iat: iat_dir,
            export: export_dir,
        }
    }

    fn build(&self) -> Vec<u8> {
        let mut sections = self.sections.clone();
        let mut dirs = [(0u32, 0u32); 16];
        for s in &mut sections {
            match s.name {
                ".rdata" if s.data.is_empty() => {
                    let t = self.tables(s.rva);
                    s.data = t.bytes;
                    s.virtual_size = s.data.len() as u32;
                    (dirs[1], dirs[12], dirs[0]) = (t.import, t.iat, t.export);
                }
                ".reloc" if s.data.is_empty() && !self.relocs.is_empty() => {
                    s.data = self.relocs.clone();
                    s.virtual_size = s.data.len() as u32;
                    dirs[5] = (s.rva, s.data.len() as u32);
                }
                _ => {}
            }
        }
        sections.retain(|s| !(s.name == ".reloc" && s.data.is_empty()));
        for &(i, rva, size) in &self.directory_overrides {
            dirs[i] = (rva, size);
        }
        let align = |v: u32, a: u32| v.div_ceil(a) * a;
        let size_of_image = self.size_of_image.unwrap_or_else(|| {
            let end = sections
                .iter()
                .map(|s| s.rva + s.virtual_size.max(s.data.len() as u32))
                .max()
                .unwrap_or(0x1000);
            align(end, self.section_alignment)
        });

        let mut file = vec![0u8; SIZE_OF_HEADERS];
        file[..2].copy_from_slice(b"MZ");
        put32(&mut file, 0x3c, E_LFANEW as u32);
        file[E_LFANEW..E_LFANEW + 4].copy_from_slice(b"PE\0\0");
        put16(&mut file, FILE_HEADER, self.machine);
        put16(&mut file, FILE_HEADER + 2, sections.len() as u16);
        // PE32: BaseOfData at 24, a 32-bit ImageBase at 28, 32-bit stack/heap sizes, so
        // NumberOfRvaAndSizes at 92 and the directories at 96 (PE32+: 108 and 112).
        let fixed = if self.is_pe32() { 96 } else { 112 };
        let optional_size = fixed + 16 * 8;
        put16(&mut file, FILE_HEADER + 16, optional_size as u16);
        put16(&mut file, FILE_HEADER + 18, self.characteristics);
        let o = OPTIONAL_HEADER;
        put16(&mut file, o, self.magic);
        put32(&mut file, o + 16, self.entry);
        if self.is_pe32() {
            put32(&mut file, o + 24, 0x2000); // BaseOfData
            put32(&mut file, o + 28, self.image_base as u32);
        } else {
            put64(&mut file, o + 24, self.image_base);
        }
        put32(&mut file, o + 32, self.section_alignment);
        put32(&mut file, o + 36, self.file_alignment);
        put32(&mut file, o + 56, size_of_image);
        put32(&mut file, o + 60, SIZE_OF_HEADERS as u32);
        put16(&mut file, o + 68, self.subsystem);
        put32(&mut file, o + fixed - 4, 16);
        for (i, (rva, size)) in dirs.iter().enumerate() {
            put32(&mut file, o + fixed + 8 * i, *rva);
            put32(&mut file, o + fixed + 4 + 8 * i, *size);
        }
        for (i, s) in sections.iter().enumerate() {
            let h = OPTIONAL_HEADER + optional_size + 40 * i;
            let raw_size = align(s.data.len() as u32, self.file_alignment);
            let raw_ptr = if raw_size == 0 { 0 } else { file.len() as u32 };
            file.extend(&s.data);
            file.resize(file.len() + (raw_size as usize - s.data.len()), 0);
            file[h..h + s.name.len()].copy_from_slice(s.name.as_bytes());
            put32(&mut file, h + 8, s.virtual_size);
            put32(&mut file, h + 12, s.rva);
            put32(&mut file, h + 16, s.raw_size.unwrap_or(raw_size));
            put32(&mut file, h + 20, s.raw_ptr.unwrap_or(raw_ptr));
            put32(&mut file, h + 36, s.characteristics);
        }
        file
    }

    fn section_mut(&mut self, name: &str) -> &mut SectionSpec {
        self.sections.iter_mut().find(|s| s.name == name).unwrap()
    }
}

/// Appends a hint/name entry (2-aligned) and returns its RVA as a thunk.
fn hint_name(out: &mut Vec<u8>, base: u32, name: &[u8]) -> u64 {
    if out.len() % 2 != 0 {
        out.push(0);
    }
    let rva = base + out.len() as u32;
    out.extend([0, 0]);
    out.extend(name);
    out.push(0);
    u64::from(rva)
}

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}
fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}
fn put64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

// ---------------------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------------------

/// A resolver handing out distinct fake addresses and remembering them.
#[derive(Debug, Default)]
struct FakeKernel {
    given: HashMap<(String, String), usize>,
    refuse: Vec<&'static str>,
}

impl FakeKernel {
    fn resolve(&mut self, dll: &str, sym: ImportName<'_>) -> Option<usize> {
        let sym = sym.to_string();
        if self.refuse.contains(&sym.as_str()) {
            return None;
        }
        let next = 0xfeed_0000_0000 + 0x10 * self.given.len();
        Some(*self.given.entry((dll.to_owned(), sym)).or_insert(next))
    }
}

fn load(name: &str, bytes: &[u8]) -> Result<(pe::PeImage, FakeKernel), pe::LoadError> {
    let mut k = FakeKernel::default();
    let image = pe::load(name, bytes, &mut |d, s| k.resolve(d, s))?;
    Ok((image, k))
}

fn load_err(bytes: &[u8]) -> pe::LoadError {
    match load("bad.sys", bytes) {
        Ok(_) => panic!("bad.sys loaded, expected a refusal"),
        Err(e) => e,
    }
}

fn read_u64(addr: usize) -> u64 {
    // SAFETY: callers pass addresses inside a loaded, readable section.
    unsafe { std::ptr::read_unaligned(addr as *const u64) }
}

fn read_bytes(addr: usize, len: usize) -> Vec<u8> {
    // SAFETY: callers pass ranges inside a loaded, readable section.
    unsafe { std::slice::from_raw_parts(addr as *const u8, len).to_vec() }
}

/// The permissions ("r-x", ...) of the host mapping containing `addr`.
fn host_perms(addr: usize) -> String {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    for line in maps.lines() {
        let (range, rest) = line.split_once(' ').unwrap();
        let (lo, hi) = range.split_once('-').unwrap();
        let lo = usize::from_str_radix(lo, 16).unwrap();
        let hi = usize::from_str_radix(hi, 16).unwrap();
        if (lo..hi).contains(&addr) {
            return rest[..3].to_owned();
        }
    }
    panic!("{addr:#x} is not mapped");
}

// Images without relocations live at fixed addresses; the real C miniports share one.
static FIXED_BASE: Mutex<()> = Mutex::new(());

// ---------------------------------------------------------------------------------------
// A valid image.
// ---------------------------------------------------------------------------------------

#[test]
#[cfg_attr(
    miri,
    ignore = "maps the image with mmap/mprotect, which Miri cannot run"
)]
fn valid_image_loads_relocated_bound_and_protected() {
    let spec = Spec::valid();
    let (image, kernel) = load("valid.sys", &spec.build()).unwrap();
    let base = image.base();
    assert_ne!(base as u64, IMAGE_BASE, "mapped away from ImageBase");
    assert_eq!(base % 0x1000, 0);
    assert_eq!(image.size(), 0x7000);
    assert_eq!(image.entry_point(), base + 0x1000);
    assert!(image.contains(base) && image.contains(base + 0x6fff));
    assert!(!image.contains(base + 0x7000) && !image.contains(base - 1));

    // Section bytes, and zero fill past the raw data.
    assert_eq!(read_bytes(base + 0x1000, TEXT.len()), TEXT);
    assert_eq!(read_bytes(base + 0x2010, 5), b"data!");
    assert!(read_bytes(base + 0x2015, 0x1400 - 0x15)
        .iter()
        .all(|&b| b == 0));
    assert_eq!(read_bytes(base, 2), b"MZ");

    // Relocations: original + delta.
    let delta = (base as u64).wrapping_sub(IMAGE_BASE);
    assert_eq!(
        read_u64(base + 0x2000),
        (IMAGE_BASE + 0x1008).wrapping_add(delta)
    );
    assert_eq!(read_u64(base + 0x2008), (base + 0x6000) as u64);

    // Imports: every IAT slot holds what the resolver returned.
    let names: Vec<String> = image
        .imports()
        .iter()
        .map(|i| format!("{}!{}", i.dll, i.symbol))
        .collect();
    assert_eq!(
        names,
        [
            "ntoskrnl.exe!KeBugCheckEx",
            "ntoskrnl.exe!ExAllocatePool2",
            "HAL.dll!#7",
            "HAL.dll!KeStallExecutionProcessor",
            "videoprt_rs.sys!VideoPortInitialize"
        ]
    );
    for i in image.imports() {
        let expect = kernel.given[&(i.dll.clone(), i.symbol.to_string())];
        assert_eq!(i.address, expect);
        assert_eq!(read_u64(image.base() + i.iat_slot.offset()), expect as u64);
    }
    assert_eq!(
        image.import_counts(),
        [("ntoskrnl.exe", 2), ("HAL.dll", 2), ("videoprt_rs.sys", 1)]
    );

    // Exports.
    assert_eq!(image.export("Entry"), Some(base + 0x1000));
    assert_eq!(image.export("DriverHelper"), Some(base + 0x1008));
    assert_eq!(image.export("SomeData"), Some(base + 0x2008));
    assert_eq!(image.export("Missing"), None);
    let fwd = image.exports().iter().find(|e| e.ordinal == 3).unwrap();
    assert_eq!(
        fwd.target,
        ExportTarget::Forwarder("NTOSKRNL.KeBugCheckEx".into())
    );

    // Protections, as recorded and as the host enforces them.
    let expect = [
        (".text", Protection::READ_EXECUTE, "r-x"),
        (".data", Protection::READ_WRITE, "rw-"),
        ("INIT", Protection::READ_EXECUTE, "r-x"),
        (".reloc", Protection::READ, "r--"),
        (".rdata", Protection::READ, "r--"),
    ];
    assert_eq!(image.sections().len(), expect.len());
    for (s, (name, prot, perms)) in image.sections().iter().zip(expect) {
        assert_eq!((s.name.as_str(), s.protection), (name, prot));
        assert_eq!(host_perms(base + s.rva.offset()), perms, "{name}");
    }
    assert_eq!(host_perms(base), "r--", "headers");
    // The second page of .data (VirtualSize 0x1400) is the section's too.
    assert_eq!(host_perms(base + 0x3000), "rw-");
}

#[test]
#[cfg_attr(
    miri,
    ignore = "maps the image with mmap/mprotect, which Miri cannot run"
)]
fn discard_init_frees_init_and_discardable_sections_but_not_reloc() {
    let (mut image, _) = load("valid.sys", &Spec::valid().build()).unwrap();
    let base = image.base();
    image.discard_init().unwrap();
    assert_eq!(host_perms(base + 0x4000), "---");
    assert_eq!(host_perms(base + 0x5000), "r--", ".reloc stays");
    assert_eq!(host_perms(base + 0x1000), "r-x");
    let init = image.sections().iter().find(|s| s.name == "INIT").unwrap();
    assert_eq!(init.protection, Protection::NONE);
    // Idempotent.
    image.discard_init().unwrap();
}

#[test]
#[cfg_attr(
    miri,
    ignore = "maps the image with mmap/mprotect, which Miri cannot run"
)]
fn iat_in_a_read_only_section_is_written_before_protection() {
    // As lld lays it out: the IAT in .rdata, no lookup tables.
    let mut spec = Spec::valid();
    for d in &mut spec.imports {
        d.ilt = false;
    }
    let (image, kernel) = load("lld_like.sys", &spec.build()).unwrap();
    assert_eq!(image.imports().len(), 5);
    for i in image.imports() {
        let expect = kernel.given[&(i.dll.clone(), i.symbol.to_string())];
        assert_eq!(read_u64(image.base() + i.iat_slot.offset()), expect as u64);
        assert_eq!(host_perms(image.base() + i.iat_slot.offset()), "r--");
    }
}

#[test]
fn parse_alone_maps_nothing_and_reports_the_tables() {
    let bytes = Spec::valid().build();
    let parsed = pe::parse("valid.sys", &bytes).unwrap();
    assert_eq!(parsed.machine(), pe::Machine::Amd64);
    assert_eq!(parsed.image_base(), IMAGE_BASE);
    assert_eq!(parsed.entry_point(), pe::Rva(0x1000));
    assert_eq!(
        parsed.placement(),
        &ImagePlacement::Relocatable(vec![pe::Rva(0x2000), pe::Rva(0x2008)])
    );
    assert_eq!(parsed.imports().len(), 5);
    assert_eq!(parsed.exports().len(), 4);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "maps the image with mmap/mprotect, which Miri cannot run"
)]
fn virtual_size_zero_means_raw_size() {
    let mut spec = Spec::valid();
    spec.section_mut(".text").virtual_size = 0;
    let (image, _) = load("vs0.sys", &spec.build()).unwrap();
    let text = &image.sections()[0];
    assert_eq!(text.size, 0x200, "SizeOfRawData (file-aligned)");
}

/// As the Windows loader: no relocation directory without IMAGE_FILE_RELOCS_STRIPPED means
/// "nothing to fix", and the image loads anywhere unchanged (small drivers with only
/// RIP-relative code link that way).
#[test]
#[cfg_attr(
    miri,
    ignore = "maps the image with mmap/mprotect, which Miri cannot run"
)]
fn image_without_a_relocation_directory_loads_anywhere_unchanged() {
    let mut spec = Spec::valid();
    spec.relocs.clear();
    spec.image_base = 0x5a_0000_0000;
    let bytes = spec.build();
    assert_eq!(
        pe::parse("norelocs.sys", &bytes).unwrap().placement(),
        &ImagePlacement::Relocatable(Vec::new())
    );
    let (first, _) = load("norelocs.sys", &bytes).unwrap();
    let (second, _) = load("norelocs.sys", &bytes).unwrap();
    assert_ne!(first.base(), second.base(), "two copies side by side");
    // Nothing was adjusted: the 8 bytes the (absent) fixup would have moved are as linked.
    assert_eq!(read_u64(second.base() + 0x2000), IMAGE_BASE + 0x1008);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "maps the image with mmap/mprotect, which Miri cannot run"
)]
fn relocs_stripped_image_loads_only_at_its_preferred_base() {
    let _g = FIXED_BASE.lock().unwrap_or_else(|e| e.into_inner());
    let mut spec = Spec::valid();
    spec.relocs.clear();
    spec.characteristics |= 0x0001;
    spec.image_base = 0x5a_0000_0000;
    let bytes = spec.build();
    assert_eq!(
        pe::parse("fixed.sys", &bytes).unwrap().placement(),
        &ImagePlacement::PreferredBaseOnly
    );
    let (image, _) = load("fixed.sys", &bytes).unwrap();
    assert_eq!(image.base() as u64, spec.image_base);

    // Its base is now taken: a second copy cannot load.
    let e = load("fixed.sys", &bytes).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Map);
    assert_eq!(
        e.to_string(),
        "fixed.sys: relocations stripped and preferred base 0x5a00000000 is in use"
    );
    drop(image);
    assert!(load("fixed.sys", &bytes).is_ok(), "free again after unload");
}

#[test]
#[cfg_attr(
    miri,
    ignore = "maps the image with mmap/mprotect, which Miri cannot run"
)]
fn relocs_stripped_flag_pins_the_image_even_with_a_directory() {
    let _g = FIXED_BASE.lock().unwrap_or_else(|e| e.into_inner());
    let mut spec = Spec::valid();
    spec.characteristics |= 0x0001;
    spec.image_base = 0x5b_0000_0000;
    let (image, _) = load("stripped.sys", &spec.build()).unwrap();
    assert_eq!(image.base() as u64, spec.image_base);
    assert_eq!(
        read_u64(image.base() + 0x2000),
        IMAGE_BASE + 0x1008,
        "not relocated"
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "maps the image with mmap/mprotect, which Miri cannot run"
)]
fn unresolved_import_names_dll_and_symbol() {
    let mut k = FakeKernel {
        refuse: vec!["ExAllocatePool2"],
        ..Default::default()
    };
    let e = pe::load("drv.sys", &Spec::valid().build(), &mut |d, s| {
        k.resolve(d, s)
    })
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unresolved);
    assert_eq!(
        e.to_string(),
        "drv.sys: import ntoskrnl.exe!ExAllocatePool2 is not provided"
    );
    let mut k = FakeKernel {
        refuse: vec!["#7"],
        ..Default::default()
    };
    let e = pe::load("drv.sys", &Spec::valid().build(), &mut |d, s| {
        k.resolve(d, s)
    })
    .unwrap_err();
    assert_eq!(e.to_string(), "drv.sys: import HAL.dll!#7 is not provided");
}

#[test]
#[cfg_attr(
    miri,
    ignore = "maps the image with mmap/mprotect, which Miri cannot run"
)]
fn small_section_alignment_shares_pages_and_refuses_shared_wx() {
    // SectionAlignment = FileAlignment = 0x200: sections share pages, protection is the
    // union per page.
    let mut spec = Spec::valid();
    spec.section_alignment = 0x200;
    spec.file_alignment = 0x200;
    spec.exports = None;
    spec.imports.clear();
    spec.relocs = reloc_block(0x600, &[DIR64]);
    spec.sections = vec![
        section(".text", 0x400, TEXT.to_vec(), R | X),
        section(".data", 0x600, vec![1; 16], R | W),
        section(".reloc", 0x800, Vec::new(), R),
    ];
    spec.entry = 0x400;
    let e = load_err(&spec.build());
    assert_eq!(
        e.to_string(),
        "bad.sys: sections .text, .data share the page at RVA 0x0, which would be writable and executable"
    );
    spec.section_mut(".data").characteristics = R;
    let (image, _) = load("small.sys", &spec.build()).unwrap();
    assert_eq!(host_perms(image.base()), "r-x");
}

// ---------------------------------------------------------------------------------------
// Malformed images: each refused with the file name and the specific fault.
// ---------------------------------------------------------------------------------------

fn patched(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut b = Spec::valid().build();
    f(&mut b);
    b
}

fn with_spec(f: impl FnOnce(&mut Spec)) -> Vec<u8> {
    let mut s = Spec::valid();
    f(&mut s);
    s.build()
}

#[test]
fn malformed_images_are_refused_with_the_reason() {
    let valid = Spec::valid().build();
    let cases: Vec<(&str, Vec<u8>, ErrorKind, &str)> = vec![
        (
            "empty file",
            Vec::new(),
            ErrorKind::Truncated,
            "DOS header (0x40 bytes at 0x0) runs past the end of the file (0x0 bytes)",
        ),
        (
            "cut in the DOS header",
            valid[..0x3f].to_vec(),
            ErrorKind::Truncated,
            "DOS header (0x40 bytes at 0x0) runs past the end of the file (0x3f bytes)",
        ),
        (
            "cut before the NT headers",
            valid[..E_LFANEW].to_vec(),
            ErrorKind::Truncated,
            "NT headers at e_lfanew 0x80 (0x18 bytes at 0x80) runs past the end of the file (0x80 bytes)",
        ),
        (
            "cut in the file header",
            valid[..FILE_HEADER + 10].to_vec(),
            ErrorKind::Truncated,
            "NT headers at e_lfanew 0x80 (0x18 bytes at 0x80) runs past the end of the file (0x8e bytes)",
        ),
        (
            "cut before the optional header",
            valid[..OPTIONAL_HEADER].to_vec(),
            ErrorKind::Truncated,
            "optional header (0x2 bytes at 0x98) runs past the end of the file (0x98 bytes)",
        ),
        (
            "cut in the optional header",
            valid[..OPTIONAL_HEADER + 0x80].to_vec(),
            ErrorKind::Truncated,
            "optional header (0xf0 bytes at 0x98) runs past the end of the file (0x118 bytes)",
        ),
        (
            "cut in the section table",
            valid[..SECTION_TABLE + 60].to_vec(),
            ErrorKind::Truncated,
            "section table (5 entries) (0xc8 bytes at 0x188) runs past the end of the file (0x1c4 bytes)",
        ),
        (
            "cut before SizeOfHeaders",
            valid[..0x300].to_vec(),
            ErrorKind::Truncated,
            "headers (SizeOfHeaders) (0x400 bytes at 0x0) runs past the end of the file (0x300 bytes)",
        ),
        (
            "cut in the last section",
            valid[..valid.len() - 1].to_vec(),
            ErrorKind::Truncated,
            "section .rdata raw data 0xc00+0x200 runs past the end of the file (0xdff bytes)",
        ),
        (
            "no MZ",
            patched(|b| b[0] = b'X'),
            ErrorKind::Header,
            "no MZ signature: not a PE image",
        ),
        (
            "e_lfanew out of range",
            patched(|b| put32(b, 0x3c, 0x10_0000)),
            ErrorKind::Truncated,
            "NT headers at e_lfanew 0x100000 (0x18 bytes at 0x100000) runs past the end of the file (0xe00 bytes)",
        ),
        (
            "e_lfanew misaligned",
            patched(|b| put32(b, 0x3c, 0x81)),
            ErrorKind::Header,
            "e_lfanew 0x81 is not 4-byte aligned",
        ),
        (
            "wrong signature",
            patched(|b| b[E_LFANEW + 1] = b'X'),
            ErrorKind::Header,
            "no PE\\0\\0 signature at e_lfanew 0x80",
        ),
        (
            "i386",
            patched(|b| put16(b, FILE_HEADER, 0x14c)),
            ErrorKind::Unsupported,
            "optional header is PE32+ (magic 0x20b) but an i386 image needs PE32 (0x10b)",
        ),
        (
            "ARM64",
            patched(|b| put16(b, FILE_HEADER, 0xaa64)),
            ErrorKind::Unsupported,
            "machine 0xaa64 is neither AMD64 (0x8664) nor i386 (0x14c)",
        ),
        (
            "object file",
            patched(|b| put16(b, FILE_HEADER + 18, 0x20)),
            ErrorKind::Header,
            "characteristics 0x0020 lack IMAGE_FILE_EXECUTABLE_IMAGE: not an image",
        ),
        (
            "PE32 magic",
            patched(|b| put16(b, OPTIONAL_HEADER, 0x10b)),
            ErrorKind::Unsupported,
            "optional header is PE32 (magic 0x10b) but an AMD64 image needs PE32+ (0x20b)",
        ),
        (
            "unknown magic",
            patched(|b| put16(b, OPTIONAL_HEADER, 0x107)),
            ErrorKind::Header,
            "optional header magic 0x0107 is neither PE32 (0x10b) nor PE32+ (0x20b)",
        ),
        (
            "huge NumberOfSections",
            patched(|b| put16(b, FILE_HEADER + 2, 0xffff)),
            ErrorKind::Section,
            "NumberOfSections 65535 exceeds 96",
        ),
        (
            "no sections",
            patched(|b| put16(b, FILE_HEADER + 2, 0)),
            ErrorKind::Section,
            "the image has no sections",
        ),
        (
            "SizeOfOptionalHeader too small",
            patched(|b| put16(b, FILE_HEADER + 16, 0x60)),
            ErrorKind::Header,
            "SizeOfOptionalHeader 0x60 is smaller than the PE32+ (0x20b) fixed fields (0x70)",
        ),
        (
            "SizeOfOptionalHeader cannot hold the directories",
            patched(|b| put16(b, FILE_HEADER + 16, 0x80)),
            ErrorKind::Header,
            "SizeOfOptionalHeader 0x80 cannot hold 16 data directories",
        ),
        (
            "NumberOfRvaAndSizes absurd",
            patched(|b| put32(b, OPTIONAL_HEADER + 108, 0x1000_0000)),
            ErrorKind::Header,
            "NumberOfRvaAndSizes 268435456 exceeds 16",
        ),
        (
            "GUI subsystem",
            with_spec(|s| s.subsystem = 2),
            ErrorKind::Unsupported,
            "subsystem 2 (Windows GUI) is not native (1): not a kernel-mode image",
        ),
        (
            "SectionAlignment not a power of two",
            with_spec(|s| s.section_alignment = 0x1800),
            ErrorKind::Header,
            "SectionAlignment 0x1800 is not a power of two up to 0x200000",
        ),
        (
            "FileAlignment below 512",
            with_spec(|s| s.file_alignment = 0x100),
            ErrorKind::Header,
            "FileAlignment 0x100 is not between 0x200 and min(0x10000, SectionAlignment 0x1000)",
        ),
        (
            "ImageBase not 64 KiB aligned",
            with_spec(|s| s.image_base = 0x1_4000_1000),
            ErrorKind::Header,
            "ImageBase 0x140001000 is not a nonzero multiple of 64 KiB",
        ),
        (
            "SizeOfImage not aligned",
            with_spec(|s| s.size_of_image = Some(0x7800)),
            ErrorKind::Header,
            "SizeOfImage 0x7800 is not a multiple of SectionAlignment 0x1000",
        ),
        (
            "SizeOfImage absurd",
            with_spec(|s| s.size_of_image = Some(0x8000_0000)),
            ErrorKind::Header,
            "SizeOfImage 0x80000000 is 0 or above 0x20000000",
        ),
        (
            "SizeOfHeaders too small for the section table",
            patched(|b| put32(b, OPTIONAL_HEADER + 60, 0x200)),
            ErrorKind::Header,
            "SizeOfHeaders 0x200 does not cover the headers and section table (which end at 0x250)",
        ),
        (
            "section raw data out of range",
            with_spec(|s| s.section_mut(".text").raw_ptr = Some(0x10_000)),
            ErrorKind::Truncated,
            "section .text raw data 0x10000+0x200 runs past the end of the file (0xe00 bytes)",
        ),
        (
            "section raw size overflowing",
            with_spec(|s| s.section_mut(".text").raw_size = Some(0xffff_ff00)),
            ErrorKind::Truncated,
            "section .text raw data 0x400+0xffffff00 runs past the end of the file (0xe00 bytes)",
        ),
        (
            "overlapping sections",
            with_spec(|s| s.section_mut(".data").rva = 0x1000),
            ErrorKind::Section,
            "section .data at RVA 0x1000 overlaps or precedes section .text (0x1000+0xc)",
        ),
        (
            "descending sections",
            with_spec(|s| s.sections.swap(0, 1)),
            ErrorKind::Section,
            "section .text at RVA 0x1000 overlaps or precedes section .data (0x2000+0x1400)",
        ),
        (
            "section over the headers",
            with_spec(|s| s.section_mut(".text").rva = 0),
            ErrorKind::Section,
            "section .text at RVA 0x0 overlaps or precedes the headers (SizeOfHeaders 0x400)",
        ),
        (
            "section unaligned",
            with_spec(|s| s.section_mut(".text").rva = 0x1100),
            ErrorKind::Section,
            "section .text at RVA 0x1100 is not aligned to SectionAlignment 0x1000",
        ),
        (
            "section beyond SizeOfImage",
            with_spec(|s| s.size_of_image = Some(0x6000)),
            ErrorKind::Section,
            "section .rdata 0x6000+0x1c5 runs past SizeOfImage 0x6000",
        ),
        (
            "W+X section",
            with_spec(|s| s.section_mut(".data").characteristics |= X),
            ErrorKind::Section,
            "section .data is both writable and executable (characteristics 0xe0000000)",
        ),
        (
            "entry point in data",
            with_spec(|s| s.entry = 0x2000),
            ErrorKind::Header,
            "entry point RVA 0x2000 is not inside an executable section",
        ),
        (
            "relocation block past the directory",
            with_spec(|s| s.relocs = reloc_block_sized(0x2000, 0x40, &[DIR64, DIR64 | 8])),
            ErrorKind::Relocation,
            "base relocation block at RVA 0x5000 (size 0x40) runs past the end of the directory (0x5000+0xc)",
        ),
        (
            "relocation block size below 8",
            with_spec(|s| s.relocs = reloc_block_sized(0x2000, 4, &[DIR64, DIR64])),
            ErrorKind::Relocation,
            "base relocation block at RVA 0x5000 has size 0x4 (must be at least 8 and even)",
        ),
        (
            "relocation block size odd",
            with_spec(|s| s.relocs = reloc_block_sized(0x2000, 9, &[DIR64, DIR64])),
            ErrorKind::Relocation,
            "base relocation block at RVA 0x5000 has size 0x9 (must be at least 8 and even)",
        ),
        (
            "relocation directory outside the image",
            with_spec(|s| s.directory_overrides.push((5, 0x6ff0, 0x20))),
            ErrorKind::Relocation,
            "base relocation directory 0x6ff0+0x20 is outside the image (0x7000 bytes)",
        ),
        (
            "trailing bytes after the last block",
            with_spec(|s| {
                s.relocs = reloc_block(0x2000, &[DIR64]);
                s.relocs.extend([0, 0, 0, 0]);
            }),
            ErrorKind::Relocation,
            "base relocation block at RVA 0x500a is cut off by the end of the directory",
        ),
        (
            "relocation target outside the image",
            with_spec(|s| s.relocs = reloc_block(0x9000, &[DIR64])),
            ErrorKind::Relocation,
            "DIR64 relocation target RVA 0x9000 (block at RVA 0x5000) is not 8 bytes inside the image (0x7000 bytes)",
        ),
        (
            "relocation target straddling the end",
            with_spec(|s| s.relocs = reloc_block(0x6000, &[DIR64 | 0xffc])),
            ErrorKind::Relocation,
            "DIR64 relocation target RVA 0x6ffc (block at RVA 0x5000) is not 8 bytes inside the image (0x7000 bytes)",
        ),
        (
            "unknown relocation type",
            with_spec(|s| s.relocs = reloc_block(0x2000, &[DIR64, (3 << 12) | 8])),
            ErrorKind::Relocation,
            "relocation type 3 (HIGHLOW) at RVA 0x2008 is not supported for AMD64",
        ),
        (
            "delay-load imports",
            with_spec(|s| s.directory_overrides.push((13, 0x6000, 0x40))),
            ErrorKind::Import,
            "the image has a delay-load import directory (0x6000+0x40): kernel images cannot use delay-load imports",
        ),
        (
            "unterminated import name",
            with_spec(|s| s.imports[0].symbols[1] = Sym::NameBytes(vec![b'A'; 300])),
            ErrorKind::Import,
            "import 1 of ntoskrnl.exe: name at RVA 0x60d2 has no NUL within 256 bytes",
        ),
        (
            "import name running to the end of the image",
            with_spec(|s| {
                // Fill .rdata's last page to the end of the image, then point a thunk at it.
                s.directory_overrides = vec![(1, 0x6000, 80)];
                let rdata = s.section_mut(".rdata");
                rdata.data = Spec::valid().tables(0x6000).bytes;
                rdata.data.resize(0x1000, b'B');
                rdata.virtual_size = 0x1000;
                // KeBugCheckEx's lookup thunk (the first after the 4 descriptors) -> 0x6ff0.
                put64(&mut rdata.data, 0x50, 0x6ff0 - 2);
            }),
            ErrorKind::Import,
            "import 0 of ntoskrnl.exe: name at RVA 0x6ff0 runs to the end of the image without a NUL",
        ),
        (
            "non-printable import name",
            with_spec(|s| s.imports[0].symbols[0] = Sym::NameBytes(b"Ke\x07Bug".to_vec())),
            ErrorKind::Import,
            "import 0 of ntoskrnl.exe: name at RVA 0x60c2 has a non-printable byte 0x07 at offset 2",
        ),
        (
            "empty DLL name",
            with_spec(|s| s.imports[1].name.clear()),
            ErrorKind::Import,
            "import descriptor 1: DLL name at RVA 0x6121 is empty",
        ),
        (
            "hint/name RVA outside the image",
            with_spec(|s| s.imports[0].symbols[0] = Sym::Raw(0x7fff_0000)),
            ErrorKind::Import,
            "import 0 of ntoskrnl.exe: name at RVA 0x7fff0002 is outside the image",
        ),
        (
            "ordinal thunk with reserved bits",
            with_spec(|s| s.imports[1].symbols[0] = Sym::Raw((1 << 63) | 0x1_0007)),
            ErrorKind::Import,
            "import 0 of HAL.dll: ordinal thunk 0x8000000000010007 has reserved bits set",
        ),
        (
            "too many import DLLs",
            with_spec(|s| s.imports = vec![dll("a.dll", vec![Sym::Ordinal(1)]); 257]),
            ErrorKind::Import,
            "more than 256 import descriptors",
        ),
        (
            "too many imports",
            with_spec(|s| {
                s.imports = vec![Dll {
                    ilt: false,
                    ..dll("a.dll", vec![Sym::Ordinal(1); pe::MAX_IMPORTS + 1])
                }]
            }),
            ErrorKind::Import,
            "more than 16384 imports (at a.dll)",
        ),
        (
            "import directory without a terminator",
            with_spec(|s| s.directory_overrides.push((1, 0x6ff0, 0x10))),
            ErrorKind::Import,
            "import descriptor 0 (directory at RVA 0x6ff0) is outside the image; is the terminating zero descriptor missing?",
        ),
        (
            "export name index out of range",
            with_spec(|s| s.exports.as_mut().unwrap().names.push(("Bad", 9))),
            ErrorKind::Export,
            "export name 3 (Bad) has ordinal index 9, but the address table has 4 entries",
        ),
        (
            "export name for an unused entry",
            with_spec(|s| {
                let e = s.exports.as_mut().unwrap();
                e.functions.push(0);
                e.names.push(("Hole", 4));
            }),
            ErrorKind::Export,
            "export name 3 (Hole) refers to unused address table entry 4",
        ),
        (
            "export address outside the image",
            with_spec(|s| s.exports.as_mut().unwrap().functions[1] = 0x9000),
            ErrorKind::Export,
            "export ordinal 2 points at RVA 0x9000, outside the image (0x7000 bytes)",
        ),
        (
            "export address table too long",
            with_spec(|s| s.exports.as_mut().unwrap().functions = vec![0x1000; 0x1_0001]),
            ErrorKind::Export,
            "export directory claims 65537 functions and 3 names (at most 65536)",
        ),
    ];
    let mut failures = Vec::new();
    for (what, bytes, kind, problem) in &cases {
        let Err(e) = load("bad.sys", bytes) else {
            failures.push(format!("{what}: loaded"));
            continue;
        };
        let expect = format!("bad.sys: {problem}");
        if e.to_string() != expect || e.kind() != *kind || e.file() != "bad.sys" {
            failures.push(format!(
                "{what}:\n   got      {:?} {e}\n   expected {kind:?} {expect}",
                e.kind()
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    println!("{} malformed images refused as expected", cases.len());
}

// ---------------------------------------------------------------------------------------
// PE32 (i386): parsed on every host, mapped only on a 32-bit one.
// ---------------------------------------------------------------------------------------

#[test]
fn pe32_image_parses_with_4_byte_thunks_and_highlow_relocations() {
    let bytes = Spec::valid_pe32().build();
    let parsed = pe::parse("valid32.sys", &bytes).unwrap();
    assert_eq!(parsed.machine(), pe::Machine::I386);
    assert_eq!(parsed.machine().pointer_size(), 4);
    assert_eq!(parsed.image_base(), IMAGE_BASE32);
    assert_eq!(parsed.size_of_image(), 0x7000);
    assert_eq!(parsed.entry_point(), pe::Rva(0x1000));
    assert_eq!(
        parsed.placement(),
        &ImagePlacement::Relocatable(vec![pe::Rva(0x2000), pe::Rva(0x2004)]),
        "two HIGHLOW fixups 4 bytes apart, the ABSOLUTE padding skipped"
    );
    let imports: Vec<(String, String)> = parsed
        .imports()
        .iter()
        .map(|i| (format!("{}!{}", i.dll, i.symbol), format!("{}", i.iat_slot)))
        .collect();
    let names: Vec<&str> = imports.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "ntoskrnl.exe!KeBugCheckEx",
            "ntoskrnl.exe!ExAllocatePool2",
            "HAL.dll!#7",
            "HAL.dll!KeStallExecutionProcessor",
            "videoprt_rs.sys!VideoPortInitialize"
        ]
    );
    // 4-byte IAT slots: consecutive imports of one DLL are 4 bytes apart.
    let slots: Vec<u32> = parsed.imports().iter().map(|i| i.iat_slot.0).collect();
    assert_eq!(slots[1] - slots[0], 4);
    assert_eq!(slots[3] - slots[2], 4);
    assert_eq!(
        parsed.imports()[2].symbol,
        pe::ImportSymbol::Ordinal(7),
        "ordinal flag in bit 31"
    );
    assert_eq!(parsed.exports().len(), 4);
    assert_eq!(parsed.sections().len(), 5);
}

#[test]
fn pe32_image_is_not_mapped_on_a_64_bit_host_and_the_error_names_both_machines() {
    let mut asked = 0;
    let e = pe::load("x86.sys", &Spec::valid_pe32().build(), &mut |_, _| {
        asked += 1;
        Some(0x1000)
    })
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert_eq!(
        e.to_string(),
        "x86.sys: machine i386 (0x14c) cannot run on this 64-bit host, which loads AMD64 (0x8664) images only"
    );
    assert_eq!(asked, 0, "refused before any import is resolved");
    assert_eq!(pe::Machine::HOST, pe::Machine::Amd64);
}

fn patched32(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut b = Spec::valid_pe32().build();
    f(&mut b);
    b
}

fn with_spec32(f: impl FnOnce(&mut Spec)) -> Vec<u8> {
    let mut s = Spec::valid_pe32();
    f(&mut s);
    s.build()
}

#[test]
fn malformed_pe32_images_are_refused_with_the_reason() {
    let cases: Vec<(&str, Vec<u8>, ErrorKind, &str)> = vec![
        (
            "AMD64 machine on a PE32 header",
            patched32(|b| put16(b, FILE_HEADER, 0x8664)),
            ErrorKind::Unsupported,
            "optional header is PE32 (magic 0x10b) but an AMD64 image needs PE32+ (0x20b)",
        ),
        (
            "SizeOfOptionalHeader too small",
            patched32(|b| put16(b, FILE_HEADER + 16, 0x50)),
            ErrorKind::Header,
            "SizeOfOptionalHeader 0x50 is smaller than the PE32 (0x10b) fixed fields (0x60)",
        ),
        (
            "SizeOfOptionalHeader cannot hold the directories",
            patched32(|b| put16(b, FILE_HEADER + 16, 0x70)),
            ErrorKind::Header,
            "SizeOfOptionalHeader 0x70 cannot hold 16 data directories",
        ),
        (
            "NumberOfRvaAndSizes absurd (at 92 in PE32)",
            patched32(|b| put32(b, OPTIONAL_HEADER + 92, 0x1000_0000)),
            ErrorKind::Header,
            "NumberOfRvaAndSizes 268435456 exceeds 16",
        ),
        (
            "ImageBase not 64 KiB aligned",
            with_spec32(|s| s.image_base = 0x1_1000),
            ErrorKind::Header,
            "ImageBase 0x11000 is not a nonzero multiple of 64 KiB",
        ),
        (
            "image past 4 GiB",
            with_spec32(|s| {
                s.image_base = 0xffff_0000;
                s.size_of_image = Some(0x2_0000);
            }),
            ErrorKind::Header,
            "ImageBase 0xffff0000 + SizeOfImage 0x20000 overflows the i386 (0x14c) address space",
        ),
        (
            "W+X section",
            with_spec32(|s| s.section_mut(".data").characteristics |= X),
            ErrorKind::Section,
            "section .data is both writable and executable (characteristics 0xe0000000)",
        ),
        (
            "section beyond SizeOfImage",
            with_spec32(|s| s.size_of_image = Some(0x6000)),
            ErrorKind::Section,
            "section .rdata 0x6000+0x18d runs past SizeOfImage 0x6000",
        ),
        (
            "DIR64 relocation in an i386 image",
            with_spec32(|s| s.relocs = reloc_block(0x2000, &[HIGHLOW, DIR64 | 4])),
            ErrorKind::Relocation,
            "relocation type 10 (DIR64) at RVA 0x2004 is not supported for i386",
        ),
        (
            "HIGHLOW target straddling the end",
            with_spec32(|s| s.relocs = reloc_block(0x6000, &[HIGHLOW | 0xffe])),
            ErrorKind::Relocation,
            "HIGHLOW relocation target RVA 0x6ffe (block at RVA 0x5000) is not 4 bytes inside the image (0x7000 bytes)",
        ),
        (
            "HIGHLOW target outside the image",
            with_spec32(|s| s.relocs = reloc_block(0x9000, &[HIGHLOW])),
            ErrorKind::Relocation,
            "HIGHLOW relocation target RVA 0x9000 (block at RVA 0x5000) is not 4 bytes inside the image (0x7000 bytes)",
        ),
        (
            "relocation block size odd",
            with_spec32(|s| s.relocs = reloc_block_sized(0x2000, 9, &[HIGHLOW, HIGHLOW])),
            ErrorKind::Relocation,
            "base relocation block at RVA 0x5000 has size 0x9 (must be at least 8 and even)",
        ),
        (
            "ordinal thunk with reserved bits",
            with_spec32(|s| s.imports[1].symbols[0] = Sym::Raw(0x8001_0007)),
            ErrorKind::Import,
            "import 0 of HAL.dll: ordinal thunk 0x80010007 has reserved bits set",
        ),
        (
            "hint/name RVA outside the image",
            with_spec32(|s| s.imports[0].symbols[0] = Sym::Raw(0x7fff_0000)),
            ErrorKind::Import,
            "import 0 of ntoskrnl.exe: name at RVA 0x7fff0002 is outside the image",
        ),
        (
            "import directory without a terminator",
            with_spec32(|s| s.directory_overrides.push((1, 0x6ff0, 0x10))),
            ErrorKind::Import,
            "import descriptor 0 (directory at RVA 0x6ff0) is outside the image; is the terminating zero descriptor missing?",
        ),
        (
            "export address outside the image",
            with_spec32(|s| s.exports.as_mut().unwrap().functions[1] = 0x9000),
            ErrorKind::Export,
            "export ordinal 2 points at RVA 0x9000, outside the image (0x7000 bytes)",
        ),
    ];
    let mut failures = Vec::new();
    for (what, bytes, kind, problem) in &cases {
        let Err(e) = pe::parse("bad32.sys", bytes) else {
            failures.push(format!("{what}: parsed"));
            continue;
        };
        let expect = format!("bad32.sys: {problem}");
        if e.to_string() != expect || e.kind() != *kind {
            failures.push(format!(
                "{what}:\n   got      {:?} {e}\n   expected {kind:?} {expect}",
                e.kind()
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn pe32_truncation_at_every_length_is_refused_never_a_crash() {
    let bytes = Spec::valid_pe32().build();
    let step = if cfg!(miri) { 61 } else { 1 };
    for len in (0..bytes.len()).step_by(step).chain([bytes.len() - 1]) {
        let Err(e) = pe::parse("bad32.sys", &bytes[..len]) else {
            panic!("length {len:#x} parsed");
        };
        assert_eq!(e.kind(), ErrorKind::Truncated, "length {len:#x}: {e}");
    }
}

#[test]
fn every_single_byte_corruption_of_pe32_headers_is_handled() {
    let bytes = Spec::valid_pe32().build();
    // Under Miri, every 61st byte.
    let step = if cfg!(miri) { 61 } else { 1 };
    let mut parsed = 0;
    for at in (0..SIZE_OF_HEADERS).step_by(step) {
        for v in [0x00, 0x01, 0x7f, 0x80, 0xff] {
            let mut b = bytes.clone();
            b[at] = v;
            if pe::parse("x.sys", &b).is_ok() {
                parsed += 1;
            }
        }
    }
    assert!(parsed > 0);
}

#[test]
fn export_table_outside_the_image() {
    let mut spec = Spec::valid();
    spec.directory_overrides.push((0, 0x6ff0, 0x40));
    let e = load_err(&spec.build());
    assert_eq!(
        e.to_string(),
        "bad.sys: export directory 0x6ff0+0x40 is outside the image or smaller than 40 bytes"
    );
}

#[test]
fn truncation_at_every_length_is_refused_never_a_crash() {
    let bytes = Spec::valid().build();
    // Under Miri, which interprets every parse, every 61st length (and the last).
    let step = if cfg!(miri) { 61 } else { 1 };
    for len in (0..bytes.len()).step_by(step).chain([bytes.len() - 1]) {
        let e = load_err(&bytes[..len]);
        assert_eq!(e.kind(), ErrorKind::Truncated, "length {len:#x}: {e}");
        assert!(e.to_string().starts_with("bad.sys: "), "{e}");
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "maps the image with mmap/mprotect, which Miri cannot run"
)]
fn every_single_byte_corruption_of_the_headers_is_handled() {
    // Not every change is an error (many fields are ignored), but none may crash.
    let bytes = Spec::valid().build();
    let mut loaded = 0;
    for at in 0..SIZE_OF_HEADERS {
        for v in [0x00, 0x01, 0x7f, 0x80, 0xff] {
            let mut b = bytes.clone();
            b[at] = v;
            if load("x.sys", &b).is_ok() {
                loaded += 1;
            }
        }
    }
    assert!(loaded > 0);
}

// ---------------------------------------------------------------------------------------
// Real driver images (built by `cargo xtask build`).
// ---------------------------------------------------------------------------------------

fn real_image(name: &str) -> Option<Vec<u8>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/drivers")
        .join(name);
    match std::fs::read(&path) {
        Ok(b) => Some(b),
        Err(_) => {
            println!(
                "note: {} not found (run `cargo xtask build`); skipped",
                path.display()
            );
            None
        }
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "reads the built driver images from target/drivers and maps them (file system and mmap)"
)]
fn real_driver_images_load() {
    let _g = FIXED_BASE.lock().unwrap_or_else(|e| e.into_inner());
    for name in [
        "videoprt_rs.sys",
        "sample_miniport.sys",
        "c_edu_miniport_gnu.sys",
        "c_edu_miniport_lld.sys",
    ] {
        let Some(bytes) = real_image(name) else {
            continue;
        };
        let parsed = pe::parse(name, &bytes).unwrap();
        let relocatable = matches!(parsed.placement(), ImagePlacement::Relocatable(_));
        let (image, kernel) = load(name, &bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            image.imports().len(),
            kernel.given.len(),
            "{name}: distinct imports"
        );
        for i in image.imports() {
            assert_eq!(
                read_u64(image.base() + i.iat_slot.offset()),
                i.address as u64
            );
        }
        let entry = image.entry_point() - image.base();
        assert!(
            image.sections().iter().any(|s| s.protection.execute
                && (s.rva.offset()..s.rva.offset() + s.size as usize).contains(&entry)),
            "{name}: entry point in an executable section"
        );
        assert!(image
            .sections()
            .iter()
            .all(|s| !s.protection.is_write_execute()));
        let sections: Vec<String> = image
            .sections()
            .iter()
            .map(|s| format!("{} {}+{:#x} {}", s.name, s.rva, s.size, s.protection))
            .collect();
        let counts: Vec<String> = image
            .import_counts()
            .iter()
            .map(|(d, n)| format!("{n} imports bound to {d}"))
            .collect();
        println!(
            "{name}: base {:#x} (ImageBase {:#x}, {}), {} exports; {}; sections: {}",
            image.base(),
            image.preferred_base(),
            if relocatable {
                "relocatable"
            } else {
                "no relocations: at ImageBase"
            },
            image.exports().len(),
            counts.join(", "),
            sections.join(", ")
        );
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "reads the built driver images from target/drivers and maps them (file system and mmap)"
)]
fn videoprt_rs_exports_the_videoport_routines() {
    let Some(bytes) = real_image("videoprt_rs.sys") else {
        return;
    };
    let (image, _) = load("videoprt_rs.sys", &bytes).unwrap();
    for name in [
        "VideoPortGetDmaAdapter",
        "VideoPortStartDma",
        "VideoPortInitialize",
    ] {
        let addr = image
            .export(name)
            .unwrap_or_else(|| panic!("{name} exported"));
        assert!(image.contains(addr));
    }
}

/// The x86 images of `target/drivers/x86/` parse on a 64-bit host (i386, PE32, HIGHLOW
/// fixups, 4-byte thunks) and are refused for mapping, naming both machines. On an i686 host
/// `pe_loader_x86.rs` maps them.
#[test]
#[cfg_attr(miri, ignore = "reads the built driver images from target/drivers/x86")]
fn real_x86_driver_images_parse_and_are_not_mapped_here() {
    for name in [
        "videoprt_rs.sys",
        "sample_miniport.sys",
        "c_edu_miniport_gnu.sys",
        "c_edu_miniport_lld.sys",
    ] {
        let Some(bytes) = real_image(&format!("x86/{name}")) else {
            continue;
        };
        let parsed = pe::parse(name, &bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.machine(), pe::Machine::I386, "{name}");
        let ImagePlacement::Relocatable(fixups) = parsed.placement() else {
            panic!("{name}: x86 drivers are linked relocatable");
        };
        assert!(!fixups.is_empty(), "{name}: has HIGHLOW fixups");
        assert!(!parsed.imports().is_empty(), "{name}: imports");
        if name == "videoprt_rs.sys" {
            assert!(
                parsed.exports().len() >= 100,
                "{name}: the VideoPort exports"
            );
        } else {
            assert!(
                parsed
                    .imports()
                    .iter()
                    .all(|i| i.dll.eq_ignore_ascii_case("videoprt_rs.sys")),
                "{name}: a miniport imports from videoprt_rs.sys only"
            );
        }
        let e = load(name, &bytes).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{name}: machine i386 (0x14c) cannot run on this 64-bit host, which loads AMD64 (0x8664) images only")
        );
        println!(
            "x86/{name}: ImageBase {:#x}, {} HIGHLOW fixups, {} imports, {} exports",
            parsed.image_base(),
            fixups.len(),
            parsed.imports().len(),
            parsed.exports().len()
        );
    }
}

/// Writes the synthetic images used as the fuzzer's seed corpus:
/// `cargo test -p ntsim --test pe_loader -- --ignored write_fuzz_seeds`.
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/pe_loader");
    std::fs::create_dir_all(&dir).unwrap();
    let mut lld_like = Spec::valid();
    for d in &mut lld_like.imports {
        d.ilt = false;
    }
    let mut fixed = Spec::valid();
    fixed.relocs.clear();
    fixed.image_base = 0x5c_0000_0000;
    let mut minimal = Spec::valid();
    minimal.imports.clear();
    minimal.exports = None;
    minimal.relocs.clear();
    minimal.sections.truncate(1);
    minimal.image_base = 0x5d_0000_0000;
    for (name, spec) in [
        ("valid", Spec::valid()),
        ("lld_like", lld_like),
        ("fixed_base", fixed),
        ("minimal", minimal),
        ("valid_pe32", Spec::valid_pe32()),
    ] {
        std::fs::write(dir.join(format!("{name}.sys")), spec.build()).unwrap();
    }
}
