/*
 * VideoPortDebugPrint(VIDEO_DEBUG_LEVEL DebugPrintLevel, PSTR DebugMessage, ...).
 *
 * C-variadic (cdecl), which stable Rust cannot define, so it lives here. The VIDEO_DEBUG_LEVEL
 * values Error 0, Warn 1, Trace 2 and Info 3 equal the DbgPrintEx levels DPFLTR_ERROR_LEVEL,
 * DPFLTR_WARNING_LEVEL, DPFLTR_TRACE_LEVEL and DPFLTR_INFO_LEVEL; any other value prints at
 * DPFLTR_INFO_LEVEL (DbgPrintEx would read a value above 31 as a mask). A NULL DebugMessage
 * prints nothing.
 *
 * Windows (clang for x86_64-pc-windows-msvc, see build.rs): forwards the format and the
 * argument list to vDbgPrintEx under the DPFLTR_IHVVIDEO_ID component.
 * Other hosts (the system C compiler, through the cc crate): formats with vsnprintf into a
 * bounded buffer (longer messages are cut) and hands the text to ntsim's NtsimDebugPrint.
 */

#include <stdarg.h>

#define DPFLTR_IHVVIDEO_ID 23u
#define DPFLTR_INFO_LEVEL 3u

static unsigned int vprt_debug_level(int video_level)
{
    return (video_level >= 0 && video_level <= 3) ? (unsigned int)video_level : DPFLTR_INFO_LEVEL;
}

#ifdef _WIN32

long vDbgPrintEx(unsigned long ComponentId, unsigned long Level, const char *Format, va_list arglist);

void VideoPortDebugPrint(int DebugPrintLevel, char *DebugMessage, ...)
{
    va_list args;
    if (DebugMessage == 0) {
        return;
    }
    va_start(args, DebugMessage);
    vDbgPrintEx(DPFLTR_IHVVIDEO_ID, vprt_debug_level(DebugPrintLevel), DebugMessage, args);
    va_end(args);
}

#else

#include <stddef.h>
#include <stdio.h>

/* Bytes of one formatted message, terminator included (as DbgPrint's 512-byte limit). */
#define VPRT_DEBUG_PRINT_MAX 512

void NtsimDebugPrint(unsigned int level, const unsigned char *text, size_t len);

void VideoPortDebugPrint(int DebugPrintLevel, char *DebugMessage, ...)
{
    char text[VPRT_DEBUG_PRINT_MAX];
    va_list args;
    int n;
    size_t len;
    if (DebugMessage == NULL) {
        return;
    }
    va_start(args, DebugMessage);
    n = vsnprintf(text, sizeof text, DebugMessage, args);
    va_end(args);
    if (n < 0) {
        return;
    }
    len = (size_t)n < sizeof text ? (size_t)n : sizeof text - 1;
    NtsimDebugPrint(vprt_debug_level(DebugPrintLevel), (const unsigned char *)text, len);
}

#endif
