/* recdump: test helper for the capture tests. Prints one line per exchange
 * of a recording, tab-separated:
 *   method  scheme://authority+target  status  sha256(req body)  sha256(resp body)
 *   flags  stream  conn  client  t_start  t_first_byte  t_end  req_len  resp_len
 *   truncated(req,resp)  tunnel_up  tunnel_down  error  http_version
 * With -H, the headers follow each line as "\t> name: value" (request) and
 * "\t< name: value" (response). Exit 0 at a clean end, 3 when the file ends
 * in a cut record (every earlier one printed), 2 when it cannot be read. */
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>

#include "recording.h"

static void sha256_hex(const uint8_t *p, size_t n, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_Digest(p ? (const void *)p : "", n, md, &len, EVP_sha256(), NULL);
    for (unsigned i = 0; i < len; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
}

static void flags_str(uint32_t f, char *buf, size_t len)
{
    static const struct { uint32_t bit; const char *name; } names[] = {
        { REC_F_TLS, "tls" }, { REC_F_INCOMPLETE, "incomplete" }, { REC_F_TUNNEL, "tunnel" },
        { REC_F_ERROR, "error" }, { REC_F_H2, "h2" },
    };
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (f & names[i].bit) {
            if (buf[0])
                strncat(buf, ",", len - strlen(buf) - 1);
            strncat(buf, names[i].name, len - strlen(buf) - 1);
        }
    }
    if (buf[0] == '\0')
        snprintf(buf, len, "-");
}

static void headers(const rec_headers_t *h, char dir)
{
    for (size_t i = 0; i < h->n; i++)
        printf("\t%c %s: %s\n", dir, h->v[i].name, h->v[i].value);
}

int main(int argc, char **argv)
{
    int with_headers = argc > 1 && strcmp(argv[1], "-H") == 0;
    if (argc != 2 + with_headers) {
        fprintf(stderr, "usage: recdump [-H] RECORDING\n");
        return 2;
    }
    const char *path = argv[1 + with_headers];
    rec_header_t h = { 0 };
    mp_error_t err;
    rec_reader_t *r = rec_reader_open(path, &h, &err);
    if (r == NULL) {
        fprintf(stderr, "recdump: %s\n", err.msg);
        return 2;
    }
    int rc;
    long n = 0;
    rec_exchange_t x;
    for (;;) {
        memset(&x, 0, sizeof x);
        rc = rec_reader_next(r, &x, &err);
        if (rc != MP_OK)
            break;
        char a[65], b[65], fl[64];
        sha256_hex(x.req_body, x.req_body_len, a);
        sha256_hex(x.resp_body, x.resp_body_len, b);
        flags_str(x.flags, fl, sizeof fl);
        printf("%s\t%s://%s%s\t%d\t%s\t%s\t%s\t%u\t%llu\t%s\t%lld\t%lld\t%lld\t%zu\t%zu\t%d,%d\t%llu\t%llu\t%s\t%s\n",
               x.method, x.scheme, x.authority, strcmp(x.method, "CONNECT") == 0 ? "" : x.target,
               x.status, a, b, fl, x.stream_id, (unsigned long long)x.conn_id, x.client,
               (long long)x.t_start_us, (long long)x.t_first_byte_us, (long long)x.t_end_us,
               x.req_body_len, x.resp_body_len, x.req_truncated, x.resp_truncated,
               (unsigned long long)x.tunnel_bytes_up, (unsigned long long)x.tunnel_bytes_down,
               x.error ? x.error : "-", x.http_version);
        if (with_headers) {
            headers(&x.req_headers, '>');
            headers(&x.resp_headers, '<');
        }
        rec_exchange_fini(&x);
        n++;
    }
    rec_exchange_fini(&x);
    rec_reader_close(r);
    rec_header_fini(&h);
    fprintf(stderr, "recdump: %ld exchanges\n", n);
    if (rc == MP_EOF)
        return 0;
    fprintf(stderr, "recdump: %s\n", err.msg);
    return 3;
}
