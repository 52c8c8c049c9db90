//! `#[ddk_sys::ntapi]` gives each marker the convention video.h names, per target: the
//! function items below coerce only to the pointer type of that exact ABI (a wrong mapping is
//! a type error), and calls through them pass and return the values.

use ddk_sys::ntapi;

#[ntapi]
extern "ntapi" fn stdcall_sub(a: u32, b: u32) -> u32 {
    a.wrapping_sub(b)
}

#[ntapi]
extern "ntapi-fastcall" fn fastcall_sub(a: u32, b: u32) -> u32 {
    a.wrapping_sub(b)
}

#[ntapi]
extern "ntapi-cdecl" fn cdecl_sub(a: u32, b: u32) -> u32 {
    a.wrapping_sub(b)
}

/// A callback type and a struct field, as ddk-sys declares them.
#[ntapi]
struct Table {
    callback: Option<extern "ntapi" fn(u32, u32) -> u32>,
}

#[test]
#[cfg(target_arch = "x86_64")]
fn every_marker_is_the_windows_x64_convention_on_x86_64() {
    let conventions: [extern "win64" fn(u32, u32) -> u32; 3] =
        [stdcall_sub, fastcall_sub, cdecl_sub];
    for f in conventions {
        assert_eq!(f(10, 3), 7);
    }
    let table = Table {
        callback: Some(stdcall_sub as extern "win64" fn(u32, u32) -> u32),
    };
    assert_eq!(table.callback.map(|f| f(5, 7)), Some(u32::MAX - 1));
}

#[test]
#[cfg(target_arch = "x86")]
fn markers_are_stdcall_fastcall_and_cdecl_on_x86() {
    let stdcall: extern "stdcall" fn(u32, u32) -> u32 = stdcall_sub;
    let fastcall: extern "fastcall" fn(u32, u32) -> u32 = fastcall_sub;
    let cdecl: extern "C" fn(u32, u32) -> u32 = cdecl_sub;
    assert_eq!((stdcall(10, 3), fastcall(10, 3), cdecl(10, 3)), (7, 7, 7));
    let table = Table {
        callback: Some(stdcall_sub as extern "stdcall" fn(u32, u32) -> u32),
    };
    assert_eq!(table.callback.map(|f| f(5, 7)), Some(u32::MAX - 1));
}
