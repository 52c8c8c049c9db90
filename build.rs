//! Link settings of videoprt_rs.sys that depend on this package (the common kernel-mode PE
//! settings live in .cargo/config.toml).

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo::rerun-if-changed=videoprt_rs.def");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("windows") {
        // rustc passes its own /DEF first; lld-link honours the last one.
        println!("cargo::rustc-cdylib-link-arg=/DEF:{dir}/videoprt_rs.def");
    }
}
