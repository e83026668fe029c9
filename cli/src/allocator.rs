//! The memory allocator's settings, applied before the first thread starts, and the return of
//! its free memory to the system while a service runs (DESIGN §7).
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

/// How often free memory goes back to the system while services run.
const GIVE_BACK_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Gives the allocator's free memory back to the system shortly after start-up (once the
/// workers have built their routes) and then every [`GIVE_BACK_EVERY`]. glibc returns only the
/// free top of each heap by itself; what start-up and load leave free below live blocks stays
/// resident (about 13 MiB of an idle register) until `malloc_trim` hands those pages back.
pub async fn give_back_free_memory() {
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    loop {
        trim();
        tokio::time::sleep(GIVE_BACK_EVERY).await;
    }
}

fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: `malloc_trim` only releases free pages of glibc's arenas; it takes the arenas'
    // locks itself and is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
