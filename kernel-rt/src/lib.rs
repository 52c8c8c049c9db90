//! The C-runtime symbols a `#![no_std]` Rust kernel image needs on `x86_64-pc-windows-msvc`
//! (and their x86 counterparts on `i686-pc-windows-msvc`, see [`kernel_rt_routines_x86`]):
//! `_fltused` (referenced whenever floating point appears), `__CxxFrameHandler3` (named by
//! libcore's unwind tables, which a panic=abort image never runs), `__chkstk` (the stack probe
//! for frames over a page) and `memcpy`, `memmove`, `memset`, `memcmp` (which the compiler
//! calls; a video miniport may import only from its port driver, so the images carry their own).
//!
//! They are defined in assembly so they stay out of the image's export table (a `#[no_mangle]`
//! item of a cdylib would be exported). Every routine is a leaf that never moves RSP and uses
//! only volatile registers (saving RDI/RSI in R9-R11), so it needs no unwind data: stack walks
//! through it stay correct. On other targets the same text is assembled under test names and
//! called through `extern "win64"`, so the host tests check the very code the image ships.
#![no_std]

/// The Microsoft-x64 routines, with every global symbol prefixed by `$prefix`.
#[macro_export]
#[doc(hidden)]
macro_rules! kernel_rt_routines {
    ($prefix:literal) => {
        core::arch::global_asm!(
            ".text",
            // ExceptionContinueSearch.
            concat!(".globl ", $prefix, "__CxxFrameHandler3"),
            concat!($prefix, "__CxxFrameHandler3:"),
            "  mov eax, 1",
            "  ret",
            // rax = frame size. Touch every page from the caller's RSP down to RSP - size.
            // Preserves everything but r10, r11 and flags (the MSVC contract).
            concat!(".globl ", $prefix, "__chkstk"),
            concat!($prefix, "__chkstk:"),
            "  lea r10, [rsp + 8]",
            "  mov r11, rax",
            "  cmp r11, 0x1000",
            "  jb 2f",
            "1:",
            "  sub r10, 0x1000",
            "  test qword ptr [r10], r10",
            "  sub r11, 0x1000",
            "  cmp r11, 0x1000",
            "  ja 1b",
            "2:",
            "  sub r10, r11",
            "  test qword ptr [r10], r10",
            "  ret",
            // void *memcpy(void *dest /*rcx*/, const void *src /*rdx*/, size_t n /*r8*/)
            concat!(".globl ", $prefix, "memcpy"),
            concat!($prefix, "memcpy:"),
            "  mov rax, rcx",
            "  mov r9, rdi",
            "  mov r10, rsi",
            "  mov rdi, rcx",
            "  mov rsi, rdx",
            "  mov rcx, r8",
            "  rep movsb",
            "  mov rdi, r9",
            "  mov rsi, r10",
            "  ret",
            // void *memmove(void *dest, const void *src, size_t n): backwards when dest lies
            // inside [src, src + n).
            concat!(".globl ", $prefix, "memmove"),
            concat!($prefix, "memmove:"),
            "  mov rax, rcx",
            "  mov r9, rdi",
            "  mov r10, rsi",
            "  mov rdi, rcx",
            "  mov rsi, rdx",
            "  mov rcx, r8",
            "  cmp rdi, rsi",
            "  jbe 3f",
            "  lea r11, [rsi + rcx]",
            "  cmp rdi, r11",
            "  jae 3f",
            "  lea rsi, [rsi + rcx - 1]",
            "  lea rdi, [rdi + rcx - 1]",
            "  std",
            "  rep movsb",
            "  cld",
            "  jmp 4f",
            "3:",
            "  rep movsb",
            "4:",
            "  mov rdi, r9",
            "  mov rsi, r10",
            "  ret",
            // void *memset(void *dest, int c /*edx*/, size_t n)
            concat!(".globl ", $prefix, "memset"),
            concat!($prefix, "memset:"),
            "  mov r9, rcx",
            "  mov r10, rdi",
            "  mov rdi, rcx",
            "  movzx eax, dl",
            "  mov rcx, r8",
            "  rep stosb",
            "  mov rdi, r10",
            "  mov rax, r9",
            "  ret",
            // int memcmp(const void *a, const void *b, size_t n)
            concat!(".globl ", $prefix, "memcmp"),
            concat!($prefix, "memcmp:"),
            "  xor eax, eax",
            "5:",
            "  test r8, r8",
            "  jz 6f",
            "  movzx eax, byte ptr [rcx]",
            "  movzx r9d, byte ptr [rdx]",
            "  sub eax, r9d",
            "  jnz 6f",
            "  inc rcx",
            "  inc rdx",
            "  dec r8",
            "  jmp 5b",
            "6:",
            "  ret",
        );
    };
}

#[cfg(all(target_os = "windows", target_arch = "x86_64"))]
core::arch::global_asm!(
    ".section .rdata,\"dr\"",
    ".globl _fltused",
    "_fltused: .long 0",
    ".text"
);

#[cfg(all(target_os = "windows", target_arch = "x86_64"))]
kernel_rt_routines!("");

/// The x86 (i686) routines, with every global symbol prefixed by `$prefix`: C names carry
/// the leading underscore of the x86 COFF convention (`_memcpy` is C's `memcpy`), so the
/// Windows build passes `"_"`. `memcpy`, `memmove`, `memset` and `memcmp` are cdecl (arguments
/// on the stack, the caller pops them); they save EDI/ESI, which cdecl makes callee-saved.
/// `__chkstk` (C `_chkstk`, also known as `_alloca_probe`) takes the frame size in EAX, touches
/// every page from the caller's ESP down, and returns with ESP lowered by that size (the x86
/// contract, unlike x64's where the caller moves RSP).
#[macro_export]
#[doc(hidden)]
macro_rules! kernel_rt_routines_x86 {
    ($prefix:literal) => {
        core::arch::global_asm!(
            ".text",
            concat!(".globl ", $prefix, "_chkstk"),
            concat!(".globl ", $prefix, "_alloca_probe"),
            concat!($prefix, "_chkstk:"),
            concat!($prefix, "_alloca_probe:"),
            "  push ecx",
            // ecx = the slot of our return address, then where it will be moved to.
            "  lea ecx, [esp + 4]",
            "  sub ecx, eax",
            "  mov eax, esp",
            "1:",
            "  sub eax, 0x1000",
            "  cmp eax, ecx",
            "  jb 2f",
            "  test dword ptr [eax], eax",
            "  jmp 1b",
            "2:",
            "  test dword ptr [ecx], ecx",
            "  mov eax, ecx",
            "  pop ecx",
            // esp = the new slot; eax = the old one, which holds the return address.
            "  xchg eax, esp",
            "  mov eax, dword ptr [eax]",
            "  mov dword ptr [esp], eax",
            "  ret",
            // void *memcpy(void *dest, const void *src, size_t n)
            concat!(".globl ", $prefix, "memcpy"),
            concat!($prefix, "memcpy:"),
            "  push edi",
            "  push esi",
            "  mov edi, dword ptr [esp + 12]",
            "  mov esi, dword ptr [esp + 16]",
            "  mov ecx, dword ptr [esp + 20]",
            "  mov eax, edi",
            "  rep movsb",
            "  pop esi",
            "  pop edi",
            "  ret",
            // void *memmove(void *dest, const void *src, size_t n): backwards when dest lies
            // inside [src, src + n).
            concat!(".globl ", $prefix, "memmove"),
            concat!($prefix, "memmove:"),
            "  push edi",
            "  push esi",
            "  mov edi, dword ptr [esp + 12]",
            "  mov esi, dword ptr [esp + 16]",
            "  mov ecx, dword ptr [esp + 20]",
            "  mov eax, edi",
            "  cmp edi, esi",
            "  jbe 3f",
            "  lea edx, [esi + ecx]",
            "  cmp edi, edx",
            "  jae 3f",
            "  lea esi, [esi + ecx - 1]",
            "  lea edi, [edi + ecx - 1]",
            "  std",
            "  rep movsb",
            "  cld",
            "  jmp 4f",
            "3:",
            "  rep movsb",
            "4:",
            "  pop esi",
            "  pop edi",
            "  ret",
            // void *memset(void *dest, int c, size_t n)
            concat!(".globl ", $prefix, "memset"),
            concat!($prefix, "memset:"),
            "  push edi",
            "  mov edi, dword ptr [esp + 8]",
            "  movzx eax, byte ptr [esp + 12]",
            "  mov ecx, dword ptr [esp + 16]",
            "  rep stosb",
            "  mov eax, dword ptr [esp + 8]",
            "  pop edi",
            "  ret",
            // int memcmp(const void *a, const void *b, size_t n)
            concat!(".globl ", $prefix, "memcmp"),
            concat!($prefix, "memcmp:"),
            "  push esi",
            "  push edi",
            "  mov esi, dword ptr [esp + 12]",
            "  mov edi, dword ptr [esp + 16]",
            "  mov ecx, dword ptr [esp + 20]",
            "  xor eax, eax",
            "5:",
            "  test ecx, ecx",
            "  jz 6f",
            "  movzx eax, byte ptr [esi]",
            "  movzx edx, byte ptr [edi]",
            "  sub eax, edx",
            "  jnz 6f",
            "  inc esi",
            "  inc edi",
            "  dec ecx",
            "  jmp 5b",
            "6:",
            "  pop edi",
            "  pop esi",
            "  ret",
        );
    };
}

// x86: `_fltused` is the C name, so the symbol is `__fltused`. No frame handler is needed:
// x86 unwind data is not table-based, and a panic=abort image registers no handlers.
#[cfg(all(target_os = "windows", target_arch = "x86"))]
core::arch::global_asm!(
    ".section .rdata,\"dr\"",
    ".globl __fltused",
    "__fltused: .long 0",
    ".text"
);

#[cfg(all(target_os = "windows", target_arch = "x86"))]
kernel_rt_routines_x86!("_");
