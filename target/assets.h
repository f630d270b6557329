/* assets: the pages and static files of the demo shop, compiled in, so a
 * browser pointed at the target loads a page with sub-resources and XHRs. */
#ifndef TARGET_ASSETS_H
#define TARGET_ASSETS_H

#include "web.h"

/* GET /: the shop's home page (HTML). */
unsigned assets_index(const struct web_req *req, struct MHD_Response **resp);

/* GET /static/<name>: app.js, style.css, logo.png with their Content-Type and a
 * Cache-Control; 404 for any other name. */
unsigned assets_static(const struct web_req *req, struct MHD_Response **resp);

#endif
