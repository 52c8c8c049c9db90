//! The port's sources included here use loom's atomics: `cfg(loom)` for this crate only.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(loom)");
    println!("cargo::rustc-cfg=loom");
}
