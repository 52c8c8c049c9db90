/*
 * edu_miniport.c: the videoprt-rs sample miniport for QEMU's edu device (PCI 1234:11e8),
 * in portable C, using only the documented VideoPort API of video.h.
 *
 * It mirrors sample-miniport/src/{hw,dma,ioctl,extension}.rs: the same IOCTLs
 * (sample-miniport/include/edu_sample.h), packet DMA (VideoPortLockBuffer, then the
 * VideoPortStartDma / VideoPortCompleteDma loop on *pLength, one scatter/gather element per
 * engine run, CompleteDma from the DPC after the last element, HwStartIO polling a done flag
 * with VideoPortStallExecution) and common-buffer DMA.
 *
 * Windows: x86_64-w64-mingw32-gcc against mingw-w64's ddk/miniport.h + ddk/video.h, linked
 * against videoprt_rs.sys's import library (see README, "Using videoprt_rs from a C
 * miniport"). Host: compiled with -DVIDEOPRT_RS_HOST (types from videoprt_host.h) and
 * -DDriverEntry=CEduDriverEntry, then linked with videoprt-rs and ntsim by the c-miniport crate.
 *
 * No C runtime: copies go through VideoPortMoveMemory/VideoPortZeroMemory, so the compiler
 * has no reason to emit memcpy/memset (the Windows build also uses -fno-builtin and
 * -ffreestanding; an accidental memcpy would fail the link, not become an import).
 */
#include "videoprt_rs.h"
#include "edu_sample.h"

/* The edu register map (QEMU docs/specs/edu.rst): BAR0, 1 MiB of MMIO. */
#define EDU_BAR0_SIZE (1u << 20)
#define EDU_IDENTIFICATION 0x00u
#define EDU_IDENTIFICATION_MAGIC 0xedu
#define EDU_LIVENESS 0x04u
#define EDU_INTERRUPT_STATUS 0x24u
#define EDU_INTERRUPT_ACK 0x64u
#define EDU_DMA_SOURCE 0x80u
#define EDU_DMA_DESTINATION 0x88u
#define EDU_DMA_COUNT 0x90u
#define EDU_DMA_COMMAND 0x98u
#define EDU_DMA_START 0x01u
#define EDU_DMA_TO_RAM 0x02u
#define EDU_DMA_IRQ 0x04u
#define EDU_DMA_INTERRUPT 0x100u
#define EDU_BUFFER_ADDRESS 0x40000u
#define EDU_BUFFER_SIZE 4096u

/* How long one engine operation may take before the request fails with ERROR_BUSY. */
#define EDU_TIMEOUT_US 1000000u
#define EDU_STEP_US 10u

/* What an operation in flight on the edu engine is. */
#define OPERATION_IDLE 0
#define OPERATION_PACKET 1 /* a StartDma chunk: ExecuteDma programs element 0, the DPC the rest */
#define OPERATION_COMMON 2 /* one engine run against the common buffer */

/*
 * The HwDeviceExtension (zeroed by the port). Registers, adapter and common buffer are set in
 * HwFindAdapter and stay for the device's life. The DMA progress fields are shared between
 * HwStartIO (PASSIVE_LEVEL), ExecuteDma and the DPC (DISPATCH_LEVEL): they are volatile and
 * the flags that hand work over (Operation, Done) are written with interlocked exchanges.
 */
typedef struct _EDU_EXTENSION {
    PUCHAR Registers;
    PVP_DMA_ADAPTER Adapter;
    PUCHAR CommonVa;
    PHYSICAL_ADDRESS CommonLogical;
    volatile LONG Operation;
    volatile LONG ToDevice;
    PVP_SCATTER_GATHER_LIST volatile List; /* the chunk's list, ExecuteDma until CompleteDma */
    volatile ULONG NextElement;            /* next element of List to program */
    volatile ULONG DeviceAddress;          /* device address the next element moves to/from */
    volatile LONG Done;                    /* set by the DPC when the operation is over */
    volatile LONG Interrupts;
} EDU_EXTENSION, *PEDU_EXTENSION;

static ULONG EduRead(PEDU_EXTENSION Ext, ULONG Offset)
{
    return VideoPortReadRegisterUlong((PULONG)(Ext->Registers + Offset));
}

static VOID EduWrite(PEDU_EXTENSION Ext, ULONG Offset, ULONG Value)
{
    VideoPortWriteRegisterUlong((PULONG)(Ext->Registers + Offset), Value);
}

/* One engine run: Count bytes between bus address Bus and the device buffer at DeviceAddress,
 * raising the DMA interrupt when done. The adapter is 32-bit: LowPart is the whole address. */
static VOID EduStartEngine(PEDU_EXTENSION Ext, PHYSICAL_ADDRESS Bus, ULONG DeviceAddress,
                           ULONG Count, BOOLEAN ToDevice)
{
    if (ToDevice) {
        EduWrite(Ext, EDU_DMA_SOURCE, Bus.LowPart);
        EduWrite(Ext, EDU_DMA_DESTINATION, DeviceAddress);
    } else {
        EduWrite(Ext, EDU_DMA_SOURCE, DeviceAddress);
        EduWrite(Ext, EDU_DMA_DESTINATION, Bus.LowPart);
    }
    EduWrite(Ext, EDU_DMA_COUNT, Count);
    EduWrite(Ext, EDU_DMA_COMMAND,
             EDU_DMA_START | EDU_DMA_IRQ | (ToDevice ? 0u : EDU_DMA_TO_RAM));
}

/* Resets the progress record for a new operation. */
static VOID EduBegin(PEDU_EXTENSION Ext, LONG Operation, BOOLEAN ToDevice, ULONG DeviceAddress)
{
    VideoPortInterlockedExchange((PLONG)&Ext->Done, 0);
    Ext->ToDevice = ToDevice;
    Ext->DeviceAddress = DeviceAddress;
    Ext->NextElement = 0;
    Ext->List = NULL;
    VideoPortInterlockedExchange((PLONG)&Ext->Operation, Operation);
}

/* Waits at PASSIVE_LEVEL until the DPC marks the operation done. FALSE on timeout. */
static BOOLEAN EduWaitDone(PEDU_EXTENSION Ext)
{
    ULONG waited = 0;
    while (!Ext->Done) {
        if (waited >= EDU_TIMEOUT_US) {
            return FALSE;
        }
        VideoPortStallExecution(EDU_STEP_US);
        waited += EDU_STEP_US;
    }
    VideoPortInterlockedExchange((PLONG)&Ext->Operation, OPERATION_IDLE);
    return TRUE;
}

/* Starts the engine on the list's next element; FALSE when none is left. */
static BOOLEAN EduProgramNextElement(PEDU_EXTENSION Ext, PVP_SCATTER_GATHER_LIST List)
{
    ULONG index = Ext->NextElement;
    ULONG deviceAddress = Ext->DeviceAddress;
    PVP_SCATTER_GATHER_ELEMENT element;

    if (index >= List->NumberOfElements) {
        return FALSE;
    }
    element = &List->Elements[index];
    Ext->NextElement = index + 1;
    Ext->DeviceAddress = deviceAddress + element->Length;
    EduStartEngine(Ext, element->Address, deviceAddress, element->Length,
                   (BOOLEAN)(Ext->ToDevice != 0));
    return TRUE;
}

/* HwVidExecuteDma (DISPATCH_LEVEL): keeps the chunk's list and starts its first element. */
static VOID NTAPI EduExecuteDma(PVOID HwDeviceExtension, PVP_DMA_ADAPTER VpDmaAdapter,
                                PVP_SCATTER_GATHER_LIST SGList, PVOID Context)
{
    PEDU_EXTENSION ext = (PEDU_EXTENSION)Context;
    (void)HwDeviceExtension;
    (void)VpDmaAdapter;
    ext->List = SGList;
    EduProgramNextElement(ext, SGList);
}

/* From the DMA-done DPC during a packet chunk: the next element, or CompleteDma. */
static VOID EduPacketElementDone(PVOID HwDeviceExtension, PEDU_EXTENSION Ext)
{
    PVP_SCATTER_GATHER_LIST list = Ext->List;
    if (list == NULL || EduProgramNextElement(Ext, list)) {
        return;
    }
#ifdef EDU_MISBEHAVE_SKIP_COMPLETE_DMA
    /* A deliberately broken build for the tests (drivers/test/, never shipped): the chunk's
     * list is never given back, which the port must report at removal. */
    Ext->List = NULL;
    VideoPortInterlockedExchange((PLONG)&Ext->Done, 1);
    return;
#endif
    VideoPortCompleteDma(HwDeviceExtension, Ext->Adapter, list, (BOOLEAN)(Ext->ToDevice != 0));
    Ext->List = NULL;
    VideoPortInterlockedExchange((PLONG)&Ext->Done, 1);
}

/* The DPC (DISPATCH_LEVEL) for a finished engine run: continue or finish the operation. */
static VOID NTAPI EduDmaDone(PVOID HwDeviceExtension, PVOID Context)
{
    PEDU_EXTENSION ext = (PEDU_EXTENSION)HwDeviceExtension;
    (void)Context;
    switch (ext->Operation) {
    case OPERATION_PACKET:
        EduPacketElementDone(HwDeviceExtension, ext);
        break;
    case OPERATION_COMMON:
        VideoPortInterlockedExchange((PLONG)&ext->Done, 1);
        break;
    default:
        break;
    }
}

/* The device never finished: give the chunk's list back so nothing stays mapped. */
static VOID EduAbandon(PVOID HwDeviceExtension, PEDU_EXTENSION Ext, BOOLEAN ToDevice)
{
    PVP_SCATTER_GATHER_LIST list;
    VideoPortInterlockedExchange((PLONG)&Ext->Operation, OPERATION_IDLE);
    list = Ext->List;
    Ext->List = NULL;
    if (list != NULL) {
        VideoPortCompleteDma(HwDeviceExtension, Ext->Adapter, list, ToDevice);
    }
}

/* Packet DMA of Length bytes between the caller's Buffer and the device buffer. */
static VP_STATUS EduPacket(PVOID HwDeviceExtension, PEDU_EXTENSION Ext, PVOID Buffer,
                           ULONG Length, ULONG DeviceOffset, BOOLEAN ToDevice)
{
    PVOID mdl;
    ULONG offset = 0;
    VP_STATUS status = NO_ERROR;

    mdl = VideoPortLockBuffer(HwDeviceExtension, Buffer, Length,
                              ToDevice ? VpReadAccess : VpWriteAccess);
    if (mdl == NULL) {
        return ERROR_INVALID_PARAMETER;
    }
    while (offset != Length) {
        ULONG chunk = Length - offset;
        EduBegin(Ext, OPERATION_PACKET, ToDevice, EDU_BUFFER_ADDRESS + DeviceOffset + offset);
        status = VideoPortStartDma(HwDeviceExtension, Ext->Adapter, mdl, offset, &chunk,
                                   EduExecuteDma, Ext, ToDevice);
        if (status != NO_ERROR) {
            break;
        }
        if (!EduWaitDone(Ext)) {
            EduAbandon(HwDeviceExtension, Ext, ToDevice);
            status = ERROR_BUSY;
            break;
        }
        offset += chunk;
    }
    VideoPortUnlockBuffer(HwDeviceExtension, mdl);
    return status;
}

/* One engine run between the common buffer and the device buffer. */
static VP_STATUS EduRunCommon(PEDU_EXTENSION Ext, ULONG Length, ULONG DeviceOffset,
                              BOOLEAN ToDevice)
{
    EduBegin(Ext, OPERATION_COMMON, ToDevice, EDU_BUFFER_ADDRESS + DeviceOffset);
    EduStartEngine(Ext, Ext->CommonLogical, EDU_BUFFER_ADDRESS + DeviceOffset, Length, ToDevice);
    if (EduWaitDone(Ext)) {
        return NO_ERROR;
    }
    VideoPortInterlockedExchange((PLONG)&Ext->Operation, OPERATION_IDLE);
    return ERROR_BUSY;
}

/* ---- HwStartIO: the IOCTLs of edu_sample.h, each validated before the device is touched. */

static BOOLEAN InDeviceBuffer(ULONG DeviceOffset, ULONG Length)
{
    return Length != 0 && DeviceOffset <= EDU_BUFFER_SIZE &&
           Length <= EDU_BUFFER_SIZE - DeviceOffset;
}

/* Copies a request structure out of the input buffer, if it is long enough. */
static BOOLEAN Input(PVIDEO_REQUEST_PACKET Vrp, PVOID Out, ULONG Size)
{
    if (Vrp->InputBuffer == NULL || Vrp->InputBufferLength < Size) {
        return FALSE;
    }
    VideoPortMoveMemory(Out, Vrp->InputBuffer, Size);
    return TRUE;
}

static VP_STATUS Identify(PEDU_EXTENSION Ext, PVIDEO_REQUEST_PACKET Vrp, ULONG_PTR *Information)
{
    EDU_SAMPLE_IDENTITY identity;
    const ULONG probe = 0x5a5a1234u;

    *Information = sizeof(identity);
    if (Vrp->OutputBuffer == NULL || Vrp->OutputBufferLength < sizeof(identity)) {
        return ERROR_INSUFFICIENT_BUFFER;
    }
    EduWrite(Ext, EDU_LIVENESS, probe);
    identity.Identification = EduRead(Ext, EDU_IDENTIFICATION);
    identity.Alive = EduRead(Ext, EDU_LIVENESS) == (ULONG)~probe;
    VideoPortMoveMemory(Vrp->OutputBuffer, &identity, sizeof(identity));
    return NO_ERROR;
}

static VP_STATUS Packet(PVOID HwDeviceExtension, PEDU_EXTENSION Ext, PVIDEO_REQUEST_PACKET Vrp,
                        BOOLEAN ToDevice, ULONG_PTR *Information)
{
    EDU_SAMPLE_TRANSFER request;

    if (!Input(Vrp, &request, sizeof(request))) {
        *Information = sizeof(request);
        return ERROR_INSUFFICIENT_BUFFER;
    }
    /* Information counts bytes returned in the output buffer: none here. */
    *Information = 0;
    if (!InDeviceBuffer(request.DeviceOffset, request.Length) || request.Buffer == 0) {
        return ERROR_INVALID_PARAMETER;
    }
    return EduPacket(HwDeviceExtension, Ext, (PVOID)(ULONG_PTR)request.Buffer, request.Length,
                     request.DeviceOffset, ToDevice);
}

static VP_STATUS WriteCommon(PEDU_EXTENSION Ext, PVIDEO_REQUEST_PACKET Vrp,
                             ULONG_PTR *Information)
{
    EDU_SAMPLE_COMMON_HEADER header;
    ULONG needed;

    if (!Input(Vrp, &header, sizeof(header))) {
        *Information = sizeof(header);
        return ERROR_INSUFFICIENT_BUFFER;
    }
    *Information = 0;
    if (!InDeviceBuffer(header.DeviceOffset, header.Length)) {
        return ERROR_INVALID_PARAMETER;
    }
    needed = (ULONG)sizeof(header) + header.Length;
    if (Vrp->InputBufferLength < needed) {
        *Information = needed;
        return ERROR_INSUFFICIENT_BUFFER;
    }
    VideoPortMoveMemory(Ext->CommonVa, (PUCHAR)Vrp->InputBuffer + sizeof(header), header.Length);
    return EduRunCommon(Ext, header.Length, header.DeviceOffset, TRUE);
}

static VP_STATUS ReadCommon(PEDU_EXTENSION Ext, PVIDEO_REQUEST_PACKET Vrp,
                            ULONG_PTR *Information)
{
    EDU_SAMPLE_COMMON_HEADER header;
    VP_STATUS status;

    if (!Input(Vrp, &header, sizeof(header))) {
        *Information = sizeof(header);
        return ERROR_INSUFFICIENT_BUFFER;
    }
    *Information = 0;
    if (!InDeviceBuffer(header.DeviceOffset, header.Length)) {
        return ERROR_INVALID_PARAMETER;
    }
    if (Vrp->OutputBuffer == NULL || Vrp->OutputBufferLength < header.Length) {
        *Information = header.Length;
        return ERROR_INSUFFICIENT_BUFFER;
    }
    /* The header has been copied, so the shared system buffer may now be overwritten. */
    status = EduRunCommon(Ext, header.Length, header.DeviceOffset, FALSE);
    if (status == NO_ERROR) {
        VideoPortMoveMemory(Vrp->OutputBuffer, Ext->CommonVa, header.Length);
        *Information = header.Length;
    }
    return status;
}

static BOOLEAN NTAPI EduStartIO(PVOID HwDeviceExtension, PVIDEO_REQUEST_PACKET Vrp)
{
    PEDU_EXTENSION ext = (PEDU_EXTENSION)HwDeviceExtension;
    ULONG_PTR information = 0;
    VP_STATUS status;

    switch (Vrp->IoControlCode) {
    case IOCTL_EDU_SAMPLE_IDENTIFY:
        status = Identify(ext, Vrp, &information);
        break;
    case IOCTL_EDU_SAMPLE_WRITE:
        status = Packet(HwDeviceExtension, ext, Vrp, TRUE, &information);
        break;
    case IOCTL_EDU_SAMPLE_READ:
        status = Packet(HwDeviceExtension, ext, Vrp, FALSE, &information);
        break;
    case IOCTL_EDU_SAMPLE_WRITE_COMMON:
        status = WriteCommon(ext, Vrp, &information);
        break;
    case IOCTL_EDU_SAMPLE_READ_COMMON:
        status = ReadCommon(ext, Vrp, &information);
        break;
    default:
        status = ERROR_INVALID_FUNCTION;
        break;
    }
    Vrp->StatusBlock->Status = status;
    Vrp->StatusBlock->Information = information;
    return TRUE;
}

/* ---- HwFindAdapter, HwInitialize, HwInterrupt. */

/* Claims BAR0, checks the device, gets a 32-bit DMA adapter and a one-page common buffer. */
static VP_STATUS NTAPI EduFindAdapter(PVOID HwDeviceExtension, PVOID HwContext,
                                      PWSTR ArgumentString, PVIDEO_PORT_CONFIG_INFO ConfigInfo,
                                      PUCHAR Again)
{
    PEDU_EXTENSION ext = (PEDU_EXTENSION)HwDeviceExtension;
    VIDEO_ACCESS_RANGE range;
    VP_DEVICE_DESCRIPTION description;
    PHYSICAL_ADDRESS logical;
    ULONG slot = 0;
    PVOID base;
    VP_STATUS status;

    (void)HwContext;
    (void)ArgumentString;
    (void)ConfigInfo;
    *Again = FALSE;
    VideoPortZeroMemory(&range, sizeof(range));
    status = VideoPortGetAccessRanges(HwDeviceExtension, 0, NULL, 1, &range, NULL, NULL, &slot);
    if (status != NO_ERROR) {
        return status;
    }
    if (range.RangeInIoSpace || range.RangeLength < EDU_BAR0_SIZE) {
        return ERROR_DEV_NOT_EXIST;
    }
    base = VideoPortGetDeviceBase(HwDeviceExtension, range.RangeStart, range.RangeLength,
                                  range.RangeInIoSpace);
    if (base == NULL) {
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    ext->Registers = (PUCHAR)base;
    if ((EduRead(ext, EDU_IDENTIFICATION) & 0xffu) != EDU_IDENTIFICATION_MAGIC) {
        return ERROR_DEV_NOT_EXIST;
    }
    VideoPortZeroMemory(&description, sizeof(description));
    description.ScatterGather = TRUE;
    description.Dma32BitAddresses = TRUE;
    description.Dma64BitAddresses = FALSE;
    description.MaximumLength = EDU_BUFFER_SIZE; /* one engine run moves at most the buffer */
    ext->Adapter = VideoPortGetDmaAdapter(HwDeviceExtension, &description);
    if (ext->Adapter == NULL) {
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    logical.QuadPart = 0;
    ext->CommonVa = (PUCHAR)VideoPortAllocateCommonBuffer(HwDeviceExtension, ext->Adapter,
                                                          EDU_BUFFER_SIZE, &logical, FALSE, NULL);
    if (ext->CommonVa == NULL) {
        return ERROR_NOT_ENOUGH_MEMORY; /* the adapter is released with the device */
    }
    ext->CommonLogical = logical;
    return NO_ERROR;
}

static BOOLEAN NTAPI EduInitialize(PVOID HwDeviceExtension)
{
    (void)HwDeviceExtension;
    return TRUE;
}

/* HwVidInterrupt (DIRQL): acknowledges and queues the DPC for a finished DMA. */
static BOOLEAN NTAPI EduInterrupt(PVOID HwDeviceExtension)
{
    PEDU_EXTENSION ext = (PEDU_EXTENSION)HwDeviceExtension;
    ULONG status;

    if (ext->Registers == NULL) {
        return FALSE;
    }
    status = EduRead(ext, EDU_INTERRUPT_STATUS);
    if (status == 0) {
        return FALSE;
    }
    EduWrite(ext, EDU_INTERRUPT_ACK, status);
    VideoPortInterlockedIncrement((PLONG)&ext->Interrupts);
    if (status & EDU_DMA_INTERRUPT) {
        VideoPortQueueDpc(HwDeviceExtension, EduDmaDone, NULL);
    }
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
    init.HwFindAdapter = EduFindAdapter;
    init.HwInitialize = EduInitialize;
    init.HwInterrupt = EduInterrupt;
    init.HwStartIO = EduStartIO;
    init.HwDeviceExtensionSize = sizeof(EDU_EXTENSION);
    return VideoPortInitialize(Context1, Context2, &init, NULL);
}
