//! The simulated registry and file store: `IoOpenDeviceRegistryKey`, the `Zw*Key` and
//! `Zw*ValueKey` routines, `ZwClose`, the file routines, handle validation and leak reports.

use core::ptr::null_mut;
use ddk_sys::*;
use ntsim::verifier::{bugcheck, ntsim_code};
use ntsim::{LeakKind, Machine, MachineConfig, RegistryValue};

/// A counted string that owns its UTF-16 buffer.
struct Name {
    _wide: Vec<u16>,
    s: UNICODE_STRING,
}

fn name(text: &str) -> Name {
    let mut wide: Vec<u16> = text.encode_utf16().collect();
    let s = UNICODE_STRING {
        Length: (wide.len() * 2) as u16,
        MaximumLength: (wide.len() * 2) as u16,
        Buffer: wide.as_mut_ptr(),
    };
    Name { _wide: wide, s }
}

fn open_driver_key(pdo: ntsim::Pdo, access: ACCESS_MASK) -> (NTSTATUS, HANDLE) {
    let mut key: HANDLE = null_mut();
    // SAFETY: a PDO of the entered machine and a writable handle slot.
    let status =
        // SAFETY: the test's own live buffers, names and handles (or the bad value under test, which the routine only looks up).
        unsafe { IoOpenDeviceRegistryKey(pdo.as_ptr(), PLUGPLAY_REGKEY_DRIVER, access, &mut key) };
    (status, key)
}

fn set(key: HANDLE, value: &str, kind: u32, data: &[u8]) -> NTSTATUS {
    let mut n = name(value);
    // SAFETY: a valid name and `data.len()` readable bytes.
    unsafe {
        ZwSetValueKey(
            key,
            &mut n.s,
            0,
            kind,
            data.as_ptr() as PVOID,
            data.len() as u32,
        )
    }
}

/// (status, result length, buffer) of a partial query into `room` bytes.
fn query(key: HANDLE, value: &str, room: usize) -> (NTSTATUS, u32, Vec<u8>) {
    let mut n = name(value);
    let mut buffer = vec![0xAAu8; room];
    let mut needed = 0u32;
    // SAFETY: the buffer holds `room` bytes.
    let status = unsafe {
        ZwQueryValueKey(
            key,
            &mut n.s,
            KEY_VALUE_INFORMATION_CLASS::KeyValuePartialInformation,
            if room == 0 {
                null_mut()
            } else {
                buffer.as_mut_ptr().cast()
            },
            room as u32,
            &mut needed,
        )
    };
    (status, needed, buffer)
}

/// `ZwClose`; ntsim looks any value up in its handle table, so any handle may be passed.
fn close(handle: HANDLE) -> NTSTATUS {
    // SAFETY: the routine only looks the value up; nothing is dereferenced.
    unsafe { ZwClose(handle) }
}

fn codes(machine: &Machine) -> Vec<(u32, u32)> {
    machine
        .take_violations()
        .iter()
        .map(|v| (v.bugcheck, v.code))
        .collect()
}

#[test]
fn values_round_trip_through_the_driver_key_and_the_harness_sees_them() {
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    let pdo = machine.create_pdo("gpu");
    let (status, key) = open_driver_key(pdo, KEY_ALL_ACCESS);
    assert_eq!(status, STATUS_SUCCESS);
    assert_eq!(
        set(key, "Mode", REG_DWORD, &7u32.to_le_bytes()),
        STATUS_SUCCESS
    );

    // Partial information: header then data.
    let (status, needed, buffer) = query(key, "mode", 64); // names are case-insensitive
    assert_eq!((status, needed), (STATUS_SUCCESS, 16));
    assert_eq!(
        u32::from_le_bytes(buffer[4..8].try_into().unwrap()),
        REG_DWORD
    );
    assert_eq!(u32::from_le_bytes(buffer[8..12].try_into().unwrap()), 4);
    assert_eq!(&buffer[12..16], &7u32.to_le_bytes());

    assert_eq!(
        machine.registry_value(pdo, "MODE"),
        Some(RegistryValue {
            kind: REG_DWORD,
            data: 7u32.to_le_bytes().to_vec()
        })
    );
    machine.set_registry_value(pdo, "FromInf", REG_BINARY, &[1, 2, 3]);
    let (status, _, buffer) = query(key, "FromInf", 15);
    assert_eq!(status, STATUS_SUCCESS);
    assert_eq!(&buffer[12..15], &[1, 2, 3]);

    // SAFETY: the test's own live buffers, names and handles (or the bad value under test, which the routine only looks up).
    assert_eq!(unsafe { ZwFlushKey(key) }, STATUS_SUCCESS);
    assert_eq!(machine.registry_flushes(), 1);
    assert_eq!(close(key), STATUS_SUCCESS);
    machine.assert_clean();
}

#[test]
fn short_buffers_get_the_size_they_need_and_missing_values_are_not_found() {
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    let pdo = machine.create_pdo("gpu");
    let (_, key) = open_driver_key(pdo, KEY_ALL_ACCESS);
    assert_eq!(set(key, "Blob", REG_BINARY, &[9; 100]), STATUS_SUCCESS);
    let (status, needed, buffer) = query(key, "Blob", 0);
    assert_eq!((status, needed), (STATUS_BUFFER_TOO_SMALL, 112));
    assert!(buffer.is_empty());
    let (status, needed, buffer) = query(key, "Blob", 11);
    assert_eq!((status, needed), (STATUS_BUFFER_TOO_SMALL, 112));
    assert!(buffer.iter().all(|&b| b == 0xAA), "nothing written");
    let (status, needed, buffer) = query(key, "Blob", 20);
    assert_eq!((status, needed), (STATUS_BUFFER_OVERFLOW, 112));
    assert_eq!(u32::from_le_bytes(buffer[8..12].try_into().unwrap()), 100);
    assert!(buffer[12..].iter().all(|&b| b == 0xAA), "no partial data");
    assert_eq!(query(key, "Nothing", 64).0, STATUS_OBJECT_NAME_NOT_FOUND);
    close(key);
    machine.assert_clean();
}

#[test]
fn the_registry_is_per_device_and_per_machine_and_outlives_handles() {
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    let a = machine.create_pdo("a");
    let b = machine.create_pdo("b");
    assert_ne!(machine.driver_key_path(a), machine.driver_key_path(b));
    assert!(machine
        .driver_key_path(a)
        .starts_with("\\Registry\\Machine\\System\\CurrentControlSet\\Control\\Class\\"));
    let (_, key) = open_driver_key(a, KEY_WRITE);
    assert_eq!(set(key, "Only", REG_SZ, &[b'a', 0, 0, 0]), STATUS_SUCCESS);
    close(key);
    assert!(machine.registry_value(a, "Only").is_some());
    assert_eq!(machine.registry_value(b, "Only"), None);
    // Another open of the same key sees it.
    let (_, key) = open_driver_key(a, KEY_READ);
    assert_eq!(query(key, "Only", 64).0, STATUS_SUCCESS);
    close(key);
    // Another machine has its own registry.
    drop(_g);
    let other = Machine::new(MachineConfig::default());
    let other_pdo = other.create_pdo("a");
    assert_eq!(other.registry_value(other_pdo, "Only"), None);
    machine.assert_clean();
}

#[test]
fn subkeys_are_created_one_level_at_a_time_and_opened_at_any_depth() {
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    let pdo = machine.create_pdo("gpu");
    let (_, root) = open_driver_key(pdo, KEY_ALL_ACCESS);
    let mut sub = name("Sub");
    let mut oa = OBJECT_ATTRIBUTES::new(&mut sub.s, OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE, root);
    let mut key: HANDLE = null_mut();
    let mut disposition = 0;
    // SAFETY: valid arguments.
    let status = unsafe {
        ZwCreateKey(
            &mut key,
            KEY_ALL_ACCESS,
            &mut oa,
            0,
            null_mut(),
            REG_OPTION_NON_VOLATILE,
            &mut disposition,
        )
    };
    assert_eq!((status, disposition), (STATUS_SUCCESS, REG_CREATED_NEW_KEY));
    assert_eq!(
        set(key, "V", REG_DWORD, &1u32.to_le_bytes()),
        STATUS_SUCCESS
    );
    close(key);
    // Again: opened, not created.
    // SAFETY: the test's own live buffers, names and handles (or the bad value under test, which the routine only looks up).
    let status = unsafe {
        ZwCreateKey(
            &mut key,
            KEY_READ,
            &mut oa,
            0,
            null_mut(),
            0,
            &mut disposition,
        )
    };
    assert_eq!(
        (status, disposition),
        (STATUS_SUCCESS, REG_OPENED_EXISTING_KEY)
    );
    close(key);
    assert_eq!(
        machine.registry_value(pdo, "sub\\v").unwrap().data,
        1u32.to_le_bytes()
    );

    // Two missing levels at once: the parent does not exist.
    let mut deep = name("X\\Y");
    let mut oa = OBJECT_ATTRIBUTES::new(&mut deep.s, OBJ_KERNEL_HANDLE, root);
    // SAFETY: the test's own live buffers, names and handles (or the bad value under test, which the routine only looks up).
    let status = unsafe {
        ZwCreateKey(
            &mut key,
            KEY_ALL_ACCESS,
            &mut oa,
            0,
            null_mut(),
            0,
            null_mut(),
        )
    };
    assert_eq!(status, STATUS_OBJECT_NAME_NOT_FOUND);
    // ZwOpenKey never creates.
    // SAFETY: the test's own live buffers, names and handles (or the bad value under test, which the routine only looks up).
    let status = unsafe { ZwOpenKey(&mut key, KEY_READ, &mut oa) };
    assert_eq!(status, STATUS_OBJECT_NAME_NOT_FOUND);
    machine.set_registry_value(pdo, "X\\Y\\Z", REG_DWORD, &2u32.to_le_bytes());
    // SAFETY: the test's own live buffers, names and handles (or the bad value under test, which the routine only looks up).
    let status = unsafe { ZwOpenKey(&mut key, KEY_READ, &mut oa) };
    assert_eq!(status, STATUS_SUCCESS);
    assert_eq!(query(key, "Z", 64).0, STATUS_SUCCESS);
    close(key);
    close(root);
    machine.assert_clean();
}

#[test]
fn access_rights_are_enforced() {
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    let pdo = machine.create_pdo("gpu");
    let (_, read_only) = open_driver_key(pdo, KEY_READ);
    assert_eq!(
        set(read_only, "V", REG_DWORD, &[0; 4]),
        STATUS_ACCESS_DENIED
    );
    let (_, write_only) = open_driver_key(pdo, KEY_SET_VALUE);
    assert_eq!(set(write_only, "V", REG_DWORD, &[0; 4]), STATUS_SUCCESS);
    assert_eq!(query(write_only, "V", 64).0, STATUS_ACCESS_DENIED);
    let mut sub = name("Sub");
    let mut oa = OBJECT_ATTRIBUTES::new(&mut sub.s, OBJ_KERNEL_HANDLE, read_only);
    let mut key: HANDLE = null_mut();
    // SAFETY: the test's own live buffers, names and handles (or the bad value under test, which the routine only looks up).
    let status = unsafe {
        ZwCreateKey(
            &mut key,
            KEY_ALL_ACCESS,
            &mut oa,
            0,
            null_mut(),
            0,
            null_mut(),
        )
    };
    assert_eq!(status, STATUS_ACCESS_DENIED);
    close(read_only);
    close(write_only);
    machine.assert_clean();
}

#[test]
fn bad_stale_and_wrong_kind_handles_are_reported_and_invalid() {
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    let pdo = machine.create_pdo("gpu");
    let (_, key) = open_driver_key(pdo, KEY_ALL_ACCESS);
    assert_eq!(close(key), STATUS_SUCCESS);
    let check = |status: NTSTATUS, expected: NTSTATUS, words: &str| {
        assert_eq!(status, expected);
        let v = machine.take_violations();
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(
            (v[0].bugcheck, v[0].code),
            (bugcheck::NTSIM_CHECK, ntsim_code::BAD_HANDLE)
        );
        assert!(v[0].message.contains(words), "{}", v[0].message);
    };
    check(
        set(key, "V", REG_DWORD, &[0; 4]),
        STATUS_INVALID_HANDLE,
        "already closed",
    );
    check(
        query(key, "V", 64).0,
        STATUS_INVALID_HANDLE,
        "already closed",
    );
    check(
        // SAFETY: the test's own live buffers, names and handles (or the bad value under test, which the routine only looks up).
        unsafe { ZwFlushKey(key) },
        STATUS_INVALID_HANDLE,
        "already closed",
    );
    check(close(key), STATUS_INVALID_HANDLE, "closed twice");
    check(
        close(0x1234 as HANDLE),
        STATUS_INVALID_HANDLE,
        "not an open handle",
    );
    check(
        query(null_mut(), "V", 64).0,
        STATUS_INVALID_HANDLE,
        "not an open handle",
    );
    // A handle of another machine is foreign here.
    let other = Machine::new(MachineConfig::default());
    let foreign = {
        let _o = other.enter();
        let (_, h) = open_driver_key(other.create_pdo("x"), KEY_READ);
        h
    };
    // Handles are numbered per machine: the other machine's first handle is this machine's
    // first (closed) one.
    check(query(foreign, "V", 64).0, STATUS_INVALID_HANDLE, "");
    // A file handle is not a key.
    machine.add_file("\\SystemRoot\\f.bin", b"x");
    let file = open_file("\\SystemRoot\\f.bin").1;
    check(
        query(file, "V", 64).0,
        STATUS_OBJECT_TYPE_MISMATCH,
        "not a registry key",
    );
    close(file);
    machine.assert_clean();
    let _o = other.enter();
    close(foreign);
    other.assert_clean();
}

#[test]
fn malformed_arguments_are_reported() {
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    let pdo = machine.create_pdo("gpu");
    // Not a PDO, bad flags: STATUS_INVALID_PARAMETER as documented (no report).
    let mut key: HANDLE = null_mut();
    let mut not_a_pdo = [0u8; 512];
    // SAFETY: the test's own live buffers, names and handles (or the bad value under test, which the routine only looks up).
    let status = unsafe {
        IoOpenDeviceRegistryKey(
            not_a_pdo.as_mut_ptr().cast(),
            PLUGPLAY_REGKEY_DRIVER,
            KEY_READ,
            &mut key,
        )
    };
    assert_eq!(status, STATUS_INVALID_PARAMETER);
    // SAFETY: the test's own live buffers, names and handles (or the bad value under test, which the routine only looks up).
    let status = unsafe {
        IoOpenDeviceRegistryKey(
            pdo.as_ptr(),
            PLUGPLAY_REGKEY_DRIVER | PLUGPLAY_REGKEY_DEVICE,
            KEY_READ,
            &mut key,
        )
    };
    assert_eq!(status, STATUS_INVALID_PARAMETER);
    assert!(machine.take_violations().is_empty());
    let arg = (bugcheck::NTSIM_CHECK, ntsim_code::BAD_ARGUMENT);
    // SAFETY: the test's own live buffers, names and handles (or the bad value under test, which the routine only looks up).
    let status = unsafe {
        IoOpenDeviceRegistryKey(pdo.as_ptr(), PLUGPLAY_REGKEY_DRIVER, KEY_READ, null_mut())
    };
    assert_eq!(status, STATUS_INVALID_PARAMETER);
    assert_eq!(codes(&machine), vec![arg]);

    let (_, key) = open_driver_key(pdo, KEY_ALL_ACCESS);
    // SAFETY: the test's own live buffers, names and handles (or the bad value under test, which the routine only looks up).
    let status = unsafe { ZwSetValueKey(key, null_mut(), 0, REG_DWORD, null_mut(), 0) };
    assert_eq!(status, STATUS_INVALID_PARAMETER);
    let mut n = name("V");
    // SAFETY: the test's own live buffers, names and handles (or the bad value under test, which the routine only looks up).
    let status = unsafe { ZwSetValueKey(key, &mut n.s, 0, REG_DWORD, null_mut(), 4) };
    assert_eq!(status, STATUS_INVALID_PARAMETER);
    let mut odd = name("V");
    odd.s.Length = 1;
    // SAFETY: the test's own live buffers, names and handles (or the bad value under test, which the routine only looks up).
    let status = unsafe { ZwSetValueKey(key, &mut odd.s, 0, REG_DWORD, null_mut(), 0) };
    assert_eq!(status, STATUS_INVALID_PARAMETER);
    // SAFETY: the test's own live buffers, names and handles (or the bad value under test, which the routine only looks up).
    let status = unsafe {
        ZwQueryValueKey(
            key,
            &mut n.s,
            KEY_VALUE_INFORMATION_CLASS::KeyValuePartialInformation,
            null_mut(),
            0,
            null_mut(),
        )
    };
    assert_eq!(status, STATUS_INVALID_PARAMETER);
    let mut oa = OBJECT_ATTRIBUTES::new(&mut n.s, 0, key);
    // Half the real size (48 on x64, 24 on x86).
    oa.Length = (core::mem::size_of::<OBJECT_ATTRIBUTES>() / 2) as u32;
    let mut sub: HANDLE = null_mut();
    assert_eq!(
        // SAFETY: the test's own live buffers, names and handles (or the bad value under test, which the routine only looks up).
        unsafe { ZwOpenKey(&mut sub, KEY_READ, &mut oa) },
        STATUS_INVALID_PARAMETER
    );
    assert_eq!(codes(&machine), vec![arg; 5]);
    close(key);
    machine.assert_clean();
}

#[test]
fn registry_routines_are_passive_level_only() {
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    let pdo = machine.create_pdo("gpu");
    let (_, key) = open_driver_key(pdo, KEY_ALL_ACCESS);
    // SAFETY: raised and lowered on this processor.
    let old = unsafe { KeRaiseIrql(DISPATCH_LEVEL) };
    let status = set(key, "V", REG_DWORD, &[0; 4]);
    let (io_status, _) = open_driver_key(pdo, KEY_READ);
    // SAFETY: the test's own live buffers, names and handles (or the bad value under test, which the routine only looks up).
    unsafe { KeLowerIrql(old) };
    assert_eq!(status, STATUS_INVALID_DEVICE_STATE);
    assert_eq!(io_status, STATUS_INVALID_DEVICE_STATE);
    let v = machine.take_violations();
    assert_eq!(v.len(), 2);
    assert!(v
        .iter()
        .all(|v| v.bugcheck == bugcheck::IRQL_NOT_LESS_OR_EQUAL));
    assert_eq!(machine.registry_value(pdo, "V"), None);
    close(key);
    machine.assert_clean();
}

#[test]
fn an_open_handle_is_a_leak() {
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    let pdo = machine.create_pdo("gpu");
    let (_, key) = open_driver_key(pdo, KEY_READ);
    let leaks = machine.leaks();
    assert_eq!(leaks.count(LeakKind::Handle), 1);
    assert!(
        leaks.to_string().contains("IoOpenDeviceRegistryKey"),
        "{leaks}"
    );
    assert!(
        leaks
            .to_string()
            .contains("{4d36e968-e325-11ce-bfc1-08002be10318}"),
        "{leaks}"
    );
    close(key);
    assert!(machine.leaks().is_empty());
}

fn open_file(path: &str) -> (NTSTATUS, HANDLE, IO_STATUS_BLOCK) {
    let mut n = name(path);
    let mut oa = OBJECT_ATTRIBUTES::new(
        &mut n.s,
        OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE,
        null_mut(),
    );
    let mut handle: HANDLE = null_mut();
    let mut iosb = IO_STATUS_BLOCK {
        Status: STATUS_PENDING,
        Information: 77,
    };
    // SAFETY: valid arguments.
    let status = unsafe {
        ZwCreateFile(
            &mut handle,
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
    (status, handle, iosb)
}

#[test]
fn files_open_read_and_report_their_size() {
    let machine = Machine::new(MachineConfig::default());
    let _g = machine.enter();
    let contents: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    machine.add_file("\\SystemRoot\\System32\\vprs.bin", &contents);
    let (status, file, iosb) = open_file("\\systemroot\\system32\\VPRS.BIN");
    assert_eq!(
        (status, iosb.Status, iosb.Information),
        (STATUS_SUCCESS, STATUS_SUCCESS, 1)
    );

    let mut info = FILE_STANDARD_INFORMATION::default();
    let mut iosb = IO_STATUS_BLOCK {
        Status: STATUS_PENDING,
        Information: 0,
    };
    // SAFETY: the test's own live buffers, names and handles (or the bad value under test, which the routine only looks up).
    let status = unsafe {
        ZwQueryInformationFile(
            file,
            &mut iosb,
            (&mut info as *mut FILE_STANDARD_INFORMATION).cast(),
            24,
            FILE_INFORMATION_CLASS::FileStandardInformation,
        )
    };
    assert_eq!(status, STATUS_SUCCESS);
    assert_eq!(info.EndOfFile.0, 5000);
    // SAFETY: the test's own live buffers, names and handles (or the bad value under test, which the routine only looks up).
    let status = unsafe {
        ZwQueryInformationFile(
            file,
            &mut iosb,
            (&mut info as *mut FILE_STANDARD_INFORMATION).cast(),
            23,
            FILE_INFORMATION_CLASS::FileStandardInformation,
        )
    };
    assert_eq!(status, NTSTATUS(0xC000_0004_u32 as i32));

    // Sequential reads from the current position, then an explicit offset, then the end.
    let mut buffer = vec![0u8; 3000];
    let read = |buffer: &mut [u8], offset: Option<i64>| {
        let mut iosb = IO_STATUS_BLOCK {
            Status: STATUS_PENDING,
            Information: 0,
        };
        let mut at = LARGE_INTEGER::new(offset.unwrap_or(0) as u64);
        // SAFETY: the test's own live buffers, names and handles (or the bad value under test, which the routine only looks up).
        let status = unsafe {
            ZwReadFile(
                file,
                null_mut(),
                null_mut(),
                null_mut(),
                &mut iosb,
                buffer.as_mut_ptr().cast(),
                buffer.len() as u32,
                if offset.is_some() {
                    &mut at
                } else {
                    null_mut()
                },
                null_mut(),
            )
        };
        (status, iosb.Information)
    };
    assert_eq!(read(&mut buffer, None), (STATUS_SUCCESS, 3000));
    assert_eq!(buffer[..], contents[..3000]);
    assert_eq!(read(&mut buffer, None), (STATUS_SUCCESS, 2000));
    assert_eq!(buffer[..2000], contents[3000..]);
    assert_eq!(read(&mut buffer, None), (STATUS_END_OF_FILE, 0));
    assert_eq!(read(&mut buffer[..10], Some(4995)), (STATUS_SUCCESS, 5));
    assert_eq!(buffer[..5], contents[4995..]);
    assert_eq!(close(file), STATUS_SUCCESS);

    let (status, _, iosb) = open_file("\\SystemRoot\\missing.bin");
    assert_eq!(
        (status, iosb.Status),
        (STATUS_OBJECT_NAME_NOT_FOUND, STATUS_OBJECT_NAME_NOT_FOUND)
    );
    machine.assert_clean();
}
