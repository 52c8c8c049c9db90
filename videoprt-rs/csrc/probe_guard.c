/*
 * VprtProbeAndLockPages: MmProbeAndLockPages under structured exception handling.
 *
 * MmProbeAndLockPages raises an exception when the range cannot be made resident and locked
 * (a bad user pointer, a read-only page probed for write). Rust cannot catch SEH exceptions,
 * so this guard does, and turns the exception into its status code. Compiled by clang for
 * x86_64-pc-windows-msvc (see build.rs); under ntsim the same symbol comes from ntsim.
 */

typedef long NTSTATUS;
typedef char KPROCESSOR_MODE;
typedef unsigned int LOCK_OPERATION;
struct _MDL;

void __stdcall MmProbeAndLockPages(struct _MDL *Mdl, KPROCESSOR_MODE AccessMode, LOCK_OPERATION Operation);

NTSTATUS __stdcall VprtProbeAndLockPages(struct _MDL *Mdl, KPROCESSOR_MODE AccessMode, LOCK_OPERATION Operation)
{
    __try {
        MmProbeAndLockPages(Mdl, AccessMode, Operation);
    } __except (1 /* EXCEPTION_EXECUTE_HANDLER */) {
        return (NTSTATUS)_exception_code();
    }
    return 0; /* STATUS_SUCCESS */
}
