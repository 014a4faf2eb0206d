/* A C caller of the credential entry points that take no PEM text:
 *   cred_client stack FILE   reads the certificates of a PEM file into an
 *                            OpenSSL STACK_OF(X509) and maps it with
 *                            lcmaps_run_with_stack_of_x509_and_return_account
 *                            (built against our headers and Debian's);
 *   cred_client token FILE   maps the bearer token in FILE with lcmaps-rs's
 *                            lcmaps_rs_run_with_token_and_return_account
 *                            (our headers only).
 * env GK_POLICY: one policy name. Prints one result line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "lcmaps.h"
#include "print_account.h"
#include "lcmaps_openssl.h"
#if __has_include("lcmaps_rs_abi.h")
#include "lcmaps_rs_abi.h"
#define HAVE_TOKEN_API 1
#endif

int main(int argc, char **argv)
{
    char *pol = getenv("GK_POLICY"), *pols[1], *pi = NULL;
    int npols = 0, rc = 1, np = 0, ns = 0;
    uid_t uid = (uid_t)-1;
    gid_t *pg = NULL, *sg = NULL;
    FILE *f;

    if (argc < 3) {
        fprintf(stderr, "usage: %s stack|token FILE\n", argv[0]);
        return 2;
    }
    if (pol) {
        pols[0] = pol;
        npols = 1;
    }
    if (lcmaps_init_and_log(stderr, 1 /* DO_USRLOG */)) {
        printf("init=1\n");
        return 3;
    }
    f = fopen(argv[2], "r");
    if (!f) {
        perror(argv[2]);
        return 2;
    }
    if (strcmp(argv[1], "stack") == 0) {
        STACK_OF(X509) *chain = sk_X509_new_null();
        X509 *c;
        while ((c = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
            sk_X509_push(chain, c);
        rc = lcmaps_run_with_stack_of_x509_and_return_account(
            chain, 0, NULL, npols, npols ? pols : NULL, &uid, &pg, &np, &sg, &ns, &pi);
        print_account(rc, uid, pg, np, sg, ns, pi);
        /* the chain stays ours: LCMAPS must not have freed it */
        printf("chain=%d\n", sk_X509_num(chain));
        sk_X509_pop_free(chain, X509_free);
#ifdef HAVE_TOKEN_API
    } else if (strcmp(argv[1], "token") == 0) {
        static char tok[2 * 1024 * 1024];
        size_t n = fread(tok, 1, sizeof(tok) - 1, f);
        tok[n] = '\0';
        rc = lcmaps_rs_run_with_token_and_return_account(
            tok, 0, NULL, npols, npols ? pols : NULL, &uid, &pg, &np, &sg, &ns, &pi);
        print_account(rc, uid, pg, np, sg, ns, pi);
#endif
    } else {
        fprintf(stderr, "unknown mode %s\n", argv[1]);
        fclose(f);
        return 2;
    }
    fclose(f);
    free(pi); /* malloc'ed for the caller */
    if (lcmaps_term())
        printf("term=1\n");
    return rc;
}
