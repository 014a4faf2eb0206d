/* What every test plugin of glexec's tests has alike: it takes the user DN,
 * initializes and terminates without work, and verifies as it runs. The
 * including file defines plugin_run. */
#ifndef GLEXEC_TEST_PLUGIN_H
#define GLEXEC_TEST_PLUGIN_H
#include "lcmaps_modules.h"
#include "lcmaps_arguments.h"
#include "lcmaps_cred_data.h"

static lcmaps_argument_t args[] = {
    {"user_dn", "char *", 0, NULL},
    {NULL, NULL, -1, NULL},
};

int plugin_run(int argc, lcmaps_argument_t *argv);

int plugin_initialize(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return LCMAPS_MOD_SUCCESS;
}

int plugin_introspect(int *argc, lcmaps_argument_t **argv)
{
    *argv = args;
    *argc = lcmaps_cntArgs(args);
    return LCMAPS_MOD_SUCCESS;
}

int plugin_verify(int argc, lcmaps_argument_t *argv)
{
    return plugin_run(argc, argv);
}

int plugin_terminate(void)
{
    return LCMAPS_MOD_SUCCESS;
}

/* Map to uid and gid id. */
static void map_to(uid_t id)
{
    gid_t gid = (gid_t)id;
    addCredentialData(UID, &id);
    addCredentialData(PRI_GID, &gid);
}
#endif
