//! `VideoPortInitialize`: registers a miniport with the port.
//!
//! C interface (`video.h`):
//! `ULONG VideoPortInitialize(PVOID Argument1, PVOID Argument2,
//! PVIDEO_HW_INITIALIZATION_DATA HwInitializationData, PVOID HwContext)`, PASSIVE_LEVEL, from
//! the miniport's DriverEntry with its DriverObject and RegistryPath; the result is returned
//! from DriverEntry.
//!
//! Checks, in order (each failure is reported and returns its status, nothing installed):
//! NULL arguments (STATUS_INVALID_PARAMETER), `HwInitDataSize` not one of the NT4, Windows 2000
//! and XP sizes (STATUS_REVISION_MISMATCH), a NULL HwFindAdapter, HwInitialize or HwStartIO
//! (STATUS_INVALID_PARAMETER). Then the data (only `HwInitDataSize` bytes of it) and the
//! registry path are copied into the driver's registration (a driver-object extension, or the
//! port's own table where the kernel has none: see [`super::driver_data`]), and the dispatch
//! routines, AddDevice and DriverUnload are installed. Only PnP miniports are
//! hosted: devices arrive through AddDevice. A second call for the same driver object (legacy
//! miniports call once per bus type) succeeds and keeps the first registration.

use super::driver_data::{self, RegisterError, Storage};
use crate::irql::{self, Irql};
use crate::report::{self, port_code, Misuse};
use ddk_sys::*;

/// The port's per-driver data, in the driver-object extension; the registry path (UTF-16,
/// NUL-terminated) follows it in the same block.
#[repr(C)]
pub struct DriverExtension {
    pub init: VIDEO_HW_INITIALIZATION_DATA,
    pub hw_context: PVOID,
    /// Characters of the registry path (without the terminator).
    pub registry_path_len: u32,
}

impl DriverExtension {
    /// The registry path, NUL-terminated, as `VIDEO_PORT_CONFIG_INFO.DriverRegistryPath` wants:
    /// stored right after the extension in the same block. Computed from a pointer to the whole
    /// block, not from `&self`: a reference covers only the `DriverExtension`, so a pointer
    /// derived from it may not reach the path (Miri reported the write through one).
    pub fn registry_path(this: *mut DriverExtension) -> *mut WCHAR {
        this.cast::<u8>().wrapping_add(size_of::<Self>()).cast()
    }
}

const ROUTINE: &str = "VideoPortInitialize";

/// Why init data is refused: (status, misuse).
pub fn validate_init_data(init: &VIDEO_HW_INITIALIZATION_DATA) -> Result<(), (NTSTATUS, Misuse)> {
    let size = init.HwInitDataSize;
    if ![
        SIZE_OF_NT4_VIDEO_HW_INITIALIZATION_DATA,
        SIZE_OF_W2K_VIDEO_HW_INITIALIZATION_DATA,
        SIZE_OF_WXP_VIDEO_HW_INITIALIZATION_DATA,
    ]
    .contains(&size)
    {
        return Err((
            STATUS_REVISION_MISMATCH,
            Misuse::Port {
                code: port_code::BAD_INIT_DATA_SIZE,
                p2: size as usize,
                p3: SIZE_OF_WXP_VIDEO_HW_INITIALIZATION_DATA as usize,
            },
        ));
    }
    let missing = if init.HwFindAdapter.is_none() {
        1
    } else if init.HwInitialize.is_none() {
        2
    } else if init.HwStartIO.is_none() {
        3
    } else {
        0
    };
    if missing != 0 {
        return Err((
            STATUS_INVALID_PARAMETER,
            Misuse::Port {
                code: port_code::MISSING_CALLBACK,
                p2: missing,
                p3: 0,
            },
        ));
    }
    Ok(())
}

/// `VideoPortInitialize`.
///
/// # Safety
/// `Argument1` must be the DRIVER_OBJECT and `Argument2` the UNICODE_STRING registry path that
/// DriverEntry received; `HwInitializationData` NULL or readable for its `HwInitDataSize`.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortInitialize(
    Argument1: PVOID,
    Argument2: PVOID,
    HwInitializationData: PVIDEO_HW_INITIALIZATION_DATA,
    HwContext: PVOID,
) -> ULONG {
    if !irql::require_at_most(ROUTINE, Irql::PASSIVE) {
        return STATUS_INVALID_DEVICE_STATE.0 as u32;
    }
    // Some loaders never call DllInitialize; this is the first PASSIVE_LEVEL call we get.
    crate::system::init();
    let driver = Argument1 as *mut DRIVER_OBJECT;
    let path = Argument2 as *const UNICODE_STRING;
    for (i, p) in [
        Argument1 as usize,
        Argument2 as usize,
        HwInitializationData as usize,
    ]
    .iter()
    .enumerate()
    {
        if *p == 0 {
            report::misuse(
                ROUTINE,
                Misuse::Port {
                    code: port_code::NULL_ARGUMENT,
                    p2: i + 1,
                    p3: 0,
                },
            );
            return STATUS_INVALID_PARAMETER.0 as u32;
        }
    }
    // Copy only the bytes the miniport declares (older miniports pass smaller structures).
    // SAFETY: all-zero bytes are a valid VIDEO_HW_INITIALIZATION_DATA (integers and Options).
    let mut init: VIDEO_HW_INITIALIZATION_DATA = unsafe { core::mem::zeroed() };
    // SAFETY: the caller's structure is readable for at least its size field.
    let declared = unsafe { (*HwInitializationData).HwInitDataSize };
    let copy = (declared as usize).min(size_of::<VIDEO_HW_INITIALIZATION_DATA>());
    // SAFETY: readable for `declared` bytes (contract); `copy` fits the destination.
    unsafe {
        core::ptr::copy_nonoverlapping(
            HwInitializationData.cast::<u8>(),
            (&mut init as *mut VIDEO_HW_INITIALIZATION_DATA).cast::<u8>(),
            copy,
        )
    };
    if let Err((status, misuse)) = validate_init_data(&init) {
        report::misuse(ROUTINE, misuse);
        return status.0 as u32;
    }
    // SAFETY: a valid UNICODE_STRING (contract).
    let (path_buf, path_len) = unsafe { ((*path).Buffer, (*path).Length as usize / 2) };
    let size = size_of::<DriverExtension>() + (path_len + 1) * 2;
    // SAFETY: a live driver object (contract).
    let (ext, storage) = match unsafe { driver_data::register(driver, size) } {
        Ok(registered) => registered,
        Err(RegisterError::AlreadyRegistered) => return STATUS_SUCCESS.0 as u32,
        Err(RegisterError::NoMemory) => return STATUS_INSUFFICIENT_RESOURCES.0 as u32,
    };
    let (major, minor) = crate::system::version();
    crate::report::trace(format_args!(
        "VideoPortInitialize: miniport registered ({}; kernel {major}.{minor}, {})",
        match storage {
            Storage::DriverObjectExtension => "driver-object extension",
            Storage::PortTable => "port table: no driver-object extensions here",
        },
        if crate::system::has_ex_allocate_pool2() {
            "ExAllocatePool2"
        } else {
            "ExAllocatePoolWithTag"
        }
    ));
    let ext = ext.as_ptr();
    // SAFETY: a fresh zeroed block of `size` bytes, 16-aligned (pool/extension alignment).
    unsafe {
        ext.write(DriverExtension {
            init,
            hw_context: HwContext,
            registry_path_len: path_len as u32,
        });
        let dst = DriverExtension::registry_path(ext);
        if path_len > 0 && !path_buf.is_null() {
            core::ptr::copy_nonoverlapping(path_buf, dst, path_len);
        }
        dst.add(path_len).write(0);
        let d = &mut *driver;
        d.MajorFunction[IRP_MJ_CREATE as usize] = Some(super::dispatch::dispatch_create_close);
        d.MajorFunction[IRP_MJ_CLEANUP as usize] = Some(super::dispatch::dispatch_create_close);
        d.MajorFunction[IRP_MJ_CLOSE as usize] = Some(super::dispatch::dispatch_create_close);
        d.MajorFunction[IRP_MJ_DEVICE_CONTROL as usize] =
            Some(super::dispatch::dispatch_device_control);
        d.MajorFunction[IRP_MJ_PNP as usize] = Some(super::pnp::dispatch_pnp);
        d.MajorFunction[IRP_MJ_POWER as usize] = Some(super::power::dispatch_power);
        d.MajorFunction[IRP_MJ_SYSTEM_CONTROL as usize] = Some(super::pnp::dispatch_pass_down);
        (*d.DriverExtension).AddDevice = Some(super::pnp::add_device);
        d.DriverUnload = Some(driver_unload);
    }
    STATUS_SUCCESS.0 as u32
}

/// DriverUnload: every device was deleted at REMOVE; the registration is released (a
/// driver-object extension goes with the driver object by itself).
#[ddk_sys::ntapi]
unsafe extern "ntapi" fn driver_unload(driver: *mut DRIVER_OBJECT) {
    driver_data::release(driver);
    crate::report::trace(format_args!("miniport driver unloaded"));
}
