/* A C caller of the LCAS API, built against Debian's liblcas-dev headers
 * and run on Debian's liblcas.so.0 or on lcmaps-rs's:
 *   lcas_client pem FILE [REQUEST]   lcas_init_and_log, lcas_pem, lcas_term
 *   lcas_client null                 every entry point with NULLs and out
 *                                    of order; must not crash
 * Prints "rc=N" for the authorization and "version=M.m.p".
 * lcas.h declares lcas_get_fabric_authorization as the library is built
 * (DN, credential, request) only with ALLOW_EMPTY_CREDENTIALS. */
#define ALLOW_EMPTY_CREDENTIALS 1
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lcas.h"
#include "lcas_pem.h"

int main(int argc, char **argv)
{
    int rc;
    if (argc >= 2 && strcmp(argv[1], "null") == 0) {
        /* before init: refused */
        printf("pem-before-init=%d\n", lcas_pem(NULL, NULL));
        printf("term-before-init=%d\n", lcas_term());
        if (lcas_init_and_log(NULL, 0)) {
            printf("init=1\n");
            return 3;
        }
        printf("pem-null=%d\n", lcas_pem(NULL, NULL));
        printf("pem-garbage=%d\n", lcas_pem("not a certificate", NULL));
        printf("gss-null=%d\n", lcas_get_fabric_authorization(NULL, NULL, NULL));
        printf("gss-dn-only=%d\n",
               lcas_get_fabric_authorization("/DC=org/DC=example/CN=Jane Doe", NULL, "RSL"));
        printf("init-again=%d\n", lcas_init(NULL));
        printf("term=%d\n", lcas_term());
        printf("term-again=%d\n", lcas_term());
        return 0;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: %s pem FILE [REQUEST] | null\n", argv[0]);
        return 2;
    }
    {
        static char pem[65536];
        FILE *f = fopen(argv[2], "r");
        size_t n = f ? fread(pem, 1, sizeof pem - 1, f) : 0;
        if (f)
            fclose(f);
        pem[n] = '\0';
        if (lcas_init_and_log(stderr, 1 /* DO_USRLOG */)) {
            printf("init=1\n");
            return 3;
        }
        rc = lcas_pem(pem, argc > 3 ? argv[3] : NULL);
        printf("rc=%d\n", rc);
        printf("version=%d.%d.%d\n", getMajorVersionNumber(), getMinorVersionNumber(),
               getPatchVersionNumber());
        if (lcas_term())
            printf("term=1\n");
    }
    return rc;
}
