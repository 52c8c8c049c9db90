//! The C-runtime symbols a `#![no_std]` Rust kernel image needs on `x86_64-pc-windows-msvc`:
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

#[cfg(target_os = "windows")]
core::arch::global_asm!(
    ".section .rdata,\"dr\"",
    ".globl _fltused",
    "_fltused: .long 0",
    ".text"
);

#[cfg(target_os = "windows")]
kernel_rt_routines!("");
