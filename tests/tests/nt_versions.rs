//! The import table of every image against `tests/nt_routines.txt`: nothing newer than NT 5.2
//! (Windows XP x64 / Server 2003 x64) may be imported, because the kernel loader refuses an
//! image with one unresolved import, so a single newer routine keeps the driver off every
//! older Windows. Newer routines are looked up at run time instead. The x64 images and the x86
//! ones (`target/drivers/x86/`) are checked against the same table.

use std::collections::BTreeMap;
use workspace_tests::pe::PeFacts;
use workspace_tests::{drivers_dir, workspace_root};

/// NT 5.2, the oldest x64 kernel.
const OLDEST: (u32, u32, u32) = (5, 2, 0);

struct Routine {
    since: (u32, u32, u32),
    runtime: bool,
}

fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.split('.').map(str::parse::<u32>);
    let major = parts.next()?.ok()?;
    let minor = parts.next()?.ok()?;
    let build = parts.next().transpose().ok()?.unwrap_or(0);
    Some((major, minor, build))
}

/// (module lowercase, routine) -> what the table says.
fn table() -> BTreeMap<(String, String), Routine> {
    let path = workspace_root().join("tests/nt_routines.txt");
    let text = std::fs::read_to_string(&path).expect("tests/nt_routines.txt");
    let mut table = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [module, routine, since, how] = fields[..] else {
            panic!(
                "{}:{}: want `module routine since how`",
                path.display(),
                n + 1
            );
        };
        let since = parse_version(since)
            .unwrap_or_else(|| panic!("{}:{}: bad version {since}", path.display(), n + 1));
        assert!(
            matches!(how, "import" | "runtime"),
            "{}:{}: how is import or runtime",
            path.display(),
            n + 1
        );
        let previous = table.insert(
            (module.to_ascii_lowercase(), routine.to_string()),
            Routine {
                since,
                runtime: how == "runtime",
            },
        );
        assert!(
            previous.is_none(),
            "{}:{}: listed twice",
            path.display(),
            n + 1
        );
    }
    table
}

#[test]
fn no_image_imports_a_kernel_routine_newer_than_nt_5_2() {
    let table = table();
    let mut problems = Vec::new();
    let images = workspace_tests::built_images()
        .into_iter()
        .chain(workspace_tests::built_images_x86());
    for image in images {
        let facts = PeFacts::read(&image).expect("PE image");
        for (module, routines) in &facts.imports {
            let module = module.to_ascii_lowercase();
            if module == "videoprt_rs.sys" {
                continue; // our own exports; pe_image.rs checks those.
            }
            for routine in routines {
                match table.get(&(module.clone(), routine.clone())) {
                    None => problems.push(format!(
                        "{}: imports {module}!{routine}, which tests/nt_routines.txt does not \
                         list: add it with the version that introduced it",
                        image.display()
                    )),
                    Some(r) if r.runtime => problems.push(format!(
                        "{}: imports {module}!{routine}, which must be resolved at run time",
                        image.display()
                    )),
                    Some(r) if r.since > OLDEST => problems.push(format!(
                        "{}: imports {module}!{routine}, new in {}.{}.{}: the loader of older \
                         Windows refuses the image; look it up with MmGetSystemRoutineAddress",
                        image.display(),
                        r.since.0,
                        r.since.1,
                        r.since.2
                    )),
                    Some(_) => {}
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The check has teeth: the routine the port used to import statically is in the table as
/// newer than NT 5.2, and the port names it for its run-time lookup (as UTF-16, the way
/// `MmGetSystemRoutineAddress` takes it).
#[test]
fn exallocatepool2_is_newer_than_nt_5_2_and_looked_up_at_run_time() {
    let table = table();
    let pool2 = &table[&("ntoskrnl.exe".to_string(), "ExAllocatePool2".to_string())];
    assert!(pool2.runtime && pool2.since > OLDEST);
    let image = std::fs::read(drivers_dir().join("videoprt_rs.sys")).expect("videoprt_rs.sys");
    let wide: Vec<u8> = "ExAllocatePool2"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    assert!(
        image.windows(wide.len()).any(|w| w == wide),
        "videoprt_rs.sys does not carry the UTF-16 name ExAllocatePool2 for its run-time lookup"
    );
}

/// The HAL's x86 BIOS emulator (Vista) is newer than NT 5.2: every routine of it is in the
/// table as run-time only, and the port names each for its lookup.
#[test]
fn the_x86_bios_emulator_is_newer_than_nt_5_2_and_looked_up_at_run_time() {
    let table = table();
    let image = std::fs::read(drivers_dir().join("videoprt_rs.sys")).expect("videoprt_rs.sys");
    for name in [
        "x86BiosCall",
        "x86BiosAllocateBuffer",
        "x86BiosFreeBuffer",
        "x86BiosReadMemory",
        "x86BiosWriteMemory",
    ] {
        let routine = &table[&("hal.dll".to_string(), name.to_string())];
        assert!(routine.runtime && routine.since > OLDEST, "{name}");
        let wide: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert!(
            image.windows(wide.len()).any(|w| w == wide),
            "videoprt_rs.sys does not carry the UTF-16 name {name}"
        );
    }
}
