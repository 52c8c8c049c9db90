//! The device's hardware resources: `VideoPortGetAccessRanges`, `VideoPortVerifyAccessRanges`,
//! `VideoPortGetDeviceBase`, `VideoPortFreeDeviceBase`.
//!
//! C interface (`video.h`), all PASSIVE_LEVEL:
//! `VP_STATUS VideoPortGetAccessRanges(PVOID HwDeviceExtension, ULONG NumRequestedResources,
//! PIO_RESOURCE_DESCRIPTOR RequestedResources, ULONG NumAccessRanges,
//! PVIDEO_ACCESS_RANGE AccessRanges, PVOID VendorId, PVOID DeviceId, PULONG Slot)`;
//! `VP_STATUS VideoPortVerifyAccessRanges(PVOID HwDeviceExtension, ULONG NumAccessRanges,
//! PVIDEO_ACCESS_RANGE AccessRanges)`;
//! `PVOID VideoPortGetDeviceBase(PVOID HwDeviceExtension, PHYSICAL_ADDRESS IoAddress,
//! ULONG NumberOfUchars, UCHAR InIoSpace)`;
//! `VOID VideoPortFreeDeviceBase(PVOID HwDeviceExtension, PVOID MappedAddress)`.
//!
//! Access ranges are the device's bus-relative (raw) memory and port resources of the last
//! START, in resource order. For a PnP device the legacy arguments of GetAccessRanges
//! (requested resources, vendor/device id, slot) are not used: the PnP manager already
//! identified and configured the device. GetAccessRanges and VerifyAccessRanges may be called
//! from HwFindAdapter only (VerifyAccessRanges with zero ranges, which drops the claims, at any
//! time). GetDeviceBase maps only ranges inside those resources, in the same space; the mapping
//! is recorded, so FreeDeviceBase of anything else is refused and every mapping is undone when
//! the device stops or is removed.

use super::state;
use crate::device::PortDevice;
use crate::irql::{self, Irql};
use crate::report::{self, port_code, Misuse};
use core::ptr::null_mut;
use ddk_sys::*;

/// Memory and port resources one device may have.
pub const MAX_RANGES: usize = 16;
/// Device bases one device may have mapped at once.
pub const MAX_MAPPINGS: usize = 32;

/// One memory or port resource: raw (bus-relative) and translated (CPU-relative) starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Range {
    pub raw: u64,
    pub translated: u64,
    pub length: u32,
    /// The raw range is in I/O space.
    pub io: bool,
    /// The translated range is in I/O space (else memory, to be mapped).
    pub translated_io: bool,
    pub shareable: bool,
}

impl Range {
    fn contains(&self, start: u64, length: u64) -> bool {
        start >= self.raw
            && start
                .checked_add(length)
                .is_some_and(|end| end <= self.raw + self.length as u64)
    }
}

/// The interrupt resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InterruptResource {
    pub raw_level: u32,
    pub raw_vector: u32,
    /// Translated: DIRQL and vector for IoConnectInterrupt.
    pub level: KIRQL,
    pub vector: u32,
    pub affinity: KAFFINITY,
    pub mode: KINTERRUPT_MODE,
    pub shareable: bool,
}

/// The resources of the last START.
#[derive(Clone, Copy, Debug)]
pub struct Resources {
    pub ranges: [Range; MAX_RANGES],
    pub count: usize,
    pub interrupt: Option<InterruptResource>,
    pub bus_number: u32,
    pub interface: INTERFACE_TYPE,
}

impl Resources {
    pub const fn new() -> Self {
        Resources {
            ranges: [Range {
                raw: 0,
                translated: 0,
                length: 0,
                io: false,
                translated_io: false,
                shareable: false,
            }; MAX_RANGES],
            count: 0,
            interrupt: None,
            bus_number: 0,
            interface: INTERFACE_TYPE::PCIBus,
        }
    }

    pub fn clear(&mut self) {
        *self = Resources::new();
    }

    pub fn ranges(&self) -> &[Range] {
        &self.ranges[..self.count]
    }

    /// Pairs the raw and translated lists descriptor by descriptor (they describe the same
    /// resources in the same order). NULL lists mean no resources. More than
    /// [`MAX_RANGES`] ranges: STATUS_INSUFFICIENT_RESOURCES; lists that disagree:
    /// STATUS_DEVICE_CONFIGURATION_ERROR.
    ///
    /// # Safety
    /// Each list is NULL or a valid CM_RESOURCE_LIST.
    pub unsafe fn parse(
        raw: *const CM_RESOURCE_LIST,
        translated: *const CM_RESOURCE_LIST,
    ) -> Result<Resources, NTSTATUS> {
        let mut r = Resources::new();
        if raw.is_null() || translated.is_null() {
            return if raw.is_null() && translated.is_null() {
                Ok(r)
            } else {
                Err(STATUS_DEVICE_CONFIGURATION_ERROR)
            };
        }
        // SAFETY: valid lists (contract); pack(4) fields are read unaligned, by value.
        unsafe {
            let full_raw = core::ptr::addr_of!((*raw).List).cast::<CM_FULL_RESOURCE_DESCRIPTOR>();
            let full_tr =
                core::ptr::addr_of!((*translated).List).cast::<CM_FULL_RESOURCE_DESCRIPTOR>();
            if core::ptr::addr_of!((*raw).Count).read_unaligned() == 0 {
                return Ok(r);
            }
            r.interface = core::ptr::addr_of!((*full_raw).InterfaceType).read_unaligned();
            r.bus_number = core::ptr::addr_of!((*full_raw).BusNumber).read_unaligned();
            let pl_raw = core::ptr::addr_of!((*full_raw).PartialResourceList);
            let pl_tr = core::ptr::addr_of!((*full_tr).PartialResourceList);
            let n = core::ptr::addr_of!((*pl_raw).Count).read_unaligned() as usize;
            if core::ptr::addr_of!((*pl_tr).Count).read_unaligned() as usize != n {
                return Err(STATUS_DEVICE_CONFIGURATION_ERROR);
            }
            let d_raw = core::ptr::addr_of!((*pl_raw).PartialDescriptors)
                .cast::<CM_PARTIAL_RESOURCE_DESCRIPTOR>();
            let d_tr = core::ptr::addr_of!((*pl_tr).PartialDescriptors)
                .cast::<CM_PARTIAL_RESOURCE_DESCRIPTOR>();
            for i in 0..n {
                let a = d_raw.add(i).read_unaligned();
                let b = d_tr.add(i).read_unaligned();
                match a.Type {
                    CmResourceTypeMemory | CmResourceTypePort => {
                        if !matches!(b.Type, CmResourceTypeMemory | CmResourceTypePort) {
                            return Err(STATUS_DEVICE_CONFIGURATION_ERROR);
                        }
                        if r.count == MAX_RANGES {
                            return Err(STATUS_INSUFFICIENT_RESOURCES);
                        }
                        let (ra, tb) = (a.u.Generic, b.u.Generic);
                        r.ranges[r.count] = Range {
                            raw: ra.Start.get(),
                            translated: tb.Start.get(),
                            length: ra.Length,
                            io: a.Type == CmResourceTypePort,
                            translated_io: b.Type == CmResourceTypePort,
                            shareable: a.ShareDisposition == CmResourceShareShared,
                        };
                        r.count += 1;
                    }
                    CmResourceTypeInterrupt if r.interrupt.is_none() => {
                        if b.Type != CmResourceTypeInterrupt {
                            return Err(STATUS_DEVICE_CONFIGURATION_ERROR);
                        }
                        let (ia, ib) = (a.u.Interrupt, b.u.Interrupt);
                        r.interrupt = Some(InterruptResource {
                            raw_level: ia.Level as u32,
                            raw_vector: ia.Vector,
                            level: ib.Level as KIRQL,
                            vector: ib.Vector,
                            affinity: ib.Affinity,
                            mode: if a.Flags & CM_RESOURCE_INTERRUPT_LATCHED != 0 {
                                KINTERRUPT_MODE::Latched
                            } else {
                                KINTERRUPT_MODE::LevelSensitive
                            },
                            shareable: a.ShareDisposition == CmResourceShareShared,
                        });
                    }
                    _ => {}
                }
            }
        }
        Ok(r)
    }

    /// The range of the given space that contains `start..start+length`.
    pub fn find(&self, start: u64, length: u64, io: bool) -> Option<Range> {
        self.ranges()
            .iter()
            .copied()
            .find(|r| r.io == io && r.contains(start, length))
    }
}

/// A device base handed out by GetDeviceBase.
#[derive(Clone, Copy, Debug, Default)]
pub struct Mapping {
    pub va: usize,
    pub length: u32,
    /// A port address, not a mapping: nothing to unmap.
    pub io: bool,
}

pub struct Mappings {
    entries: [Mapping; MAX_MAPPINGS],
}

impl Mappings {
    pub const fn new() -> Self {
        Mappings {
            entries: [Mapping {
                va: 0,
                length: 0,
                io: false,
            }; MAX_MAPPINGS],
        }
    }

    fn insert(&mut self, m: Mapping) -> bool {
        match self.entries.iter_mut().find(|e| e.va == 0) {
            Some(e) => {
                *e = m;
                true
            }
            None => false,
        }
    }

    /// Whether `length` bytes at `va` lie inside one memory mapping handed out.
    pub fn covers(&self, va: usize, length: usize) -> bool {
        self.entries.iter().any(|e| {
            !e.io
                && e.va != 0
                && va >= e.va
                && va
                    .checked_add(length)
                    .is_some_and(|end| end <= e.va + e.length as usize)
        })
    }

    fn take(&mut self, va: usize) -> Option<Mapping> {
        let e = self.entries.iter_mut().find(|e| e.va == va && va != 0)?;
        let m = *e;
        *e = Mapping::default();
        Some(m)
    }

    fn pop(&mut self) -> Option<Mapping> {
        let e = self.entries.iter_mut().find(|e| e.va != 0)?;
        let m = *e;
        *e = Mapping::default();
        Some(m)
    }
}

/// Ranges the miniport claimed with VideoPortVerifyAccessRanges.
pub struct Claims {
    ranges: [Range; MAX_RANGES],
    count: usize,
}

impl Claims {
    pub const fn new() -> Self {
        Claims {
            ranges: Resources::new().ranges,
            count: 0,
        }
    }
    pub fn clear(&mut self) {
        self.count = 0;
    }
    pub fn count(&self) -> usize {
        self.count
    }
}

/// Checks a claim: every range inside the device's resources, in its space, and no two
/// ranges overlapping unless both are shareable. Returns the misuse found, if any.
pub fn check_claim(resources: &Resources, ranges: &[VIDEO_ACCESS_RANGE]) -> Result<(), Misuse> {
    if ranges.len() > MAX_RANGES {
        return Err(Misuse::Port {
            code: port_code::BAD_ARGUMENT,
            p2: ranges.len(),
            p3: MAX_RANGES,
        });
    }
    for (i, a) in ranges.iter().enumerate() {
        let start = a.RangeStart.get();
        let io = a.RangeInIoSpace & 1 != 0;
        if resources.find(start, a.RangeLength as u64, io).is_none() {
            return Err(Misuse::Port {
                code: port_code::RANGE_NOT_OWNED,
                p2: start as usize,
                p3: a.RangeLength as usize,
            });
        }
        for b in &ranges[..i] {
            let (s2, io2) = (b.RangeStart.get(), b.RangeInIoSpace & 1 != 0);
            let overlap =
                io == io2 && start < s2 + b.RangeLength as u64 && s2 < start + a.RangeLength as u64;
            if overlap && !(a.RangeShareable != 0 && b.RangeShareable != 0) {
                return Err(Misuse::Port {
                    code: port_code::OVERLAPPING_RANGES,
                    p2: start as usize,
                    p3: s2 as usize,
                });
            }
        }
    }
    Ok(())
}

impl PortDevice {
    /// Unmaps every device base still mapped.
    pub(crate) fn unmap_all(&self) {
        loop {
            let Some(m) = self.port.mappings.lock().pop() else {
                break;
            };
            if !m.io {
                // SAFETY: mapped by GetDeviceBase with this length, now forgotten.
                unsafe { MmUnmapIoSpace(m.va as PVOID, m.length as usize) };
            }
        }
    }
}

fn in_find_adapter(routine: &'static str, device: &PortDevice) -> bool {
    if device.port.state() == state::FINDING {
        return true;
    }
    report::misuse(
        routine,
        Misuse::Port {
            code: port_code::NOT_IN_FIND_ADAPTER,
            p2: device.port.state() as usize,
            p3: 0,
        },
    );
    false
}

/// `VideoPortGetAccessRanges`: copies the device's memory and port resources into
/// `AccessRanges` (at most `NumAccessRanges`; unused entries zeroed). ERROR_MORE_DATA when the
/// array is too small (the first `NumAccessRanges` are filled).
///
/// # Safety
/// `AccessRanges` NULL or writable for `NumAccessRanges` entries.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortGetAccessRanges(
    HwDeviceExtension: PVOID,
    _NumRequestedResources: ULONG,
    _RequestedResources: PVOID,
    NumAccessRanges: ULONG,
    AccessRanges: PVIDEO_ACCESS_RANGE,
    _VendorId: PVOID,
    _DeviceId: PVOID,
    _Slot: *mut ULONG,
) -> VP_STATUS {
    const R: &str = "VideoPortGetAccessRanges";
    if !irql::require_at_most(R, Irql::PASSIVE) {
        return ERROR_INVALID_PARAMETER;
    }
    let Some(device) = PortDevice::from_hw_extension(R, HwDeviceExtension) else {
        return ERROR_INVALID_PARAMETER;
    };
    if !in_find_adapter(R, device) {
        return ERROR_INVALID_PARAMETER;
    }
    if NumAccessRanges > 0 && AccessRanges.is_null() {
        report::misuse(
            R,
            Misuse::Port {
                code: port_code::NULL_ARGUMENT,
                p2: 5,
                p3: 0,
            },
        );
        return ERROR_INVALID_PARAMETER;
    }
    let resources = *device.port.resources.lock();
    let have = resources.ranges();
    for i in 0..NumAccessRanges as usize {
        let entry = match have.get(i) {
            Some(r) => VIDEO_ACCESS_RANGE {
                RangeStart: PHYSICAL_ADDRESS::new(r.raw),
                RangeLength: r.length,
                RangeInIoSpace: r.io as u8,
                RangeVisible: 0,
                RangeShareable: r.shareable as u8,
                RangePassive: 0,
            },
            None => VIDEO_ACCESS_RANGE::default(),
        };
        // SAFETY: writable for NumAccessRanges entries (contract).
        unsafe { AccessRanges.add(i).write(entry) };
    }
    if have.len() > NumAccessRanges as usize {
        ERROR_MORE_DATA
    } else {
        NO_ERROR
    }
}

/// `VideoPortVerifyAccessRanges`: claims the ranges for the miniport (replacing an earlier
/// claim). Zero ranges drop the claim. ERROR_INVALID_PARAMETER (reported) for a range outside
/// the device's resources or two overlapping ranges not both shareable.
///
/// # Safety
/// `AccessRanges` NULL or readable for `NumAccessRanges` entries.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortVerifyAccessRanges(
    HwDeviceExtension: PVOID,
    NumAccessRanges: ULONG,
    AccessRanges: PVIDEO_ACCESS_RANGE,
) -> VP_STATUS {
    const R: &str = "VideoPortVerifyAccessRanges";
    if !irql::require_at_most(R, Irql::PASSIVE) {
        return ERROR_INVALID_PARAMETER;
    }
    let Some(device) = PortDevice::from_hw_extension(R, HwDeviceExtension) else {
        return ERROR_INVALID_PARAMETER;
    };
    if NumAccessRanges == 0 {
        device.port.claims.lock().clear();
        return NO_ERROR;
    }
    if !in_find_adapter(R, device) {
        return ERROR_INVALID_PARAMETER;
    }
    if AccessRanges.is_null() {
        report::misuse(
            R,
            Misuse::Port {
                code: port_code::NULL_ARGUMENT,
                p2: 3,
                p3: 0,
            },
        );
        return ERROR_INVALID_PARAMETER;
    }
    // SAFETY: readable for NumAccessRanges entries (contract).
    let ranges = unsafe { core::slice::from_raw_parts(AccessRanges, NumAccessRanges as usize) };
    let resources = *device.port.resources.lock();
    if let Err(m) = check_claim(&resources, ranges) {
        report::misuse(R, m);
        return ERROR_INVALID_PARAMETER;
    }
    let mut claims = device.port.claims.lock();
    for (i, a) in ranges.iter().enumerate() {
        claims.ranges[i] = Range {
            raw: a.RangeStart.get(),
            translated: 0,
            length: a.RangeLength,
            io: a.RangeInIoSpace & 1 != 0,
            translated_io: false,
            shareable: a.RangeShareable != 0,
        };
    }
    claims.count = ranges.len();
    NO_ERROR
}

/// `VideoPortGetDeviceBase`: a kernel address for `NumberOfUchars` bytes at bus address
/// `IoAddress` of the device, or NULL. Memory is mapped with MmMapIoSpace (write-combined with
/// VIDEO_MEMORY_SPACE_P6CACHE); a port range translated to I/O space is returned as its port
/// address. Reported and NULL: a zero length, VIDEO_MEMORY_SPACE_USER_MODE (user mappings are
/// VideoPortMapMemory's job, not provided), a range outside the device's resources in that
/// space, or more than [`MAX_MAPPINGS`] bases at once.
///
/// # Safety
/// Any arguments are accepted.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortGetDeviceBase(
    HwDeviceExtension: PVOID,
    IoAddress: PHYSICAL_ADDRESS,
    NumberOfUchars: ULONG,
    InIoSpace: UCHAR,
) -> PVOID {
    const R: &str = "VideoPortGetDeviceBase";
    if !irql::require_at_most(R, Irql::PASSIVE) {
        return null_mut();
    }
    let Some(device) = PortDevice::from_hw_extension(R, HwDeviceExtension) else {
        return null_mut();
    };
    let flags = InIoSpace as ULONG;
    if NumberOfUchars == 0 || flags & VIDEO_MEMORY_SPACE_USER_MODE != 0 {
        report::misuse(
            R,
            Misuse::Port {
                code: port_code::BAD_ARGUMENT,
                p2: if NumberOfUchars == 0 {
                    0
                } else {
                    flags as usize
                },
                p3: 0,
            },
        );
        return null_mut();
    }
    let io = flags & VIDEO_MEMORY_SPACE_IO != 0;
    let start = IoAddress.get();
    let found = device
        .port
        .resources
        .lock()
        .find(start, NumberOfUchars as u64, io);
    let Some(range) = found else {
        report::misuse(
            R,
            Misuse::Port {
                code: port_code::RANGE_NOT_OWNED,
                p2: start as usize,
                p3: NumberOfUchars as usize,
            },
        );
        return null_mut();
    };
    let translated = range.translated + (start - range.raw);
    let (va, port) = if range.translated_io {
        (translated as usize, true)
    } else {
        let cache = if flags & VIDEO_MEMORY_SPACE_P6CACHE != 0 {
            MEMORY_CACHING_TYPE::MmWriteCombined
        } else {
            MEMORY_CACHING_TYPE::MmNonCached
        };
        // SAFETY: a range inside the device's own translated resources.
        let va = unsafe {
            MmMapIoSpace(
                PHYSICAL_ADDRESS::new(translated),
                NumberOfUchars as usize,
                cache,
            )
        };
        if va.is_null() {
            return null_mut();
        }
        (va as usize, false)
    };
    let stored = device.port.mappings.lock().insert(Mapping {
        va,
        length: NumberOfUchars,
        io: port,
    });
    if !stored {
        if !port {
            // SAFETY: mapped just above.
            unsafe { MmUnmapIoSpace(va as PVOID, NumberOfUchars as usize) };
        }
        report::misuse(
            R,
            Misuse::Port {
                code: port_code::BAD_ARGUMENT,
                p2: MAX_MAPPINGS,
                p3: MAX_MAPPINGS,
            },
        );
        return null_mut();
    }
    va as PVOID
}

/// `VideoPortFreeDeviceBase`: undoes one GetDeviceBase. An address GetDeviceBase did not
/// return on this device (or already freed) is reported and ignored.
///
/// # Safety
/// Any arguments are accepted.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortFreeDeviceBase(
    HwDeviceExtension: PVOID,
    MappedAddress: PVOID,
) {
    const R: &str = "VideoPortFreeDeviceBase";
    if !irql::require_at_most(R, Irql::PASSIVE) {
        return;
    }
    let Some(device) = PortDevice::from_hw_extension(R, HwDeviceExtension) else {
        return;
    };
    let taken = device.port.mappings.lock().take(MappedAddress as usize);
    match taken {
        Some(m) if !m.io => {
            // SAFETY: mapped by GetDeviceBase with this length, now forgotten.
            unsafe { MmUnmapIoSpace(m.va as PVOID, m.length as usize) }
        }
        Some(_) => {}
        None => report::misuse(
            R,
            Misuse::Port {
                code: port_code::UNKNOWN_MAPPING,
                p2: MappedAddress as usize,
                p3: 0,
            },
        ),
    }
}

impl Default for Resources {
    fn default() -> Self {
        Self::new()
    }
}

impl Default for Mappings {
    fn default() -> Self {
        Self::new()
    }
}

impl Default for Claims {
    fn default() -> Self {
        Self::new()
    }
}
