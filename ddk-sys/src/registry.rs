//! The registry and file interfaces of `wdm.h`: `OBJECT_ATTRIBUTES`, the key-value information
//! classes `ZwQueryValueKey` fills, the registry value types and access rights, the device
//! registry keys of `IoOpenDeviceRegistryKey`, and the `ZwCreateFile` / `ZwReadFile` /
//! `ZwQueryInformationFile` vocabulary. The routines themselves are in [`crate::routines`].

use crate::basic::*;
#[cfg_attr(target_pointer_width = "32", allow(unused_imports))]
use core::mem::{align_of, offset_of, size_of};

/// `ACCESS_MASK`.
pub type ACCESS_MASK = ULONG;

/// `OBJECT_ATTRIBUTES`: names an object, relative to `RootDirectory` when that is not NULL.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct OBJECT_ATTRIBUTES {
    /// `size_of::<OBJECT_ATTRIBUTES>()`.
    pub Length: ULONG,
    pub RootDirectory: HANDLE,
    pub ObjectName: PUNICODE_STRING,
    /// `OBJ_*` flags.
    pub Attributes: ULONG,
    pub SecurityDescriptor: PVOID,
    pub SecurityQualityOfService: PVOID,
}
pub type POBJECT_ATTRIBUTES = *mut OBJECT_ATTRIBUTES;

impl OBJECT_ATTRIBUTES {
    /// `InitializeObjectAttributes(&oa, name, attributes, root, NULL)`.
    pub fn new(name: PUNICODE_STRING, attributes: ULONG, root: HANDLE) -> Self {
        Self {
            Length: size_of::<Self>() as ULONG,
            RootDirectory: root,
            ObjectName: name,
            Attributes: attributes,
            SecurityDescriptor: core::ptr::null_mut(),
            SecurityQualityOfService: core::ptr::null_mut(),
        }
    }
}

pub const OBJ_CASE_INSENSITIVE: ULONG = 0x0000_0040;
pub const OBJ_KERNEL_HANDLE: ULONG = 0x0000_0200;

c_enum!(
    /// `KEY_VALUE_INFORMATION_CLASS` for `ZwQueryValueKey`.
    KEY_VALUE_INFORMATION_CLASS: u32 {
        KeyValueBasicInformation = 0, KeyValueFullInformation = 1, KeyValuePartialInformation = 2,
    }
);

/// `KEY_VALUE_PARTIAL_INFORMATION`: the header, then `DataLength` bytes of data from `Data`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct KEY_VALUE_PARTIAL_INFORMATION {
    pub TitleIndex: ULONG,
    /// `REG_*`.
    pub Type: ULONG,
    pub DataLength: ULONG,
    /// The first byte of the data (a C `UCHAR Data[1]`).
    pub Data: [UCHAR; 1],
}
pub type PKEY_VALUE_PARTIAL_INFORMATION = *mut KEY_VALUE_PARTIAL_INFORMATION;

/// Registry value types.
pub const REG_NONE: ULONG = 0;
pub const REG_SZ: ULONG = 1;
pub const REG_EXPAND_SZ: ULONG = 2;
pub const REG_BINARY: ULONG = 3;
pub const REG_DWORD: ULONG = 4;
pub const REG_MULTI_SZ: ULONG = 7;

/// `ZwCreateKey` create options and dispositions.
pub const REG_OPTION_NON_VOLATILE: ULONG = 0;
pub const REG_CREATED_NEW_KEY: ULONG = 1;
pub const REG_OPENED_EXISTING_KEY: ULONG = 2;

/// Access rights.
pub const KEY_QUERY_VALUE: ACCESS_MASK = 0x0001;
pub const KEY_SET_VALUE: ACCESS_MASK = 0x0002;
pub const KEY_CREATE_SUB_KEY: ACCESS_MASK = 0x0004;
pub const KEY_ENUMERATE_SUB_KEYS: ACCESS_MASK = 0x0008;
pub const KEY_NOTIFY: ACCESS_MASK = 0x0010;
pub const KEY_READ: ACCESS_MASK = 0x0002_0019;
pub const KEY_WRITE: ACCESS_MASK = 0x0002_0006;
pub const KEY_ALL_ACCESS: ACCESS_MASK = 0x000F_003F;
pub const SYNCHRONIZE: ACCESS_MASK = 0x0010_0000;
pub const GENERIC_READ: ACCESS_MASK = 0x8000_0000;
pub const FILE_READ_DATA: ACCESS_MASK = 0x0001;

/// `IoOpenDeviceRegistryKey`'s `DevInstKeyType` flags.
pub const PLUGPLAY_REGKEY_DEVICE: ULONG = 1;
pub const PLUGPLAY_REGKEY_DRIVER: ULONG = 2;
pub const PLUGPLAY_REGKEY_CURRENT_HWPROFILE: ULONG = 4;

/// `ZwCreateFile` arguments.
pub const FILE_ATTRIBUTE_NORMAL: ULONG = 0x0000_0080;
pub const FILE_SHARE_READ: ULONG = 0x0000_0001;
pub const FILE_OPEN: ULONG = 0x0000_0001;
pub const FILE_SYNCHRONOUS_IO_NONALERT: ULONG = 0x0000_0020;
pub const FILE_NON_DIRECTORY_FILE: ULONG = 0x0000_0040;

c_enum!(
    /// `FILE_INFORMATION_CLASS` (the classes this workspace names).
    FILE_INFORMATION_CLASS: u32 { FileStandardInformation = 5 }
);

/// `FILE_STANDARD_INFORMATION`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct FILE_STANDARD_INFORMATION {
    pub AllocationSize: LARGE_INTEGER,
    pub EndOfFile: LARGE_INTEGER,
    pub NumberOfLinks: ULONG,
    pub DeletePending: BOOLEAN,
    pub Directory: BOOLEAN,
}

#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(size_of::<OBJECT_ATTRIBUTES>() == 48 && align_of::<OBJECT_ATTRIBUTES>() == 8);
    assert!(offset_of!(OBJECT_ATTRIBUTES, RootDirectory) == 8);
    assert!(offset_of!(OBJECT_ATTRIBUTES, ObjectName) == 16);
    assert!(offset_of!(OBJECT_ATTRIBUTES, Attributes) == 24);
    assert!(offset_of!(OBJECT_ATTRIBUTES, SecurityDescriptor) == 32);
    assert!(offset_of!(OBJECT_ATTRIBUTES, SecurityQualityOfService) == 40);
    assert!(size_of::<KEY_VALUE_PARTIAL_INFORMATION>() == 16);
    assert!(offset_of!(KEY_VALUE_PARTIAL_INFORMATION, Data) == 12);
    assert!(size_of::<FILE_STANDARD_INFORMATION>() == 24);
    assert!(offset_of!(FILE_STANDARD_INFORMATION, EndOfFile) == 8);
    assert!(offset_of!(FILE_STANDARD_INFORMATION, NumberOfLinks) == 16);
    assert!(offset_of!(FILE_STANDARD_INFORMATION, Directory) == 21);
};
