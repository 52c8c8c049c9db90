//! A small read-only file store per machine, behind the file routines a driver uses to read a
//! file the registry names (`VideoPortGetRegistryParameters` with `IsParameterFileName`).
//!
//! C interface simulated: `ZwCreateFile` (`FILE_OPEN` of an existing file, by absolute NT
//! path, synchronous I/O), `ZwReadFile` (synchronous; at `*ByteOffset` or the handle's current
//! position), `ZwQueryInformationFile` (`FileStandardInformation`); handles are closed with
//! `ZwClose` ([`crate::handle`]). All are PASSIVE_LEVEL only. Paths compare
//! case-insensitively; a missing file is STATUS_OBJECT_NAME_NOT_FOUND; a name that is not
//! fully qualified (no leading `\`; there is no root directory) is
//! STATUS_OBJECT_PATH_SYNTAX_BAD, as the object manager has it.
//!
//! ```ignore
//! machine.add_file("\\SystemRoot\\System32\\vprs.bin", &[1, 2, 3]);
//! ```

use crate::handle::{bad_argument, read_object_attributes, require_passive, Kind, Object};
use crate::machine::{cpu, Machine, State};
use ddk_sys::*;
use std::collections::HashMap;

/// `IO_STATUS_BLOCK.Information` of a successful `FILE_OPEN`.
const FILE_OPENED: usize = 1;
/// STATUS_INFO_LENGTH_MISMATCH.
const STATUS_INFO_LENGTH_MISMATCH: NTSTATUS = NTSTATUS(0xC000_0004_u32 as i32);

#[derive(Default)]
pub(crate) struct FileStore {
    /// Contents by lower-case path.
    files: HashMap<String, Vec<u8>>,
}

impl Machine {
    /// Puts a file with `contents` at the absolute NT path `path` (replacing any).
    pub fn add_file(&self, path: &str, contents: &[u8]) {
        self.lock()
            .files
            .files
            .insert(path.to_lowercase(), contents.to_vec());
    }
}

fn file_handle(
    st: &mut State,
    routine: &'static str,
    handle: HANDLE,
) -> Result<(String, u64), NTSTATUS> {
    match st.handle_object(routine, handle, Kind::File)? {
        Object::File { path, position } => Ok((path.clone(), *position)),
        Object::Key { .. } => unreachable!("handle_object checked the kind"),
    }
}

/// # Safety
/// `iosb` is NULL or writable.
unsafe fn complete(iosb: *mut IO_STATUS_BLOCK, status: NTSTATUS, information: usize) -> NTSTATUS {
    if !iosb.is_null() {
        // SAFETY: writable (contract).
        unsafe {
            iosb.write(IO_STATUS_BLOCK {
                Status: status,
                Information: information,
            })
        };
    }
    status
}

/// `ZwCreateFile`: opens an existing file of the store for reading (`FILE_OPEN`); other
/// dispositions, relative names and extended attributes are not simulated. PASSIVE_LEVEL.
///
/// # Safety
/// Pointer arguments are NULL or valid for their WDK use.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn ZwCreateFile(
    FileHandle: *mut HANDLE,
    _DesiredAccess: ACCESS_MASK,
    ObjectAttributes: POBJECT_ATTRIBUTES,
    IoStatusBlock: *mut IO_STATUS_BLOCK,
    _AllocationSize: *mut LARGE_INTEGER,
    _FileAttributes: ULONG,
    _ShareAccess: ULONG,
    CreateDisposition: ULONG,
    _CreateOptions: ULONG,
    EaBuffer: PVOID,
    _EaLength: ULONG,
) -> NTSTATUS {
    const R: &str = "ZwCreateFile";
    let cpu = cpu();
    if !require_passive(&cpu, R) {
        return STATUS_INVALID_DEVICE_STATE;
    }
    let mut st = cpu.lock();
    if FileHandle.is_null() {
        bad_argument(&mut st, R, 1, "NULL FileHandle");
        return STATUS_INVALID_PARAMETER;
    }
    if IoStatusBlock.is_null() {
        bad_argument(&mut st, R, 4, "NULL IoStatusBlock");
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: NULL or valid (contract).
    let Some((root, name)) = (unsafe { read_object_attributes(&mut st, R, 3, ObjectAttributes) })
    else {
        return STATUS_INVALID_PARAMETER;
    };
    if CreateDisposition != FILE_OPEN || !root.is_null() || !EaBuffer.is_null() {
        st.not_implemented("ZwCreateFile (anything but FILE_OPEN of an absolute path)");
        // SAFETY: checked non-NULL.
        return unsafe { complete(IoStatusBlock, STATUS_NOT_IMPLEMENTED, 0) };
    }
    // Without a root directory the object manager wants a fully qualified name: a relative
    // one ("x.bin") is STATUS_OBJECT_PATH_SYNTAX_BAD, never a file of that name.
    if !name.starts_with('\\') {
        // SAFETY: checked non-NULL.
        return unsafe { complete(IoStatusBlock, STATUS_OBJECT_PATH_SYNTAX_BAD, 0) };
    }
    if !st.files.files.contains_key(&name.to_lowercase()) {
        // SAFETY: checked non-NULL.
        return unsafe { complete(IoStatusBlock, STATUS_OBJECT_NAME_NOT_FOUND, 0) };
    }
    let handle = st.open_handle(
        Object::File {
            path: name,
            position: 0,
        },
        R,
    );
    // SAFETY: checked non-NULL; writable (contract).
    unsafe { FileHandle.write(handle) };
    // SAFETY: checked non-NULL.
    unsafe { complete(IoStatusBlock, STATUS_SUCCESS, FILE_OPENED) }
}

/// `ZwReadFile`: reads up to `Length` bytes at `*ByteOffset` (or the current position);
/// STATUS_END_OF_FILE at or past the end. Synchronous only (no event, no APC). PASSIVE_LEVEL.
///
/// # Safety
/// Pointer arguments are NULL or valid for their WDK use (`Buffer` for `Length` bytes).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn ZwReadFile(
    FileHandle: HANDLE,
    Event: HANDLE,
    ApcRoutine: PVOID,
    _ApcContext: PVOID,
    IoStatusBlock: *mut IO_STATUS_BLOCK,
    Buffer: PVOID,
    Length: ULONG,
    ByteOffset: *mut LARGE_INTEGER,
    _Key: *mut ULONG,
) -> NTSTATUS {
    const R: &str = "ZwReadFile";
    let cpu = cpu();
    if !require_passive(&cpu, R) {
        return STATUS_INVALID_DEVICE_STATE;
    }
    let mut st = cpu.lock();
    let (path, position) = match file_handle(&mut st, R, FileHandle) {
        Ok(f) => f,
        Err(status) => return status,
    };
    if IoStatusBlock.is_null() {
        bad_argument(&mut st, R, 5, "NULL IoStatusBlock");
        return STATUS_INVALID_PARAMETER;
    }
    if Buffer.is_null() && Length != 0 {
        bad_argument(&mut st, R, 6, "NULL Buffer with a non-zero Length");
        return STATUS_INVALID_PARAMETER;
    }
    if !Event.is_null() || !ApcRoutine.is_null() {
        st.not_implemented("ZwReadFile (asynchronous reads)");
        return STATUS_NOT_IMPLEMENTED;
    }
    let offset = if ByteOffset.is_null() {
        position
    } else {
        // SAFETY: readable (contract).
        let o = unsafe { (*ByteOffset).0 };
        if o < 0 {
            bad_argument(&mut st, R, 8, "negative ByteOffset");
            return STATUS_INVALID_PARAMETER;
        }
        o as u64
    };
    let contents = st
        .files
        .files
        .get(&path.to_lowercase())
        .map_or(&[][..], |c| c.as_slice());
    let size = contents.len() as u64;
    if offset >= size && Length != 0 {
        // SAFETY: checked non-NULL.
        return unsafe { complete(IoStatusBlock, STATUS_END_OF_FILE, 0) };
    }
    let n = (size.saturating_sub(offset)).min(u64::from(Length)) as usize;
    if n != 0 {
        // SAFETY: `Buffer` holds `Length >= n` bytes (contract), non-NULL since n > 0.
        unsafe {
            std::ptr::copy_nonoverlapping(
                contents.as_ptr().add(offset as usize),
                Buffer.cast::<u8>(),
                n,
            )
        };
    }
    if let Ok(Object::File { position, .. }) = st.handle_object(R, FileHandle, Kind::File) {
        *position = offset + n as u64;
    }
    // SAFETY: checked non-NULL.
    unsafe { complete(IoStatusBlock, STATUS_SUCCESS, n) }
}

/// `ZwQueryInformationFile` for `FileStandardInformation` (the file's size).
/// STATUS_INFO_LENGTH_MISMATCH for a buffer smaller than the structure. PASSIVE_LEVEL.
///
/// # Safety
/// Pointer arguments are NULL or valid for their WDK use.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn ZwQueryInformationFile(
    FileHandle: HANDLE,
    IoStatusBlock: *mut IO_STATUS_BLOCK,
    FileInformation: PVOID,
    Length: ULONG,
    FileInformationClass: FILE_INFORMATION_CLASS,
) -> NTSTATUS {
    const R: &str = "ZwQueryInformationFile";
    let cpu = cpu();
    if !require_passive(&cpu, R) {
        return STATUS_INVALID_DEVICE_STATE;
    }
    let mut st = cpu.lock();
    let (path, _) = match file_handle(&mut st, R, FileHandle) {
        Ok(f) => f,
        Err(status) => return status,
    };
    if IoStatusBlock.is_null() {
        bad_argument(&mut st, R, 2, "NULL IoStatusBlock");
        return STATUS_INVALID_PARAMETER;
    }
    if FileInformationClass != FILE_INFORMATION_CLASS::FileStandardInformation {
        st.not_implemented("ZwQueryInformationFile (classes other than standard)");
        return STATUS_NOT_IMPLEMENTED;
    }
    let size = core::mem::size_of::<FILE_STANDARD_INFORMATION>();
    if (Length as usize) < size {
        // SAFETY: checked non-NULL.
        return unsafe { complete(IoStatusBlock, STATUS_INFO_LENGTH_MISMATCH, 0) };
    }
    if FileInformation.is_null() {
        bad_argument(&mut st, R, 3, "NULL FileInformation");
        return STATUS_INVALID_PARAMETER;
    }
    let bytes = st.files.files.get(&path.to_lowercase()).map_or(0, Vec::len) as i64;
    let info = FILE_STANDARD_INFORMATION {
        AllocationSize: LARGE_INTEGER::new(((bytes + 4095) & !4095) as u64),
        EndOfFile: LARGE_INTEGER::new(bytes as u64),
        NumberOfLinks: 1,
        DeletePending: FALSE,
        Directory: FALSE,
    };
    // SAFETY: writable for `size` bytes (contract, checked above); unaligned write.
    unsafe {
        FileInformation
            .cast::<FILE_STANDARD_INFORMATION>()
            .write_unaligned(info)
    };
    // SAFETY: checked non-NULL.
    unsafe { complete(IoStatusBlock, STATUS_SUCCESS, size) }
}
