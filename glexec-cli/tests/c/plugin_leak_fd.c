/* A careless C plugin: plugin_run opens /etc/shadow without O_CLOEXEC and
 * leaves the descriptor open, then maps uid/gid MAP_ID (a -D define). */
#include <fcntl.h>
#include <stdlib.h>
#include "lcmaps_modules.h"
#include "lcmaps_arguments.h"
#include "lcmaps_cred_data.h"

static lcmaps_argument_t args[] = {
    {"user_dn", "char *", 0, NULL},
    {NULL, NULL, -1, NULL},
};

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

int plugin_run(int argc, lcmaps_argument_t *argv)
{
    uid_t uid = MAP_ID;
    gid_t gid = MAP_ID;
    (void)argc;
    (void)argv;
    if (open("/etc/shadow", O_RDONLY) < 0)
        return LCMAPS_MOD_FAIL;
    addCredentialData(UID, &uid);
    addCredentialData(PRI_GID, &gid);
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
