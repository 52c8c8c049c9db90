//! The Bochs display model (QEMU's standard VGA / bochs-display) and the device-memory
//! machinery under it: RAM-backed BARs, kernel views from `MmMapIoSpace`, user views from
//! `MmMapLockedPagesSpecifyCache(UserMode)` in a client's process, and their leaks.

use ddk_sys::*;
use ntsim::devices::bochs::{self, enable, index, mmio, Bochs, BochsConfig};
use ntsim::verifier::{bugcheck, ntsim_code};
use ntsim::{FaultKind, LeakKind, Machine, MachineConfig, Pdo, PAGE};

#[ddk_sys::ntapi]
extern "ntapi" {
    fn NtsimReadRegister(address: usize, size: u8) -> u64;
    fn NtsimWriteRegister(address: usize, size: u8, value: u64);
    fn NtsimReadPort(port: usize, size: u8) -> u64;
    fn NtsimWritePort(port: usize, size: u8, value: u64);
    fn NtsimIsUserAddress(va: usize) -> BOOLEAN;
}

struct Bench {
    machine: Machine,
    pdo: Pdo,
    bar2: usize,
    _guard: ntsim::EnterGuard,
}

fn map(pa: u64, len: usize) -> usize {
    // SAFETY: MmMapIoSpace takes no pointers.
    let va = unsafe {
        MmMapIoSpace(
            PHYSICAL_ADDRESS::new(pa),
            len,
            MEMORY_CACHING_TYPE::MmNonCached,
        )
    };
    assert!(!va.is_null());
    va as usize
}

fn unmap(va: usize, len: usize) {
    // SAFETY: a live mapping of this length.
    unsafe { MmUnmapIoSpace(va as PVOID, len) };
}

impl Bench {
    fn new(config: BochsConfig) -> Bench {
        let machine = Machine::new(MachineConfig::default());
        let guard = machine.enter();
        let pdo = machine.plug_pci_device(Box::new(Bochs::new(config)));
        let (_, base, size) = machine.pci_bar(pdo, 2).expect("BAR2");
        assert_eq!(size, bochs::MMIO_BAR_SIZE);
        let bar2 = map(base, size as usize);
        Bench {
            machine,
            pdo,
            bar2,
            _guard: guard,
        }
    }

    fn bar0(&self) -> (u64, usize) {
        let (_, base, size) = self.machine.pci_bar(self.pdo, 0).expect("BAR0");
        (base, size as usize)
    }

    fn dispi(&self, reg: u16) -> u16 {
        // SAFETY: inside the mapped BAR2.
        unsafe {
            NtsimReadRegister(self.bar2 + (mmio::DISPI as usize) + 2 * reg as usize, 2) as u16
        }
    }

    fn set_dispi(&self, reg: u16, value: u16) {
        // SAFETY: as above.
        unsafe {
            NtsimWriteRegister(
                self.bar2 + (mmio::DISPI as usize) + 2 * reg as usize,
                2,
                value.into(),
            )
        };
    }

    /// What a miniport does: disable, program XRES/YRES/BPP, enable with the LFB.
    fn set_mode(&self, x: u16, y: u16, bpp: u16, extra: u16) {
        self.set_dispi(index::ENABLE, 0);
        self.set_dispi(index::XRES, x);
        self.set_dispi(index::YRES, y);
        self.set_dispi(index::BPP, bpp);
        self.set_dispi(index::ENABLE, enable::ENABLED | enable::LFB | extra);
    }

    fn model<R>(&self, f: impl FnOnce(&mut Bochs) -> R) -> R {
        self.machine.with_pci_model::<Bochs, R>(self.pdo, f)
    }

    fn finish(self) {
        unmap(self.bar2, bochs::MMIO_BAR_SIZE as usize);
        self.machine.assert_clean();
    }
}

#[test]
fn config_space_and_bars_are_those_of_qemus_standard_vga() {
    let b = Bench::new(BochsConfig::default());
    let c = b.machine.pci_config(b.pdo, 0, 0x20).unwrap();
    assert_eq!(u16::from_le_bytes([c[0], c[1]]), 0x1234);
    assert_eq!(u16::from_le_bytes([c[2], c[3]]), 0x1111);
    assert_eq!(c[0x0B], 0x03, "display controller");
    let bar = |n: usize| u32::from_le_bytes(c[0x10 + 4 * n..0x14 + 4 * n].try_into().unwrap());
    let (base0, size0) = b.bar0();
    assert_eq!(size0, bochs::DEFAULT_VRAM);
    assert_eq!(bar(0), base0 as u32 | 8, "BAR0: 32-bit prefetchable memory");
    assert_eq!(bar(1), 0, "no BAR1");
    assert_eq!(u64::from(bar(2)), b.machine.pci_bar(b.pdo, 2).unwrap().1);
    assert_eq!(
        b.machine.pci_bar(b.pdo, 1).unwrap().0,
        ntsim::BarKind::Unused
    );
    b.finish();
}

#[test]
fn detection_by_id_and_capabilities_over_mmio_and_the_legacy_ports() {
    let b = Bench::new(BochsConfig::default());
    for id in [0xB0C0, 0xB0C2, 0xB0C5] {
        b.set_dispi(index::ID, id);
        assert_eq!(b.dispi(index::ID), id);
    }
    b.set_dispi(index::ID, 0xB0C6);
    assert_eq!(b.dispi(index::ID), 0xB0C5, "an unknown version is ignored");
    assert_eq!(b.dispi(index::VIDEO_MEMORY_64K), 256);
    b.set_dispi(index::VIDEO_MEMORY_64K, 1);
    assert_eq!(b.dispi(index::VIDEO_MEMORY_64K), 256, "read-only");

    b.set_dispi(index::XRES, 800);
    b.set_dispi(index::ENABLE, enable::GETCAPS);
    assert_eq!(
        (
            b.dispi(index::XRES),
            b.dispi(index::YRES),
            b.dispi(index::BPP)
        ),
        (2560, 1600, 32)
    );
    b.set_dispi(index::ENABLE, 0);
    assert_eq!(b.dispi(index::XRES), 800, "the latched value is back");

    // The same registers through 0x1CE/0x1CF.
    // SAFETY: port hooks.
    unsafe {
        NtsimWritePort(0x1CE, 2, index::ID.into());
        NtsimWritePort(0x1CF, 2, 0xB0C4);
        assert_eq!(NtsimReadPort(0x1CF, 2), 0xB0C4);
        NtsimWritePort(0x1CE, 2, index::VIDEO_MEMORY_64K.into());
        assert_eq!(NtsimReadPort(0x1CF, 2), 256);
    }
    assert_eq!(b.dispi(index::ID), 0xB0C4);
    assert!(b.machine.violations().is_empty());
    b.finish();
}

#[test]
fn without_legacy_ports_they_are_not_decoded() {
    let b = Bench::new(BochsConfig {
        legacy_ports: false,
        ..Default::default()
    });
    // SAFETY: port hook.
    assert_eq!(unsafe { NtsimReadPort(0x1CF, 2) }, 0xFFFF);
    let v = b.machine.take_violations();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].code, ntsim_code::UNMAPPED_REGISTER);
    b.finish();
}

#[test]
fn mode_set_and_frame_buffer_written_through_a_kernel_view() {
    let b = Bench::new(BochsConfig::default());
    // Stale contents must be cleared by the mode set.
    b.model(|d| d.vram().fill(0, 4096, 0xEE));
    b.set_mode(1024, 768, 32, 0);
    let mode = b.model(|d| d.mode());
    assert!(mode.enabled && mode.lfb);
    assert_eq!(
        (mode.xres, mode.yres, mode.bpp, mode.stride),
        (1024, 768, 32, 4096)
    );
    assert_eq!(b.model(|d| d.mode_sets()), 1);
    assert_eq!(b.dispi(index::VIRT_WIDTH), 1024);
    assert_eq!(b.dispi(index::VIRT_HEIGHT), ((16u32 << 20) / 4096) as u16);
    assert_eq!(b.model(|d| d.vram().to_vec(0, 16)), vec![0; 16], "cleared");

    // XRES cannot change under an enabled mode.
    b.set_dispi(index::XRES, 640);
    assert_eq!(b.model(|d| d.mode().xres), 1024);

    let (base, _) = b.bar0();
    let fb_len = 1024 * 768 * 4;
    let fb = map(base, fb_len);
    // SAFETY: FFI query.
    assert_eq!(unsafe { NtsimIsUserAddress(fb) }, FALSE, "a kernel view");
    // Plain stores, as PE-loaded code would do them.
    // SAFETY: the view is real memory of fb_len bytes.
    unsafe {
        (fb as *mut u32).write_volatile(0x00FF_0000);
        ((fb + 4096) as *mut u32).write_volatile(0x0000_FF00);
    }
    // And the register routine a miniport uses (VideoPortWriteRegisterUlong).
    // SAFETY: inside the mapped frame buffer.
    unsafe { NtsimWriteRegister(fb + 8, 4, 0x0000_00FF) };
    // SAFETY: as above.
    assert_eq!(unsafe { NtsimReadRegister(fb, 4) }, 0x00FF_0000);
    let frame = b.model(|d| d.visible_frame());
    assert_eq!(frame.len(), fb_len);
    assert_eq!(&frame[0..4], &[0, 0, 0xFF, 0]);
    assert_eq!(&frame[8..12], &[0xFF, 0, 0, 0]);
    assert_eq!(&frame[4096..4100], &[0, 0xFF, 0, 0], "second scanline");

    // Panning: the visible frame starts a line lower.
    b.set_dispi(index::Y_OFFSET, 1);
    assert_eq!(&b.model(|d| d.visible_frame())[0..4], &[0, 0xFF, 0, 0]);

    // MmGetPhysicalAddress of the view is the BAR address.
    // SAFETY: FFI query.
    let pa = unsafe { MmGetPhysicalAddress((fb + 4096) as PVOID) }.get();
    assert_eq!(pa, base + 4096);

    // Two views alias the same pages.
    let second = map(base + 4096, 16);
    // SAFETY: both views are live.
    unsafe {
        assert_eq!((second as *const u32).read_volatile(), 0x0000_FF00);
        (second as *mut u32).write_volatile(7);
        assert_eq!(((fb + 4096) as *const u32).read_volatile(), 7);
    }
    unmap(second, 16);
    unmap(fb, fb_len);
    b.finish();
}

#[test]
fn noclear_keeps_the_frame_buffer() {
    let b = Bench::new(BochsConfig::default());
    b.model(|d| d.vram().fill(0, 800 * 4, 0x5A));
    b.set_mode(800, 600, 32, enable::NOCLEAR);
    assert_eq!(
        b.model(|d| d.visible_frame())[..800 * 4],
        vec![0x5A; 800 * 4]
    );
    b.finish();
}

#[test]
fn modes_that_do_not_fit_are_refused_and_the_display_stays_off() {
    let b = Bench::new(BochsConfig {
        vram: 8 << 20,
        ..Default::default()
    });
    b.set_dispi(index::ENABLE, enable::GETCAPS);
    assert_eq!(
        b.dispi(index::YRES),
        ((8 << 20) / (2560 * 4)) as u16,
        "bounded by VRAM"
    );
    b.set_mode(2560, 1600, 32, 0);
    assert!(!b.model(|d| d.mode().enabled));
    assert_eq!(b.dispi(index::ENABLE) & enable::ENABLED, 0);
    b.set_mode(640, 480, 7, 0);
    b.set_mode(4000, 100, 8, 0);
    b.set_mode(0, 480, 8, 0);
    let refusals = b.model(|d| d.refusals().to_vec());
    assert_eq!(refusals.len(), 4, "{refusals:?}");
    assert!(refusals[0].contains("VRAM"), "{}", refusals[0]);
    assert!(refusals[1].contains("BPP 7"), "{}", refusals[1]);
    assert_eq!(
        b.model(|d| (d.mode_sets(), d.visible_frame().len())),
        (0, 0)
    );
    // A mode that fits still works afterwards; 16 bpp.
    b.set_mode(1280, 1024, 16, 0);
    let m = b.model(|d| d.mode());
    assert!(m.enabled);
    assert_eq!(m.stride, 2560);
    b.finish();
}

#[test]
fn edid_is_a_valid_edid_1_3_block_preferring_1024x768() {
    let b = Bench::new(BochsConfig::default());
    // Read through BAR2 byte by byte, as a miniport does.
    // SAFETY: inside BAR2.
    let edid: Vec<u8> = (0..128)
        .map(|i| unsafe { NtsimReadRegister(b.bar2 + i, 1) } as u8)
        .collect();
    assert_eq!(edid, b.model(|d| d.edid()).to_vec());
    assert_eq!(&edid[0..8], &[0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0]);
    assert_eq!(
        edid.iter().fold(0u8, |a, x| a.wrapping_add(*x)),
        0,
        "checksum"
    );
    assert_eq!((edid[18], edid[19]), (1, 3), "EDID 1.3");
    assert_eq!(edid[24] & 0x02, 0x02, "preferred timing mode");
    let dtd = &edid[54..72];
    let h = u16::from(dtd[2]) | u16::from(dtd[4] >> 4) << 8;
    let v = u16::from(dtd[5]) | u16::from(dtd[7] >> 4) << 8;
    assert_eq!((h, v), (1024, 768));
    assert_eq!(u16::from_le_bytes([dtd[0], dtd[1]]), 6500, "65 MHz");
    assert_eq!(edid[126], 0, "no extensions");
    // Past the blob reads zero; a 4-byte read composes little-endian.
    // SAFETY: inside BAR2.
    unsafe {
        assert_eq!(NtsimReadRegister(b.bar2 + 0x200, 4), 0);
        assert_eq!(NtsimReadRegister(b.bar2, 4), 0xFFFF_FF00);
    }
    let other = bochs::edid_block((1280, 1024));
    assert_eq!(other.iter().fold(0u8, |a, x| a.wrapping_add(*x)), 0);
    b.finish();
}

#[test]
fn vga_window_flip_flop_and_display_enable() {
    let b = Bench::new(BochsConfig::default());
    assert!(!b.model(|d| d.vga_display_enabled()));
    // SAFETY: inside BAR2.
    unsafe {
        NtsimReadRegister(b.bar2 + 0x41A, 1);
        NtsimWriteRegister(b.bar2 + 0x400, 1, 0x20);
    }
    assert!(b.model(|d| d.vga_display_enabled()));
    // A data write follows the index write; reading 0x3DA resets to index.
    // SAFETY: inside BAR2 / port hooks.
    unsafe {
        NtsimWriteRegister(b.bar2 + 0x400, 1, 0x07);
        NtsimReadPort(0x3DA, 1);
        NtsimWritePort(0x3C0, 1, 0x01);
    }
    assert!(
        !b.model(|d| d.vga_display_enabled()),
        "0x01 was taken as an index"
    );
    // A DISPI access of the wrong size is reported.
    // SAFETY: inside BAR2.
    unsafe { NtsimWriteRegister(b.bar2 + 0x500, 4, 0) };
    let v = b.machine.take_violations();
    assert_eq!(v.len(), 1);
    assert_eq!(
        (v[0].bugcheck, v[0].code),
        (
            bugcheck::DEVICE_MODEL_CHECK,
            bochs::violation::BOCHS_BAD_ACCESS
        )
    );
    b.finish();
}

#[test]
fn io_space_mappings_left_are_leaks_and_unmapping_clears_them() {
    let b = Bench::new(BochsConfig::default());
    let (base, _) = b.bar0();
    let fb = map(base + 0x1000, 0x2000);
    let leaks = b.machine.leaks();
    assert_eq!(leaks.count(LeakKind::IoSpaceMapping), 2, "{leaks}");
    unmap(fb, 0x2000);
    // SAFETY: the view is gone; the hook reports rather than touching it.
    assert_eq!(unsafe { NtsimReadRegister(fb, 4) }, 0xFFFF_FFFF);
    let v = b.machine.take_violations();
    assert_eq!(v[0].code, ntsim_code::UNMAPPED_REGISTER);
    b.finish();
}

#[test]
fn ps_get_current_process_is_the_system_process_outside_client_requests() {
    let m = Machine::new(MachineConfig::default());
    let _g = m.enter();
    // SAFETY: no arguments.
    let (a, b) = unsafe { (PsGetCurrentProcess(), IoGetCurrentProcess()) };
    assert!(!a.is_null());
    assert_eq!(a, b);
}

#[test]
fn user_mode_mapping_outside_a_client_process_is_refused() {
    let b = Bench::new(BochsConfig::default());
    let (base, _) = b.bar0();
    let kva = map(base, PAGE);
    // SAFETY: a fresh MDL over the live kernel view.
    unsafe {
        let mdl = IoAllocateMdl(
            kva as PVOID,
            PAGE as u32,
            FALSE,
            FALSE,
            core::ptr::null_mut(),
        );
        MmBuildMdlForNonPagedPool(mdl);
        let mut uva = core::ptr::null_mut();
        let st = VprtMapLockedPagesUser(
            mdl,
            MEMORY_CACHING_TYPE::MmWriteCombined,
            MM_PAGE_PRIORITY::NormalPagePriority,
            &mut uva,
        );
        assert_eq!(st, STATUS_INVALID_PARAMETER);
        assert!(uva.is_null());
        IoFreeMdl(mdl);
    }
    let v = b.machine.take_violations();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].code, ntsim_code::WRONG_PROCESS, "{}", v[0]);
    unmap(kva, PAGE);
    b.finish();
}

// ---- A small WDM driver that maps the frame buffer for its client -------------------------

const IOCTL_MAP: u32 = CTL_CODE(FILE_DEVICE_VIDEO, 0x900, METHOD_BUFFERED, FILE_ANY_ACCESS);
const IOCTL_UNMAP: u32 = CTL_CODE(FILE_DEVICE_VIDEO, 0x901, METHOD_BUFFERED, FILE_ANY_ACCESS);
const IOCTL_KEEP_ON_CLEANUP: u32 =
    CTL_CODE(FILE_DEVICE_VIDEO, 0x902, METHOD_BUFFERED, FILE_ANY_ACCESS);

/// How IOCTL_MAP maps: through the guard, or a direct (unguarded) call.
const VIA_GUARD: u64 = 0;
const DIRECT: u64 = 1;

#[derive(Clone, Copy)]
#[repr(C)]
struct Map {
    uva: usize,
    mdl: *mut MDL,
    kva: usize,
    len: usize,
    process: PEPROCESS,
}

#[repr(C)]
struct Ext {
    lower: *mut DEVICE_OBJECT,
    keep_on_cleanup: bool,
    maps: [Map; 4],
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn driver_entry(
    driver: *mut DRIVER_OBJECT,
    _path: *mut UNICODE_STRING,
) -> NTSTATUS {
    // SAFETY: the I/O manager's driver object.
    unsafe {
        (*(*driver).DriverExtension).AddDevice = Some(add_device);
        (*driver).DriverUnload = Some(unload);
        for major in [
            IRP_MJ_CREATE,
            IRP_MJ_CLOSE,
            IRP_MJ_CLEANUP,
            IRP_MJ_DEVICE_CONTROL,
        ] {
            (*driver).MajorFunction[major as usize] = Some(dispatch);
        }
        (*driver).MajorFunction[IRP_MJ_PNP as usize] = Some(pnp);
    }
    STATUS_SUCCESS
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn unload(_driver: *mut DRIVER_OBJECT) {}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn add_device(
    driver: *mut DRIVER_OBJECT,
    pdo: *mut DEVICE_OBJECT,
) -> NTSTATUS {
    let mut fdo = core::ptr::null_mut();
    // SAFETY: I/O manager calls with valid objects.
    unsafe {
        let st = IoCreateDevice(
            driver,
            size_of::<Ext>() as u32,
            core::ptr::null_mut(),
            FILE_DEVICE_VIDEO,
            0,
            FALSE,
            &mut fdo,
        );
        if !st.is_success() {
            return st;
        }
        let ext = (*fdo).DeviceExtension.cast::<Ext>();
        (*ext).lower = IoAttachDeviceToDeviceStack(fdo, pdo);
        (*fdo).Flags &= !DO_DEVICE_INITIALIZING;
    }
    STATUS_SUCCESS
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn pnp(fdo: *mut DEVICE_OBJECT, irp: *mut IRP) -> NTSTATUS {
    // SAFETY: a live IRP for our FDO.
    unsafe {
        let ext = (*fdo).DeviceExtension.cast::<Ext>();
        let minor = (*IoGetCurrentIrpStackLocation(irp)).MinorFunction;
        let lower = (*ext).lower;
        IoSkipCurrentIrpStackLocation(irp);
        let st = IoCallDriver(lower, irp);
        if minor == IRP_MN_REMOVE_DEVICE {
            IoDetachDevice(lower);
            IoDeleteDevice(fdo);
        }
        st
    }
}

fn complete(irp: *mut IRP, status: NTSTATUS, information: usize) -> NTSTATUS {
    // SAFETY: a live IRP we own.
    unsafe {
        (*irp).IoStatus.Status = status;
        (*irp).IoStatus.Information = information;
        IoCompleteRequest(irp, 0);
    }
    status
}

/// Undoes one mapping (in its process's context).
///
/// # Safety
/// `m` is a live mapping made by `map_frame_buffer`.
unsafe fn unmap_one(m: &mut Map) {
    // SAFETY: forwarded.
    unsafe {
        MmUnmapLockedPages(m.uva as PVOID, m.mdl);
        IoFreeMdl(m.mdl);
        MmUnmapIoSpace(m.kva as PVOID, m.len);
    }
    m.uva = 0;
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn dispatch(fdo: *mut DEVICE_OBJECT, irp: *mut IRP) -> NTSTATUS {
    // SAFETY: a live IRP for our FDO; buffered I/O.
    unsafe {
        let ext = &mut *(*fdo).DeviceExtension.cast::<Ext>();
        let s = IoGetCurrentIrpStackLocation(irp);
        let me = PsGetCurrentProcess();
        match (*s).MajorFunction {
            IRP_MJ_CLEANUP if !ext.keep_on_cleanup => {
                for m in ext
                    .maps
                    .iter_mut()
                    .filter(|m| m.uva != 0 && m.process == me)
                {
                    unmap_one(m);
                }
                complete(irp, STATUS_SUCCESS, 0)
            }
            IRP_MJ_DEVICE_CONTROL => {
                let p = (*s).Parameters.DeviceIoControl;
                let buf = (*irp).SystemBuffer.cast::<u64>();
                match p.IoControlCode.0 {
                    IOCTL_KEEP_ON_CLEANUP => {
                        ext.keep_on_cleanup = true;
                        complete(irp, STATUS_SUCCESS, 0)
                    }
                    IOCTL_MAP => {
                        let (pa, len, how) =
                            (buf.read(), buf.add(1).read() as usize, buf.add(2).read());
                        let Some(slot) = ext.maps.iter().position(|m| m.uva == 0) else {
                            return complete(irp, STATUS_INSUFFICIENT_RESOURCES, 0);
                        };
                        // The sequence the port uses for IOCTL_VIDEO_MAP_VIDEO_MEMORY.
                        let kva = MmMapIoSpace(
                            PHYSICAL_ADDRESS::new(pa),
                            len,
                            MEMORY_CACHING_TYPE::MmWriteCombined,
                        );
                        let mdl =
                            IoAllocateMdl(kva, len as u32, FALSE, FALSE, core::ptr::null_mut());
                        MmBuildMdlForNonPagedPool(mdl);
                        let mut uva = core::ptr::null_mut();
                        let st = if how == VIA_GUARD {
                            VprtMapLockedPagesUser(
                                mdl,
                                MEMORY_CACHING_TYPE::MmWriteCombined,
                                MM_PAGE_PRIORITY::NormalPagePriority,
                                &mut uva,
                            )
                        } else {
                            uva = MmMapLockedPagesSpecifyCache(
                                mdl,
                                UserMode,
                                MEMORY_CACHING_TYPE::MmWriteCombined,
                                core::ptr::null_mut(),
                                FALSE as u32,
                                MM_PAGE_PRIORITY::NormalPagePriority,
                            );
                            if uva.is_null() {
                                STATUS_INSUFFICIENT_RESOURCES
                            } else {
                                STATUS_SUCCESS
                            }
                        };
                        if !st.is_success() {
                            IoFreeMdl(mdl);
                            MmUnmapIoSpace(kva, len);
                            return complete(irp, st, 0);
                        }
                        ext.maps[slot] = Map {
                            uva: uva as usize,
                            mdl,
                            kva: kva as usize,
                            len,
                            process: me,
                        };
                        buf.write(uva as u64);
                        buf.add(1).write(me as u64);
                        buf.add(2).write(kva as u64);
                        complete(irp, STATUS_SUCCESS, 24)
                    }
                    IOCTL_UNMAP => {
                        let uva = buf.read() as usize;
                        match ext.maps.iter_mut().find(|m| m.uva == uva && uva != 0) {
                            Some(m) => {
                                unmap_one(m);
                                complete(irp, STATUS_SUCCESS, 0)
                            }
                            None => complete(irp, STATUS_INVALID_PARAMETER, 0),
                        }
                    }
                    _ => complete(irp, STATUS_INVALID_DEVICE_REQUEST, 0),
                }
            }
            _ => complete(irp, STATUS_SUCCESS, 0),
        }
    }
}

struct Rig {
    b: Bench,
    driver: ntsim::Driver,
    node: ntsim::DeviceNode,
}

impl Rig {
    fn new() -> Rig {
        let b = Bench::new(BochsConfig::default());
        let driver = b
            .machine
            .load_driver("bochstest", driver_entry)
            .expect("DriverEntry");
        let node = b.machine.start_device(&driver, b.pdo).expect("START");
        Rig { b, driver, node }
    }

    /// IOCTL_MAP: (user address, process, kernel address).
    fn map(
        &self,
        h: &ntsim::UserHandle,
        offset: u64,
        len: u64,
        how: u64,
    ) -> Result<(usize, usize, usize), NTSTATUS> {
        let (base, _) = self.b.bar0();
        let mut input = Vec::new();
        for v in [base + offset, len, how] {
            input.extend_from_slice(&v.to_le_bytes());
        }
        let mut out = [0u8; 24];
        h.ioctl(IOCTL_MAP, &input, &mut out)?;
        let word =
            |i: usize| u64::from_le_bytes(out[8 * i..8 * i + 8].try_into().unwrap()) as usize;
        Ok((word(0), word(1), word(2)))
    }

    fn finish(self) {
        assert_eq!(self.b.machine.remove_device(self.node), STATUS_SUCCESS);
        self.b.machine.unload_driver(self.driver);
        self.b.finish();
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "maps device RAM into a user process: ntsim places those pages with mmap, which Miri cannot run"
)]
fn a_user_view_aliases_the_frame_buffer_and_is_undone_at_cleanup() {
    let rig = Rig::new();
    rig.b.set_mode(1024, 768, 32, 0);
    let fb_len = 1024 * 768 * 4;
    let h = rig.b.machine.open(&rig.node).unwrap();
    let (uva, process, kva) = rig.map(&h, 0, fb_len as u64, VIA_GUARD).unwrap();
    assert_eq!(
        process,
        h.process(),
        "PsGetCurrentProcess is the client's during its IOCTL"
    );
    assert_ne!(uva, kva);
    // SAFETY: FFI queries.
    unsafe {
        assert_eq!(NtsimIsUserAddress(uva), TRUE);
        assert_eq!(NtsimIsUserAddress(kva), FALSE);
    }
    assert_eq!(h.mappings(), vec![(uva, fb_len)]);

    // The application draws through its view; the monitor shows it; the kernel view sees it.
    let view = h.mapping(uva, fb_len).expect("mapped in the client");
    view.write(4 * 1024 * 10, &[1, 2, 3, 4]);
    let frame = rig.b.model(|d| d.visible_frame());
    assert_eq!(&frame[4 * 1024 * 10..4 * 1024 * 10 + 4], &[1, 2, 3, 4]);
    // SAFETY: the kernel view is live.
    let word = unsafe { ((kva + 4 * 1024 * 10) as *const u32).read_volatile() };
    assert_eq!(word, 0x0403_0201);
    // And the other way round.
    rig.b.model(|d| d.vram().write(8, &[9, 9]));
    let mut two = [0u8; 2];
    view.read(8, &mut two);
    assert_eq!(two, [9, 9]);

    // A second, page-unaligned mapping in the same process.
    let (uva2, _, _) = rig.map(&h, 0x1234, 0x100, VIA_GUARD).unwrap();
    assert_eq!(uva2 % PAGE, 0x234);
    let v2 = h.mapping(uva2, 0x100).unwrap();
    assert_eq!(
        v2.to_vec()[..4],
        rig.b.model(|d| d.vram().to_vec(0x1234, 4))[..]
    );

    // Explicit unmap of one; CLEANUP undoes the other.
    h.ioctl(IOCTL_UNMAP, &(uva2 as u64).to_le_bytes(), &mut [])
        .unwrap();
    assert!(h.mapping(uva2, 1).is_none());
    assert_eq!(rig.b.machine.leaks().count(LeakKind::UserMapping), 1);
    h.close();
    assert_eq!(rig.b.machine.leaks().count(LeakKind::UserMapping), 0);
    rig.finish();
}

#[test]
#[cfg_attr(
    miri,
    ignore = "maps device RAM into a user process: ntsim places those pages with mmap, which Miri cannot run"
)]
fn another_process_cannot_see_a_clients_view() {
    let rig = Rig::new();
    let a = rig.b.machine.open(&rig.node).unwrap();
    let other = rig.b.machine.open(&rig.node).unwrap();
    assert_ne!(a.process(), other.process());
    let (uva, _, _) = rig.map(&a, 0, PAGE as u64, VIA_GUARD).unwrap();
    assert!(other.mapping(uva, 4).is_none());
    assert!(a.mapping(uva, 4).is_some());
    a.close();
    other.close();
    rig.finish();
}

#[test]
#[cfg_attr(
    miri,
    ignore = "maps device RAM into a user process: ntsim places those pages with mmap, which Miri cannot run"
)]
fn a_view_left_after_the_client_closes_is_reported_as_a_leak() {
    let rig = Rig::new();
    let h = rig.b.machine.open(&rig.node).unwrap();
    h.ioctl(IOCTL_KEEP_ON_CLEANUP, &[], &mut []).unwrap();
    let (uva, _, _) = rig.map(&h, 0, 2 * PAGE as u64, VIA_GUARD).unwrap();
    let process_id = h.process_id();
    h.close();
    let leaks = rig.b.machine.leaks();
    assert_eq!(leaks.count(LeakKind::UserMapping), 1, "{leaks}");
    let d = &leaks
        .leaks
        .iter()
        .find(|l| l.kind == LeakKind::UserMapping)
        .unwrap()
        .description;
    assert!(d.contains(&format!("{uva:#x}")), "{d}");
    assert!(d.contains(&format!("process {process_id}")), "{d}");
    assert!(d.contains("exited"), "{d}");
    // The kernel view and MDL behind it are leaks too.
    assert_eq!(leaks.count(LeakKind::Mdl), 1);
    assert_eq!(leaks.count(LeakKind::IoSpaceMapping), 2);

    // Undoing it now, from the System process, is the wrong context: refused and reported.
    let mdl = {
        // SAFETY: the FDO's extension (the driver's) holds the record.
        let ext = unsafe { &mut *(*rig.node.top()).DeviceExtension.cast::<Ext>() };
        ext.maps[0].mdl
    };
    // SAFETY: a live user view and its MDL.
    unsafe { MmUnmapLockedPages(uva as PVOID, mdl) };
    let v = rig.b.machine.take_violations();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].code, ntsim_code::WRONG_PROCESS, "{}", v[0]);
    assert_eq!(rig.b.machine.leaks().count(LeakKind::UserMapping), 1);
    // Freeing the MDL while the view exists is refused as well.
    // SAFETY: the MDL is live.
    unsafe { IoFreeMdl(mdl) };
    let v = rig.b.machine.take_violations();
    assert_eq!(v[0].code, ntsim_code::MDL_MISUSE, "{}", v[0]);
    // The machine keeps the leak; leave it to the machine's drop.
    assert!(!rig.b.machine.leaks().is_empty());
}

#[test]
#[cfg_attr(
    miri,
    ignore = "maps device RAM into a user process: ntsim places those pages with mmap, which Miri cannot run"
)]
fn a_failing_user_mapping_is_a_status_under_the_guard_and_a_violation_without() {
    let rig = Rig::new();
    let h = rig.b.machine.open(&rig.node).unwrap();
    rig.b.machine.fail_nth(FaultKind::UserMapping, 1);
    assert_eq!(
        rig.map(&h, 0, PAGE as u64, VIA_GUARD),
        Err(STATUS_INSUFFICIENT_RESOURCES)
    );
    assert!(rig.b.machine.violations().is_empty());
    rig.b.machine.fail_nth(FaultKind::UserMapping, 1);
    assert_eq!(
        rig.map(&h, 0, PAGE as u64, DIRECT),
        Err(STATUS_INSUFFICIENT_RESOURCES)
    );
    let v = rig.b.machine.take_violations();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].code, ntsim_code::UNGUARDED_USER_MAPPING, "{}", v[0]);
    // Without a fault the direct call works too.
    let (uva, _, _) = rig.map(&h, 0, PAGE as u64, DIRECT).unwrap();
    assert!(h.mapping(uva, PAGE).is_some());
    h.close();
    rig.finish();
}

#[test]
#[cfg_attr(
    miri,
    ignore = "maps device RAM into a user process: ntsim places those pages with mmap, which Miri cannot run"
)]
fn fault_sweep_over_user_mappings_ends_clean() {
    let report = ntsim::sweep(FaultKind::UserMapping, |m| {
        let pdo = m.plug_pci_device(Box::new(Bochs::new(BochsConfig::default())));
        let driver = m.load_driver("bochstest", driver_entry).map_err(|s| s.0)?;
        let node = m.start_device(&driver, pdo).map_err(|s| s.0)?;
        let (_, base, _) = m.pci_bar(pdo, 0).unwrap();
        let h = m.open(&node).map_err(|s| s.0)?;
        let mut result = Ok(());
        for _ in 0..3 {
            let mut input = Vec::new();
            for v in [base, PAGE as u64, VIA_GUARD] {
                input.extend_from_slice(&v.to_le_bytes());
            }
            if let Err(s) = h.ioctl(IOCTL_MAP, &input, &mut [0u8; 24]) {
                result = Err(s.0);
            }
        }
        h.close();
        m.remove_device(node);
        m.unload_driver(driver);
        result
    });
    assert_eq!(report.points, 3);
    assert_eq!(report.errors, 3);
}
