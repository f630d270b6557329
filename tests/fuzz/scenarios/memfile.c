/* memfile: see memfile.h. */
#include "memfile.h"

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

const char *memfile(int slot, const uint8_t *data, size_t n)
{
    static int fd[2] = { -1, -1 };
    static char path[2][40];
    if (fd[slot] < 0) {
        fd[slot] = memfd_create("aiotest-fuzz", 0);
        if (fd[slot] < 0)
            return NULL;
        snprintf(path[slot], sizeof path[slot], "/proc/self/fd/%d", fd[slot]);
    }
    if (ftruncate(fd[slot], 0) != 0 || (n && pwrite(fd[slot], data, n, 0) != (ssize_t)n))
        return NULL;
    return path[slot];
}
