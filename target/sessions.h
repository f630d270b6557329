/* sessions: the logged-in users of the demo shop. A login creates one session
 * reachable by two random keys: the bearer token (API calls) and the session
 * cookie (cart, checkout, order); checkout adds a CSRF value that only the next
 * order of that session may send. Keys are 128 random bits shown as 32 lowercase
 * hex digits, so a replay that sends recorded values is refused.
 * The table is thread-safe and bounded: when full, a login evicts the oldest
 * session. */
#ifndef TARGET_SESSIONS_H
#define TARGET_SESSIONS_H

#include <stddef.h>
#include <stdint.h>

#define SESSIONS_KEY_LEN 32   /* hex digits of a token, session id or CSRF value */
#define SESSIONS_USER_MAX 63  /* longest user name */
#define SESSIONS_CART_MAX 32  /* distinct items in one cart */

enum sessions_err {
    SESSIONS_OK = 0,
    SESSIONS_ENOENT = -1,  /* no such token or session (never issued, evicted, logged out) */
    SESSIONS_ECSRF = -2,   /* CSRF value missing or not the latest one of the session */
    SESSIONS_EFULL = -3,   /* cart has SESSIONS_CART_MAX distinct items already */
    SESSIONS_ERANGE = -4,  /* bad argument: user name too long, zero quantity */
};

struct sessions_line {
    uint32_t item, qty;
};

/* A copy of one session's state, taken under the lock. */
struct sessions_view {
    char user[SESSIONS_USER_MAX + 1];
    unsigned n_lines;
    struct sessions_line lines[SESSIONS_CART_MAX];
};

struct sessions;

/* A table of at most capacity sessions (>= 1). NULL when out of memory. */
struct sessions *sessions_new(size_t capacity);
void sessions_free(struct sessions *s);

/* Creates a session for user; writes the token and the session id as
 * NUL-terminated hex. Returns SESSIONS_OK or SESSIONS_ERANGE. */
int sessions_login(struct sessions *s, const char *user,
                   char token[SESSIONS_KEY_LEN + 1], char sid[SESSIONS_KEY_LEN + 1]);

/* Copies the session of a bearer token into *out. SESSIONS_OK or SESSIONS_ENOENT. */
int sessions_by_token(struct sessions *s, const char *token, struct sessions_view *out);

/* Copies the session of a session id (cookie) into *out. SESSIONS_OK or SESSIONS_ENOENT. */
int sessions_by_sid(struct sessions *s, const char *sid, struct sessions_view *out);

/* Adds qty (>= 1) of item to the cart of session sid and copies the session into
 * *out. SESSIONS_OK, SESSIONS_ENOENT, SESSIONS_EFULL or SESSIONS_ERANGE. */
int sessions_cart_add(struct sessions *s, const char *sid, uint32_t item, uint32_t qty,
                      struct sessions_view *out);

/* Gives session sid a new CSRF value (the previous one stops being valid) and
 * writes it as hex. SESSIONS_OK or SESSIONS_ENOENT. */
int sessions_checkout(struct sessions *s, const char *sid, char csrf[SESSIONS_KEY_LEN + 1]);

/* Places an order for session sid when csrf is its latest CSRF value: sets
 * *order_id (increasing across the table) and empties the cart.
 * SESSIONS_OK, SESSIONS_ENOENT or SESSIONS_ECSRF (csrf may be NULL). */
int sessions_order(struct sessions *s, const char *sid, const char *csrf, uint64_t *order_id);

/* Ends the session of token, or else of sid (either may be NULL): both keys stop
 * working. SESSIONS_OK or SESSIONS_ENOENT. */
int sessions_logout(struct sessions *s, const char *token, const char *sid);

#endif
