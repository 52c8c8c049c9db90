//! Running a miniport's PE image on ntsim: the `.sys` file a user would load on Windows (from
//! any linker), mapped by ntsim's kernel image loader into the test process, its imports bound
//! by name to videoprt-rs's exports (`videoprt_rs.sys`) and ntsim's routines (`ntoskrnl.exe`,
//! `hal.dll`), and its DriverEntry handed to the simulated I/O manager. Host only.
//!
//! PE code and host code share one calling convention (`extern "ntapi"`, see ddk-sys): Windows
//! x64 on an x86_64 host, which loads the x64 images; stdcall on an i686 host, which loads the
//! x86 images (`target/drivers/x86/`). So the image calls the port's exports, and the port
//! calls the image's callbacks, directly (on i686 through the loader's stack-realigning
//! thunks, `ntsim::pe`).

use crate::harness::DriverEntry;
use ntsim::pe::{ImportName, LoadError, PeImage};
use ntsim::OsVersion;
use std::path::{Path, PathBuf};

/// A loaded miniport image. Dropping it unmaps the image: unload the driver first.
#[derive(Debug)]
pub struct MiniportImage {
    image: PeImage,
    path: PathBuf,
}

/// What an import from `dll` binds to on a machine that is `os`, as the Windows loader binds
/// it: by name only (videoprt-rs's exports have no fixed ordinals), the module name compared
/// without case.
pub fn resolve(dll: &str, symbol: ImportName<'_>, os: OsVersion) -> Option<usize> {
    let ImportName::Name(name) = symbol else {
        return None;
    };
    if dll.eq_ignore_ascii_case("videoprt_rs.sys") {
        videoprt::exports::lookup(name)
    } else {
        ntsim::kernel_exports::lookup(dll, name, os)
    }
}

impl MiniportImage {
    /// Reads, validates, maps and binds the image at `path` for a machine that is `os`.
    pub fn load(path: &Path, os: OsVersion) -> Result<MiniportImage, String> {
        let bytes = std::fs::read(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!(
                "{}: no such file (`cargo xtask build` makes the shipped images)",
                path.display()
            ),
            _ => format!("{}: {e}", path.display()),
        })?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into(),
        );
        let image = ntsim::pe::load(&name, &bytes, &mut |dll, symbol| resolve(dll, symbol, os))
            .map_err(|e: LoadError| e.to_string())?;
        Ok(MiniportImage {
            image,
            path: path.to_path_buf(),
        })
    }

    /// The image's entry point, as the loader calls it.
    pub fn driver_entry(&self) -> DriverEntry {
        let entry = self.image.entry_point();
        // SAFETY: the loader checked that the entry point lies in an executable section of the
        // mapped image, which is for this host's machine (the loader maps no other); a kernel
        // image's entry point is DriverEntry, an NTAPI function (Windows x64 on x86_64,
        // stdcall on x86) with this prototype (DRIVER_INITIALIZE), which DriverEntry's type
        // spells.
        unsafe { core::mem::transmute::<usize, DriverEntry>(entry) }
    }

    /// Frees the INIT section after DriverEntry returned, as Windows does: code left there
    /// faults if called later.
    pub fn discard_init(&mut self) -> Result<(), String> {
        self.image.discard_init().map_err(|e| e.to_string())
    }

    /// The mapped image.
    pub fn image(&self) -> &PeImage {
        &self.image
    }

    /// One line for people: which file, where it is mapped, what its imports were bound to.
    pub fn describe(&self) -> String {
        let counts: Vec<String> = self
            .image
            .import_counts()
            .iter()
            .map(|(dll, n)| format!("{n} to {dll}"))
            .collect();
        format!(
            "{} (PE image mapped at {:#x}, {} bytes; {} imports bound: {})",
            self.path.display(),
            self.image.base(),
            self.image.size(),
            self.image.imports().len(),
            counts.join(", ")
        )
    }
}
