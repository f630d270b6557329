#include "opts.h"

#include <string.h>

void conv_opts_init(conv_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->parallel_window_us = 50000;
    o->asset_gap_us = 500000;
    o->think = CONV_THINK_KEEP;
    o->think_scale = 1.0;
    o->correlate = true;
}
