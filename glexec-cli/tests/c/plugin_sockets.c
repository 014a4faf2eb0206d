/* A C plugin playing a parser that one caller's credential took over in a
 * worker of glexec's mapping service: it looks for a listening socket in
 * its descriptor table (to accept the next callers' requests and answer
 * them itself), tries to open its parent's memory (the service, which
 * holds that socket) for writing, and writes what it found to OUT (a -D
 * define), with its dumpable flag, then maps to MAP_ID. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include "test_plugin.h"

int plugin_run(int argc, lcmaps_argument_t *argv)
{
    FILE *out = fopen(OUT, "w");
    int fd, listening, found = 0;
    socklen_t len;
    (void)argc;
    (void)argv;
    if (out == NULL)
        return LCMAPS_MOD_FAIL;
    for (fd = 0; fd < 1024; fd++) {
        listening = 0;
        len = sizeof listening;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening) {
            fprintf(out, "listening socket: fd %d\n", fd);
            found = 1;
        }
    }
    if (!found)
        fprintf(out, "listening socket: none\n");
    fprintf(out, "dumpable: %d\n", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
    {
        char mem[64];
        int fd;
        snprintf(mem, sizeof mem, "/proc/%d/mem", (int)getppid());
        fd = open(mem, O_RDWR);
        if (fd >= 0) {
            fprintf(out, "parent memory: opened\n");
            close(fd);
        } else {
            fprintf(out, "parent memory: %s\n", strerror(errno));
        }
    }
    fclose(out);
    map_to(MAP_ID);
    return LCMAPS_MOD_SUCCESS;
}
