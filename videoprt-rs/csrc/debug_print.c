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
 * Other hosts (the system C compiler, through the cc crate): the Windows x64 convention too
 * (ms_abi), formatted into a bounded buffer (longer messages are cut) one conversion at a
 * time, and handed to ntsim's NtsimDebugPrint.
 */

#include <stdarg.h>

#define DPFLTR_IHVVIDEO_ID 23u
#define DPFLTR_INFO_LEVEL 3u

static unsigned int vprt_debug_level(int video_level)
{
    return (video_level >= 0 && video_level <= 3) ? (unsigned int)video_level : DPFLTR_INFO_LEVEL;
}

#ifdef _WIN32

/* NTAPI: stdcall on x86 (`_vDbgPrintEx@16`), ignored on x64. */
long __stdcall vDbgPrintEx(unsigned long ComponentId, unsigned long Level, const char *Format, va_list arglist);

void __cdecl VideoPortDebugPrint(int DebugPrintLevel, char *DebugMessage, ...)
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
#include <stdint.h>
#include <stdio.h>

/*
 * The host build speaks the Windows x64 calling convention at this boundary (so that PE
 * images loaded into the test process call it directly): ms_abi, and a variadic argument list
 * in the Windows layout, which glibc's vsnprintf cannot read. So the format is walked here and
 * each conversion is formatted alone by snprintf, with its argument taken from the Windows
 * list at the size Windows gives it (LLP64: %ld and %lx are 32-bit; %I64x, %llx, %Ix, %zx,
 * %p are 64-bit). A 32-bit x86 host speaks Windows x86's convention instead (see below).
 */
#if defined(__x86_64__)
#define VPRT_NTAPI __attribute__((ms_abi))
#define VPRT_CDECL __attribute__((ms_abi))
#define vprt_va_list __builtin_ms_va_list
#define vprt_va_start __builtin_ms_va_start
#define vprt_va_end __builtin_ms_va_end
#else
/* 32-bit x86 host: NTAPI is stdcall, VideoPortDebugPrint cdecl, and the variadic list is the
 * host's own, which is Windows x86's too (every argument on the stack, 4-byte slots). */
#include <stdarg.h>
#define VPRT_NTAPI __attribute__((stdcall))
#define VPRT_CDECL
#define vprt_va_list va_list
#define vprt_va_start va_start
#define vprt_va_end va_end
#endif

/* Bytes of one formatted message, terminator included (as DbgPrint's 512-byte limit). */
#define VPRT_DEBUG_PRINT_MAX 512

void VPRT_NTAPI NtsimDebugPrint(unsigned int level, const unsigned char *text, size_t len);

/* The counted UTF-16 string of %wZ (UNICODE_STRING, the Windows layout of the host width). */
struct vprt_unicode_string {
    uint16_t Length;
    uint16_t MaximumLength;
    const uint16_t *Buffer;
};

struct vprt_out {
    char *text;
    size_t used; /* bytes written, at most VPRT_DEBUG_PRINT_MAX - 1 */
};

static void vprt_put(struct vprt_out *out, const char *s, size_t n)
{
    size_t room = VPRT_DEBUG_PRINT_MAX - 1 - out->used;
    if (n > room) {
        n = room;
    }
    for (size_t i = 0; i < n; i++) {
        out->text[out->used + i] = s[i];
    }
    out->used += n;
}

/* A UTF-16 string as text: ASCII as is, anything else as '?'. */
static void vprt_put_wide(struct vprt_out *out, const uint16_t *s, size_t max_chars)
{
    for (size_t i = 0; i < max_chars && s[i] != 0; i++) {
        char c = s[i] < 0x80 ? (char)s[i] : '?';
        vprt_put(out, &c, 1);
    }
}

void VPRT_CDECL VideoPortDebugPrint(int DebugPrintLevel, char *DebugMessage, ...)
{
    char text[VPRT_DEBUG_PRINT_MAX];
    struct vprt_out out = { text, 0 };
    vprt_va_list args;
    const char *f = DebugMessage;
    if (DebugMessage == NULL) {
        return;
    }
    vprt_va_start(args, DebugMessage);
    while (*f != '\0') {
        if (*f != '%') {
            vprt_put(&out, f, 1);
            f++;
            continue;
        }
        if (f[1] == '%') {
            vprt_put(&out, "%", 1);
            f += 2;
            continue;
        }
        /* %[flags][width][.precision][length]conversion, rebuilt for the host's snprintf. */
        char spec[32];
        size_t n = 0;
        int star[2];
        int stars = 0;
        spec[n++] = *f++;
        while (*f == '-' || *f == '+' || *f == ' ' || *f == '#' || *f == '0') {
            if (n < 8) {
                spec[n++] = *f;
            }
            f++;
        }
        for (int part = 0; part < 2; part++) {
            if (part == 1) {
                if (*f != '.') {
                    break;
                }
                spec[n++] = *f++;
            }
            if (*f == '*') {
                star[stars++] = __builtin_va_arg(args, int);
                spec[n++] = *f++;
            } else {
                while (*f >= '0' && *f <= '9') {
                    if (n < 20) {
                        spec[n++] = *f;
                    }
                    f++;
                }
            }
        }
        /* Length: 8 = 64-bit, 4 = 32-bit (int, and LLP64's long), 'w' = wide. */
        int size = 4;
        int wide = 0;
        if (f[0] == 'I' && f[1] == '6' && f[2] == '4') {
            size = 8;
            f += 3;
        } else if (f[0] == 'I' && f[1] == '3' && f[2] == '2') {
            f += 3;
        } else if (f[0] == 'l' && f[1] == 'l') {
            size = 8;
            f += 2;
        } else if (f[0] == 'h' && f[1] == 'h') {
            f += 2;
        } else if (*f == 'j') {
            size = 8;
            f++;
        } else if (*f == 'I' || *f == 'z' || *f == 't') {
            size = (int)sizeof(void *);
            f++;
        } else if (*f == 'l' || *f == 'w') {
            wide = 1; /* %ls, %lc, %ws, %wZ are wide; %ld, %lx stay 32-bit */
            f++;
        } else if (*f == 'h') {
            f++;
        }
        char conversion = *f;
        if (conversion == '\0') {
            break;
        }
        f++;
        char piece[VPRT_DEBUG_PRINT_MAX];
        int written = -1;
        switch (conversion) {
        case 'd':
        case 'i':
        case 'u':
        case 'x':
        case 'X':
        case 'o':
            if (size == 8) {
                spec[n++] = 'l';
                spec[n++] = 'l';
            }
            spec[n++] = conversion;
            spec[n] = '\0';
            if (size == 8) {
                long long v = __builtin_va_arg(args, long long);
                written = stars == 2   ? snprintf(piece, sizeof piece, spec, star[0], star[1], v)
                          : stars == 1 ? snprintf(piece, sizeof piece, spec, star[0], v)
                                       : snprintf(piece, sizeof piece, spec, v);
            } else {
                int v = __builtin_va_arg(args, int);
                written = stars == 2   ? snprintf(piece, sizeof piece, spec, star[0], star[1], v)
                          : stars == 1 ? snprintf(piece, sizeof piece, spec, star[0], v)
                                       : snprintf(piece, sizeof piece, spec, v);
            }
            break;
        case 'c':
        case 'C':
            spec[n++] = 'c';
            spec[n] = '\0';
            {
                int v = __builtin_va_arg(args, int);
                if (wide || conversion == 'C') {
                    v = v < 0x80 ? v : '?';
                }
                written = stars == 1 ? snprintf(piece, sizeof piece, spec, star[0], v)
                                     : snprintf(piece, sizeof piece, spec, v);
            }
            break;
        case 'p':
            /* Windows prints a pointer as uppercase hex digits, two a byte (16 on x64, 8 on x86). */
            written = snprintf(piece, sizeof piece, "%0*llX", (int)(2 * sizeof(void *)),
                               (unsigned long long)(uintptr_t)__builtin_va_arg(args, void *));
            break;
        case 's':
        case 'S': {
            const void *s = __builtin_va_arg(args, const void *);
            if (s == NULL) {
                vprt_put(&out, "(null)", 6);
            } else if (wide || conversion == 'S') {
                vprt_put_wide(&out, (const uint16_t *)s, (size_t)-1);
            } else {
                spec[n++] = 's';
                spec[n] = '\0';
                written = stars == 2   ? snprintf(piece, sizeof piece, spec, star[0], star[1], s)
                          : stars == 1 ? snprintf(piece, sizeof piece, spec, star[0], s)
                                       : snprintf(piece, sizeof piece, spec, s);
            }
            break;
        }
        case 'Z': {
            /* %wZ: a UNICODE_STRING (%Z, an ANSI_STRING, has the same shape with bytes). */
            const struct vprt_unicode_string *u =
                __builtin_va_arg(args, const struct vprt_unicode_string *);
            if (u == NULL || u->Buffer == NULL) {
                vprt_put(&out, "(null)", 6);
            } else if (wide) {
                vprt_put_wide(&out, u->Buffer, u->Length / 2);
            } else {
                vprt_put(&out, (const char *)u->Buffer, u->Length);
            }
            break;
        }
        default:
            /* Floating point has no place in kernel debug output, and %n writes memory: the
             * specifier is printed as written and its argument is not touched. */
            spec[n++] = conversion;
            vprt_put(&out, spec, n);
            break;
        }
        if (written > 0) {
            vprt_put(&out, piece, (size_t)written < sizeof piece ? (size_t)written : sizeof piece - 1);
        }
    }
    vprt_va_end(args);
    NtsimDebugPrint(vprt_debug_level(DebugPrintLevel), (const unsigned char *)text, out.used);
}

#endif
