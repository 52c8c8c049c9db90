//! The C VBE miniport (vbe_miniport.c) end to end on ntsim's Bochs adapter and its video BIOS:
//! every mode it finds through INT 10h (VideoPortQueryServices' INT10 interface, looked up with
//! VideoPortGetProcAddress) is set with 4F02h, drawn through the client's mapping and shown
//! byte for byte; the EDID it read with 4F15h is its monitor's child descriptor; on a kernel
//! without the HAL's x86 BIOS emulator (NT 5.2) it does not start. The host build and the two
//! shipped images (GNU ld, lld-link).
//!
//! 64-bit hosts only: the host build and the VBE images are 64-bit only (no x86 VBE image is built).
#![cfg(target_pointer_width = "64")]

use ddk_sys::{
    REG_BINARY, STATUS_BUFFER_TOO_SMALL, STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_PARAMETER,
};
use ntsim::devices::bochs::BochsConfig;
use ntsim::{MachineConfig, OsVersion};
use sample_miniport::display::*;
use sample_miniport::harness::Miniport;

/// The 32-bpp linear modes of the Bochs VBE BIOS (ntsim/src/devices/vbe.rs), in its order.
const VBE_32BPP_MODES: [(u32, u32); 7] = [
    (640, 480),
    (800, 600),
    (1024, 768),
    (1280, 1024),
    (1600, 1200),
    (1920, 1080),
    (2560, 1600),
];

fn utf16z(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain([0])
        .flat_map(u16::to_le_bytes)
        .collect()
}

fn start(miniport: &Miniport, config: BochsConfig) -> DisplaySession {
    DisplaySession::start(miniport, config).unwrap_or_else(|e| panic!("{e}"))
}

fn every_mode_is_set_through_int10_and_shown_byte_for_byte(miniport: &Miniport) {
    let mut session = start(miniport, bochs_display());
    let conversation = converse(&session, &mut |_| {});
    assert_eq!(conversation.failures, Vec::<String>::new());
    let listed: Vec<(u32, u32)> = conversation
        .modes
        .iter()
        .map(|m| (m.vis_screen_width, m.vis_screen_height))
        .collect();
    assert_eq!(listed, VBE_32BPP_MODES);
    for (i, m) in conversation.modes.iter().enumerate() {
        assert_eq!(m.mode_index, i as u32);
        assert_eq!(m.screen_stride, m.vis_screen_width * 4);
        assert_eq!((m.bits_per_plane, m.frequency), (32, 60));
        // The EDID read through 4F15h says 32 x 24 cm.
        assert_eq!((m.x_millimeter, m.y_millimeter), (320, 240));
        assert_eq!(
            (m.red_mask, m.green_mask, m.blue_mask),
            (0xFF_0000, 0xFF00, 0xFF)
        );
    }
    assert_eq!(conversation.checks.len(), VBE_32BPP_MODES.len());
    for check in &conversation.checks {
        assert!(check.ok, "{check:#?}");
        assert_eq!(check.drawn, check.shown);
    }
    assert_eq!(
        session.bochs(|b| b.mode_sets()),
        VBE_32BPP_MODES.len() as u32
    );
    assert!(
        !session.bochs(|b| b.mode().enabled),
        "RESET_DEVICE set VGA mode 3: the VBE display is off"
    );

    let value = |name: &str| {
        session
            .machine
            .registry_value(session.pdo, name)
            .unwrap_or_else(|| panic!("{name} is in the registry"))
    };
    let chip = value("HardwareInformation.ChipType");
    assert_eq!(
        (chip.kind, chip.data),
        (REG_BINARY, utf16z("VESA BIOS Extensions"))
    );
    // The OEM string, read from the BIOS's ROM through the far pointer in the 4F00h block.
    let adapter = value("HardwareInformation.AdapterString");
    assert_eq!(adapter.data, utf16z("ntsim Bochs VBE BIOS"));
    let memory = value("HardwareInformation.MemorySize");
    assert_eq!(memory.data, (16u32 << 20).to_le_bytes());
    // VideoPortGetProcAddress: VideoPortQueryServices is the imported function; an unknown
    // name and the right name in the wrong case are NULL.
    let lookups = value("VbeMiniport.GetProcAddress");
    assert_eq!(
        lookups.data,
        [1u32, 1, 1]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<u8>>()
    );

    session.stop();
    assert_eq!(session.machine.violations(), vec![]);
    assert!(session.machine.bios_buffers().is_empty());
    session.machine.assert_clean();
}

fn bad_requests_get_clear_errors_and_small_vram_lists_fewer_modes(miniport: &Miniport) {
    let mut session = start(
        miniport,
        BochsConfig {
            vram: 4 << 20,
            ..bochs_display()
        },
    );
    let modes = session.modes().unwrap();
    let listed: Vec<(u32, u32)> = modes
        .iter()
        .map(|m| (m.vis_screen_width, m.vis_screen_height))
        .collect();
    assert_eq!(listed, VBE_32BPP_MODES[..3]);
    assert_eq!(
        session.current_mode(),
        Err(STATUS_INVALID_DEVICE_REQUEST),
        "no mode set yet"
    );
    assert_eq!(
        session.ioctl(IOCTL_VIDEO_MAP_VIDEO_MEMORY, &[0; 8], &mut [0; 32]),
        Err(STATUS_INVALID_DEVICE_REQUEST),
        "nothing to map before a mode is set"
    );
    assert_eq!(session.set_mode(3), Err(STATUS_INVALID_PARAMETER));
    assert_eq!(
        session.ioctl(IOCTL_VIDEO_SET_CURRENT_MODE, &[1, 2], &mut []),
        Err(STATUS_BUFFER_TOO_SMALL)
    );
    let mut short = vec![0u8; 80 * 3 - 1];
    assert_eq!(
        session.ioctl(IOCTL_VIDEO_QUERY_AVAIL_MODES, &[], &mut short),
        Err(STATUS_BUFFER_TOO_SMALL)
    );
    // VIDEO_MODE_NO_ZERO_MEMORY becomes 4F02h's bit 15: the frame survives the mode set.
    let last = *modes.last().unwrap();
    let (check, _) = check_mode(&session, &last, 5).unwrap();
    assert!(check.ok, "{check:#?}");
    session
        .set_mode(last.mode_index | VIDEO_MODE_NO_ZERO_MEMORY)
        .unwrap();
    assert_eq!(session.visible_frame(), pattern(&last, 5));
    session.set_mode(last.mode_index).unwrap();
    assert!(session.visible_frame().iter().all(|b| *b == 0));
    session.reset().unwrap();
    session.stop();
    assert_eq!(session.machine.violations(), vec![]);
    session.machine.assert_clean();
}

fn without_the_bios_emulator_the_miniport_does_not_start(miniport: &Miniport) {
    let config = MachineConfig {
        os: OsVersion::WINDOWS_SERVER_2003_X64,
        ..MachineConfig::default()
    };
    let error = DisplaySession::start_on(miniport, bochs_display(), config)
        .err()
        .expect("no INT 10h on NT 5.2");
    assert!(error.contains("IRP_MN_START_DEVICE failed"), "{error}");
}

/// The monitor the miniport reports through HwGetVideoChildDescriptor, with the EDID it read
/// through 4F15h, is the adapter's child PDO, named from that EDID, and belongs to the adapter.
fn the_monitor_from_the_bios_edid_is_a_child_pdo(miniport: &Miniport) {
    let mut session = start(miniport, bochs_display());
    let children = session.children();
    assert_eq!(children.len(), 1, "{children:?}");
    let monitor = &children[0];
    assert_eq!(monitor.device_id, "DISPLAY\\NTS1111");
    assert_eq!(monitor.hardware_ids, ["MONITOR\\NTS1111"]);
    assert_eq!(monitor.instance_id, format!("UID{}", 0x1000));
    assert_eq!(monitor.start_status, ddk_sys::STATUS_SUCCESS);
    // SAFETY: device objects are looked up, never dereferenced.
    let (adapter, child) = unsafe {
        (
            videoprt::port::pnp::VideoPortGetAssociatedDeviceExtension(session.node().top().cast()),
            videoprt::port::pnp::VideoPortGetAssociatedDeviceExtension(monitor.as_ptr().cast()),
        )
    };
    assert!(!adapter.is_null());
    assert_eq!(child, adapter);
    session.reset().unwrap();
    session.stop();
    session.machine.assert_clean();
}

macro_rules! scenarios {
    ($module:ident, $miniport:expr) => {
        mod $module {
            use super::*;

            #[test]
            fn every_mode_is_set_through_int10_and_shown_byte_for_byte() {
                super::every_mode_is_set_through_int10_and_shown_byte_for_byte(&$miniport);
            }

            #[test]
            fn bad_requests_get_clear_errors_and_small_vram_lists_fewer_modes() {
                super::bad_requests_get_clear_errors_and_small_vram_lists_fewer_modes(&$miniport);
            }

            #[test]
            fn the_monitor_from_the_bios_edid_is_a_child_pdo() {
                super::the_monitor_from_the_bios_edid_is_a_child_pdo(&$miniport);
            }

            #[test]
            fn without_the_bios_emulator_the_miniport_does_not_start() {
                super::without_the_bios_emulator_the_miniport_does_not_start(&$miniport);
            }
        }
    };
}

scenarios!(
    host_build,
    Miniport::Host("c_vbe_miniport", c_miniport::VbeDriverEntry)
);
scenarios!(gnu_ld_image, Miniport::shipped("c_vbe_miniport_gnu.sys"));
scenarios!(lld_link_image, Miniport::shipped("c_vbe_miniport_lld.sys"));

/// HwGetVideoChildDescriptor of the host build, called as the port's child enumeration calls
/// it: child 1 is the monitor with the EDID the BIOS gave; there is no child 2; index 0 (ACPI)
/// is not answered; a descriptor buffer too small for the EDID is left alone.
#[test]
fn the_monitor_is_child_1_with_the_edid_read_through_4f15() {
    use c_miniport::{VbeGetChildDescriptor, VideoChildEnumInfo};
    use ddk_sys::{ERROR_CONTINUE, ERROR_INVALID_NAME, ERROR_NO_MORE_DEVICES};
    let miniport = Miniport::Host("c_vbe_miniport", c_miniport::VbeDriverEntry);
    let mut session = start(
        &miniport,
        BochsConfig {
            preferred: (1280, 1024),
            ..bochs_display()
        },
    );
    let edid = session.bochs(|b| b.edid());
    // SAFETY: the session's FDO is live until stop.
    let hw = unsafe {
        videoprt::port::pnp::VideoPortGetAssociatedDeviceExtension(session.node().top().cast())
    };
    assert!(!hw.is_null());
    let ask = |index: u32, size: u32| {
        let mut info = VideoChildEnumInfo {
            size: core::mem::size_of::<VideoChildEnumInfo>() as u32,
            child_descriptor_size: size,
            child_index: index,
            acpi_hw_id: 0,
            child_hw_device_extension: core::ptr::null_mut(),
        };
        let (mut kind, mut uid, mut unused) = (0u32, 0u32, 0u32);
        let mut descriptor = [0u8; 256];
        // SAFETY: every pointer is to a live local of the right size.
        let status = unsafe {
            VbeGetChildDescriptor(
                hw,
                &mut info,
                &mut kind,
                descriptor.as_mut_ptr(),
                &mut uid,
                &mut unused,
            )
        };
        (status, kind, uid, descriptor)
    };
    let (status, kind, uid, descriptor) = ask(1, 256);
    assert_eq!((status, kind, uid), (ERROR_CONTINUE, 1, 0x1000));
    assert_eq!(descriptor[..128], edid);
    assert_eq!(descriptor[128..], [0u8; 128]);
    assert_eq!(ask(2, 256).0, ERROR_NO_MORE_DEVICES);
    assert_eq!(ask(0, 256).0, ERROR_INVALID_NAME);
    let (status, _, _, descriptor) = ask(1, 64);
    assert_eq!(status, ERROR_CONTINUE);
    assert_eq!(descriptor, [0u8; 256]);
    session.reset().unwrap();
    session.stop();
    session.machine.assert_clean();
}
