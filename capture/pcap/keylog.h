/* keylog: TLS secrets from an NSS key log (what SSLKEYLOGFILE makes curl,
 * browsers and OpenSSL-based servers write): lines "LABEL <client_random hex>
 * <secret hex>", '#' comments and blank lines. The secrets are kept by
 * client_random. A file is read to its last complete line and may be read
 * again as it grows (live capture); text from elsewhere (pcapng Decryption
 * Secrets Blocks) is added the same way. Malformed lines are counted, the
 * first one named (source:line), and the rest of the text is used. */
#ifndef CAPTURE_PCAP_KEYLOG_H
#define CAPTURE_PCAP_KEYLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYLOG_RANDOM_LEN 32
#define KEYLOG_MAX_SECRET 48   /* SHA-384 secrets and TLS 1.2 master secrets */

enum keylog_label {
    KEYLOG_CLIENT_RANDOM = 0,      /* TLS 1.2 master secret (48 bytes) */
    KEYLOG_CLIENT_HS_TRAFFIC,      /* TLS 1.3 client_handshake_traffic_secret */
    KEYLOG_SERVER_HS_TRAFFIC,
    KEYLOG_CLIENT_TRAFFIC_0,       /* TLS 1.3 first application traffic secrets */
    KEYLOG_SERVER_TRAFFIC_0,
    KEYLOG_CLIENT_EARLY_TRAFFIC,   /* TLS 1.3 0-RTT early data */
    KEYLOG_NLABELS
};

typedef struct keylog keylog_t;

typedef struct keylog_stats {
    uint64_t lines;        /* lines read, comments and blank ones included */
    uint64_t secrets;      /* secrets stored */
    uint64_t ignored;      /* well-formed lines of labels not needed (EXPORTER_SECRET...) */
    uint64_t malformed;    /* lines that are not "LABEL hex hex" */
    char first_bad[192];   /* "source:line: what" of the first malformed line, or "" */
} keylog_stats_t;

/* NULL when out of memory. */
keylog_t *keylog_new(void);
void keylog_free(keylog_t *k);

/* Reads path's lines and remembers the file for keylog_refresh. follow: the
 * file is still being written (live), a last line without its newline waits
 * for it; else it is read too. Returns 0, or -1 with err ("FILE: reason")
 * when it cannot be opened. */
int keylog_open(keylog_t *k, const char *path, bool follow, char *err, size_t errlen);
/* Reads the lines appended to the file since the last read (a line without
 * its newline yet waits; a stat only when the size did not change; a file
 * that shrank was started anew and is read from its beginning). Returns how
 * many secrets were added; 0 without a file. */
size_t keylog_refresh(keylog_t *k);
/* Adds key log text (complete lines; a last line without a newline counts);
 * where names the source in the malformed-line message. */
void keylog_add_text(keylog_t *k, const char *where, const char *p, size_t n);

/* The secret of label for client_random cr: its length (0 when absent), and
 * *secret pointing into k (valid until k is changed or freed). */
size_t keylog_find(const keylog_t *k, const uint8_t cr[KEYLOG_RANDOM_LEN], enum keylog_label label,
                   const uint8_t **secret);
void keylog_get_stats(const keylog_t *k, keylog_stats_t *st);

#endif
