//! The x86 (i686) images and import libraries `cargo xtask build` leaves in
//! `target/drivers/x86/`: what the 32-bit Windows loader requires, the same export names as
//! x64, and imports that bind through both import libraries (stdcall `_Name@N`, FASTCALL
//! `@Name@N` and cdecl `_Name` symbols, all imported by their undecorated names).

use object::pe;
use std::path::{Path, PathBuf};
use std::process::Command;
use workspace_tests::pe::{
    def_exports, def_public_exports, import_library_symbols, map_file_rva, PeFacts,
};
use workspace_tests::{built_images_x86, drivers_dir_x86, workspace_root};

fn port() -> PeFacts {
    built_images_x86();
    PeFacts::read(&drivers_dir_x86().join("videoprt_rs.sys")).unwrap()
}

#[test]
fn every_x86_image_is_a_loadable_i386_kernel_driver() {
    for image in built_images_x86() {
        let facts = PeFacts::read(&image).unwrap();
        let name = image.display();
        assert_eq!(
            facts.machine,
            pe::IMAGE_FILE_MACHINE_I386,
            "{name}: machine"
        );
        assert_eq!(
            facts.subsystem,
            pe::IMAGE_SUBSYSTEM_NATIVE,
            "{name}: subsystem"
        );
        assert_ne!(facts.checksum, 0, "{name}: no checksum");
        assert_eq!(facts.checksum, facts.computed_checksum, "{name}: checksum");
        assert!(
            facts.dll_characteristics & pe::IMAGE_DLLCHARACTERISTICS_NX_COMPAT != 0,
            "{name}: NX_COMPAT not set"
        );
        assert_eq!(
            facts.characteristics & pe::IMAGE_FILE_DLL != 0,
            image.ends_with("videoprt_rs.sys"),
            "{name}: IMAGE_FILE_DLL must be set exactly on the export driver"
        );
        for section in &facts.sections {
            assert!(
                !(section.is_writable() && section.is_executable()),
                "{name}: section {} is writable and executable",
                section.name
            );
        }
        // x86 decorates the stdcall entry point: `_DriverEntry@8` in lld-link's map,
        // `DriverEntry@8` in GNU ld's (which leaves out the leading underscore).
        let entry = map_file_rva(&image, "_DriverEntry@8")
            .or_else(|| map_file_rva(&image, "DriverEntry@8"))
            .unwrap_or_else(|| panic!("{name}: DriverEntry@8 not in the linker map"));
        assert_eq!(u64::from(facts.entry_rva), entry, "{name}: entry point");
        assert_eq!(
            facts.entry_section(&image).as_deref(),
            Some("INIT"),
            "{name}"
        );
    }
}

/// The port imports only from the x86 kernel and HAL, and the IRQL and spin-lock routines
/// from the HAL, as x86 `wdm.h` does (x86 has no CR8); the miniports only from the port.
#[test]
fn x86_imports_come_from_the_x86_kernel_and_hal() {
    let port = port();
    let modules: Vec<&str> = port.imports.keys().map(String::as_str).collect();
    assert_eq!(modules, ["hal.dll", "ntoskrnl.exe"]);
    let hal = &port.imports["hal.dll"];
    for routine in [
        "KeGetCurrentIrql",
        "KfRaiseIrql",
        "KfLowerIrql",
        "KfAcquireSpinLock",
        "KfReleaseSpinLock",
    ] {
        assert!(
            hal.iter().any(|r| r == routine),
            "hal.dll!{routine} not imported: {hal:?}"
        );
    }
    let kernel = &port.imports["ntoskrnl.exe"];
    for x64_only in [
        "KeAcquireSpinLockRaiseToDpc",
        "KeReleaseSpinLock",
        "__C_specific_handler",
    ] {
        assert!(
            !kernel.iter().any(|r| r == x64_only),
            "ntoskrnl.exe!{x64_only} does not exist on x86"
        );
    }
    assert!(kernel.iter().any(|r| r == "_except_handler3"), "{kernel:?}");
    // Imports are bound by undecorated name: no `_Name@N` reaches the import table.
    for routine in kernel.iter().chain(hal) {
        assert!(!routine.contains('@'), "decorated import {routine}");
    }
    for image in built_images_x86()
        .iter()
        .filter(|p| !p.ends_with("videoprt_rs.sys"))
    {
        let facts = PeFacts::read(image).unwrap();
        let modules: Vec<&str> = facts.imports.keys().map(String::as_str).collect();
        assert_eq!(modules, ["videoprt_rs.sys"], "{}", image.display());
    }
}

#[test]
fn x86_videoprt_rs_exports_the_same_names_as_its_def_list() {
    let def = std::fs::read_to_string(workspace_root().join("videoprt_rs.def")).unwrap();
    assert_eq!(
        port().exports,
        def_exports(&def),
        "x86 exports differ from videoprt_rs.def"
    );
}

fn assert_every_import_is_exported(image: &Path, port: &PeFacts) -> Vec<String> {
    let facts = PeFacts::read(image).unwrap();
    let imported = facts
        .imports
        .get("videoprt_rs.sys")
        .cloned()
        .unwrap_or_default();
    assert!(!imported.is_empty(), "{} imports nothing", image.display());
    for name in &imported {
        assert!(
            port.exports.contains(name),
            "{} imports {name}, which x86 videoprt_rs.sys does not export",
            image.display()
        );
    }
    imported
}

/// Every x86 miniport's import resolves to an x86 export; the C edu miniport linked by GNU ld
/// and by lld-link imports the same functions, among them the FASTCALL
/// VideoPortInterlocked* and the stdcall VideoPortStartDma.
#[test]
fn every_x86_miniport_import_resolves_and_both_linkers_agree() {
    let port = port();
    for image in built_images_x86()
        .iter()
        .filter(|p| !p.ends_with("videoprt_rs.sys"))
    {
        assert_every_import_is_exported(image, &port);
    }
    let mut gnu =
        assert_every_import_is_exported(&drivers_dir_x86().join("c_edu_miniport_gnu.sys"), &port);
    let mut lld =
        assert_every_import_is_exported(&drivers_dir_x86().join("c_edu_miniport_lld.sys"), &port);
    gnu.sort();
    lld.sort();
    assert_eq!(gnu, lld);
    for name in [
        "VideoPortInterlockedIncrement",
        "VideoPortInterlockedExchange",
        "VideoPortStartDma",
    ] {
        assert!(
            gnu.iter().any(|n| n == name),
            "{name} not imported: {gnu:?}"
        );
    }
}

/// Both x86 import libraries offer each public export under its decorated symbol (the one the
/// driver's own link map shows), bound to videoprt_rs.sys.
#[test]
fn x86_import_libraries_offer_decorated_symbols_for_every_public_export() {
    built_images_x86();
    let def = std::fs::read_to_string(workspace_root().join("videoprt_rs.def")).unwrap();
    let msvc = import_library_symbols(&drivers_dir_x86().join("videoprt_rs.lib")).unwrap();
    let gnu = import_library_symbols(&drivers_dir_x86().join("libvideoprt_rs.a")).unwrap();
    assert_eq!(
        gnu.get("<dll>").map(String::as_str),
        Some("videoprt_rs.sys")
    );
    // Spot checks from video.h: 8 stdcall arguments, one FASTCALL pointer, cdecl variadic.
    for symbol in [
        "_VideoPortStartDma@32",
        "@VideoPortInterlockedIncrement@4",
        "_VideoPortDebugPrint",
    ] {
        assert_eq!(
            msvc.get(symbol).map(String::as_str),
            Some("videoprt_rs.sys"),
            "videoprt_rs.lib: {symbol}"
        );
        assert!(gnu.contains_key(symbol), "libvideoprt_rs.a: {symbol}");
    }
    for name in def_public_exports(&def) {
        let decorated = |s: &String| {
            s.strip_prefix('_')
                .or_else(|| s.strip_prefix('@'))
                .is_some_and(|r| r == name || r.split_once('@').is_some_and(|(n, _)| n == name))
        };
        assert!(
            msvc.keys().any(decorated),
            "videoprt_rs.lib has no symbol for {name}"
        );
        assert!(
            gnu.keys().any(decorated),
            "libvideoprt_rs.a has no symbol for {name}"
        );
    }
    for private in ["DllInitialize", "DllUnload"] {
        assert!(
            !msvc.keys().chain(gnu.keys()).any(|k| k.contains(private)),
            "{private} offered"
        );
    }
}

fn rust_lld() -> PathBuf {
    let libdir = Command::new("rustc")
        .args(["--print", "target-libdir"])
        .output()
        .expect("rustc");
    Path::new(String::from_utf8_lossy(&libdir.stdout).trim())
        .parent()
        .expect("a toolchain lib dir")
        .join("bin/rust-lld")
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A miniport written against mingw-w64's own i686 headers, compiled once by
/// `i686-w64-mingw32-gcc`, links with GNU ld against libvideoprt_rs.a and, the same object,
/// with lld-link against videoprt_rs.lib; every import of both images is an x86 export. It
/// calls a stdcall routine, the FASTCALL interlocked ones, cdecl VideoPortDebugPrint and
/// mingw's misspelt VideoPortUnLockBuffer.
#[test]
fn a_mingw_i686_miniport_object_links_with_both_x86_import_libraries() {
    let port = port();
    let dir = std::env::temp_dir().join(format!("videoprt-rs-x86-mingw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("mingw_only.c");
    std::fs::write(
        &source,
        "#include <ntdef.h>\n#include <ddk/miniport.h>\n#include <ddk/video.h>\n\
         ULONG NTAPI DriverEntry(PVOID Context1, PVOID Context2)\n\
         {\n    LONG x = 1;\n    VideoPortUnLockBuffer(Context1, Context2);\n\
             VideoPortInterlockedIncrement(&x);\n    VideoPortInterlockedExchange(&x, 3);\n\
             VideoPortDebugPrint(Error, \"%d\\n\", (int)x);\n\
             VideoPortStallExecution(10);\n    return 0;\n}\n",
    )
    .unwrap();
    let flags = ["-O2", "-ffreestanding", "-fno-builtin", "-Wall", "-Werror"];
    let object = dir.join("mingw_only.o");
    run(Command::new("i686-w64-mingw32-gcc")
        .args(flags)
        .arg("-c")
        .arg("-o")
        .arg(&object)
        .arg(&source));
    let gnu = dir.join("gnu.sys");
    run(Command::new("i686-w64-mingw32-gcc")
        .args([
            "-nostdlib",
            "-Wl,--subsystem,native",
            "-Wl,--entry,_DriverEntry@8",
            "-o",
        ])
        .arg(&gnu)
        .arg(&object)
        .arg(drivers_dir_x86().join("libvideoprt_rs.a")));
    let lld = dir.join("lld.sys");
    run(Command::new(rust_lld())
        .args([
            "-flavor",
            "link",
            "/NOLOGO",
            "/MACHINE:X86",
            "/DRIVER",
            "/SAFESEH:NO",
        ])
        .args(["/SUBSYSTEM:NATIVE", "/ENTRY:DriverEntry", "/NODEFAULTLIB"])
        .arg(format!("/OUT:{}", lld.display()))
        .arg(&object)
        .arg(drivers_dir_x86().join("videoprt_rs.lib")));
    let mut expected = vec![
        "VideoPortDebugPrint",
        "VideoPortInterlockedExchange",
        "VideoPortInterlockedIncrement",
        "VideoPortStallExecution",
        "VideoPortUnlockBuffer",
    ];
    expected.sort_unstable();
    for image in [&gnu, &lld] {
        let mut imports = assert_every_import_is_exported(image, &port);
        imports.sort();
        assert_eq!(imports, expected, "{}", image.display());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The undecorated name of an x86 symbol: `_Name@N`, `@Name@N` or `_Name`.
fn undecorated(symbol: &str) -> &str {
    let name = symbol
        .strip_prefix('_')
        .or_else(|| symbol.strip_prefix('@'))
        .unwrap_or(symbol);
    name.split_once('@').map_or(name, |(n, _)| n)
}

/// The argument bytes of every export agree with video.h as mingw-w64 compiled it: each
/// decorated symbol of both x86 import libraries is spelled exactly as in mingw-w64's own i686
/// `libvideoprt.a` (`_VideoPortGetDeviceBase@20`: a PHYSICAL_ADDRESS by value is 8 bytes),
/// for every function that library names.
#[test]
fn x86_decorations_match_mingw_w64s_i686_libvideoprt() {
    built_images_x86();
    let out = Command::new("i686-w64-mingw32-gcc")
        .arg("-print-file-name=libvideoprt.a")
        .output()
        .expect("i686-w64-mingw32-gcc");
    let mingw = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let reference = import_library_symbols(&mingw)
        .unwrap_or_else(|e| panic!("mingw-w64's i686 libvideoprt.a: {e}"));
    let reference: std::collections::BTreeMap<&str, &str> = reference
        .keys()
        .filter(|s| s.contains("VideoPort"))
        .map(|s| (undecorated(s), s.as_str()))
        .collect();
    assert!(
        reference.len() > 50,
        "only {} functions in {}",
        reference.len(),
        mingw.display()
    );
    for lib in ["videoprt_rs.lib", "libvideoprt_rs.a"] {
        let ours = import_library_symbols(&drivers_dir_x86().join(lib)).unwrap();
        let mut compared = 0;
        for symbol in ours.keys().filter(|s| s.contains("VideoPort")) {
            if let Some(theirs) = reference.get(undecorated(symbol)) {
                assert_eq!(
                    symbol, theirs,
                    "{lib}: {symbol} against mingw-w64's {theirs}"
                );
                compared += 1;
            }
        }
        assert!(compared > 50, "{lib}: only {compared} symbols compared");
    }
}
