/* rec_codec: the recording's records <-> msgpack maps (docs/file-formats.md,
 * "Recording"). Internal to scenarios/. */
#ifndef AIOTEST_REC_CODEC_H
#define AIOTEST_REC_CODEC_H

#include "mpread.h"
#include "mpwrite.h"
#include "recording.h"

void rec_codec_pack_header(mpw_t *w, const rec_header_t *h);
void rec_codec_pack_exchange(mpw_t *w, const rec_exchange_t *x);

/* Decode into zeroed structs (caller finis them on error too). Return 0 or
 * negative with c->err naming record, offset and field. The header decoder
 * refuses another format (MP_ERR_KIND) and a newer major (MP_ERR_VERSION). */
int rec_codec_unpack_header(const mpr_ctx_t *c, const msgpack_object *o, rec_header_t *h);
int rec_codec_unpack_exchange(const mpr_ctx_t *c, const msgpack_object *o, rec_exchange_t *x);

#endif
