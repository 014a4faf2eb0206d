/* A client in LCMAPS's LCMAPS_USE_DLOPEN style (Debian's headers only:
 * lcmaps-rs's headers do not provide the handle macros): loads
 * liblcmaps_return_account_from_pem.so.0 with dlopen, reads the version,
 * and calls lcmaps_return_account_from_pem. Build with -DLIBSUFF='".so.0"'. */
#define LCMAPS_USE_DLOPEN 1
#include <stdio.h>
#include "lcmaps_return_account_from_pem.h"

int main(void)
{
    LCMAPS_DECL_HANDLE_RETURN_ACCOUNT_FROM_PEM(h);
    LCMAPS_HANDLE_RETURN_ACCOUNT_FROM_PEM *l = &h; /* the macros want a plain name */
    lcmaps_account_info_t acct;
    int rc;

    (void)LCMAPS_INIT_HANDLE_RETURN_ACCOUNT_FROM_PEM(l);
    if (!LCMAPS_LOAD_RETURN_ACCOUNT_FROM_PEM(l)) {
        printf("load failed: %s\n", LCMAPS_ERRMSG(l));
        return 2;
    }
    printf("version=%d.%d.%d\n", LCMAPS_MAJOR_VERSION(l), LCMAPS_MINOR_VERSION(l),
           LCMAPS_PATCH_VERSION(l));
    rc = LCMAPS_CALL(l, lcmaps_return_account_from_pem)("not a pem", 0, &acct);
    printf("rc=%d\n", rc);
    return 0;
}
