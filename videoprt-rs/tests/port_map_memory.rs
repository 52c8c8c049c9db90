//! VideoPortMapMemory / VideoPortUnmapMemory on QEMU's Bochs display (ntsim's model, whose
//! frame buffer is real memory): a small Rust miniport maps the frame buffer into system space
//! and into the calling process on request, and the client draws through its own view.

use core::ptr::null_mut;
use ddk_sys::*;
use ntsim::devices::bochs::{Bochs, BochsConfig};
use ntsim::{Machine, MachineConfig};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use videoprt::port::initialize::VideoPortInitialize;
use videoprt::port::map_memory::{VideoPortMapMemory, VideoPortUnmapMemory};
use videoprt::port::resources::VideoPortGetAccessRanges;
use videoprt::report::{port_code, VIDEOPRT_RS_CHECK};

/// Request: flags (u32), offset (u32), length (u32); answer: address (u64), length (u32).
const IOCTL_MAP: u32 = CTL_CODE(FILE_DEVICE_VIDEO, 0x900, METHOD_BUFFERED, FILE_ANY_ACCESS);
/// Request: address (u64), flags (u32: 1 = pass NtCurrentProcess as the handle).
const IOCTL_UNMAP: u32 = CTL_CODE(FILE_DEVICE_VIDEO, 0x901, METHOD_BUFFERED, FILE_ANY_ACCESS);
/// Request: address (u64), byte (u32): the miniport fills 256 bytes through a system mapping.
const IOCTL_FILL: u32 = CTL_CODE(FILE_DEVICE_VIDEO, 0x902, METHOD_BUFFERED, FILE_ANY_ACCESS);

/// The miniport's extension: the frame buffer's bus address and size.
#[repr(C)]
struct Extension {
    frame_buffer: u64,
    frame_length: u32,
}

static LAST_HW: AtomicUsize = AtomicUsize::new(0);
static SERIAL: Mutex<()> = Mutex::new(());

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn find_adapter(
    hw: PVOID,
    _context: PVOID,
    _argument: *mut WCHAR,
    _config: PVIDEO_PORT_CONFIG_INFO,
    again: PUCHAR,
) -> VP_STATUS {
    // SAFETY: all-zero is a valid VIDEO_ACCESS_RANGE array.
    let mut ranges: [VIDEO_ACCESS_RANGE; 4] = unsafe { core::mem::zeroed() };
    // SAFETY: a live extension; the array holds 4 entries.
    let status = unsafe {
        VideoPortGetAccessRanges(
            hw,
            0,
            null_mut(),
            4,
            ranges.as_mut_ptr(),
            null_mut(),
            null_mut(),
            null_mut(),
        )
    };
    if status != NO_ERROR {
        return status;
    }
    // SAFETY: the port handed us our own extension.
    let ext = unsafe { &mut *hw.cast::<Extension>() };
    ext.frame_buffer = ranges[0].RangeStart.get();
    ext.frame_length = ranges[0].RangeLength;
    LAST_HW.store(hw as usize, Ordering::SeqCst);
    // SAFETY: the out flag is writable.
    unsafe { *again = FALSE };
    NO_ERROR
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn initialize(_hw: PVOID) -> BOOLEAN {
    TRUE
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn start_io(hw: PVOID, vrp: PVIDEO_REQUEST_PACKET) -> BOOLEAN {
    // SAFETY: the port's packet and our extension.
    let (vrp, ext) = unsafe { (&mut *vrp, &*hw.cast::<Extension>()) };
    // SAFETY: buffered I/O: the input buffer holds InputBufferLength bytes.
    let input = unsafe {
        std::slice::from_raw_parts(vrp.InputBuffer as *const u8, vrp.InputBufferLength as usize)
    };
    let status = match vrp.IoControlCode {
        IOCTL_MAP => {
            let (mut flags, offset, mut length) =
                (u32_at(input, 0), u32_at(input, 4), u32_at(input, 8));
            let mut va: PVOID = null_mut();
            // SAFETY: a live extension and writable locals.
            let status = unsafe {
                VideoPortMapMemory(
                    hw,
                    PHYSICAL_ADDRESS::new(ext.frame_buffer + u64::from(offset)),
                    &mut length,
                    &mut flags,
                    &mut va,
                )
            };
            if status == NO_ERROR {
                // SAFETY: the output buffer holds 12 bytes (checked by the client).
                unsafe {
                    let out = vrp.OutputBuffer as *mut u8;
                    (out as *mut u64).write_unaligned(va as u64);
                    (out.add(8) as *mut u32).write_unaligned(length);
                }
                // SAFETY: the port's status block.
                unsafe { (*vrp.StatusBlock).Information = 12 };
            }
            status
        }
        IOCTL_UNMAP => {
            let va = u64::from_le_bytes(input[..8].try_into().unwrap()) as PVOID;
            let handle = if u32_at(input, 8) == 1 {
                usize::MAX as HANDLE
            } else {
                null_mut()
            };
            // SAFETY: a live extension; the port checks the address.
            unsafe { VideoPortUnmapMemory(hw, va, handle) }
        }
        IOCTL_FILL => {
            let va = u64::from_le_bytes(input[..8].try_into().unwrap()) as *mut u8;
            // SAFETY: a system-space view of at least 256 bytes, from IOCTL_MAP (test contract).
            unsafe { core::ptr::write_bytes(va, u32_at(input, 8) as u8, 256) };
            NO_ERROR
        }
        _ => ERROR_INVALID_FUNCTION,
    };
    // SAFETY: the port's status block.
    unsafe { (*vrp.StatusBlock).Status = status };
    TRUE
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn driver_entry(
    driver: *mut DRIVER_OBJECT,
    path: *mut UNICODE_STRING,
) -> NTSTATUS {
    // SAFETY: all-zero is the documented start.
    let mut data: VIDEO_HW_INITIALIZATION_DATA = unsafe { core::mem::zeroed() };
    data.HwInitDataSize = SIZE_OF_WXP_VIDEO_HW_INITIALIZATION_DATA;
    data.HwFindAdapter = Some(find_adapter);
    data.HwInitialize = Some(initialize);
    data.HwStartIO = Some(start_io);
    data.HwDeviceExtensionSize = core::mem::size_of::<Extension>() as u32;
    // SAFETY: DriverEntry's arguments, passed on.
    NTSTATUS(
        unsafe { VideoPortInitialize(driver.cast(), path.cast(), &mut data, null_mut()) } as i32,
    )
}

fn map_request(flags: u32, offset: u32, length: u32) -> Vec<u8> {
    [flags, offset, length]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect()
}

fn codes(machine: &Machine) -> Vec<(u32, u32)> {
    machine
        .take_violations()
        .iter()
        .map(|v| (v.bugcheck, v.code))
        .collect()
}

#[test]
#[cfg_attr(
    miri,
    ignore = "maps device RAM into a user process: ntsim places those pages with mmap, which Miri cannot run"
)]
fn the_client_draws_through_its_own_view_of_the_frame_buffer() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    let pdo = machine.plug_pci_device(Box::new(Bochs::new(BochsConfig::default())));
    let driver = machine
        .load_driver("vprsmap", driver_entry)
        .expect("DriverEntry");
    let node = machine.start_device(&driver, pdo).expect("START");
    let client = machine.open(&node).expect("open");

    // A user-mode mapping of 10,000 bytes at offset 0x2000: rounded up to its last page.
    let mut out = [0u8; 12];
    let user =
        VIDEO_MEMORY_SPACE_MEMORY | VIDEO_MEMORY_SPACE_USER_MODE | VIDEO_MEMORY_SPACE_P6CACHE;
    assert_eq!(
        client.ioctl(IOCTL_MAP, &map_request(user, 0x2000, 10_000), &mut out),
        Ok(12)
    );
    let va = u64::from_le_bytes(out[..8].try_into().unwrap()) as usize;
    let length = u32_at(&out, 8) as usize;
    assert_eq!(length, 12_288, "10,000 bytes end in the third page");
    let view = client
        .mapping(va, 10_000)
        .expect("a view in the client's own process");
    let pattern: Vec<u8> = (0..10_000u32).map(|i| (i * 7 + 3) as u8).collect();
    view.write(0, &pattern);
    let vram = machine.with_pci_model::<Bochs, _>(pdo, |b| b.vram().to_vec(0, 0x2000 + 10_000));
    assert!(
        vram[0x2000..0x2000 + 10_000] == pattern[..],
        "the device sees what the client drew"
    );

    // A system-space mapping: the miniport writes, the client's view shows it.
    assert_eq!(
        client.ioctl(IOCTL_MAP, &map_request(0, 0x2000, 4096), &mut out),
        Ok(12)
    );
    let kva = u64::from_le_bytes(out[..8].try_into().unwrap());
    let mut fill = kva.to_le_bytes().to_vec();
    fill.extend_from_slice(&0xA5u32.to_le_bytes());
    assert_eq!(client.ioctl(IOCTL_FILL, &fill, &mut []), Ok(0));
    assert_eq!(view.to_vec()[..256], [0xA5; 256]);

    // Unmapped explicitly: the user view (current-process handle) and the system view.
    let mut unmap = (va as u64).to_le_bytes().to_vec();
    unmap.extend_from_slice(&1u32.to_le_bytes());
    assert_eq!(client.ioctl(IOCTL_UNMAP, &unmap, &mut []), Ok(0));
    assert!(client.mapping(va, 1).is_none(), "the view is gone");
    let mut unmap = kva.to_le_bytes().to_vec();
    unmap.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(client.ioctl(IOCTL_UNMAP, &unmap, &mut []), Ok(0));
    assert!(codes(&machine).is_empty());

    client.close();
    assert_eq!(machine.remove_device(node), STATUS_SUCCESS);
    machine.unload_driver(driver);
    machine.assert_clean();
}

#[test]
#[cfg_attr(
    miri,
    ignore = "maps device RAM into a user process: ntsim places those pages with mmap, which Miri cannot run"
)]
fn misuse_is_refused_and_leftovers_are_undone_and_reported() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    let pdo = machine.plug_pci_device(Box::new(Bochs::new(BochsConfig::default())));
    let driver = machine
        .load_driver("vprsmap", driver_entry)
        .expect("DriverEntry");
    let node = machine.start_device(&driver, pdo).expect("START");
    let client = machine.open(&node).expect("open");
    let mut out = [0u8; 12];
    let user = VIDEO_MEMORY_SPACE_USER_MODE;
    let bad = |r: Result<usize, NTSTATUS>| assert_eq!(r, Err(STATUS_INVALID_PARAMETER));

    // Outside the device's resources, zero length, I/O space into user mode.
    bad(client.ioctl(IOCTL_MAP, &map_request(user, 0x0200_0000, 4096), &mut out));
    bad(client.ioctl(IOCTL_MAP, &map_request(user, 0, 0), &mut out));
    bad(client.ioctl(
        IOCTL_MAP,
        &map_request(user | VIDEO_MEMORY_SPACE_IO, 0, 16),
        &mut out,
    ));
    // Unmapping what was never mapped.
    let mut unmap = 0x1234_0000u64.to_le_bytes().to_vec();
    unmap.extend_from_slice(&1u32.to_le_bytes());
    bad(client.ioctl(IOCTL_UNMAP, &unmap, &mut []));
    assert_eq!(
        codes(&machine),
        vec![
            (VIDEOPRT_RS_CHECK, port_code::RANGE_NOT_OWNED),
            (VIDEOPRT_RS_CHECK, port_code::BAD_ARGUMENT),
            (VIDEOPRT_RS_CHECK, port_code::BAD_ARGUMENT),
            (VIDEOPRT_RS_CHECK, port_code::UNKNOWN_OBJECT),
        ]
    );

    // A user view nobody unmaps: undone (and reported) when the process closes its handle;
    // a system one: at removal.
    assert_eq!(
        client.ioctl(IOCTL_MAP, &map_request(user, 0, 8192), &mut out),
        Ok(12)
    );
    let va = u64::from_le_bytes(out[..8].try_into().unwrap());
    assert_eq!(
        client.ioctl(IOCTL_MAP, &map_request(0, 0, 4096), &mut out),
        Ok(12)
    );
    let kva = u64::from_le_bytes(out[..8].try_into().unwrap());
    client.close();
    let left: Vec<_> = machine
        .take_violations()
        .into_iter()
        .filter(|v| v.code == port_code::OBJECT_LEFT)
        .map(|v| (v.routine, v.params[1]))
        .collect();
    assert_eq!(left, vec![("IRP_MJ_CLEANUP", va)]);
    assert_eq!(machine.remove_device(node), STATUS_SUCCESS);
    let left: Vec<_> = machine
        .take_violations()
        .into_iter()
        .filter(|v| v.code == port_code::OBJECT_LEFT)
        .map(|v| v.params[1])
        .collect();
    assert_eq!(left, vec![kva]);
    machine.unload_driver(driver);
    machine.assert_clean();
}

/// Removal with a client still open (found while extending the port_calls fuzz target: the
/// device was removed under an open handle, so the user view, its MDL, its system view and
/// the port's record leaked, the client's IRP_MJ_CLEANUP never reaching the port). As on
/// Windows, an orderly removal is vetoed while a handle is open; a surprise removal sends
/// IRP_MN_REMOVE_DEVICE only after the last handle closes, whose cleanup undoes the view.
#[test]
#[cfg_attr(
    miri,
    ignore = "maps device RAM into a user process: ntsim places those pages with mmap, which Miri cannot run"
)]
fn removal_waits_for_the_client_so_its_user_view_is_undone() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for surprise in [false, true] {
        let machine = Machine::new(MachineConfig::default());
        let _g = machine.enter();
        let pdo = machine.plug_pci_device(Box::new(Bochs::new(BochsConfig::default())));
        let driver = machine
            .load_driver("vprsmap", driver_entry)
            .expect("DriverEntry");
        let node = machine.start_device(&driver, pdo).expect("START");
        let client = machine.open(&node).expect("open");
        let mut out = [0u8; 12];
        let user = VIDEO_MEMORY_SPACE_USER_MODE;
        assert_eq!(
            client.ioctl(IOCTL_MAP, &map_request(user, 0, 8192), &mut out),
            Ok(12)
        );
        let va = u64::from_le_bytes(out[..8].try_into().unwrap());
        let node = if surprise {
            assert_eq!(machine.surprise_remove_device(node), STATUS_PENDING);
            None
        } else {
            assert_eq!(
                machine.remove_device(node.clone()),
                STATUS_DEVICE_BUSY,
                "vetoed"
            );
            // Still there: the client can still map.
            assert_eq!(
                client.ioctl(IOCTL_MAP, &map_request(0, 0, 4096), &mut out),
                Ok(12)
            );
            let kva = u64::from_le_bytes(out[..8].try_into().unwrap());
            let mut unmap = kva.to_le_bytes().to_vec();
            unmap.extend_from_slice(&0u32.to_le_bytes());
            assert_eq!(client.ioctl(IOCTL_UNMAP, &unmap, &mut []), Ok(0));
            Some(node)
        };
        client.close();
        let left: Vec<_> = machine
            .take_violations()
            .into_iter()
            .filter(|v| v.code == port_code::OBJECT_LEFT)
            .map(|v| (v.routine, v.params[1]))
            .collect();
        // A surprise removal stops the hardware at once: the view is reported then, and undone
        // (and reported) by the cleanup of its process.
        let mut expected = vec![("IRP_MJ_CLEANUP", va)];
        if surprise {
            expected.insert(0, ("device stop/removal", va));
        }
        assert_eq!(left, expected, "surprise {surprise}");
        if let Some(node) = node {
            assert_eq!(machine.remove_device(node), STATUS_SUCCESS);
        }
        machine.unload_driver(driver);
        machine.assert_clean();
    }
}
