/* Misbehaving plugins, selected at compile time:
 *   -DNO_INTROSPECT   lacks the mandatory plugin_introspect
 *   -DUNKNOWN_ARG     introspects ("user_dn", "char*") -- no space: unknown
 *   -DRETURN_CODE=N   plugin_run returns N
 *   -DNO_VERIFY       has no plugin_verify (old style) */
#include <stdlib.h>
#include "lcmaps_modules.h"
#include "lcmaps_arguments.h"
#include "lcmaps_cred_data.h"

#ifndef RETURN_CODE
#define RETURN_CODE 0
#endif

static lcmaps_argument_t args[] = {
#ifdef UNKNOWN_ARG
    {"user_dn", "char*", 0, NULL},
#else
    {"user_dn", "char *", 0, NULL},
#endif
    {NULL, NULL, -1, NULL},
};

int plugin_initialize(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return LCMAPS_MOD_SUCCESS;
}

#ifndef NO_INTROSPECT
int plugin_introspect(int *argc, lcmaps_argument_t **argv)
{
    *argv = args;
    *argc = lcmaps_cntArgs(args);
    return LCMAPS_MOD_SUCCESS;
}
#endif

int plugin_run(int argc, lcmaps_argument_t *argv)
{
    uid_t uid = 501;
    gid_t gid = 500;
    (void)argc;
    (void)argv;
    addCredentialData(UID, &uid);
    addCredentialData(PRI_GID, &gid);
    return RETURN_CODE;
}

#ifndef NO_VERIFY
int plugin_verify(int argc, lcmaps_argument_t *argv)
{
    return plugin_run(argc, argv);
}
#endif

int plugin_terminate(void)
{
    return LCMAPS_MOD_SUCCESS;
}
