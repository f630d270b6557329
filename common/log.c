#include "log.h"

#include <stdio.h>

static const char *log_program = "aiotest";
static enum log_level log_level_shown = LOG_INFO;

void log_init(const char *program, enum log_level level)
{
    log_program = program;
    log_level_shown = level;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    static const char *names[] = {"error", "warning", "info", "debug"};
    if (level > log_level_shown)
        return;
    /* One fprintf per line, so lines from several threads do not interleave. */
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s: %s\n", log_program, names[level], line);
}
