/* print_account.h -- one result line of an *_and_return_account call,
 * shared by the C test programs: "rc=N[ uid=U pgid=G,.. sgid=G,.. poolindex=P]". */
#ifndef LCMAPS_RS_TEST_PRINT_ACCOUNT_H
#define LCMAPS_RS_TEST_PRINT_ACCOUNT_H

#include <stdio.h>
#include <sys/types.h>

static void print_account(int rc, uid_t uid, gid_t *pg, int np, gid_t *sg, int ns, char *pi)
{
    int i;
    printf("rc=%d", rc);
    if (rc == 0) {
        printf(" uid=%d pgid=", (int)uid);
        for (i = 0; i < np; i++)
            printf("%s%d", i ? "," : "", (int)pg[i]);
        printf(" sgid=");
        for (i = 0; i < ns; i++)
            printf("%s%d", i ? "," : "", (int)sg[i]);
        printf(" poolindex=%s", pi ? pi : "(none)");
    }
    printf("\n");
}

#endif
