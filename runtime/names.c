#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

int name_reserve(int runrootfd, const char *name, const char *id, struct berr *err)
{
    _cleanup_free_ char *path = xasprintf("names/%s", name);
    /* symlinkat fails with EEXIST if anyone holds the name: the reservation is atomic */
    if (symlinkat(id, runrootfd, path) == 0)
        return 0;
    if (errno != EEXIST)
        return berr_errno(err, "reserve name %s", name);
    char owner[128] = "";
    ssize_t n = readlinkat(runrootfd, path, owner, sizeof(owner) - 1);
    if (n > 0)
        owner[n] = '\0';
    return berr_set(err, BERR_CONFLICT,
                    "Conflict. The container name \"/%s\" is already in use by container "
                    "\"%s\". You have to remove (or rename) that container to be able to reuse "
                    "that name.",
                    name, owner);
}

void name_release(int runrootfd, const char *name, const char *id)
{
    _cleanup_free_ char *path = xasprintf("names/%s", name);
    char owner[128];
    ssize_t n = readlinkat(runrootfd, path, owner, sizeof(owner) - 1);
    if (n < 0)
        return;
    owner[n] = '\0';
    if (!strcmp(owner, id))
        unlinkat(runrootfd, path, 0);
}

static const char *const adjectives[] = {
    "admiring", "brave",  "busy",  "calm",  "clever", "eager",  "festive", "focused",
    "gallant",  "happy",  "jolly", "keen",  "kind",   "lucid",  "modest",  "nifty",
    "quirky",   "serene", "sharp", "stoic", "sweet",  "tender", "vibrant", "zealous",
};
static const char *const surnames[] = {
    "babbage", "curie",    "darwin",   "euler",    "fermi",   "galois", "hopper",
    "hypatia", "kepler",   "lamport",  "lovelace", "noether", "pascal", "ritchie",
    "shannon", "thompson", "torvalds", "turing",   "wozniak", "yalow",
};

char *name_random(void)
{
    unsigned r[2] = {0, 0};
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
        r[0] = (unsigned)getpid(), r[1] = (unsigned)getppid();
    return xasprintf("%s_%s", adjectives[r[0] % ARRAY_SIZE(adjectives)],
                     surnames[r[1] % ARRAY_SIZE(surnames)]);
}
