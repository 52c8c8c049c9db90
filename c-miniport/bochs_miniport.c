/*
 * bochs_miniport.c: a videoprt-rs display miniport for QEMU's Bochs display adapter
 * (PCI 1234:1111, `-device bochs-display` or `-vga std`), in portable C, using only the
 * documented VideoPort API of video.h and the standard IOCTLs and structures of ntddvdeo.h.
 *
 * The hardware, from QEMU's docs/specs/standard-vga.rst: BAR0 is the linear frame buffer;
 * BAR2 is 4 KiB of MMIO whose offset 0x500 holds the Bochs VBE "DISPI" registers as 16-bit
 * words (register index * 2), and whose 0x400-0x41F mirror the VGA ports 0x3C0-0x3DF.
 *
 * What it does:
 *  - HwFindAdapter: finds the frame buffer (the first memory range) and the MMIO range (the
 *    second), maps the MMIO range (VideoPortGetDeviceBase), detects the DISPI interface
 *    version (writes 0xB0C5 down to 0xB0C0 to the ID register until one reads back), reads
 *    the capabilities (ENABLE.GETCAPS: the largest XRES, YRES and BPP) and the VRAM size
 *    (VIDEO_MEMORY_64K, bounded by BAR0), builds the mode table in pool memory
 *    (VideoPortAllocatePool) and writes HardwareInformation.ChipType / DacType / MemorySize /
 *    AdapterString to the registry (VideoPortSetRegistryParameters; strings are wide, with
 *    their terminator, MemorySize a ULONG, as display miniports write them). When the adapter
 *    has a PCI option ROM (VideoPortGetRomImage: signature 55h AAh, a "PCIR" structure naming
 *    1234:1111), HardwareInformation.BiosString is its first printable text of at least 8
 *    characters after that structure, as the video BIOS identifies itself; the port's ROM
 *    buffer is given back at once (Length 0).
 *  - HwStartIO answers the standard video IOCTLs (all METHOD_BUFFERED):
 *    QUERY_NUM_AVAIL_MODES, QUERY_AVAIL_MODES, SET_CURRENT_MODE, QUERY_CURRENT_MODE,
 *    MAP_VIDEO_MEMORY / UNMAP_VIDEO_MEMORY (VideoPortMapMemory / VideoPortUnmapMemory of the
 *    current mode's frame buffer, into the calling process) and RESET_DEVICE. Anything else is ERROR_INVALID_FUNCTION.
 *  - HwGetVideoChildDescriptor reports one child, the monitor (UId 0x100), with the EDID block
 *    the device exposes at BAR2+0 as its descriptor (so Windows names it MONITOR\<EDID id>).
 *  - HwGetPowerState / HwSetPowerState: the adapter is on or off (no DPMS, so standby and
 *    suspend are refused); off keeps VRAM and on restores the mode that was set. The monitor
 *    accepts every state.
 *
 * Modes: 32 bits per pixel (8:8:8 RGB in the low 24 bits), the common resolutions listed in
 * ModeList that fit the GETCAPS maxima and VRAM, in that order; the mode index a client sets
 * is the position in that table.
 *
 * Where the mode table is freed. XDDM gives a miniport no teardown callback: nothing is called
 * when the device stops or is removed. The display driver ends its use of the adapter with
 * IOCTL_VIDEO_RESET_DEVICE (when it gives the device up: DrvAssertMode(FALSE) or
 * DrvDisableSurface), so that is where this miniport frees the table. A mode query after the
 * reset builds it again (the capabilities are kept in the extension), so a client that opens
 * the device again finds the modes. A client that never resets leaves the table, and the port
 * reports it at removal.
 *
 * BOCHS_MISBEHAVE_LEAK builds a deliberately broken variant for the tests (target/drivers/
 * test/, never shipped): UNMAP_VIDEO_MEMORY answers NO_ERROR without VideoPortUnmapMemory,
 * and RESET_DEVICE forgets VideoPortFreePool.
 *
 * Windows: x86_64-w64-mingw32-gcc against mingw-w64's DDK headers through videoprt_rs.h,
 * linked by GNU ld or lld-link (see README, "Using videoprt_rs from a C miniport"). Host:
 * -DVIDEOPRT_RS_HOST (types from videoprt_host.h) and -DDriverEntry=CBochsDriverEntry.
 * No C runtime: copies go through VideoPortMoveMemory/VideoPortZeroMemory.
 */
#include "videoprt_rs.h"
#ifndef VIDEOPRT_RS_HOST
#include <devioctl.h> /* CTL_CODE, FILE_DEVICE_VIDEO: what the IOCTL_VIDEO_* codes expand to */
#endif

/* Wide string literals: wchar_t is 16-bit on Windows; the host's is not, char16_t is. */
#ifdef VIDEOPRT_RS_HOST
#define WIDE(s) u##s
#else
#define WIDE(s) L##s
#endif

/* BAR2 (QEMU docs/specs/standard-vga.rst). */
#define BOCHS_MMIO_MIN_SIZE 0x1000u
#define BOCHS_MMIO_VGA 0x400u       /* VGA port 0x3C0 */
#define BOCHS_MMIO_DISPI 0x500u     /* DISPI register n at 0x500 + 2n */
#define VGA_ATTRIBUTE_INDEX 0x3C0u
#define VGA_INPUT_STATUS_1 0x3DAu
#define VGA_ATTRIBUTE_PALETTE_SOURCE 0x20u

/* DISPI registers. */
#define DISPI_ID 0x0u
#define DISPI_XRES 0x1u
#define DISPI_YRES 0x2u
#define DISPI_BPP 0x3u
#define DISPI_ENABLE 0x4u
#define DISPI_VIRT_WIDTH 0x6u
#define DISPI_X_OFFSET 0x8u
#define DISPI_Y_OFFSET 0x9u
#define DISPI_VIDEO_MEMORY_64K 0xAu

#define DISPI_ID_MIN 0xB0C0u
#define DISPI_ID_MAX 0xB0C5u

#define DISPI_ENABLED 0x01u
#define DISPI_GETCAPS 0x02u
#define DISPI_LFB 0x40u
#define DISPI_NOCLEAR 0x80u

#define BOCHS_BPP 32u
#define BOCHS_BYTES_PER_PIXEL 4u
#define BOCHS_FREQUENCY 60u
#define BOCHS_NO_MODE 0xFFFFFFFFu
/* The pool tag "Bchs", as the bytes appear in memory. */
#define BOCHS_TAG ((ULONG)'B' | ((ULONG)'c' << 8) | ((ULONG)'h' << 16) | ((ULONG)'s' << 24))

/* The resolutions offered, smallest first; those beyond the device's maxima or VRAM are left
 * out of the mode table. */
static const USHORT ModeList[][2] = {
    {640, 480},   {800, 600},   {1024, 768},  {1152, 864},  {1280, 720},  {1280, 800},
    {1280, 1024}, {1366, 768},  {1440, 900},  {1600, 900},  {1600, 1200}, {1680, 1050},
    {1920, 1080}, {1920, 1200}, {2560, 1440}, {2560, 1600},
};
#define MODE_LIST_LENGTH (sizeof(ModeList) / sizeof(ModeList[0]))

/* The HwDeviceExtension (zeroed by the port). HwStartIO calls are serialised by the port. */
typedef struct _BOCHS_EXTENSION {
    PUCHAR Mmio;                  /* BAR2, kernel mapping */
    PHYSICAL_ADDRESS FrameBuffer; /* BAR0, bus-relative */
    ULONG FrameBufferLength;      /* BAR0 length */
    ULONG VramSize;               /* usable VRAM: VIDEO_MEMORY_64K, bounded by BAR0 */
    USHORT Version;               /* DISPI ID accepted */
    USHORT MaxXres, MaxYres, MaxBpp;
    ULONG XMillimeter, YMillimeter; /* from the EDID, 0 if there is none */
    PVIDEO_MODE_INFORMATION Modes;  /* pool: ModeCount entries, NULL after a reset */
    ULONG ModeCount;
    ULONG CurrentMode; /* index into Modes, or BOCHS_NO_MODE */
    ULONG SleepingMode; /* the mode to restore at power-on, or BOCHS_NO_MODE */
} BOCHS_EXTENSION, *PBOCHS_EXTENSION;

static USHORT DispiRead(PBOCHS_EXTENSION Ext, ULONG Index)
{
    return VideoPortReadRegisterUshort((PUSHORT)(Ext->Mmio + BOCHS_MMIO_DISPI + Index * 2));
}

static VOID DispiWrite(PBOCHS_EXTENSION Ext, ULONG Index, USHORT Value)
{
    VideoPortWriteRegisterUshort((PUSHORT)(Ext->Mmio + BOCHS_MMIO_DISPI + Index * 2), Value);
}

/* The DISPI version the device accepts, newest first; 0 if it answers none. */
static USHORT DetectVersion(PBOCHS_EXTENSION Ext)
{
    ULONG id;
    for (id = DISPI_ID_MAX; id >= DISPI_ID_MIN; id--) {
        DispiWrite(Ext, DISPI_ID, (USHORT)id);
        if (DispiRead(Ext, DISPI_ID) == (USHORT)id) {
            return (USHORT)id;
        }
    }
    return 0;
}

/* The largest mode the device offers: ENABLE.GETCAPS makes XRES/YRES/BPP read their maxima. */
static VOID ReadCapabilities(PBOCHS_EXTENSION Ext)
{
    DispiWrite(Ext, DISPI_ENABLE, DISPI_GETCAPS);
    Ext->MaxXres = DispiRead(Ext, DISPI_XRES);
    Ext->MaxYres = DispiRead(Ext, DISPI_YRES);
    Ext->MaxBpp = DispiRead(Ext, DISPI_BPP);
    DispiWrite(Ext, DISPI_ENABLE, 0);
}

/* The screen size from the EDID at BAR2+0 (bytes 21 and 22: centimetres), if the block has
 * the EDID header. */
static VOID ReadScreenSize(PBOCHS_EXTENSION Ext)
{
    static const UCHAR header[8] = {0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00};
    ULONG i;
    for (i = 0; i < sizeof(header); i++) {
        if (VideoPortReadRegisterUchar(Ext->Mmio + i) != header[i]) {
            return;
        }
    }
    Ext->XMillimeter = (ULONG)VideoPortReadRegisterUchar(Ext->Mmio + 21) * 10u;
    Ext->YMillimeter = (ULONG)VideoPortReadRegisterUchar(Ext->Mmio + 22) * 10u;
}

/* The mode table, in pool memory: every resolution of ModeList that fits. Returns FALSE if
 * the pool is exhausted (or nothing fits). */
static BOOLEAN BuildModes(PVOID HwDeviceExtension, PBOCHS_EXTENSION Ext)
{
    PVIDEO_MODE_INFORMATION modes;
    ULONG i, count = 0;

    if (Ext->Modes != NULL) {
        return TRUE;
    }
    if (Ext->MaxBpp < BOCHS_BPP) {
        return FALSE;
    }
    modes = (PVIDEO_MODE_INFORMATION)VideoPortAllocatePool(
        HwDeviceExtension, VpNonPagedPool, sizeof(VIDEO_MODE_INFORMATION) * MODE_LIST_LENGTH,
        BOCHS_TAG);
    if (modes == NULL) {
        return FALSE;
    }
    for (i = 0; i < MODE_LIST_LENGTH; i++) {
        ULONG width = ModeList[i][0], height = ModeList[i][1];
        ULONG stride = width * BOCHS_BYTES_PER_PIXEL;
        PVIDEO_MODE_INFORMATION mode;

        if (width > Ext->MaxXres || height > Ext->MaxYres || stride * height > Ext->VramSize) {
            continue;
        }
        mode = &modes[count];
        VideoPortZeroMemory(mode, sizeof(*mode));
        mode->Length = sizeof(*mode);
        mode->ModeIndex = count;
        mode->VisScreenWidth = width;
        mode->VisScreenHeight = height;
        mode->ScreenStride = stride;
        mode->NumberOfPlanes = 1;
        mode->BitsPerPlane = BOCHS_BPP;
        mode->Frequency = BOCHS_FREQUENCY;
        mode->XMillimeter = Ext->XMillimeter;
        mode->YMillimeter = Ext->YMillimeter;
        mode->NumberRedBits = 8;
        mode->NumberGreenBits = 8;
        mode->NumberBlueBits = 8;
        mode->RedMask = 0x00FF0000u;
        mode->GreenMask = 0x0000FF00u;
        mode->BlueMask = 0x000000FFu;
        mode->AttributeFlags = VIDEO_MODE_COLOR | VIDEO_MODE_GRAPHICS;
        mode->VideoMemoryBitmapWidth = width;
        mode->VideoMemoryBitmapHeight = Ext->VramSize / stride;
        count++;
    }
    if (count == 0) {
        VideoPortFreePool(HwDeviceExtension, modes);
        return FALSE;
    }
    Ext->Modes = modes;
    Ext->ModeCount = count;
    return TRUE;
}

/* Gives the mode table back to the pool (RESET_DEVICE, or a failed HwFindAdapter). */
static VOID FreeModes(PVOID HwDeviceExtension, PBOCHS_EXTENSION Ext)
{
    if (Ext->Modes == NULL) {
        return;
    }
#ifndef BOCHS_MISBEHAVE_LEAK
    VideoPortFreePool(HwDeviceExtension, Ext->Modes);
#else
    (void)HwDeviceExtension;
#endif
    Ext->Modes = NULL;
    Ext->ModeCount = 0;
}

/* ---- The option ROM. */

#define ROM_HEADER_BYTES 512u
#define ROM_PCIR_POINTER 0x18u
#define ROM_PCIR_LENGTH 0x18u
#define ROM_TEXT_MIN 8u
#define BIOS_STRING_MAX 64u
#define BOCHS_VENDOR_ID 0x1234u
#define BOCHS_DEVICE_ID 0x1111u

static USHORT RomWord(const UCHAR *Rom, ULONG At)
{
    return (USHORT)(Rom[At] | (Rom[At + 1] << 8));
}

static BOOLEAN Printable(UCHAR c)
{
    return c >= 0x20 && c < 0x7F;
}

/* Reads the ROM's identification text into Text (wide, terminated; at most
 * BIOS_STRING_MAX - 1 characters). Returns its size in bytes with the terminator, 0 when there
 * is no ROM, it is not this adapter's or it has no such text. */
static ULONG ReadBiosString(PVOID HwDeviceExtension, WCHAR *Text)
{
    const UCHAR *rom = (const UCHAR *)VideoPortGetRomImage(HwDeviceExtension, NULL, 0,
                                                           ROM_HEADER_BYTES);
    ULONG pcir, at, run, n = 0;

    if (rom == NULL) {
        return 0;
    }
    pcir = RomWord(rom, ROM_PCIR_POINTER);
    if (rom[0] == 0x55 && rom[1] == 0xAA && pcir + ROM_PCIR_LENGTH <= ROM_HEADER_BYTES &&
        rom[pcir] == 'P' && rom[pcir + 1] == 'C' && rom[pcir + 2] == 'I' &&
        rom[pcir + 3] == 'R' && RomWord(rom, pcir + 4) == BOCHS_VENDOR_ID &&
        RomWord(rom, pcir + 6) == BOCHS_DEVICE_ID) {
        for (at = pcir + ROM_PCIR_LENGTH; at < ROM_HEADER_BYTES; at += run + 1) {
            for (run = 0; at + run < ROM_HEADER_BYTES && Printable(rom[at + run]); run++) {
            }
            if (run >= ROM_TEXT_MIN) {
                for (n = 0; n < run && n < BIOS_STRING_MAX - 1; n++) {
                    Text[n] = rom[at + n];
                }
                Text[n++] = 0;
                break;
            }
        }
    }
    (void)VideoPortGetRomImage(HwDeviceExtension, NULL, 0, 0); /* the port frees its copy */
    return n * sizeof(WCHAR);
}

/* ---- The registry: HardwareInformation.* as display miniports write them. */

static WCHAR ChipTypeName[] = WIDE("HardwareInformation.ChipType");
static WCHAR DacTypeName[] = WIDE("HardwareInformation.DacType");
static WCHAR MemorySizeName[] = WIDE("HardwareInformation.MemorySize");
static WCHAR AdapterStringName[] = WIDE("HardwareInformation.AdapterString");
static WCHAR BiosStringName[] = WIDE("HardwareInformation.BiosString");
static WCHAR ChipType[] = WIDE("Bochs VBE DISPI");
static WCHAR DacType[] = WIDE("Integrated RAMDAC");
static WCHAR AdapterString[] = WIDE("QEMU Bochs display (videoprt-rs C sample)");

static VP_STATUS WriteHardwareInformation(PVOID HwDeviceExtension, PBOCHS_EXTENSION Ext)
{
    ULONG memorySize = Ext->VramSize;
    WCHAR biosString[BIOS_STRING_MAX];
    ULONG biosStringSize = ReadBiosString(HwDeviceExtension, biosString);
    VP_STATUS status;

    status = VideoPortSetRegistryParameters(HwDeviceExtension, ChipTypeName, ChipType,
                                            sizeof(ChipType));
    if (status == NO_ERROR) {
        status = VideoPortSetRegistryParameters(HwDeviceExtension, DacTypeName, DacType,
                                                sizeof(DacType));
    }
    if (status == NO_ERROR) {
        status = VideoPortSetRegistryParameters(HwDeviceExtension, MemorySizeName, &memorySize,
                                                sizeof(memorySize));
    }
    if (status == NO_ERROR) {
        status = VideoPortSetRegistryParameters(HwDeviceExtension, AdapterStringName,
                                                AdapterString, sizeof(AdapterString));
    }
    if (status == NO_ERROR && biosStringSize != 0) {
        status = VideoPortSetRegistryParameters(HwDeviceExtension, BiosStringName, biosString,
                                                biosStringSize);
    }
    return status;
}

/* ---- Mode sets. */

/* Turns the display off (DISPI disabled). */
static VOID DisplayOff(PBOCHS_EXTENSION Ext)
{
    DispiWrite(Ext, DISPI_ENABLE, 0);
    Ext->CurrentMode = BOCHS_NO_MODE;
}

/* Programs `Mode` (display off, resolution, depth, on with the linear frame buffer) and checks
 * that the device took it. */
static VP_STATUS ProgramMode(PBOCHS_EXTENSION Ext, PVIDEO_MODE_INFORMATION Mode, BOOLEAN Clear)
{
    USHORT enable = DISPI_ENABLED | DISPI_LFB | (Clear ? 0 : DISPI_NOCLEAR);

    DisplayOff(Ext);
    DispiWrite(Ext, DISPI_XRES, (USHORT)Mode->VisScreenWidth);
    DispiWrite(Ext, DISPI_YRES, (USHORT)Mode->VisScreenHeight);
    DispiWrite(Ext, DISPI_BPP, BOCHS_BPP);
    DispiWrite(Ext, DISPI_ENABLE, enable);
    if ((DispiRead(Ext, DISPI_ENABLE) & DISPI_ENABLED) == 0 ||
        DispiRead(Ext, DISPI_XRES) != Mode->VisScreenWidth ||
        DispiRead(Ext, DISPI_YRES) != Mode->VisScreenHeight) {
        DisplayOff(Ext);
        return ERROR_INVALID_PARAMETER;
    }
    DispiWrite(Ext, DISPI_VIRT_WIDTH, (USHORT)Mode->VisScreenWidth);
    DispiWrite(Ext, DISPI_X_OFFSET, 0);
    DispiWrite(Ext, DISPI_Y_OFFSET, 0);
    /* The VGA side: reading input status 1 resets the attribute flip-flop, then the palette
     * address source bit in the index turns the screen on. */
    (void)VideoPortReadRegisterUchar(Ext->Mmio + BOCHS_MMIO_VGA +
                                     (VGA_INPUT_STATUS_1 - VGA_ATTRIBUTE_INDEX));
    VideoPortWriteRegisterUchar(Ext->Mmio + BOCHS_MMIO_VGA, VGA_ATTRIBUTE_PALETTE_SOURCE);
    return NO_ERROR;
}

/* ---- HwStartIO. */

static VP_STATUS QueryNumModes(PVOID HwDeviceExtension, PBOCHS_EXTENSION Ext,
                               PVIDEO_REQUEST_PACKET Vrp, ULONG_PTR *Information)
{
    VIDEO_NUM_MODES numModes;

    *Information = sizeof(numModes);
    if (Vrp->OutputBuffer == NULL || Vrp->OutputBufferLength < sizeof(numModes)) {
        return ERROR_INSUFFICIENT_BUFFER;
    }
    if (!BuildModes(HwDeviceExtension, Ext)) {
        *Information = 0;
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    numModes.NumModes = Ext->ModeCount;
    numModes.ModeInformationLength = sizeof(VIDEO_MODE_INFORMATION);
    VideoPortMoveMemory(Vrp->OutputBuffer, &numModes, sizeof(numModes));
    return NO_ERROR;
}

static VP_STATUS QueryAvailModes(PVOID HwDeviceExtension, PBOCHS_EXTENSION Ext,
                                 PVIDEO_REQUEST_PACKET Vrp, ULONG_PTR *Information)
{
    ULONG size;

    if (!BuildModes(HwDeviceExtension, Ext)) {
        *Information = 0;
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    size = Ext->ModeCount * (ULONG)sizeof(VIDEO_MODE_INFORMATION);
    *Information = size;
    if (Vrp->OutputBuffer == NULL || Vrp->OutputBufferLength < size) {
        return ERROR_INSUFFICIENT_BUFFER;
    }
    VideoPortMoveMemory(Vrp->OutputBuffer, Ext->Modes, size);
    return NO_ERROR;
}

static VP_STATUS SetCurrentMode(PVOID HwDeviceExtension, PBOCHS_EXTENSION Ext,
                                PVIDEO_REQUEST_PACKET Vrp, ULONG_PTR *Information)
{
    VIDEO_MODE request;
    ULONG index;
    VP_STATUS status;

    *Information = 0;
    if (Vrp->InputBuffer == NULL || Vrp->InputBufferLength < sizeof(request)) {
        return ERROR_INSUFFICIENT_BUFFER;
    }
    VideoPortMoveMemory(&request, Vrp->InputBuffer, sizeof(request));
    index = request.RequestedMode & ~(VIDEO_MODE_NO_ZERO_MEMORY | VIDEO_MODE_MAP_MEM_LINEAR);
    if (!BuildModes(HwDeviceExtension, Ext)) {
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    if (index >= Ext->ModeCount) {
        return ERROR_INVALID_PARAMETER;
    }
    status = ProgramMode(Ext, &Ext->Modes[index],
                         (BOOLEAN)((request.RequestedMode & VIDEO_MODE_NO_ZERO_MEMORY) == 0));
    if (status == NO_ERROR) {
        Ext->CurrentMode = index;
    }
    return status;
}

static VP_STATUS QueryCurrentMode(PBOCHS_EXTENSION Ext, PVIDEO_REQUEST_PACKET Vrp,
                                  ULONG_PTR *Information)
{
    *Information = sizeof(VIDEO_MODE_INFORMATION);
    if (Vrp->OutputBuffer == NULL || Vrp->OutputBufferLength < sizeof(VIDEO_MODE_INFORMATION)) {
        return ERROR_INSUFFICIENT_BUFFER;
    }
    if (Ext->CurrentMode == BOCHS_NO_MODE || Ext->Modes == NULL) {
        /* No mode set since the start or the last reset. */
        *Information = 0;
        return ERROR_INVALID_FUNCTION;
    }
    VideoPortMoveMemory(Vrp->OutputBuffer, &Ext->Modes[Ext->CurrentMode],
                        sizeof(VIDEO_MODE_INFORMATION));
    return NO_ERROR;
}

/* The bytes the current mode shows (the whole VRAM when no mode is set). */
static ULONG FrameBufferLength(PBOCHS_EXTENSION Ext)
{
    if (Ext->CurrentMode == BOCHS_NO_MODE || Ext->Modes == NULL) {
        return Ext->VramSize;
    }
    return Ext->Modes[Ext->CurrentMode].ScreenStride *
           Ext->Modes[Ext->CurrentMode].VisScreenHeight;
}

/* Maps the frame buffer of the current mode into the calling process: VIDEO_MEMORY in,
 * VIDEO_MEMORY_INFORMATION out. A display driver sets the mode first (DrvEnableSurface), so
 * what is mapped is exactly the visible frame, at the start of VRAM, write-combined; the
 * video RAM it reports is that same range (this sample keeps nothing off screen). */
static VP_STATUS MapVideoMemory(PVOID HwDeviceExtension, PBOCHS_EXTENSION Ext,
                                PVIDEO_REQUEST_PACKET Vrp, ULONG_PTR *Information)
{
    VIDEO_MEMORY request;
    VIDEO_MEMORY_INFORMATION information;
    ULONG frameLength = FrameBufferLength(Ext);
    ULONG length = frameLength;
    ULONG inIoSpace = VIDEO_MEMORY_SPACE_MEMORY | VIDEO_MEMORY_SPACE_USER_MODE |
                      VIDEO_MEMORY_SPACE_P6CACHE;
    PVOID address;
    VP_STATUS status;

    *Information = sizeof(information);
    if (Vrp->InputBuffer == NULL || Vrp->InputBufferLength < sizeof(request) ||
        Vrp->OutputBuffer == NULL || Vrp->OutputBufferLength < sizeof(information)) {
        return ERROR_INSUFFICIENT_BUFFER;
    }
    VideoPortMoveMemory(&request, Vrp->InputBuffer, sizeof(request));
    /* On input the process to map into (NULL: the caller's); on output the address. */
    address = request.RequestedVirtualAddress;
    status = VideoPortMapMemory(HwDeviceExtension, Ext->FrameBuffer, &length, &inIoSpace,
                                &address);
    if (status != NO_ERROR) {
        *Information = 0;
        return status;
    }
    information.VideoRamBase = address;
    information.VideoRamLength = frameLength;
    information.FrameBufferBase = address;
    information.FrameBufferLength = frameLength;
    VideoPortMoveMemory(Vrp->OutputBuffer, &information, sizeof(information));
    return NO_ERROR;
}

/* Unmaps what MAP_VIDEO_MEMORY returned: VIDEO_MEMORY in (RequestedVirtualAddress = the
 * address), in the process that mapped it (the port undoes leftovers at IRP_MJ_CLEANUP). */
static VP_STATUS UnmapVideoMemory(PVOID HwDeviceExtension, PVIDEO_REQUEST_PACKET Vrp,
                                  ULONG_PTR *Information)
{
    VIDEO_MEMORY request;

    *Information = 0;
    if (Vrp->InputBuffer == NULL || Vrp->InputBufferLength < sizeof(request)) {
        return ERROR_INSUFFICIENT_BUFFER;
    }
    VideoPortMoveMemory(&request, Vrp->InputBuffer, sizeof(request));
#ifdef BOCHS_MISBEHAVE_LEAK
    (void)HwDeviceExtension;
    return NO_ERROR;
#else
    return VideoPortUnmapMemory(HwDeviceExtension, request.RequestedVirtualAddress, NULL);
#endif
}

static BOOLEAN NTAPI BochsStartIO(PVOID HwDeviceExtension, PVIDEO_REQUEST_PACKET Vrp)
{
    PBOCHS_EXTENSION ext = (PBOCHS_EXTENSION)HwDeviceExtension;
    ULONG_PTR information = 0;
    VP_STATUS status;

    switch (Vrp->IoControlCode) {
    case IOCTL_VIDEO_QUERY_NUM_AVAIL_MODES:
        status = QueryNumModes(HwDeviceExtension, ext, Vrp, &information);
        break;
    case IOCTL_VIDEO_QUERY_AVAIL_MODES:
        status = QueryAvailModes(HwDeviceExtension, ext, Vrp, &information);
        break;
    case IOCTL_VIDEO_SET_CURRENT_MODE:
        status = SetCurrentMode(HwDeviceExtension, ext, Vrp, &information);
        break;
    case IOCTL_VIDEO_QUERY_CURRENT_MODE:
        status = QueryCurrentMode(ext, Vrp, &information);
        break;
    case IOCTL_VIDEO_MAP_VIDEO_MEMORY:
        status = MapVideoMemory(HwDeviceExtension, ext, Vrp, &information);
        break;
    case IOCTL_VIDEO_UNMAP_VIDEO_MEMORY:
        status = UnmapVideoMemory(HwDeviceExtension, Vrp, &information);
        break;
    case IOCTL_VIDEO_RESET_DEVICE:
        /* The display driver is done with the adapter: display off, mode table freed. */
        DisplayOff(ext);
        ext->SleepingMode = BOCHS_NO_MODE;
        FreeModes(HwDeviceExtension, ext);
        status = NO_ERROR;
        break;
    default:
        status = ERROR_INVALID_FUNCTION;
        break;
    }
    Vrp->StatusBlock->Status = status;
    Vrp->StatusBlock->Information = information;
    return TRUE;
}

/* ---- HwFindAdapter, HwInitialize. */

static VP_STATUS NTAPI BochsFindAdapter(PVOID HwDeviceExtension, PVOID HwContext,
                                        PWSTR ArgumentString, PVIDEO_PORT_CONFIG_INFO ConfigInfo,
                                        PUCHAR Again)
{
    PBOCHS_EXTENSION ext = (PBOCHS_EXTENSION)HwDeviceExtension;
    VIDEO_ACCESS_RANGE ranges[4];
    PVIDEO_ACCESS_RANGE frameBuffer = NULL, mmio = NULL;
    ULONG slot = 0, i, vram;
    VP_STATUS status;

    (void)HwContext;
    (void)ArgumentString;
    (void)ConfigInfo;
    *Again = FALSE;
    ext->CurrentMode = BOCHS_NO_MODE;
    ext->SleepingMode = BOCHS_NO_MODE;
    VideoPortZeroMemory(ranges, sizeof(ranges));
    status = VideoPortGetAccessRanges(HwDeviceExtension, 0, NULL, 4, ranges, NULL, NULL, &slot);
    if (status != NO_ERROR) {
        return status;
    }
    /* The memory ranges in BAR order: BAR0 the frame buffer, then BAR2 the registers. */
    for (i = 0; i < 4; i++) {
        if (ranges[i].RangeLength == 0 || ranges[i].RangeInIoSpace) {
            continue;
        }
        if (frameBuffer == NULL) {
            frameBuffer = &ranges[i];
        } else if (mmio == NULL) {
            mmio = &ranges[i];
        }
    }
    if (frameBuffer == NULL || mmio == NULL || mmio->RangeLength < BOCHS_MMIO_MIN_SIZE) {
        return ERROR_DEV_NOT_EXIST;
    }
    ext->Mmio = (PUCHAR)VideoPortGetDeviceBase(HwDeviceExtension, mmio->RangeStart,
                                               BOCHS_MMIO_MIN_SIZE, FALSE);
    if (ext->Mmio == NULL) {
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    ext->Version = DetectVersion(ext);
    if (ext->Version == 0) {
        return ERROR_DEV_NOT_EXIST; /* the mapping is undone with the device */
    }
    ext->FrameBuffer = frameBuffer->RangeStart;
    ext->FrameBufferLength = frameBuffer->RangeLength;
    vram = (ULONG)DispiRead(ext, DISPI_VIDEO_MEMORY_64K) << 16;
    ext->VramSize = vram != 0 && vram < ext->FrameBufferLength ? vram : ext->FrameBufferLength;
    ReadCapabilities(ext);
    ReadScreenSize(ext);
    if (!BuildModes(HwDeviceExtension, ext)) {
        return ERROR_DEV_NOT_EXIST;
    }
    status = WriteHardwareInformation(HwDeviceExtension, ext);
    if (status != NO_ERROR) {
        FreeModes(HwDeviceExtension, ext);
        return status;
    }
    VideoPortDebugPrint(Info,
                        "bochs_miniport: DISPI %x, %u KiB VRAM, up to %ux%ux%u, %u modes\n",
                        (ULONG)ext->Version, ext->VramSize >> 10, (ULONG)ext->MaxXres,
                        (ULONG)ext->MaxYres, (ULONG)ext->MaxBpp, ext->ModeCount);
    return NO_ERROR;
}

/* ---- Child devices: the monitor, and its EDID from BAR2+0. */

/* UId of the one monitor. */
#define BOCHS_MONITOR_UID 0x100

/* HwGetVideoChildDescriptor: ChildIndex 1 is the monitor; its descriptor is the EDID block the
 * device exposes at BAR2+0 when it has the EDID header (otherwise nothing, as for a monitor
 * without DDC). There is nothing after it. */
static VP_STATUS NTAPI BochsGetChildDescriptor(PVOID HwDeviceExtension,
                                               PVIDEO_CHILD_ENUM_INFO ChildEnumInfo,
                                               PVIDEO_CHILD_TYPE VideoChildType,
                                               PUCHAR pChildDescriptor, PULONG UId,
                                               PULONG pUnused)
{
    PBOCHS_EXTENSION ext = HwDeviceExtension;
    static const UCHAR header[8] = {0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00};
    ULONG i, n;

    *pUnused = 0;
    if (ChildEnumInfo->ChildIndex != 1) {
        return VIDEO_ENUM_NO_MORE_DEVICES;
    }
    *VideoChildType = Monitor;
    *UId = BOCHS_MONITOR_UID;
    for (i = 0; i < sizeof(header); i++) {
        if (VideoPortReadRegisterUchar(ext->Mmio + i) != header[i]) {
            return VIDEO_ENUM_MORE_DEVICES;
        }
    }
    n = ChildEnumInfo->ChildDescriptorSize < 128 ? ChildEnumInfo->ChildDescriptorSize : 128;
    for (i = 0; i < n; i++) {
        pChildDescriptor[i] = VideoPortReadRegisterUchar(ext->Mmio + i);
    }
    return VIDEO_ENUM_MORE_DEVICES;
}

/* ---- Power. The adapter has no DPMS: it is on or off (standby and suspend are refused);
 * off keeps VRAM, and on restores the mode that was set. The monitor is QEMU's window: every
 * state is accepted, nothing to program. */

static VP_STATUS NTAPI BochsGetPowerState(PVOID HwDeviceExtension, ULONG HwId,
                                          PVIDEO_POWER_MANAGEMENT VideoPowerControl)
{
    (void)HwDeviceExtension;
    if (HwId == BOCHS_MONITOR_UID) {
        return NO_ERROR;
    }
    if (HwId != DISPLAY_ADAPTER_HW_ID) {
        return ERROR_INVALID_PARAMETER;
    }
    switch (VideoPowerControl->PowerState) {
    case VideoPowerOn:
    case VideoPowerOff:
    case VideoPowerHibernate:
    case VideoPowerShutdown:
        return NO_ERROR;
    default:
        return ERROR_INVALID_FUNCTION;
    }
}

static VP_STATUS NTAPI BochsSetPowerState(PVOID HwDeviceExtension, ULONG HwId,
                                          PVIDEO_POWER_MANAGEMENT VideoPowerControl)
{
    PBOCHS_EXTENSION ext = HwDeviceExtension;
    ULONG mode;

    if (HwId == BOCHS_MONITOR_UID) {
        return NO_ERROR;
    }
    if (HwId != DISPLAY_ADAPTER_HW_ID) {
        return ERROR_INVALID_PARAMETER;
    }
    if (VideoPowerControl->PowerState == VideoPowerOn) {
        mode = ext->SleepingMode;
        ext->SleepingMode = BOCHS_NO_MODE;
        if (mode != BOCHS_NO_MODE && ext->Modes != NULL && mode < ext->ModeCount) {
            if (ProgramMode(ext, &ext->Modes[mode], FALSE) != NO_ERROR) {
                return ERROR_INVALID_PARAMETER;
            }
            ext->CurrentMode = mode;
        }
        return NO_ERROR;
    }
    if (ext->CurrentMode != BOCHS_NO_MODE) {
        ext->SleepingMode = ext->CurrentMode;
    }
    DisplayOff(ext);
    return NO_ERROR;
}

static BOOLEAN NTAPI BochsInitialize(PVOID HwDeviceExtension)
{
    (void)HwDeviceExtension;
    return TRUE;
}

/* The miniport's entry point: registers its callbacks with the port. Discardable (INIT). */
#if defined(_WIN32)
__attribute__((section("INIT")))
#endif
ULONG NTAPI DriverEntry(PVOID Context1, PVOID Context2)
{
    VIDEO_HW_INITIALIZATION_DATA init;

    VideoPortZeroMemory(&init, sizeof(init));
    init.HwInitDataSize = sizeof(init);
    init.AdapterInterfaceType = PCIBus;
    init.HwFindAdapter = BochsFindAdapter;
    init.HwInitialize = BochsInitialize;
    init.HwStartIO = BochsStartIO;
    init.HwDeviceExtensionSize = sizeof(BOCHS_EXTENSION);
    init.HwGetVideoChildDescriptor = BochsGetChildDescriptor;
    init.HwGetPowerState = BochsGetPowerState;
    init.HwSetPowerState = BochsSetPowerState;
    return VideoPortInitialize(Context1, Context2, &init, NULL);
}
