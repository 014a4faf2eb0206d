/* Bad input through the C API of lcmaps-rs: NULL for every pointer,
 * run before init / after term, init twice, PEM calls, helper libraries.
 * Prints "ok <what>" per check, "FAIL <what>" on a wrong answer; exit 1 on
 * any failure. argv[1]: a DN the configured lcmaps.db maps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include "lcmaps.h"
#include "lcmaps_modules.h"
#include "lcmaps_arguments.h"
#include "lcmaps_cred_data.h"
#include "lcmaps_vo_data.h"
#include "lcmaps_account.h"
#include "lcmaps_return_account_from_pem.h"
#include "lcmaps_verify_account_from_pem.h"
#include "lcmaps_return_poolindex_without_gsi.h"
#include "lcmaps_gss_assist_gridmap.h"

static int failures = 0;
#define EXPECT(c)                           \
    do {                                    \
        if (c)                              \
            printf("ok %s\n", #c);          \
        else {                              \
            printf("FAIL %s\n", #c);        \
            failures++;                     \
        }                                   \
    } while (0)

int main(int argc, char **argv)
{
    char *dn = argc > 1 ? argv[1] : "/CN=x";
    char *fq[] = {"/dteam/Role=NULL/Capability=NULL"};
    uid_t uid;
    gid_t *pg = NULL, *sg = NULL;
    int np = 0, ns = 0, n = 3, cnt = -5;
    char *pi = NULL, *user = NULL, *toks[3];
    lcmaps_account_info_t acct;
    time_t t;
    int flags;

    /* before init */
    EXPECT(lcmaps_run_with_fqans_and_return_account(dn, fq, 1, NULL, 0, NULL, &uid, &pg, &np, &sg, &ns, &pi) == 1);
    EXPECT(lcmaps_run_without_credentials_and_return_username(dn, NULL, &user, 0, NULL) == 1 && user == NULL);
    EXPECT(lcmaps_term() == 0);

    /* init twice, then NULLs */
    EXPECT(lcmaps_init(stderr) == 0);
    EXPECT(lcmaps_init(stderr) == 0);
    EXPECT(raise(SIGPIPE) == 0); /* caught and logged while initialized, as LCMAPS */
    EXPECT(lcmaps_run_with_fqans_and_return_account(dn, fq, 1, NULL, 0, NULL, NULL, &pg, &np, &sg, &ns, &pi) == 1);
    EXPECT(lcmaps_run_with_fqans_and_return_account(NULL, fq, 1, NULL, 0, NULL, &uid, &pg, &np, &sg, &ns, &pi) == 1);
    EXPECT(lcmaps_run_with_fqans_and_return_account(dn, NULL, 0, NULL, 0, NULL, &uid, &pg, &np, &sg, &ns, &pi) == 0);
    EXPECT(lcmaps_run_with_fqans_and_return_account(dn, fq, 1, NULL, 1, NULL, &uid, &pg, &np, &sg, &ns, &pi) == 0);
    EXPECT(lcmaps_run_without_credentials_and_return_username(dn, NULL, NULL, 0, NULL) == 1);
    EXPECT(lcmaps_run_without_credentials_and_return_username(NULL, NULL, &user, 0, NULL) == 1);
    EXPECT(getCredentialData(UID, NULL) == NULL);
    EXPECT(getCredentialData(UID, &cnt) != NULL && cnt == 1); /* the last run's store */
    EXPECT(addCredentialData(UID, NULL) == 0);
    EXPECT(addCredentialData(DN, &user) == -1); /* NULL string inside */
    EXPECT(lcmaps_cntArgs(NULL) == 0);
    EXPECT(lcmaps_getArgValue(NULL, NULL, 1, NULL) == NULL);
    EXPECT(lcmaps_setArgValue("a", "b", NULL, 1, NULL) == -1);
    EXPECT(lcmaps_findArgName(NULL, 1, NULL) == -1);
    EXPECT(lcmaps_findArgNameAndType("a", NULL, 0, NULL) == -1);
    EXPECT(lcmaps_createVoMapping(NULL, NULL, 0) == NULL);
    EXPECT(lcmaps_deleteVoMapping(NULL) == -1);
    EXPECT(lcmaps_cleanVoMapping(NULL) == -1);
    EXPECT(lcmaps_copyVoMapping(NULL, NULL) == -1);
    EXPECT(lcmaps_printVoMapping(0, NULL) == -1);
    EXPECT(lcmaps_deleteVoData(NULL) == -1);
    EXPECT(lcmaps_cleanVoData(NULL) == -1);
    EXPECT(lcmaps_copyVoData(NULL, NULL) == -1);
    EXPECT(lcmaps_printVoData(0, NULL) == -1);
    EXPECT(lcmaps_stringVoData(NULL, NULL, 0) == -1);
    {
        char *f = lcmaps_genfilename(NULL, NULL, NULL);
        EXPECT(f != NULL && f[0] == '\0');
        free(f);
    }
    EXPECT(lcmaps_get_gidlist(NULL, NULL, NULL) == 1);
    EXPECT(lcmaps_tokenize(NULL, toks, &n, " ") == 0 && n == 0 && toks[0] == NULL);
    EXPECT(lcmaps_tokenize("a", NULL, NULL, NULL) == -4);
    EXPECT(lcmaps_account_info_init(NULL) == 0);
    EXPECT(lcmaps_account_info_fill(NULL, NULL, NULL, NULL, NULL, NULL, NULL) == -1);
    EXPECT(lcmaps_account_info_fill(NULL, NULL, NULL, NULL, NULL, NULL, &acct) == 1 && acct.uid == (uid_t)-1);
    EXPECT(lcmaps_account_info_clean(NULL) == 0);
    EXPECT(lcmaps_get_voms_verification_time(NULL, NULL) == -1);
    lcmaps_set_voms_verification_time((time_t)1234, 2);
    EXPECT(lcmaps_get_voms_verification_time(&t, &flags) == 0 && t == 1234 && flags == 2);
    EXPECT(lcmaps_is_set_to_verify_voms_attributes() == 1);
    lcmaps_disable_voms_attributes_verification();
    EXPECT(lcmaps_is_set_to_verify_voms_attributes() == 0);
    lcmaps_set_voms_attributes_verification(5u);
    EXPECT(lcmaps_get_voms_attributes_verification() == 5u);
    EXPECT(lcmaps_log(LOG_ERR, NULL) == 1);
    EXPECT(lcmaps_log(-5, "negative priority is LOG_ERR\n") == 0);
    EXPECT(lcmaps_get_major_version() == 1 && lcmaps_get_minor_version() == 6 && lcmaps_get_patch_version() == 6);

    /* a good run; lists point into the store */
    EXPECT(lcmaps_run_with_fqans_and_return_account(dn, fq, 1, NULL, 0, NULL, &uid, &pg, &np, &sg, &ns, &pi) == 0);
    EXPECT(np >= 1 && pg != NULL);
    EXPECT(lcmaps_account_info_fill(&uid, &pg, &np, &sg, &ns, &pi, &acct) == 0 && acct.npgid == np && acct.pgid_list != pg);
    EXPECT(lcmaps_account_info_clean(&acct) == 0 && acct.pgid_list == NULL);
    EXPECT(lcmaps_run_without_credentials_and_return_username(dn, NULL, &user, 0, NULL) == 0 && user != NULL);
    if (user)
        printf("user=%s\n", user);
    free(user);
    user = NULL;

    /* a PEM string that is not a certificate chain is refused */
    EXPECT(lcmaps_run_with_pem_and_return_account(NULL, "pem", 0, NULL, 0, NULL, &uid, &pg, &np, &sg, &ns, &pi) == 1);
    EXPECT(lcmaps_run_and_verify_account_from_pem(NULL, "pem", 0, NULL, 0, NULL, 0, NULL, NULL, 0, NULL) == 1);

    /* term, then run after term */
    EXPECT(lcmaps_term() == 0);
    EXPECT(lcmaps_run_with_fqans_and_return_account(dn, fq, 1, NULL, 0, NULL, &uid, &pg, &np, &sg, &ns, &pi) == 1);

    /* helper libraries: self-contained init/run/term */
    EXPECT(lcmaps_return_account_without_gsi(dn, fq, 1, 0, &acct) == 0 && acct.npgid >= 1);
    lcmaps_account_info_clean(&acct);
    EXPECT(lcmaps_return_account_without_gsi(dn, fq, 1, 0, NULL) == 1);
    EXPECT(lcmaps_return_account_from_pem("pem", 0, &acct) == 1);
    lcmaps_account_info_init(&acct);
    EXPECT(lcmaps_verify_account_from_pem("pem", acct) == 1);
    EXPECT(lcmaps_verify_account_from_pem_va(2, "pem", acct) == 1);
    EXPECT(lcmaps_verify_account_from_pem_va(3, "pem", acct, 7) == 1);
    EXPECT(globus_gss_assist_gridmap(dn, NULL) == 1);
    EXPECT(globus_gss_assist_gridmap(dn, &user) == 0 && user != NULL);
    if (user)
        printf("gridmap user=%s\n", user);
    free(user);

    printf("failures=%d\n", failures);
    return failures != 0;
}
