//! The 32-bit Windows build, into `target/drivers/x86/`: `videoprt_rs.sys` and
//! `sample_miniport.sys` for `i686-pc-windows-msvc` (rust-lld), the import libraries
//! `videoprt_rs.lib` (lld-link / MSVC link) and `libvideoprt_rs.a` (GNU ld), and the C edu
//! miniport linked by both.
//!
//! On x86 a C name is decorated by its convention: NTAPI (`__stdcall`) `VideoPortStartDma` is
//! the symbol `_VideoPortStartDma@32`, FASTCALL `VideoPortInterlockedIncrement` is
//! `@VideoPortInterlockedIncrement@4`, cdecl `VideoPortDebugPrint` is `_VideoPortDebugPrint`.
//! The driver exports the undecorated names, as videoprt.sys does; the import libraries bind
//! the decorated symbols a miniport's object references to those names (`-k`: "kill at").
//! The decorated names come from the driver's own link map, so they are what the linker saw.

use crate::build::{c_flags, copy, rust_lld, target_dir};
use crate::shell::{self, workspace_root};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const X86_TARGET: &str = "i686-pc-windows-msvc";
const MINGW: &str = "i686-w64-mingw32";

/// Builds the x86 drivers, import libraries and C miniports into `out`; returns the `.sys`
/// paths.
pub fn drivers(out: &Path) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    shell::step(&format!(
        "building videoprt_rs.sys and sample_miniport.sys ({X86_TARGET}, rust-lld)"
    ));
    shell::cargo(&[
        "build",
        "--release",
        "--quiet",
        "--target",
        X86_TARGET,
        "-p",
        "videoprt-rs-driver",
        "-p",
        "sample-miniport",
    ])?;
    let built = target_dir().join(X86_TARGET).join("release");
    let mut images = Vec::new();
    for name in ["videoprt_rs", "sample_miniport"] {
        let sys = out.join(format!("{name}.sys"));
        copy(&built.join(format!("{name}.dll")), &sys)?;
        copy(
            &built.join(format!("{name}.pdb")),
            &out.join(format!("{name}.pdb")),
        )?;
        copy(
            &built.join("deps").join(format!("{name}.map")),
            &out.join(format!("{name}.map")),
        )?;
        if name != "videoprt_rs" {
            workspace_tests::pe::clear_dll_characteristic(&sys)?;
        }
        images.push(sys);
    }

    let def = std::fs::read_to_string(workspace_root().join("videoprt_rs.def"))
        .map_err(|e| format!("videoprt_rs.def: {e}"))?;
    let map = std::fs::read_to_string(out.join("videoprt_rs.map"))
        .map_err(|e| format!("videoprt_rs.map: {e}"))?;
    for (file, flavour) in [
        ("videoprt_rs.imports.def", AliasTarget::Decorated),
        ("videoprt_rs.gnu-imports.def", AliasTarget::ImportName),
    ] {
        let path = out.join(file);
        std::fs::write(&path, decorated_import_list(&def, &map, flavour)?)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    shell::step("making x86/videoprt_rs.lib (llvm-dlltool -k, MSVC short-import format)");
    shell::run(Command::new("llvm-dlltool").current_dir(out).args([
        "-m",
        "i386",
        "-k",
        "-D",
        "videoprt_rs.sys",
        "-d",
        "videoprt_rs.imports.def",
        "-l",
        "videoprt_rs.lib",
    ]))?;
    shell::step(&format!("making x86/libvideoprt_rs.a ({MINGW}-dlltool -k)"));
    shell::run(
        Command::new(format!("{MINGW}-dlltool"))
            .current_dir(out)
            .args([
                "--machine",
                "i386",
                "--kill-at",
                "--input-def",
                "videoprt_rs.gnu-imports.def",
                "--dllname",
                "videoprt_rs.sys",
                "--output-lib",
                "libvideoprt_rs.a",
            ]),
    )?;
    copy(
        &workspace_root().join("c-miniport/include/videoprt_rs.h"),
        &out.join("videoprt_rs.h"),
    )?;
    images.extend(c_edu_miniport(out)?);
    Ok(images)
}

/// How the two dlltools read an alias line `Alias@8 == Target`.
#[derive(Clone, Copy, PartialEq)]
pub enum AliasTarget {
    /// llvm-dlltool: the target is another symbol of the library, decorated
    /// (`VideoPortUnLockBuffer@8 == VideoPortUnlockBuffer@8`).
    Decorated,
    /// GNU dlltool: the target is the name imported from the DLL
    /// (`VideoPortUnLockBuffer@8 == VideoPortUnlockBuffer`).
    ImportName,
}

/// The import list for x86: each public export of `videoprt_rs.def` under the decorated name
/// the driver's link map shows for it (`Name@N`, `@Name@N` or `Name`), plus the aliases.
pub fn decorated_import_list(def: &str, map: &str, alias: AliasTarget) -> Result<String, String> {
    let symbols: Vec<&str> = map.split_whitespace().collect();
    let decorated = |name: &str| -> Option<String> {
        symbols.iter().find_map(|s| {
            if let Some(rest) = s.strip_prefix('@') {
                let (n, size) = rest.split_once('@')?;
                (n == name && size.parse::<u32>().is_ok()).then(|| s.to_string())
            } else {
                let rest = s.strip_prefix('_')?;
                match rest.split_once('@') {
                    Some((n, size)) => {
                        (n == name && size.parse::<u32>().is_ok()).then(|| rest.to_string())
                    }
                    None => (rest == name).then(|| rest.to_string()),
                }
            }
        })
    };
    let mut list = String::from("LIBRARY videoprt_rs.sys\nEXPORTS\n");
    for name in workspace_tests::pe::def_public_exports(def) {
        let symbol = decorated(&name)
            .ok_or_else(|| format!("videoprt_rs.map (x86) has no symbol for the export {name}"))?;
        list.push_str(&format!("    {symbol}\n"));
    }
    for (alias_name, export) in workspace_tests::pe::IMPORT_ALIASES {
        let symbol = decorated(export)
            .ok_or_else(|| format!("videoprt_rs.map (x86) has no symbol for {export}"))?;
        let aliased = symbol.replacen(export, alias_name, 1);
        let target = match alias {
            AliasTarget::Decorated => symbol.as_str(),
            AliasTarget::ImportName => export,
        };
        list.push_str(&format!("    {aliased} == {target}\n"));
    }
    Ok(list)
}

/// The C edu miniport for x86, by GNU ld against `libvideoprt_rs.a` and by lld-link against
/// `videoprt_rs.lib`, from one compiler (`i686-w64-mingw32-gcc`).
fn c_edu_miniport(out: &Path) -> Result<Vec<PathBuf>, String> {
    let root = workspace_root();
    // No .eh_frame: nothing unwinds C frames in a kernel image (x64 keeps .pdata, which
    // the kernel does use).
    let mut flags = c_flags(&root);
    flags.push("-fno-asynchronous-unwind-tables".to_string());
    let source = root.join("c-miniport/edu_miniport.c");
    shell::step(&format!(
        "the C edu miniport (x86): {MINGW}-gcc + GNU ld, libvideoprt_rs.a"
    ));
    let gnu = out.join("c_edu_miniport_gnu.sys");
    shell::run(
        Command::new(format!("{MINGW}-gcc"))
            .args(&flags)
            .args(["-nostdlib", "-s"])
            .args([
                "-Wl,--subsystem,native",
                // x86 mingw decorates the entry point: DriverEntry is stdcall, 8 bytes.
                "-Wl,--entry,_DriverEntry@8",
                "-Wl,--dynamicbase",
                "-Wl,--nxcompat",
                "-Wl,--image-base,0x10000",
            ])
            .arg(format!("-Wl,-Map,{}", gnu.with_extension("map").display()))
            .arg("-o")
            .arg(&gnu)
            .arg(&source)
            .arg(out.join("libvideoprt_rs.a")),
    )?;
    workspace_tests::pe::finish_gnu_ld_driver(&gnu)?;

    shell::step(&format!(
        "the C edu miniport (x86): {MINGW}-gcc -c + lld-link, videoprt_rs.lib"
    ));
    let lld = out.join("c_edu_miniport_lld.sys");
    let object = lld.with_extension("obj");
    shell::run(
        Command::new(format!("{MINGW}-gcc"))
            .args(&flags)
            .arg("-c")
            .arg("-o")
            .arg(&object)
            .arg(&source),
    )?;
    shell::run(
        Command::new(rust_lld()?)
            .args(["-flavor", "link", "/NOLOGO", "/MACHINE:X86"])
            .args(["/DRIVER", "/SUBSYSTEM:NATIVE", "/ENTRY:DriverEntry"])
            .args(["/NODEFAULTLIB", "/RELEASE", "/NXCOMPAT", "/DYNAMICBASE"])
            // mingw's objects carry no SafeSEH table; the kernel does not ask for one.
            .arg("/SAFESEH:NO")
            .arg("/SECTION:INIT,erd")
            .arg(format!("/MAP:{}", lld.with_extension("map").display()))
            .arg(format!("/OUT:{}", lld.display()))
            .arg(&object)
            .arg(out.join("videoprt_rs.lib")),
    )?;
    std::fs::remove_file(&object).map_err(|e| format!("{}: {e}", object.display()))?;
    Ok(vec![gnu, lld])
}
