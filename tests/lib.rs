//! Shared helpers of the workspace tests, also used by `cargo xtask` to report what it built.

pub mod pe;
pub mod wine;

use std::path::PathBuf;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives inside the workspace")
        .to_path_buf()
}

/// Where `cargo xtask build` leaves the drivers and import libraries.
pub fn drivers_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
        .join("drivers")
}

/// Where `cargo xtask build` leaves the x86 (i686) drivers and import libraries.
pub fn drivers_dir_x86() -> PathBuf {
    drivers_dir().join("x86")
}

/// The x86 kernel images in `drivers_dir_x86()`; fails with the fix when the build has not run.
pub fn built_images_x86() -> Vec<PathBuf> {
    let dir = drivers_dir_x86();
    let mut images: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "sys"))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        images.iter().any(|p| p.ends_with("videoprt_rs.sys")),
        "no videoprt_rs.sys in {}: run `cargo xtask build` (or `cargo xtask test`) first",
        dir.display()
    );
    images.sort();
    images
}

/// The kernel images in `drivers_dir()` (not its `test/` variants); fails with the fix when the
/// build has not run.
pub fn built_images() -> Vec<PathBuf> {
    let dir = drivers_dir();
    let images: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "sys"))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        images.iter().any(|p| p.ends_with("videoprt_rs.sys")),
        "no videoprt_rs.sys in {}: run `cargo xtask build` (or `cargo xtask test`) first",
        dir.display()
    );
    images
}
