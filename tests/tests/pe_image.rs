//! Checks every kernel image and import library that `cargo xtask build` leaves in
//! `target/drivers/`: what the Windows loader requires and what the export list promises.

use object::pe;
use std::path::Path;
use workspace_tests::pe::{
    def_exports, def_public_exports, import_library_symbols, map_file_rva, PeFacts,
};
use workspace_tests::{built_images, drivers_dir, workspace_root};

/// DLLs an image may import from: the export driver binds to the kernel and HAL only; a
/// miniport binds to the port driver only.
fn allowed_imports(image: &Path) -> &'static [&'static str] {
    if image.ends_with("videoprt_rs.sys") {
        &["ntoskrnl.exe", "hal.dll"]
    } else {
        &["videoprt_rs.sys"]
    }
}

#[test]
fn every_image_is_a_loadable_amd64_kernel_driver() {
    for image in built_images() {
        let facts = PeFacts::read(&image).unwrap();
        let name = image.display();
        assert_eq!(
            facts.machine,
            pe::IMAGE_FILE_MACHINE_AMD64,
            "{name}: machine"
        );
        assert_eq!(
            facts.subsystem,
            pe::IMAGE_SUBSYSTEM_NATIVE,
            "{name}: subsystem"
        );
        assert_ne!(
            facts.checksum, 0,
            "{name}: the loader checks a driver's PE checksum"
        );
        assert_eq!(
            facts.checksum, facts.computed_checksum,
            "{name}: stored checksum does not match the file"
        );
        assert!(
            facts.dll_characteristics & pe::IMAGE_DLLCHARACTERISTICS_NX_COMPAT != 0,
            "{name}: NX_COMPAT not set"
        );
        // Export drivers are DLLs (a .def with LIBRARY, as the WDK builds them); a miniport,
        // started as a service through DriverEntry, is an executable image.
        let export_driver = image.ends_with("videoprt_rs.sys");
        assert_eq!(
            facts.characteristics & pe::IMAGE_FILE_DLL != 0,
            export_driver,
            "{name}: IMAGE_FILE_DLL must be set exactly on the export driver"
        );
        for section in &facts.sections {
            assert!(
                !(section.is_writable() && section.is_executable()),
                "{name}: section {} is both writable and executable (HVCI refuses such images)",
                section.name
            );
        }
    }
}

#[test]
fn entry_point_is_driver_entry_in_discardable_init() {
    for image in built_images() {
        let facts = PeFacts::read(&image).unwrap();
        let name = image.display();
        let driver_entry = map_file_rva(&image, "DriverEntry")
            .unwrap_or_else(|| panic!("{name}: DriverEntry not found in the linker map"));
        assert_eq!(
            u64::from(facts.entry_rva),
            driver_entry,
            "{name}: entry point is not DriverEntry"
        );
        assert_eq!(
            facts.entry_section(&image).as_deref(),
            Some("INIT"),
            "{name}: DriverEntry outside INIT"
        );
        let init = facts
            .sections
            .iter()
            .find(|s| s.name == "INIT")
            .expect("INIT section");
        assert!(
            init.is_discardable() && init.is_executable(),
            "{name}: INIT must be discardable code"
        );
        assert!(
            init.characteristics & pe::IMAGE_SCN_MEM_READ != 0,
            "{name}: INIT must be readable"
        );
    }
}

#[test]
fn imports_come_only_from_the_allowed_modules() {
    for image in built_images() {
        let facts = PeFacts::read(&image).unwrap();
        let allowed = allowed_imports(&image);
        for dll in facts.imports.keys() {
            assert!(
                allowed.iter().any(|a| a.eq_ignore_ascii_case(dll)),
                "{}: imports from {dll}; only {allowed:?} may be imported",
                image.display()
            );
        }
    }
}

#[test]
fn every_function_a_miniport_imports_is_exported_by_videoprt_rs() {
    let port = PeFacts::read(&drivers_dir().join("videoprt_rs.sys")).unwrap();
    for image in built_images()
        .iter()
        .filter(|p| !p.ends_with("videoprt_rs.sys"))
    {
        let facts = PeFacts::read(image).unwrap();
        let imported = facts
            .imports
            .get("videoprt_rs.sys")
            .cloned()
            .unwrap_or_default();
        assert!(
            !imported.is_empty(),
            "{} imports nothing from videoprt_rs.sys",
            image.display()
        );
        for name in imported {
            assert!(
                port.exports.contains(&name),
                "{} imports {name}, which videoprt_rs.sys does not export",
                image.display()
            );
        }
    }
}

#[test]
fn videoprt_rs_exports_exactly_its_def_list() {
    let def = std::fs::read_to_string(workspace_root().join("videoprt_rs.def")).unwrap();
    let image = drivers_dir().join("videoprt_rs.sys");
    built_images();
    let facts = PeFacts::read(&image).unwrap();
    assert_eq!(
        facts.exports,
        def_exports(&def),
        "exports of videoprt_rs.sys differ from videoprt_rs.def"
    );
    for helper in ["_fltused", "__CxxFrameHandler3", "__chkstk", "DriverEntry"] {
        assert!(
            !facts.exports.iter().any(|e| e == helper),
            "{helper} leaked into the export table"
        );
    }
}

#[test]
fn import_libraries_bind_every_public_export_to_videoprt_rs_sys() {
    built_images();
    let def = std::fs::read_to_string(workspace_root().join("videoprt_rs.def")).unwrap();
    let public = def_public_exports(&def);

    let msvc = import_library_symbols(&drivers_dir().join("videoprt_rs.lib")).unwrap();
    for name in &public {
        assert_eq!(
            msvc.get(name).map(String::as_str),
            Some("videoprt_rs.sys"),
            "videoprt_rs.lib: {name} in {msvc:?}"
        );
    }
    for private in ["DllInitialize", "DllUnload"] {
        assert!(
            !msvc.contains_key(private),
            "videoprt_rs.lib offers PRIVATE export {private}"
        );
    }

    let gnu = import_library_symbols(&drivers_dir().join("libvideoprt_rs.a")).unwrap();
    assert_eq!(
        gnu.get("<dll>").map(String::as_str),
        Some("videoprt_rs.sys"),
        "libvideoprt_rs.a: DLL name"
    );
    for name in &public {
        assert!(
            gnu.contains_key(name),
            "libvideoprt_rs.a has no __imp_{name}"
        );
    }
}

/// The C edu miniport linked two ways: GNU ld + libvideoprt_rs.a and lld-link +
/// videoprt_rs.lib. Both import tables must be real (the loader patches what the lookup table
/// names: object parses the names through it) and name the same functions.
#[test]
fn c_miniport_images_from_both_linkers_import_the_same_functions() {
    built_images();
    let read = |name: &str| {
        let path = drivers_dir().join(name);
        PeFacts::read(&path).unwrap_or_else(|e| panic!("{e}: run `cargo xtask build`"))
    };
    let gnu = read("c_edu_miniport_gnu.sys");
    let lld = read("c_edu_miniport_lld.sys");
    let names = |facts: &PeFacts| facts.imports.get("videoprt_rs.sys").cloned();
    let mut expected = vec![
        "VideoPortAllocateCommonBuffer",
        "VideoPortCompleteDma",
        "VideoPortGetAccessRanges",
        "VideoPortGetDeviceBase",
        "VideoPortGetDmaAdapter",
        "VideoPortInitialize",
        "VideoPortInterlockedExchange",
        "VideoPortInterlockedIncrement",
        "VideoPortLockBuffer",
        "VideoPortMoveMemory",
        "VideoPortQueueDpc",
        "VideoPortReadRegisterUlong",
        "VideoPortStallExecution",
        "VideoPortStartDma",
        "VideoPortUnlockBuffer",
        "VideoPortWriteRegisterUlong",
        "VideoPortZeroMemory",
    ];
    expected.sort_unstable();
    for facts in [&gnu, &lld] {
        let mut got = names(facts).expect("imports from videoprt_rs.sys");
        got.sort();
        assert_eq!(got, expected);
        assert_eq!(facts.imports.len(), 1, "{:?}", facts.imports.keys());
        assert!(facts.exports.is_empty(), "exports {:?}", facts.exports);
    }
}

/// The C Bochs display miniport linked both ways: each imports only from videoprt_rs.sys, the
/// same functions, among them VideoPortMapMemory/UnmapMemory and the pool and registry calls.
#[test]
fn c_display_miniport_images_from_both_linkers_import_the_same_functions() {
    built_images();
    let read = |name: &str| {
        let path = drivers_dir().join(name);
        PeFacts::read(&path).unwrap_or_else(|e| panic!("{e}: run `cargo xtask build`"))
    };
    let mut expected = vec![
        "VideoPortAllocatePool",
        "VideoPortDebugPrint",
        "VideoPortFreePool",
        "VideoPortGetAccessRanges",
        "VideoPortGetDeviceBase",
        "VideoPortGetRomImage",
        "VideoPortInitialize",
        "VideoPortMapMemory",
        "VideoPortMoveMemory",
        "VideoPortReadRegisterUchar",
        "VideoPortReadRegisterUshort",
        "VideoPortSetRegistryParameters",
        "VideoPortUnmapMemory",
        "VideoPortWriteRegisterUchar",
        "VideoPortWriteRegisterUshort",
        "VideoPortZeroMemory",
    ];
    expected.sort_unstable();
    for name in ["c_bochs_miniport_gnu.sys", "c_bochs_miniport_lld.sys"] {
        let facts = read(name);
        let mut got = facts
            .imports
            .get("videoprt_rs.sys")
            .cloned()
            .expect("imports from videoprt_rs.sys");
        got.sort();
        assert_eq!(got, expected, "{name}");
        assert_eq!(facts.imports.len(), 1, "{name}: {:?}", facts.imports.keys());
        assert!(
            facts.exports.is_empty(),
            "{name}: exports {:?}",
            facts.exports
        );
    }
}

/// The C VBE display miniport linked both ways: each imports only from videoprt_rs.sys, and
/// reaches the hardware only through INT 10h (VideoPortQueryServices, VideoPortInt10): no
/// register or device-base routine.
#[test]
fn c_vbe_miniport_images_from_both_linkers_import_the_int10_functions() {
    built_images();
    let mut expected = vec![
        "VideoPortInitialize",
        "VideoPortInt10",
        "VideoPortMapMemory",
        "VideoPortMoveMemory",
        "VideoPortQueryServices",
        "VideoPortSetRegistryParameters",
        "VideoPortUnmapMemory",
        "VideoPortZeroMemory",
    ];
    expected.sort_unstable();
    for name in ["c_vbe_miniport_gnu.sys", "c_vbe_miniport_lld.sys"] {
        let path = drivers_dir().join(name);
        let facts = PeFacts::read(&path).unwrap_or_else(|e| panic!("{e}: run `cargo xtask build`"));
        let mut got = facts
            .imports
            .get("videoprt_rs.sys")
            .cloned()
            .expect("imports from videoprt_rs.sys");
        got.sort();
        assert_eq!(got, expected, "{name}");
        assert_eq!(facts.imports.len(), 1, "{name}: {:?}", facts.imports.keys());
    }
}

/// A miniport written against mingw-w64's own video.h (which spells the unlock routine
/// `VideoPortUnLockBuffer`) links unmodified with either import library, and the image imports
/// the name videoprt_rs.sys exports.
#[test]
fn a_miniport_written_against_mingw_headers_alone_links_with_both_import_libraries() {
    built_images();
    let dir = std::env::temp_dir().join(format!("videoprt-rs-mingw-only-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("mingw_only.c");
    std::fs::write(
        &source,
        "#include <ntdef.h>\n#include <ddk/miniport.h>\n#include <ddk/video.h>\n\
         ULONG NTAPI DriverEntry(PVOID Context1, PVOID Context2)\n\
         {\n    VideoPortUnLockBuffer(Context1, Context2);\n    return 0;\n}\n",
    )
    .unwrap();
    let run = |cmd: &mut std::process::Command| {
        let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        assert!(
            out.status.success(),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let flags = ["-O2", "-ffreestanding", "-fno-builtin", "-Wall", "-Werror"];

    // GNU ld + libvideoprt_rs.a.
    let gnu = dir.join("gnu.sys");
    run(std::process::Command::new("x86_64-w64-mingw32-gcc")
        .args(flags)
        .args([
            "-nostdlib",
            "-Wl,--subsystem,native",
            "-Wl,--entry,DriverEntry",
            "-o",
        ])
        .arg(&gnu)
        .arg(&source)
        .arg(drivers_dir().join("libvideoprt_rs.a")));

    // lld-link + videoprt_rs.lib.
    let object = dir.join("mingw_only.obj");
    run(std::process::Command::new("x86_64-w64-mingw32-gcc")
        .args(flags)
        .arg("-c")
        .arg("-o")
        .arg(&object)
        .arg(&source));
    let libdir = std::process::Command::new("rustc")
        .args(["--print", "target-libdir"])
        .output()
        .expect("rustc");
    let lld = Path::new(String::from_utf8_lossy(&libdir.stdout).trim())
        .parent()
        .expect("a toolchain lib dir")
        .join("bin/rust-lld");
    let lld_image = dir.join("lld.sys");
    run(std::process::Command::new(lld)
        .args(["-flavor", "link", "/NOLOGO", "/MACHINE:X64", "/DRIVER"])
        .args(["/SUBSYSTEM:NATIVE", "/ENTRY:DriverEntry", "/NODEFAULTLIB"])
        .arg(format!("/OUT:{}", lld_image.display()))
        .arg(&object)
        .arg(drivers_dir().join("videoprt_rs.lib")));

    for image in [&gnu, &lld_image] {
        let facts = PeFacts::read(image).unwrap();
        let imports = facts
            .imports
            .get("videoprt_rs.sys")
            .cloned()
            .unwrap_or_default();
        assert!(
            !imports.is_empty() && imports.iter().all(|n| n == "VideoPortUnlockBuffer"),
            "{}: imports {:?}",
            image.display(),
            facts.imports
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
