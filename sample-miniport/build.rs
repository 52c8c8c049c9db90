//! Link settings of sample_miniport.sys (the common kernel-mode settings are in
//! .cargo/config.toml): an empty export list, so DriverEntry is the entry point, not an export.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo::rerun-if-changed=sample_miniport.def");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("windows") {
        println!("cargo::rustc-cdylib-link-arg=/DEF:{dir}/sample_miniport.def");
    }
}
