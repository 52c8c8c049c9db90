//! The registry family and VideoPortGetVersion, end to end on ntsim with the port-core test
//! miniport: VideoPortGetRegistryParameters (plain values, subkey paths, IsParameterFileName),
//! VideoPortSetRegistryParameters, VideoPortFlushRegistry over the device's driver key, values
//! surviving a driver reload, and the bad-input table of each export.

mod port_support;

use core::ptr::null_mut;
use ddk_sys::*;
use ntsim::{LeakKind, Machine, MachineConfig, OsVersion, Pdo, RegistryValue};
use port_support::*;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::Mutex;
use videoprt::port::registry::{
    VideoPortFlushRegistry, VideoPortGetRegistryParameters, VideoPortSetRegistryParameters,
};
use videoprt::port::version::VideoPortGetVersion;
use videoprt::report::{port_code, DMA_VIOLATION, VIDEOPRT_RS_CHECK};

/// What one callback saw: (HwDeviceExtension, Context, ValueName as text, the name pointer,
/// ValueData bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Call {
    hw: usize,
    context: usize,
    name: String,
    name_ptr: usize,
    data: Vec<u8>,
}

static CALLS: Mutex<Vec<Call>> = Mutex::new(Vec::new());
/// What the callback returns.
static CALLBACK_STATUS: AtomicI32 = AtomicI32::new(0);
static CALLBACK_COUNT: AtomicUsize = AtomicUsize::new(0);

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn record(
    hw: PVOID,
    context: PVOID,
    name: *mut WCHAR,
    data: PVOID,
    length: ULONG,
) -> VP_STATUS {
    CALLBACK_COUNT.fetch_add(1, Ordering::SeqCst);
    // SAFETY: the port passes a NUL-terminated name and `length` readable bytes.
    let (text, bytes) = unsafe {
        let mut n = 0;
        while *name.add(n) != 0 {
            n += 1;
        }
        (
            String::from_utf16_lossy(std::slice::from_raw_parts(name, n)),
            std::slice::from_raw_parts(data.cast::<u8>(), length as usize).to_vec(),
        )
    };
    CALLS.lock().unwrap().push(Call {
        hw: hw as usize,
        context: context as usize,
        name: text,
        name_ptr: name as usize,
        data: bytes,
    });
    VP_STATUS(CALLBACK_STATUS.load(Ordering::SeqCst))
}

/// A NUL-terminated UTF-16 name.
fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(Some(0)).collect()
}

fn set(hw: PVOID, name: &str, data: &[u8]) -> VP_STATUS {
    let mut n = wide(name);
    // SAFETY: a terminated name and `data.len()` readable bytes.
    unsafe {
        VideoPortSetRegistryParameters(
            hw,
            n.as_mut_ptr(),
            data.as_ptr() as PVOID,
            data.len() as u32,
        )
    }
}

/// (status, what the callback saw, if it ran).
fn get(hw: PVOID, name: &str, is_file: bool) -> (VP_STATUS, Option<Call>) {
    CALLS.lock().unwrap().clear();
    let mut n = wide(name);
    // SAFETY: a terminated name and the recording callback.
    let status = unsafe {
        VideoPortGetRegistryParameters(
            hw,
            n.as_mut_ptr(),
            is_file as u8,
            Some(record),
            0xC0DE as PVOID,
        )
    };
    let call = CALLS.lock().unwrap().pop();
    if let Some(c) = &call {
        assert_eq!(
            c.name_ptr,
            n.as_ptr() as usize,
            "ValueName is ParameterName"
        );
        assert_eq!(c.name, name);
        assert_eq!(c.context, 0xC0DE);
        assert_eq!(c.hw, hw as usize);
    }
    (status, call)
}

struct Rig {
    machine: Machine,
    pdo: Pdo,
    driver: Option<ntsim::Driver>,
    node: Option<ntsim::DeviceNode>,
    hw: PVOID,
}

impl Rig {
    fn new(config: MachineConfig) -> Rig {
        let machine = Machine::new(config);
        let pdo = machine.plug_pci_device(Box::new(TestDevice::default()));
        let mut rig = Rig {
            machine,
            pdo,
            driver: None,
            node: None,
            hw: null_mut(),
        };
        rig.load();
        rig
    }

    fn load(&mut self) {
        let driver = self
            .machine
            .load_driver("vprstest", driver_entry)
            .expect("DriverEntry");
        let node = self.machine.start_device(&driver, self.pdo).expect("START");
        self.hw = LAST_HW.load(Ordering::SeqCst) as PVOID;
        self.driver = Some(driver);
        self.node = Some(node);
    }

    fn unload(&mut self) {
        let node = self.node.take().expect("started");
        assert_eq!(self.machine.remove_device(node), STATUS_SUCCESS);
        self.machine
            .unload_driver(self.driver.take().expect("loaded"));
        self.machine.run_until_idle();
    }

    fn finish(mut self) {
        self.unload();
        self.machine.assert_clean();
    }
}

fn port(code: u32) -> (u32, u32) {
    (VIDEOPRT_RS_CHECK, code)
}

#[test]
fn set_then_get_round_trips_dwords_strings_and_binary_data() {
    let _s = serial();
    let rig = Rig::new(MachineConfig::default());
    let _g = rig.machine.enter();
    let hw = rig.hw;

    let dword = 0x1234_5678u32.to_le_bytes();
    let string: Vec<u8> = wide("Hello, registry")
        .iter()
        .flat_map(|c| c.to_le_bytes())
        .collect();
    let binary: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    for (name, data) in [
        ("Dword", &dword[..]),
        ("String", &string[..]),
        ("Binary", &binary[..]),
        ("Empty", &[][..]),
    ] {
        assert_eq!(set(hw, name, data), NO_ERROR, "{name}");
        // Written as REG_BINARY, byte for byte (a string keeps the terminator it was given).
        assert_eq!(
            rig.machine.registry_value(rig.pdo, name),
            Some(RegistryValue {
                kind: REG_BINARY,
                data: data.to_vec()
            }),
            "{name}"
        );
        let (status, call) = get(hw, name, false);
        assert_eq!(status, NO_ERROR, "{name}");
        assert_eq!(call.expect("callback ran").data, data, "{name}");
    }
    // Overwrite: the new data, not a mix.
    assert_eq!(set(hw, "Binary", &[7, 7]), NO_ERROR);
    assert_eq!(get(hw, "Binary", false).1.unwrap().data, vec![7, 7]);

    // Values an INF's AddReg wrote are passed as stored, whatever their type.
    let inf_string: Vec<u8> = wide("edu").iter().flat_map(|c| c.to_le_bytes()).collect();
    rig.machine
        .set_registry_value(rig.pdo, "InfMode", REG_SZ, &inf_string);
    assert_eq!(get(hw, "InfMode", false).1.unwrap().data, inf_string);
    assert_eq!(
        get(hw, "infmode", false).0,
        NO_ERROR,
        "names are case-insensitive"
    );
    assert!(take_codes(&rig.machine).is_empty());
    drop(_g);
    rig.finish();
}

#[test]
fn subkey_paths_are_created_by_set_and_read_by_get() {
    let _s = serial();
    let rig = Rig::new(MachineConfig::default());
    let _g = rig.machine.enter();
    let hw = rig.hw;
    assert_eq!(set(hw, "Monitor\\Timings\\Mode0", &[1, 2, 3, 4]), NO_ERROR);
    assert_eq!(
        rig.machine
            .registry_value(rig.pdo, "Monitor\\Timings\\Mode0")
            .unwrap()
            .data,
        vec![1, 2, 3, 4]
    );
    assert_eq!(rig.machine.registry_value(rig.pdo, "Mode0"), None);
    let (status, call) = get(hw, "Monitor\\Timings\\Mode0", false);
    assert_eq!((status, call.unwrap().data), (NO_ERROR, vec![1, 2, 3, 4]));
    // A missing subkey is a missing value; reading never creates it.
    assert_eq!(
        get(hw, "Nowhere\\Mode0", false),
        (ERROR_INVALID_PARAMETER, None)
    );
    assert_eq!(rig.machine.registry_value(rig.pdo, "Nowhere\\x"), None);
    assert!(take_codes(&rig.machine).is_empty());
    drop(_g);
    rig.finish();
}

#[test]
fn values_survive_a_driver_reload_and_stay_with_their_device() {
    let _s = serial();
    let mut rig = Rig::new(MachineConfig::default());
    {
        let _g = rig.machine.enter();
        assert_eq!(set(rig.hw, "Persistent", b"kept"), NO_ERROR);
    }
    rig.unload();
    rig.load();
    let other_pdo = rig.machine.plug_pci_device(Box::new(TestDevice::default()));
    let other = rig
        .machine
        .start_device(rig.driver.as_ref().unwrap(), other_pdo)
        .expect("START");
    let other_hw = LAST_HW.load(Ordering::SeqCst) as PVOID;
    {
        let _g = rig.machine.enter();
        let (status, call) = get(rig.hw, "Persistent", false);
        assert_eq!((status, call.unwrap().data), (NO_ERROR, b"kept".to_vec()));
        // The second device has its own driver key.
        assert_eq!(
            get(other_hw, "Persistent", false),
            (ERROR_INVALID_PARAMETER, None)
        );
        assert_eq!(set(other_hw, "Persistent", b"mine"), NO_ERROR);
        assert_eq!(get(rig.hw, "Persistent", false).1.unwrap().data, b"kept");
    }
    assert_ne!(
        rig.machine.driver_key_path(rig.pdo),
        rig.machine.driver_key_path(other_pdo)
    );
    assert_eq!(rig.machine.remove_device(other), STATUS_SUCCESS);
    // A new machine starts with an empty registry.
    let fresh = Rig::new(MachineConfig::default());
    {
        let _g = fresh.machine.enter();
        assert_eq!(
            get(fresh.hw, "Persistent", false),
            (ERROR_INVALID_PARAMETER, None)
        );
    }
    fresh.finish();
    rig.finish();
}

#[test]
fn is_parameter_file_name_passes_the_files_contents() {
    let _s = serial();
    let rig = Rig::new(MachineConfig::default());
    let _g = rig.machine.enter();
    let hw = rig.hw;
    let path = "\\SystemRoot\\System32\\vprs_microcode.bin";
    let contents: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
    rig.machine.add_file(path, &contents);
    let as_sz = |s: &str| -> Vec<u8> { wide(s).iter().flat_map(|c| c.to_le_bytes()).collect() };
    rig.machine
        .set_registry_value(rig.pdo, "Microcode", REG_SZ, &as_sz(path));
    let (status, call) = get(hw, "Microcode", true);
    assert_eq!(status, NO_ERROR);
    assert_eq!(
        call.unwrap().data,
        contents,
        "the file's bytes, not its name"
    );
    // The same value without the flag: the name itself.
    assert_eq!(get(hw, "Microcode", false).1.unwrap().data, as_sz(path));
    // An empty file: called with zero bytes.
    rig.machine.add_file("\\SystemRoot\\empty.bin", &[]);
    rig.machine
        .set_registry_value(rig.pdo, "Empty", REG_SZ, &as_sz("\\SystemRoot\\empty.bin"));
    let (status, call) = get(hw, "Empty", true);
    assert_eq!((status, call.unwrap().data), (NO_ERROR, vec![]));

    // A missing file, an empty name, a value that is not a string: ERROR_INVALID_PARAMETER and
    // no callback.
    rig.machine
        .set_registry_value(rig.pdo, "Gone", REG_SZ, &as_sz("\\SystemRoot\\gone.bin"));
    rig.machine
        .set_registry_value(rig.pdo, "Blank", REG_SZ, &as_sz(""));
    rig.machine
        .set_registry_value(rig.pdo, "Number", REG_DWORD, &[1, 0, 0, 0]);
    // A relative name is no file, even if one was put under that name (found by the
    // port_calls fuzz target: ntsim's ZwCreateFile opened it; seed
    // fuzz/corpus/port_calls/regression-relative-file-path).
    rig.machine.add_file("relative.bin", &[1, 2, 3]);
    rig.machine
        .set_registry_value(rig.pdo, "Relative", REG_SZ, &as_sz("relative.bin"));
    for name in ["Gone", "Blank", "Number", "Missing", "Relative"] {
        assert_eq!(
            get(hw, name, true),
            (ERROR_INVALID_PARAMETER, None),
            "{name}"
        );
    }
    assert!(take_codes(&rig.machine).is_empty());
    assert_eq!(rig.machine.leaks().count(LeakKind::Handle), 0);
    drop(_g);
    rig.finish();
}

#[test]
fn get_version_reports_the_running_windows() {
    let _s = serial();
    for (os, service_pack) in [
        (OsVersion::WINDOWS_SERVER_2003_X64, (2, 0)),
        (OsVersion::WINDOWS_7, (1, 0)),
        (OsVersion::WINDOWS_8, (0, 0)),
        (OsVersion::WINDOWS_10_2004, (0, 0)),
    ] {
        let rig = Rig::new(MachineConfig {
            os,
            service_pack,
            ..MachineConfig::default()
        });
        {
            let _g = rig.machine.enter();
            let mut info = VPOSVERSIONINFO {
                Size: 20,
                ..Default::default()
            };
            // SAFETY: a VPOSVERSIONINFO with its size set.
            assert_eq!(unsafe { VideoPortGetVersion(rig.hw, &mut info) }, NO_ERROR);
            assert_eq!(
                info,
                VPOSVERSIONINFO {
                    Size: 20,
                    MajorVersion: os.major,
                    MinorVersion: os.minor,
                    BuildNumber: os.build,
                    ServicePackMajor: service_pack.0,
                    ServicePackMinor: service_pack.1,
                },
                "{os:?}"
            );
            // Any other Size: ERROR_INVALID_PARAMETER and nothing written (documented).
            for size in [0, 19, 21, 276] {
                let mut info = VPOSVERSIONINFO {
                    Size: size,
                    ..Default::default()
                };
                // SAFETY: as above (the port checks Size before writing).
                let status = unsafe { VideoPortGetVersion(rig.hw, &mut info) };
                assert_eq!(status, ERROR_INVALID_PARAMETER);
                assert_eq!(
                    info,
                    VPOSVERSIONINFO {
                        Size: size,
                        ..Default::default()
                    }
                );
            }
            assert!(take_codes(&rig.machine).is_empty());
        }
        rig.finish();
    }
}

#[test]
fn flush_registry_flushes_the_driver_key() {
    let _s = serial();
    let rig = Rig::new(MachineConfig::default());
    let _g = rig.machine.enter();
    assert_eq!(set(rig.hw, "V", &[1]), NO_ERROR);
    // SAFETY: the device's own extension.
    assert_eq!(unsafe { VideoPortFlushRegistry(rig.hw) }, NO_ERROR);
    assert_eq!(rig.machine.registry_flushes(), 1);
    drop(_g);
    rig.finish();
}

#[test]
fn the_callbacks_error_is_the_calls_error() {
    let _s = serial();
    let rig = Rig::new(MachineConfig::default());
    let _g = rig.machine.enter();
    assert_eq!(set(rig.hw, "V", &[5]), NO_ERROR);
    CALLBACK_STATUS.store(ERROR_MORE_DATA.0, Ordering::SeqCst);
    let (status, call) = get(rig.hw, "V", false);
    CALLBACK_STATUS.store(NO_ERROR.0, Ordering::SeqCst);
    assert_eq!(status, ERROR_INVALID_PARAMETER);
    assert_eq!(call.unwrap().data, vec![5], "it was called with the data");
    assert!(take_codes(&rig.machine).is_empty());
    drop(_g);
    rig.finish();
}

/// Every bad input: the documented status or a reported violation, nothing written, nothing
/// left open, no callback.
#[test]
fn bad_inputs_are_refused() {
    let _s = serial();
    let mut rig = Rig::new(MachineConfig::default());
    let machine = rig.machine.clone();
    let hw = rig.hw;
    let _g = machine.enter();
    assert_eq!(set(hw, "V", &[1]), NO_ERROR);
    CALLBACK_COUNT.store(0, Ordering::SeqCst);
    let mut name = wide("V");
    let mut version = VPOSVERSIONINFO {
        Size: 20,
        ..Default::default()
    };
    let get_raw = |hw: PVOID, name: *mut u16, cb: PMINIPORT_GET_REGISTRY_ROUTINE| {
        // SAFETY: the name is NULL or terminated; the callback NULL or `record`.
        unsafe { VideoPortGetRegistryParameters(hw, name, 0, cb, null_mut()) }
    };

    // Documented refusals, not misuse: a missing value, a DefaultSettings. name.
    assert_eq!(get(hw, "Missing", false), (ERROR_INVALID_PARAMETER, None));
    assert_eq!(
        set(hw, "DefaultSettings.XResolution", &[0; 4]),
        ERROR_INVALID_PARAMETER
    );
    assert_eq!(
        set(hw, "defaultsettings.BitsPerPel", &[0; 4]),
        ERROR_INVALID_PARAMETER
    );
    assert_eq!(
        machine.registry_value(rig.pdo, "DefaultSettings.XResolution"),
        None
    );
    assert!(take_codes(&machine).is_empty());

    // NULL name, NULL callback, NULL data with a length.
    assert_eq!(
        get_raw(hw, null_mut(), Some(record)),
        ERROR_INVALID_PARAMETER
    );
    assert_eq!(
        get_raw(hw, name.as_mut_ptr(), None),
        ERROR_INVALID_PARAMETER
    );
    // SAFETY: NULL name / NULL data are refused before any use.
    unsafe {
        assert_eq!(
            VideoPortSetRegistryParameters(hw, null_mut(), [1u8].as_ptr() as PVOID, 1),
            ERROR_INVALID_PARAMETER
        );
        assert_eq!(
            VideoPortSetRegistryParameters(hw, name.as_mut_ptr(), null_mut(), 4),
            ERROR_INVALID_PARAMETER
        );
        assert_eq!(VideoPortGetVersion(hw, null_mut()), ERROR_INVALID_PARAMETER);
    }
    assert_eq!(
        take_codes(&machine),
        vec![port(port_code::NULL_ARGUMENT); 5]
    );
    // NULL data with zero length is an empty value, not misuse.
    // SAFETY: nothing is read for a zero length.
    let empty = unsafe { VideoPortSetRegistryParameters(hw, name.as_mut_ptr(), null_mut(), 0) };
    assert_eq!(empty, NO_ERROR);
    assert_eq!(
        machine.registry_value(rig.pdo, "V").unwrap().data,
        Vec::<u8>::new()
    );

    // Malformed names: an empty path component, no terminator within 32,767 characters.
    assert_eq!(set(hw, "A\\\\B", &[1]), ERROR_INVALID_PARAMETER);
    assert_eq!(set(hw, "A\\", &[1]), ERROR_INVALID_PARAMETER);
    assert_eq!(get(hw, "\\V", false), (ERROR_INVALID_PARAMETER, None));
    let mut endless = vec![u16::from(b'x'); 40_000];
    endless.push(0);
    assert_eq!(
        get_raw(hw, endless.as_mut_ptr(), Some(record)),
        ERROR_INVALID_PARAMETER
    );
    assert_eq!(take_codes(&machine), vec![port(port_code::BAD_ARGUMENT); 4]);

    // Foreign extensions: NULL, a pointer the port never handed out.
    let mut not_ours = [0u64; 8];
    for bad in [
        null_mut(),
        not_ours.as_mut_ptr().cast::<core::ffi::c_void>(),
    ] {
        assert_eq!(
            get_raw(bad, name.as_mut_ptr(), Some(record)),
            ERROR_INVALID_PARAMETER
        );
        assert_eq!(set(bad, "V", &[1]), ERROR_INVALID_PARAMETER);
        // SAFETY: the extension is looked up, never dereferenced.
        unsafe {
            assert_eq!(VideoPortFlushRegistry(bad), ERROR_INVALID_PARAMETER);
            assert_eq!(
                VideoPortGetVersion(bad, &mut version),
                ERROR_INVALID_PARAMETER
            );
        }
        assert_eq!(
            take_codes(&machine),
            vec![port(port_code::UNKNOWN_DEVICE_EXTENSION); 4]
        );
    }

    // Above PASSIVE_LEVEL: each export refuses before touching the registry.
    // SAFETY: raised and lowered on this processor.
    let old = unsafe { KeRaiseIrql(DISPATCH_LEVEL) };
    let statuses = [
        get_raw(hw, name.as_mut_ptr(), Some(record)),
        set(hw, "Raised", &[1]),
        // SAFETY: the device's own extension and a valid VPOSVERSIONINFO.
        unsafe { VideoPortFlushRegistry(hw) },
        // SAFETY: as above.
        unsafe { VideoPortGetVersion(hw, &mut version) },
    ];
    // SAFETY: restores the level saved above.
    unsafe { KeLowerIrql(old) };
    assert_eq!(statuses, [ERROR_INVALID_PARAMETER; 4]);
    assert_eq!(take_codes(&machine), vec![(DMA_VIOLATION, 0x13); 4]);
    assert_eq!(machine.registry_value(rig.pdo, "Raised"), None);
    assert_eq!(machine.registry_flushes(), 0);
    assert_eq!(
        CALLBACK_COUNT.load(Ordering::SeqCst),
        0,
        "no callback on any bad input"
    );
    assert_eq!(machine.leaks().count(LeakKind::Handle), 0);

    // A stale extension: its device was removed.
    drop(_g);
    rig.unload();
    {
        let _g = machine.enter();
        assert_eq!(set(hw, "V", &[1]), ERROR_INVALID_PARAMETER);
        assert_eq!(get(hw, "V", false), (ERROR_INVALID_PARAMETER, None));
        assert_eq!(
            take_codes(&machine),
            vec![port(port_code::UNKNOWN_DEVICE_EXTENSION); 2]
        );
    }
    machine.assert_clean();
}

/// What a `HwVidQueryDeviceCallback` saw: (hw, context, type, identifier, configuration data,
/// component information), NULL values as `None`.
type DeviceData = (
    usize,
    usize,
    u32,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
);

static DEVICE_DATA: Mutex<Vec<DeviceData>> = Mutex::new(Vec::new());

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn record_device_data(
    hw: PVOID,
    context: PVOID,
    data_type: VIDEO_DEVICE_DATA_TYPE,
    identifier: PVOID,
    identifier_length: ULONG,
    configuration: PVOID,
    configuration_length: ULONG,
    component: PVOID,
    component_length: ULONG,
) -> VP_STATUS {
    let bytes = |p: PVOID, n: ULONG| {
        // SAFETY: the port passes `n` readable bytes at `p`, or NULL.
        (!p.is_null())
            .then(|| unsafe { std::slice::from_raw_parts(p.cast::<u8>(), n as usize) }.to_vec())
    };
    DEVICE_DATA.lock().unwrap().push((
        hw as usize,
        context as usize,
        data_type.0,
        bytes(identifier, identifier_length),
        bytes(configuration, configuration_length),
        bytes(component, component_length),
    ));
    VP_STATUS(CALLBACK_STATUS.load(Ordering::SeqCst))
}

fn device_data(hw: PVOID, data_type: VIDEO_DEVICE_DATA_TYPE) -> (VP_STATUS, Vec<DeviceData>) {
    use videoprt::port::device_data::VideoPortGetDeviceData;
    DEVICE_DATA.lock().unwrap().clear();
    // SAFETY: the recording callback; the port checks the extension.
    let status =
        unsafe { VideoPortGetDeviceData(hw, data_type, Some(record_device_data), 0xC0DE as PVOID) };
    (status, std::mem::take(&mut *DEVICE_DATA.lock().unwrap()))
}

fn utf16z(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain([0])
        .flat_map(u16::to_le_bytes)
        .collect()
}

#[test]
fn device_data_comes_from_the_hardware_description_tree() {
    let _s = serial();
    let rig = Rig::new(MachineConfig::default());
    let _g = rig.machine.enter();
    let (hw, ctx) = (rig.hw as usize, 0xC0DE);

    // The PCI bus, as an ACPI PC's loader describes it: PCIBus (5), bus 0, no resources.
    let (status, calls) = device_data(rig.hw, VIDEO_DEVICE_DATA_TYPE::VpBusData);
    assert_eq!(status, NO_ERROR);
    let mut config = 5u32.to_le_bytes().to_vec();
    config.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0]);
    assert_eq!(
        calls,
        vec![(
            hw,
            ctx,
            VIDEO_DEVICE_DATA_TYPE::VpBusData.0,
            Some(utf16z("PCI")),
            Some(config),
            Some(vec![0; 16])
        )]
    );

    // No ARC display keys on a PC; the reserved types have no data.
    for data_type in [
        VIDEO_DEVICE_DATA_TYPE::VpControllerData,
        VIDEO_DEVICE_DATA_TYPE::VpMonitorData,
    ] {
        assert_eq!(
            device_data(rig.hw, data_type),
            (ERROR_DEV_NOT_EXIST, vec![])
        );
    }
    for data_type in [
        VIDEO_DEVICE_DATA_TYPE::VpMachineData,
        VIDEO_DEVICE_DATA_TYPE::VpCmosData,
    ] {
        assert_eq!(
            device_data(rig.hw, data_type),
            (ERROR_INVALID_FUNCTION, vec![])
        );
    }

    // An ARC-style tree (a second adapter with a display controller and its monitor): found,
    // values passed as stored, a missing one as NULL.
    let isa = "MultifunctionAdapter\\1";
    rig.machine
        .set_hardware_value(isa, "Identifier", REG_SZ, &utf16z("ISA"));
    let controller = format!("{isa}\\DisplayController\\0");
    rig.machine
        .set_hardware_value(&controller, "Identifier", REG_SZ, &utf16z("BOCHS VGA"));
    rig.machine
        .set_hardware_value(&controller, "Configuration Data", 9, &[7; 8]);
    let monitor = format!("{controller}\\MonitorPeripheral\\0");
    rig.machine
        .set_hardware_value(&monitor, "Identifier", REG_SZ, &utf16z("1024x768"));
    let (status, calls) = device_data(rig.hw, VIDEO_DEVICE_DATA_TYPE::VpControllerData);
    assert_eq!(status, NO_ERROR);
    assert_eq!(
        calls,
        vec![(
            hw,
            ctx,
            VIDEO_DEVICE_DATA_TYPE::VpControllerData.0,
            Some(utf16z("BOCHS VGA")),
            Some(vec![7; 8]),
            None
        )]
    );
    let (status, calls) = device_data(rig.hw, VIDEO_DEVICE_DATA_TYPE::VpMonitorData);
    assert_eq!(status, NO_ERROR);
    assert_eq!(calls[0].3, Some(utf16z("1024x768")));
    assert_eq!((calls[0].4.clone(), calls[0].5.clone()), (None, None));

    // The callback's status is the call's.
    CALLBACK_STATUS.store(ERROR_MORE_DATA.0, Ordering::SeqCst);
    let (status, calls) = device_data(rig.hw, VIDEO_DEVICE_DATA_TYPE::VpBusData);
    CALLBACK_STATUS.store(NO_ERROR.0, Ordering::SeqCst);
    assert_eq!((status, calls.len()), (ERROR_MORE_DATA, 1));
    assert!(take_codes(&rig.machine).is_empty());
    drop(_g);
    rig.finish();
}

#[test]
fn device_data_misuse_is_refused_without_a_callback() {
    use videoprt::port::device_data::VideoPortGetDeviceData;
    let _s = serial();
    let rig = Rig::new(MachineConfig::default());
    let _g = rig.machine.enter();
    let bus = VIDEO_DEVICE_DATA_TYPE::VpBusData;
    // SAFETY: a NULL callback, reported by the port.
    let status = unsafe { VideoPortGetDeviceData(rig.hw, bus, None, null_mut()) };
    assert_eq!(status, ERROR_INVALID_PARAMETER);
    assert_eq!(
        device_data(rig.hw, VIDEO_DEVICE_DATA_TYPE(5)),
        (ERROR_INVALID_PARAMETER, vec![])
    );
    let mut foreign = [0u8; 64];
    assert_eq!(
        device_data(foreign.as_mut_ptr().cast(), bus),
        (ERROR_INVALID_PARAMETER, vec![])
    );
    // SAFETY: raised and lowered on this thread.
    let old = unsafe { KeRaiseIrql(DISPATCH_LEVEL) };
    let at_dispatch = device_data(rig.hw, bus);
    // SAFETY: back to the level before.
    unsafe { KeLowerIrql(old) };
    assert_eq!(at_dispatch, (ERROR_INVALID_PARAMETER, vec![]));
    assert_eq!(
        take_codes(&rig.machine),
        vec![
            port(port_code::NULL_ARGUMENT),
            port(port_code::BAD_ARGUMENT),
            port(port_code::UNKNOWN_DEVICE_EXTENSION),
            (0xE6, 0x13),
        ]
    );
    drop(_g);
    rig.finish();
}
