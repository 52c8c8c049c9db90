//! `NTSTATUS` (kernel status codes) and `VP_STATUS` (the Win32 error codes of `dderror.h` that
//! the VideoPort interface returns).

/// `NTSTATUS`: severity in the top two bits; negative values are errors.
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct NTSTATUS(pub i32);

impl NTSTATUS {
    /// `NT_SUCCESS()`: success and informational codes.
    pub const fn is_success(self) -> bool {
        self.0 >= 0
    }
}

macro_rules! ntstatus {
    ($($name:ident = $value:expr),* $(,)?) => {
        $(pub const $name: NTSTATUS = NTSTATUS($value as u32 as i32);)*
    };
}
ntstatus! {
    STATUS_SUCCESS = 0x0000_0000,
    STATUS_TIMEOUT = 0x0000_0102,
    STATUS_PENDING = 0x0000_0103,
    STATUS_MORE_PROCESSING_REQUIRED = 0xC000_0016,
    STATUS_UNSUCCESSFUL = 0xC000_0001,
    STATUS_NOT_IMPLEMENTED = 0xC000_0002,
    STATUS_INVALID_DEVICE_REQUEST = 0xC000_0010,
    STATUS_ACCESS_VIOLATION = 0xC000_0005,
    STATUS_INVALID_PARAMETER = 0xC000_000D,
    STATUS_NO_MEMORY = 0xC000_0017,
    STATUS_BUFFER_TOO_SMALL = 0xC000_0023,
    STATUS_NONE_MAPPED = 0xC000_0073,
    STATUS_INSUFFICIENT_RESOURCES = 0xC000_009A,
    STATUS_NOT_SUPPORTED = 0xC000_00BB,
    STATUS_DEVICE_CONFIGURATION_ERROR = 0xC000_0182,
    STATUS_DEVICE_NOT_CONNECTED = 0xC000_009D,
    STATUS_REVISION_MISMATCH = 0xC000_0059,
    STATUS_DELETE_PENDING = 0xC000_0056,
    STATUS_INVALID_DEVICE_STATE = 0xC000_0184,
    STATUS_BUFFER_OVERFLOW = 0x8000_0005,
    STATUS_DEVICE_BUSY = 0x8000_0011,
    STATUS_NO_SUCH_DEVICE = 0xC000_000E,
    STATUS_OBJECT_NAME_NOT_FOUND = 0xC000_0034,
    STATUS_OBJECT_NAME_COLLISION = 0xC000_0035,
    STATUS_DEVICE_NOT_READY = 0xC000_00A3,
    STATUS_DEVICE_DOES_NOT_EXIST = 0xC000_00C0,
    STATUS_INVALID_USER_BUFFER = 0xC000_00E8,
    STATUS_INVALID_HANDLE = 0xC000_0008,
    STATUS_END_OF_FILE = 0xC000_0011,
    STATUS_ACCESS_DENIED = 0xC000_0022,
    STATUS_OBJECT_TYPE_MISMATCH = 0xC000_0024,
    STATUS_OBJECT_NAME_INVALID = 0xC000_0033,
    STATUS_OBJECT_PATH_NOT_FOUND = 0xC000_003A,
    STATUS_OBJECT_PATH_SYNTAX_BAD = 0xC000_003B,
}

/// `VP_STATUS` (`typedef LONG VP_STATUS`): holds Win32 error codes.
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct VP_STATUS(pub i32);

macro_rules! vp_status {
    ($($name:ident = $value:expr),* $(,)?) => {
        $(pub const $name: VP_STATUS = VP_STATUS($value);)*
    };
}
vp_status! {
    NO_ERROR = 0,
    ERROR_INVALID_FUNCTION = 1,
    ERROR_NOT_ENOUGH_MEMORY = 8,
    ERROR_DEV_NOT_EXIST = 55,
    ERROR_INVALID_PARAMETER = 87,
    ERROR_INSUFFICIENT_BUFFER = 122,
    ERROR_INVALID_NAME = 123,
    ERROR_BUSY = 170,
    ERROR_MORE_DATA = 234,
    WAIT_TIMEOUT = 258,
    ERROR_IO_PENDING = 997,
    ERROR_DEVICE_REINITIALIZATION_NEEDED = 1164,
    ERROR_CONTINUE = 1246,
    ERROR_NO_MORE_DEVICES = 1248,
}
