#include "assets.h"

#include <string.h>

static const char index_html[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<title>aiotest demo shop</title>\n"
    "<link rel=\"icon\" href=\"/static/logo.png\">\n"
    "<link rel=\"stylesheet\" href=\"/static/style.css\">\n"
    "<script src=\"/static/app.js\" defer></script>\n"
    "</head>\n"
    "<body>\n"
    "<header><img src=\"/static/logo.png\" alt=\"logo\" width=\"24\" height=\"24\"> "
    "<h1>aiotest demo shop</h1></header>\n"
    "<main>\n"
    "<p id=\"status\">loading&hellip;</p>\n"
    "<ul id=\"results\"></ul>\n"
    "<p><a href=\"/checkout\">checkout</a></p>\n"
    "</main>\n"
    "</body>\n"
    "</html>\n";

/* What a browser does on the home page: the XHRs a recording should capture. */
static const char app_js[] =
    "'use strict';\n"
    "async function call(method, url, body, token) {\n"
    "  const headers = {};\n"
    "  if (body !== undefined) headers['Content-Type'] = 'application/json';\n"
    "  if (token) headers['Authorization'] = 'Bearer ' + token;\n"
    "  const r = await fetch(url, {method, headers, credentials: 'same-origin',\n"
    "    body: body === undefined ? undefined : JSON.stringify(body)});\n"
    "  if (!r.ok) throw new Error(method + ' ' + url + ': ' + r.status);\n"
    "  return r.json();\n"
    "}\n"
    "async function main() {\n"
    "  const status = document.getElementById('status');\n"
    "  try {\n"
    "    const login = await call('POST', '/api/login', {user: 'demo', password: 'demo'});\n"
    "    const found = await call('GET', '/api/search?q=shoes');\n"
    "    const profile = await call('GET', '/api/profile', undefined, login.token);\n"
    "    const list = document.getElementById('results');\n"
    "    for (const item of found.results) {\n"
    "      const li = document.createElement('li');\n"
    "      li.textContent = item.name + ' ' + (item.price_cents / 100).toFixed(2);\n"
    "      list.appendChild(li);\n"
    "    }\n"
    "    status.textContent = 'hello ' + profile.user;\n"
    "  } catch (e) {\n"
    "    status.textContent = 'error: ' + e.message;\n"
    "  }\n"
    "}\n"
    "document.addEventListener('DOMContentLoaded', main);\n";

static const char style_css[] =
    "body { font-family: sans-serif; margin: 2em; color: #222; }\n"
    "header { display: flex; align-items: center; gap: 0.5em; }\n"
    "h1 { font-size: 1.4em; margin: 0; }\n"
    "#status { color: #2078c8; }\n";

/* A 24x24 RGB PNG (a blue disc). */
static const unsigned char logo_png[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d,
    0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x18,
    0x08, 0x02, 0x00, 0x00, 0x00, 0x6f, 0x15, 0xaa, 0xaf, 0x00, 0x00, 0x00,
    0x5c, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0xf8, 0x4f, 0x25, 0xc0,
    0x40, 0x0f, 0x83, 0x14, 0x2a, 0x4e, 0xa0, 0x21, 0x92, 0x0d, 0xc2, 0x34,
    0x82, 0xa0, 0x71, 0x0c, 0x24, 0x19, 0x81, 0xc7, 0x38, 0x06, 0x5c, 0xa6,
    0x10, 0xe3, 0x5f, 0x1a, 0x1b, 0x84, 0xd5, 0xe5, 0xf8, 0x45, 0x90, 0xcd,
    0xa2, 0xb6, 0x41, 0xb8, 0xc2, 0x92, 0xa0, 0x41, 0x70, 0xf1, 0x51, 0x83,
    0x28, 0x36, 0x88, 0xf8, 0x0c, 0x48, 0x20, 0xfa, 0x09, 0x1a, 0x44, 0x6c,
    0x3a, 0x22, 0xc7, 0xa0, 0xc1, 0x97, 0xd7, 0xa8, 0x59, 0x8c, 0x50, 0xb3,
    0x60, 0xa3, 0x72, 0x51, 0x3b, 0x90, 0xb5, 0x08, 0x00, 0x51, 0xd8, 0x43,
    0x44, 0x8f, 0x7c, 0x97, 0xca, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
};

struct asset {
    const char *name;
    const void *data;
    size_t len;
    const char *type;
};

static const struct asset assets[] = {
    {"app.js", app_js, sizeof(app_js) - 1, "text/javascript; charset=utf-8"},
    {"style.css", style_css, sizeof(style_css) - 1, "text/css; charset=utf-8"},
    {"logo.png", logo_png, sizeof(logo_png), "image/png"},
};

unsigned assets_index(const struct web_req *req, struct MHD_Response **resp)
{
    (void)req;
    *resp = web_static(index_html, sizeof(index_html) - 1, "text/html; charset=utf-8");
    return MHD_HTTP_OK;
}

unsigned assets_static(const struct web_req *req, struct MHD_Response **resp)
{
    const char *name = req->path + strlen("/static/");
    for (size_t i = 0; i < sizeof(assets) / sizeof(assets[0]); i++) {
        if (strcmp(name, assets[i].name))
            continue;
        *resp = web_static(assets[i].data, assets[i].len, assets[i].type);
        if (*resp && MHD_add_response_header(*resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                                             "public, max-age=3600") != MHD_YES) {
            MHD_destroy_response(*resp);
            *resp = NULL;
        }
        return MHD_HTTP_OK;
    }
    *resp = web_error("no such static file");
    return MHD_HTTP_NOT_FOUND;
}
