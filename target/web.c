#include "web.h"

#include "compress.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static struct MHD_Response *with_type(struct MHD_Response *r, const char *type)
{
    if (r && MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES) {
        MHD_destroy_response(r);
        return NULL;
    }
    return r;
}

struct MHD_Response *web_static(const void *data, size_t len, const char *type)
{
    return with_type(MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT),
                     type);
}

static _Thread_local compress_coding_t coding_now;

void web_set_coding(int coding)
{
    coding_now = (compress_coding_t)coding;
}

struct MHD_Response *web_owned(char *data, size_t len, const char *type)
{
    compress_coding_t c = len ? coding_now : COMPRESS_NONE;
    if (c != COMPRESS_NONE) {
        char *coded;
        size_t coded_len;
        int rc = compress_encode(c, data, len, &coded, &coded_len);
        free(data);
        if (rc != 0)
            return NULL;
        data = coded;
        len = coded_len;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(data);
        return NULL;
    }
    if (c != COMPRESS_NONE &&
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, compress_name(c)) != MHD_YES) {
        MHD_destroy_response(r);
        return NULL;
    }
    return with_type(r, type);
}

static const char *rename_from, *rename_to;

void web_set_rename(const char *from, const char *to)
{
    rename_from = from;
    rename_to = to;
}

static void rename_keys(json_t *v)
{
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            rename_keys(json_array_get(v, i));
        return;
    }
    if (!json_is_object(v))
        return;
    json_t *was = json_object_get(v, rename_from);
    if (was) {
        json_object_set(v, rename_to, was);
        json_object_del(v, rename_from);
    }
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
        rename_keys(x);
}

struct MHD_Response *web_json(json_t *v)
{
    if (!v)
        return NULL;
    if (rename_from)
        rename_keys(v);
    char *text = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    if (!text)
        return NULL;
    return web_owned(text, strlen(text), "application/json");
}

struct MHD_Response *web_error(const char *msg)
{
    return web_json(json_pack("{ss}", "error", msg));
}

const char *web_arg(const struct web_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *web_header(const struct web_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *web_cookie(const struct web_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

const char *web_bearer(const struct web_req *req)
{
    const char *v = web_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!v || strncasecmp(v, "Bearer ", 7))
        return NULL;
    v += 7;
    while (*v == ' ')
        v++;
    return v;
}

int web_is_type(const struct web_req *req, const char *type)
{
    const char *v = web_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
    size_t n = strlen(type);
    return v && !strncasecmp(v, type, n) && (v[n] == '\0' || v[n] == ';' || v[n] == ' ');
}

/* Decodes %XX and '+' of s[0..len) into out; -1 when it does not fit. */
static int form_decode(const char *s, size_t len, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+')
            c = ' ';
        else if (c == '%' && i + 2 < len) {
            int hi = OPENSSL_hexchar2int((unsigned char)s[i + 1]);
            int lo = OPENSSL_hexchar2int((unsigned char)s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                c = (char)(hi << 4 | lo);
                i += 2;
            }
        }
        if (o + 1 >= size)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

int web_form_field(const char *body, size_t len, const char *name, char *out, size_t size)
{
    size_t nlen = strlen(name);
    const char *p = body, *end = body + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if ((size_t)(stop - p) > nlen && !memcmp(p, name, nlen) && p[nlen] == '=')
            return form_decode(p + nlen + 1, (size_t)(stop - p) - nlen - 1, out, size);
        p = stop + 1;
    }
    return -1;
}

/* Length of the valid UTF-8 sequence at s (RFC 3629 table: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0 when there is none. */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else
        return 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

char *web_utf8_clean(const char *in, char *out, size_t size)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t o = 0;
    while (*s) {
        size_t n = utf8_seq(s);
        if (o + (n ? n : 1) >= size)
            break;
        if (n) {
            memcpy(out + o, s, n);
            o += n;
            s += n;
        } else {
            out[o++] = '?';
            s++;
        }
    }
    out[o] = '\0';
    return out;
}
