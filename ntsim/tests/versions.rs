//! The Windows a machine plays: `RtlGetVersion`, `MmGetSystemRoutineAddress` and the export
//! table, the pool types and mapping flags each version knows.

mod common;

use common::*;
use ddk_sys::*;
use ntsim::verifier::{bugcheck, ntsim_code};
use ntsim::{kernel_exports, OsVersion};

const TAG: u32 = u32::from_le_bytes(*b"Vers");

fn routine(name: &str) -> PVOID {
    let mut wide: Vec<u16> = name.encode_utf16().collect();
    let mut s = UNICODE_STRING {
        Length: (wide.len() * 2) as u16,
        MaximumLength: (wide.len() * 2) as u16,
        Buffer: wide.as_mut_ptr(),
    };
    // SAFETY: a valid counted string.
    unsafe { MmGetSystemRoutineAddress(&mut s) }
}

#[test]
fn rtlgetversion_and_the_run_time_lookup_follow_the_machines_version() {
    for (os, has_pool2) in [
        (OsVersion::WINDOWS_SERVER_2003_X64, false),
        (OsVersion::WINDOWS_7, false),
        (OsVersion::WINDOWS_10_2004, true),
    ] {
        let m = machine_with(|c| c.os = os);
        let _g = m.enter();
        let mut info = RTL_OSVERSIONINFOW::default();
        // SAFETY: a writable structure with its size set.
        assert_eq!(unsafe { RtlGetVersion(&mut info) }, STATUS_SUCCESS);
        assert_eq!(
            (info.dwMajorVersion, info.dwMinorVersion, info.dwBuildNumber),
            (os.major, os.minor, os.build)
        );
        assert_eq!(info.dwPlatformId, VER_PLATFORM_WIN32_NT);
        assert_eq!(!routine("ExAllocatePool2").is_null(), has_pool2, "{os:?}");
        assert!(!routine("ExAllocatePoolWithTag").is_null());
        assert!(
            !routine("KeStallExecutionProcessor").is_null(),
            "the HAL too"
        );
        assert!(routine("NoSuchRoutine").is_null());
        m.assert_clean();
    }
}

#[test]
fn a_wrong_size_and_a_raised_irql_are_reported() {
    let m = machine_with(|_| {});
    let _g = m.enter();
    let mut info = RTL_OSVERSIONINFOW {
        dwOSVersionInfoSize: 100,
        ..Default::default()
    };
    // SAFETY: a writable structure (with a wrong size field, on purpose).
    let status = unsafe { RtlGetVersion(&mut info) };
    assert_eq!(status, STATUS_INVALID_PARAMETER);
    at_dispatch(|| assert!(routine("RtlGetVersion").is_null()));
    let codes: Vec<_> = m
        .take_violations()
        .iter()
        .map(|v| (v.bugcheck, v.code))
        .collect();
    assert_eq!(
        codes,
        [
            (bugcheck::NTSIM_CHECK, ntsim_code::NEWER_THAN_KERNEL),
            (bugcheck::IRQL_NOT_LESS_OR_EQUAL, u32::from(DISPATCH_LEVEL)),
        ]
    );
    m.assert_clean();
}

#[test]
fn nonpagedpoolnx_exists_from_windows_8_only() {
    for (os, known) in [(OsVersion::WINDOWS_7, false), (OsVersion::WINDOWS_8, true)] {
        let m = machine_with(|c| c.os = os);
        let _g = m.enter();
        // SAFETY: a plain allocation, freed below.
        let p = unsafe { ExAllocatePoolWithTag(POOL_TYPE::NonPagedPoolNx, 64, TAG) };
        assert_eq!(!p.is_null(), known, "{os:?}");
        if !p.is_null() {
            // SAFETY: allocated above with this tag.
            unsafe { ExFreePoolWithTag(p, TAG) };
        }
        let reported = m
            .take_violations()
            .iter()
            .any(|v| v.code == ntsim_code::NEWER_THAN_KERNEL);
        assert_eq!(reported, !known, "{os:?}");
        m.assert_clean();
    }
}

/// Every kernel routine videoprt-rs's images may use (tests/nt_routines.txt) is one ntsim can
/// bind, introduced in the same Windows version (but the three only videoprt_rs.sys's own
/// image imports).
#[test]
fn the_export_table_agrees_with_the_projects_routine_table() {
    // Built in (not read at run time), so the test also runs under Miri's isolation.
    let text = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/nt_routines.txt"
    ));
    let mut checked = 0;
    for line in text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (module, name, since) = (f[0], f[1], f[2]);
        if matches!(name, "__C_specific_handler" | "DbgPrintEx" | "vDbgPrintEx") {
            // Only videoprt_rs.sys's own PE image imports these (its SEH handler and the
            // debugger output behind VideoPortDebugPrint); ntsim does not load that image, so
            // it does not bind them.
            continue;
        }
        if matches!(
            name,
            "KeGetCurrentIrql"
                | "KfRaiseIrql"
                | "KfLowerIrql"
                | "KfAcquireSpinLock"
                | "KfReleaseSpinLock"
                | "_except_handler3"
                | "MmUserProbeAddress"
        ) {
            // Only the x86 images import these (what x86 wdm.h's macros expand to); ntsim
            // binds x64 images only.
            continue;
        }
        let v: Vec<u32> = since.split('.').map(|x| x.parse().unwrap()).collect();
        // Listed as major.minor (any build of it) or major.minor.build.
        let from = OsVersion::new(v[0], v[1], v.get(2).copied().unwrap_or(u32::MAX));
        assert!(
            kernel_exports::lookup(module, name, from).is_some(),
            "ntsim does not export {module}!{name} in {since}"
        );
        let before = match v.get(2) {
            Some(&build) => Some(OsVersion::new(v[0], v[1], build - 1)),
            None if v[1] > 0 => Some(OsVersion::new(v[0], v[1] - 1, u32::MAX)),
            None => None, // 5.0: nothing older exists
        };
        if let Some(before) = before {
            assert!(
                kernel_exports::lookup(module, name, before).is_none(),
                "ntsim exports {module}!{name} before {since}"
            );
        }
        checked += 1;
    }
    assert!(checked > 40, "only {checked} routines checked");
}
