/* batch: maps every DN of a file through the LCMAPS 1.6 API in one process
 * (one lcmaps_init, then one lcmaps_run_with_fqans_mapcounter_and_return_account
 * per DN), for races and benchmarks of the pool and local account plugins.
 *   batch DNFILE            (one DN per line)
 * env: BATCH_PASSES (default 1): passes over the file;
 *      BATCH_QUIET: no per-mapping lines;
 *      BATCH_START_FILE: after lcmaps_init, wait until this file exists
 *      (a start barrier for racing processes; gives up with exit 4 after 120 s).
 * Prints, for each mapping of the first pass (unless quiet),
 *   map LINE rc=RC uid=UID poolindex=PI
 * and for each pass
 *   pass=P mappings=N failures=F seconds=S rate=R
 * Exit: 0 when every mapping ran (whatever its result), 2 usage, 3 init. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "lcmaps.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *passes_s = getenv("BATCH_PASSES"), *start = getenv("BATCH_START_FILE");
    int passes = passes_s ? atoi(passes_s) : 1, quiet = getenv("BATCH_QUIET") != NULL;
    char **dns = NULL, line[8192];
    size_t n = 0, cap = 0, i;
    int p;
    FILE *f;

    if (argc != 2) {
        fprintf(stderr, "usage: %s DNFILE\n", argv[0]);
        return 2;
    }
    if ((f = fopen(argv[1], "r")) == NULL) {
        perror(argv[1]);
        return 2;
    }
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            if ((dns = realloc(dns, cap * sizeof(*dns))) == NULL)
                return 2;
        }
        if ((dns[n++] = strdup(line)) == NULL)
            return 2;
    }
    fclose(f);
    if (lcmaps_init_and_log(stderr, 1 /* DO_USRLOG */)) {
        printf("init=1\n");
        return 3;
    }
    if (start) {
        int waited = 0;
        while (access(start, F_OK) != 0) {
            if (waited++ > 120000)
                return 4;
            usleep(1000);
        }
    }
    for (p = 1; p <= passes; p++) {
        int failures = 0;
        double t0 = now(), s;
        for (i = 0; i < n; i++) {
            uid_t uid = (uid_t)-1;
            gid_t *pg = NULL, *sg = NULL;
            int np = 0, ns = 0, rc;
            char *pi = NULL;
            rc = lcmaps_run_with_fqans_mapcounter_and_return_account(
                dns[i], NULL, 0, 0, NULL, 0, NULL, &uid, &pg, &np, &sg, &ns, &pi);
            failures += rc != 0;
            if (p == 1 && !quiet) {
                if (rc == 0)
                    printf("map %zu rc=0 uid=%d poolindex=%s\n", i + 1, (int)uid,
                           pi ? pi : "(none)");
                else
                    printf("map %zu rc=%d\n", i + 1, rc);
            }
        }
        s = now() - t0;
        printf("pass=%d mappings=%zu failures=%d seconds=%.6f rate=%.1f\n", p, n, failures, s,
               s > 0 ? (double)n / s : 0.0);
        fflush(stdout);
    }
    if (lcmaps_term())
        printf("term=1\n");
    for (i = 0; i < n; i++)
        free(dns[i]);
    free(dns);
    return 0;
}
