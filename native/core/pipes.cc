#include "core/pipes.h"

#include <cerrno>
#include <cstdio>

#if defined(__linux__)
#include <fcntl.h>
#include <sys/stat.h>
#endif

namespace mcp::pipes {

#if defined(__linux__)

int64_t capacity(int fd) {
  // F_GETPIPE_SZ answers EBADF for a non-pipe too; fstat first so a FIFO-less fd never reaches fcntl.
  struct stat st;
  if (fstat(fd, &st) != 0) return -errno;
  if (!S_ISFIFO(st.st_mode)) return -EBADF;
  const int size = fcntl(fd, F_GETPIPE_SZ);
  return size < 0 ? -errno : size;
}

int64_t max_size() {
  std::FILE* file = std::fopen("/proc/sys/fs/pipe-max-size", "re");
  if (file == nullptr) return -errno;
  long long value = 0;
  const int read = std::fscanf(file, "%lld", &value);
  std::fclose(file);
  return read == 1 && value > 0 ? value : -EINVAL;
}

int64_t grow(int fd, int64_t bytes) {
  if (bytes < 1 || bytes > 0x7fffffff) return -EINVAL;
  const int64_t now = capacity(fd);
  if (now < 0 || now >= bytes) return now;
  // On success F_SETPIPE_SZ answers the capacity it set.
  const int set = fcntl(fd, F_SETPIPE_SZ, static_cast<int>(bytes));
  if (set >= 0) return set;
  const int err = errno;
  if (err != EPERM) return -err;
  // Unprivileged and above the system's maximum (or the user's allowance): the maximum, if it helps.
  const int64_t max = max_size();
  if (max <= now || max >= bytes) return -err;
  const int set_max = fcntl(fd, F_SETPIPE_SZ, static_cast<int>(max));
  return set_max >= 0 ? set_max : -errno;
}

#else

int64_t capacity(int) { return -ENOSYS; }
int64_t max_size() { return -ENOSYS; }
int64_t grow(int, int64_t) { return -ENOSYS; }

#endif

}  // namespace mcp::pipes
