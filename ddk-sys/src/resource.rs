//! Hardware resource lists handed to a driver at `IRP_MN_START_DEVICE` (`CM_RESOURCE_LIST` and
//! friends). The WDK declares these under `#pragma pack(4)`, so 8-byte fields sit at 4-byte
//! offsets: read them by value, never by reference.

use crate::basic::*;
#[cfg_attr(target_pointer_width = "32", allow(unused_imports))]
use core::mem::{align_of, offset_of, size_of};

pub const CmResourceTypeNull: UCHAR = 0;
pub const CmResourceTypePort: UCHAR = 1;
pub const CmResourceTypeInterrupt: UCHAR = 2;
pub const CmResourceTypeMemory: UCHAR = 3;
pub const CmResourceTypeDma: UCHAR = 4;
pub const CmResourceTypeDeviceSpecific: UCHAR = 5;
pub const CmResourceTypeBusNumber: UCHAR = 6;

pub const CmResourceShareUndetermined: UCHAR = 0;
pub const CmResourceShareDeviceExclusive: UCHAR = 1;
pub const CmResourceShareDriverExclusive: UCHAR = 2;
pub const CmResourceShareShared: UCHAR = 3;

pub const CM_RESOURCE_INTERRUPT_LEVEL_SENSITIVE: USHORT = 0;
pub const CM_RESOURCE_INTERRUPT_LATCHED: USHORT = 1;
pub const CM_RESOURCE_PORT_MEMORY: USHORT = 0;
pub const CM_RESOURCE_PORT_IO: USHORT = 1;
pub const CM_RESOURCE_MEMORY_READ_WRITE: USHORT = 0x0000;
pub const CM_RESOURCE_MEMORY_PREFETCHABLE: USHORT = 0x0004;

/// A `PHYSICAL_ADDRESS` inside the resource descriptors, which `wdm.h` declares under
/// `#pragma pack(4)`: 4-aligned there, where [`PHYSICAL_ADDRESS`] itself is 8-aligned (and Rust
/// does not let a packed struct hold an over-aligned type).
#[repr(C, packed(4))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PACKED_PHYSICAL_ADDRESS(pub i64);

impl PACKED_PHYSICAL_ADDRESS {
    pub const fn new(quad: u64) -> Self {
        Self(quad as i64)
    }
    /// The address as an unsigned bus/physical address.
    pub const fn get(self) -> u64 {
        self.0 as u64
    }
}

impl From<PACKED_PHYSICAL_ADDRESS> for PHYSICAL_ADDRESS {
    fn from(a: PACKED_PHYSICAL_ADDRESS) -> Self {
        PHYSICAL_ADDRESS(a.0)
    }
}

/// `u.Port` and `u.Memory`.
#[repr(C, packed(4))]
#[derive(Clone, Copy, Debug)]
pub struct CM_RANGE {
    pub Start: PACKED_PHYSICAL_ADDRESS,
    pub Length: ULONG,
}

/// `u.Interrupt`.
#[repr(C, packed(4))]
#[derive(Clone, Copy, Debug)]
pub struct CM_INTERRUPT {
    pub Level: USHORT,
    pub Group: USHORT,
    pub Vector: ULONG,
    pub Affinity: KAFFINITY,
}

/// `u.Dma`.
#[repr(C, packed(4))]
#[derive(Clone, Copy, Debug)]
pub struct CM_DMA {
    pub Channel: ULONG,
    pub Port: ULONG,
    pub Reserved1: ULONG,
}

#[repr(C, packed(4))]
#[derive(Clone, Copy)]
pub union CM_PARTIAL_RESOURCE_DESCRIPTOR_U {
    pub Port: CM_RANGE,
    pub Interrupt: CM_INTERRUPT,
    pub Memory: CM_RANGE,
    pub Dma: CM_DMA,
    pub DevicePrivate: [ULONG; 3],
    pub Generic: CM_RANGE,
}

#[repr(C, packed(4))]
#[derive(Clone, Copy)]
pub struct CM_PARTIAL_RESOURCE_DESCRIPTOR {
    pub Type: UCHAR,
    pub ShareDisposition: UCHAR,
    pub Flags: USHORT,
    pub u: CM_PARTIAL_RESOURCE_DESCRIPTOR_U,
}

/// Header of a partial list; `Count` descriptors follow (the first is declared inline).
#[repr(C, packed(4))]
pub struct CM_PARTIAL_RESOURCE_LIST {
    pub Version: USHORT,
    pub Revision: USHORT,
    pub Count: ULONG,
    pub PartialDescriptors: [CM_PARTIAL_RESOURCE_DESCRIPTOR; 1],
}

#[repr(C, packed(4))]
pub struct CM_FULL_RESOURCE_DESCRIPTOR {
    pub InterfaceType: INTERFACE_TYPE,
    pub BusNumber: ULONG,
    pub PartialResourceList: CM_PARTIAL_RESOURCE_LIST,
}

#[repr(C, packed(4))]
pub struct CM_RESOURCE_LIST {
    pub Count: ULONG,
    pub List: [CM_FULL_RESOURCE_DESCRIPTOR; 1],
}
pub type PCM_RESOURCE_LIST = *mut CM_RESOURCE_LIST;

#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(
        size_of::<CM_PARTIAL_RESOURCE_DESCRIPTOR>() == 20
            && align_of::<CM_PARTIAL_RESOURCE_DESCRIPTOR>() == 4
    );
    assert!(offset_of!(CM_PARTIAL_RESOURCE_DESCRIPTOR, u) == 4);
    assert!(offset_of!(CM_RANGE, Length) == 8);
    assert!(offset_of!(CM_INTERRUPT, Vector) == 4 && offset_of!(CM_INTERRUPT, Affinity) == 8);
    assert!(size_of::<CM_PARTIAL_RESOURCE_LIST>() == 28);
    assert!(offset_of!(CM_PARTIAL_RESOURCE_LIST, PartialDescriptors) == 8);
    assert!(size_of::<CM_FULL_RESOURCE_DESCRIPTOR>() == 36);
    assert!(offset_of!(CM_FULL_RESOURCE_DESCRIPTOR, PartialResourceList) == 8);
    assert!(size_of::<CM_RESOURCE_LIST>() == 40);
    assert!(offset_of!(CM_RESOURCE_LIST, List) == 4);
};
