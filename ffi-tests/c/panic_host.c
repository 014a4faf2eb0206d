/* A C host for the panic tests (ffi-tests/tests/panic_stderr.rs): logs to
 * LCMAPS_LOG_FILE only (lcmaps_init_and_logfile(NULL, NULL, DO_USRLOG)), so
 * anything on its stderr was written by the library or a plugin.
 *   panic_host map DN          map DN once: "rc=N"
 *   panic_host thread-exit DN  map DN on a thread ("thread rc=N"), then
 *                              again from a pthread key destructor as that
 *                              thread exits ("exit rc=N"), after the
 *                              thread's Rust thread-locals were destroyed
 *                              (glibc runs those first).
 * Exit status: 0, or 3 when lcmaps_init fails. Built against lcmaps-rs's
 * headers and Debian's. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lcmaps.h"

static char *dn;
static pthread_key_t key;

static int map(void)
{
    uid_t uid = (uid_t)-1;
    gid_t *pg = NULL, *sg = NULL;
    int np = 0, ns = 0, rc;
    char *pi = NULL;
    char *fqans[1] = {NULL};

    rc = lcmaps_run_with_fqans_mapcounter_and_return_account(
        dn, fqans, 0, 0, NULL, 0, NULL, &uid, &pg, &np, &sg, &ns, &pi);
    return rc;
}

static void at_thread_exit(void *unused)
{
    (void)unused;
    printf("exit rc=%d\n", map());
    fflush(stdout);
}

static void *worker(void *unused)
{
    (void)unused;
    pthread_setspecific(key, &key);
    printf("thread rc=%d\n", map());
    fflush(stdout);
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t t;

    if (argc != 3) {
        fprintf(stderr, "usage: %s map|thread-exit DN\n", argv[0]);
        return 2;
    }
    dn = argv[2];
    if (lcmaps_init_and_logfile(NULL, NULL, 1 /* DO_USRLOG */)) {
        printf("init=1\n");
        return 3;
    }
    if (strcmp(argv[1], "thread-exit") == 0) {
        pthread_key_create(&key, at_thread_exit);
        pthread_create(&t, NULL, worker, NULL);
        pthread_join(t, NULL);
    } else {
        printf("rc=%d\n", map());
    }
    fflush(stdout);
    lcmaps_term();
    return 0;
}
