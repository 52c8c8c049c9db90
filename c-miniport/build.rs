//! Compiles edu_miniport.c for the host with the cc crate: VIDEOPRT_RS_HOST selects
//! include/videoprt_host.h (NT types with Windows sizes) instead of the DDK headers, and the
//! entry point is renamed so it cannot clash with other drivers' DriverEntry in a test binary.

fn main() {
    println!("cargo::rerun-if-changed=edu_miniport.c");
    println!("cargo::rerun-if-changed=include");
    println!("cargo::rerun-if-changed=../sample-miniport/include/edu_sample.h");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("windows") {
        // The Windows images come from cargo xtask build (mingw gcc + GNU ld / lld-link).
        return;
    }
    cc::Build::new()
        .file("edu_miniport.c")
        .include("include")
        .include("../sample-miniport/include")
        .define("VIDEOPRT_RS_HOST", None)
        .define("DriverEntry", "CEduDriverEntry")
        .std("c11")
        .flag_if_supported("-fno-strict-aliasing")
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .compile("edu_miniport");
}
