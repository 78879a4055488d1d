/* LD_PRELOAD probe for tests/determinism/test_suite_vml.py: every getenv of an MKL_
   variable is written to stdout (one write, so it lands in order with the suite's own
   flushed lines) with the reading thread and the process. MKL reads MKL_VML_DEBUG_CPU_TYPE
   when it initialises its vector math dispatch, i.e. in the process's first VML call. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static char *(*real_getenv)(const char *);

char *getenv(const char *name) {
    if (!real_getenv) real_getenv = (char *(*)(const char *))dlsym(RTLD_NEXT, "getenv");
    if (name && strncmp(name, "MKL_", 4) == 0) {
        char line[256];
        int n = snprintf(line, sizeof line, "ENVLOCK-TEST-GETENV %s tid=%ld pid=%ld\n", name,
                         (long)syscall(SYS_gettid), (long)getpid());
        if (n > 0 && write(1, line, (size_t)n) < 0) { /* best effort */ }
    }
    return real_getenv(name);
}
