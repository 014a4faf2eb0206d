/* A minimal C gatekeeper: maps a DN (and FQANs) through the LCMAPS 1.6 API.
 * Built by ffi-tests against lcmaps-rs's headers and against Debian's, and
 * run on either library.
 *   gatekeeper account|username DN [FQAN...]
 *   gatekeeper pem FILE... (mapping i reads FILE number i modulo their count)
 * env: GK_LOOPS (default 1): mappings in one process (init once);
 *      GK_CYCLES (default 0): instead, that many lcmaps_init + one mapping +
 *      lcmaps_term cycles in one process (timed together);
 *      GK_MAPCOUNTER (default 0); GK_POLICY: one policy name;
 *      GK_PRINT_IDS: also print the process's identity after mapping
 *      (for posix_enf). 
 * Prints one result line for the first mapping, plus a rate line for loops. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <grp.h>
#include "lcmaps.h"
#include "print_account.h"

/* One mapping (the `turn`th); prints its result line when `print`. */
static int map_once(const char *mode, int argc, char **argv, int mapcounter, int npols,
                    char **pols, int print, int turn)
{
    int rc;
    if (strcmp(mode, "pem") == 0) {
        /* argv[2..]: PEM files (proxy chain and key), used in turn */
        static char pem[65536];
        FILE *f = fopen(argv[2 + turn % (argc - 2)], "r");
        size_t n = f ? fread(pem, 1, sizeof(pem) - 1, f) : 0;
        uid_t uid = (uid_t)-1;
        gid_t *pg = NULL, *sg = NULL;
        int np = 0, ns = 0;
        char *pi = NULL;
        if (f)
            fclose(f);
        pem[n] = '\0';
        rc = lcmaps_run_with_pem_and_return_account(
            NULL, pem, mapcounter, NULL, npols, npols ? pols : NULL,
            &uid, &pg, &np, &sg, &ns, &pi);
        if (print)
            print_account(rc, uid, pg, np, sg, ns, pi);
        free(pi); /* the PEM variant strdup's the pool index */
    } else if (strcmp(mode, "account") == 0) {
        uid_t uid = (uid_t)-1;
        gid_t *pg = NULL, *sg = NULL;
        int np = 0, ns = 0;
        char *pi = NULL;
        rc = lcmaps_run_with_fqans_mapcounter_and_return_account(
            argv[2], argv + 3, argc - 3, mapcounter, NULL, npols, npols ? pols : NULL,
            &uid, &pg, &np, &sg, &ns, &pi);
        if (print)
            print_account(rc, uid, pg, np, sg, ns, pi);
    } else {
        char *user = NULL;
        rc = lcmaps_run_without_credentials_and_return_username(
            argv[2], NULL, &user, npols, npols ? pols : NULL);
        if (print)
            printf("rc=%d user=%s\n", rc, user ? user : "(none)");
        free(user);
    }
    return rc;
}

int main(int argc, char **argv)
{
    const char *mode, *loops_s = getenv("GK_LOOPS"), *mc_s = getenv("GK_MAPCOUNTER");
    const char *pol = getenv("GK_POLICY"), *cycles_s = getenv("GK_CYCLES");
    char *pols[1];
    int npols = 0, loops = loops_s ? atoi(loops_s) : 1, mapcounter = mc_s ? atoi(mc_s) : 0;
    int i, rc = 1, failures = 0, cycles = cycles_s ? atoi(cycles_s) : 0;
    struct timespec t0, t1;

    if (argc < 3) {
        fprintf(stderr, "usage: %s account|username DN [FQAN...] | pem FILE...\n", argv[0]);
        return 2;
    }
    mode = argv[1];
    if (pol) {
        pols[0] = (char *)pol;
        npols = 1;
    }
    if (cycles > 0) {
        /* init + one mapping + term, `cycles` times, all timed */
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (i = 0; i < cycles; i++) {
            if (lcmaps_init_and_log(stderr, 1 /* DO_USRLOG */)) {
                printf("init=1 cycle=%d\n", i);
                return 3;
            }
            rc = map_once(mode, argc, argv, mapcounter, npols, pols, i == 0, i);
            failures += rc != 0;
            if (lcmaps_term()) {
                printf("term=1 cycle=%d\n", i);
                return 3;
            }
        }
        loops = cycles;
    } else {
        if (lcmaps_init_and_log(stderr, 1 /* DO_USRLOG */)) {
            printf("init=1\n");
            return 3;
        }
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (i = 0; i < loops; i++) {
            rc = map_once(mode, argc, argv, mapcounter, npols, pols, i == 0, i);
            failures += rc != 0;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (getenv("GK_PRINT_IDS")) {
        gid_t groups[64];
        int n = getgroups(64, groups), j;
        printf("ids ruid=%d euid=%d rgid=%d egid=%d groups=", (int)getuid(), (int)geteuid(),
               (int)getgid(), (int)getegid());
        for (j = 0; j < n; j++)
            printf("%s%d", j ? "," : "", (int)groups[j]);
        printf("\n");
    }
    if (loops > 1) {
        double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        printf("loops=%d failures=%d seconds=%.6f rate=%.1f\n", loops, failures, s, loops / s);
    }
    if (cycles <= 0 && lcmaps_term())
        printf("term=1\n");
    return rc;
}
