//! ntsim's PnP manager for child devices and its power subset, with a tiny bus driver written
//! here: the FDO reports one child PDO while `PRESENT` is set; the child answers its IDs.
//! Each of the driver's mistakes (`FAULT`) must be reported by ntsim.

use core::ptr::null_mut;
use ddk_sys::*;
use ntsim::verifier::{bugcheck, ntsim_code};
use ntsim::{Machine, MachineConfig, OsVersion};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Mutex;

static PRESENT: AtomicBool = AtomicBool::new(true);
static FAULT: AtomicU32 = AtomicU32::new(0);
const NO_REFERENCE: u32 = 1;
const KEEP_GONE_CHILD: u32 = 2;
const NO_START_NEXT: u32 = 3;
static SERIAL: Mutex<()> = Mutex::new(());

#[repr(C)]
struct Ext {
    lower: *mut DEVICE_OBJECT,
    child: *mut DEVICE_OBJECT,
    /// Null in the FDO; the FDO in the child.
    parent: *mut DEVICE_OBJECT,
}

unsafe fn ext(d: *mut DEVICE_OBJECT) -> *mut Ext {
    // SAFETY: every device of this driver has an Ext.
    unsafe { (*d).DeviceExtension.cast() }
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
        (*driver).MajorFunction[IRP_MJ_PNP as usize] = Some(pnp);
        (*driver).MajorFunction[IRP_MJ_POWER as usize] = Some(power);
    }
    STATUS_SUCCESS
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn unload(_driver: *mut DRIVER_OBJECT) {}

unsafe fn create(driver: *mut DRIVER_OBJECT) -> *mut DEVICE_OBJECT {
    let mut d = null_mut();
    // SAFETY: a live driver object; the out pointer is live.
    unsafe {
        let st = IoCreateDevice(
            driver,
            size_of::<Ext>() as u32,
            null_mut(),
            0x22,
            0,
            FALSE,
            &mut d,
        );
        assert!(st.is_success());
        (*d).Flags &= !DO_DEVICE_INITIALIZING;
    }
    d
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn add_device(
    driver: *mut DRIVER_OBJECT,
    pdo: *mut DEVICE_OBJECT,
) -> NTSTATUS {
    // SAFETY: valid objects from the PnP manager.
    unsafe {
        let fdo = create(driver);
        (*ext(fdo)).lower = IoAttachDeviceToDeviceStack(fdo, pdo);
    }
    STATUS_SUCCESS
}

fn wide_pool(s: &str, multi: bool) -> usize {
    let mut w: Vec<u16> = s.encode_utf16().chain([0]).collect();
    if multi {
        w.push(0);
    }
    // SAFETY: a pool allocation of the right size, filled below.
    unsafe {
        let p = ExAllocatePoolWithTag(POOL_TYPE::PagedPool, w.len() * 2, 0x6b6964).cast::<u16>();
        core::ptr::copy_nonoverlapping(w.as_ptr(), p, w.len());
        p as usize
    }
}

unsafe fn finish(irp: *mut IRP, status: NTSTATUS, information: usize) -> NTSTATUS {
    // SAFETY: we own the IRP.
    unsafe {
        (*irp).IoStatus.Status = status;
        (*irp).IoStatus.Information = information;
        IoCompleteRequest(irp, 0);
    }
    status
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn pnp(d: *mut DEVICE_OBJECT, irp: *mut IRP) -> NTSTATUS {
    // SAFETY: a live IRP for one of our devices.
    unsafe {
        let e = ext(d);
        let s = IoGetCurrentIrpStackLocation(irp);
        let minor = (*s).MinorFunction;
        if !(*e).parent.is_null() {
            // The child PDO: its own bus driver.
            let (status, info) = match minor {
                IRP_MN_QUERY_ID => match (*s).Parameters.QueryId.IdType {
                    BUS_QUERY_ID_TYPE::BusQueryDeviceID => {
                        (STATUS_SUCCESS, wide_pool("KID\\Thing", false))
                    }
                    BUS_QUERY_ID_TYPE::BusQueryHardwareIDs => {
                        (STATUS_SUCCESS, wide_pool("KID\\Thing", true))
                    }
                    BUS_QUERY_ID_TYPE::BusQueryInstanceID => {
                        (STATUS_SUCCESS, wide_pool("7", false))
                    }
                    _ => ((*irp).IoStatus.Status, (*irp).IoStatus.Information),
                },
                IRP_MN_REMOVE_DEVICE => {
                    if !PRESENT.load(Ordering::SeqCst)
                        && FAULT.load(Ordering::SeqCst) != KEEP_GONE_CHILD
                    {
                        (*ext((*e).parent)).child = null_mut();
                        finish(irp, STATUS_SUCCESS, 0);
                        IoDeleteDevice(d);
                        return STATUS_SUCCESS;
                    }
                    (STATUS_SUCCESS, 0)
                }
                IRP_MN_START_DEVICE | IRP_MN_SURPRISE_REMOVAL | IRP_MN_QUERY_REMOVE_DEVICE => {
                    (STATUS_SUCCESS, 0)
                }
                _ => ((*irp).IoStatus.Status, (*irp).IoStatus.Information),
            };
            return finish(irp, status, info);
        }
        let lower = (*e).lower;
        if minor == IRP_MN_QUERY_DEVICE_RELATIONS
            && (*s).Parameters.QueryDeviceRelations.Type == DEVICE_RELATION_TYPE::BusRelations
        {
            let present = PRESENT.load(Ordering::SeqCst);
            if present && (*e).child.is_null() {
                let child = create((*d).DriverObject);
                (*ext(child)).parent = d;
                (*e).child = child;
            }
            let r = ExAllocatePoolWithTag(POOL_TYPE::PagedPool, device_relations_size(1), 0x6b6964)
                .cast::<DEVICE_RELATIONS>();
            (*r).Count = u32::from(present);
            if present {
                if FAULT.load(Ordering::SeqCst) != NO_REFERENCE {
                    ObfReferenceObject((*e).child.cast());
                }
                (*r).Objects[0] = (*e).child;
            }
            (*irp).IoStatus.Status = STATUS_SUCCESS;
            (*irp).IoStatus.Information = r as usize;
        }
        if minor == IRP_MN_REMOVE_DEVICE && !(*e).child.is_null() {
            IoDeleteDevice((*e).child);
            (*e).child = null_mut();
        }
        IoSkipCurrentIrpStackLocation(irp);
        let st = IoCallDriver(lower, irp);
        if minor == IRP_MN_REMOVE_DEVICE {
            IoDetachDevice(lower);
            IoDeleteDevice(d);
        }
        st
    }
}

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn power(d: *mut DEVICE_OBJECT, irp: *mut IRP) -> NTSTATUS {
    // SAFETY: a live power IRP for one of our devices.
    unsafe {
        if FAULT.load(Ordering::SeqCst) != NO_START_NEXT {
            PoStartNextPowerIrp(irp);
        }
        let e = ext(d);
        if !(*e).parent.is_null() {
            return finish(irp, STATUS_SUCCESS, 0);
        }
        IoSkipCurrentIrpStackLocation(irp);
        PoCallDriver((*e).lower, irp)
    }
}

fn setup(os: OsVersion, fault: u32) -> (std::sync::MutexGuard<'static, ()>, Machine) {
    let g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    PRESENT.store(true, Ordering::SeqCst);
    FAULT.store(fault, Ordering::SeqCst);
    let machine = Machine::new(MachineConfig {
        os,
        ..MachineConfig::default()
    });
    (g, machine)
}

fn misuses(machine: &Machine) -> Vec<String> {
    machine
        .take_violations()
        .into_iter()
        .filter(|v| (v.bugcheck, v.code) == (bugcheck::NTSIM_CHECK, ntsim_code::IO_MISUSE))
        .map(|v| v.message.clone())
        .collect()
}

#[test]
fn children_are_queried_started_and_removed_when_they_vanish() {
    let (_s, machine) = setup(OsVersion::WINDOWS_10_2004, 0);
    let _g = machine.enter();
    let pdo = machine.create_pdo("kid");
    let driver = machine.load_driver("kid", driver_entry).unwrap();
    let node = machine.start_device(&driver, pdo).unwrap();
    let kids = machine.children(&node);
    assert_eq!(kids.len(), 1);
    assert_eq!(kids[0].device_id, "KID\\Thing");
    assert_eq!(kids[0].hardware_ids, ["KID\\Thing"]);
    assert!(kids[0].compatible_ids.is_empty(), "not answered: none");
    assert_eq!(kids[0].instance_id, "7");
    assert_eq!(kids[0].start_status, STATUS_SUCCESS);

    PRESENT.store(false, Ordering::SeqCst);
    // SAFETY: a PDO of the machine.
    unsafe { IoInvalidateDeviceRelations(pdo.as_ptr(), DEVICE_RELATION_TYPE::BusRelations) };
    assert_eq!(machine.children(&node).len(), 1, "queued, not yet run");
    machine.run_until_idle();
    assert!(machine.children(&node).is_empty());
    assert_eq!(machine.remove_device(node), STATUS_SUCCESS);
    machine.unload_driver(driver);
    machine.assert_clean();
}

#[test]
fn driver_mistakes_with_children_are_reported() {
    // Relations without a reference on the object: the PnP manager's dereference is one too many.
    let (s, machine) = setup(OsVersion::WINDOWS_10_2004, NO_REFERENCE);
    {
        let _g = machine.enter();
        let pdo = machine.create_pdo("kid");
        let driver = machine.load_driver("kid", driver_entry).unwrap();
        let node = machine.start_device(&driver, pdo).unwrap();
        let m = misuses(&machine);
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].contains("dereferenced more often than referenced"),
            "{m:?}"
        );
        // Not a PDO: refused and reported.
        // SAFETY: checked by ntsim before use.
        unsafe { IoInvalidateDeviceRelations(node.top(), DEVICE_RELATION_TYPE::BusRelations) };
        let m = misuses(&machine);
        assert!(m[0].contains("is not a physical device object"), "{m:?}");
        machine.remove_device(node);
        machine.unload_driver(driver);
    }
    drop((s, machine));

    // A vanished child its bus driver does not delete at REMOVE.
    let (_s, machine) = setup(OsVersion::WINDOWS_10_2004, KEEP_GONE_CHILD);
    let _g = machine.enter();
    let pdo = machine.create_pdo("kid");
    let driver = machine.load_driver("kid", driver_entry).unwrap();
    let node = machine.start_device(&driver, pdo).unwrap();
    PRESENT.store(false, Ordering::SeqCst);
    // SAFETY: a PDO of the machine.
    unsafe { IoInvalidateDeviceRelations(pdo.as_ptr(), DEVICE_RELATION_TYPE::BusRelations) };
    machine.run_until_idle();
    let m = misuses(&machine);
    assert_eq!(m.len(), 1, "{m:?}");
    assert!(m[0].contains("did not delete it"), "{m:?}");
    machine.remove_device(node);
    machine.unload_driver(driver);
}

#[test]
fn power_irps_need_po_start_next_power_irp_on_nt5_only() {
    for (os, expected) in [
        (OsVersion::WINDOWS_SERVER_2003_X64, 2),
        (OsVersion::WINDOWS_7, 0),
    ] {
        let (s, machine) = setup(os, NO_START_NEXT);
        {
            let _g = machine.enter();
            let pdo = machine.create_pdo("kid");
            let driver = machine.load_driver("kid", driver_entry).unwrap();
            let node = machine.start_device(&driver, pdo).unwrap();
            let statuses = machine.system_power(
                &node,
                IRP_MN_SET_POWER,
                SYSTEM_POWER_STATE::PowerSystemSleeping3,
            );
            assert_eq!(statuses, [STATUS_SUCCESS; 2]);
            let m = misuses(&machine);
            assert_eq!(m.len(), expected, "{os:?}: {m:?}");
            assert!(m.iter().all(|m| m.contains("without PoStartNextPowerIrp")));
            machine.remove_device(node);
            machine.unload_driver(driver);
            machine.assert_clean();
        }
        drop((s, machine));
    }
}

static DONE: Mutex<Vec<(u8, u32, i32)>> = Mutex::new(Vec::new());

#[ddk_sys::ntapi]
unsafe extern "ntapi" fn done(
    _d: *mut DEVICE_OBJECT,
    minor: UCHAR,
    state: POWER_STATE,
    _context: PVOID,
    status: *mut IO_STATUS_BLOCK,
) {
    // SAFETY: ntsim's status block for the call.
    DONE.lock()
        .unwrap()
        .push((minor, state.0, unsafe { (*status).Status.0 }));
}

#[test]
fn po_request_power_irp_sends_a_device_irp_and_calls_back() {
    let (_s, machine) = setup(OsVersion::WINDOWS_10_2004, 0);
    let _g = machine.enter();
    let pdo = machine.create_pdo("kid");
    let driver = machine.load_driver("kid", driver_entry).unwrap();
    let node = machine.start_device(&driver, pdo).unwrap();
    DONE.lock().unwrap().clear();
    // SAFETY: a PDO of the machine; the callback is ours.
    let status = unsafe {
        PoRequestPowerIrp(
            pdo.as_ptr(),
            IRP_MN_SET_POWER,
            POWER_STATE(4),
            Some(done),
            null_mut(),
            null_mut(),
        )
    };
    assert_eq!(status, STATUS_PENDING);
    machine.run_until_idle();
    assert_eq!(*DONE.lock().unwrap(), [(IRP_MN_SET_POWER, 4, 0)]);
    // Only SET and QUERY may be requested here.
    // SAFETY: refused before use.
    let status = unsafe {
        PoRequestPowerIrp(
            pdo.as_ptr(),
            0x07,
            POWER_STATE(4),
            Some(done),
            null_mut(),
            null_mut(),
        )
    };
    assert_eq!(status, STATUS_INVALID_PARAMETER);
    machine.remove_device(node);
    machine.unload_driver(driver);
    machine.assert_clean();
}
