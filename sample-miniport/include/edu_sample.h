/*
 * edu_sample.h: the IOCTL interface of the videoprt-rs sample miniport for QEMU's edu device.
 *
 * A user-mode client opens the display device and calls DeviceIoControl with these codes.
 * Every code is METHOD_BUFFERED. The device has one 4096-byte buffer; every transfer must
 * satisfy 0 < Length and DeviceOffset + Length <= EDU_SAMPLE_BUFFER_SIZE, or the request
 * fails with ERROR_INVALID_PARAMETER (STATUS_INVALID_PARAMETER in the client).
 *
 * The device must be able to reach 32-bit bus addresses: start QEMU with
 * "-device edu,dma_mask=0xffffffff" (the edu default is 28 bits, which the driver cannot
 * express to the DMA layer: a transfer to memory above 256 MiB would be truncated).
 */
#ifndef EDU_SAMPLE_H
#define EDU_SAMPLE_H

#define EDU_SAMPLE_BUFFER_SIZE 4096

#define EDU_SAMPLE_CTL_CODE(function) \
    (((0x00000023) << 16) | ((0) << 14) | ((0x900 + (function)) << 2) | (0))

/* Output: EDU_SAMPLE_IDENTITY. */
#define IOCTL_EDU_SAMPLE_IDENTIFY      EDU_SAMPLE_CTL_CODE(0)
/* Input: EDU_SAMPLE_TRANSFER. Packet DMA from the caller's buffer into the device buffer. */
#define IOCTL_EDU_SAMPLE_WRITE         EDU_SAMPLE_CTL_CODE(1)
/* Input: EDU_SAMPLE_TRANSFER. Packet DMA from the device buffer into the caller's buffer. */
#define IOCTL_EDU_SAMPLE_READ          EDU_SAMPLE_CTL_CODE(2)
/* Input: EDU_SAMPLE_COMMON_HEADER followed by Length data bytes. Through the common buffer. */
#define IOCTL_EDU_SAMPLE_WRITE_COMMON  EDU_SAMPLE_CTL_CODE(3)
/* Input: EDU_SAMPLE_COMMON_HEADER. Output: Length bytes. Through the common buffer. */
#define IOCTL_EDU_SAMPLE_READ_COMMON   EDU_SAMPLE_CTL_CODE(4)

typedef struct _EDU_SAMPLE_IDENTITY {
    unsigned int Identification; /* the device's register 0x00, 0xRRrr00ed */
    unsigned int Alive;          /* 1 if the liveness register inverted a written value */
} EDU_SAMPLE_IDENTITY;

typedef struct _EDU_SAMPLE_TRANSFER {
    unsigned int DeviceOffset;   /* offset in the device buffer */
    unsigned int Length;         /* bytes to move */
    unsigned long long Buffer;   /* the caller's buffer (a user-mode address) */
} EDU_SAMPLE_TRANSFER;

typedef struct _EDU_SAMPLE_COMMON_HEADER {
    unsigned int DeviceOffset;
    unsigned int Length;
} EDU_SAMPLE_COMMON_HEADER;

#endif
