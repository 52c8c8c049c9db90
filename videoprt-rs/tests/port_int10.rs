//! VideoPortQueryServices (the INT 10h interface), VideoPortInt10 and
//! VIDEO_PORT_CONFIG_INFO.VideoPortGetProcAddress, called as a miniport calls them, on a machine
//! with ntsim's Bochs display and its VBE BIOS behind the HAL's x86 emulator: what each does,
//! then a bad-input table per entry point (the status returned, the report made), the
//! reference counting, the kernels without the emulator (NT 5.2) and injected HAL failures.

use core::ptr::null_mut;
use ddk_sys::*;
use ntsim::devices::bochs::{Bochs, BochsConfig};
use ntsim::{FaultKind, Machine, MachineConfig, OsVersion};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use videoprt::port::initialize::VideoPortInitialize;
use videoprt::port::int10::{VideoPortInt10, INT10_NO_BUFFER};
use videoprt::port::services::VideoPortQueryServices;
use videoprt::report::{port_code, DMA_VIOLATION, VIDEOPRT_RS_CHECK};

static HW: AtomicUsize = AtomicUsize::new(0);
static GET_PROC: AtomicUsize = AtomicUsize::new(0);
static SERIAL: Mutex<()> = Mutex::new(());

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn find_adapter(
    hw: PVOID,
    _context: PVOID,
    _argument: *mut WCHAR,
    config: PVIDEO_PORT_CONFIG_INFO,
    again: PUCHAR,
) -> VP_STATUS {
    HW.store(hw as usize, Ordering::SeqCst);
    // SAFETY: the port's config info and out flag.
    unsafe {
        let f = (*config).VideoPortGetProcAddress.map_or(0, |f| f as usize);
        GET_PROC.store(f, Ordering::SeqCst);
        *again = FALSE;
    }
    NO_ERROR
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn initialize(_hw: PVOID) -> BOOLEAN {
    TRUE
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn start_io(_hw: PVOID, vrp: PVIDEO_REQUEST_PACKET) -> BOOLEAN {
    // SAFETY: the port's packet.
    unsafe { (*(*vrp).StatusBlock).Status = ERROR_INVALID_FUNCTION };
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
    data.HwDeviceExtensionSize = 64;
    // SAFETY: DriverEntry's arguments, passed on.
    NTSTATUS(
        unsafe { VideoPortInitialize(driver.cast(), path.cast(), &mut data, null_mut()) } as i32,
    )
}

/// A started miniport on a Bochs display; torn down (and checked clean) by `finish`.
struct Rig {
    machine: Machine,
    node: Option<ntsim::DeviceNode>,
    driver: Option<ntsim::Driver>,
    pdo: ntsim::Pdo,
    hw: PVOID,
    _g: ntsim::EnterGuard,
    _s: std::sync::MutexGuard<'static, ()>,
}

impl Rig {
    fn new(os: OsVersion) -> Rig {
        let s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let machine = Machine::new(MachineConfig {
            os,
            ..MachineConfig::default()
        });
        let g = machine.enter();
        let pdo = machine.plug_pci_device(Box::new(Bochs::new(BochsConfig::default())));
        let driver = machine.load_driver("vprsint10", driver_entry).unwrap();
        let node = machine.start_device(&driver, pdo).expect("START");
        let hw = HW.load(Ordering::SeqCst) as PVOID;
        Rig {
            machine,
            node: Some(node),
            driver: Some(driver),
            pdo,
            hw,
            _g: g,
            _s: s,
        }
    }

    /// (bug check, code, P2) of every report so far, drained.
    fn reports(&self) -> Vec<(u32, u32, u64)> {
        self.machine
            .take_violations()
            .iter()
            .map(|v| (v.bugcheck, v.code, v.params[0]))
            .collect()
    }

    fn query(&self) -> VIDEO_PORT_INT10_INTERFACE {
        let mut i = VIDEO_PORT_INT10_INTERFACE::default();
        // SAFETY: a live extension and a VIDEO_PORT_INT10_INTERFACE.
        let status = unsafe {
            VideoPortQueryServices(
                self.hw,
                VIDEO_PORT_SERVICES::VideoPortServicesInt10,
                (&mut i as *mut VIDEO_PORT_INT10_INTERFACE).cast(),
            )
        };
        assert_eq!(status, NO_ERROR);
        i
    }

    fn finish(mut self) {
        let node = self.node.take().unwrap();
        assert_eq!(self.machine.remove_device(node), STATUS_SUCCESS);
        self.machine.unload_driver(self.driver.take().unwrap());
        assert_eq!(self.machine.violations(), vec![]);
        self.machine.assert_clean();
    }
}

fn wrong_irql() -> (u32, u32, u64) {
    (DMA_VIOLATION, 0x13, 2)
}

fn vprs(code: u32, p2: u64) -> (u32, u32, u64) {
    (VIDEOPRT_RS_CHECK, code, p2)
}

/// Runs `f` at DISPATCH_LEVEL.
fn at_dispatch<R>(f: impl FnOnce() -> R) -> R {
    // SAFETY: raised and lowered around `f`.
    let old = unsafe { KeRaiseIrql(DISPATCH_LEVEL) };
    let r = f();
    // SAFETY: as above.
    unsafe { KeLowerIrql(old) };
    r
}

fn alloc(i: &VIDEO_PORT_INT10_INTERFACE, length: u32) -> (VP_STATUS, u16, u16, u32) {
    let (mut seg, mut off, mut len) = (0u16, 0u16, length);
    // SAFETY: three live locals.
    let status = unsafe { i.Int10AllocateBuffer.unwrap()(i.Context, &mut seg, &mut off, &mut len) };
    (status, seg, off, len)
}

fn read(i: &VIDEO_PORT_INT10_INTERFACE, seg: u16, off: u16, len: usize) -> (VP_STATUS, Vec<u8>) {
    let mut out = vec![0u8; len];
    // SAFETY: `out` holds `len` bytes.
    let status = unsafe {
        i.Int10ReadMemory.unwrap()(i.Context, seg, off, out.as_mut_ptr().cast(), len as u32)
    };
    (status, out)
}

fn write(i: &VIDEO_PORT_INT10_INTERFACE, seg: u16, off: u16, data: &[u8]) -> VP_STATUS {
    // SAFETY: `data` holds its length.
    unsafe {
        i.Int10WriteMemory.unwrap()(
            i.Context,
            seg,
            off,
            data.as_ptr().cast_mut().cast(),
            data.len() as u32,
        )
    }
}

fn call(i: &VIDEO_PORT_INT10_INTERFACE, args: &mut INT10_BIOS_ARGUMENTS) -> VP_STATUS {
    // SAFETY: a live argument block.
    unsafe { i.Int10CallBios.unwrap()(i.Context, args) }
}

fn int10(hw: PVOID, args: &mut VIDEO_X86_BIOS_ARGUMENTS) -> VP_STATUS {
    // SAFETY: a live argument block.
    unsafe { VideoPortInt10(hw, args) }
}

#[test]
fn the_int10_interface_reads_the_vbe_bios_and_sets_a_mode() {
    let rig = Rig::new(OsVersion::WINDOWS_7);
    let i = rig.query();
    assert_eq!(
        i.Size as usize,
        core::mem::size_of::<VIDEO_PORT_INT10_INTERFACE>()
    );
    assert_eq!(i.Version, VIDEO_PORT_INT10_INTERFACE_VERSION_1);
    assert_eq!(i.Context, rig.hw, "the Context is the HwDeviceExtension");
    assert!(i.InterfaceReference.is_some() && i.InterfaceDereference.is_some());

    // One 4 KiB block in real-mode memory; *Length says 4096.
    let (status, seg, off, len) = alloc(&i, 512);
    assert_eq!((status, len), (NO_ERROR, 4096));
    assert_eq!(rig.machine.bios_buffers(), vec![(seg, 4096)]);
    assert_eq!(write(&i, seg, off, b"VBE2"), NO_ERROR);
    let mut args = INT10_BIOS_ARGUMENTS {
        Eax: 0x4F00,
        Edi: u32::from(off),
        SegEs: seg,
        ..Default::default()
    };
    assert_eq!(call(&i, &mut args), NO_ERROR);
    assert_eq!(args.Eax, 0x004F);
    assert_eq!(
        (args.SegEs, args.Edi),
        (seg, u32::from(off)),
        "ES:DI come back"
    );
    let (status, info) = read(&i, seg, off, 512);
    assert_eq!(status, NO_ERROR);
    assert_eq!(&info[..4], b"VESA");
    assert_eq!(info, rig.machine.real_memory(seg, off, 512));
    // The mode list lives in the BIOS's ROM, outside the block: readable all the same.
    let far = u32::from_le_bytes(info[14..18].try_into().unwrap());
    let (status, list) = read(&i, (far >> 16) as u16, far as u16, 4);
    assert_eq!((status, list), (NO_ERROR, vec![0x01, 0x01, 0x03, 0x01]));

    // 4F02h through the interface, 4F03h through VideoPortInt10.
    let mut set = INT10_BIOS_ARGUMENTS {
        Eax: 0x4F02,
        Ebx: 0x4142,
        ..Default::default()
    };
    assert_eq!(call(&i, &mut set), NO_ERROR);
    assert_eq!(set.Eax, 0x004F);
    let mode = rig
        .machine
        .with_pci_model(rig.pdo, |b: &mut Bochs| b.mode());
    assert!(mode.enabled && mode.lfb);
    assert_eq!((mode.xres, mode.yres, mode.bpp), (1024, 768, 32));
    let mut get = VIDEO_X86_BIOS_ARGUMENTS {
        Eax: 0xABCD_4F03,
        ..Default::default()
    };
    assert_eq!(int10(rig.hw, &mut get), NO_ERROR);
    assert_eq!((get.Eax, get.Ebx), (0xABCD_004F, 0x4142));

    // SAFETY: the block allocated above, and the reference QueryServices took.
    unsafe {
        assert_eq!(i.Int10FreeBuffer.unwrap()(i.Context, seg, off), NO_ERROR);
        i.InterfaceDereference.unwrap()(i.Context);
    }
    assert!(rig.machine.bios_buffers().is_empty());
    rig.finish();
}

#[test]
fn query_services_bad_input_table() {
    let rig = Rig::new(OsVersion::WINDOWS_10_2004);
    let int10_size = core::mem::size_of::<VIDEO_PORT_INT10_INTERFACE>() as u16;
    type Row = (
        &'static str,
        PVOID,
        VIDEO_PORT_SERVICES,
        Option<(u16, u16)>,
        bool,
        VP_STATUS,
        Vec<(u32, u32, u64)>,
    );
    use VIDEO_PORT_SERVICES as S;
    let rows: Vec<Row> = vec![
        (
            "a made-up HwDeviceExtension",
            0x10 as PVOID,
            S::VideoPortServicesInt10,
            Some((int10_size, 1)),
            false,
            ERROR_INVALID_PARAMETER,
            vec![vprs(port_code::UNKNOWN_DEVICE_EXTENSION, 0x10)],
        ),
        (
            "NULL Interface",
            rig.hw,
            S::VideoPortServicesInt10,
            None,
            false,
            ERROR_INVALID_PARAMETER,
            vec![vprs(port_code::NULL_ARGUMENT, 3)],
        ),
        (
            "at DISPATCH_LEVEL",
            rig.hw,
            S::VideoPortServicesInt10,
            Some((int10_size, 1)),
            true,
            ERROR_INVALID_PARAMETER,
            vec![wrong_irql()],
        ),
        (
            "Size one byte short",
            rig.hw,
            S::VideoPortServicesInt10,
            Some((int10_size - 1, 1)),
            false,
            ERROR_INVALID_PARAMETER,
            vec![],
        ),
        (
            "Version 2",
            rig.hw,
            S::VideoPortServicesInt10,
            Some((int10_size, 2)),
            false,
            ERROR_INVALID_PARAMETER,
            vec![],
        ),
        (
            "AGP (not provided)",
            rig.hw,
            S::VideoPortServicesAGP,
            Some((int10_size, 1)),
            false,
            ERROR_INVALID_FUNCTION,
            vec![],
        ),
        (
            "I2C (not provided)",
            rig.hw,
            S::VideoPortServicesI2C,
            Some((int10_size, 1)),
            false,
            ERROR_INVALID_FUNCTION,
            vec![],
        ),
        (
            "Headless (not provided)",
            rig.hw,
            S::VideoPortServicesHeadless,
            Some((int10_size, 1)),
            false,
            ERROR_INVALID_FUNCTION,
            vec![],
        ),
        (
            "DebugReport (not provided)",
            rig.hw,
            S::VideoPortServicesDebugReport,
            Some((int10_size, 1)),
            false,
            ERROR_INVALID_FUNCTION,
            vec![],
        ),
        (
            "WCMemoryProtection (not provided)",
            rig.hw,
            S::VideoPortServicesWCMemoryProtection,
            Some((int10_size, 1)),
            false,
            ERROR_INVALID_FUNCTION,
            vec![],
        ),
        (
            "service 0",
            rig.hw,
            VIDEO_PORT_SERVICES(0),
            Some((int10_size, 1)),
            false,
            ERROR_INVALID_PARAMETER,
            vec![],
        ),
        (
            "service 99",
            rig.hw,
            VIDEO_PORT_SERVICES(99),
            Some((int10_size, 1)),
            false,
            ERROR_INVALID_PARAMETER,
            vec![],
        ),
    ];
    for (what, hw, service, header, raised, status, reports) in rows {
        let mut i = VIDEO_PORT_INT10_INTERFACE::default();
        let ptr: *mut INTERFACE = match header {
            Some((size, version)) => {
                i.Size = size;
                i.Version = version;
                (&mut i as *mut VIDEO_PORT_INT10_INTERFACE).cast()
            }
            None => null_mut(),
        };
        // SAFETY: `ptr` is NULL or a live VIDEO_PORT_INT10_INTERFACE.
        let query = || unsafe { VideoPortQueryServices(hw, service, ptr) };
        let got = if raised { at_dispatch(query) } else { query() };
        assert_eq!(got, status, "{what}");
        assert_eq!(rig.reports(), reports, "{what}");
        assert!(
            i.Context.is_null() && i.Int10CallBios.is_none(),
            "{what}: untouched"
        );
    }
    rig.finish();
}

#[test]
fn int10_services_bad_input_table_and_reference_counting() {
    let rig = Rig::new(OsVersion::WINDOWS_10_2004);
    let i = rig.query();
    let ctx = i.Context;
    let (mut seg, mut off, mut len) = (0u16, 0u16, 16u32);
    let alloc_raw = |c: PVOID, s: *mut u16, o: *mut u16, l: *mut u32| {
        // SAFETY: each pointer is NULL or a live local.
        unsafe { i.Int10AllocateBuffer.unwrap()(c, s, o, l) }
    };

    // Int10AllocateBuffer.
    assert_eq!(alloc(&i, 4097).0, INT10_NO_BUFFER, "larger than 4096");
    assert_eq!(alloc(&i, 4097).3, 4096, "*Length is 4096 either way");
    assert_eq!(
        alloc_raw(ctx, null_mut(), &mut off, &mut len),
        ERROR_INVALID_PARAMETER
    );
    assert_eq!(
        alloc_raw(ctx, &mut seg, null_mut(), &mut len),
        ERROR_INVALID_PARAMETER
    );
    assert_eq!(
        alloc_raw(ctx, &mut seg, &mut off, null_mut()),
        ERROR_INVALID_PARAMETER
    );
    assert_eq!(
        alloc_raw(0x20 as PVOID, &mut seg, &mut off, &mut len),
        ERROR_INVALID_PARAMETER
    );
    assert_eq!(
        rig.reports(),
        vec![
            vprs(port_code::NULL_ARGUMENT, 2),
            vprs(port_code::NULL_ARGUMENT, 3),
            vprs(port_code::NULL_ARGUMENT, 4),
            vprs(port_code::UNKNOWN_DEVICE_EXTENSION, 0x20),
        ]
    );
    assert_eq!(at_dispatch(|| alloc(&i, 16).0), ERROR_INVALID_PARAMETER);
    assert_eq!(rig.reports(), vec![wrong_irql()]);
    rig.machine.fail_nth(FaultKind::BiosBuffer, 1);
    assert_eq!(
        alloc(&i, 16).0,
        INT10_NO_BUFFER,
        "the HAL is out of buffers"
    );
    let (status, seg, off, _) = alloc(&i, 16);
    assert_eq!(status, NO_ERROR);
    assert_eq!(alloc(&i, 16).0, INT10_NO_BUFFER, "one block at a time");
    assert_eq!(rig.machine.bios_buffers().len(), 1);

    // Int10ReadMemory / Int10WriteMemory.
    // SAFETY: NULL with a length: refused before any access.
    let null_read = unsafe { i.Int10ReadMemory.unwrap()(ctx, seg, off, null_mut(), 4) };
    assert_eq!(null_read, ERROR_INVALID_PARAMETER);
    // SAFETY: as above.
    let null_write = unsafe { i.Int10WriteMemory.unwrap()(ctx, seg, off, null_mut(), 4) };
    assert_eq!(null_write, ERROR_INVALID_PARAMETER);
    assert_eq!(
        rig.reports(),
        vec![
            vprs(port_code::NULL_ARGUMENT, 4),
            vprs(port_code::NULL_ARGUMENT, 4)
        ]
    );
    // SAFETY: nothing is read for 0 bytes.
    let empty = unsafe { i.Int10ReadMemory.unwrap()(ctx, seg, off, null_mut(), 0) };
    assert_eq!(empty, NO_ERROR);
    assert_eq!(
        read(&i, 0xFFFF, 0xFFF0, 32).0,
        ERROR_INVALID_PARAMETER,
        "past 1 MiB"
    );
    assert_eq!(write(&i, 0xFFFF, 0x0010, &[1]), ERROR_INVALID_PARAMETER);
    assert_eq!(rig.reports(), vec![], "a bad range is a status, not misuse");

    // Int10CallBios.
    // SAFETY: NULL arguments: refused.
    let null_call = unsafe { i.Int10CallBios.unwrap()(ctx, null_mut()) };
    assert_eq!(null_call, ERROR_INVALID_PARAMETER);
    assert_eq!(rig.reports(), vec![vprs(port_code::NULL_ARGUMENT, 2)]);
    rig.machine.fail_nth(FaultKind::BiosCall, 1);
    let mut args = INT10_BIOS_ARGUMENTS {
        Eax: 0x4F03,
        ..Default::default()
    };
    assert_eq!(
        call(&i, &mut args),
        ERROR_INVALID_PARAMETER,
        "emulator failed"
    );
    assert_eq!(call(&i, &mut args), NO_ERROR);
    assert_eq!((args.Eax, args.Ebx), (0x004F, 0x0003));

    // Int10FreeBuffer: only the block this device holds, once.
    // SAFETY: plain values.
    let free = |s: u16, o: u16| unsafe { i.Int10FreeBuffer.unwrap()(ctx, s, o) };
    assert_eq!(free(seg + 1, off), ERROR_INVALID_PARAMETER);
    assert_eq!(free(seg, off), NO_ERROR);
    assert_eq!(free(seg, off), ERROR_INVALID_PARAMETER);
    // P2 6: an INT 10h block.
    assert_eq!(rig.reports(), vec![vprs(port_code::UNKNOWN_OBJECT, 6); 2]);
    assert!(rig.machine.bios_buffers().is_empty());

    // References: QueryServices took one; one more, then two dereferences; then the
    // interface is dead and using or dereferencing it is reported.
    // SAFETY: the interface's own callbacks with its Context.
    unsafe {
        i.InterfaceReference.unwrap()(ctx);
        i.InterfaceDereference.unwrap()(ctx);
        let (status, s, o, _) = alloc(&i, 16);
        assert_eq!(status, NO_ERROR, "still referenced");
        assert_eq!(free(s, o), NO_ERROR);
        i.InterfaceDereference.unwrap()(ctx);
    }
    assert_eq!(rig.reports(), vec![]);
    let mut args = INT10_BIOS_ARGUMENTS::default();
    assert_eq!(call(&i, &mut args), ERROR_INVALID_PARAMETER);
    assert_eq!(alloc(&i, 16).0, ERROR_INVALID_PARAMETER);
    // SAFETY: as above.
    unsafe { i.InterfaceDereference.unwrap()(ctx) };
    let ctx_p2 = ctx as u64;
    assert_eq!(
        rig.reports(),
        vec![
            vprs(port_code::INTERFACE_NOT_REFERENCED, ctx_p2),
            vprs(port_code::INTERFACE_NOT_REFERENCED, ctx_p2),
            vprs(port_code::INTERFACE_NOT_REFERENCED, ctx_p2),
        ]
    );
    // A foreign Context on the reference callbacks is reported too.
    // SAFETY: the port checks the Context.
    unsafe { i.InterfaceReference.unwrap()(0x30 as PVOID) };
    assert_eq!(
        rig.reports(),
        vec![vprs(port_code::UNKNOWN_DEVICE_EXTENSION, 0x30)]
    );
    rig.finish();
}

#[test]
fn video_port_int10_bad_input_table() {
    let rig = Rig::new(OsVersion::WINDOWS_10_2004);
    let mut args = VIDEO_X86_BIOS_ARGUMENTS {
        Eax: 0x4F03,
        ..Default::default()
    };
    // SAFETY: NULL arguments: refused.
    let null = unsafe { VideoPortInt10(rig.hw, null_mut()) };
    assert_eq!(null, ERROR_INVALID_PARAMETER);
    assert_eq!(int10(0x40 as PVOID, &mut args), ERROR_INVALID_PARAMETER);
    assert_eq!(
        at_dispatch(|| int10(rig.hw, &mut args)),
        ERROR_INVALID_PARAMETER
    );
    assert_eq!(
        rig.reports(),
        vec![
            vprs(port_code::NULL_ARGUMENT, 2),
            vprs(port_code::UNKNOWN_DEVICE_EXTENSION, 0x40),
            wrong_irql(),
        ]
    );
    assert_eq!(args.Eax, 0x4F03, "refused calls leave the registers");
    rig.machine.fail_nth(FaultKind::BiosCall, 1);
    assert_eq!(int10(rig.hw, &mut args), ERROR_INVALID_PARAMETER);
    assert_eq!(int10(rig.hw, &mut args), NO_ERROR);
    assert_eq!((args.Eax, args.Ebx), (0x004F, 0x0003));
    // An unsupported VBE function still ran: NO_ERROR, the BIOS's answer in AX.
    let mut args = VIDEO_X86_BIOS_ARGUMENTS {
        Eax: 0x4F05,
        ..Default::default()
    };
    assert_eq!(int10(rig.hw, &mut args), NO_ERROR);
    assert_eq!(args.Eax, 0x024F);
    rig.finish();
}

#[test]
fn without_the_bios_emulator_there_is_no_int10() {
    let rig = Rig::new(OsVersion::WINDOWS_SERVER_2003_X64);
    let mut i = VIDEO_PORT_INT10_INTERFACE::default();
    // SAFETY: a live extension and interface.
    let status = unsafe {
        VideoPortQueryServices(
            rig.hw,
            VIDEO_PORT_SERVICES::VideoPortServicesInt10,
            (&mut i as *mut VIDEO_PORT_INT10_INTERFACE).cast(),
        )
    };
    assert_eq!(status, ERROR_INVALID_FUNCTION);
    assert!(i.Int10CallBios.is_none());
    let mut args = VIDEO_X86_BIOS_ARGUMENTS {
        Eax: 0x4F03,
        ..Default::default()
    };
    assert_eq!(int10(rig.hw, &mut args), ERROR_INVALID_FUNCTION);
    assert_eq!(args.Eax, 0x4F03);
    rig.finish();
}

#[test]
fn a_block_held_at_removal_goes_back_to_the_hal() {
    let rig = Rig::new(OsVersion::WINDOWS_8);
    let i = rig.query();
    let (status, seg, _, _) = alloc(&i, 4096);
    assert_eq!(status, NO_ERROR);
    assert_eq!(rig.machine.bios_buffers(), vec![(seg, 4096)]);
    // XDDM has no teardown callback: keeping the block and the reference for the device's
    // life is normal, so removal frees the block without a report (finish checks both).
    rig.finish();
}

#[ddk_sys::ntapi]
type GetProc = unsafe extern "ntapi" fn(PVOID, *mut UCHAR) -> PVOID;

#[test]
fn get_proc_address_finds_every_export_and_nothing_else() {
    let rig = Rig::new(OsVersion::WINDOWS_10_2004);
    let address = GET_PROC.load(Ordering::SeqCst);
    assert_ne!(
        address, 0,
        "VIDEO_PORT_CONFIG_INFO.VideoPortGetProcAddress is set"
    );
    // SAFETY: the port's own callback, stored by find_adapter.
    let get: GetProc = unsafe { core::mem::transmute::<*const (), GetProc>(address as *const ()) };
    let ask = |name: &[u8]| {
        let mut z = name.to_vec();
        z.push(0);
        // SAFETY: a NUL-terminated name.
        unsafe { get(rig.hw, z.as_mut_ptr()) as usize }
    };
    // Rust does not promise one address per function, and Miri gives a function a different
    // address now and then: there the addresses are only checked to be non-NULL.
    let same_address = !cfg!(miri);
    for name in videoprt::exports::NAMES {
        let found = ask(name.as_bytes());
        assert_ne!(found, 0, "{name}");
        if same_address {
            assert_eq!(Some(found), videoprt::exports::lookup(name), "{name}");
        }
    }
    if same_address {
        assert_eq!(ask(b"VideoPortInt10"), VideoPortInt10 as *const () as usize);
        assert_eq!(
            ask(b"VideoPortQueryServices"),
            VideoPortQueryServices as *const () as usize
        );
    }
    for missing in [
        &b""[..],
        b"VideoPortint10",
        b"VideoPortEnableInterrupt",
        b"DllInitialize",
        b"ExAllocatePoolWithTag",
        b"VideoPortInt10 ",
        b"Video\xC3\xA9PortInt10",
    ] {
        assert_eq!(ask(missing), 0, "{}", String::from_utf8_lossy(missing));
    }
    // 64 bytes without a NUL: no export is that long, and nothing past them is read.
    let mut long = [b'A'; 64];
    // SAFETY: 64 readable bytes; the port reads no more.
    assert!(unsafe { get(rig.hw, long.as_mut_ptr()) }.is_null());
    assert_eq!(rig.reports(), vec![]);
    // Misuse: NULL name, a made-up extension, a raised IRQL.
    let mut name = *b"VideoPortInt10\0";
    // SAFETY: the port checks each argument first.
    unsafe {
        assert!(get(rig.hw, null_mut()).is_null());
        assert!(get(0x50 as PVOID, name.as_mut_ptr()).is_null());
    }
    // SAFETY: as above.
    assert!(at_dispatch(|| unsafe { get(rig.hw, name.as_mut_ptr()) }).is_null());
    assert_eq!(
        rig.reports(),
        vec![
            vprs(port_code::NULL_ARGUMENT, 2),
            vprs(port_code::UNKNOWN_DEVICE_EXTENSION, 0x50),
            wrong_irql(),
        ]
    );
    rig.finish();
}
