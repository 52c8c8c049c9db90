//! Child devices, power and DDC end to end on ntsim, with a Rust test miniport for a small
//! display device whose register 0x10 drives a monitor's DDC lines (bit 0 SCL, bit 1 SDA;
//! reads give the line levels), behind which sits ntsim's EDID EEPROM model.
//!
//! The miniport reports ChildIndex 1 as a monitor whose EDID it reads with
//! VideoPortDDCMonitorHelper, ChildIndex 2 as an `Other` child ("VPRS\Gadget"), and no more;
//! each child's extension counts the enumerations that saw it. Its power callbacks log every
//! call and refuse the video states the test names.

use core::ptr::null_mut;
use ddk_sys::*;
use ntsim::devices::bochs::edid_block;
use ntsim::devices::ddc::DdcEeprom;
use ntsim::{BarKind, BarSpec, DeviceContext, Machine, MachineConfig, OsVersion, PciDeviceModel};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use videoprt::port::child::{VideoPortEnumerateChildren, VideoPortGetAssociatedDeviceID};
use videoprt::port::ddc::VideoPortDDCMonitorHelper;
use videoprt::port::initialize::VideoPortInitialize;
use videoprt::port::pnp::VideoPortGetAssociatedDeviceExtension;
use videoprt::port::registers::*;
use videoprt::port::resources::{VideoPortGetAccessRanges, VideoPortGetDeviceBase};
use videoprt::report::{port_code, VIDEOPRT_RS_CHECK};

const DDC_REG: u64 = 0x10;

/// The display device: BAR0 4 KiB, the DDC register at 0x10; a monitor or none.
struct DdcDevice {
    monitor: Option<DdcEeprom>,
}

impl PciDeviceModel for DdcDevice {
    fn vendor_id(&self) -> u16 {
        0x1af4
    }
    fn device_id(&self) -> u16 {
        0x10f1
    }
    fn bars(&self) -> Vec<BarSpec> {
        vec![BarSpec {
            kind: BarKind::Memory32,
            size: 4096,
        }]
    }
    fn has_interrupt(&self) -> bool {
        false
    }
    fn read(&mut self, _ctx: &mut DeviceContext<'_>, _bar: usize, offset: u64, _size: u8) -> u64 {
        match (offset, &self.monitor) {
            (DDC_REG, Some(m)) => u64::from(m.scl()) | u64::from(m.sda()) << 1,
            // Nothing attached: both lines float high.
            (DDC_REG, None) => 3,
            _ => 0,
        }
    }
    fn write(&mut self, _ctx: &mut DeviceContext<'_>, _bar: usize, offset: u64, _size: u8, v: u64) {
        if let (DDC_REG, Some(m)) = (offset, self.monitor.as_mut()) {
            m.drive(v & 1 != 0, v & 2 != 0);
        }
    }
}

fn edid() -> [u8; 128] {
    edid_block((1024, 768))
}

#[repr(C)]
struct Extension {
    bar0: *mut u8,
    lines: u8,
}

/// Which children the miniport reports: bit 0 the monitor, bit 1 the gadget.
static PLUGGED: AtomicU32 = AtomicU32::new(3);
/// What the miniport does wrong at ChildIndex 2/3 (see `get_child`).
static FAULT: AtomicU32 = AtomicU32::new(0);
/// Video power states (bit per VIDEO_POWER_STATE) HwGetPowerState refuses.
static REFUSE: AtomicU32 = AtomicU32::new(0);
static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());
static LAST_EDID: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static HW: Mutex<usize> = Mutex::new(0);
static SERIAL: Mutex<()> = Mutex::new(());

fn log(s: String) {
    LOG.lock().unwrap().push(s);
}

fn take_log() -> Vec<String> {
    std::mem::take(&mut *LOG.lock().unwrap())
}

unsafe fn ext<'a>(hw: PVOID) -> &'a mut Extension {
    // SAFETY: the port passes the miniport's own extension.
    unsafe { &mut *(hw as *mut Extension) }
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn write_lines(hw: PVOID, lines: u8) {
    // SAFETY: the extension's mapped BAR0.
    unsafe {
        let e = ext(hw);
        e.lines = lines;
        VideoPortWriteRegisterUlong(e.bar0.add(DDC_REG as usize).cast(), u32::from(lines));
    }
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn write_scl(hw: PVOID, v: UCHAR) {
    // SAFETY: as in write_lines.
    unsafe { write_lines(hw, (ext(hw).lines & !1) | (v & 1)) }
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn write_sda(hw: PVOID, v: UCHAR) {
    // SAFETY: as in write_lines.
    unsafe { write_lines(hw, (ext(hw).lines & !2) | (v & 1) << 1) }
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn read_scl(hw: PVOID) -> BOOLEAN {
    // SAFETY: as in write_lines.
    unsafe { (VideoPortReadRegisterUlong(ext(hw).bar0.add(DDC_REG as usize).cast()) & 1) as u8 }
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn read_sda(hw: PVOID) -> BOOLEAN {
    // SAFETY: as in write_lines.
    unsafe {
        (VideoPortReadRegisterUlong(ext(hw).bar0.add(DDC_REG as usize).cast()) >> 1 & 1) as u8
    }
}

fn ddc_control() -> DDC_CONTROL {
    DDC_CONTROL {
        Size: size_of::<DDC_CONTROL>() as u32,
        I2CCallbacks: I2C_CALLBACKS {
            WriteClockLine: Some(write_scl),
            WriteDataLine: Some(write_sda),
            ReadClockLine: Some(read_scl),
            ReadDataLine: Some(read_sda),
        },
        EdidSegment: 0,
    }
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn find_adapter(
    hw: PVOID,
    _ctx: PVOID,
    _args: *mut WCHAR,
    _config: PVIDEO_PORT_CONFIG_INFO,
    _again: *mut UCHAR,
) -> VP_STATUS {
    *HW.lock().unwrap() = hw as usize;
    let mut range = [VIDEO_ACCESS_RANGE::default(); 1];
    // SAFETY: the port's arguments; the extension is ours.
    unsafe {
        let vp = VideoPortGetAccessRanges(
            hw,
            0,
            null_mut(),
            1,
            range.as_mut_ptr(),
            null_mut(),
            null_mut(),
            null_mut(),
        );
        if vp != NO_ERROR {
            return vp;
        }
        let e = ext(hw);
        e.bar0 = VideoPortGetDeviceBase(hw, range[0].RangeStart, range[0].RangeLength, 0).cast();
        e.lines = 3;
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
unsafe extern "ntapi" fn get_child(
    hw: PVOID,
    info: PVOID,
    kind: *mut u32,
    descriptor: *mut UCHAR,
    uid: *mut ULONG,
    unused: *mut ULONG,
) -> VP_STATUS {
    // SAFETY: the port's arguments, as documented.
    unsafe {
        let info = &*(info as *const VIDEO_CHILD_ENUM_INFO);
        assert_eq!(
            info.Size as usize,
            core::mem::size_of::<VIDEO_CHILD_ENUM_INFO>()
        );
        assert_eq!(info.ChildDescriptorSize, 128);
        *unused = 0;
        let plugged = PLUGGED.load(Ordering::SeqCst);
        let fault = FAULT.load(Ordering::SeqCst);
        let seen = info.ChildHwDeviceExtension.cast::<u32>();
        log(format!("child index {}", info.ChildIndex));
        match info.ChildIndex {
            1 if plugged & 1 != 0 => {
                *kind = VIDEO_CHILD_TYPE::Monitor.0;
                *uid = 0x100;
                *seen += 1;
                let control = ddc_control();
                let ok = VideoPortDDCMonitorHelper(
                    hw,
                    (&control as *const DDC_CONTROL).cast_mut().cast(),
                    descriptor,
                    info.ChildDescriptorSize,
                );
                if ok != 0 {
                    *LAST_EDID.lock().unwrap() =
                        std::slice::from_raw_parts(descriptor, 128).to_vec();
                } else {
                    core::ptr::write_bytes(descriptor, 0, 128);
                }
                VIDEO_ENUM_MORE_DEVICES
            }
            2 if fault == 1 => {
                // The same UId as the monitor.
                *kind = VIDEO_CHILD_TYPE::Other.0;
                *uid = 0x100;
                VIDEO_ENUM_MORE_DEVICES
            }
            2 if fault == 2 => {
                *kind = VIDEO_CHILD_TYPE::VideoChip.0;
                *uid = DISPLAY_ADAPTER_HW_ID;
                VIDEO_ENUM_MORE_DEVICES
            }
            2 if plugged & 2 != 0 => {
                *kind = VIDEO_CHILD_TYPE::Other.0;
                *uid = 0x200;
                *seen += 1;
                for (i, c) in "VPRS\\Gadget".encode_utf16().chain([0]).enumerate() {
                    descriptor.cast::<u16>().add(i).write_unaligned(c);
                }
                VIDEO_ENUM_MORE_DEVICES
            }
            1 | 2 => VIDEO_ENUM_INVALID_DEVICE,
            3 if fault == 3 => VP_STATUS(0x1234),
            _ => VIDEO_ENUM_NO_MORE_DEVICES,
        }
    }
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn get_power(_hw: PVOID, id: ULONG, control: PVOID) -> VP_STATUS {
    // SAFETY: the port's VIDEO_POWER_MANAGEMENT.
    let c = unsafe { *(control as *const VIDEO_POWER_MANAGEMENT) };
    assert_eq!(c.Length, 12);
    log(format!("get {id:#x} {}", c.PowerState.0));
    if REFUSE.load(Ordering::SeqCst) & 1 << c.PowerState.0 != 0 {
        ERROR_INVALID_FUNCTION
    } else {
        NO_ERROR
    }
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn set_power(_hw: PVOID, id: ULONG, control: PVOID) -> VP_STATUS {
    // SAFETY: the port's VIDEO_POWER_MANAGEMENT.
    let c = unsafe { *(control as *const VIDEO_POWER_MANAGEMENT) };
    log(format!("set {id:#x} {}", c.PowerState.0));
    NO_ERROR
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn driver_entry(
    driver: *mut DRIVER_OBJECT,
    path: *mut UNICODE_STRING,
) -> NTSTATUS {
    // SAFETY: all-zero is valid.
    let mut d: VIDEO_HW_INITIALIZATION_DATA = unsafe { core::mem::zeroed() };
    d.HwInitDataSize = SIZE_OF_WXP_VIDEO_HW_INITIALIZATION_DATA;
    d.HwFindAdapter = Some(find_adapter);
    d.HwInitialize = Some(initialize);
    d.HwStartIO = Some(start_io);
    d.HwDeviceExtensionSize = size_of::<Extension>() as u32;
    d.HwGetVideoChildDescriptor = Some(get_child);
    d.HwGetPowerState = Some(get_power);
    d.HwSetPowerState = Some(set_power);
    d.HwChildDeviceExtensionSize = 16;
    // SAFETY: DriverEntry's arguments.
    NTSTATUS(unsafe { VideoPortInitialize(driver.cast(), path.cast(), &mut d, null_mut()) } as i32)
}

struct Rig {
    machine: Machine,
    pdo: ntsim::Pdo,
    driver: Option<ntsim::Driver>,
    node: Option<ntsim::DeviceNode>,
    _serial: std::sync::MutexGuard<'static, ()>,
}

impl Rig {
    fn new(config: MachineConfig) -> Rig {
        Self::with_monitor(config, Some(DdcEeprom::new(edid().to_vec())))
    }

    fn with_monitor(config: MachineConfig, monitor: Option<DdcEeprom>) -> Rig {
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        PLUGGED.store(3, Ordering::SeqCst);
        FAULT.store(0, Ordering::SeqCst);
        REFUSE.store(0, Ordering::SeqCst);
        take_log();
        LAST_EDID.lock().unwrap().clear();
        let machine = Machine::new(config);
        let pdo = machine.plug_pci_device(Box::new(DdcDevice { monitor }));
        let driver = machine
            .load_driver("vprsddc", driver_entry)
            .expect("DriverEntry");
        let node = machine.start_device(&driver, pdo).expect("START");
        Rig {
            machine,
            pdo,
            driver: Some(driver),
            node: Some(node),
            _serial: serial,
        }
    }

    fn hw(&self) -> PVOID {
        *HW.lock().unwrap() as PVOID
    }

    fn node(&self) -> &ntsim::DeviceNode {
        self.node.as_ref().unwrap()
    }

    fn children(&self) -> Vec<ntsim::ChildDevice> {
        self.machine.children(self.node())
    }

    fn codes(&self) -> Vec<(u32, u32)> {
        self.machine
            .take_violations()
            .iter()
            .map(|v| (v.bugcheck, v.code))
            .collect()
    }

    fn plug_monitor(&self, monitor: Option<DdcEeprom>) {
        self.machine
            .with_pci_model::<DdcDevice, _>(self.pdo, |d| d.monitor = monitor);
    }

    /// Removes and unloads; the machine must be clean.
    fn finish(mut self) {
        let _g = self.machine.enter();
        assert_eq!(
            self.machine.remove_device(self.node.take().unwrap()),
            STATUS_SUCCESS
        );
        self.machine.unload_driver(self.driver.take().unwrap());
        self.machine.assert_clean();
    }
}

/// `VideoPortEnumerateChildren`; any values (the port checks them).
fn enumerate(hw: PVOID, reserved: PVOID) -> VP_STATUS {
    // SAFETY: the port looks the extension up before using it.
    unsafe { VideoPortEnumerateChildren(hw, reserved) }
}

/// `VideoPortGetAssociatedDeviceExtension`; any value (looked up, never dereferenced).
fn associated(device: PVOID) -> PVOID {
    // SAFETY: as above.
    unsafe { VideoPortGetAssociatedDeviceExtension(device) }
}

type DdcCase<'a> = (
    &'a str,
    PVOID,
    *const DDC_CONTROL,
    *mut u8,
    u32,
    Vec<(u32, u32)>,
);

fn port(code: u32) -> (u32, u32) {
    (VIDEOPRT_RS_CHECK, code)
}

#[test]
fn monitor_and_gadget_become_child_pdos_with_edid_derived_ids() {
    let rig = Rig::new(MachineConfig::default());
    let _g = rig.machine.enter();
    assert_eq!(
        take_log()
            .iter()
            .filter(|l| l.starts_with("child"))
            .collect::<Vec<_>>(),
        ["child index 1", "child index 2", "child index 3"]
    );
    // The EDID went over the bit-banged lines byte for byte.
    assert_eq!(*LAST_EDID.lock().unwrap(), edid().to_vec());
    let children = rig.children();
    assert_eq!(children.len(), 2);
    let (monitor, gadget) = (&children[0], &children[1]);
    assert_eq!(monitor.device_id, "DISPLAY\\NTS1111");
    assert_eq!(monitor.hardware_ids, ["MONITOR\\NTS1111"]);
    assert_eq!(monitor.compatible_ids, ["*PNP09FF"]);
    assert_eq!(monitor.instance_id, "UID256");
    assert_eq!(monitor.start_status, STATUS_SUCCESS);
    assert_eq!(monitor.capabilities.Address, 0x100);
    assert_ne!(monitor.capabilities.Flags & capability::RAW_DEVICE_OK, 0);
    assert_eq!(gadget.device_id, "VPRS\\Gadget");
    assert_eq!(gadget.hardware_ids, ["VPRS\\Gadget"]);
    assert!(gadget.compatible_ids.is_empty());
    assert_eq!(gadget.instance_id, "UID512");
    // Children lead to their adapter's extension, as the FDO does.
    for c in &children {
        assert_eq!(associated(c.as_ptr().cast()), rig.hw());
    }
    assert_eq!(associated(rig.node().top().cast()), rig.hw());
    assert_eq!(rig.codes(), []);
    rig.finish();
}

#[test]
fn enumerate_children_again_removes_an_unplugged_monitor_and_finds_it_back() {
    let rig = Rig::new(MachineConfig::default());
    let _g = rig.machine.enter();
    let first = rig.children();
    let gadget_pdo = first[1].pdo;
    PLUGGED.store(2, Ordering::SeqCst);
    rig.plug_monitor(None);
    assert_eq!(enumerate(rig.hw(), null_mut()), NO_ERROR);
    assert_eq!(rig.children().len(), 2, "asynchronous: nothing yet");
    rig.machine.run_until_idle();
    let after = rig.children();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].pdo, gadget_pdo, "the gadget keeps its PDO");
    // Its child extension persisted: the miniport counted two enumerations in it.
    // SAFETY: the port's child PDO; its extension's miniport part follows 16 port bytes.
    let seen = unsafe {
        *(*after[0].as_ptr())
            .DeviceExtension
            .cast::<u8>()
            .add(16)
            .cast::<u32>()
    };
    assert_eq!(seen, 2);
    // The monitor's PDO is gone: the port no longer knows it.
    assert!(associated(first[0].as_ptr().cast()).is_null());
    assert_eq!(rig.codes(), [port(port_code::UNKNOWN_DEVICE_OBJECT)]);

    PLUGGED.store(3, Ordering::SeqCst);
    rig.plug_monitor(Some(DdcEeprom::new(edid().to_vec())));
    assert_eq!(enumerate(rig.hw(), null_mut()), NO_ERROR);
    rig.machine.run_until_idle();
    let back = rig.children();
    assert_eq!(back.len(), 2);
    assert_eq!(back[1].hardware_ids, ["MONITOR\\NTS1111"]);
    assert_eq!(rig.codes(), []);
    rig.finish();
}

#[test]
fn a_monitor_without_ddc_is_the_default_monitor() {
    let rig = Rig::with_monitor(MachineConfig::default(), None);
    let _g = rig.machine.enter();
    let children = rig.children();
    assert_eq!(children[0].device_id, "DISPLAY\\Default_Monitor");
    assert_eq!(children[0].hardware_ids, ["MONITOR\\Default_Monitor"]);
    assert_eq!(children[0].compatible_ids, ["*PNP09FF"]);
    assert_eq!(rig.codes(), []);
    rig.finish();
}

#[test]
fn ddc_helper_reads_the_edid_byte_exact_and_refuses_bad_input() {
    let rig = Rig::new(MachineConfig::default());
    let _g = rig.machine.enter();
    rig.codes();
    let hw = rig.hw();
    let good = ddc_control();
    let call = |hw: PVOID, control: *const DDC_CONTROL, buf: *mut u8, len: u32| {
        // SAFETY: the arguments are live for the call (or deliberately bad, which the port
        // must catch before using them).
        unsafe { VideoPortDDCMonitorHelper(hw, control.cast_mut().cast(), buf, len) }
    };
    let mut buf = [0u8; 256];
    assert_eq!(call(hw, &good, buf.as_mut_ptr(), 128), TRUE);
    assert_eq!(buf[..128], edid());
    assert_eq!(
        buf[128..],
        [0; 128],
        "only EdidBufferSize bytes are written"
    );
    // Each block read is some 10,000 register accesses through the device model: minutes under
    // Miri. There the second block and the three retries of a corrupt one are left out.
    let full = !cfg!(miri);
    if full {
        // 256 bytes: the one-block EEPROM wraps its address, as a 128-byte part does.
        assert_eq!(call(hw, &good, buf.as_mut_ptr(), 256), TRUE);
        assert_eq!(buf[..128], edid());
        assert_eq!(buf[128..], edid());
        assert_eq!(rig.codes(), []);
    }

    let mut wrong_size = good;
    wrong_size.Size = 40;
    let mut no_callback = good;
    no_callback.I2CCallbacks.ReadDataLine = None;
    let e6 = |c: u32| (0xE6, c);
    let table: [DdcCase; 6] = [
        (
            "unknown extension",
            0x1234 as PVOID,
            &good,
            buf.as_mut_ptr(),
            128,
            vec![port(port_code::UNKNOWN_DEVICE_EXTENSION)],
        ),
        (
            "NULL control",
            hw,
            core::ptr::null(),
            buf.as_mut_ptr(),
            128,
            vec![port(port_code::NULL_ARGUMENT)],
        ),
        (
            "NULL buffer",
            hw,
            &good,
            null_mut(),
            128,
            vec![port(port_code::NULL_ARGUMENT)],
        ),
        (
            "Size not sizeof(DDC_CONTROL)",
            hw,
            &wrong_size,
            buf.as_mut_ptr(),
            128,
            vec![port(port_code::BAD_ARGUMENT)],
        ),
        (
            "NULL callback",
            hw,
            &no_callback,
            buf.as_mut_ptr(),
            128,
            vec![port(port_code::BAD_ARGUMENT)],
        ),
        (
            "buffer below one EDID block",
            hw,
            &good,
            buf.as_mut_ptr(),
            127,
            vec![port(port_code::BAD_ARGUMENT)],
        ),
    ];
    for (what, hw, control, b, len, codes) in table {
        assert_eq!(call(hw, control, b, len), FALSE, "{what}");
        assert_eq!(rig.codes(), codes, "{what}");
    }
    // SAFETY: raised and lowered around the call.
    let old = unsafe { KeRaiseIrql(DISPATCH_LEVEL) };
    assert_eq!(call(hw, &good, buf.as_mut_ptr(), 128), FALSE);
    // SAFETY: back to where it was.
    unsafe { KeLowerIrql(old) };
    assert_eq!(rig.codes(), [e6(0x13)]);

    // A monitor whose EEPROM holds a corrupt block, and no monitor at all: FALSE, no report.
    if full {
        let mut corrupt = edid().to_vec();
        corrupt[127] ^= 1;
        rig.plug_monitor(Some(DdcEeprom::new(corrupt)));
        assert_eq!(call(hw, &good, buf.as_mut_ptr(), 128), FALSE);
    }
    rig.plug_monitor(None);
    assert_eq!(call(hw, &good, buf.as_mut_ptr(), 128), FALSE);
    // Segment 1 of a one-block monitor: the segment pointer is not acknowledged.
    rig.plug_monitor(Some(DdcEeprom::new(edid().to_vec())));
    let mut segment = good;
    segment.EdidSegment = 1;
    assert_eq!(call(hw, &segment, buf.as_mut_ptr(), 128), FALSE);
    assert_eq!(rig.codes(), []);
    rig.finish();
}

#[test]
fn enumerate_children_and_associated_extension_refuse_bad_input() {
    let rig = Rig::new(MachineConfig::default());
    let _g = rig.machine.enter();
    let hw = rig.hw();
    // SAFETY: the port looks every value up or checks it before using it.
    unsafe {
        assert_eq!(
            VideoPortEnumerateChildren(hw, 8 as PVOID),
            ERROR_INVALID_PARAMETER
        );
        assert_eq!(rig.codes(), [port(port_code::BAD_ARGUMENT)]);
        assert_eq!(
            VideoPortEnumerateChildren(0x40 as PVOID, null_mut()),
            ERROR_INVALID_PARAMETER
        );
        assert_eq!(rig.codes(), [port(port_code::UNKNOWN_DEVICE_EXTENSION)]);
        let old = KeRaiseIrql(DISPATCH_LEVEL + 1);
        assert_eq!(
            VideoPortEnumerateChildren(hw, null_mut()),
            ERROR_INVALID_PARAMETER
        );
        KeLowerIrql(old);
        assert_eq!(rig.codes(), [(0xE6, 0x13)]);
        // At DISPATCH_LEVEL it is allowed (a DPC re-enumerates after a hot-plug interrupt).
        let old = KeRaiseIrql(DISPATCH_LEVEL);
        assert_eq!(VideoPortEnumerateChildren(hw, null_mut()), NO_ERROR);
        KeLowerIrql(old);
        for bad in [null_mut(), 0x1000 as PVOID, rig.pdo.as_ptr().cast()] {
            assert!(VideoPortGetAssociatedDeviceExtension(bad).is_null());
            assert_eq!(rig.codes(), [port(port_code::UNKNOWN_DEVICE_OBJECT)]);
        }
    }
    rig.machine.run_until_idle();
    assert_eq!(rig.children().len(), 2);
    assert_eq!(rig.codes(), []);
    rig.finish();
}

/// Each child PDO's ID is the UId its miniport reported (0x100 the monitor, 0x200 the other
/// child); the adapter's FDO, its PDO, made-up values, NULL and a call at APC_LEVEL are
/// reported and get DISPLAY_ADAPTER_HW_ID.
#[test]
fn associated_device_id_is_the_childs_uid_and_nothing_else_has_one() {
    let rig = Rig::new(MachineConfig::default());
    let _g = rig.machine.enter();
    let children = rig.children();
    assert_eq!(children.len(), 2);
    let mut ids: Vec<u32> = children
        .iter()
        // SAFETY: child PDOs are looked up, never dereferenced.
        .map(|c| unsafe { VideoPortGetAssociatedDeviceID(c.as_ptr().cast()) })
        .collect();
    ids.sort();
    assert_eq!(ids, [0x100, 0x200]);
    assert_eq!(rig.codes(), []);
    let fdo = rig.node().top();
    // SAFETY: any value is looked up, never dereferenced.
    unsafe {
        for bad in [
            null_mut(),
            0x1000 as PVOID,
            fdo.cast(),
            rig.pdo.as_ptr().cast(),
        ] {
            assert_eq!(VideoPortGetAssociatedDeviceID(bad), DISPLAY_ADAPTER_HW_ID);
            assert_eq!(rig.codes(), [port(port_code::UNKNOWN_DEVICE_OBJECT)]);
        }
        let old = KeRaiseIrql(APC_LEVEL);
        assert_eq!(
            VideoPortGetAssociatedDeviceID(children[0].as_ptr().cast()),
            DISPLAY_ADAPTER_HW_ID
        );
        KeLowerIrql(old);
    }
    assert_eq!(rig.codes().len(), 1, "the IRQL is reported");
    rig.finish();
}

#[test]
fn miniport_mistakes_in_the_child_protocol_are_reported_and_contained() {
    // A status that is no VIDEO_ENUM_* value ends the enumeration, reported.
    let rig = Rig::new(MachineConfig::default());
    let _g = rig.machine.enter();
    FAULT.store(3, Ordering::SeqCst);
    assert_eq!(enumerate(rig.hw(), null_mut()), NO_ERROR);
    rig.machine.run_until_idle();
    assert_eq!(rig.children().len(), 2);
    assert_eq!(rig.codes(), [port(port_code::CHILD_STATUS)]);

    // A UId used twice: the later child is refused (power calls could not tell them apart).
    FAULT.store(1, Ordering::SeqCst);
    assert_eq!(enumerate(rig.hw(), null_mut()), NO_ERROR);
    rig.machine.run_until_idle();
    let children = rig.children();
    assert_eq!(children.len(), 1);
    assert_eq!(children[0].hardware_ids, ["MONITOR\\NTS1111"]);
    assert_eq!(rig.codes(), [port(port_code::DUPLICATE_CHILD_UID)]);

    // VideoChip (the adapter itself) gets no PDO, and is no mistake.
    FAULT.store(2, Ordering::SeqCst);
    assert_eq!(enumerate(rig.hw(), null_mut()), NO_ERROR);
    rig.machine.run_until_idle();
    assert_eq!(rig.children().len(), 1);
    assert_eq!(rig.codes(), []);
    rig.finish();
}

fn power_log() -> Vec<String> {
    take_log()
        .into_iter()
        .filter(|l| l.starts_with("get") || l.starts_with("set"))
        .collect()
}

#[test]
fn system_sleep_and_wake_reach_the_children_and_the_adapter_in_order() {
    // NT 5.2: every power IRP must see PoStartNextPowerIrp (ntsim reports one that does not).
    let rig = Rig::new(MachineConfig {
        os: OsVersion::WINDOWS_SERVER_2003_X64,
        ..MachineConfig::default()
    });
    let _g = rig.machine.enter();
    take_log();
    let node = rig.node();
    let (q, s) = (IRP_MN_QUERY_POWER, IRP_MN_SET_POWER);
    let ok = vec![STATUS_SUCCESS; 3];
    assert_eq!(
        rig.machine
            .system_power(node, q, SYSTEM_POWER_STATE::PowerSystemSleeping3),
        ok
    );
    assert_eq!(
        power_log(),
        ["get 0x100 4", "get 0x200 4", "get 0xffffffff 4"]
    );
    assert_eq!(
        rig.machine
            .system_power(node, s, SYSTEM_POWER_STATE::PowerSystemSleeping3),
        ok
    );
    assert_eq!(
        power_log(),
        ["set 0x100 4", "set 0x200 4", "set 0xffffffff 4"]
    );
    let d = |dev: *mut DEVICE_OBJECT| rig.machine.device_power_state(dev);
    assert_eq!(d(node.top()), Some(4));
    for c in rig.children() {
        assert_eq!(d(c.as_ptr()), Some(4));
    }
    assert_eq!(
        rig.machine
            .system_power(node, s, SYSTEM_POWER_STATE::PowerSystemWorking),
        ok
    );
    assert_eq!(
        power_log(),
        ["set 0xffffffff 1", "set 0x100 1", "set 0x200 1"]
    );
    assert_eq!(d(node.top()), Some(1));
    // Hibernation and shutdown: the adapter hears which.
    rig.machine
        .system_power(node, s, SYSTEM_POWER_STATE::PowerSystemHibernate);
    assert_eq!(
        power_log(),
        ["set 0x100 5", "set 0x200 5", "set 0xffffffff 5"]
    );
    rig.machine
        .system_power(node, s, SYSTEM_POWER_STATE::PowerSystemWorking);
    power_log();
    rig.machine
        .system_power(node, s, SYSTEM_POWER_STATE::PowerSystemShutdown);
    assert_eq!(
        power_log(),
        ["set 0x100 6", "set 0x200 6", "set 0xffffffff 6"]
    );
    rig.machine
        .system_power(node, s, SYSTEM_POWER_STATE::PowerSystemWorking);
    power_log();
    assert_eq!(rig.codes(), []);
    rig.finish();
}

#[test]
fn a_refused_state_fails_the_query_and_goes_no_further() {
    let rig = Rig::new(MachineConfig::default());
    let _g = rig.machine.enter();
    take_log();
    let node = rig.node();
    // The miniport cannot do StandBy (2).
    REFUSE.store(1 << 2, Ordering::SeqCst);
    assert_eq!(
        rig.machine.system_power(
            node,
            IRP_MN_QUERY_POWER,
            SYSTEM_POWER_STATE::PowerSystemSleeping1
        ),
        [
            STATUS_UNSUCCESSFUL,
            STATUS_UNSUCCESSFUL,
            STATUS_UNSUCCESSFUL
        ]
    );
    assert_eq!(
        power_log(),
        ["get 0x100 2", "get 0x200 2", "get 0xffffffff 2"]
    );
    assert_eq!(
        rig.machine.power(node, IRP_MN_QUERY_POWER, 2),
        STATUS_UNSUCCESSFUL
    );
    assert_eq!(power_log(), ["get 0xffffffff 2"]);
    // Off is fine; a device set goes to the adapter alone.
    assert_eq!(
        rig.machine.power(node, IRP_MN_QUERY_POWER, 4),
        STATUS_SUCCESS
    );
    assert_eq!(rig.machine.power(node, IRP_MN_SET_POWER, 4), STATUS_SUCCESS);
    assert_eq!(rig.machine.power(node, IRP_MN_SET_POWER, 1), STATUS_SUCCESS);
    assert_eq!(
        power_log(),
        ["get 0xffffffff 4", "set 0xffffffff 4", "set 0xffffffff 1"]
    );
    assert_eq!(rig.machine.device_power_state(node.top()), Some(1));
    assert_eq!(rig.codes(), []);
    rig.finish();
}
