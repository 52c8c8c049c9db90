//! Where mingw-w64's DDK headers are older than the WDK, and so cannot check a number.
//!
//! The `layout_vs_mingw` test compiles every size, alignment, offset and constant value declared
//! in this crate against mingw-w64's `ddk/wdm.h`, `ddk/miniport.h`, `ddk/video.h` and
//! `ddk/dderror.h`. It skips exactly the items named by [`MINGW_DEVIATIONS`] and nothing else, and
//! it fails if an entry here names nothing it checks, or names a check that mingw-w64 would in
//! fact pass (a stale entry).

/// What one [`MingwDeviation`] takes out of the comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MingwSkip {
    /// `sizeof` of the type.
    Size,
    /// `_Alignof` of the type.
    Align,
    /// The offset and size of this member (the C member designator).
    Member(&'static str),
    /// Everything: mingw-w64 does not declare the type or constant at all.
    Undeclared,
}

/// One known difference between mingw-w64's headers and the current WDK.
#[derive(Debug)]
pub struct MingwDeviation {
    /// The C type or constant.
    pub name: &'static str,
    /// Exactly what the test skips for it.
    pub skip: &'static [MingwSkip],
    /// Why.
    pub reason: &'static str,
}

use MingwSkip::{Align, Member, Size, Undeclared};

const POOL_FLAGS_REASON: &str =
    "the POOL_FLAGS of ExAllocatePool2 (Windows 10 2004) are missing from mingw-w64.";

pub const MINGW_DEVIATIONS: &[MingwDeviation] = &[
    MingwDeviation {
        name: "DMA_OPERATIONS",
        skip: &[
            Size,
            Member("GetDmaAdapterInfo"),
            Member("GetDmaTransferInfo"),
            Member("InitializeDmaTransferContext"),
            Member("AllocateCommonBufferEx"),
            Member("AllocateAdapterChannelEx"),
            Member("ConfigureAdapterChannel"),
            Member("CancelAdapterChannel"),
            Member("MapTransferEx"),
            Member("GetScatterGatherListEx"),
            Member("BuildScatterGatherListEx"),
            Member("FlushAdapterBuffersEx"),
            Member("FreeAdapterObject"),
            Member("CancelMappedTransfer"),
            Member("AllocateDomainCommonBuffer"),
            Member("FlushDmaBuffer"),
            Member("JoinDmaDomain"),
            Member("LeaveDmaDomain"),
            Member("GetDmaDomain"),
            Member("AllocateCommonBufferWithBounds"),
            Member("AllocateCommonBufferVector"),
            Member("GetCommonBufferFromVectorByIndex"),
            Member("FreeCommonBufferFromVector"),
            Member("FreeCommonBufferVector"),
            Member("CreateCommonBufferFromMdl"),
        ],
        reason: "mingw-w64 declares the version-2 table (Size + 15 entries, 128 bytes); the WDK's \
                 version-3 table with the Windows 10 additions has 39 entries (320 bytes). The \
                 first 15 entries keep their offsets.",
    },
    MingwDeviation {
        name: "DEVICE_DESCRIPTION",
        skip: &[
            Size,
            Align,
            Member("DmaAddressWidth"),
            Member("DmaControllerInstance"),
            Member("DmaRequestLine"),
            Member("DeviceAddress"),
        ],
        reason: "mingw-w64 declares version 2 (40 bytes, 4-aligned); version 3 appends four fields \
                 ending in the 8-byte DeviceAddress (64 bytes, 8-aligned). The version-2 fields keep \
                 their offsets.",
    },
    MingwDeviation {
        name: "KBUGCHECK_SECONDARY_DUMP_DATA_EX",
        skip: &[Undeclared],
        reason: "mingw-w64's wdm.h declares KbCallbackSecondaryMultiPartDumpData but not its \
                 structure (Windows Server 2008 and later).",
    },
    MingwDeviation {
        name: "DEVICE_DESCRIPTION_VERSION3",
        skip: &[Undeclared],
        reason: "mingw-w64 stops at DEVICE_DESCRIPTION_VERSION2 (it has no version-3 description).",
    },
    MingwDeviation {
        name: "DMA_ADAPTER_INFO",
        skip: &[Undeclared],
        reason: "a Windows 8 (DMA version 3) type that mingw-w64 does not declare.",
    },
    MingwDeviation {
        name: "DMA_ADAPTER_INFO_VERSION1",
        skip: &[Undeclared],
        reason: "a Windows 8 (DMA version 3) constant that mingw-w64 does not declare.",
    },
    MingwDeviation {
        name: "MdlMappingNoExecute",
        skip: &[Undeclared],
        reason: "the Windows 8 MM_PAGE_PRIORITY flag (a #define in the WDK) is missing from mingw-w64.",
    },
    MingwDeviation { name: "POOL_FLAG_UNINITIALIZED", skip: &[Undeclared], reason: POOL_FLAGS_REASON },
    MingwDeviation { name: "POOL_FLAG_NON_PAGED", skip: &[Undeclared], reason: POOL_FLAGS_REASON },
    MingwDeviation { name: "POOL_FLAG_NON_PAGED_EXECUTE", skip: &[Undeclared], reason: POOL_FLAGS_REASON },
    MingwDeviation { name: "POOL_FLAG_PAGED", skip: &[Undeclared], reason: POOL_FLAGS_REASON },
    MingwDeviation {
        name: "SCATTER_GATHER_LIST",
        skip: &[Size],
        reason: "mingw-w64 declares `Elements[1]` (40 bytes); the WDK uses a flexible array member \
                 (16 bytes). Element offsets agree.",
    },
    MingwDeviation {
        name: "DEVICE_OBJECT",
        skip: &[Size, Align],
        reason: "the WDK declares DEVICE_OBJECT with DECLSPEC_ALIGN(MEMORY_ALLOCATION_ALIGNMENT) \
                 (16 on x64, size 336); mingw-w64 omits the alignment (size 328). Field offsets agree.",
    },
];
