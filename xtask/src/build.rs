//! Builds the Windows kernel images with rust-lld and the import libraries C miniports link
//! against, into `target/drivers/`, and reports what each image contains.

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
        images.push(sys);
    }
    // lld-link writes the MSVC-format import library during the link (/IMPLIB); the .def's
    // LIBRARY line makes it name videoprt_rs.sys.
    copy(
        &built.join("videoprt_rs.dll.lib"),
        &out.join("videoprt_rs.lib"),
    )?;
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
                &workspace_root().join("videoprt_rs.def").to_string_lossy(),
                "--dllname",
                "videoprt_rs.sys",
                "--output-lib",
                "libvideoprt_rs.a",
            ]),
    )?;

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

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to)
        .map(drop)
        .map_err(|e| format!("copy {} -> {}: {e}", from.display(), to.display()))
}
