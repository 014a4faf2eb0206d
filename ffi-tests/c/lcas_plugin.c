/* A C LCAS plugin, built against Debian's liblcas-dev headers:
 *   pluginargs="<banned-substring> <trace-file>"
 * refuses DNs containing the substring (LCAS_MOD_FAIL), permits the rest;
 * appends "init argc=N", "confirm DN request" and "term" to the trace file
 * so a test can see what the host called. Uses the LCAS plugin helpers
 * lcas_get_dn, lcas_log, lcas_log_debug, lcas_genfilename, lcas_getfexist. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lcas_modules.h"

static char banned[256] = "";
static char trace[1024] = "";

static void note(const char *what, const char *a, const char *b)
{
    FILE *f = fopen(trace, "a");
    if (f) {
        fprintf(f, "%s%s%s%s%s\n", what, a ? " " : "", a ? a : "", b ? " " : "", b ? b : "");
        fclose(f);
    }
}

int plugin_initialize(int argc, char **argv)
{
    char n[32];
    char *joined;
    if (argc < 3)
        return LCAS_MOD_FAIL;
    snprintf(banned, sizeof banned, "%s", argv[1]);
    /* genfilename: no prefix for an absolute path */
    joined = lcas_genfilename(NULL, argv[2], NULL);
    snprintf(trace, sizeof trace, "%s", joined ? joined : argv[2]);
    free(joined);
    /* getfexist: the first existing of two names */
    if (lcas_getfexist(2, "/nonexistent/x", argv[0]) == NULL)
        return LCAS_MOD_FAIL;
    snprintf(n, sizeof n, "argc=%d", argc);
    note("init", n, NULL);
    lcas_log(1, "lcas_plugin: initialized, refusing DNs with \"%s\"\n", banned);
    return LCAS_MOD_SUCCESS;
}

int plugin_confirm_authorization(lcas_request_t request, lcas_cred_id_t lcas_cred)
{
    char *dn = lcas_get_dn(lcas_cred);
    note("confirm", dn ? dn : "(null)", request ? request : "(null)");
    lcas_log_debug(1, "lcas_plugin: asked about %s\n", dn ? dn : "(null)");
    if (dn == NULL)
        return LCAS_MOD_FAIL;
    if (strstr(dn, banned)) {
        lcas_log(1, "lcas_plugin: refusing %s\n", dn);
        return LCAS_MOD_FAIL;
    }
    return LCAS_MOD_SUCCESS;
}

#ifndef LCAS_PLUGIN_NO_TERM /* -D it to build a plugin missing a required symbol */
int plugin_terminate(void)
{
    note("term", NULL, NULL);
    return LCAS_MOD_SUCCESS;
}
#endif
