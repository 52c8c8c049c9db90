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

/*
 * VprtMapLockedPagesUser: MmMapLockedPagesSpecifyCache(Mdl, UserMode, ...) under structured
 * exception handling. For UserMode the routine raises an exception when the pages cannot be
 * mapped into the current process; this guard returns the exception code instead (and NULL
 * in *UserVa). Under ntsim the same symbol comes from ntsim.
 */

typedef unsigned int MEMORY_CACHING_TYPE;
typedef unsigned int MM_PAGE_PRIORITY;

void *__stdcall MmMapLockedPagesSpecifyCache(struct _MDL *Mdl, KPROCESSOR_MODE AccessMode,
                                             MEMORY_CACHING_TYPE CacheType, void *RequestedAddress,
                                             unsigned int BugCheckOnFailure, MM_PAGE_PRIORITY Priority);

NTSTATUS __stdcall VprtMapLockedPagesUser(struct _MDL *Mdl, MEMORY_CACHING_TYPE CacheType,
                                          MM_PAGE_PRIORITY Priority, void **UserVa)
{
    void *va = 0;
    *UserVa = 0;
    __try {
        va = MmMapLockedPagesSpecifyCache(Mdl, 1 /* UserMode */, CacheType, 0, 0, Priority);
    } __except (1 /* EXCEPTION_EXECUTE_HANDLER */) {
        return (NTSTATUS)_exception_code();
    }
    if (va == 0) {
        return (NTSTATUS)0xC000009AL; /* STATUS_INSUFFICIENT_RESOURCES */
    }
    *UserVa = va;
    return 0; /* STATUS_SUCCESS */
}
