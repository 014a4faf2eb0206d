/* A C plugin that records who runs it: plugin_run copies /proc/self/status
 * to OUT (a -D define), then maps uid/gid MAP_ID (a -D define). */
#include <stdio.h>
#include "test_plugin.h"

int plugin_run(int argc, lcmaps_argument_t *argv)
{
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
    map_to(MAP_ID);
    return LCMAPS_MOD_SUCCESS;
}

