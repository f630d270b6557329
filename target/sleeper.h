/* sleeper: delays responses without holding a pool thread. A delayed request's
 * connection is suspended in MHD and handed here; one timer thread keeps a
 * min-heap of wake-up times and resumes each connection when its time comes, so
 * 400 requests delayed by 2 s cost 400 heap entries, not 400 blocked threads. */
#ifndef TARGET_SLEEPER_H
#define TARGET_SLEEPER_H

#include <stdint.h>

struct MHD_Connection;
struct sleeper;

/* Starts the timer thread. Returns the handle, or NULL when out of memory or
 * when the thread cannot start. */
struct sleeper *sleeper_new(void);

/* Resumes conn (already suspended by the caller) at wake_us on clk_mono_us().
 * Thread-safe. When the entry cannot be stored (out of memory) or the sleeper is
 * draining, conn is resumed at once: a request is answered early, never lost. */
void sleeper_add(struct sleeper *s, uint64_t wake_us, struct MHD_Connection *conn);

/* Resumes every waiting connection now and every later one at once. Call before
 * MHD_stop_daemon, which must not find suspended connections. */
void sleeper_drain(struct sleeper *s);

/* Drains, stops the thread and frees. NULL is accepted. */
void sleeper_free(struct sleeper *s);

#endif
