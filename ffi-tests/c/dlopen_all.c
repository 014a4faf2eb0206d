/* Every LCMAPS_USE_DLOPEN interface of lcmaps-rs's headers: load each
 * helper library through its handle macros, print the version, and map a
 * DN through globus_gss_assist_gridmap. argv[1]: the DN. */
#define LCMAPS_USE_DLOPEN 1
#include <stdio.h>
#include <stdlib.h>
#include "lcmaps_return_account_from_pem.h"
#include "lcmaps_verify_account_from_pem.h"
#include "lcmaps_return_poolindex.h"
#include "lcmaps_gss_assist_gridmap.h"

#define LOAD(kind, h)                                                                   \
    do {                                                                                \
        LCMAPS_HANDLE_##kind *l = &h;                                                   \
        if (!LCMAPS_INIT_HANDLE_##kind(l) || !LCMAPS_LOAD_##kind(l)) {                  \
            printf(#kind " load failed: %s\n", LCMAPS_ERRMSG(l));                      \
            return 2;                                                                   \
        }                                                                               \
        printf(#kind " %d.%d.%d\n", LCMAPS_MAJOR_VERSION(l), LCMAPS_MINOR_VERSION(l),   \
               LCMAPS_PATCH_VERSION(l));                                                \
    } while (0)

int main(int argc, char **argv)
{
    LCMAPS_DECL_HANDLE_RETURN_ACCOUNT_FROM_PEM(a);
    LCMAPS_DECL_HANDLE_VERIFY_ACCOUNT_FROM_PEM(v);
    LCMAPS_DECL_HANDLE_RETURN_POOLINDEX(p);
    LCMAPS_DECL_HANDLE_GSS_ASSIST_GRIDMAP(g);
    LCMAPS_HANDLE_GSS_ASSIST_GRIDMAP *gl = &g;
    LCMAPS_HANDLE_RETURN_POOLINDEX *pl = &p;
    char *user = NULL;
    int rc;

    LOAD(RETURN_ACCOUNT_FROM_PEM, a);
    LOAD(VERIFY_ACCOUNT_FROM_PEM, v);
    LOAD(RETURN_POOLINDEX, p);
    LOAD(GSS_ASSIST_GRIDMAP, g);
    printf("require %d\n", LCMAPS_REQUIRE_FUNC(pl, lcmaps_is_set_to_verify_voms_attributes) &&
                               LCMAPS_CALL(pl, lcmaps_is_set_to_verify_voms_attributes)() == 1);
    rc = LCMAPS_CALL(gl, lcmaps_gss_assist_gridmap)(argc > 1 ? argv[1] : "/CN=x", &user);
    printf("gridmap rc=%d user=%s\n", rc, user ? user : "(none)");
    free(user);
    printf("close %d\n", LCMAPS_CLOSE_HANDLE_GSS_ASSIST_GRIDMAP(gl));
    return 0;
}
