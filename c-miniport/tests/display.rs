//! The C display miniport (bochs_miniport.c) end to end on ntsim's Bochs adapter, through the
//! conversation of `sample_miniport::display`: a client lists the modes, sets each, draws
//! through its own mapping of the frame buffer and the device must show exactly those bytes;
//! the registry holds HardwareInformation.*; after unmap, reset, close and removal nothing is
//! left. Three times: the host build and the two shipped images (GNU ld, lld-link). The
//! deliberately broken build (it forgets VideoPortUnmapMemory and VideoPortFreePool) must be
//! reported, as a host build and as its image in target/drivers/test/.
//!
//! 64-bit hosts only: the host build and the bochs images are 64-bit only (no x86 bochs image is built).
#![cfg(target_pointer_width = "64")]

use ddk_sys::{
    IRP_MN_QUERY_POWER, IRP_MN_SET_POWER, REG_BINARY, STATUS_BUFFER_TOO_SMALL,
    STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_PARAMETER, STATUS_SUCCESS, STATUS_UNSUCCESSFUL,
    SYSTEM_POWER_STATE,
};
use ntsim::devices::bochs::{self, BochsConfig};
use ntsim::Violation;
use sample_miniport::display::*;
use sample_miniport::harness::{drivers_dir, Miniport};
use videoprt::port::pnp::VideoPortGetAssociatedDeviceExtension;
use videoprt::report::{port_code, VIDEOPRT_RS_CHECK};

/// The resolutions the miniport offers when everything fits (16 MiB of VRAM), in its order.
const ALL_MODES: [(u32, u32); 16] = [
    (640, 480),
    (800, 600),
    (1024, 768),
    (1152, 864),
    (1280, 720),
    (1280, 800),
    (1280, 1024),
    (1366, 768),
    (1440, 900),
    (1600, 900),
    (1600, 1200),
    (1680, 1050),
    (1920, 1080),
    (1920, 1200),
    (2560, 1440),
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

/// Every mode listed with its documented fields, set, drawn through the client's own
/// mapping, and shown byte for byte; the registry written; nothing left after removal.
fn every_mode_is_set_drawn_and_shown_byte_for_byte(miniport: &Miniport) {
    let mut session = start(miniport, bochs_display());
    let modes = session.modes().expect("the modes");
    let listed: Vec<(u32, u32)> = modes
        .iter()
        .map(|m| (m.vis_screen_width, m.vis_screen_height))
        .collect();
    assert_eq!(listed, ALL_MODES);
    for (i, m) in modes.iter().enumerate() {
        assert_eq!(
            *m,
            VideoModeInformation {
                length: 80,
                mode_index: i as u32,
                vis_screen_width: m.vis_screen_width,
                vis_screen_height: m.vis_screen_height,
                screen_stride: m.vis_screen_width * 4,
                number_of_planes: 1,
                bits_per_plane: 32,
                frequency: 60,
                // The EDID says 32 x 24 cm.
                x_millimeter: 320,
                y_millimeter: 240,
                number_red_bits: 8,
                number_green_bits: 8,
                number_blue_bits: 8,
                red_mask: 0xFF_0000,
                green_mask: 0xFF00,
                blue_mask: 0xFF,
                attribute_flags: VIDEO_MODE_COLOR | VIDEO_MODE_GRAPHICS,
                video_memory_bitmap_width: m.vis_screen_width,
                video_memory_bitmap_height: (16 << 20) / (m.vis_screen_width * 4),
                driver_specific_attribute_flags: 0,
            }
        );
    }
    let mut lines = Vec::new();
    let conversation = converse(&session, &mut |l| lines.push(l.to_string()));
    assert_eq!(conversation.failures, Vec::<String>::new());
    assert_eq!(conversation.checks.len(), 16);
    for check in &conversation.checks {
        assert!(check.ok, "{check:#?}");
        assert_eq!(check.drawn, check.shown);
        assert_eq!(
            check.memory.video_ram_length,
            check.memory.frame_buffer_length
        );
        assert_eq!(check.memory.video_ram_base, check.memory.frame_buffer_base);
        assert_eq!(
            check.memory.frame_buffer_length,
            check.mode.screen_stride * check.mode.vis_screen_height
        );
    }
    assert_eq!(session.bochs(|b| b.mode_sets()), 16, "one mode set each");
    assert!(session.bochs(|b| b.refusals().is_empty()));
    assert!(
        !session.bochs(|b| b.mode().enabled),
        "RESET_DEVICE turns the display off"
    );
    assert!(
        session.client().mappings().is_empty(),
        "every mapping was unmapped"
    );

    // HardwareInformation.*, as display miniports write them (REG_BINARY through
    // VideoPortSetRegistryParameters: wide strings with their terminator, a ULONG).
    let value = |name: &str| {
        session
            .machine
            .registry_value(session.pdo, name)
            .unwrap_or_else(|| panic!("{name} is in the registry"))
    };
    for (name, text) in [
        ("HardwareInformation.ChipType", "Bochs VBE DISPI"),
        ("HardwareInformation.DacType", "Integrated RAMDAC"),
        (
            "HardwareInformation.AdapterString",
            "QEMU Bochs display (videoprt-rs C sample)",
        ),
    ] {
        let v = value(name);
        assert_eq!((v.kind, v.data), (REG_BINARY, utf16z(text)), "{name}");
    }
    // The adapter's option ROM names itself in printable text after its PCI data structure.
    let bios: String = bochs::ROM_TEXT.iter().map(|&b| b as char).collect();
    let v = value("HardwareInformation.BiosString");
    assert_eq!((v.kind, v.data), (REG_BINARY, utf16z(&bios)));
    let memory = value("HardwareInformation.MemorySize");
    assert_eq!(
        (memory.kind, memory.data),
        (REG_BINARY, (16u32 << 20).to_le_bytes().to_vec())
    );

    session.stop();
    assert_eq!(session.machine.violations(), vec![]);
    session.machine.assert_clean();
}

/// A smaller VRAM (8 MiB) and the legacy-port flavour (`-vga std`): only the modes within
/// the GETCAPS maxima (the model caps YRES at what a 2560-wide line allows: 819) and VRAM are
/// listed, and they work; bad requests get their documented errors; a second client after
/// RESET_DEVICE finds the modes again.
fn only_modes_that_fit_and_bad_requests_get_clear_errors(miniport: &Miniport) {
    let config = BochsConfig {
        vram: 8 << 20,
        legacy_ports: true,
        ..BochsConfig::default()
    };
    let mut session = start(miniport, config);
    let modes = session.modes().unwrap();
    let listed: Vec<(u32, u32)> = modes
        .iter()
        .map(|m| (m.vis_screen_width, m.vis_screen_height))
        .collect();
    let fitting: Vec<(u32, u32)> = ALL_MODES
        .iter()
        .copied()
        .filter(|(w, h)| w * h * 4 <= 8 << 20 && *h <= (8 << 20) / (2560 * 4))
        .collect();
    assert_eq!(
        fitting,
        [
            (640, 480),
            (800, 600),
            (1024, 768),
            (1280, 720),
            (1280, 800),
            (1366, 768)
        ]
    );
    assert_eq!(listed, fitting);
    assert_eq!(
        session.num_modes().unwrap(),
        VideoNumModes {
            num_modes: fitting.len() as u32,
            mode_information_length: 80
        }
    );

    // No mode yet; an index past the table; short buffers; an unknown IOCTL.
    assert_eq!(
        session.current_mode(),
        Err(STATUS_INVALID_DEVICE_REQUEST),
        "ERROR_INVALID_FUNCTION before any mode is set"
    );
    assert_eq!(
        session.set_mode(fitting.len() as u32),
        Err(STATUS_INVALID_PARAMETER)
    );
    let mut short = vec![0u8; 80 * fitting.len() - 1];
    assert_eq!(
        session.ioctl(IOCTL_VIDEO_QUERY_AVAIL_MODES, &[], &mut short),
        Err(STATUS_BUFFER_TOO_SMALL)
    );
    assert_eq!(
        session.ioctl(IOCTL_VIDEO_SET_CURRENT_MODE, &[1, 2], &mut []),
        Err(STATUS_BUFFER_TOO_SMALL)
    );
    assert_eq!(
        session.ioctl(IOCTL_VIDEO_MAP_VIDEO_MEMORY, &[0; 8], &mut [0; 16]),
        Err(STATUS_BUFFER_TOO_SMALL)
    );
    assert_eq!(
        session.ioctl(video_ioctl_for_test(0x10b), &[], &mut []),
        Err(STATUS_INVALID_DEVICE_REQUEST),
        "IOCTL_VIDEO_SET_PALETTE_REGISTERS is not answered"
    );
    // Unmapping what was never mapped: the port refuses (and says so).
    assert_eq!(session.unmap(0x1234_0000), Err(STATUS_INVALID_PARAMETER));
    let reports = session.machine.take_violations();
    assert!(
        reports
            .iter()
            .all(|v| v.routine == "VideoPortUnmapMemory" && v.code == port_code::UNKNOWN_OBJECT),
        "{reports:#?}"
    );
    assert_eq!(reports.len(), 1);

    // NO_ZERO_MEMORY keeps what is in VRAM; without it the mode set clears the screen.
    let last = *modes.last().unwrap();
    let (check, _) = check_mode(&session, &last, 7).unwrap();
    assert!(check.ok, "{check:#?}");
    session
        .set_mode(last.mode_index | VIDEO_MODE_NO_ZERO_MEMORY)
        .unwrap();
    assert_eq!(session.visible_frame(), pattern(&last, 7));
    session.set_mode(last.mode_index).unwrap();
    assert!(session.visible_frame().iter().all(|b| *b == 0));
    assert_eq!(
        session.current_mode(),
        Ok(last),
        "QUERY_CURRENT_MODE answers the mode set"
    );
    session.reset().unwrap();
    session.close();

    // A second client after the reset: the table is built again and the modes still work.
    session.reopen().unwrap();
    assert_eq!(session.modes().unwrap(), modes);
    let (check, _) = check_mode(&session, &modes[0], 3).unwrap();
    assert!(check.ok, "{check:#?}");
    session.reset().unwrap();
    session.stop();
    assert_eq!(session.machine.violations(), vec![]);
    session.machine.assert_clean();
}

/// The monitor is a child PDO named from the model's EDID, found from its device object like
/// the adapter; the adapter refuses standby (it has no DPMS), sleeps in S3 with the display
/// off, and wakes showing the same picture in the same mode.
fn the_monitor_is_a_child_and_sleep_keeps_the_picture(miniport: &Miniport) {
    let mut session = start(miniport, bochs_display());
    let children = session.children();
    assert_eq!(children.len(), 1, "{children:?}");
    let monitor = &children[0];
    assert_eq!(monitor.device_id, "DISPLAY\\NTS1111");
    assert_eq!(monitor.hardware_ids, ["MONITOR\\NTS1111"]);
    assert_eq!(monitor.compatible_ids, ["*PNP09FF"]);
    assert_eq!(monitor.instance_id, "UID256");
    assert_eq!(monitor.start_status, STATUS_SUCCESS);
    // SAFETY: device objects are looked up, never dereferenced.
    let (adapter, child) = unsafe {
        (
            VideoPortGetAssociatedDeviceExtension(session.node().top().cast()),
            VideoPortGetAssociatedDeviceExtension(monitor.as_ptr().cast()),
        )
    };
    assert!(!adapter.is_null());
    assert_eq!(child, adapter);

    let modes = session.modes().expect("the modes");
    let (check, shown) = check_mode(&session, &modes[2], 7).expect("mode 2");
    assert!(check.ok, "{check:#?}");
    let node = session.node();
    let (q, set) = (IRP_MN_QUERY_POWER, IRP_MN_SET_POWER);
    assert_eq!(
        session
            .machine
            .system_power(node, q, SYSTEM_POWER_STATE::PowerSystemSleeping1),
        [STATUS_SUCCESS, STATUS_UNSUCCESSFUL],
        "the monitor may stand by, the adapter may not"
    );
    assert!(
        session.bochs(|b| b.mode().enabled),
        "a refused query changes nothing"
    );
    let s3 = SYSTEM_POWER_STATE::PowerSystemSleeping3;
    assert_eq!(
        session.machine.system_power(node, q, s3),
        [STATUS_SUCCESS; 2]
    );
    assert_eq!(
        session.machine.system_power(node, set, s3),
        [STATUS_SUCCESS; 2]
    );
    assert!(!session.bochs(|b| b.mode().enabled), "asleep: display off");
    assert_eq!(session.machine.device_power_state(node.top()), Some(4));
    let working = SYSTEM_POWER_STATE::PowerSystemWorking;
    assert_eq!(
        session.machine.system_power(node, set, working),
        [STATUS_SUCCESS; 2]
    );
    assert_eq!(session.machine.device_power_state(node.top()), Some(1));
    assert_eq!(
        session.visible_frame(),
        shown,
        "the same picture after waking"
    );
    assert_eq!(session.current_mode(), Ok(modes[2]));
    session.reset().expect("RESET_DEVICE");
    session.stop();
    session.machine.assert_clean();
}

/// `CTL_CODE(FILE_DEVICE_VIDEO, function, METHOD_BUFFERED, FILE_ANY_ACCESS)`.
fn video_ioctl_for_test(function: u32) -> u32 {
    (FILE_DEVICE_VIDEO << 16) | (function << 2)
}

macro_rules! scenarios {
    ($module:ident, $miniport:expr) => {
        mod $module {
            use super::*;

            #[test]
            fn every_mode_is_set_drawn_and_shown_byte_for_byte() {
                super::every_mode_is_set_drawn_and_shown_byte_for_byte(&$miniport);
            }

            #[test]
            fn the_monitor_is_a_child_and_sleep_keeps_the_picture() {
                super::the_monitor_is_a_child_and_sleep_keeps_the_picture(&$miniport);
            }

            #[test]
            fn only_modes_that_fit_and_bad_requests_get_clear_errors() {
                super::only_modes_that_fit_and_bad_requests_get_clear_errors(&$miniport);
            }
        }
    };
}

scenarios!(
    host_build,
    Miniport::Host("c_bochs_miniport", c_miniport::BochsDriverEntry)
);
scenarios!(gnu_ld_image, Miniport::shipped("c_bochs_miniport_gnu.sys"));
scenarios!(
    lld_link_image,
    Miniport::shipped("c_bochs_miniport_lld.sys")
);

/// The port's report that the miniport left an object of `kind` (1 pool, 5 mapping).
fn left(violations: &[Violation], routine: &str, kind: u64) -> usize {
    violations
        .iter()
        .filter(|v| {
            v.bugcheck == VIDEOPRT_RS_CHECK
                && v.code == port_code::OBJECT_LEFT
                && v.routine == routine
                && v.params[0] == kind
        })
        .count()
}

/// The broken build forgets VideoPortUnmapMemory and VideoPortFreePool: the client still
/// draws correctly, but the mapping it was told was gone is still there until its handle is
/// closed (the port undoes it at IRP_MJ_CLEANUP and reports it), and the mode table is
/// reported (and freed) at removal.
fn a_miniport_that_forgets_unmap_and_free_pool_is_reported(miniport: &Miniport) {
    let mut session = start(miniport, bochs_display());
    let modes = session.modes().unwrap();
    let (check, _) = check_mode(&session, &modes[0], 0).unwrap();
    assert!(check.ok, "{check:#?}");
    assert_eq!(
        session.client().mappings().len(),
        1,
        "UNMAP answered NO_ERROR but the view is still mapped"
    );
    session.reset().unwrap();
    session.close();
    let at_close = session.machine.violations();
    assert_eq!(left(&at_close, "IRP_MJ_CLEANUP", 5), 1, "{at_close:#?}");
    session.stop();
    let all = session.machine.take_violations();
    assert_eq!(left(&all, "device removal", 1), 1, "{all:#?}");
    assert_eq!(all.len(), 2, "{all:#?}");
    // The port cleaned up after it: nothing is really leaked.
    assert!(
        session.machine.leaks().is_empty(),
        "{}",
        session.machine.leaks()
    );
}

#[test]
fn host_build_that_forgets_unmap_and_free_pool_is_reported() {
    a_miniport_that_forgets_unmap_and_free_pool_is_reported(&Miniport::Host(
        "c_bochs_miniport_leak",
        c_miniport::BochsLeakDriverEntry,
    ));
}

#[test]
fn image_that_forgets_unmap_and_free_pool_is_reported() {
    a_miniport_that_forgets_unmap_and_free_pool_is_reported(&Miniport::Image(
        drivers_dir().join("test").join("c_bochs_miniport_leak.sys"),
    ));
}

#[test]
fn the_bochs_model_is_what_the_tests_assume() {
    assert_eq!(bochs::DEFAULT_VRAM, 16 << 20);
    assert_eq!((bochs::MAX_XRES, bochs::MAX_YRES), (2560, 1600));
}
