//! `VideoPortGetDeviceData`: what the boot loader or HAL recorded about the machine's buses and
//! display hardware, from the registry's hardware description tree.
//!
//! C interface (`video.h`): `VP_STATUS VideoPortGetDeviceData(PVOID HwDeviceExtension,
//! VIDEO_DEVICE_DATA_TYPE DeviceDataType, PMINIPORT_QUERY_DEVICE_ROUTINE CallbackRoutine,
//! PVOID Context)`, PASSIVE_LEVEL. The callback gets the key's `Identifier`,
//! `Configuration Data` and `Component Information` values as stored (NULL and 0 for one that
//! is missing); its status is the call's. The tree is
//! `\Registry\Machine\Hardware\Description\System`:
//!
//! | type | key |
//! |---|---|
//! | `VpBusData` | the first `MultifunctionAdapter\n` whose `Identifier` names the adapter's bus (`PCI`, `ISA`, `EISA`, `MCA`) |
//! | `VpControllerData` | the first `MultifunctionAdapter\n\DisplayController\m` (ARC machines only) |
//! | `VpMonitorData` | the first `...\DisplayController\m\MonitorPeripheral\k` (ARC machines only) |
//! | `VpMachineData`, `VpCmosData` | none: the documentation reserves them; ERROR_INVALID_FUNCTION |
//!
//! ERROR_DEV_NOT_EXIST when the machine has no such key: on an x64 PC there are no ARC
//! display keys, so only `VpBusData` finds anything. Misuse is reported and refused with
//! ERROR_INVALID_PARAMETER: a call above PASSIVE_LEVEL, an unknown extension, a NULL callback,
//! a type outside the enumeration.

use super::registry::{counted, query_value, Handle, PoolBuffer, PARTIAL_HEADER};
use crate::device::PortDevice;
use crate::irql::{require_at_most, Irql};
use crate::report::{self, port_code, Misuse};
use core::ptr::null_mut;
use ddk_sys::*;

/// ASCII as UTF-16, at compile time (a length other than `N` fails the build).
const fn wide<const N: usize>(ascii: &str) -> [u16; N] {
    let bytes = ascii.as_bytes();
    assert!(bytes.len() == N);
    let mut out = [0u16; N];
    let mut i = 0;
    while i < N {
        out[i] = bytes[i] as u16;
        i += 1;
    }
    out
}

static ADAPTERS: [u16; 66] =
    wide("\\Registry\\Machine\\Hardware\\Description\\System\\MultifunctionAdapter");
static IDENTIFIER: [u16; 10] = wide("Identifier");
static CONFIGURATION_DATA: [u16; 18] = wide("Configuration Data");
static COMPONENT_INFORMATION: [u16; 21] = wide("Component Information");
static DISPLAY_CONTROLLER: [u16; 17] = wide("DisplayController");
static MONITOR_PERIPHERAL: [u16; 17] = wide("MonitorPeripheral");

/// Numbered keys are contiguous from 0; these bound a walk of a damaged tree.
const MAX_INDEX: u32 = 64;

/// Opens `name` below `root` (or the absolute path `name` when `root` is `None`) for reading.
fn open(root: Option<&Handle>, name: &[u16]) -> Option<Handle> {
    let mut unicode = counted(name);
    let mut oa = OBJECT_ATTRIBUTES::new(
        &mut unicode,
        OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE,
        root.map_or(null_mut(), |r| r.0),
    );
    let mut raw: HANDLE = null_mut();
    // SAFETY: valid attributes over a live name; `raw` writable; PASSIVE_LEVEL (checked).
    let status = unsafe { ZwOpenKey(&mut raw, KEY_READ, &mut oa) };
    status.is_success().then(|| Handle(raw))
}

/// Opens the numbered subkey `index` of `parent`.
fn open_index(parent: &Handle, index: u32) -> Option<Handle> {
    let mut digits = [0u16; 10];
    let mut start = digits.len();
    let mut n = index;
    loop {
        start -= 1;
        digits[start] = u16::from(b'0') + (n % 10) as u16;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    open(Some(parent), &digits[start..])
}

/// A value's data in pool, or nothing.
struct Data(Option<(PoolBuffer, usize)>);

impl Data {
    fn read(key: &Handle, name: &[u16]) -> Data {
        Data(query_value(key, name).map(|(_, buffer, length)| (buffer, length)))
    }

    fn ptr(&self) -> PVOID {
        self.0.as_ref().map_or(null_mut(), |(b, _)| {
            // SAFETY: the data starts PARTIAL_HEADER bytes into the buffer.
            unsafe { b.ptr.as_ptr().add(PARTIAL_HEADER) }.cast()
        })
    }

    fn len(&self) -> ULONG {
        self.0.as_ref().map_or(0, |(_, l)| *l as ULONG)
    }

    /// Whether the data is a UTF-16 string equal to `ascii` (ASCII case ignored), up to its
    /// terminator.
    fn is_string(&self, ascii: &str) -> bool {
        let Some((buffer, length)) = &self.0 else {
            return false;
        };
        // SAFETY: `length` data bytes follow the header in the buffer.
        let bytes = unsafe {
            core::slice::from_raw_parts(buffer.ptr.as_ptr().add(PARTIAL_HEADER), *length)
        };
        let mut units = bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .take_while(|&u| u != 0);
        ascii.bytes().all(|a| {
            units
                .next()
                .is_some_and(|u| u < 0x80 && (u as u8).eq_ignore_ascii_case(&a))
        }) && units.next().is_none()
    }
}

/// The name of the hardware description's bus key for `interface`.
fn bus_identifier(interface: INTERFACE_TYPE) -> Option<&'static str> {
    match interface {
        INTERFACE_TYPE::PCIBus => Some("PCI"),
        INTERFACE_TYPE::Isa => Some("ISA"),
        INTERFACE_TYPE::Eisa => Some("EISA"),
        INTERFACE_TYPE::MicroChannel => Some("MCA"),
        _ => None,
    }
}

/// Calls the miniport back with the three values of `key`.
#[ddk_sys::ntapi]
fn call_back(
    device: &PortDevice,
    key: &Handle,
    data_type: VIDEO_DEVICE_DATA_TYPE,
    callback: unsafe extern "ntapi" fn(
        PVOID,
        PVOID,
        VIDEO_DEVICE_DATA_TYPE,
        PVOID,
        ULONG,
        PVOID,
        ULONG,
        PVOID,
        ULONG,
    ) -> VP_STATUS,
    context: PVOID,
) -> VP_STATUS {
    let identifier = Data::read(key, &IDENTIFIER);
    let configuration = Data::read(key, &CONFIGURATION_DATA);
    let component = Data::read(key, &COMPONENT_INFORMATION);
    // SAFETY: the miniport's callback with its own extension and context; each buffer holds
    // the length passed with it and lives until the call returns.
    unsafe {
        callback(
            device.hw_extension(),
            context,
            data_type,
            identifier.ptr(),
            identifier.len(),
            configuration.ptr(),
            configuration.len(),
            component.ptr(),
            component.len(),
        )
    }
}

/// The first key of `data_type`, if the machine has one.
fn find(device: &PortDevice, data_type: VIDEO_DEVICE_DATA_TYPE) -> Option<Handle> {
    let adapters = open(None, &ADAPTERS)?;
    let bus = bus_identifier(device.port.resources.lock().interface);
    for n in 0..MAX_INDEX {
        let adapter = open_index(&adapters, n)?;
        if data_type == VIDEO_DEVICE_DATA_TYPE::VpBusData {
            let identifier = Data::read(&adapter, &IDENTIFIER);
            if bus.is_some_and(|b| identifier.is_string(b)) {
                return Some(adapter);
            }
            continue;
        }
        let Some(controllers) = open(Some(&adapter), &DISPLAY_CONTROLLER) else {
            continue;
        };
        for m in 0..MAX_INDEX {
            let Some(controller) = open_index(&controllers, m) else {
                break;
            };
            if data_type == VIDEO_DEVICE_DATA_TYPE::VpControllerData {
                return Some(controller);
            }
            let peripheral = open(Some(&controller), &MONITOR_PERIPHERAL)
                .and_then(|monitors| open_index(&monitors, 0));
            if peripheral.is_some() {
                return peripheral;
            }
        }
    }
    None
}

/// `VideoPortGetDeviceData`.
///
/// # Safety
/// `CallbackRoutine` is NULL (reported) or the miniport's `HwVidQueryDeviceCallback`.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortGetDeviceData(
    HwDeviceExtension: PVOID,
    DeviceDataType: VIDEO_DEVICE_DATA_TYPE,
    CallbackRoutine: PMINIPORT_QUERY_DEVICE_ROUTINE,
    Context: PVOID,
) -> VP_STATUS {
    const ROUTINE: &str = "VideoPortGetDeviceData";
    if !require_at_most(ROUTINE, Irql::PASSIVE) {
        return ERROR_INVALID_PARAMETER;
    }
    let Some(device) = PortDevice::from_hw_extension(ROUTINE, HwDeviceExtension) else {
        return ERROR_INVALID_PARAMETER;
    };
    let Some(callback) = CallbackRoutine else {
        report::null_argument(ROUTINE, 3);
        return ERROR_INVALID_PARAMETER;
    };
    match DeviceDataType {
        VIDEO_DEVICE_DATA_TYPE::VpMachineData | VIDEO_DEVICE_DATA_TYPE::VpCmosData => {
            ERROR_INVALID_FUNCTION
        }
        VIDEO_DEVICE_DATA_TYPE::VpBusData
        | VIDEO_DEVICE_DATA_TYPE::VpControllerData
        | VIDEO_DEVICE_DATA_TYPE::VpMonitorData => match find(device, DeviceDataType) {
            Some(key) => call_back(device, &key, DeviceDataType, callback, Context),
            None => ERROR_DEV_NOT_EXIST,
        },
        other => {
            report::misuse(
                ROUTINE,
                Misuse::Port {
                    code: port_code::BAD_ARGUMENT,
                    p2: other.0 as usize,
                    p3: VIDEO_DEVICE_DATA_TYPE::VpMonitorData.0 as usize,
                },
            );
            ERROR_INVALID_PARAMETER
        }
    }
}
