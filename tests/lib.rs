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
