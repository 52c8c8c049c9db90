//! Register and port access: `VideoPortRead/Write{Register,Port}{Uchar,Ushort,Ulong}` and their
//! `Buffer` variants.
//!
//! C interface (`video.h`), any IRQL, e.g. `ULONG VideoPortReadRegisterUlong(PULONG Register)`,
//! `VOID VideoPortWriteRegisterBufferUlong(PULONG Register, PULONG Buffer, ULONG Count)`,
//! `UCHAR VideoPortReadPortUchar(PUCHAR Port)`.
//!
//! On Windows a register is a volatile access to the address GetDeviceBase returned, and a
//! port is an `in`/`out` instruction (x64 `READ_REGISTER_*`/`READ_PORT_*` are inline in
//! `wdm.h`). On other hosts both go to ntsim (`NtsimReadRegister`, `NtsimWritePort`, ...),
//! which routes them to the device model behind the mapping and reports an access to an
//! address nothing decodes. The port does not look addresses up itself: these run in ISRs,
//! thousands of times per operation, and carry no device handle. The register Buffer variants
//! move over consecutive registers (a string move, as `rep movs` does on Windows), the port ones
//! repeat one port (`rep ins`/`rep outs`, a FIFO). A Buffer variant with a NULL buffer and a
//! non-zero count is reported and does nothing.

use crate::report::{self, port_code, Misuse};
use ddk_sys::*;

#[cfg(not(target_os = "windows"))]
#[ddk_sys::ntapi]
extern "ntapi" {
    fn NtsimReadRegister(address: usize, size: u8) -> u64;
    fn NtsimWriteRegister(address: usize, size: u8, value: u64);
    fn NtsimReadPort(port: usize, size: u8) -> u64;
    fn NtsimWritePort(port: usize, size: u8, value: u64);
}

/// A register read of `size_of::<T>()` bytes.
///
/// # Safety
/// `address` is a device register mapped by GetDeviceBase.
#[inline]
pub(super) unsafe fn read_register<T: Copy + Into<u64> + TryFrom<u64>>(address: *const T) -> T {
    #[cfg(target_os = "windows")]
    // SAFETY: a mapped device register (contract).
    unsafe {
        address.read_volatile()
    }
    #[cfg(not(target_os = "windows"))]
    {
        // SAFETY: ntsim checks the address.
        let v = unsafe { NtsimReadRegister(address as usize, size_of::<T>() as u8) };
        T::try_from(v).unwrap_or_else(|_| T::try_from(0).ok().expect("0 fits"))
    }
}

/// # Safety
/// `address` is a device register mapped by GetDeviceBase.
#[inline]
pub(super) unsafe fn write_register<T: Copy + Into<u64>>(address: *mut T, value: T) {
    #[cfg(target_os = "windows")]
    // SAFETY: a mapped device register (contract).
    unsafe {
        address.write_volatile(value)
    }
    #[cfg(not(target_os = "windows"))]
    // SAFETY: ntsim checks the address.
    unsafe {
        NtsimWriteRegister(address as usize, size_of::<T>() as u8, value.into())
    }
}

/// # Safety
/// `port` is a port of the device.
#[inline]
unsafe fn read_port<T: Copy + Into<u64> + TryFrom<u64>>(port: *const T) -> T {
    #[cfg(target_os = "windows")]
    {
        let p = port as usize as u16;
        let v: u64;
        // SAFETY: port input at CPL 0 from a port of the device (contract).
        unsafe {
            match size_of::<T>() {
                1 => {
                    let b: u8;
                    core::arch::asm!("in al, dx", out("al") b, in("dx") p, options(nomem, nostack, preserves_flags));
                    v = b as u64;
                }
                2 => {
                    let w: u16;
                    core::arch::asm!("in ax, dx", out("ax") w, in("dx") p, options(nomem, nostack, preserves_flags));
                    v = w as u64;
                }
                _ => {
                    let d: u32;
                    core::arch::asm!("in eax, dx", out("eax") d, in("dx") p, options(nomem, nostack, preserves_flags));
                    v = d as u64;
                }
            }
        }
        T::try_from(v).unwrap_or_else(|_| T::try_from(0).ok().expect("0 fits"))
    }
    #[cfg(not(target_os = "windows"))]
    {
        // SAFETY: ntsim checks the port.
        let v = unsafe { NtsimReadPort(port as usize, size_of::<T>() as u8) };
        T::try_from(v).unwrap_or_else(|_| T::try_from(0).ok().expect("0 fits"))
    }
}

/// # Safety
/// `port` is a port of the device.
#[inline]
unsafe fn write_port<T: Copy + Into<u64>>(port: *mut T, value: T) {
    #[cfg(target_os = "windows")]
    {
        let p = port as usize as u16;
        let v: u64 = value.into();
        // SAFETY: port output at CPL 0 to a port of the device (contract).
        unsafe {
            match size_of::<T>() {
                1 => {
                    core::arch::asm!("out dx, al", in("dx") p, in("al") v as u8, options(nomem, nostack, preserves_flags))
                }
                2 => {
                    core::arch::asm!("out dx, ax", in("dx") p, in("ax") v as u16, options(nomem, nostack, preserves_flags))
                }
                _ => {
                    core::arch::asm!("out dx, eax", in("dx") p, in("eax") v as u32, options(nomem, nostack, preserves_flags))
                }
            }
        }
    }
    #[cfg(not(target_os = "windows"))]
    // SAFETY: ntsim checks the port.
    unsafe {
        NtsimWritePort(port as usize, size_of::<T>() as u8, value.into())
    }
}

#[ddk_sys::ntapi]
fn null_buffer(routine: &'static str, count: u32) -> bool {
    report::misuse(
        routine,
        Misuse::Port {
            code: port_code::NULL_ARGUMENT,
            p2: 2,
            p3: count as usize,
        },
    );
    false
}

macro_rules! single {
    ($read:ident, $write:ident, $t:ty, $rd:ident, $wr:ident) => {
        #[doc = concat!("`", stringify!($read), "`.")]
        ///
        /// # Safety
        /// The address must come from VideoPortGetDeviceBase for this kind of space.
        #[no_mangle]
        #[ddk_sys::ntapi]
        pub unsafe extern "ntapi" fn $read(Register: *mut $t) -> $t {
            // SAFETY: forwarded contract.
            unsafe { $rd(Register) }
        }

        #[doc = concat!("`", stringify!($write), "`.")]
        ///
        /// # Safety
        /// The address must come from VideoPortGetDeviceBase for this kind of space.
        #[no_mangle]
        #[ddk_sys::ntapi]
        pub unsafe extern "ntapi" fn $write(Register: *mut $t, Value: $t) {
            // SAFETY: forwarded contract.
            unsafe { $wr(Register, Value) }
        }
    };
}

/// The `Buffer` variants. `$step` is how far the device address moves per element: 1 for
/// registers (memory space: a string move over consecutive registers, as the WDK's
/// `READ/WRITE_REGISTER_BUFFER_*` do with `rep movs`), 0 for ports (`rep ins`/`rep outs` on one
/// port, a FIFO).
macro_rules! buffer {
    ($read:ident, $write:ident, $t:ty, $rd:ident, $wr:ident, $step:expr, $what:literal) => {
        #[doc = concat!("`", stringify!($read), "`: `Count` reads of ", $what, " into `Buffer`.")]
        ///
        /// # Safety
        /// The address must come from VideoPortGetDeviceBase, and the `Count` elements read
        /// from it must lie in that mapping; `Buffer` NULL or writable for `Count` elements.
        #[no_mangle]
        #[ddk_sys::ntapi]
        pub unsafe extern "ntapi" fn $read(Register: *mut $t, Buffer: *mut $t, Count: ULONG) {
            if Buffer.is_null() && Count != 0 && !null_buffer(stringify!($read), Count) {
                return;
            }
            for i in 0..Count as usize {
                // SAFETY: forwarded contract.
                unsafe {
                    Buffer
                        .add(i)
                        .write_unaligned($rd(Register.wrapping_add(i * $step)))
                };
            }
        }

        #[doc = concat!("`", stringify!($write), "`: `Count` writes of `Buffer` to ", $what, ".")]
        ///
        /// # Safety
        /// The address must come from VideoPortGetDeviceBase, and the `Count` elements written
        /// to it must lie in that mapping; `Buffer` NULL or readable for `Count` elements.
        #[no_mangle]
        #[ddk_sys::ntapi]
        pub unsafe extern "ntapi" fn $write(Register: *mut $t, Buffer: *mut $t, Count: ULONG) {
            if Buffer.is_null() && Count != 0 && !null_buffer(stringify!($write), Count) {
                return;
            }
            for i in 0..Count as usize {
                // SAFETY: forwarded contract.
                unsafe {
                    $wr(
                        Register.wrapping_add(i * $step),
                        Buffer.add(i).read_unaligned(),
                    )
                };
            }
        }
    };
}

single!(
    VideoPortReadRegisterUchar,
    VideoPortWriteRegisterUchar,
    u8,
    read_register,
    write_register
);
single!(
    VideoPortReadRegisterUshort,
    VideoPortWriteRegisterUshort,
    u16,
    read_register,
    write_register
);
single!(
    VideoPortReadRegisterUlong,
    VideoPortWriteRegisterUlong,
    u32,
    read_register,
    write_register
);
single!(
    VideoPortReadPortUchar,
    VideoPortWritePortUchar,
    u8,
    read_port,
    write_port
);
single!(
    VideoPortReadPortUshort,
    VideoPortWritePortUshort,
    u16,
    read_port,
    write_port
);
single!(
    VideoPortReadPortUlong,
    VideoPortWritePortUlong,
    u32,
    read_port,
    write_port
);
buffer!(
    VideoPortReadRegisterBufferUchar,
    VideoPortWriteRegisterBufferUchar,
    u8,
    read_register,
    write_register,
    1,
    "consecutive registers"
);
buffer!(
    VideoPortReadRegisterBufferUshort,
    VideoPortWriteRegisterBufferUshort,
    u16,
    read_register,
    write_register,
    1,
    "consecutive registers"
);
buffer!(
    VideoPortReadRegisterBufferUlong,
    VideoPortWriteRegisterBufferUlong,
    u32,
    read_register,
    write_register,
    1,
    "consecutive registers"
);
buffer!(
    VideoPortReadPortBufferUchar,
    VideoPortWritePortBufferUchar,
    u8,
    read_port,
    write_port,
    0,
    "the same port"
);
buffer!(
    VideoPortReadPortBufferUshort,
    VideoPortWritePortBufferUshort,
    u16,
    read_port,
    write_port,
    0,
    "the same port"
);
buffer!(
    VideoPortReadPortBufferUlong,
    VideoPortWritePortBufferUlong,
    u32,
    read_port,
    write_port,
    0,
    "the same port"
);
