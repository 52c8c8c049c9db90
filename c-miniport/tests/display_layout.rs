//! The ntddvdeo.h structures and IOCTL codes three ways: as the host build lays them out
//! (`include/videoprt_host.h`, read back from `layout_probe.c`), as the Rust client declares
//! them (`sample_miniport::display`), and as mingw-w64's own `ntddvdeo.h` defines them for
//! Windows x64. The last comparison compiles every host number as a C11 `_Static_assert`
//! against mingw-w64's header with `x86_64-w64-mingw32-gcc -fsyntax-only`, so it checks the
//! real Windows layout (LLP64, 8-byte pointers) rather than numbers written down by hand;
//! ddk-sys does not declare these display structures, so mingw's header is the reference.
//! A planted wrong number must fail the compile (the check has teeth).
//!
//! 64-bit hosts only: it checks videoprt_host.h, the Windows x64 layout.
#![cfg(target_pointer_width = "64")]

use c_miniport::{host_video_constants, host_video_layouts, Layout};
use sample_miniport::display::*;
use std::fmt::Write as _;
use std::mem::{offset_of, size_of};
use std::path::PathBuf;
use std::process::Command;

const GCC: &str = "x86_64-w64-mingw32-gcc";

fn row(type_name: &str, member: &str, offset: usize, size: usize) -> Layout {
    Layout {
        type_name: type_name.into(),
        member: member.into(),
        offset,
        size,
    }
}

/// The Rust client's declarations, in layout_probe.c's order.
fn rust_layouts() -> Vec<Layout> {
    macro_rules! field {
        ($c:literal, $t:ty, $member:literal, $field:ident, $size:expr) => {
            row($c, $member, offset_of!($t, $field), $size)
        };
    }
    type M = VideoModeInformation;
    vec![
        row("VIDEO_MODE_INFORMATION", "", 0, size_of::<M>()),
        field!("VIDEO_MODE_INFORMATION", M, "Length", length, 4),
        field!("VIDEO_MODE_INFORMATION", M, "ModeIndex", mode_index, 4),
        field!(
            "VIDEO_MODE_INFORMATION",
            M,
            "VisScreenWidth",
            vis_screen_width,
            4
        ),
        field!(
            "VIDEO_MODE_INFORMATION",
            M,
            "VisScreenHeight",
            vis_screen_height,
            4
        ),
        field!(
            "VIDEO_MODE_INFORMATION",
            M,
            "ScreenStride",
            screen_stride,
            4
        ),
        field!(
            "VIDEO_MODE_INFORMATION",
            M,
            "NumberOfPlanes",
            number_of_planes,
            4
        ),
        field!(
            "VIDEO_MODE_INFORMATION",
            M,
            "BitsPerPlane",
            bits_per_plane,
            4
        ),
        field!("VIDEO_MODE_INFORMATION", M, "Frequency", frequency, 4),
        field!("VIDEO_MODE_INFORMATION", M, "XMillimeter", x_millimeter, 4),
        field!("VIDEO_MODE_INFORMATION", M, "YMillimeter", y_millimeter, 4),
        field!(
            "VIDEO_MODE_INFORMATION",
            M,
            "NumberRedBits",
            number_red_bits,
            4
        ),
        field!(
            "VIDEO_MODE_INFORMATION",
            M,
            "NumberGreenBits",
            number_green_bits,
            4
        ),
        field!(
            "VIDEO_MODE_INFORMATION",
            M,
            "NumberBlueBits",
            number_blue_bits,
            4
        ),
        field!("VIDEO_MODE_INFORMATION", M, "RedMask", red_mask, 4),
        field!("VIDEO_MODE_INFORMATION", M, "GreenMask", green_mask, 4),
        field!("VIDEO_MODE_INFORMATION", M, "BlueMask", blue_mask, 4),
        field!(
            "VIDEO_MODE_INFORMATION",
            M,
            "AttributeFlags",
            attribute_flags,
            4
        ),
        field!(
            "VIDEO_MODE_INFORMATION",
            M,
            "VideoMemoryBitmapWidth",
            video_memory_bitmap_width,
            4
        ),
        field!(
            "VIDEO_MODE_INFORMATION",
            M,
            "VideoMemoryBitmapHeight",
            video_memory_bitmap_height,
            4
        ),
        field!(
            "VIDEO_MODE_INFORMATION",
            M,
            "DriverSpecificAttributeFlags",
            driver_specific_attribute_flags,
            4
        ),
        row("VIDEO_NUM_MODES", "", 0, size_of::<VideoNumModes>()),
        field!("VIDEO_NUM_MODES", VideoNumModes, "NumModes", num_modes, 4),
        field!(
            "VIDEO_NUM_MODES",
            VideoNumModes,
            "ModeInformationLength",
            mode_information_length,
            4
        ),
        row("VIDEO_MODE", "", 0, size_of::<VideoMode>()),
        field!("VIDEO_MODE", VideoMode, "RequestedMode", requested_mode, 4),
        row("VIDEO_MEMORY", "", 0, size_of::<VideoMemory>()),
        field!(
            "VIDEO_MEMORY",
            VideoMemory,
            "RequestedVirtualAddress",
            requested_virtual_address,
            8
        ),
        row(
            "VIDEO_MEMORY_INFORMATION",
            "",
            0,
            size_of::<VideoMemoryInformation>(),
        ),
        field!(
            "VIDEO_MEMORY_INFORMATION",
            VideoMemoryInformation,
            "VideoRamBase",
            video_ram_base,
            8
        ),
        field!(
            "VIDEO_MEMORY_INFORMATION",
            VideoMemoryInformation,
            "VideoRamLength",
            video_ram_length,
            4
        ),
        field!(
            "VIDEO_MEMORY_INFORMATION",
            VideoMemoryInformation,
            "FrameBufferBase",
            frame_buffer_base,
            8
        ),
        field!(
            "VIDEO_MEMORY_INFORMATION",
            VideoMemoryInformation,
            "FrameBufferLength",
            frame_buffer_length,
            4
        ),
    ]
}

/// The Rust client's IOCTL codes and flags, under the C names.
fn rust_constants() -> Vec<(&'static str, u64)> {
    vec![
        (
            "IOCTL_VIDEO_QUERY_AVAIL_MODES",
            IOCTL_VIDEO_QUERY_AVAIL_MODES.into(),
        ),
        (
            "IOCTL_VIDEO_QUERY_NUM_AVAIL_MODES",
            IOCTL_VIDEO_QUERY_NUM_AVAIL_MODES.into(),
        ),
        (
            "IOCTL_VIDEO_QUERY_CURRENT_MODE",
            IOCTL_VIDEO_QUERY_CURRENT_MODE.into(),
        ),
        (
            "IOCTL_VIDEO_SET_CURRENT_MODE",
            IOCTL_VIDEO_SET_CURRENT_MODE.into(),
        ),
        ("IOCTL_VIDEO_RESET_DEVICE", IOCTL_VIDEO_RESET_DEVICE.into()),
        (
            "IOCTL_VIDEO_MAP_VIDEO_MEMORY",
            IOCTL_VIDEO_MAP_VIDEO_MEMORY.into(),
        ),
        (
            "IOCTL_VIDEO_UNMAP_VIDEO_MEMORY",
            IOCTL_VIDEO_UNMAP_VIDEO_MEMORY.into(),
        ),
        (
            "VIDEO_MODE_MAP_MEM_LINEAR",
            VIDEO_MODE_MAP_MEM_LINEAR.into(),
        ),
        (
            "VIDEO_MODE_NO_ZERO_MEMORY",
            VIDEO_MODE_NO_ZERO_MEMORY.into(),
        ),
        ("VIDEO_MODE_COLOR", VIDEO_MODE_COLOR.into()),
        ("VIDEO_MODE_GRAPHICS", VIDEO_MODE_GRAPHICS.into()),
    ]
}

#[test]
fn the_rust_client_and_the_host_header_agree() {
    assert_eq!(rust_layouts(), host_video_layouts());
    let host = host_video_constants();
    for (name, value) in rust_constants() {
        let (_, h) = host
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} is in layout_probe.c"));
        assert_eq!(*h, value, "{name}");
    }
}

/// `_Static_assert`s of every host number against mingw-w64's ntddvdeo.h (through video.h,
/// with devioctl.h for CTL_CODE), compiled for x86_64-w64-mingw32.
fn mingw_check(layouts: &[Layout], constants: &[(String, u64)]) -> std::process::Output {
    let mut c = String::from(
        "#include <stddef.h>\n#include <ntdef.h>\n#include <ddk/miniport.h>\n\
         #include <ddk/video.h>\n#include <devioctl.h>\n",
    );
    for l in layouts {
        if l.member.is_empty() {
            writeln!(
                c,
                "_Static_assert(sizeof({t}) == {s}, \"sizeof {t}\");",
                t = l.type_name,
                s = l.size
            )
            .unwrap();
        } else {
            writeln!(
                c,
                "_Static_assert(offsetof({t}, {m}) == {o} && sizeof((({t} *)0)->{m}) == {s}, \"{t}.{m}\");",
                t = l.type_name,
                m = l.member,
                o = l.offset,
                s = l.size
            )
            .unwrap();
        }
    }
    for (name, value) in constants {
        writeln!(
            c,
            "_Static_assert((unsigned long long)({name}) == {value}ull, \"{name}\");"
        )
        .unwrap();
    }
    let dir = std::env::temp_dir().join(format!("videoprt-rs-ntddvdeo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let source: PathBuf = dir.join(format!("check-{}.c", layouts.len() + constants.len()));
    std::fs::write(&source, c).unwrap();
    let output = Command::new(GCC)
        .env("LC_ALL", "C")
        .args(["-std=c11", "-fsyntax-only", "-Wall", "-Werror"])
        .arg(&source)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{GCC}: {e}. Install mingw-w64 with: \
                 apt-get install -y --no-install-recommends mingw-w64 (or run cargo xtask setup)"
            )
        });
    let _ = std::fs::remove_file(&source);
    output
}

#[test]
fn the_host_header_agrees_with_mingw_ntddvdeo_h_for_windows_x64() {
    let output = mingw_check(&host_video_layouts(), &host_video_constants());
    assert!(
        output.status.success(),
        "videoprt_host.h disagrees with mingw-w64's ntddvdeo.h:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_wrong_number_is_caught() {
    let mut layouts = host_video_layouts();
    let frame_buffer_base = layouts
        .iter_mut()
        .find(|l| l.type_name == "VIDEO_MEMORY_INFORMATION" && l.member == "FrameBufferBase")
        .expect("row");
    // The offset a 32-bit (or packed) layout would have.
    frame_buffer_base.offset = 12;
    let output = mingw_check(&layouts, &[]);
    assert!(!output.status.success(), "a wrong offset must not compile");
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("VIDEO_MEMORY_INFORMATION.FrameBufferBase"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
