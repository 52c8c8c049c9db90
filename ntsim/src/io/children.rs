//! The PnP manager's part in child devices: bus relations, the queries sent to a new child
//! PDO, and re-enumeration.
//!
//! C interface simulated: `IoInvalidateDeviceRelations` (BusRelations: the query is posted to
//! the machine's event loop, as Windows queues it to a worker thread), `ObfReferenceObject`,
//! `ObfDereferenceObject` (counted on device objects; an unbalanced dereference is reported).
//!
//! After a device starts, and whenever its relations are invalidated, ntsim sends
//! IRP_MN_QUERY_DEVICE_RELATIONS (BusRelations) to the top of its stack. The returned
//! `DEVICE_RELATIONS` (paged pool, each object referenced by the driver) is read, dereferenced
//! and freed. Each new child PDO then gets IRP_MN_QUERY_ID for its device, hardware,
//! compatible and instance IDs (paged-pool strings, freed by ntsim), IRP_MN_QUERY_CAPABILITIES
//! and IRP_MN_START_DEVICE; a child no longer reported gets IRP_MN_SURPRISE_REMOVAL and
//! IRP_MN_REMOVE_DEVICE, after which its bus driver must have deleted it. No function driver
//! is loaded for a child: it runs raw, as a monitor does before monitor.sys is installed.

use super::device::DeviceNode;
use super::irp::{call, top_of_stack};
use crate::machine::{cpu, Machine};
use crate::pool::ExFreePoolWithTag;
use crate::verifier::{bugcheck, ntsim_code};
use ddk_sys::*;

/// A child device the PnP manager knows, as its bus driver described it.
#[derive(Clone, Debug)]
pub struct ChildDevice {
    /// The child's PDO (made by the parent's bus driver).
    pub pdo: usize,
    pub device_id: String,
    pub hardware_ids: Vec<String>,
    pub compatible_ids: Vec<String>,
    pub instance_id: String,
    pub capabilities: DEVICE_CAPABILITIES,
    /// Status of the child's IRP_MN_START_DEVICE.
    pub start_status: NTSTATUS,
}

impl ChildDevice {
    pub fn as_ptr(&self) -> *mut DEVICE_OBJECT {
        self.pdo as *mut DEVICE_OBJECT
    }
}

fn misuse(routine: &'static str, object: usize, msg: String) {
    cpu().lock().report(
        bugcheck::NTSIM_CHECK,
        ntsim_code::IO_MISUSE,
        [object as u64, 0, 0],
        routine,
        msg,
    );
}

/// `IoInvalidateDeviceRelations`.
///
/// # Safety
/// `DeviceObject` is a PDO of the machine (checked: anything else is reported).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn IoInvalidateDeviceRelations(
    DeviceObject: *mut DEVICE_OBJECT,
    Type: DEVICE_RELATION_TYPE,
) {
    const R: &str = "IoInvalidateDeviceRelations";
    let cpu = cpu();
    let irql = cpu.irql();
    let pdo = DeviceObject as usize;
    let known = cpu.lock().pdos.name(pdo).is_some();
    if !known || irql > DISPATCH_LEVEL {
        misuse(
            R,
            pdo,
            if known {
                format!("called at IRQL {irql}")
            } else {
                format!("{pdo:#x} is not a physical device object")
            },
        );
        return;
    }
    if Type != DEVICE_RELATION_TYPE::BusRelations {
        return;
    }
    cpu.lock()
        .events
        .push_back(Box::new(move |m: &Machine| m.enumerate_children(pdo)));
}

/// `ObfReferenceObject` (device objects only).
///
/// # Safety
/// `Object` is a live object.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn ObfReferenceObject(Object: PVOID) -> isize {
    let cpu = cpu();
    let mut st = cpu.lock();
    let count = st.io.references.entry(Object as usize).or_insert(0);
    *count += 1;
    *count
}

/// `ObfDereferenceObject` (device objects only): a dereference without a reference is
/// reported.
///
/// # Safety
/// `Object` is a live object.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn ObfDereferenceObject(Object: PVOID) -> isize {
    let cpu = cpu();
    let mut st = cpu.lock();
    match st.io.references.get_mut(&(Object as usize)) {
        Some(count) if *count > 0 => {
            *count -= 1;
            let left = *count;
            if left == 0 {
                st.io.references.remove(&(Object as usize));
            }
            left
        }
        _ => {
            drop(st);
            misuse(
                "ObfDereferenceObject",
                Object as usize,
                format!(
                    "{:#x} dereferenced more often than referenced",
                    Object as usize
                ),
            );
            0
        }
    }
}

/// A pool block's UTF-16 strings, NUL-separated, up to the empty one (a MULTI_SZ), or one
/// string; the block is freed.
///
/// # Safety
/// `p` is NULL or a pool block holding NUL-terminated UTF-16 text.
unsafe fn take_strings(p: usize, multi: bool) -> Vec<String> {
    if p == 0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut at = p as *const u16;
    // SAFETY: the block holds terminated strings (contract); at most 4096 characters are read.
    unsafe {
        for _ in 0..64 {
            let mut s = Vec::new();
            while *at != 0 && s.len() < 4096 {
                s.push(*at);
                at = at.add(1);
            }
            at = at.add(1);
            if s.is_empty() {
                break;
            }
            out.push(String::from_utf16_lossy(&s));
            if !multi {
                break;
            }
        }
        ExFreePoolWithTag(p as PVOID, 0);
    }
    out
}

impl Machine {
    /// The children the PnP manager knows under `node` (in the order they were reported).
    pub fn children(&self, node: &DeviceNode) -> Vec<ChildDevice> {
        self.lock()
            .io
            .children
            .get(&(node.pdo().as_ptr() as usize))
            .cloned()
            .unwrap_or_default()
    }

    /// Queries the bus relations of the stack on `pdo` and starts or removes children to
    /// match (see the module documentation).
    pub(crate) fn enumerate_children(&self, pdo: usize) {
        let top = top_of_stack(pdo as *mut DEVICE_OBJECT);
        if top as usize == pdo {
            return; // Nothing attached (removed meanwhile): no relations to ask for.
        }
        let result = call(self, top, "IRP_MN_QUERY_DEVICE_RELATIONS", |irp, s| {
            // SAFETY: a fresh IRP and its first location.
            unsafe {
                (*irp).IoStatus.Status = STATUS_NOT_SUPPORTED;
                (*s).MajorFunction = IRP_MJ_PNP;
                (*s).MinorFunction = IRP_MN_QUERY_DEVICE_RELATIONS;
                (*s).Parameters.QueryDeviceRelations = IO_STACK_QUERY_DEVICE_RELATIONS {
                    Type: DEVICE_RELATION_TYPE::BusRelations,
                };
            }
        });
        if !result.Status.is_success() {
            return;
        }
        let mut reported = Vec::new();
        let relations = result.Information as *mut DEVICE_RELATIONS;
        if !relations.is_null() {
            // SAFETY: the driver returned a DEVICE_RELATIONS with Count objects.
            unsafe {
                let count = (*relations).Count as usize;
                let objects = core::ptr::addr_of!((*relations).Objects).cast::<usize>();
                for i in 0..count.min(256) {
                    reported.push(*objects.add(i));
                }
                for &o in &reported {
                    ObfDereferenceObject(o as PVOID);
                }
                ExFreePoolWithTag(relations.cast(), 0);
            }
        }
        let known: Vec<usize> = self
            .lock()
            .io
            .children
            .get(&pdo)
            .map(|c| c.iter().map(|c| c.pdo).collect())
            .unwrap_or_default();
        for gone in known.iter().filter(|c| !reported.contains(c)) {
            self.child_pnp(*gone, IRP_MN_SURPRISE_REMOVAL);
            self.child_pnp(*gone, IRP_MN_REMOVE_DEVICE);
            self.forget_child(pdo, *gone);
        }
        for new in reported.into_iter().filter(|c| !known.contains(c)) {
            let child = self.start_child(new);
            self.lock().io.children.entry(pdo).or_default().push(child);
        }
    }

    fn forget_child(&self, parent: usize, child: usize) {
        let mut st = self.lock();
        if let Some(list) = st.io.children.get_mut(&parent) {
            list.retain(|c| c.pdo != child);
        }
        let still = st.io.devices.contains_key(&child);
        drop(st);
        if still {
            misuse(
                "IopRemoveDevice",
                child,
                format!("child PDO {child:#x} was removed but its bus driver did not delete it"),
            );
        }
    }

    /// A PnP IRP without parameters to a child PDO; its final status.
    fn child_pnp(&self, child: usize, minor: u8) -> NTSTATUS {
        call(
            self,
            top_of_stack(child as *mut DEVICE_OBJECT),
            "IRP_MJ_PNP",
            |irp, s| {
                // SAFETY: a fresh IRP and its first location.
                unsafe {
                    (*irp).IoStatus.Status = STATUS_NOT_SUPPORTED;
                    (*s).MajorFunction = IRP_MJ_PNP;
                    (*s).MinorFunction = minor;
                }
            },
        )
        .Status
    }

    fn query_id(&self, child: usize, id: BUS_QUERY_ID_TYPE) -> Vec<String> {
        let result = call(
            self,
            child as *mut DEVICE_OBJECT,
            "IRP_MN_QUERY_ID",
            |irp, s| {
                // SAFETY: a fresh IRP and its first location.
                unsafe {
                    (*irp).IoStatus.Status = STATUS_NOT_SUPPORTED;
                    (*s).MajorFunction = IRP_MJ_PNP;
                    (*s).MinorFunction = IRP_MN_QUERY_ID;
                    (*s).Parameters.QueryId = IO_STACK_QUERY_ID { IdType: id };
                }
            },
        );
        if !result.Status.is_success() {
            return Vec::new();
        }
        let multi = matches!(
            id,
            BUS_QUERY_ID_TYPE::BusQueryHardwareIDs | BUS_QUERY_ID_TYPE::BusQueryCompatibleIDs
        );
        // SAFETY: a successful QUERY_ID returns a pool block of terminated UTF-16 text.
        unsafe { take_strings(result.Information, multi) }
    }

    fn start_child(&self, child: usize) -> ChildDevice {
        let one = |id| {
            self.query_id(child, id)
                .into_iter()
                .next()
                .unwrap_or_default()
        };
        let device_id = one(BUS_QUERY_ID_TYPE::BusQueryDeviceID);
        let hardware_ids = self.query_id(child, BUS_QUERY_ID_TYPE::BusQueryHardwareIDs);
        let compatible_ids = self.query_id(child, BUS_QUERY_ID_TYPE::BusQueryCompatibleIDs);
        let instance_id = one(BUS_QUERY_ID_TYPE::BusQueryInstanceID);
        let mut capabilities = DEVICE_CAPABILITIES {
            Size: size_of::<DEVICE_CAPABILITIES>() as u16,
            Version: 1,
            Address: u32::MAX,
            UINumber: u32::MAX,
            ..Default::default()
        };
        let caps: *mut DEVICE_CAPABILITIES = &mut capabilities;
        call(
            self,
            child as *mut DEVICE_OBJECT,
            "IRP_MN_QUERY_CAPABILITIES",
            |irp, s| {
                // SAFETY: a fresh IRP and its first location; `capabilities` outlives the call.
                unsafe {
                    (*irp).IoStatus.Status = STATUS_NOT_SUPPORTED;
                    (*s).MajorFunction = IRP_MJ_PNP;
                    (*s).MinorFunction = IRP_MN_QUERY_CAPABILITIES;
                    (*s).Parameters.DeviceCapabilities =
                        IO_STACK_DEVICE_CAPABILITIES { Capabilities: caps };
                }
            },
        );
        let start_status = call(
            self,
            child as *mut DEVICE_OBJECT,
            "IRP_MN_START_DEVICE",
            |_, s| {
                // SAFETY: a fresh IRP and its first location.
                unsafe {
                    (*s).MajorFunction = IRP_MJ_PNP;
                    (*s).MinorFunction = IRP_MN_START_DEVICE;
                    (*s).Parameters.StartDevice = IO_STACK_START_DEVICE {
                        AllocatedResources: core::ptr::null_mut(),
                        AllocatedResourcesTranslated: core::ptr::null_mut(),
                    };
                }
            },
        )
        .Status;
        ChildDevice {
            pdo: child,
            device_id,
            hardware_ids,
            compatible_ids,
            instance_id,
            capabilities,
            start_status,
        }
    }

    /// Sends `minor` (a removal IRP) to every child of `parent`, children in reverse order of
    /// arrival. Returns the first failure.
    pub(crate) fn children_pnp(&self, parent: usize, minor: u8) -> NTSTATUS {
        let kids: Vec<usize> = self
            .lock()
            .io
            .children
            .get(&parent)
            .map(|c| c.iter().rev().map(|c| c.pdo).collect())
            .unwrap_or_default();
        let mut status = STATUS_SUCCESS;
        for k in kids {
            let s = self.child_pnp(k, minor);
            if status.is_success() && !s.is_success() {
                status = s;
            }
        }
        if minor == IRP_MN_REMOVE_DEVICE {
            self.lock().io.children.remove(&parent);
        }
        status
    }
}
