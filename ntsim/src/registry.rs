//! The registry: one per machine, so what a driver wrote survives unloading and reloading it
//! on the same machine, and each device has its own keys.
//!
//! C interface simulated: `IoOpenDeviceRegistryKey` (a PDO's driver key, its "software key",
//! and its device key, its "hardware key"), `ZwCreateKey`, `ZwOpenKey`, `ZwQueryValueKey`
//! (`KeyValuePartialInformation`), `ZwSetValueKey`, `ZwFlushKey`; handles are closed with
//! `ZwClose` ([`crate::handle`]). All are PASSIVE_LEVEL only.
//!
//! Keys are named by full paths, compared case-insensitively as Windows does:
//!
//! | key | path |
//! |---|---|
//! | a PDO's driver key (`PLUGPLAY_REGKEY_DRIVER`) | `\Registry\Machine\System\CurrentControlSet\Control\Class\{4d36e968-e325-11ce-bfc1-08002be10318}\NNNN` (the display class; NNNN numbers the machine's devices in the order their keys are first asked for) |
//! | its device key (`PLUGPLAY_REGKEY_DEVICE`) | `\Registry\Machine\System\CurrentControlSet\Enum\NTSIM\NNNN\Device Parameters` |
//! | the hardware description | `\Registry\Machine\Hardware\Description\System`, as the boot loader leaves it on an ACPI PC: `Identifier` "AT/AT COMPATIBLE" and, below `MultifunctionAdapter\0`, the PCI bus (`Identifier` "PCI", `Configuration Data` a `CM_FULL_RESOURCE_DESCRIPTOR` for PCIBus bus 0 without partial descriptors, `Component Information` 16 zero bytes); no ARC `DisplayController` keys. [`Machine::set_hardware_value`] adds others |
//!
//! As on Windows, `ZwCreateKey` creates one level: the parent must exist. Access rights are
//! checked: querying needs `KEY_QUERY_VALUE`, setting `KEY_SET_VALUE`, creating a subkey
//! `KEY_CREATE_SUB_KEY` on the root handle (STATUS_ACCESS_DENIED otherwise).
//!
//! # Harness
//!
//! ```ignore
//! machine.set_registry_value(pdo, "Settings\\Mode", REG_DWORD, &3u32.to_le_bytes());
//! let value = machine.registry_value(pdo, "Settings\\Mode").unwrap();
//! assert_eq!((value.kind, value.data), (REG_DWORD, 3u32.to_le_bytes().to_vec()));
//! ```

use crate::handle::Object;
use crate::handle::{bad_argument, read_object_attributes, read_unicode, require_passive, Kind};
use crate::machine::{cpu, Machine, State};
use crate::pdo::Pdo;
use ddk_sys::*;
use std::collections::{BTreeMap, HashMap};

const CLASS_KEY: &str =
    "\\Registry\\Machine\\System\\CurrentControlSet\\Control\\Class\\{4d36e968-e325-11ce-bfc1-08002be10318}";
const ENUM_KEY: &str = "\\Registry\\Machine\\System\\CurrentControlSet\\Enum\\NTSIM";

/// One value of a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryValue {
    /// `REG_SZ`, `REG_BINARY`, `REG_DWORD`, ...
    pub kind: u32,
    /// The data exactly as stored (a string's terminator is there only if the writer wrote it).
    pub data: Vec<u8>,
}

struct Key {
    /// Values by lower-case name: (name as written, value).
    values: BTreeMap<String, (String, RegistryValue)>,
}

impl Key {
    /// Creates or replaces the value `name` (matched case-insensitively, kept as written).
    fn put(&mut self, name: &str, value: RegistryValue) {
        self.values
            .insert(name.to_lowercase(), (name.to_string(), value));
    }
}

#[derive(Default)]
pub(crate) struct Registry {
    /// Keys by lower-case full path.
    keys: BTreeMap<String, Key>,
    /// Instance number of each PDO that has keys.
    instances: HashMap<usize, u32>,
    flushes: u64,
}

/// The hardware description tree's root.
pub const HARDWARE_SYSTEM: &str = "\\Registry\\Machine\\Hardware\\Description\\System";

/// `REG_FULL_RESOURCE_DESCRIPTOR`.
const REG_FULL_RESOURCE_DESCRIPTOR: u32 = 9;

impl Registry {
    /// A registry with the hardware description an ACPI PC's boot loader writes.
    pub(crate) fn with_hardware_description() -> Registry {
        let mut r = Registry::default();
        // CM_FULL_RESOURCE_DESCRIPTOR: InterfaceType, BusNumber, then an empty
        // CM_PARTIAL_RESOURCE_LIST (Version 1, Revision 1, Count 0).
        let full = |interface: i32| -> Vec<u8> {
            let mut d = interface.to_le_bytes().to_vec();
            d.extend_from_slice(&0u32.to_le_bytes());
            d.extend_from_slice(&1u16.to_le_bytes());
            d.extend_from_slice(&1u16.to_le_bytes());
            d.extend_from_slice(&0u32.to_le_bytes());
            d
        };
        let sz = |s: &str| -> Vec<u8> {
            s.encode_utf16()
                .chain([0])
                .flat_map(u16::to_le_bytes)
                .collect()
        };
        let adapter = format!("{HARDWARE_SYSTEM}\\MultifunctionAdapter\\0");
        for (key, name, kind, data) in [
            (
                HARDWARE_SYSTEM.to_string(),
                "Identifier",
                REG_SZ,
                sz("AT/AT COMPATIBLE"),
            ),
            (adapter.clone(), "Identifier", REG_SZ, sz("PCI")),
            (
                adapter.clone(),
                "Configuration Data",
                REG_FULL_RESOURCE_DESCRIPTOR,
                full(INTERFACE_TYPE::PCIBus.0),
            ),
            (adapter, "Component Information", REG_BINARY, vec![0; 16]),
        ] {
            r.set(&key, name, kind, data);
        }
        r
    }

    /// Sets a value, creating its key and the key's ancestors.
    fn set(&mut self, key: &str, name: &str, kind: u32, data: Vec<u8>) {
        self.ensure(key);
        let k = self.key(key).expect("ensured");
        k.put(name, RegistryValue { kind, data });
    }

    fn exists(&self, path: &str) -> bool {
        self.keys.contains_key(&path.to_lowercase())
    }

    /// Creates `path` and every missing ancestor.
    fn ensure(&mut self, path: &str) {
        let mut at = 0;
        loop {
            let end = path[at..].find('\\').map(|i| at + i);
            let prefix = &path[..end.unwrap_or(path.len())];
            if !prefix.is_empty() {
                self.keys
                    .entry(prefix.to_lowercase())
                    .or_insert_with(|| Key {
                        values: BTreeMap::new(),
                    });
            }
            match end {
                Some(e) => at = e + 1,
                None => return,
            }
        }
    }

    fn key(&mut self, path: &str) -> Option<&mut Key> {
        self.keys.get_mut(&path.to_lowercase())
    }

    fn instance(&mut self, pdo: usize) -> u32 {
        let next = self.instances.len() as u32;
        *self.instances.entry(pdo).or_insert(next)
    }

    fn driver_key(&mut self, pdo: usize) -> String {
        let path = format!("{CLASS_KEY}\\{:04}", self.instance(pdo));
        self.ensure(&path);
        path
    }

    fn device_key(&mut self, pdo: usize) -> String {
        let path = format!("{ENUM_KEY}\\{:04}\\Device Parameters", self.instance(pdo));
        self.ensure(&path);
        path
    }
}

/// Splits `name` into components; `None` if a component is empty (`a\\b`, a trailing `\`).
fn components(name: &str) -> Option<Vec<&str>> {
    let parts: Vec<&str> = name.split('\\').collect();
    parts.iter().all(|p| !p.is_empty()).then_some(parts)
}

/// The full path `name` names relative to `root` (or absolutely when `root` is NULL), after
/// checking the root handle. Reports malformed names.
fn resolve(
    st: &mut State,
    routine: &'static str,
    root: HANDLE,
    name: &str,
) -> Result<(String, ACCESS_MASK), NTSTATUS> {
    if root.is_null() {
        let rest = name.strip_prefix('\\').unwrap_or("");
        if components(rest).is_none() || !rest.to_lowercase().starts_with("registry\\") {
            return Err(STATUS_OBJECT_NAME_INVALID);
        }
        return Ok((name.to_string(), KEY_ALL_ACCESS));
    }
    let (base, access) = match st.handle_object(routine, root, Kind::Key)? {
        Object::Key { path, access } => (path.clone(), *access),
        Object::File { .. } => unreachable!("handle_object checked the kind"),
    };
    if name.is_empty() {
        return Ok((base, access));
    }
    if components(name).is_none() {
        return Err(STATUS_OBJECT_NAME_INVALID);
    }
    Ok((format!("{base}\\{name}"), access))
}

/// The key path and access behind a key handle (reported if bad).
fn key_handle(
    st: &mut State,
    routine: &'static str,
    handle: HANDLE,
) -> Result<(String, ACCESS_MASK), NTSTATUS> {
    match st.handle_object(routine, handle, Kind::Key)? {
        Object::Key { path, access } => Ok((path.clone(), *access)),
        Object::File { .. } => unreachable!("handle_object checked the kind"),
    }
}

/// `IoOpenDeviceRegistryKey`: a handle to the PDO's driver key (`PLUGPLAY_REGKEY_DRIVER`) or
/// device key (`PLUGPLAY_REGKEY_DEVICE`), created on first use. STATUS_INVALID_PARAMETER for
/// anything but a PDO of this machine or another combination of flags (hardware profiles are
/// not simulated). PASSIVE_LEVEL.
///
/// # Safety
/// `DeviceRegKey` is NULL or valid for a write of a handle.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn IoOpenDeviceRegistryKey(
    DeviceObject: *mut DEVICE_OBJECT,
    DevInstKeyType: ULONG,
    DesiredAccess: ACCESS_MASK,
    DeviceRegKey: *mut HANDLE,
) -> NTSTATUS {
    const R: &str = "IoOpenDeviceRegistryKey";
    let cpu = cpu();
    if !require_passive(&cpu, R) {
        return STATUS_INVALID_DEVICE_STATE;
    }
    let mut st = cpu.lock();
    if DeviceRegKey.is_null() {
        bad_argument(&mut st, R, 4, "NULL DeviceRegKey");
        return STATUS_INVALID_PARAMETER;
    }
    let pdo = DeviceObject as usize;
    if st.pdos.name(pdo).is_none() {
        return STATUS_INVALID_PARAMETER;
    }
    let path = match DevInstKeyType {
        PLUGPLAY_REGKEY_DRIVER => st.registry.driver_key(pdo),
        PLUGPLAY_REGKEY_DEVICE => st.registry.device_key(pdo),
        _ => return STATUS_INVALID_PARAMETER,
    };
    let handle = st.open_handle(
        Object::Key {
            path,
            access: DesiredAccess,
        },
        R,
    );
    // SAFETY: checked non-NULL; writable (contract).
    unsafe { DeviceRegKey.write(handle) };
    STATUS_SUCCESS
}

/// `ZwCreateKey`: opens the key `ObjectAttributes` names, creating it if it does not exist
/// (its parent must). `*Disposition` (if given) says which. PASSIVE_LEVEL.
///
/// # Safety
/// Pointer arguments are NULL or valid for their WDK use.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn ZwCreateKey(
    KeyHandle: *mut HANDLE,
    DesiredAccess: ACCESS_MASK,
    ObjectAttributes: POBJECT_ATTRIBUTES,
    _TitleIndex: ULONG,
    _Class: PUNICODE_STRING,
    _CreateOptions: ULONG,
    Disposition: *mut ULONG,
) -> NTSTATUS {
    // SAFETY: forwarded contract.
    unsafe {
        open_or_create(
            "ZwCreateKey",
            KeyHandle,
            DesiredAccess,
            ObjectAttributes,
            Some(Disposition),
        )
    }
}

/// `ZwOpenKey`: opens an existing key (any depth below the root handle).
/// STATUS_OBJECT_NAME_NOT_FOUND if it does not exist. PASSIVE_LEVEL.
///
/// # Safety
/// Pointer arguments are NULL or valid for their WDK use.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn ZwOpenKey(
    KeyHandle: *mut HANDLE,
    DesiredAccess: ACCESS_MASK,
    ObjectAttributes: POBJECT_ATTRIBUTES,
) -> NTSTATUS {
    // SAFETY: forwarded contract.
    unsafe {
        open_or_create(
            "ZwOpenKey",
            KeyHandle,
            DesiredAccess,
            ObjectAttributes,
            None,
        )
    }
}

/// # Safety
/// As `ZwCreateKey`; `create` is `Some(Disposition)` for it, `None` for `ZwOpenKey`.
unsafe fn open_or_create(
    routine: &'static str,
    key_handle: *mut HANDLE,
    access: ACCESS_MASK,
    oa: POBJECT_ATTRIBUTES,
    create: Option<*mut ULONG>,
) -> NTSTATUS {
    let cpu = cpu();
    if !require_passive(&cpu, routine) {
        return STATUS_INVALID_DEVICE_STATE;
    }
    let mut st = cpu.lock();
    if key_handle.is_null() {
        bad_argument(&mut st, routine, 1, "NULL KeyHandle");
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: NULL or valid (contract).
    let Some((root, name)) = (unsafe { read_object_attributes(&mut st, routine, 3, oa) }) else {
        return STATUS_INVALID_PARAMETER;
    };
    let (path, root_access) = match resolve(&mut st, routine, root, &name) {
        Ok(r) => r,
        Err(status) => return status,
    };
    let disposition = if st.registry.exists(&path) {
        REG_OPENED_EXISTING_KEY
    } else {
        let Some(_) = create else {
            return STATUS_OBJECT_NAME_NOT_FOUND;
        };
        let parent = &path[..path.rfind('\\').unwrap_or(0)];
        if !st.registry.exists(parent) {
            return STATUS_OBJECT_NAME_NOT_FOUND;
        }
        if !root.is_null() && root_access & KEY_CREATE_SUB_KEY == 0 {
            return STATUS_ACCESS_DENIED;
        }
        st.registry.ensure(&path);
        REG_CREATED_NEW_KEY
    };
    let handle = st.open_handle(Object::Key { path, access }, routine);
    // SAFETY: checked non-NULL; writable (contract).
    unsafe { key_handle.write(handle) };
    if let Some(d) = create.filter(|d| !d.is_null()) {
        // SAFETY: non-NULL, writable (contract).
        unsafe { d.write(disposition) };
    }
    STATUS_SUCCESS
}

/// What ZwQueryValueKey and ZwSetValueKey check first: PASSIVE_LEVEL, the key handle, the value
/// name (argument 2). Gives the locked machine, the key's path and access, and the name.
///
/// # Safety
/// `value_name` is NULL or a valid `UNICODE_STRING`.
unsafe fn value_call<'a>(
    cpu: &'a crate::machine::Cpu,
    routine: &'static str,
    key: HANDLE,
    value_name: PUNICODE_STRING,
) -> Result<
    (
        std::sync::MutexGuard<'a, State>,
        String,
        ACCESS_MASK,
        String,
    ),
    NTSTATUS,
> {
    if !require_passive(cpu, routine) {
        return Err(STATUS_INVALID_DEVICE_STATE);
    }
    let mut st = cpu.lock();
    let (path, access) = key_handle(&mut st, routine, key)?;
    // SAFETY: NULL or valid (contract).
    match unsafe { read_unicode(value_name) } {
        Ok(name) => Ok((st, path, access, name)),
        Err(what) => {
            bad_argument(&mut st, routine, 2, &format!("ValueName: {what}"));
            Err(STATUS_INVALID_PARAMETER)
        }
    }
}

/// Offset of `Data` in `KEY_VALUE_PARTIAL_INFORMATION`.
const PARTIAL_HEADER: usize = core::mem::offset_of!(KEY_VALUE_PARTIAL_INFORMATION, Data);

/// `ZwQueryValueKey` with `KeyValuePartialInformation`: the value's type and data.
/// `*ResultLength` is always the size the whole answer needs; a buffer smaller than the header
/// gets STATUS_BUFFER_TOO_SMALL and nothing, one that holds the header but not all the data
/// gets the header and STATUS_BUFFER_OVERFLOW. STATUS_OBJECT_NAME_NOT_FOUND for a value that
/// does not exist. Other information classes are not simulated. PASSIVE_LEVEL.
///
/// # Safety
/// Pointer arguments are NULL or valid for their WDK use (`KeyValueInformation` for `Length`
/// bytes).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn ZwQueryValueKey(
    KeyHandle: HANDLE,
    ValueName: PUNICODE_STRING,
    KeyValueInformationClass: KEY_VALUE_INFORMATION_CLASS,
    KeyValueInformation: PVOID,
    Length: ULONG,
    ResultLength: *mut ULONG,
) -> NTSTATUS {
    const R: &str = "ZwQueryValueKey";
    let cpu = cpu();
    // SAFETY: forwarded contract.
    let (mut st, path, access, name) = match unsafe { value_call(&cpu, R, KeyHandle, ValueName) } {
        Ok(v) => v,
        Err(status) => return status,
    };
    if ResultLength.is_null() {
        bad_argument(&mut st, R, 6, "NULL ResultLength");
        return STATUS_INVALID_PARAMETER;
    }
    if KeyValueInformation.is_null() && Length != 0 {
        bad_argument(
            &mut st,
            R,
            4,
            "NULL KeyValueInformation with a non-zero Length",
        );
        return STATUS_INVALID_PARAMETER;
    }
    if KeyValueInformationClass != KEY_VALUE_INFORMATION_CLASS::KeyValuePartialInformation {
        st.not_implemented("ZwQueryValueKey (information classes other than partial)");
        return STATUS_NOT_IMPLEMENTED;
    }
    if access & KEY_QUERY_VALUE == 0 {
        return STATUS_ACCESS_DENIED;
    }
    let Some(value) = st
        .registry
        .key(&path)
        .and_then(|k| k.values.get(&name.to_lowercase()))
        .map(|(_, v)| v.clone())
    else {
        return STATUS_OBJECT_NAME_NOT_FOUND;
    };
    let needed = PARTIAL_HEADER + value.data.len();
    // SAFETY: checked non-NULL; writable (contract).
    unsafe { ResultLength.write(needed as ULONG) };
    let length = Length as usize;
    if length < PARTIAL_HEADER {
        return STATUS_BUFFER_TOO_SMALL;
    }
    let out = KeyValueInformation.cast::<u8>();
    let header = [0u32, value.kind, value.data.len() as u32];
    // SAFETY: the buffer holds `length >= PARTIAL_HEADER` bytes (contract); unaligned writes.
    unsafe {
        for (i, field) in header.iter().enumerate() {
            out.add(i * 4).cast::<u32>().write_unaligned(*field);
        }
    }
    if length < needed {
        return STATUS_BUFFER_OVERFLOW;
    }
    // SAFETY: the buffer holds `needed` bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(
            value.data.as_ptr(),
            out.add(PARTIAL_HEADER),
            value.data.len(),
        )
    };
    STATUS_SUCCESS
}

/// `ZwSetValueKey`: creates or replaces a value. PASSIVE_LEVEL.
///
/// # Safety
/// Pointer arguments are NULL or valid for their WDK use (`Data` for `DataSize` bytes).
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn ZwSetValueKey(
    KeyHandle: HANDLE,
    ValueName: PUNICODE_STRING,
    _TitleIndex: ULONG,
    Type: ULONG,
    Data: PVOID,
    DataSize: ULONG,
) -> NTSTATUS {
    const R: &str = "ZwSetValueKey";
    let cpu = cpu();
    // SAFETY: forwarded contract.
    let (mut st, path, access, name) = match unsafe { value_call(&cpu, R, KeyHandle, ValueName) } {
        Ok(v) => v,
        Err(status) => return status,
    };
    if Data.is_null() && DataSize != 0 {
        bad_argument(&mut st, R, 5, "NULL Data with a non-zero DataSize");
        return STATUS_INVALID_PARAMETER;
    }
    if access & KEY_SET_VALUE == 0 {
        return STATUS_ACCESS_DENIED;
    }
    let data = if DataSize == 0 {
        Vec::new()
    } else {
        // SAFETY: readable for DataSize bytes (contract), non-NULL.
        unsafe { std::slice::from_raw_parts(Data.cast::<u8>(), DataSize as usize).to_vec() }
    };
    let Some(key) = st.registry.key(&path) else {
        return STATUS_OBJECT_NAME_NOT_FOUND;
    };
    key.put(&name, RegistryValue { kind: Type, data });
    STATUS_SUCCESS
}

/// `ZwFlushKey`: the simulated registry is always "on disk"; counts the flush
/// ([`Machine::registry_flushes`]). PASSIVE_LEVEL.
///
/// # Safety
/// None beyond the routine's contract.
#[no_mangle]
#[ddk_sys::ntapi]
pub unsafe extern "ntapi" fn ZwFlushKey(KeyHandle: HANDLE) -> NTSTATUS {
    const R: &str = "ZwFlushKey";
    let cpu = cpu();
    if !require_passive(&cpu, R) {
        return STATUS_INVALID_DEVICE_STATE;
    }
    let mut st = cpu.lock();
    if let Err(status) = key_handle(&mut st, R, KeyHandle) {
        return status;
    }
    st.registry.flushes += 1;
    STATUS_SUCCESS
}

impl Machine {
    /// The full path of `pdo`'s driver key (created if it has none yet).
    pub fn driver_key_path(&self, pdo: Pdo) -> String {
        self.lock().registry.driver_key(pdo.as_ptr() as usize)
    }

    /// The value `name` of `pdo`'s driver key; `name` may name a subkey path
    /// (`"Sub\\Value"`), as `VideoPort*RegistryParameters` accept.
    pub fn registry_value(&self, pdo: Pdo, name: &str) -> Option<RegistryValue> {
        let mut st = self.lock();
        let base = st.registry.driver_key(pdo.as_ptr() as usize);
        let (key, value) = split_value_path(&base, name);
        st.registry
            .key(&key)
            .and_then(|k| k.values.get(&value.to_lowercase()))
            .map(|(_, v)| v.clone())
    }

    /// Writes the value `name` (subkeys created as needed) of `pdo`'s driver key, as an INF's
    /// AddReg would before the driver starts.
    pub fn set_registry_value(&self, pdo: Pdo, name: &str, kind: u32, data: &[u8]) {
        let mut st = self.lock();
        let base = st.registry.driver_key(pdo.as_ptr() as usize);
        let (key, value) = split_value_path(&base, name);
        st.registry.set(&key, value, kind, data.to_vec());
    }

    /// Writes a value below the hardware description tree (`path` relative to
    /// [`HARDWARE_SYSTEM`], keys created as needed), as a boot loader or HAL would: an ARC
    /// machine's `MultifunctionAdapter\0\DisplayController\0`, say.
    pub fn set_hardware_value(&self, path: &str, name: &str, kind: u32, data: &[u8]) {
        let key = if path.is_empty() {
            HARDWARE_SYSTEM.to_string()
        } else {
            format!("{HARDWARE_SYSTEM}\\{path}")
        };
        self.lock().registry.set(&key, name, kind, data.to_vec());
    }

    /// How many times `ZwFlushKey` succeeded on this machine.
    pub fn registry_flushes(&self) -> u64 {
        self.lock().registry.flushes
    }
}

/// (key path, value name) for a value path below `base`.
fn split_value_path<'a>(base: &str, name: &'a str) -> (String, &'a str) {
    match name.rfind('\\') {
        Some(i) => (format!("{base}\\{}", &name[..i]), &name[i + 1..]),
        None => (base.to_string(), name),
    }
}
