//! Builds the Windows kernel images with rust-lld and the import libraries C miniports link
//! against, into `target/drivers/` (x64) and `target/drivers/x86/` (see `build_x86.rs`), and
//! reports what each image contains.

use crate::shell::{self, workspace_root};
use std::path::{Path, PathBuf};
use std::process::Command;
use workspace_tests::pe::PeFacts;

pub const WINDOWS_TARGET: &str = "x86_64-pc-windows-msvc";

/// Builds every driver; returns the `.sys` paths.
pub fn drivers() -> Result<Vec<PathBuf>, String> {
    let out = workspace_tests::drivers_dir();
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    shell::step(&format!(
        "building videoprt_rs.sys and sample_miniport.sys ({WINDOWS_TARGET}, rust-lld)"
    ));
    shell::cargo(&[
        "build",
        "--release",
        "--quiet",
        "--target",
        WINDOWS_TARGET,
        "-p",
        "videoprt-rs-driver",
        "-p",
        "sample-miniport",
    ])?;

    let built = target_dir().join(WINDOWS_TARGET).join("release");
    let mut images = Vec::new();
    for name in ["videoprt_rs", "sample_miniport"] {
        let sys = out.join(format!("{name}.sys"));
        copy(&built.join(format!("{name}.dll")), &sys)?;
        for extension in ["pdb", "map"] {
            let from = if extension == "map" {
                built.join("deps")
            } else {
                built.clone()
            };
            copy(
                &from.join(format!("{name}.{extension}")),
                &out.join(format!("{name}.{extension}")),
            )?;
        }
        if name != "videoprt_rs" {
            // A miniport is an executable image, not a DLL (see the function's docs).
            workspace_tests::pe::clear_dll_characteristic(&sys)?;
        }
        images.push(sys);
    }
    // The import libraries come from one import list: the .def's public exports, plus
    // mingw-w64's spelling VideoPortUnLockBuffer bound to the exported VideoPortUnlockBuffer
    // (`name == export`), so a miniport written against mingw's video.h links unmodified.
    let def = std::fs::read_to_string(workspace_root().join("videoprt_rs.def"))
        .map_err(|e| format!("videoprt_rs.def: {e}"))?;
    let import_def = out.join("videoprt_rs.imports.def");
    std::fs::write(&import_def, import_list(&def))
        .map_err(|e| format!("{}: {e}", import_def.display()))?;
    shell::step("making videoprt_rs.lib (llvm-dlltool, MSVC short-import format)");
    shell::run(Command::new("llvm-dlltool").current_dir(&out).args([
        "-m",
        "i386:x86-64",
        "-D",
        "videoprt_rs.sys",
        "-d",
        "videoprt_rs.imports.def",
        "-l",
        "videoprt_rs.lib",
    ]))?;
    // GNU ld mislinks MSVC short-import libraries (it writes an import table the loader never
    // patches), so GNU toolchains get a dlltool-made archive instead.
    shell::step("making libvideoprt_rs.a (x86_64-w64-mingw32-dlltool)");
    // Run in the output directory: dlltool names archive members after the output path.
    shell::run(
        Command::new("x86_64-w64-mingw32-dlltool")
            .current_dir(&out)
            .args([
                "--machine",
                "i386:x86-64",
                "--input-def",
                "videoprt_rs.imports.def",
                "--dllname",
                "videoprt_rs.sys",
                "--output-lib",
                "libvideoprt_rs.a",
            ]),
    )?;
    // The header C miniports include, next to the libraries they link.
    copy(
        &workspace_root().join("c-miniport/include/videoprt_rs.h"),
        &out.join("videoprt_rs.h"),
    )?;

    images.extend(c_miniport(&out)?);
    images.extend(crate::build_x86::drivers(&out.join("x86"))?);

    for sys in &images {
        let facts = PeFacts::read(sys)?;
        println!("{}:\n{facts}", sys.display());
    }
    println!(
        "import libraries: {}, {}",
        out.join("videoprt_rs.lib").display(),
        out.join("libvideoprt_rs.a").display()
    );
    Ok(images)
}

/// The import list of `videoprt_rs.def`: its public exports (not the loader's PRIVATE entry
/// points) and the aliases C miniports may use.
fn import_list(def: &str) -> String {
    let mut list = String::from("LIBRARY videoprt_rs.sys\nEXPORTS\n");
    for name in workspace_tests::pe::def_public_exports(def) {
        list.push_str(&format!("    {name}\n"));
    }
    for (alias, export) in workspace_tests::pe::IMPORT_ALIASES {
        list.push_str(&format!("    {alias} == {export}\n"));
    }
    list
}

/// Compiler flags of the C miniports (c-miniport/*.c) for Windows: freestanding
/// kernel code with no C runtime and no stack probes (nothing may become an import other
/// than videoprt_rs.sys), against mingw-w64's DDK headers through c-miniport/include.
pub(crate) fn c_flags(root: &Path) -> Vec<String> {
    let include = |dir: &str| format!("-I{}", root.join(dir).display());
    [
        "-O2",
        "-ffreestanding",
        "-fno-builtin",
        "-fno-stack-protector",
        "-mno-stack-arg-probe",
        "-Wall",
        "-Wextra",
        "-Werror",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        include("c-miniport/include"),
        include("sample-miniport/include"),
    ])
    .collect()
}

/// The C miniports as kernel images, each linked by GNU ld against `libvideoprt_rs.a`
/// (`*_gnu.sys`) and by lld-link against `videoprt_rs.lib` (`*_lld.sys`): the edu sample
/// (`c-miniport/edu_miniport.c`), the Bochs display sample (`c-miniport/bochs_miniport.c`) and
/// the VBE display sample (`c-miniport/vbe_miniport.c`); and, in `test/`, the deliberately broken variants the tests expect to be reported.
fn c_miniport(out: &Path) -> Result<Vec<PathBuf>, String> {
    let root = workspace_root();
    let flags = c_flags(&root);
    let mut images = Vec::new();
    for (name, what) in [
        ("edu_miniport", "the C edu miniport"),
        ("bochs_miniport", "the C Bochs display miniport"),
        ("vbe_miniport", "the C VBE display miniport"),
    ] {
        let source = root.join("c-miniport").join(format!("{name}.c"));
        shell::step(&format!(
            "{what}: x86_64-w64-mingw32-gcc + GNU ld, libvideoprt_rs.a"
        ));
        let gnu = out.join(format!("c_{name}_gnu.sys"));
        gnu_link_c_miniport(&source, &flags, out, &gnu)?;
        shell::step(&format!(
            "{what}: x86_64-w64-mingw32-gcc -c + lld-link, videoprt_rs.lib"
        ));
        let lld = out.join(format!("c_{name}_lld.sys"));
        lld_link_c_miniport(&source, &flags, &[], out, &lld)?;
        images.extend([gnu, lld]);
    }

    // Deliberately broken variants for the tests, kept apart from what ships.
    let test_dir = out.join("test");
    std::fs::create_dir_all(&test_dir).map_err(|e| format!("{}: {e}", test_dir.display()))?;
    for (name, define, image, what) in [
        (
            "edu_miniport",
            "-DEDU_MISBEHAVE_SKIP_COMPLETE_DMA",
            "c_edu_miniport_skip_complete_dma.sys",
            "the C edu miniport that never calls VideoPortCompleteDma",
        ),
        (
            "bochs_miniport",
            "-DBOCHS_MISBEHAVE_LEAK",
            "c_bochs_miniport_leak.sys",
            "the C Bochs miniport that forgets VideoPortUnmapMemory and VideoPortFreePool",
        ),
    ] {
        shell::step(&format!("test variant: {what}"));
        let source = root.join("c-miniport").join(format!("{name}.c"));
        lld_link_c_miniport(&source, &flags, &[define], out, &test_dir.join(image))?;
    }
    Ok(images)
}

/// Compiles and links a C miniport with mingw's gcc and GNU ld against `libvideoprt_rs.a`
/// from `drivers` into `image`, then does what GNU ld cannot (INIT discardable, checksum).
fn gnu_link_c_miniport(
    source: &Path,
    flags: &[String],
    drivers: &Path,
    image: &Path,
) -> Result<(), String> {
    shell::run(
        Command::new("x86_64-w64-mingw32-gcc")
            .args(flags)
            // An executable image, not -shared: a miniport is no DLL (IMAGE_FILE_DLL clear), as
            // the WDK links drivers; it also leaves out the empty export section.
            .args(["-nostdlib", "-s"])
            .args([
                "-Wl,--subsystem,native",
                "-Wl,--entry,DriverEntry",
                "-Wl,--dynamicbase",
                "-Wl,--nxcompat",
                "-Wl,--image-base,0x140000000",
            ])
            .arg(format!(
                "-Wl,-Map,{}",
                image.with_extension("map").display()
            ))
            .arg("-o")
            .arg(image)
            .arg(source)
            // The GNU-format import library; never videoprt_rs.lib with GNU ld (see README).
            .arg(drivers.join("libvideoprt_rs.a")),
    )?;
    // GNU ld can neither mark INIT discardable nor write the PE checksum.
    workspace_tests::pe::finish_gnu_ld_driver(image)
}

/// Compiles the C miniport with mingw's gcc (`-c`) and links it with lld-link against
/// `videoprt_rs.lib` from `drivers` into `image`.
fn lld_link_c_miniport(
    source: &Path,
    flags: &[String],
    extra_flags: &[&str],
    drivers: &Path,
    image: &Path,
) -> Result<(), String> {
    let object = image.with_extension("obj");
    shell::run(
        Command::new("x86_64-w64-mingw32-gcc")
            .args(flags)
            .args(extra_flags)
            .arg("-c")
            .arg("-o")
            .arg(&object)
            .arg(source),
    )?;
    shell::run(
        Command::new(rust_lld()?)
            .args(["-flavor", "link", "/NOLOGO", "/MACHINE:X64"])
            .args(["/DRIVER", "/SUBSYSTEM:NATIVE", "/ENTRY:DriverEntry"])
            .args(["/NODEFAULTLIB", "/RELEASE", "/NXCOMPAT", "/DYNAMICBASE"])
            // INIT is discardable code (/SECTION replaces all flags).
            .arg("/SECTION:INIT,erd")
            .arg(format!("/MAP:{}", image.with_extension("map").display()))
            .arg(format!("/OUT:{}", image.display()))
            .arg(&object)
            .arg(drivers.join("videoprt_rs.lib")),
    )?;
    std::fs::remove_file(&object).map_err(|e| format!("{}: {e}", object.display()))
}

/// rust-lld of the active toolchain (next to its host target-libdir).
pub(crate) fn rust_lld() -> Result<PathBuf, String> {
    let libdir = shell::output("rustc", &["--print", "target-libdir"])
        .ok_or("rustc --print target-libdir failed")?;
    let lld = Path::new(libdir.trim())
        .parent()
        .map(|p| p.join("bin").join("rust-lld"))
        .ok_or("unexpected target-libdir")?;
    if lld.exists() {
        Ok(lld)
    } else {
        Err(format!(
            "{} not found: install the llvm-tools of the toolchain with `rustup component add llvm-tools` or reinstall rustup's toolchain",
            lld.display()
        ))
    }
}

pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

pub(crate) fn copy(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to)
        .map(drop)
        .map_err(|e| format!("copy {} -> {}: {e}", from.display(), to.display()))
}
