/* A C plugin that tries what a compromised plugin would: plugin_run writes
 * to OUT (a -D define) whether it could make a user namespace, add a kernel
 * key, and (which a plugin may need) fork; then maps uid/gid MAP_ID. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test_plugin.h"

static const char *outcome(long r)
{
    return r < 0 ? strerror(errno) : "allowed";
}

int plugin_run(int argc, lcmaps_argument_t *argv)
{
    FILE *out = fopen(OUT, "w");
    pid_t child;
    int st = -1;
    (void)argc;
    (void)argv;
    if (out == NULL)
        return LCMAPS_MOD_FAIL;
    fprintf(out, "unshare: %s\n", outcome(unshare(CLONE_NEWUSER)));
    fprintf(out, "add_key: %s\n", outcome(syscall(SYS_add_key, "user", "lcmaps-rs-test", "x", 1, -2)));
    child = fork();
    if (child == 0)
        _exit(7);
    if (child > 0)
        waitpid(child, &st, 0);
    fprintf(out, "fork: %s\n", child > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 7 ? "allowed" : "failed");
    fclose(out);
    map_to(MAP_ID);
    return LCMAPS_MOD_SUCCESS;
}

