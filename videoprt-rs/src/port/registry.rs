//! `VideoPortGetRegistryParameters`, `VideoPortSetRegistryParameters` and
//! `VideoPortFlushRegistry`: values under the device's driver key.
//!
//! C interface wrapped: `IoOpenDeviceRegistryKey(PDO, PLUGPLAY_REGKEY_DRIVER)` (the "adapter
//! key" of the video.h documentation is the device's software key), `ZwOpenKey` /
//! `ZwCreateKey` for the subkey paths Windows XP added (`"SubKey1\\Value1"`),
//! `ZwQueryValueKey(KeyValuePartialInformation)`, `ZwSetValueKey`, `ZwFlushKey`, `ZwClose`;
//! for `IsParameterFileName`, `ZwCreateFile` / `ZwQueryInformationFile` / `ZwReadFile`. All
//! PASSIVE_LEVEL, like the three exports.
//!
//! Semantics (Microsoft's pages "VideoPortGetRegistryParameters function",
//! "PMINIPORT_GET_REGISTRY_ROUTINE callback function", "VideoPortSetRegistryParameters
//! function", "VideoPortFlushRegistry function"):
//!
//! * Get reads the value `ParameterName` and calls `GetRegistryRoutine(HwDeviceExtension,
//!   Context, ParameterName, data, length)` with the value's data exactly as stored (a string
//!   keeps the terminator its writer stored). With `IsParameterFileName` the value is a file
//!   name (an NT path such as `\SystemRoot\System32\x.bin`, up to its first NUL) and the
//!   callback gets the file's whole contents instead. NO_ERROR when the information was
//!   collected and the callback returned NO_ERROR; otherwise ERROR_INVALID_PARAMETER (no such
//!   key, value or file, a file larger than [`MAX_FILE_BYTES`], a callback that failed, no
//!   pool). The callback runs with no key or file open.
//! * Set writes `ValueLength` bytes as a `REG_BINARY` value (the documentation names no type;
//!   the data is an opaque buffer), creating the value and any subkeys on its path. A name
//!   beginning with `DefaultSettings.` is refused with ERROR_INVALID_PARAMETER, as documented.
//! * Flush flushes the driver key (`ZwFlushKey`) and returns NO_ERROR.
//!
//! Misuse is reported and refused: a call above PASSIVE_LEVEL, an unknown `HwDeviceExtension`,
//! a NULL name or callback, NULL data with a non-zero length, a name longer than a
//! `UNICODE_STRING` can hold (32,767 characters) or with an empty path component.

use crate::device::PortDevice;
use crate::irql::{require_at_most, Irql};
use crate::pool::TAG;
use crate::report::{self, port_code, Misuse};
use core::ptr::{null_mut, NonNull};
use ddk_sys::*;

/// The longest name a `UNICODE_STRING` holds, in characters.
const MAX_NAME_CHARS: usize = (u16::MAX / 2) as usize;
/// The largest file `IsParameterFileName` reads (a ROM image or microcode is far smaller).
pub const MAX_FILE_BYTES: u64 = 16 << 20;
/// Offset of the data in `KEY_VALUE_PARTIAL_INFORMATION`.
pub(super) const PARTIAL_HEADER: usize = core::mem::offset_of!(KEY_VALUE_PARTIAL_INFORMATION, Data);

/// A registry or file handle, closed on drop.
pub(super) struct Handle(pub(super) HANDLE);

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: a handle this module opened and still owns.
        unsafe { ZwClose(self.0) };
    }
}

/// A nonpaged pool buffer (of at least one byte), freed on drop.
pub(super) struct PoolBuffer {
    pub(super) ptr: NonNull<u8>,
}

impl PoolBuffer {
    fn new(len: usize) -> Option<PoolBuffer> {
        let raw = crate::system::allocate_nonpaged_zeroed(len.max(1), TAG);
        NonNull::new(raw.cast::<u8>()).map(|ptr| PoolBuffer { ptr })
    }
}

impl Drop for PoolBuffer {
    fn drop(&mut self) {
        // SAFETY: allocated with TAG by `new`, freed once.
        unsafe { ExFreePoolWithTag(self.ptr.as_ptr().cast(), TAG) };
    }
}

/// A `UNICODE_STRING` over `chars` (which must outlive its use).
pub(super) fn counted(chars: &[u16]) -> UNICODE_STRING {
    let bytes = (chars.len() * 2) as u16; // chars.len() <= MAX_NAME_CHARS
    UNICODE_STRING {
        Length: bytes,
        MaximumLength: bytes,
        Buffer: chars.as_ptr() as *mut u16,
    }
}

/// A miniport's NUL-terminated name, validated: (the whole name, its subkey path, the value
/// name). Reports and gives `None` for a name that is too long or has an empty component.
///
/// # Safety
/// `name` is non-NULL and NUL-terminated (the miniport's contract).
unsafe fn parse_name<'a>(
    routine: &'static str,
    name: *const u16,
) -> Option<(&'a [u16], &'a [u16], &'a [u16])> {
    let mut len = 0;
    // SAFETY: the name is readable up to its terminator (contract); never past the limit.
    while len <= MAX_NAME_CHARS && unsafe { *name.add(len) } != 0 {
        len += 1;
    }
    if len > MAX_NAME_CHARS {
        report::misuse(
            routine,
            Misuse::Port {
                code: port_code::BAD_ARGUMENT,
                p2: len,
                p3: MAX_NAME_CHARS,
            },
        );
        return None;
    }
    // SAFETY: `len` characters were just read.
    let whole = unsafe { core::slice::from_raw_parts(name, len) };
    let backslash = u16::from(b'\\');
    let (path, value) = match whole.iter().rposition(|&c| c == backslash) {
        Some(i) => (&whole[..i], &whole[i + 1..]),
        None => (&whole[..0], whole),
    };
    let empty_component = whole.contains(&backslash)
        && (value.is_empty() || path.split(|&c| c == backslash).any(|c| c.is_empty()));
    if empty_component {
        report::misuse(
            routine,
            Misuse::Port {
                code: port_code::BAD_ARGUMENT,
                p2: name as usize,
                p3: 0,
            },
        );
        return None;
    }
    Some((whole, path, value))
}

/// The common checks: IRQL, device, a non-NULL name (argument 2).
fn enter(
    routine: &'static str,
    hw_extension: PVOID,
    name: *const u16,
) -> Option<&'static PortDevice> {
    if !require_at_most(routine, Irql::PASSIVE) {
        return None;
    }
    let device = PortDevice::from_hw_extension(routine, hw_extension)?;
    if name.is_null() {
        null_argument(routine, 2);
        return None;
    }
    Some(device)
}

fn null_argument(routine: &'static str, position: usize) {
    report::misuse(
        routine,
        Misuse::Port {
            code: port_code::NULL_ARGUMENT,
            p2: position,
            p3: 0,
        },
    );
}

/// Opens the device's driver key, then the subkey `path` below it (created level by level when
/// `create`).
fn open_key(
    device: &PortDevice,
    access: ACCESS_MASK,
    path: &[u16],
    create: bool,
) -> Option<Handle> {
    let mut raw: HANDLE = null_mut();
    // SAFETY: the device's PDO is live while the device is registered; `raw` is writable.
    let status =
        unsafe { IoOpenDeviceRegistryKey(device.pdo(), PLUGPLAY_REGKEY_DRIVER, access, &mut raw) };
    if !status.is_success() {
        return None;
    }
    let mut key = Handle(raw);
    if path.is_empty() {
        return Some(key);
    }
    let backslash = u16::from(b'\\');
    if create {
        for component in path.split(|&c| c == backslash) {
            let mut name = counted(component);
            let mut oa =
                OBJECT_ATTRIBUTES::new(&mut name, OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE, key.0);
            let mut sub: HANDLE = null_mut();
            // SAFETY: valid attributes naming `component` below the open key; `sub` writable.
            let status = unsafe {
                ZwCreateKey(
                    &mut sub,
                    access,
                    &mut oa,
                    0,
                    null_mut(),
                    REG_OPTION_NON_VOLATILE,
                    null_mut(),
                )
            };
            if !status.is_success() {
                return None;
            }
            key = Handle(sub); // closes the parent
        }
        Some(key)
    } else {
        let mut name = counted(path);
        let mut oa =
            OBJECT_ATTRIBUTES::new(&mut name, OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE, key.0);
        let mut sub: HANDLE = null_mut();
        // SAFETY: valid attributes naming `path` below the open key; `sub` writable.
        let status = unsafe { ZwOpenKey(&mut sub, access, &mut oa) };
        status.is_success().then(|| Handle(sub))
    }
}

/// The value `name` of `key` as `KEY_VALUE_PARTIAL_INFORMATION` in pool: (type, buffer with
/// the data at [`PARTIAL_HEADER`], data length).
pub(super) fn query_value(key: &Handle, name: &[u16]) -> Option<(u32, PoolBuffer, usize)> {
    let mut unicode = counted(name);
    let mut size = PARTIAL_HEADER + 16;
    // The value could change between the two calls; three tries are plenty.
    for _ in 0..3 {
        let buffer = PoolBuffer::new(size)?;
        let mut needed = 0u32;
        // SAFETY: `buffer` holds `size` bytes; the name and `needed` are valid.
        let status = unsafe {
            ZwQueryValueKey(
                key.0,
                &mut unicode,
                KEY_VALUE_INFORMATION_CLASS::KeyValuePartialInformation,
                buffer.ptr.as_ptr().cast(),
                size as u32,
                &mut needed,
            )
        };
        if status == STATUS_BUFFER_OVERFLOW || status == STATUS_BUFFER_TOO_SMALL {
            size = (needed as usize).max(PARTIAL_HEADER);
            continue;
        }
        if !status.is_success() {
            return None;
        }
        // SAFETY: the kernel wrote the header (12 bytes, 4-aligned pool).
        let info = unsafe { &*buffer.ptr.as_ptr().cast::<KEY_VALUE_PARTIAL_INFORMATION>() };
        let length = info.DataLength as usize;
        if PARTIAL_HEADER + length > size {
            return None;
        }
        return Some((info.Type, buffer, length));
    }
    None
}

/// The whole contents of the file `path` (an NT path, `len` UTF-16 units) in pool.
fn read_file(path: &[u16]) -> Option<(PoolBuffer, usize)> {
    let mut name = counted(path);
    let mut oa = OBJECT_ATTRIBUTES::new(
        &mut name,
        OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE,
        null_mut(),
    );
    let mut iosb = IO_STATUS_BLOCK {
        Status: STATUS_SUCCESS,
        Information: 0,
    };
    let mut raw: HANDLE = null_mut();
    // SAFETY: valid attributes, status block and handle slot; no extended attributes.
    let status = unsafe {
        ZwCreateFile(
            &mut raw,
            GENERIC_READ | SYNCHRONIZE,
            &mut oa,
            &mut iosb,
            null_mut(),
            FILE_ATTRIBUTE_NORMAL,
            FILE_SHARE_READ,
            FILE_OPEN,
            FILE_SYNCHRONOUS_IO_NONALERT | FILE_NON_DIRECTORY_FILE,
            null_mut(),
            0,
        )
    };
    if !status.is_success() {
        return None;
    }
    let file = Handle(raw);
    let mut info = FILE_STANDARD_INFORMATION::default();
    // SAFETY: `info` is a writable FILE_STANDARD_INFORMATION of the size passed.
    let status = unsafe {
        ZwQueryInformationFile(
            file.0,
            &mut iosb,
            (&mut info as *mut FILE_STANDARD_INFORMATION).cast(),
            core::mem::size_of::<FILE_STANDARD_INFORMATION>() as u32,
            FILE_INFORMATION_CLASS::FileStandardInformation,
        )
    };
    let size = info.EndOfFile.0;
    if !status.is_success() || size < 0 || size as u64 > MAX_FILE_BYTES {
        return None;
    }
    let size = size as usize;
    let buffer = PoolBuffer::new(size)?;
    let mut done = 0usize;
    while done < size {
        let mut offset = LARGE_INTEGER::new(done as u64);
        // SAFETY: `buffer` has `size - done` writable bytes from `done`; synchronous read.
        let status = unsafe {
            ZwReadFile(
                file.0,
                null_mut(),
                null_mut(),
                null_mut(),
                &mut iosb,
                buffer.ptr.as_ptr().add(done).cast(),
                (size - done) as u32,
                &mut offset,
                null_mut(),
            )
        };
        let read = iosb.Information.min(size - done);
        if !status.is_success() || read == 0 {
            return None;
        }
        done += read;
    }
    Some((buffer, size))
}

/// `VideoPortGetRegistryParameters`: calls `GetRegistryRoutine` with the value
/// `ParameterName` of the device's driver key (or, with `IsParameterFileName`, with the
/// contents of the file the value names). See the module documentation.
///
/// # Safety
/// `ParameterName` is NULL or NUL-terminated; `GetRegistryRoutine` is NULL or a callback
/// with the documented prototype.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortGetRegistryParameters(
    HwDeviceExtension: PVOID,
    ParameterName: *mut WCHAR,
    IsParameterFileName: UCHAR,
    GetRegistryRoutine: PMINIPORT_GET_REGISTRY_ROUTINE,
    Context: PVOID,
) -> VP_STATUS {
    const R: &str = "VideoPortGetRegistryParameters";
    let Some(device) = enter(R, HwDeviceExtension, ParameterName) else {
        return ERROR_INVALID_PARAMETER;
    };
    let Some(callback) = GetRegistryRoutine else {
        null_argument(R, 4);
        return ERROR_INVALID_PARAMETER;
    };
    // SAFETY: non-NULL and NUL-terminated (contract).
    let Some((_, path, value)) = (unsafe { parse_name(R, ParameterName) }) else {
        return ERROR_INVALID_PARAMETER;
    };
    let found = open_key(device, KEY_READ, path, false).and_then(|key| query_value(&key, value));
    let Some((kind, buffer, length)) = found else {
        return ERROR_INVALID_PARAMETER;
    };
    let (data, length, _owner) = if IsParameterFileName != 0 {
        if kind != REG_SZ && kind != REG_EXPAND_SZ {
            return ERROR_INVALID_PARAMETER;
        }
        // SAFETY: the value's data follows the header in `buffer`; UTF-16 is 2-aligned there.
        let chars = unsafe {
            core::slice::from_raw_parts(
                buffer.ptr.as_ptr().add(PARTIAL_HEADER).cast::<u16>(),
                length / 2,
            )
        };
        let chars = &chars[..chars.iter().position(|&c| c == 0).unwrap_or(chars.len())];
        if chars.is_empty() || chars.len() > MAX_NAME_CHARS {
            return ERROR_INVALID_PARAMETER;
        }
        let Some((contents, size)) = read_file(chars) else {
            return ERROR_INVALID_PARAMETER;
        };
        (contents.ptr.as_ptr(), size, Some(contents))
    } else {
        // SAFETY: within `buffer` (PARTIAL_HEADER + length bytes, checked in query_value).
        (
            unsafe { buffer.ptr.as_ptr().add(PARTIAL_HEADER) },
            length,
            None,
        )
    };
    // SAFETY: the miniport's callback with its own extension and context; `data` holds
    // `length` bytes that stay valid (and writable) during the call.
    let status = unsafe {
        callback(
            HwDeviceExtension,
            Context,
            ParameterName,
            data.cast(),
            length as ULONG,
        )
    };
    if status == NO_ERROR {
        NO_ERROR
    } else {
        ERROR_INVALID_PARAMETER
    }
}

/// `VideoPortSetRegistryParameters`: writes `ValueLength` bytes of `ValueData` as the
/// `REG_BINARY` value `ValueName` of the device's driver key, creating subkeys on its path.
/// See the module documentation.
///
/// # Safety
/// `ValueName` is NULL or NUL-terminated; `ValueData` is NULL or readable for `ValueLength`
/// bytes.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortSetRegistryParameters(
    HwDeviceExtension: PVOID,
    ValueName: *mut WCHAR,
    ValueData: PVOID,
    ValueLength: ULONG,
) -> VP_STATUS {
    const R: &str = "VideoPortSetRegistryParameters";
    let Some(device) = enter(R, HwDeviceExtension, ValueName) else {
        return ERROR_INVALID_PARAMETER;
    };
    if ValueData.is_null() && ValueLength != 0 {
        null_argument(R, 3);
        return ERROR_INVALID_PARAMETER;
    }
    // SAFETY: non-NULL and NUL-terminated (contract).
    let Some((whole, path, value)) = (unsafe { parse_name(R, ValueName) }) else {
        return ERROR_INVALID_PARAMETER;
    };
    if starts_with_ignore_case(whole, b"DefaultSettings.") {
        return ERROR_INVALID_PARAMETER;
    }
    let Some(key) = open_key(device, KEY_WRITE, path, true) else {
        return ERROR_INVALID_PARAMETER;
    };
    let mut name = counted(value);
    // SAFETY: an open key, a valid name, and `ValueLength` readable bytes (contract).
    let status = unsafe { ZwSetValueKey(key.0, &mut name, 0, REG_BINARY, ValueData, ValueLength) };
    if status.is_success() {
        NO_ERROR
    } else {
        ERROR_INVALID_PARAMETER
    }
}

/// Whether UTF-16 `s` starts with ASCII `prefix`, ignoring ASCII case.
fn starts_with_ignore_case(s: &[u16], prefix: &[u8]) -> bool {
    s.len() >= prefix.len()
        && s.iter()
            .zip(prefix)
            .all(|(&c, &p)| u8::try_from(c).is_ok_and(|c| c.eq_ignore_ascii_case(&p)))
}

/// `VideoPortFlushRegistry`: flushes the device's driver key to disk; NO_ERROR.
///
/// # Safety
/// None beyond the export's contract (the extension is validated).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn VideoPortFlushRegistry(HwDeviceExtension: PVOID) -> VP_STATUS {
    const R: &str = "VideoPortFlushRegistry";
    if !require_at_most(R, Irql::PASSIVE) {
        return ERROR_INVALID_PARAMETER;
    }
    let Some(device) = PortDevice::from_hw_extension(R, HwDeviceExtension) else {
        return ERROR_INVALID_PARAMETER;
    };
    if let Some(key) = open_key(device, KEY_READ, &[], false) {
        // SAFETY: an open key handle.
        unsafe { ZwFlushKey(key.0) };
    }
    NO_ERROR
}
