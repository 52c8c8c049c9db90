//! Where mingw-w64's DDK headers are older than the WDK, and so cannot check a number.
//!
//! The `layout_vs_mingw` test compiles every size and offset declared in this crate against
//! mingw-w64's `ddk/wdm.h`, `ddk/miniport.h` and `ddk/video.h`. For the entries below it skips
//! exactly the numbers named, and still checks every field the two headers share.

/// One known difference between mingw-w64's headers and the current WDK.
pub struct MingwDeviation {
    /// The C type.
    pub type_name: &'static str,
    /// What the test skips for this type.
    pub skipped: &'static str,
    /// Why.
    pub reason: &'static str,
}

pub const MINGW_DEVIATIONS: &[MingwDeviation] = &[
    MingwDeviation {
        type_name: "DMA_OPERATIONS",
        skipped: "size, and the 24 entries after BuildMdlFromScatterGatherList",
        reason: "mingw-w64 declares the version-2 table (Size + 15 entries, 128 bytes); the WDK's \
                 version-3 table with the Windows 10 additions has 39 entries (320 bytes). The \
                 first 15 entries keep their offsets.",
    },
    MingwDeviation {
        type_name: "DEVICE_DESCRIPTION",
        skipped: "size, and DmaAddressWidth, DmaControllerInstance, DmaRequestLine, DeviceAddress",
        reason: "mingw-w64 declares version 2 (40 bytes); version 3 appends four fields (64 bytes).",
    },
    MingwDeviation {
        type_name: "SCATTER_GATHER_LIST",
        skipped: "size",
        reason: "mingw-w64 declares `Elements[1]` (40 bytes); the WDK uses a flexible array member \
                 (16 bytes). Element offsets agree.",
    },
    MingwDeviation {
        type_name: "DEVICE_OBJECT",
        skipped: "size and alignment",
        reason: "the WDK declares DEVICE_OBJECT with DECLSPEC_ALIGN(MEMORY_ALLOCATION_ALIGNMENT) \
                 (16 on x64, size 336); mingw-w64 omits the alignment (size 328). Field offsets agree.",
    },
];
