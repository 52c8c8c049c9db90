/*
 * layout_probe.c: the sizes and member offsets of the ntddvdeo.h structures as the host build
 * sees them (videoprt_host.h), for c-miniport/tests/display_layout.rs, which compares them
 * with the Rust client's declarations and, compiled as _Static_asserts, with mingw-w64's
 * ntddvdeo.h for x86_64-w64-mingw32.
 */
#include <stddef.h>
#include "videoprt_rs.h"

#define FIELD(type, member) {#type, #member, offsetof(type, member), sizeof(((type *)0)->member)}
#define SIZE(type) {#type, "", 0, sizeof(type)}

/* One row: a structure and member ("" for the whole structure), its offset and size. */
typedef struct {
    const char *type;
    const char *member;
    size_t offset;
    size_t size;
} LAYOUT_ROW;

const LAYOUT_ROW CVideoLayout[] = {
    SIZE(VIDEO_MODE_INFORMATION),
    FIELD(VIDEO_MODE_INFORMATION, Length),
    FIELD(VIDEO_MODE_INFORMATION, ModeIndex),
    FIELD(VIDEO_MODE_INFORMATION, VisScreenWidth),
    FIELD(VIDEO_MODE_INFORMATION, VisScreenHeight),
    FIELD(VIDEO_MODE_INFORMATION, ScreenStride),
    FIELD(VIDEO_MODE_INFORMATION, NumberOfPlanes),
    FIELD(VIDEO_MODE_INFORMATION, BitsPerPlane),
    FIELD(VIDEO_MODE_INFORMATION, Frequency),
    FIELD(VIDEO_MODE_INFORMATION, XMillimeter),
    FIELD(VIDEO_MODE_INFORMATION, YMillimeter),
    FIELD(VIDEO_MODE_INFORMATION, NumberRedBits),
    FIELD(VIDEO_MODE_INFORMATION, NumberGreenBits),
    FIELD(VIDEO_MODE_INFORMATION, NumberBlueBits),
    FIELD(VIDEO_MODE_INFORMATION, RedMask),
    FIELD(VIDEO_MODE_INFORMATION, GreenMask),
    FIELD(VIDEO_MODE_INFORMATION, BlueMask),
    FIELD(VIDEO_MODE_INFORMATION, AttributeFlags),
    FIELD(VIDEO_MODE_INFORMATION, VideoMemoryBitmapWidth),
    FIELD(VIDEO_MODE_INFORMATION, VideoMemoryBitmapHeight),
    FIELD(VIDEO_MODE_INFORMATION, DriverSpecificAttributeFlags),
    SIZE(VIDEO_NUM_MODES),
    FIELD(VIDEO_NUM_MODES, NumModes),
    FIELD(VIDEO_NUM_MODES, ModeInformationLength),
    SIZE(VIDEO_MODE),
    FIELD(VIDEO_MODE, RequestedMode),
    SIZE(VIDEO_MEMORY),
    FIELD(VIDEO_MEMORY, RequestedVirtualAddress),
    SIZE(VIDEO_MEMORY_INFORMATION),
    FIELD(VIDEO_MEMORY_INFORMATION, VideoRamBase),
    FIELD(VIDEO_MEMORY_INFORMATION, VideoRamLength),
    FIELD(VIDEO_MEMORY_INFORMATION, FrameBufferBase),
    FIELD(VIDEO_MEMORY_INFORMATION, FrameBufferLength),
};
const size_t CVideoLayoutRows = sizeof(CVideoLayout) / sizeof(CVideoLayout[0]);

/* The IOCTL codes and flags as the host header spells them: (name, value). */
typedef struct {
    const char *name;
    unsigned long long value;
} CONSTANT_ROW;

#define CONSTANT(name) {#name, (unsigned long long)(name)}

const CONSTANT_ROW CVideoConstants[] = {
    CONSTANT(IOCTL_VIDEO_QUERY_AVAIL_MODES),
    CONSTANT(IOCTL_VIDEO_QUERY_NUM_AVAIL_MODES),
    CONSTANT(IOCTL_VIDEO_QUERY_CURRENT_MODE),
    CONSTANT(IOCTL_VIDEO_SET_CURRENT_MODE),
    CONSTANT(IOCTL_VIDEO_RESET_DEVICE),
    CONSTANT(IOCTL_VIDEO_MAP_VIDEO_MEMORY),
    CONSTANT(IOCTL_VIDEO_UNMAP_VIDEO_MEMORY),
    CONSTANT(VIDEO_MODE_MAP_MEM_LINEAR),
    CONSTANT(VIDEO_MODE_NO_ZERO_MEMORY),
    CONSTANT(VIDEO_MODE_COLOR),
    CONSTANT(VIDEO_MODE_GRAPHICS),
    CONSTANT(VIDEO_MODE_PALETTE_DRIVEN),
    CONSTANT(VIDEO_MODE_MANAGED_PALETTE),
    CONSTANT(VIDEO_MODE_INTERLACED),
    CONSTANT(VIDEO_MODE_NO_OFF_SCREEN),
    CONSTANT(VIDEO_MODE_NO_64_BIT_ACCESS),
    CONSTANT(VIDEO_MEMORY_SPACE_MEMORY),
    CONSTANT(VIDEO_MEMORY_SPACE_IO),
    CONSTANT(VIDEO_MEMORY_SPACE_USER_MODE),
    CONSTANT(VIDEO_MEMORY_SPACE_DENSE),
    CONSTANT(VIDEO_MEMORY_SPACE_P6CACHE),
};
const size_t CVideoConstantRows = sizeof(CVideoConstants) / sizeof(CVideoConstants[0]);
