/* A GSI gatekeeper: acquires a Globus GSS credential (X509_USER_PROXY) and
 * maps it with the GSS calls of LCMAPS (compiled with LCMAPS_GSI_MODE).
 *   gss_client [requested-user]
 * env GK_POLICY: the policy for lcmaps_run_and_return_poolindex. */
#include <stdio.h>
#include <stdlib.h>
#include <gssapi.h>
#include "lcmaps.h"
#include "lcmaps_return_poolindex.h"

int main(int argc, char **argv)
{
    OM_uint32 major, minor;
    gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
    char *user = argc > 1 ? argv[1] : NULL, *pi = NULL, *pol = getenv("GK_POLICY");
    char *pols[1];
    char buf[256];
    int rc;

    major = gss_acquire_cred(&minor, GSS_C_NO_NAME, GSS_C_INDEFINITE, GSS_C_NO_OID_SET,
                             GSS_C_INITIATE, &cred, NULL, NULL);
    if (major != GSS_S_COMPLETE) {
        printf("acquire failed\n");
        return 2;
    }
    pols[0] = pol ? pol : "standard";
    if (lcmaps_init(stderr)) {
        printf("init=1\n");
        return 3;
    }
    rc = lcmaps_run_and_return_username(NULL, cred, NULL, &user, 0, NULL);
    printf("username rc=%d user=%s\n", rc, rc == 0 && user ? user : "(none)");
    rc = lcmaps_run_and_return_poolindex(NULL, cred, NULL, &pi, 1, pols);
    printf("poolindex rc=%d poolindex=%s\n", rc, rc == 0 && pi ? pi : "(none)");
    free(pi);
    if (getenv("GK_VERIFIED")) {
        /* a policy that verifies the credential's chain (verify_proxy) */
        char *vpols[1] = {"verified"};
        char *vu = NULL;
        rc = lcmaps_run_and_return_username(NULL, cred, NULL, &vu, 1, vpols);
        printf("verified rc=%d user=%s\n", rc, rc == 0 && vu ? vu : "(none)");
        free(vu);
    }
    rc = lcmaps_run(NULL, cred, NULL);
    printf("run rc=%d\n", rc);
    printf("term=%d\n", lcmaps_term());
    rc = lcmaps_return_poolindex_from_gss_cred(cred, buf, sizeof buf);
    printf("helper rc=%d poolindex=%s\n", rc, rc == 0 ? buf : "(none)");
    rc = lcmaps_return_poolindex_from_gss_cred(cred, buf, 3);
    printf("small buffer rc=%d\n", rc);
    return 0;
}
