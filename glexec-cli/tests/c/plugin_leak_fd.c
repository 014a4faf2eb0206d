/* A careless C plugin: plugin_run opens /etc/shadow without O_CLOEXEC and
 * leaves the descriptor open, then maps uid/gid MAP_ID (a -D define). */
#include <fcntl.h>
#include <stdlib.h>
#include "test_plugin.h"

int plugin_run(int argc, lcmaps_argument_t *argv)
{
    (void)argc;
    (void)argv;
    if (open("/etc/shadow", O_RDONLY) < 0)
        return LCMAPS_MOD_FAIL;
    map_to(MAP_ID);
    return LCMAPS_MOD_SUCCESS;
}

