//! The memory allocator's settings, applied before the first thread starts (DESIGN §7).
//!
//! glibc serves blocks over its mmap threshold (128 KiB) by `mmap`, but the first time such a
//! block is freed it raises the threshold to that block's size (up to 32 MiB). Argon2 verifies a
//! secret in a 19 MiB block, and the register verifies its seeded secrets at start-up, so from
//! then on blocks of up to 19 MiB came from the heap and stayed resident after they were freed:
//! about 12 MiB of an idle service. Setting the threshold keeps it where it is, and at most two
//! arenas (glibc's default is eight per core) bound what the arenas of idle threads keep.

/// Applies the settings; on other C libraries there is nothing to do.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: `mallopt` only changes glibc's allocator parameters and is called from `main`
    // before any other thread exists; it returns 0 for a parameter it refuses, which leaves
    // glibc's default in place and is harmless.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
