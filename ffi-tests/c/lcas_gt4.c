/* The LCAS call of Debian's lcas-lcmaps-gt4-interface (src/llgt_lcas.c,
 * llgt_run_lcas), the GSI authorization callout globus-gridftp-server and
 * globus-gatekeeper load: dlopen the LCAS library RTLD_LAZY|RTLD_GLOBAL,
 * dlsym lcas_init and lcas_get_fabric_authorization, the latter as
 * int (*)(char *, gss_cred_id_t, char *) (the interface is built with
 * -DALLOW_EMPTY_CREDENTIALS), lcas_init(log) and then
 * (client_name, user_cred_handle, "RSL").
 *   lcas_gt4 LIBRARY MODE [DN]
 *     MODE both: (DN, credential)   cred: (NULL, credential)
 *          dn: (DN, NULL)
 * The credential is acquired from X509_USER_PROXY; DN defaults to its name.
 * Built with -DALLOW_EMPTY_CREDENTIALS against an lcas.h (Debian's or
 * lcmaps-rs's): the header's prototype must be the type the interface uses.
 * Prints "rc=N" and "term=N". */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gssapi.h>
#include "lcas.h"

typedef int (*gt4_fabric_authz_fn)(char *, gss_cred_id_t, char *);

/* The interface's function pointer type is the header's prototype. */
_Static_assert(__builtin_types_compatible_p(__typeof__(&lcas_get_fabric_authorization),
                                            gt4_fabric_authz_fn),
               "lcas.h: lcas_get_fabric_authorization is not (char *, gss_cred_id_t, char *)");

static char *cred_name(gss_cred_id_t cred)
{
    OM_uint32 major, minor;
    gss_name_t name = GSS_C_NO_NAME;
    gss_buffer_desc buf = GSS_C_EMPTY_BUFFER;
    char *dn = NULL;
    major = gss_inquire_cred(&minor, cred, &name, NULL, NULL, NULL);
    if (major != GSS_S_COMPLETE)
        return NULL;
    major = gss_display_name(&minor, name, &buf, NULL);
    if (major == GSS_S_COMPLETE) {
        dn = strndup(buf.value, buf.length);
        gss_release_buffer(&minor, &buf);
    }
    gss_release_name(&minor, &name);
    return dn;
}

int main(int argc, char **argv)
{
    OM_uint32 major, minor;
    gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
    int (*init)(FILE *);
    int (*term)(void);
    gt4_fabric_authz_fn authz;
    char *dn;
    void *h;
    int rc;

    if (argc < 3) {
        fprintf(stderr, "usage: %s LIBRARY both|cred|dn [DN]\n", argv[0]);
        return 2;
    }
    major = gss_acquire_cred(&minor, GSS_C_NO_NAME, GSS_C_INDEFINITE, GSS_C_NO_OID_SET,
                             GSS_C_BOTH, &cred, NULL, NULL);
    if (major != GSS_S_COMPLETE) {
        printf("acquire failed\n");
        return 2;
    }
    dn = argc > 3 ? strdup(argv[3]) : cred_name(cred);
    h = dlopen(argv[1], RTLD_LAZY | RTLD_GLOBAL);
    if (!h) {
        printf("dlopen failed: %s\n", dlerror());
        return 3;
    }
    init = (int (*)(FILE *))dlsym(h, "lcas_init");
    authz = (gt4_fabric_authz_fn)dlsym(h, "lcas_get_fabric_authorization");
    term = (int (*)(void))dlsym(h, "lcas_term");
    if (!init || !authz || !term) {
        printf("dlsym failed\n");
        return 3;
    }
    if (init(stderr) != 0) {
        printf("init=1\n");
        return 3;
    }
    if (strcmp(argv[2], "both") == 0)
        rc = authz(dn, cred, "RSL");
    else if (strcmp(argv[2], "cred") == 0)
        rc = authz(NULL, cred, "RSL");
    else
        rc = authz(dn, GSS_C_NO_CREDENTIAL, "RSL");
    printf("rc=%d\n", rc);
    printf("term=%d\n", term());
    free(dn);
    gss_release_cred(&minor, &cred);
    return 0;
}
