//! A loaded image: mapping, relocation, import binding and protection, and what callers ask
//! of the result.
//!
//! Only an image for [`Machine::HOST`] is mapped: its code is called directly, so it must be
//! the host's instruction set and pointer width (AMD64 on a 64-bit host, i386 on a 32-bit
//! one). The other machine parses but is refused here, naming both.

use super::bytes::Rva;
use super::error::{ErrorKind, LoadError, Problem};
use super::exports::{Export, ExportTarget};
use super::headers::{Headers, Machine};
use super::imports::{BoundImport, ImportName};
use super::map::{FixedError, Mapping};
use super::relocs::{self, ImagePlacement};
use super::sections::{lay_out, page_protections, Protection, SectionInfo};
use super::ParsedImage;

/// A kernel image mapped into this process, relocated, its imports bound and its sections
/// protected. Unmapped on drop.
///
/// Invariant: `mapping` holds the laid-out image at `base()`, at least `size()` bytes.
pub struct PeImage {
    name: String,
    mapping: Mapping,
    /// On an x86 host, the stack-realigning thunks the IAT points at (see `thunks.rs`).
    #[cfg(target_arch = "x86")]
    thunks: super::thunks::Thunks,
    headers: Headers,
    sections: Vec<SectionInfo>,
    imports: Vec<BoundImport>,
    exports: Vec<Export>,
}

impl ParsedImage<'_> {
    /// Maps the parsed image: refuses an image for another machine than [`Machine::HOST`],
    /// asks `resolve` for every import first (so an unresolved one maps nothing), then maps,
    /// lays out, relocates, fills the IAT and protects.
    pub fn map(
        self,
        resolve: &mut dyn FnMut(&str, ImportName<'_>) -> Option<usize>,
    ) -> Result<PeImage, LoadError> {
        let file = self.file_name;
        let h = &self.headers;
        if h.machine != Machine::HOST {
            let msg = format!(
                "machine {} cannot run on this {}-bit host, which loads {} images only",
                h.machine,
                usize::BITS,
                Machine::HOST
            );
            return Err(Problem::new(ErrorKind::Unsupported, msg).in_file(file));
        }
        let mut imports = Vec::with_capacity(self.imports.len());
        for i in self.imports {
            let Some(address) = resolve(&i.dll, i.symbol.as_import_name()) else {
                let msg = format!("import {}!{} is not provided", i.dll, i.symbol);
                return Err(Problem::new(ErrorKind::Unresolved, msg).in_file(file));
            };
            imports.push(BoundImport {
                dll: i.dll,
                symbol: i.symbol,
                address,
                iat_slot: i.iat_slot,
            });
        }

        let size = h.size_of_image as usize;
        let map_error = |msg: String| Problem::new(ErrorKind::Map, msg).in_file(file);
        let mut mapping = match &self.placement {
            ImagePlacement::Relocatable(_) => Mapping::anywhere(size)
                .map_err(|e| map_error(format!("cannot map {size:#x} bytes: {e}")))?,
            ImagePlacement::PreferredBaseOnly => {
                let base = h.image_base;
                let fixed = usize::try_from(base)
                    .map_err(|_| FixedError::InUse)
                    .and_then(|a| Mapping::fixed(a, size));
                match fixed {
                    Ok(m) => m,
                    Err(FixedError::InUse) => {
                        return Err(map_error(format!(
                            "relocations stripped and preferred base {base:#x} is in use"
                        )))
                    }
                    Err(FixedError::Other(e)) => {
                        return Err(map_error(format!(
                        "relocations stripped and preferred base {base:#x} cannot be mapped: {e}"
                    )))
                    }
                }
            }
        };
        let base = mapping.base();
        let internal = || map_error("the mapping is not writable".to_owned());
        let image = mapping
            .bytes_mut()
            .and_then(|b| b.get_mut(..size))
            .ok_or_else(internal)?;
        lay_out(self.file, h, &self.sections, image).map_err(|p| p.in_file(file))?;
        if let ImagePlacement::Relocatable(fixups) = &self.placement {
            let delta = (base as u64).wrapping_sub(h.image_base);
            relocs::apply(image, fixups, delta, h.machine);
        }
        // What each IAT slot receives: the bound address, or on an x86 host the address of a
        // thunk that calls it on a 16-byte-aligned stack, as host code expects and Windows
        // x86 code does not provide.
        let iat_values: Vec<usize> = imports.iter().map(|i| i.address).collect();
        #[cfg(target_arch = "x86")]
        let (thunks, iat_values) = {
            let thunks = super::thunks::Thunks::new(&iat_values)
                .map_err(|e| map_error(format!("cannot map the call thunks: {e}")))?;
            let values: Vec<usize> = (iat_values.iter().enumerate())
                .map(|(index, &bound)| thunks.address(index).unwrap_or(bound))
                .collect();
            (thunks, values)
        };
        // The machine is the host's, so an address is exactly pointer_size() bytes.
        for (i, value) in imports.iter().zip(&iat_values) {
            let slot = i.iat_slot.offset();
            if let Some(dst) = image.get_mut(slot..slot.saturating_add(size_of::<usize>())) {
                dst.copy_from_slice(&value.to_le_bytes());
            }
        }
        mapping
            .protect(&self.pages)
            .map_err(|e| map_error(format!("cannot protect the sections: {e}")))?;

        Ok(PeImage {
            name: file.to_owned(),
            mapping,
            #[cfg(target_arch = "x86")]
            thunks,
            headers: self.headers,
            sections: self.sections,
            imports,
            exports: self.exports,
        })
    }
}

impl PeImage {
    /// The file name it was loaded as.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Address of the first byte (the headers).
    pub fn base(&self) -> usize {
        self.mapping.base()
    }
    /// SizeOfImage.
    pub fn size(&self) -> usize {
        self.headers.size_of_image as usize
    }
    /// The ImageBase the image was linked for (equal to [`base`](Self::base) for images
    /// without relocations).
    pub fn preferred_base(&self) -> u64 {
        self.headers.image_base
    }
    /// Address of `rva` in the mapping.
    pub fn address_of(&self, rva: Rva) -> usize {
        self.base() + rva.offset()
    }
    /// Absolute address of AddressOfEntryPoint (DriverEntry for a driver); checked to lie in
    /// an executable section.
    pub fn entry_point(&self) -> usize {
        self.address_of(self.headers.entry_point)
    }
    /// The address of the export called `name`; `None` if there is none or it is a
    /// forwarder (not supported).
    pub fn export(&self, name: &str) -> Option<usize> {
        let e = self
            .exports
            .iter()
            .find(|e| e.name.as_deref() == Some(name))?;
        match e.target {
            ExportTarget::Rva(rva) => Some(self.address_of(rva)),
            ExportTarget::Forwarder(_) => None,
        }
    }
    /// Every export, forwarders included.
    pub fn exports(&self) -> &[Export] {
        &self.exports
    }
    /// Every import and the address bound to it, in import-table order. On an x86 host the
    /// IAT slot holds the address of a thunk that calls this address on an aligned stack
    /// (see [`iat_value`](Self::iat_value)).
    pub fn imports(&self) -> &[BoundImport] {
        &self.imports
    }
    /// What the image's code finds in the IAT slot of `imports()[index]`: the bound address
    /// itself, or on an x86 host the address of its stack-realigning thunk.
    pub fn iat_value(&self, index: usize) -> Option<usize> {
        let bound = self.imports.get(index)?.address;
        #[cfg(target_arch = "x86")]
        let bound = self.thunks.address(index).unwrap_or(bound);
        Some(bound)
    }
    /// How many imports each DLL provided, in import-table order of first appearance.
    pub fn import_counts(&self) -> Vec<(&str, usize)> {
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for i in &self.imports {
            match counts.iter_mut().find(|(dll, _)| *dll == i.dll) {
                Some((_, n)) => *n += 1,
                None => counts.push((&i.dll, 1)),
            }
        }
        counts
    }
    /// The sections with their current protection.
    pub fn sections(&self) -> &[SectionInfo] {
        &self.sections
    }
    /// True if `addr` lies within `base()..base() + size()`.
    pub fn contains(&self, addr: usize) -> bool {
        addr >= self.base() && addr - self.base() < self.size()
    }
    /// Frees what Windows frees after DriverEntry returns: `INIT` and the other discardable
    /// sections (not `.reloc`) become inaccessible, so a later call into them faults.
    /// Pages shared with a kept section keep that section's protection.
    pub fn discard_init(&mut self) -> Result<(), LoadError> {
        let pages = page_protections(&self.headers, &self.sections, |s| s.is_init_discardable());
        self.mapping.protect(&pages).map_err(|e| {
            Problem::new(ErrorKind::Map, format!("cannot discard INIT sections: {e}"))
                .in_file(&self.name)
        })?;
        for s in self.sections.iter_mut().filter(|s| s.is_init_discardable()) {
            s.protection = Protection::NONE;
        }
        Ok(())
    }
}

impl std::fmt::Debug for PeImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeImage")
            .field("name", &self.name)
            .field("base", &format_args!("{:#x}", self.base()))
            .field("size", &format_args!("{:#x}", self.size()))
            .finish_non_exhaustive()
    }
}
