//! Compiles the C miniports for the host with the cc crate: VIDEOPRT_RS_HOST selects
//! include/videoprt_host.h (NT types with Windows sizes) instead of the DDK headers, and each
//! entry point is renamed so it cannot clash with other drivers' DriverEntry in a test binary:
//! edu_miniport.c as `CEduDriverEntry`; bochs_miniport.c as `CBochsDriverEntry` and, built
//! with BOCHS_MISBEHAVE_LEAK (the deliberately broken variant the tests expect to be
//! reported), as `CBochsLeakDriverEntry`; vbe_miniport.c as `CVbeDriverEntry`. layout_probe.c exports the host header's
//! ntddvdeo.h layouts for the layout test. Nothing is compiled on a 32-bit host: the host
//! header is the Windows x64 layout.

fn build(name: &str, file: &str, defines: &[(&str, &str)]) {
    let mut cc = cc::Build::new();
    cc.file(file)
        .include("include")
        .include("../sample-miniport/include")
        .define("VIDEOPRT_RS_HOST", None)
        .std("c11")
        .flag_if_supported("-fno-strict-aliasing")
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true);
    for (key, value) in defines {
        cc.define(key, Some(*value));
    }
    cc.compile(name);
}

fn main() {
    println!("cargo::rerun-if-changed=edu_miniport.c");
    println!("cargo::rerun-if-changed=bochs_miniport.c");
    println!("cargo::rerun-if-changed=vbe_miniport.c");
    println!("cargo::rerun-if-changed=layout_probe.c");
    println!("cargo::rerun-if-changed=include");
    println!("cargo::rerun-if-changed=../sample-miniport/include/edu_sample.h");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("windows") {
        // The Windows images come from cargo xtask build (mingw gcc + GNU ld / lld-link).
        return;
    }
    if std::env::var("CARGO_CFG_TARGET_POINTER_WIDTH").as_deref() == Ok("32") {
        // videoprt_host.h is the Windows x64 layout (ms_abi, 64-bit pointers, asserted), so
        // there is no host build of the C sources on a 32-bit host; there the tests run the
        // x86 images (target/drivers/x86/) instead.
        return;
    }
    build(
        "edu_miniport",
        "edu_miniport.c",
        &[("DriverEntry", "CEduDriverEntry")],
    );
    build(
        "bochs_miniport",
        "bochs_miniport.c",
        &[("DriverEntry", "CBochsDriverEntry")],
    );
    build(
        "bochs_miniport_leak",
        "bochs_miniport.c",
        &[
            ("DriverEntry", "CBochsLeakDriverEntry"),
            ("BOCHS_MISBEHAVE_LEAK", "1"),
        ],
    );
    build(
        "vbe_miniport",
        "vbe_miniport.c",
        &[("DriverEntry", "CVbeDriverEntry")],
    );
    build("layout_probe", "layout_probe.c", &[]);
}
