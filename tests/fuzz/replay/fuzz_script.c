/* Fuzz target of the Lua hooks (replay/script.c on common/luart.c): any text
 * loads or is refused with a "--script" message, never a crash; a script that
 * loads has every hook called as the engine would (setup, on_start, request
 * with and without a body, response with a JSON body, a custom step resumed
 * with responses and parallel results, on_stop, done), each cut by the
 * instruction limit, and metric.* writing into a real smet_t. ASan checks the
 * C side. The input is sandboxed on its first line (no os, io, debug,
 * package, require, dofile, loadfile: libFuzzer may write any text), and
 * bytecode never reaches the loader (text only). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "script.h"
#include "smetric.h"
#include "stats.h"
#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char sandbox[] =
    "os,io,debug,package,require,dofile,loadfile=nil,nil,nil,nil,nil,nil,nil ";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536 || !scr_available(NULL))
        return 0;
    char path[64];
    snprintf(path, sizeof path, "/tmp/aiotest-fuzz-script-%d.lua", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(sandbox, 1, sizeof sandbox - 1, f);
    fwrite(data, 1, size, f);
    fclose(f);
    smet_t *m = smet_new(2);
    char err[512] = "";
    scr_t *s = m ? scr_new(path, m, 1, err, sizeof err) : NULL;
    if (!s) {
        if (m && strncmp(err, "--script", 8) != 0)
            abort(); /* a refusal says what refused it */
        smet_free(m);
        unlink(path);
        return 0;
    }
    tpl_symtab_t *st = tpl_symtab_new();
    tpl_symtab_intern(st, "token", 5);
    tpl_vars_t *vars = tpl_vars_new(tpl_symtab_count(st));
    int key, ref = 0;
    scr_user_t u = {&key, 3, "c", vars, st, &ref};
    if (scr_setup(s, 0, 1, err, sizeof err) == 0) {
        scr_user_start(s, &u);
        scr_header_t h[] = {{"Accept", 6, "*/*", 3}, {"X-A", 3, "1", 1}, {"X-A", 3, "2", 1}};
        for (int b = 0; b < 2; b++) {
            scr_req_t rv = {.method = "POST", .method_len = 4, .path = "/a?b=1", .path_len = 6,
                            .authority = "x", .authority_len = 1, .hdrs = h, .n_hdrs = 3,
                            .body = b ? "{\"k\": [1, 2]}" : NULL, .body_len = b ? 13 : 0,
                            .has_body = b, .h1_bytes = "prebuilt", .h1_len = 8, .h1_head_len = 6};
            scr_request(s, &u, "req", &rv);
        }
        resp_header_t rh[] = {{"Content-Type", 12, "application/json", 16}};
        resp_view_t r = {.status = 200, .headers = rh, .n_headers = 1,
                         .body = "{\"id\": 123456, \"a\": [true, null, 1.5, \"s\"]}", .body_len = 42};
        scr_response(s, &u, "req", "GET", "/a", &r, STATS_OK);
        scr_response(s, &u, "other", "GET", "/b", &r, STATS_FAIL_HTTP);
        scr_step_t a;
        scr_step_begin(s, &u, "step", &a);
        for (int i = 0; i < 6 && (a.kind == SCR_STEP_REQUEST || a.kind == SCR_STEP_SLEEP ||
                                  a.kind == SCR_STEP_PARALLEL); i++) {
            if (a.kind == SCR_STEP_REQUEST) {
                scr_req_t rv = {.method = "GET", .method_len = 3, .path = "/s", .path_len = 2,
                                .authority = "x", .authority_len = 1};
                scr_step_fill(s, &u, -1, &rv);
                scr_step_resume(s, &u, &r, STATS_OK, &a);
            } else if (a.kind == SCR_STEP_PARALLEL) {
                for (size_t k = 0; k < a.n; k++) {
                    scr_step_url(s, &u, k);
                    scr_req_t rv = {.method = "GET", .method_len = 3, .path = "/p", .path_len = 2,
                                    .authority = "x", .authority_len = 1};
                    scr_step_fill(s, &u, (int)k, &rv);
                    scr_step_result(s, &u, k, k % 2 ? NULL : &r, k % 2 ? STATS_FAIL_TIMEOUT : STATS_OK);
                }
                scr_step_resume(s, &u, NULL, STATS_OK, &a);
            } else {
                scr_step_resume(s, &u, NULL, STATS_OK, &a);
            }
        }
        scr_step_abort(s, &u);
        scr_user_stop(s, &u);
    }
    scr_user_free(s, &u);
    stats_names_t *names = stats_names_new();
    stats_names_intern(names, "GET", "req");
    stats_t *total = stats_new(names);
    if (total) {
        stats_record(total, 0, STATS_PROTO_H1, 200, STATS_OK, 1500, 10, 20);
        int rc = scr_done(s, total, names, 1.0, 0);
        if (rc < 0 || rc > 255)
            abort(); /* done() decides an exit status 0..255 or keeps ours */
    }
    stats_free(total);
    stats_names_free(names);
    json_decref(smet_json(m)); /* whatever metric.* made reads back */
    scr_free(s);
    smet_free(m);
    tpl_vars_free(vars);
    tpl_symtab_free(st);
    unlink(path);
    return 0;
}
