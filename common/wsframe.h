/* wsframe: RFC 6455 WebSocket frames of one direction of a connection, read
 * incrementally (bytes in any split) into whole messages: fragments joined,
 * masking removed, control frames (close, ping, pong) handed on as they come,
 * also between the fragments of a data message. Shared by the capture (proxy
 * and passive) and the replay. No extension is understood: a frame with an
 * RSV bit set (permessage-deflate's compressed frames) is a protocol error,
 * which is why the capture negotiates extensions away.
 *
 * wsf_frame writes one frame (the replay's sender; tests). */
#ifndef AIOTEST_WSFRAME_H
#define AIOTEST_WSFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    WSF_CONT = 0, WSF_TEXT = 1, WSF_BINARY = 2,
    WSF_CLOSE = 8, WSF_PING = 9, WSF_PONG = 10,
};

/* A whole message, valid during the callback only. */
typedef struct wsf_msg {
    uint8_t opcode;       /* WSF_TEXT, WSF_BINARY or a control opcode */
    const uint8_t *data;  /* payload kept (a close's without its code) */
    size_t len;
    uint64_t full_len;    /* payload length on the wire (a close's without its code) */
    bool truncated;       /* longer than the parser's max: data is its first bytes */
    uint16_t close_code;  /* WSF_CLOSE with a code; 0 otherwise */
} wsf_msg_t;

/* Called per message; a nonzero return stops wsf_feed (which returns -1). */
typedef int (*wsf_on_msg_fn)(void *ctx, const wsf_msg_t *m);

/* One direction's parser. Embed it; the fields are private. */
typedef struct wsf {
    size_t max;            /* payload bytes kept per message */
    uint8_t hdr[14];
    size_t hlen;           /* header bytes gathered */
    bool in_payload;
    uint64_t left;         /* payload bytes of the current frame still to come */
    uint64_t pos;          /* payload offset in the frame (mask index) */
    uint8_t mask[4];
    bool masked, fin;
    uint8_t op;            /* opcode of the current frame */
    bool in_msg;           /* a fragmented data message is open */
    uint8_t msg_op;
    uint8_t *buf;          /* data message kept so far */
    size_t len, cap;
    uint64_t msg_full;
    bool msg_cut;
    uint8_t ctl[125];      /* the current control frame */
    size_t ctl_len;
    bool failed;
    bool from_server;      /* wsf_from_server: a masked frame breaks the protocol */
    char error[96];        /* why the stream broke the protocol */
} wsf_t;

/* max: payload bytes kept per message (the rest is counted, not kept). */
void wsf_init(wsf_t *p, size_t max);
/* The bytes come from a server to a client (a client's parser): a masked
 * frame breaks the protocol, which the client must not read on (RFC 6455
 * 5.1). Without it masked and unmasked frames are read alike (a recorder of
 * both directions). */
void wsf_from_server(wsf_t *p);
/* Frees the message buffer; p may be initialised again. */
void wsf_fini(wsf_t *p);

/* Reads n bytes. Returns 0, or -1 when the bytes break the protocol (reason
 * in p->error; every later call fails too) or cb asked to stop. */
int wsf_feed(wsf_t *p, const uint8_t *d, size_t n, wsf_on_msg_fn cb, void *ctx);

/* True between frames and messages: the bytes read so far end on a message
 * boundary with nothing pending. */
bool wsf_idle(const wsf_t *p);

/* Writes one frame (FIN set) of opcode with payload into out, which must hold
 * wsf_frame_size(len, mask) bytes; masked with mask_key when mask is true (a
 * client's frames). Returns the bytes written. */
size_t wsf_frame_size(size_t len, bool mask);
size_t wsf_frame(uint8_t *out, uint8_t opcode, const void *payload, size_t len, bool mask,
                 const uint8_t mask_key[4]);

#endif
