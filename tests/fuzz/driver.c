/* Plain-program driver of the fuzz targets (dav1d's habit): replays every file
 * of the corpus folders given as arguments through LLVMFuzzerTestOneInput,
 * then a fixed number of deterministic mutations of each, so the normal test
 * run also explores a little beyond the saved inputs. Under libFuzzer this
 * file is not linked. Shared by every folder of tests/fuzz/. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MUTATIONS 300
#define FUZZ_MAX_INPUT (1 << 20)

static uint64_t rng = 0x853c49e6748fea9bull;

static uint64_t next(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1Dull;
}

/* A few byte flips, inserts of the characters parsers care about, and cuts. */
static size_t mutate(uint8_t *buf, size_t len, size_t cap)
{
    static const char special[] = "{}[]\"',.$\\\n\r= -0123456789";
    int edits = 1 + (int)(next() % 4);
    for (int e = 0; e < edits; e++) {
        size_t at = len ? (size_t)(next() % len) : 0;
        switch (next() % 4) {
        case 0:
            if (len)
                buf[at] ^= (uint8_t)(1u << (next() % 8));
            break;
        case 1:
            if (len < cap) {
                memmove(buf + at + 1, buf + at, len - at);
                buf[at] = (uint8_t)special[next() % (sizeof(special) - 1)];
                len++;
            }
            break;
        case 2:
            if (len)
                buf[at] = (uint8_t)special[next() % (sizeof(special) - 1)];
            break;
        default:
            len = at;
            break;
        }
    }
    return len;
}

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", path);
        return -1;
    }
    uint8_t *buf = malloc(FUZZ_MAX_INPUT), *work = malloc(FUZZ_MAX_INPUT);
    size_t len = buf ? fread(buf, 1, FUZZ_MAX_INPUT / 2, f) : 0;
    fclose(f);
    if (!buf || !work) {
        free(buf);
        free(work);
        return -1;
    }
    LLVMFuzzerTestOneInput(buf, len);
    /* seeded by the content: a crash reproduces whatever the folder order */
    rng = 0x853c49e6748fea9bull;
    for (size_t i = 0; i < len; i++)
        rng = (rng ^ buf[i]) * 0x100000001b3ull;
    rng |= 1;
    for (int i = 0; i < MUTATIONS; i++) {
        memcpy(work, buf, len);
        size_t n = mutate(work, len, FUZZ_MAX_INPUT);
        /* an exact-size copy lets ASan catch a read one past the input */
        uint8_t *exact = malloc(n ? n : 1);
        memcpy(exact, work, n);
        LLVMFuzzerTestOneInput(exact, n);
        free(exact);
    }
    free(work);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    int files = 0;
    for (int a = 1; a < argc; a++) {
        DIR *d = opendir(argv[a]);
        if (!d) {
            if (run_file(argv[a]) < 0)
                return 1;
            files++;
            continue;
        }
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", argv[a], e->d_name);
            if (run_file(path) < 0) {
                closedir(d);
                return 1;
            }
            files++;
        }
        closedir(d);
    }
    printf("%d input(s), %d mutation(s) each: no crash\n", files, MUTATIONS);
    return files > 0 ? 0 : 1;
}
