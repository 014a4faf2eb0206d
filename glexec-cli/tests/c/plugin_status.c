/* A C plugin that records who runs it: plugin_run copies /proc/self/status
 * to OUT (a -D define), then maps uid/gid MAP_ID (a -D define). */
#include <stdio.h>
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
    char buf[8192];
    size_t n;
    FILE *in = fopen("/proc/self/status", "r");
    FILE *out = fopen(OUT, "w");
    (void)argc;
    (void)argv;
    if (in == NULL || out == NULL)
        return LCMAPS_MOD_FAIL;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, out);
    fclose(in);
    fclose(out);
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
