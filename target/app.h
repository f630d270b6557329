/* app: the shared state every handler of the demo shop may use. Built by
 * server_start, read-only after that (the pointed-to objects are thread-safe). */
#ifndef TARGET_APP_H
#define TARGET_APP_H

struct sessions;
struct counters;
struct faults;

struct app {
    struct sessions *sessions;
    struct counters *counters;
    struct faults *faults;
};

#endif
