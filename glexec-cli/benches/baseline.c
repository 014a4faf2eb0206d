/* The least a setuid switcher can do: setgroups, setgid, setuid, execve.
   The glexec bench compares glexec's end-to-end latency with this. */
#include <grp.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 4) return 2;
    uid_t uid = (uid_t)atoi(argv[1]);
    gid_t gid = (gid_t)atoi(argv[2]);
    gid_t groups[1] = {gid};
    if (setgroups(1, groups) != 0 || setgid(gid) != 0 || setuid(uid) != 0) return 3;
    char *envp[] = {"PATH=/usr/bin:/bin", NULL};
    execve(argv[3], argv + 3, envp);
    return 127;
}
