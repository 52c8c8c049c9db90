//! include/videoprt_rs.h against mingw-w64's ddk/video.h: the header redeclares every export of
//! videoprt_rs.sys after video.h, so a prototype that disagrees with the DDK's does not compile.
//! The list must be exactly videoprt_rs.def's public exports, and a deliberately wrong
//! prototype must be rejected (the check has teeth).
//!
//! 64-bit hosts only: it checks the x64 host header and mingw-w64 x86_64 prototypes.
#![cfg(target_pointer_width = "64")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use workspace_tests::pe::def_public_exports;
use workspace_tests::workspace_root;

const GCC: &str = "x86_64-w64-mingw32-gcc";

fn include_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("include")
}

fn header() -> String {
    std::fs::read_to_string(include_dir().join("videoprt_rs.h")).expect("videoprt_rs.h")
}

/// The functions the header declares: `VPAPI <type> <convention> <name>(` lines.
fn declared(header: &str) -> Vec<String> {
    let mut names: Vec<String> = header
        .lines()
        .filter(|l| l.starts_with("VPAPI "))
        .filter_map(|l| l.split('(').next()?.split_whitespace().last())
        .map(str::to_string)
        .collect();
    names.sort();
    names
}

/// `gcc -fsyntax-only` of a file that includes `videoprt_rs.h` from `include`.
fn syntax_check(include: &Path) -> Output {
    let dir = std::env::temp_dir().join(format!("videoprt-rs-prototypes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join(format!(
        "check-{}.c",
        include.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&source, "#include \"videoprt_rs.h\"\n").unwrap();
    let output = Command::new(GCC)
        .env("LC_ALL", "C")
        .args(["-fsyntax-only", "-Wall", "-Werror", "-I"])
        .arg(include)
        .arg(&source)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{GCC}: {e}. Install mingw-w64 with: \
                 apt-get install -y --no-install-recommends mingw-w64 (or run cargo xtask setup)"
            )
        });
    let _ = std::fs::remove_file(&source);
    output
}

#[test]
fn the_header_declares_exactly_the_public_exports_of_the_def_file() {
    let def = std::fs::read_to_string(workspace_root().join("videoprt_rs.def")).unwrap();
    assert_eq!(declared(&header()), def_public_exports(&def));
}

#[test]
fn c_prototypes_agree_with_ddk_video_h() {
    let output = syntax_check(&include_dir());
    assert!(
        output.status.success(),
        "videoprt_rs.h conflicts with mingw-w64's ddk/video.h:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_wrong_prototype_is_rejected() {
    let right = "    ULONG Offset,\n    PULONG pLength,";
    let header = header();
    assert!(header.contains(right), "VideoPortStartDma's Offset/pLength");
    let dir = std::env::temp_dir().join(format!("videoprt-rs-wrong-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("videoprt_rs.h"),
        header.replace(right, "    ULONGLONG Offset,\n    PULONG pLength,"),
    )
    .unwrap();
    let output = syntax_check(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "gcc accepted a wrong prototype");
    assert!(
        stderr.contains("conflicting types for 'VideoPortStartDma'"),
        "{stderr}"
    );
}
