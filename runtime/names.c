/* A name for a container run without --name, drawn as docker draws one: adjective_surname. */
#include "internal.h"

#include <sys/random.h>
#include <unistd.h>

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
