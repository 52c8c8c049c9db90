//! Child devices of a display adapter: monitors and other devices the miniport reports
//! through `HwGetVideoChildDescriptor`, each a PDO the port is the bus driver of.
//!
//! C interface (`video.h`): `VP_STATUS HwGetVideoChildDescriptor(PVOID HwDeviceExtension,
//! PVIDEO_CHILD_ENUM_INFO ChildEnumInfo, PVIDEO_CHILD_TYPE VideoChildType, PUCHAR
//! pChildDescriptor, PULONG UId, PULONG pUnused)`; `VP_STATUS VideoPortEnumerateChildren(PVOID
//! HwDeviceExtension, PVOID Reserved)`; `ULONG VideoPortGetAssociatedDeviceID(PVOID
//! DeviceObject)`.
//!
//! Enumeration runs when the PnP manager asks the started adapter for its bus relations (after
//! START, and again after `VideoPortEnumerateChildren` invalidated them). The port asks
//! ChildIndex 1, 2, ... at PASSIVE_LEVEL until the miniport answers
//! VIDEO_ENUM_NO_MORE_DEVICES; ChildIndex 0 is reserved for children the ACPI BIOS names
//! (`ACPIHwId`), and this port, which reads no ACPI display-output table, never asks it.
//! The descriptor buffer is [`DESCRIPTOR_SIZE`] bytes (one EDID block), zeroed before each
//! call. Per answer:
//! * VIDEO_ENUM_MORE_DEVICES with `Monitor` or `Other`: a child; `Monitor`'s descriptor is its
//!   EDID (or nothing, for a monitor without DDC2), `Other`'s its hardware ID as UTF-16.
//!   `VideoChip` (the adapter itself) and `NonPrimaryChip` (reserved) get no PDO.
//! * VIDEO_ENUM_INVALID_DEVICE: nothing at this index; the next is asked.
//! * VIDEO_ENUM_NO_MORE_DEVICES: the end. Anything else is reported and ends it too.
//!
//! A child is identified by its ChildIndex across enumerations: its PDO, and the
//! `HwChildDeviceExtensionSize` bytes of child extension the miniport sees in
//! `ChildEnumInfo->ChildHwDeviceExtension`, live from the first time it is reported until the
//! PnP manager removes it after it was no longer reported (or until the adapter is removed).
//! A PDO is made before each question so a new child's extension exists while the miniport
//! fills it, and deleted again when the answer is not a child.
//!
//! IDs, as Windows gives monitors: a monitor with an EDID (header and checksum valid) is
//! `DISPLAY\<PNP>` with hardware ID `MONITOR\<PNP>`, where `<PNP>` is the EDID's three-letter
//! manufacturer and its product code in four hex digits (bytes 8-11); without one,
//! `MONITOR\Default_Monitor`; compatible ID `*PNP09FF`. An `Other` child's device and hardware
//! ID are its string. The instance ID is `UID<UId>`.
//!
//! Invariants: the adapter's [`ChildTable`] (under its lock) owns every child record; a child
//! PDO is in [`CHILD_PDOS`] from creation until deletion, so a device object is recognised as
//! a child by address before anything is read through it.

use super::state;
use crate::device::PortDevice;
use crate::report::{self, port_code, Misuse};
use crate::sync::SpinLock;
use crate::system::{self, PoolKind};
use core::ptr::null_mut;
use ddk_sys::*;

/// Children one adapter can have.
pub const MAX_CHILDREN: usize = 16;
/// Bytes of `pChildDescriptor`: one EDID block.
pub const DESCRIPTOR_SIZE: usize = 128;
/// ChildIndex values asked before giving up on a miniport that never says "no more".
const MAX_INDEX: u32 = 64;
/// Pool tag of the relations and ID strings handed to the PnP manager ("VPch").
const TAG: u32 = u32::from_le_bytes(*b"VPch");

/// What the port knows about one child.
#[derive(Clone, Copy)]
pub(crate) struct ChildRecord {
    pub pdo: PDEVICE_OBJECT,
    pub index: u32,
    pub uid: u32,
    pub kind: VIDEO_CHILD_TYPE,
    /// Reported by the last enumeration.
    pub present: bool,
    pub descriptor: [u8; DESCRIPTOR_SIZE],
}

/// The children of one adapter.
pub(crate) struct ChildTable {
    slots: [Option<ChildRecord>; MAX_CHILDREN],
}

// SAFETY: the table only stores addresses of device objects; it is reached through its lock.
unsafe impl Send for ChildTable {}

impl ChildTable {
    pub(crate) const fn new() -> Self {
        ChildTable {
            slots: [None; MAX_CHILDREN],
        }
    }

    fn find(&self, pdo: PDEVICE_OBJECT) -> Option<ChildRecord> {
        self.slots.iter().flatten().find(|c| c.pdo == pdo).copied()
    }
}

/// The extension of a child PDO: its adapter, then the miniport's child extension.
#[repr(C, align(16))]
struct ChildExtension {
    parent: *const PortDevice,
}

/// Every live child PDO and its adapter, by address.
struct ChildPdos {
    entries: [(usize, usize); 64],
}
static CHILD_PDOS: SpinLock<ChildPdos> = SpinLock::new(ChildPdos {
    entries: [(0, 0); 64],
});

/// The adapter a child PDO belongs to, or `None` for any other value (never dereferenced).
pub(crate) fn parent_of(device: PDEVICE_OBJECT) -> Option<&'static PortDevice> {
    if device.is_null() {
        return None;
    }
    let parent = CHILD_PDOS
        .lock()
        .entries
        .iter()
        .find(|e| e.0 == device as usize)
        .map(|e| e.1)?;
    // SAFETY: a child's adapter outlives it (children are deleted before the adapter detaches).
    Some(unsafe { &*(parent as *const PortDevice) })
}

/// The miniport's extension for the child whose PDO is `pdo` (NULL without one).
fn child_hw_extension(pdo: PDEVICE_OBJECT, size: u32) -> PVOID {
    if size == 0 {
        return null_mut();
    }
    // SAFETY: our own child PDO, whose extension is a ChildExtension followed by `size` bytes.
    unsafe {
        (*pdo)
            .DeviceExtension
            .cast::<u8>()
            .add(size_of::<ChildExtension>())
            .cast()
    }
}

impl PortDevice {
    /// A new child PDO of this adapter, or NULL.
    fn create_child_pdo(&self) -> PDEVICE_OBJECT {
        let Some(driver) = self.port.driver() else {
            return null_mut();
        };
        let hw_size = driver.init.HwChildDeviceExtensionSize;
        let mut pdo: PDEVICE_OBJECT = null_mut();
        // SAFETY: the miniport's driver object is live while its devices are; out pointer live.
        let status = unsafe {
            IoCreateDevice(
                (*self.fdo()).DriverObject,
                (size_of::<ChildExtension>() + hw_size as usize) as u32,
                null_mut(),
                FILE_DEVICE_SCREEN,
                FILE_AUTOGENERATED_DEVICE_NAME | FILE_DEVICE_SECURE_OPEN,
                FALSE,
                &mut pdo,
            )
        };
        if !status.is_success() {
            return null_mut();
        }
        // SAFETY: a fresh device object with a zeroed extension of the requested size.
        unsafe {
            (*pdo)
                .DeviceExtension
                .cast::<ChildExtension>()
                .write(ChildExtension { parent: self });
            (*pdo).Flags |= DO_POWER_PAGABLE;
            (*pdo).Flags &= !DO_DEVICE_INITIALIZING;
        }
        let mut table = CHILD_PDOS.lock();
        match table.entries.iter_mut().find(|e| e.0 == 0) {
            Some(e) => *e = (pdo as usize, self as *const PortDevice as usize),
            None => {
                drop(table);
                // SAFETY: nobody knows the device yet.
                unsafe { IoDeleteDevice(pdo) };
                return null_mut();
            }
        }
        pdo
    }

    /// Deletes a child PDO made by [`Self::create_child_pdo`].
    ///
    /// # Safety
    /// Nothing may use `pdo` afterwards.
    unsafe fn delete_child_pdo(&self, pdo: PDEVICE_OBJECT) {
        if let Some(e) = CHILD_PDOS
            .lock()
            .entries
            .iter_mut()
            .find(|e| e.0 == pdo as usize)
        {
            *e = (0, 0);
        }
        // SAFETY: our own child PDO (contract).
        unsafe { IoDeleteDevice(pdo) };
    }

    /// Asks the miniport for its children and updates the table; the present children's PDOs.
    /// PASSIVE_LEVEL, from IRP_MN_QUERY_DEVICE_RELATIONS.
    pub(crate) fn enumerate_children(&self) -> ([PDEVICE_OBJECT; MAX_CHILDREN], usize) {
        let mut out = [null_mut(); MAX_CHILDREN];
        let Some(driver) = self.port.driver() else {
            return (out, 0);
        };
        let Some(get) = driver.init.HwGetVideoChildDescriptor else {
            return (out, 0);
        };
        if self.port.state() != state::STARTED {
            return (out, 0);
        }
        let hw_size = driver.init.HwChildDeviceExtensionSize;
        for slot in self.port.children.lock().slots.iter_mut().flatten() {
            slot.present = false;
        }
        for index in 1..=MAX_INDEX {
            let existing = self
                .port
                .children
                .lock()
                .slots
                .iter()
                .flatten()
                .find(|c| c.index == index)
                .map(|c| c.pdo);
            let pdo = existing.unwrap_or_else(|| self.create_child_pdo());
            let mut info = VIDEO_CHILD_ENUM_INFO {
                Size: size_of::<VIDEO_CHILD_ENUM_INFO>() as u32,
                ChildDescriptorSize: DESCRIPTOR_SIZE as u32,
                ChildIndex: index,
                ACPIHwId: 0,
                ChildHwDeviceExtension: if pdo.is_null() {
                    null_mut()
                } else {
                    child_hw_extension(pdo, hw_size)
                },
            };
            let mut kind = VIDEO_CHILD_TYPE(0);
            let (mut uid, mut unused) = (0u32, 0u32);
            let mut descriptor = [0u8; DESCRIPTOR_SIZE];
            // SAFETY: the miniport's callback with its extension and buffers of the sizes
            // the enumeration info states, all live for the call.
            let vp = unsafe {
                get(
                    self.hw_extension(),
                    (&mut info as *mut VIDEO_CHILD_ENUM_INFO).cast(),
                    &mut kind.0,
                    descriptor.as_mut_ptr(),
                    &mut uid,
                    &mut unused,
                )
            };
            let is_child = vp == VIDEO_ENUM_MORE_DEVICES
                && matches!(kind, VIDEO_CHILD_TYPE::Monitor | VIDEO_CHILD_TYPE::Other)
                && !pdo.is_null();
            let accepted = is_child && self.record_child(pdo, index, uid, kind, &descriptor);
            if !accepted && existing.is_none() && !pdo.is_null() {
                // SAFETY: made above for this question; nobody else knows it.
                unsafe { self.delete_child_pdo(pdo) };
            }
            if vp == VIDEO_ENUM_MORE_DEVICES || vp == VIDEO_ENUM_INVALID_DEVICE {
                continue;
            }
            if vp != VIDEO_ENUM_NO_MORE_DEVICES {
                report::misuse(
                    "HwGetVideoChildDescriptor",
                    Misuse::Port {
                        code: port_code::CHILD_STATUS,
                        p2: vp.0 as u32 as usize,
                        p3: index as usize,
                    },
                );
            }
            break;
        }
        let table = self.port.children.lock();
        let mut n = 0;
        for c in table.slots.iter().flatten().filter(|c| c.present) {
            out[n] = c.pdo;
            n += 1;
        }
        (out, n)
    }

    /// Stores a reported child; false (reported) when it cannot be hosted.
    fn record_child(
        &self,
        pdo: PDEVICE_OBJECT,
        index: u32,
        uid: u32,
        kind: VIDEO_CHILD_TYPE,
        descriptor: &[u8; DESCRIPTOR_SIZE],
    ) -> bool {
        let mut table = self.port.children.lock();
        let duplicate = table
            .slots
            .iter()
            .flatten()
            .any(|c| c.present && c.uid == uid && c.pdo != pdo);
        let record = ChildRecord {
            pdo,
            index,
            uid,
            kind,
            present: true,
            descriptor: *descriptor,
        };
        let problem = if duplicate || uid == DISPLAY_ADAPTER_HW_ID {
            Some((port_code::DUPLICATE_CHILD_UID, uid as usize))
        } else if let Some(slot) = table.slots.iter_mut().flatten().find(|c| c.pdo == pdo) {
            *slot = record;
            None
        } else if let Some(slot) = table.slots.iter_mut().find(|s| s.is_none()) {
            *slot = Some(record);
            None
        } else {
            Some((port_code::TOO_MANY_CHILDREN, MAX_CHILDREN))
        };
        drop(table);
        match problem {
            None => true,
            Some((code, p)) => {
                let (p2, p3) = if code == port_code::TOO_MANY_CHILDREN {
                    (index as usize, p)
                } else {
                    (p, index as usize)
                };
                report::misuse("HwGetVideoChildDescriptor", Misuse::Port { code, p2, p3 });
                false
            }
        }
    }

    /// Deletes every child PDO (adapter removal). PASSIVE_LEVEL.
    pub(crate) fn delete_children(&self) {
        loop {
            let next = self
                .port
                .children
                .lock()
                .slots
                .iter_mut()
                .find(|s| s.is_some())
                .and_then(|s| s.take());
            let Some(child) = next else { break };
            // SAFETY: out of the table: nothing reaches it any more.
            unsafe { self.delete_child_pdo(child.pdo) };
        }
    }

    pub(crate) fn child(&self, pdo: PDEVICE_OBJECT) -> Option<ChildRecord> {
        self.port.children.lock().find(pdo)
    }
}

/// The three-letter manufacturer and product code of a valid EDID block, as `AAA1234`.
pub fn edid_pnp_id(edid: &[u8; DESCRIPTOR_SIZE]) -> Option<[u8; 7]> {
    const HEADER: [u8; 8] = [0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00];
    if edid[..8] != HEADER || edid.iter().fold(0u8, |a, b| a.wrapping_add(*b)) != 0 {
        return None;
    }
    let maker = u16::from_be_bytes([edid[8], edid[9]]);
    let mut id = [0u8; 7];
    for (i, shift) in [10u16, 5, 0].into_iter().enumerate() {
        let letter = ((maker >> shift) & 0x1F) as u8;
        if !(1..=26).contains(&letter) {
            return None;
        }
        id[i] = b'A' + letter - 1;
    }
    let product = u16::from_le_bytes([edid[10], edid[11]]);
    for i in 0..4 {
        let nibble = ((product >> (12 - 4 * i)) & 0xF) as u8;
        id[3 + i] = if nibble < 10 {
            b'0' + nibble
        } else {
            b'A' + nibble - 10
        };
    }
    Some(id)
}

/// A small UTF-16 string builder over a fixed buffer (IDs are short).
struct Wide {
    buf: [u16; 160],
    len: usize,
}

impl Wide {
    fn new() -> Self {
        Wide {
            buf: [0; 160],
            len: 0,
        }
    }
    fn push(&mut self, c: u16) {
        if self.len < self.buf.len() - 2 {
            self.buf[self.len] = c;
            self.len += 1;
        }
    }
    fn str(&mut self, s: &[u8]) -> &mut Self {
        for &c in s {
            self.push(u16::from(c));
        }
        self
    }
    fn decimal(&mut self, mut v: u32) -> &mut Self {
        let mut digits = [0u8; 10];
        let mut d = 0;
        loop {
            digits[d] = b'0' + (v % 10) as u8;
            d += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        while d > 0 {
            d -= 1;
            self.push(u16::from(digits[d]));
        }
        self
    }
    /// Ends the current string (a MULTI_SZ gets another NUL after its last one).
    fn end(&mut self) -> &mut Self {
        self.buf[self.len] = 0;
        self.len += 1;
        self
    }
    /// A pool copy for the PnP manager (paged pool, freed by it), or NULL.
    fn to_pool(&self) -> PVOID {
        let bytes = (self.len + 1) * 2;
        let p = system::allocate(PoolKind::Paged, bytes, TAG);
        if !p.is_null() {
            // SAFETY: a fresh zeroed block of `bytes` bytes; `len` characters fit.
            unsafe { core::ptr::copy_nonoverlapping(self.buf.as_ptr(), p.cast(), self.len) };
        }
        p
    }
}

/// The UTF-16 string an `Other` child returned, up to its NUL or the buffer's end.
fn other_id(descriptor: &[u8; DESCRIPTOR_SIZE], out: &mut Wide) {
    for pair in descriptor.chunks_exact(2) {
        let c = u16::from_le_bytes([pair[0], pair[1]]);
        if c == 0 {
            break;
        }
        out.push(c);
    }
}

/// The answer to IRP_MN_QUERY_ID for `child`: a pool string, or NULL when it has none.
fn query_id(child: &ChildRecord, id: BUS_QUERY_ID_TYPE) -> Option<PVOID> {
    let mut w = Wide::new();
    let monitor = child.kind == VIDEO_CHILD_TYPE::Monitor;
    let pnp = edid_pnp_id(&child.descriptor);
    let model = |w: &mut Wide| match pnp {
        Some(id) => {
            w.str(&id);
        }
        None => {
            w.str(b"Default_Monitor");
        }
    };
    match id {
        BUS_QUERY_ID_TYPE::BusQueryDeviceID if monitor => {
            w.str(b"DISPLAY\\");
            model(&mut w);
            w.end();
        }
        BUS_QUERY_ID_TYPE::BusQueryHardwareIDs if monitor => {
            w.str(b"MONITOR\\");
            model(&mut w);
            w.end().end();
        }
        BUS_QUERY_ID_TYPE::BusQueryCompatibleIDs if monitor => {
            w.str(b"*PNP09FF").end().end();
        }
        BUS_QUERY_ID_TYPE::BusQueryDeviceID => {
            other_id(&child.descriptor, &mut w);
            w.end();
        }
        BUS_QUERY_ID_TYPE::BusQueryHardwareIDs => {
            other_id(&child.descriptor, &mut w);
            w.end().end();
        }
        BUS_QUERY_ID_TYPE::BusQueryInstanceID => {
            w.str(b"UID").decimal(child.uid).end();
        }
        _ => return None,
    }
    Some(w.to_pool())
}

/// A referenced `DEVICE_RELATIONS` of `objects` plus what `previous` (an upper driver's
/// answer, freed here) held, or NULL if the pool is exhausted.
///
/// # Safety
/// `previous` is NULL or a DEVICE_RELATIONS from paged pool; each object is a live device.
pub(crate) unsafe fn relations(
    objects: &[PDEVICE_OBJECT],
    previous: *mut DEVICE_RELATIONS,
) -> *mut DEVICE_RELATIONS {
    let before = if previous.is_null() {
        0
    } else {
        // SAFETY: a valid DEVICE_RELATIONS (contract).
        unsafe { (*previous).Count as usize }
    };
    let count = before + objects.len();
    let block = system::allocate(PoolKind::Paged, device_relations_size(count), TAG)
        .cast::<DEVICE_RELATIONS>();
    if block.is_null() {
        return null_mut();
    }
    // SAFETY: a fresh block sized for `count` objects; `previous` holds `before` of them.
    unsafe {
        (*block).Count = count as u32;
        let dst = core::ptr::addr_of_mut!((*block).Objects).cast::<PDEVICE_OBJECT>();
        if before > 0 {
            let src = core::ptr::addr_of!((*previous).Objects).cast::<PDEVICE_OBJECT>();
            core::ptr::copy_nonoverlapping(src, dst, before);
        }
        if !previous.is_null() {
            ExFreePool(previous.cast());
        }
        for (i, &o) in objects.iter().enumerate() {
            ObfReferenceObject(o.cast());
            dst.add(before + i).write(o);
        }
    }
    block
}

/// IRP_MJ_PNP for a child PDO: the port is its bus driver.
///
/// # Safety
/// `pdo` is a child PDO of `parent` (found by [`parent_of`]); we own `irp`.
pub(crate) unsafe fn dispatch_pnp(
    parent: &PortDevice,
    pdo: PDEVICE_OBJECT,
    irp: *mut IRP,
) -> NTSTATUS {
    // SAFETY: a live IRP with our location current (contract).
    let stack = unsafe { IoGetCurrentIrpStackLocation(irp) };
    // SAFETY: as above.
    let (minor, params) = unsafe { ((*stack).MinorFunction, (*stack).Parameters) };
    // SAFETY: as above.
    let mut status = unsafe { (*irp).IoStatus.Status };
    // SAFETY: as above.
    let mut information = unsafe { (*irp).IoStatus.Information };
    let Some(child) = parent.child(pdo) else {
        // SAFETY: we own the IRP.
        return unsafe { super::pnp::complete(irp, STATUS_NO_SUCH_DEVICE, 0) };
    };
    // SAFETY: the union's members are plain integers and pointers; this one means something
    // only for IRP_MN_QUERY_DEVICE_RELATIONS, the only case that looks at it.
    let relation = unsafe { params.QueryDeviceRelations.Type };
    match minor {
        IRP_MN_START_DEVICE
        | IRP_MN_QUERY_REMOVE_DEVICE
        | IRP_MN_CANCEL_REMOVE_DEVICE
        | IRP_MN_STOP_DEVICE
        | IRP_MN_QUERY_STOP_DEVICE
        | IRP_MN_CANCEL_STOP_DEVICE
        | IRP_MN_SURPRISE_REMOVAL => status = STATUS_SUCCESS,
        IRP_MN_REMOVE_DEVICE => {
            status = STATUS_SUCCESS;
            if !child.present {
                // Gone from the bus: the PDO goes now (a present child stays until the
                // adapter is removed, as WDM wants of a bus driver).
                let mut table = parent.port.children.lock();
                if let Some(s) = table
                    .slots
                    .iter_mut()
                    .find(|s| s.is_some_and(|c| c.pdo == pdo))
                {
                    *s = None;
                }
                drop(table);
                // SAFETY: completed first; nothing refers to the PDO after the table entry.
                unsafe {
                    super::pnp::complete(irp, status, 0);
                    parent.delete_child_pdo(pdo);
                }
                return status;
            }
        }
        IRP_MN_QUERY_ID => {
            // SAFETY: the QUERY_ID member of the union for this minor function.
            let id = unsafe { params.QueryId.IdType };
            if let Some(p) = query_id(&child, id) {
                status = if p.is_null() {
                    STATUS_INSUFFICIENT_RESOURCES
                } else {
                    STATUS_SUCCESS
                };
                information = p as usize;
            }
        }
        IRP_MN_QUERY_CAPABILITIES => {
            // SAFETY: the capabilities member of the union for this minor function.
            let caps = unsafe { params.DeviceCapabilities.Capabilities };
            // SAFETY: the PnP manager's DEVICE_CAPABILITIES, Size set by it.
            if !caps.is_null() && unsafe { (*caps).Version } >= 1 {
                // SAFETY: as above.
                let c = unsafe { &mut *caps };
                c.Flags |= capability::RAW_DEVICE_OK | capability::SURPRISE_REMOVAL_OK;
                c.Address = child.uid;
                c.UINumber = child.uid;
                c.DeviceState = [DEVICE_POWER_STATE::PowerDeviceD3; 7];
                c.DeviceState[SYSTEM_POWER_STATE::PowerSystemWorking.0 as usize] =
                    DEVICE_POWER_STATE::PowerDeviceD0;
                c.DeviceState[0] = DEVICE_POWER_STATE::PowerDeviceUnspecified;
                status = STATUS_SUCCESS;
            }
        }
        IRP_MN_QUERY_DEVICE_RELATIONS if relation == DEVICE_RELATION_TYPE::TargetDeviceRelation => {
            // SAFETY: our own live PDO.
            let r = unsafe { relations(&[pdo], null_mut()) };
            status = if r.is_null() {
                STATUS_INSUFFICIENT_RESOURCES
            } else {
                STATUS_SUCCESS
            };
            information = r as usize;
        }
        _ => {}
    }
    // SAFETY: we own the IRP.
    unsafe { super::pnp::complete(irp, status, information) }
}

/// Answers IRP_MN_QUERY_DEVICE_RELATIONS (BusRelations) at the adapter: the children, then
/// down the stack.
///
/// # Safety
/// PASSIVE_LEVEL dispatch owning `irp`.
pub(crate) unsafe fn bus_relations(device: &PortDevice, irp: *mut IRP) {
    let (children, n) = device.enumerate_children();
    if device
        .port
        .driver()
        .and_then(|d| d.init.HwGetVideoChildDescriptor)
        .is_none()
    {
        return;
    }
    // SAFETY: an upper driver's answer, if any, is a paged-pool DEVICE_RELATIONS (contract).
    let r = unsafe { relations(&children[..n], (*irp).IoStatus.Information as *mut _) };
    // SAFETY: we own the IRP.
    unsafe {
        if r.is_null() {
            (*irp).IoStatus.Status = STATUS_INSUFFICIENT_RESOURCES;
        } else {
            (*irp).IoStatus.Status = STATUS_SUCCESS;
            (*irp).IoStatus.Information = r as usize;
        }
    }
}

/// `VideoPortEnumerateChildren`: asks the PnP manager to query the adapter's children again
/// (asynchronously: HwGetVideoChildDescriptor runs later, at PASSIVE_LEVEL). At or below
/// DISPATCH_LEVEL; `Reserved` must be NULL.
///
/// # Safety
/// Any values: the extension is looked up before use.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortEnumerateChildren(
    HwDeviceExtension: PVOID,
    Reserved: PVOID,
) -> VP_STATUS {
    const R: &str = "VideoPortEnumerateChildren";
    if !crate::irql::require_at_most(R, crate::irql::Irql::DISPATCH) {
        return ERROR_INVALID_PARAMETER;
    }
    let Some(device) = PortDevice::from_hw_extension(R, HwDeviceExtension) else {
        return ERROR_INVALID_PARAMETER;
    };
    if !Reserved.is_null() {
        report::misuse(
            R,
            Misuse::Port {
                code: port_code::BAD_ARGUMENT,
                p2: Reserved as usize,
                p3: 0,
            },
        );
        return ERROR_INVALID_PARAMETER;
    }
    // SAFETY: the device's PDO is live while the device is.
    unsafe { IoInvalidateDeviceRelations(device.pdo(), DEVICE_RELATION_TYPE::BusRelations) };
    NO_ERROR
}

/// `VideoPortGetAssociatedDeviceID`: the child ID of a child PDO the port made, the `UId` its
/// miniport reported for it (the ID its I2C and power callbacks are given). PASSIVE_LEVEL.
///
/// Anything that is not a live child PDO (the adapter's own FDO, a removed child, any other
/// value), or a call above PASSIVE_LEVEL, is reported and gets `DISPLAY_ADAPTER_HW_ID`, a
/// value the port never accepts as a child's `UId`, so it cannot be mistaken for one.
///
/// # Safety
/// Any value is accepted; it is looked up, never dereferenced.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortGetAssociatedDeviceID(DeviceObject: PVOID) -> ULONG {
    const R: &str = "VideoPortGetAssociatedDeviceID";
    if !crate::irql::require_at_most(R, crate::irql::Irql::PASSIVE) {
        return DISPLAY_ADAPTER_HW_ID;
    }
    let pdo: PDEVICE_OBJECT = DeviceObject.cast();
    let child = parent_of(pdo).and_then(|adapter| adapter.child(pdo));
    match child {
        Some(child) => child.uid,
        None => {
            report::misuse(
                R,
                Misuse::Port {
                    code: port_code::UNKNOWN_DEVICE_OBJECT,
                    p2: DeviceObject as usize,
                    p3: 0,
                },
            );
            DISPLAY_ADAPTER_HW_ID
        }
    }
}
