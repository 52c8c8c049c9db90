//! The x86 (ILP32) layouts of the structures the port and the loader depend on most, with the
//! numbers worked out from the documented member lists (4-byte pointers and `ULONG_PTR`s;
//! `LONGLONG` and `PHYSICAL_ADDRESS` 8-aligned; `KAPC` 48 bytes; the resource descriptors
//! under `#pragma pack(4)`). The x64 numbers are asserted next to each type; every type is also
//! compared with mingw-w64's i686 headers by `layout_vs_mingw` on a 32-bit host.

#[cfg(target_pointer_width = "32")]
const _: () = {
    use crate::*;
    use core::mem::{align_of, offset_of, size_of};

    assert!(size_of::<PHYSICAL_ADDRESS>() == 8 && align_of::<PHYSICAL_ADDRESS>() == 8);
    assert!(size_of::<LIST_ENTRY>() == 8);
    assert!(size_of::<UNICODE_STRING>() == 8 && offset_of!(UNICODE_STRING, Buffer) == 4);
    assert!(size_of::<MDL>() == 28);
    assert!(offset_of!(MDL, Size) == 4 && offset_of!(MDL, MdlFlags) == 6);
    assert!(offset_of!(MDL, StartVa) == 16 && offset_of!(MDL, ByteCount) == 20);
    assert!(offset_of!(MDL, ByteOffset) == 24);
    assert!(size_of::<OBJECT_ATTRIBUTES>() == 24 && align_of::<OBJECT_ATTRIBUTES>() == 4);
    assert!(size_of::<DMA_ADAPTER>() == 8 && offset_of!(DMA_ADAPTER, DmaOperations) == 4);
    // Size + 39 function pointers.
    assert!(size_of::<DMA_OPERATIONS>() == 160);
    assert!(size_of::<SCATTER_GATHER_ELEMENT>() == 16);
    assert!(offset_of!(SCATTER_GATHER_ELEMENT, Length) == 8);
    assert!(offset_of!(SCATTER_GATHER_LIST, Elements) == 8);
    assert!(size_of::<VP_SCATTER_GATHER_ELEMENT>() == 16);
    assert!(offset_of!(VP_SCATTER_GATHER_LIST, Elements) == 8);
    assert!(size_of::<KBUGCHECK_REASON_CALLBACK_RECORD>() == 28);
    assert!(size_of::<CM_PARTIAL_RESOURCE_DESCRIPTOR>() == 16);
    assert!(offset_of!(CM_PARTIAL_RESOURCE_DESCRIPTOR, u) == 4);
    assert!(size_of::<CM_RESOURCE_LIST>() == 36);
    // Tail.Overlay / KAPC at 64, 48 bytes.
    assert!(size_of::<IRP>() == 112 && align_of::<IRP>() == 8);
    assert!(offset_of!(IRP, Tail) == 64);
    assert!(size_of::<IO_STACK_LOCATION>() == 36);
    assert!(offset_of!(IO_STACK_LOCATION, Parameters) == 4);
    assert!(offset_of!(IO_STACK_LOCATION, DeviceObject) == 20);
    assert!(offset_of!(IO_STACK_LOCATION, Context) == 32);
    assert!(size_of::<VRB_SG>() == 16 && align_of::<VRB_SG>() == 8);
};
