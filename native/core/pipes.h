// The kernel buffer of a pipe (stdio transport): how many bytes it holds before a writer blocks.
// Plain C++, no N-API; native/binding/pipes_binding.cc is its JS face, docs/stdio.md says why.
//
// A pipe holds 64 KiB by default. At a window of thousands of requests, the client then blocks every
// 64 KiB and the server wakes, reads and writes in 64 KiB steps; a larger pipe lets each side move more
// per wake-up. Linux only (fcntl F_GETPIPE_SZ / F_SETPIPE_SZ); elsewhere every call answers -ENOSYS.
#ifndef FASTERMCP_CORE_PIPES_H_
#define FASTERMCP_CORE_PIPES_H_

#include <cstdint>

namespace mcp::pipes {

/// The capacity in bytes of the pipe `fd` refers to, or -errno (-EBADF: not a pipe or not open).
int64_t capacity(int fd);

/// Makes the pipe `fd` refers to hold at least `bytes` (the kernel rounds up to a power of two pages),
/// never shrinking it. When an unprivileged process asks for more than /proc/sys/fs/pipe-max-size, it
/// gets that maximum instead (if larger than now). Returns the capacity after, or -errno: -EINVAL for
/// `bytes` < 1 or above 2^31 - 1, -EBADF when `fd` is not a pipe, -EPERM when the user's pipe
/// allowance (pipe-user-pages-soft) is spent.
int64_t grow(int fd, int64_t bytes);

/// /proc/sys/fs/pipe-max-size, or -errno when it cannot be read.
int64_t max_size();

}  // namespace mcp::pipes

#endif  // FASTERMCP_CORE_PIPES_H_
