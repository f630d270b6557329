#include "control.h"

#include "app.h"
#include "counters.h"
#include "faults.h"

unsigned control_health(const struct web_req *req, struct MHD_Response **resp)
{
    (void)req;
    *resp = web_static("ok\n", 3, "text/plain; charset=utf-8");
    return MHD_HTTP_OK;
}

unsigned control_stats(const struct web_req *req, struct MHD_Response **resp)
{
    *resp = web_json(counters_to_json(req->app->counters));
    return MHD_HTTP_OK;
}

unsigned control_stats_reset(const struct web_req *req, struct MHD_Response **resp)
{
    counters_reset(req->app->counters);
    *resp = web_json(json_pack("{sb}", "ok", 1));
    return MHD_HTTP_OK;
}

unsigned control_set(const struct web_req *req, struct MHD_Response **resp)
{
    struct faults *f = req->app->faults;
    const char *delay = web_arg(req, "delay_ms"), *rate = web_arg(req, "fail_rate");
    uint32_t lo, hi;
    double r;

    faults_get(f, &lo, &hi, &r);
    if (delay && faults_parse_delay(delay, &lo, &hi) < 0) {
        *resp = web_error("delay_ms: expected milliseconds N or A-B with A <= B <= 3600000");
        return MHD_HTTP_BAD_REQUEST;
    }
    if (rate && faults_parse_rate(rate, &r) < 0) {
        *resp = web_error("fail_rate: expected a fraction from 0 to 1");
        return MHD_HTTP_BAD_REQUEST;
    }
    faults_set_delay(f, lo, hi);
    faults_set_fail_rate(f, r);
    *resp = web_json(json_pack("{s{sisi}sf}", "delay_ms", "min", (int)lo, "max", (int)hi,
                               "fail_rate", r));
    return MHD_HTTP_OK;
}
