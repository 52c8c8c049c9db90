/*
 * vbe_miniport.c: a VESA BIOS Extensions display miniport for videoprt-rs, in portable C,
 * using only the documented VideoPort API of video.h and the standard IOCTLs of ntddvdeo.h.
 * It never touches the adapter's registers: everything goes through the video BIOS (INT 10h,
 * VBE 2.0+ functions 4F00h-4F03h and VBE/DDC 4F15h), the way a generic VGA-compatible
 * miniport drives any adapter with a VESA BIOS. On ntsim that BIOS is the one of QEMU's
 * Bochs display (ntsim/src/devices/vbe.rs), run by the HAL's x86 emulator.
 *
 * What it does:
 *  - HwFindAdapter: looks VideoPortQueryServices up by name through
 *    VIDEO_PORT_CONFIG_INFO.VideoPortGetProcAddress (as miniports that must also load on older
 *    ports do) and checks the lookup against the import; gets VIDEO_PORT_INT10_INTERFACE from
 *    it; allocates the interface's real-mode buffer (Int10AllocateBuffer); reads the controller
 *    information (4F00h with "VBE2", Int10WriteMemory / Int10CallBios / Int10ReadMemory), the
 *    OEM string and the mode list (far pointers into the video BIOS's ROM, read with
 *    Int10ReadMemory), the information of every listed mode (4F01h), and the monitor's EDID
 *    (4F15h); gives the buffer back (Int10FreeBuffer) and writes HardwareInformation.* to the
 *    registry. It keeps the mode table in its extension, so nothing needs freeing later (XDDM
 *    has no teardown callback), and keeps its reference on the interface for the same reason.
 *  - Modes: the VBE modes with a linear frame buffer, 32 bits per pixel in direct colour
 *    8:8:8 (red at bit 16) that fit the VRAM, in the BIOS's list order; the mode index a client
 *    sets is the position in that table.
 *  - HwStartIO answers the standard video IOCTLs: QUERY_NUM_AVAIL_MODES, QUERY_AVAIL_MODES,
 *    SET_CURRENT_MODE (4F02h with the linear-frame-buffer bit, through Int10CallBios, checked
 *    with 4F03h through VideoPortInt10), QUERY_CURRENT_MODE, MAP_VIDEO_MEMORY /
 *    UNMAP_VIDEO_MEMORY (VideoPortMapMemory of the mode's PhysBasePtr into the calling process)
 *    and RESET_DEVICE (back to VGA mode 3 through VideoPortInt10). Anything else is
 *    ERROR_INVALID_FUNCTION.
 *  - HwGetVideoChildDescriptor: one child, the monitor, with the 128-byte EDID read by 4F15h
 *    as its descriptor (when the BIOS had one); index 0 (ACPI) is not answered.
 *
 * Windows: x86_64-w64-mingw32-gcc against mingw-w64's DDK headers through videoprt_rs.h,
 * linked by GNU ld or lld-link. Host: -DVIDEOPRT_RS_HOST and -DDriverEntry=CVbeDriverEntry;
 * the host build also exports VbeHostGetChildDescriptor so the tests can call the callback.
 * No C runtime: copies go through VideoPortMoveMemory/VideoPortZeroMemory.
 */
#include "videoprt_rs.h"
#ifndef VIDEOPRT_RS_HOST
#include <devioctl.h>
#endif

#ifdef VIDEOPRT_RS_HOST
#define WIDE(s) u##s
#else
#define WIDE(s) L##s
#endif

#define VBE_OK 0x004Fu
#define VBE_CONTROLLER_INFO 0x4F00u
#define VBE_MODE_INFO 0x4F01u
#define VBE_SET_MODE 0x4F02u
#define VBE_CURRENT_MODE 0x4F03u
#define VBE_DDC 0x4F15u
#define VBE_MODE_LINEAR 0x4000u
#define VBE_MODE_KEEP_MEMORY 0x8000u
#define VGA_TEXT_MODE 0x0003u

/* ModeInfoBlock.ModeAttributes: supported, colour, graphics, linear frame buffer. */
#define VBE_ATTRIBUTES_NEEDED (0x01u | 0x08u | 0x10u | 0x80u)
#define VBE_DIRECT_COLOUR 6u

#define VBE_BPP 32u
#define VBE_FREQUENCY 60u
#define VBE_MAX_MODES 32u
#define VBE_NO_MODE 0xFFFFFFFFu
#define VBE_BUFFER_BYTES 4096u
#define EDID_BYTES 128u
#define OEM_STRING_MAX 64u

typedef struct _VBE_MODE {
    USHORT Number;
    PHYSICAL_ADDRESS FrameBuffer; /* PhysBasePtr */
    VIDEO_MODE_INFORMATION Info;
} VBE_MODE, *PVBE_MODE;

/* The HwDeviceExtension (zeroed by the port). HwStartIO calls are serialised by the port. */
typedef struct _VBE_EXTENSION {
    VIDEO_PORT_INT10_INTERFACE Int10;
    USHORT VbeVersion;
    ULONG VramSize;
    VBE_MODE Modes[VBE_MAX_MODES];
    ULONG ModeCount;
    ULONG CurrentMode; /* index into Modes, or VBE_NO_MODE */
    BOOLEAN HaveEdid;
    UCHAR Edid[EDID_BYTES];
    WCHAR OemString[OEM_STRING_MAX]; /* wide, terminated */
    ULONG OemStringBytes;
} VBE_EXTENSION, *PVBE_EXTENSION;

static USHORT Word(const UCHAR *B, ULONG At)
{
    return (USHORT)(B[At] | (B[At + 1] << 8));
}

static ULONG Dword(const UCHAR *B, ULONG At)
{
    return (ULONG)Word(B, At) | ((ULONG)Word(B, At + 2) << 16);
}

/* INT 10h with AX, BX, CX, DX and ES:DI through the interface; the AX it returned, or 0 if the
 * call itself failed. */
static ULONG CallBios(PVBE_EXTENSION Ext, ULONG Ax, ULONG Bx, ULONG Cx, ULONG Dx, USHORT Es,
                      USHORT Di, ULONG *BxOut)
{
    INT10_BIOS_ARGUMENTS args;
    VideoPortZeroMemory(&args, sizeof(args));
    args.Eax = Ax;
    args.Ebx = Bx;
    args.Ecx = Cx;
    args.Edx = Dx;
    args.Edi = Di;
    args.SegEs = Es;
    if (Ext->Int10.Int10CallBios(Ext->Int10.Context, &args) != NO_ERROR) {
        return 0;
    }
    if (BxOut != NULL) {
        *BxOut = args.Ebx & 0xFFFFu;
    }
    return args.Eax & 0xFFFFu;
}

/* Reads a far pointer's target (segment:offset packed as the VBE blocks hold them). */
static BOOLEAN ReadFar(PVBE_EXTENSION Ext, ULONG Far, PVOID Out, ULONG Length)
{
    return Ext->Int10.Int10ReadMemory(Ext->Int10.Context, (USHORT)(Far >> 16), (USHORT)Far, Out,
                                      Length) == NO_ERROR;
}

/* 4F00h: VBE version, VRAM, the OEM string and the mode numbers (into Numbers, at most
 * VBE_MAX_MODES; returns how many, 0 on failure). */
static ULONG ReadControllerInfo(PVBE_EXTENSION Ext, USHORT Seg, USHORT Off, USHORT *Numbers)
{
    UCHAR info[512];
    UCHAR list[2 * VBE_MAX_MODES];
    UCHAR oem[OEM_STRING_MAX];
    ULONG i, count = 0;
    VideoPortZeroMemory(info, sizeof(info));
    info[0] = 'V';
    info[1] = 'B';
    info[2] = 'E';
    info[3] = '2';
    if (Ext->Int10.Int10WriteMemory(Ext->Int10.Context, Seg, Off, info, 4) != NO_ERROR ||
        CallBios(Ext, VBE_CONTROLLER_INFO, 0, 0, 0, Seg, Off, NULL) != VBE_OK ||
        Ext->Int10.Int10ReadMemory(Ext->Int10.Context, Seg, Off, info, sizeof(info)) !=
            NO_ERROR) {
        return 0;
    }
    if (info[0] != 'V' || info[1] != 'E' || info[2] != 'S' || info[3] != 'A') {
        return 0;
    }
    Ext->VbeVersion = Word(info, 4);
    Ext->VramSize = (ULONG)Word(info, 18) << 16;
    if (ReadFar(Ext, Dword(info, 6), oem, sizeof(oem))) {
        for (i = 0; i < OEM_STRING_MAX - 1 && oem[i] >= 0x20 && oem[i] < 0x7F; i++) {
            Ext->OemString[i] = oem[i];
        }
        Ext->OemString[i] = 0;
        Ext->OemStringBytes = (i + 1) * (ULONG)sizeof(WCHAR);
    }
    if (!ReadFar(Ext, Dword(info, 14), list, sizeof(list))) {
        return 0;
    }
    for (i = 0; i < VBE_MAX_MODES; i++) {
        USHORT number = Word(list, 2 * i);
        if (number == 0xFFFFu) {
            break;
        }
        Numbers[count++] = number;
    }
    return count;
}

/* 4F01h: adds `Number` to the mode table if it is a linear 32-bpp 8:8:8 mode that fits. */
static VOID AddMode(PVBE_EXTENSION Ext, USHORT Number, USHORT Seg, USHORT Off)
{
    UCHAR b[256];
    ULONG width, height, stride;
    PVBE_MODE mode;
    if (CallBios(Ext, VBE_MODE_INFO, 0, Number, 0, Seg, Off, NULL) != VBE_OK ||
        Ext->Int10.Int10ReadMemory(Ext->Int10.Context, Seg, Off, b, sizeof(b)) != NO_ERROR) {
        return;
    }
    width = Word(b, 18);
    height = Word(b, 20);
    /* LinBytesPerScanLine (VBE 3.0) when given, else BytesPerScanLine. */
    stride = Word(b, 50) != 0 ? Word(b, 50) : Word(b, 16);
    if ((Word(b, 0) & VBE_ATTRIBUTES_NEEDED) != VBE_ATTRIBUTES_NEEDED || b[25] != VBE_BPP ||
        b[27] != VBE_DIRECT_COLOUR || b[31] != 8 || b[32] != 16 || b[33] != 8 || b[34] != 8 ||
        b[35] != 8 || b[36] != 0 || Dword(b, 40) == 0 || stride < width * 4 ||
        stride * height > Ext->VramSize || Ext->ModeCount == VBE_MAX_MODES) {
        return;
    }
    mode = &Ext->Modes[Ext->ModeCount];
    mode->Number = Number;
    mode->FrameBuffer.QuadPart = Dword(b, 40);
    VideoPortZeroMemory(&mode->Info, sizeof(mode->Info));
    mode->Info.Length = sizeof(mode->Info);
    mode->Info.ModeIndex = Ext->ModeCount;
    mode->Info.VisScreenWidth = width;
    mode->Info.VisScreenHeight = height;
    mode->Info.ScreenStride = stride;
    mode->Info.NumberOfPlanes = 1;
    mode->Info.BitsPerPlane = VBE_BPP;
    mode->Info.Frequency = VBE_FREQUENCY;
    mode->Info.NumberRedBits = 8;
    mode->Info.NumberGreenBits = 8;
    mode->Info.NumberBlueBits = 8;
    mode->Info.RedMask = 0x00FF0000u;
    mode->Info.GreenMask = 0x0000FF00u;
    mode->Info.BlueMask = 0x000000FFu;
    mode->Info.AttributeFlags = VIDEO_MODE_COLOR | VIDEO_MODE_GRAPHICS;
    mode->Info.VideoMemoryBitmapWidth = width;
    mode->Info.VideoMemoryBitmapHeight = Ext->VramSize / stride;
    Ext->ModeCount++;
}

/* 4F15h: the monitor's EDID, if the BIOS does DDC2 and the block is valid (header, checksum).
 * The screen size (bytes 21 and 22, centimetres) goes into every mode. */
static VOID ReadEdid(PVBE_EXTENSION Ext, USHORT Seg, USHORT Off)
{
    static const UCHAR header[8] = {0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00};
    ULONG capabilities = 0, i;
    UCHAR sum = 0;
    if (CallBios(Ext, VBE_DDC, 0x00, 0, 0, 0, 0, &capabilities) != VBE_OK ||
        (capabilities & 0x02u) == 0 ||
        CallBios(Ext, VBE_DDC, 0x01, 0, 0, Seg, Off, NULL) != VBE_OK ||
        Ext->Int10.Int10ReadMemory(Ext->Int10.Context, Seg, Off, Ext->Edid, EDID_BYTES) !=
            NO_ERROR) {
        return;
    }
    for (i = 0; i < EDID_BYTES; i++) {
        sum = (UCHAR)(sum + Ext->Edid[i]);
    }
    for (i = 0; i < sizeof(header); i++) {
        if (Ext->Edid[i] != header[i]) {
            return;
        }
    }
    if (sum != 0) {
        return;
    }
    Ext->HaveEdid = TRUE;
    for (i = 0; i < Ext->ModeCount; i++) {
        Ext->Modes[i].Info.XMillimeter = (ULONG)Ext->Edid[21] * 10u;
        Ext->Modes[i].Info.YMillimeter = (ULONG)Ext->Edid[22] * 10u;
    }
}

/* ---- The registry. */

static WCHAR ChipTypeName[] = WIDE("HardwareInformation.ChipType");
static WCHAR MemorySizeName[] = WIDE("HardwareInformation.MemorySize");
static WCHAR AdapterStringName[] = WIDE("HardwareInformation.AdapterString");
static WCHAR ProcAddressName[] = WIDE("VbeMiniport.GetProcAddress");
static WCHAR ChipType[] = WIDE("VESA BIOS Extensions");

static VP_STATUS WriteHardwareInformation(PVOID HwDeviceExtension, PVBE_EXTENSION Ext)
{
    ULONG memorySize = Ext->VramSize;
    VP_STATUS status = VideoPortSetRegistryParameters(HwDeviceExtension, ChipTypeName, ChipType,
                                                      sizeof(ChipType));
    if (status == NO_ERROR) {
        status = VideoPortSetRegistryParameters(HwDeviceExtension, MemorySizeName, &memorySize,
                                                sizeof(memorySize));
    }
    if (status == NO_ERROR && Ext->OemStringBytes != 0) {
        status = VideoPortSetRegistryParameters(HwDeviceExtension, AdapterStringName,
                                                Ext->OemString, Ext->OemStringBytes);
    }
    return status;
}

/* ---- VideoPortGetProcAddress. */

typedef VP_STATUS(NTAPI *QUERY_SERVICES)(PVOID, VIDEO_PORT_SERVICES, PINTERFACE);

/* Finds VideoPortQueryServices by name (NULL if the port lacks it) and records, as three
 * ULONGs in VbeMiniport.GetProcAddress, what the lookups gave: 1 if the address is the one
 * the import table holds, 1 if a name the port does not export gives NULL, 1 if the right
 * name in the wrong case gives NULL. */
static QUERY_SERVICES FindQueryServices(PVOID HwDeviceExtension,
                                        PVIDEO_PORT_CONFIG_INFO ConfigInfo)
{
    static UCHAR queryServices[] = "VideoPortQueryServices";
    static UCHAR missing[] = "VideoPortNoSuchFunction";
    static UCHAR wrongCase[] = "videoportqueryservices";
    PVOID found;
    ULONG checks[3];
    if (ConfigInfo->Length < sizeof(VIDEO_PORT_CONFIG_INFO) ||
        ConfigInfo->VideoPortGetProcAddress == NULL) {
        return NULL;
    }
    found = ConfigInfo->VideoPortGetProcAddress(HwDeviceExtension, queryServices);
    checks[0] = found != NULL && found == (PVOID)VideoPortQueryServices;
    checks[1] = ConfigInfo->VideoPortGetProcAddress(HwDeviceExtension, missing) == NULL;
    checks[2] = ConfigInfo->VideoPortGetProcAddress(HwDeviceExtension, wrongCase) == NULL;
    (void)VideoPortSetRegistryParameters(HwDeviceExtension, ProcAddressName, checks,
                                         sizeof(checks));
    return (QUERY_SERVICES)found;
}

/* ---- HwFindAdapter, HwInitialize. */

static VP_STATUS NTAPI VbeFindAdapter(PVOID HwDeviceExtension, PVOID HwContext,
                                      PWSTR ArgumentString, PVIDEO_PORT_CONFIG_INFO ConfigInfo,
                                      PUCHAR Again)
{
    PVBE_EXTENSION ext = (PVBE_EXTENSION)HwDeviceExtension;
    QUERY_SERVICES queryServices;
    USHORT numbers[VBE_MAX_MODES];
    USHORT seg = 0, off = 0;
    ULONG length = VBE_BUFFER_BYTES, count, i;
    VP_STATUS status;
    (void)HwContext;
    (void)ArgumentString;
    *Again = FALSE;
    ext->CurrentMode = VBE_NO_MODE;
    ext->ModeCount = 0;
    queryServices = FindQueryServices(HwDeviceExtension, ConfigInfo);
    if (queryServices == NULL) {
        return ERROR_DEV_NOT_EXIST;
    }
    VideoPortZeroMemory(&ext->Int10, sizeof(ext->Int10));
    ext->Int10.Size = sizeof(ext->Int10);
    ext->Int10.Version = VIDEO_PORT_INT10_INTERFACE_VERSION_1;
    status = queryServices(HwDeviceExtension, VideoPortServicesInt10, (PINTERFACE)&ext->Int10);
    if (status != NO_ERROR) {
        return status;
    }
    status = ext->Int10.Int10AllocateBuffer(ext->Int10.Context, &seg, &off, &length);
    if (status != NO_ERROR) {
        ext->Int10.InterfaceDereference(ext->Int10.Context);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    count = ReadControllerInfo(ext, seg, off, numbers);
    for (i = 0; i < count; i++) {
        AddMode(ext, numbers[i], seg, off);
    }
    ReadEdid(ext, seg, off);
    (void)ext->Int10.Int10FreeBuffer(ext->Int10.Context, seg, off);
    if (ext->ModeCount == 0) {
        ext->Int10.InterfaceDereference(ext->Int10.Context);
        return ERROR_DEV_NOT_EXIST;
    }
    status = WriteHardwareInformation(HwDeviceExtension, ext);
    if (status != NO_ERROR) {
        ext->Int10.InterfaceDereference(ext->Int10.Context);
    }
    return status;
}

static BOOLEAN NTAPI VbeInitialize(PVOID HwDeviceExtension)
{
    (void)HwDeviceExtension;
    return TRUE;
}

/* ---- Mode sets. */

/* VGA text mode through the port's plain INT 10h (no buffer needed). */
static VOID DisplayOff(PVOID HwDeviceExtension, PVBE_EXTENSION Ext)
{
    VIDEO_X86_BIOS_ARGUMENTS args;
    VideoPortZeroMemory(&args, sizeof(args));
    args.Eax = VBE_SET_MODE;
    args.Ebx = VGA_TEXT_MODE;
    (void)VideoPortInt10(HwDeviceExtension, &args);
    Ext->CurrentMode = VBE_NO_MODE;
}

/* 4F02h with the linear frame buffer, then 4F03h must report that mode. */
static VP_STATUS ProgramMode(PVOID HwDeviceExtension, PVBE_EXTENSION Ext, ULONG Index,
                             BOOLEAN Clear)
{
    VIDEO_X86_BIOS_ARGUMENTS args;
    USHORT number = Ext->Modes[Index].Number;
    ULONG bx = number | VBE_MODE_LINEAR | (Clear ? 0 : VBE_MODE_KEEP_MEMORY);
    if (CallBios(Ext, VBE_SET_MODE, bx, 0, 0, 0, 0, NULL) != VBE_OK) {
        DisplayOff(HwDeviceExtension, Ext);
        return ERROR_INVALID_PARAMETER;
    }
    VideoPortZeroMemory(&args, sizeof(args));
    args.Eax = VBE_CURRENT_MODE;
    if (VideoPortInt10(HwDeviceExtension, &args) != NO_ERROR ||
        (args.Eax & 0xFFFFu) != VBE_OK ||
        (args.Ebx & 0xFFFFu) != (ULONG)(number | VBE_MODE_LINEAR)) {
        DisplayOff(HwDeviceExtension, Ext);
        return ERROR_INVALID_PARAMETER;
    }
    Ext->CurrentMode = Index;
    return NO_ERROR;
}

/* ---- HwStartIO. */

static VP_STATUS QueryNumModes(PVBE_EXTENSION Ext, PVIDEO_REQUEST_PACKET Vrp,
                               ULONG_PTR *Information)
{
    VIDEO_NUM_MODES numModes;
    *Information = sizeof(numModes);
    if (Vrp->OutputBuffer == NULL || Vrp->OutputBufferLength < sizeof(numModes)) {
        return ERROR_INSUFFICIENT_BUFFER;
    }
    numModes.NumModes = Ext->ModeCount;
    numModes.ModeInformationLength = sizeof(VIDEO_MODE_INFORMATION);
    VideoPortMoveMemory(Vrp->OutputBuffer, &numModes, sizeof(numModes));
    return NO_ERROR;
}

static VP_STATUS QueryAvailModes(PVBE_EXTENSION Ext, PVIDEO_REQUEST_PACKET Vrp,
                                 ULONG_PTR *Information)
{
    ULONG i, size = Ext->ModeCount * (ULONG)sizeof(VIDEO_MODE_INFORMATION);
    PVIDEO_MODE_INFORMATION out = (PVIDEO_MODE_INFORMATION)Vrp->OutputBuffer;
    *Information = size;
    if (out == NULL || Vrp->OutputBufferLength < size) {
        return ERROR_INSUFFICIENT_BUFFER;
    }
    for (i = 0; i < Ext->ModeCount; i++) {
        VideoPortMoveMemory(&out[i], &Ext->Modes[i].Info, sizeof(VIDEO_MODE_INFORMATION));
    }
    return NO_ERROR;
}

static VP_STATUS SetCurrentMode(PVOID HwDeviceExtension, PVBE_EXTENSION Ext,
                                PVIDEO_REQUEST_PACKET Vrp, ULONG_PTR *Information)
{
    VIDEO_MODE request;
    ULONG index;
    *Information = 0;
    if (Vrp->InputBuffer == NULL || Vrp->InputBufferLength < sizeof(request)) {
        return ERROR_INSUFFICIENT_BUFFER;
    }
    VideoPortMoveMemory(&request, Vrp->InputBuffer, sizeof(request));
    index = request.RequestedMode & ~(VIDEO_MODE_NO_ZERO_MEMORY | VIDEO_MODE_MAP_MEM_LINEAR);
    if (index >= Ext->ModeCount) {
        return ERROR_INVALID_PARAMETER;
    }
    return ProgramMode(HwDeviceExtension, Ext, index,
                       (BOOLEAN)((request.RequestedMode & VIDEO_MODE_NO_ZERO_MEMORY) == 0));
}

static VP_STATUS QueryCurrentMode(PVBE_EXTENSION Ext, PVIDEO_REQUEST_PACKET Vrp,
                                  ULONG_PTR *Information)
{
    *Information = sizeof(VIDEO_MODE_INFORMATION);
    if (Vrp->OutputBuffer == NULL || Vrp->OutputBufferLength < sizeof(VIDEO_MODE_INFORMATION)) {
        return ERROR_INSUFFICIENT_BUFFER;
    }
    if (Ext->CurrentMode == VBE_NO_MODE) {
        *Information = 0;
        return ERROR_INVALID_FUNCTION;
    }
    VideoPortMoveMemory(Vrp->OutputBuffer, &Ext->Modes[Ext->CurrentMode].Info,
                        sizeof(VIDEO_MODE_INFORMATION));
    return NO_ERROR;
}

/* Maps the current mode's visible frame (at its PhysBasePtr) into the calling process. */
static VP_STATUS MapVideoMemory(PVOID HwDeviceExtension, PVBE_EXTENSION Ext,
                                PVIDEO_REQUEST_PACKET Vrp, ULONG_PTR *Information)
{
    VIDEO_MEMORY request;
    VIDEO_MEMORY_INFORMATION information;
    PVBE_MODE mode;
    ULONG frameLength, length;
    ULONG inIoSpace = VIDEO_MEMORY_SPACE_MEMORY | VIDEO_MEMORY_SPACE_USER_MODE |
                      VIDEO_MEMORY_SPACE_P6CACHE;
    PVOID address;
    VP_STATUS status;
    *Information = sizeof(information);
    if (Vrp->InputBuffer == NULL || Vrp->InputBufferLength < sizeof(request) ||
        Vrp->OutputBuffer == NULL || Vrp->OutputBufferLength < sizeof(information)) {
        return ERROR_INSUFFICIENT_BUFFER;
    }
    if (Ext->CurrentMode == VBE_NO_MODE) {
        *Information = 0;
        return ERROR_INVALID_FUNCTION;
    }
    mode = &Ext->Modes[Ext->CurrentMode];
    frameLength = mode->Info.ScreenStride * mode->Info.VisScreenHeight;
    length = frameLength;
    VideoPortMoveMemory(&request, Vrp->InputBuffer, sizeof(request));
    address = request.RequestedVirtualAddress;
    status = VideoPortMapMemory(HwDeviceExtension, mode->FrameBuffer, &length, &inIoSpace,
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

static VP_STATUS UnmapVideoMemory(PVOID HwDeviceExtension, PVIDEO_REQUEST_PACKET Vrp,
                                  ULONG_PTR *Information)
{
    VIDEO_MEMORY request;
    *Information = 0;
    if (Vrp->InputBuffer == NULL || Vrp->InputBufferLength < sizeof(request)) {
        return ERROR_INSUFFICIENT_BUFFER;
    }
    VideoPortMoveMemory(&request, Vrp->InputBuffer, sizeof(request));
    return VideoPortUnmapMemory(HwDeviceExtension, request.RequestedVirtualAddress, NULL);
}

static BOOLEAN NTAPI VbeStartIO(PVOID HwDeviceExtension, PVIDEO_REQUEST_PACKET Vrp)
{
    PVBE_EXTENSION ext = (PVBE_EXTENSION)HwDeviceExtension;
    ULONG_PTR information = 0;
    VP_STATUS status;
    switch (Vrp->IoControlCode) {
    case IOCTL_VIDEO_QUERY_NUM_AVAIL_MODES:
        status = QueryNumModes(ext, Vrp, &information);
        break;
    case IOCTL_VIDEO_QUERY_AVAIL_MODES:
        status = QueryAvailModes(ext, Vrp, &information);
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
        DisplayOff(HwDeviceExtension, ext);
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

/* ---- HwGetVideoChildDescriptor. */

#define VBE_MONITOR_UID 0x1000u

/* Child 1 is the monitor, described by its EDID; there is no other child. Index 0 is the
 * ACPI enumeration of the adapter itself, which this miniport does not answer. */
static VP_STATUS NTAPI VbeGetVideoChildDescriptor(PVOID HwDeviceExtension,
                                                  PVIDEO_CHILD_ENUM_INFO ChildEnumInfo,
                                                  PVIDEO_CHILD_TYPE VideoChildType,
                                                  PUCHAR pChildDescriptor, PULONG UId,
                                                  PULONG pUnused)
{
    PVBE_EXTENSION ext = (PVBE_EXTENSION)HwDeviceExtension;
    (void)pUnused;
    if (ChildEnumInfo == NULL || ChildEnumInfo->Size < sizeof(VIDEO_CHILD_ENUM_INFO) ||
        ChildEnumInfo->ChildIndex == 0) {
        return VIDEO_ENUM_INVALID_DEVICE;
    }
    if (ChildEnumInfo->ChildIndex > 1) {
        return VIDEO_ENUM_NO_MORE_DEVICES;
    }
    *VideoChildType = Monitor;
    *UId = VBE_MONITOR_UID;
    if (ext->HaveEdid && pChildDescriptor != NULL &&
        ChildEnumInfo->ChildDescriptorSize >= EDID_BYTES) {
        VideoPortMoveMemory(pChildDescriptor, ext->Edid, EDID_BYTES);
    }
    return VIDEO_ENUM_MORE_DEVICES;
}

#ifdef VIDEOPRT_RS_HOST
/* The host build's handle on the callback, for the tests. */
VP_STATUS NTAPI VbeHostGetChildDescriptor(PVOID HwDeviceExtension,
                                          PVIDEO_CHILD_ENUM_INFO ChildEnumInfo,
                                          PVIDEO_CHILD_TYPE VideoChildType,
                                          PUCHAR pChildDescriptor, PULONG UId, PULONG pUnused)
{
    return VbeGetVideoChildDescriptor(HwDeviceExtension, ChildEnumInfo, VideoChildType,
                                      pChildDescriptor, UId, pUnused);
}
#endif

/* ---- DriverEntry: registers the callbacks with the port. Discardable (INIT). */

#if defined(_WIN32)
__attribute__((section("INIT")))
#endif
ULONG NTAPI DriverEntry(PVOID Context1, PVOID Context2)
{
    VIDEO_HW_INITIALIZATION_DATA init;
    VideoPortZeroMemory(&init, sizeof(init));
    init.HwInitDataSize = sizeof(init);
    init.AdapterInterfaceType = PCIBus;
    init.HwFindAdapter = VbeFindAdapter;
    init.HwInitialize = VbeInitialize;
    init.HwStartIO = VbeStartIO;
    init.HwGetVideoChildDescriptor = VbeGetVideoChildDescriptor;
    init.HwDeviceExtensionSize = sizeof(VBE_EXTENSION);
    return VideoPortInitialize(Context1, Context2, &init, NULL);
}
