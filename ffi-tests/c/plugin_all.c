/* A C plugin that uses every LCMAPS plugin callback and checks what it
 * gets back. Options: --uid N --gid N --sgid N (added to the store);
 * --uid-from-dn: uid = 20000 + the number after "user" in the DN.
 * Run fails (and logs which check) when any callback misbehaves. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lcmaps_modules.h"
#include "lcmaps_arguments.h"
#include "lcmaps_cred_data.h"
#include "lcmaps_vo_data.h"

static uid_t opt_uid = 0;
static gid_t opt_gid = 0, opt_sgid = 0;
static int uid_from_dn = 0;
static int initialized = 0;

static lcmaps_argument_t args[] = {
    {"user_dn", "char *", 0, NULL},
    {"fqan_list", "char **", 0, NULL},
    {"nfqan", "int", 0, NULL},
    {"mapcounter", "int", 0, NULL},
    {"job_request", "lcmaps_request_t", 0, NULL},
    {"requested_uid", "uid_t", 0, NULL},
    {NULL, NULL, -1, NULL},
};

#define CHECK(c)                                                                  \
    do {                                                                          \
        if (!(c)) {                                                               \
            lcmaps_log(LOG_ERR, "plugin_all: check failed at line %d: %s\n", __LINE__, #c); \
            return LCMAPS_MOD_FAIL;                                               \
        }                                                                         \
    } while (0)

int plugin_initialize(int argc, char **argv)
{
    int i, n = 5, rc;
    char *toks[5];
    char *fn;

    CHECK(argc >= 1 && argv[0] != NULL && argv[0][0] == '/');
    CHECK(argv[argc] == NULL);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--uid") == 0 && i + 1 < argc)
            opt_uid = (uid_t)atoi(argv[++i]);
        else if (strcmp(argv[i], "--gid") == 0 && i + 1 < argc)
            opt_gid = (gid_t)atoi(argv[++i]);
        else if (strcmp(argv[i], "--sgid") == 0 && i + 1 < argc)
            opt_sgid = (gid_t)atoi(argv[++i]);
        else if (strcmp(argv[i], "--uid-from-dn") == 0)
            uid_from_dn = 1;
        else {
            lcmaps_log(LOG_ERR, "plugin_all: unknown option %s\n", argv[i]);
            return LCMAPS_MOD_FAIL;
        }
    }
    /* utilities */
    rc = lcmaps_tokenize("a \"b c\" d", toks, &n, " ");
    CHECK(rc == 0 && n == 3 && strcmp(toks[1], "b c") == 0 && toks[3] == NULL);
    for (i = 0; i < n; i++)
        free(toks[i]);
    n = 2;
    CHECK(lcmaps_tokenize("a b c", toks, &n, " ") == -2);
    for (i = 0; i < n; i++)
        free(toks[i]);
    n = 5;
    CHECK(lcmaps_tokenize("a \"b", toks, &n, " ") == -3);
    for (i = 0; i < n; i++)
        free(toks[i]);
    CHECK(lcmaps_tokenize("x", NULL, &n, " ") == -4);
    fn = lcmaps_genfilename("/etc", "x.db", "sub");
    CHECK(fn != NULL && strcmp(fn, "/etc/x.db/sub") == 0);
    free(fn);
    fn = lcmaps_genfilename("/etc", "/abs", NULL);
    CHECK(fn != NULL && strcmp(fn, "/abs") == 0);
    free(fn);
    CHECK(lcmaps_get_major_version() == 1 && lcmaps_get_minor_version() == 6 &&
          lcmaps_get_patch_version() == 6);
    lcmaps_log_debug(3, "plugin_all: initialized with %d arguments\n", argc);
    initialized++;
    return LCMAPS_MOD_SUCCESS;
}

int plugin_introspect(int *argc, lcmaps_argument_t **argv)
{
    *argv = args;
    *argc = lcmaps_cntArgs(args);
    return *argc == 6 ? LCMAPS_MOD_SUCCESS : LCMAPS_MOD_FAIL;
}

static int check_vo(void)
{
    lcmaps_vo_data_t *vo = lcmaps_createVoData("dteam", "/dteam", NULL, "NULL", NULL);
    lcmaps_vo_data_t copy;
    lcmaps_vo_mapping_t *m, mcopy;
    char buf[128];
    CHECK(vo != NULL && strcmp(vo->vo, "dteam") == 0 && vo->subgroup == NULL);
    CHECK(lcmaps_stringVoData(vo, buf, sizeof buf) == 0 && strcmp(buf, "/VO=dteam/GROUP=/dteam") == 0);
    CHECK(lcmaps_stringVoData(vo, buf, 5) == -1);
    CHECK(lcmaps_copyVoData(&copy, vo) == 0 && strcmp(copy.group, "/dteam") == 0);
    CHECK(lcmaps_printVoData(0, &copy) == 0);
    CHECK(addCredentialData(LCMAPS_VO_CRED, vo) == 0);
    CHECK(lcmaps_cleanVoData(&copy) == 0);
    CHECK(lcmaps_deleteVoData(&vo) == 0 && vo == NULL);
    CHECK(lcmaps_deleteVoData(NULL) == -1);
    m = lcmaps_createVoMapping("/dteam/Role=NULL/Capability=NULL", "dteamgrp", 4242);
    CHECK(m != NULL && m->gid == 4242);
    CHECK(lcmaps_copyVoMapping(&mcopy, m) == 0 && strcmp(mcopy.groupname, "dteamgrp") == 0);
    CHECK(lcmaps_printVoMapping(0, &mcopy) == 0);
    CHECK(addCredentialData(LCMAPS_VO_CRED_MAPPING, m) == 0);
    CHECK(lcmaps_cleanVoMapping(&mcopy) == 0);
    CHECK(lcmaps_deleteVoMapping(&m) == 0 && m == NULL);
    return LCMAPS_MOD_SUCCESS;
}

static int do_run(int argc, lcmaps_argument_t *argv)
{
    char **pdn, *dn, **fqans, *fqan_s = "/dteam/Role=NULL/Capability=NULL";
    int *pn, i, cnt = -7, ngroups = 0;
    uid_t uid, *uids;
    gid_t g, *gids, *groups = NULL;
    char *pool = "pool-index-1", **ps;
    void *dummy = (void *)&i;
    lcmaps_vo_data_t *vod;
    lcmaps_vo_mapping_t *vom;
    lcmaps_argument_t *self = argv;

    CHECK(initialized > 0);
    CHECK(argc == 6);
    CHECK(lcmaps_findArgName("nfqan", argc, argv) == 2);
    CHECK(lcmaps_findArgNameAndType("job_request", "char *", argc, argv) == -1);
    CHECK(lcmaps_findArgNameAndType("job_request", "lcmaps_request_t", argc, argv) == 4);
    CHECK(lcmaps_getArgValue("nope", "int", argc, argv) == NULL);
    pdn = (char **)lcmaps_getArgValue("user_dn", "char *", argc, argv);
    CHECK(pdn != NULL && *pdn != NULL);
    dn = *pdn;
    pn = (int *)lcmaps_getArgValue("nfqan", "int", argc, argv);
    CHECK(pn != NULL);
    fqans = *(char ***)lcmaps_getArgValue("fqan_list", "char **", argc, argv);
    for (i = 0; i < *pn; i++)
        CHECK(fqans != NULL && fqans[i] != NULL);
    CHECK(*(int *)lcmaps_getArgValue("mapcounter", "int", argc, argv) >= 0);
    CHECK(*(uid_t *)lcmaps_getArgValue("requested_uid", "uid_t", argc, argv) == (uid_t)-1);
    /* setArgValue on the plugin's own array, restored afterwards */
    {
        void *saved = argv[3].value;
        CHECK(lcmaps_setArgValue("mapcounter", "int", dummy, argc, &self) == 0);
        CHECK(argv[3].value == dummy);
        CHECK(lcmaps_setArgValue("mapcounter", "char *", dummy, argc, &self) == -1);
        argv[3].value = saved;
    }

    /* credential data */
    ps = (char **)getCredentialData(DN, &cnt);
    CHECK(ps != NULL && *ps == NULL && cnt == 0); /* LCMAPS: address of a NULL field */
    CHECK(getCredentialData(UID, &cnt) == NULL && cnt == 0);
    cnt = -7;
    CHECK(getCredentialData(12345, &cnt) == NULL && cnt == -7);
    CHECK(addCredentialData(12345, &cnt) == -1);
    CHECK(addCredentialData(DN, NULL) == 0);
    CHECK(addCredentialData(DN, &dn) == 0);
    ps = (char **)getCredentialData(DN, &cnt);
    CHECK(ps != NULL && cnt == 1 && strcmp(*ps, dn) == 0);
    uid = opt_uid;
    if (uid_from_dn) {
        const char *u = strstr(dn, "user");
        CHECK(u != NULL);
        uid = (uid_t)(20000 + atoi(u + 4));
    }
    CHECK(addCredentialData(UID, &uid) == 0);
    uids = (uid_t *)getCredentialData(UID, &cnt);
    CHECK(uids != NULL && cnt == 1 && uids[0] == uid);
    g = opt_gid;
    CHECK(addCredentialData(PRI_GID, &g) == 0);
    if (opt_sgid) {
        g = opt_sgid + 2;
        CHECK(addCredentialData(SEC_GID, &g) == 0);
        g = opt_sgid;
        CHECK(addCredentialData(SEC_GID, &g) == 0);
        CHECK(addCredentialData(SEC_GID, &g) == 0); /* once only */
        gids = (gid_t *)getCredentialData(SEC_GID, &cnt);
        CHECK(gids != NULL && cnt == 2 && gids[0] == opt_sgid && gids[1] == opt_sgid + 2);
    }
    gids = (gid_t *)getCredentialData(PRI_GID, &cnt);
    CHECK(gids != NULL && cnt == 1 && gids[0] == opt_gid);
    CHECK(addCredentialData(LCMAPS_VO_CRED_STRING, &fqan_s) == 0);
    ps = (char **)getCredentialData(LCMAPS_VO_CRED_STRING, &cnt);
    CHECK(ps != NULL && cnt == 1 && strcmp(ps[0], fqan_s) == 0);
    if (check_vo() != LCMAPS_MOD_SUCCESS)
        return LCMAPS_MOD_FAIL;
    vod = (lcmaps_vo_data_t *)getCredentialData(LCMAPS_VO_CRED, &cnt);
    CHECK(vod != NULL && cnt == 1 && strcmp(vod[0].vo, "dteam") == 0 && vod[0].capability == NULL);
    vom = (lcmaps_vo_mapping_t *)getCredentialData(LCMAPS_VO_CRED_MAPPING, &cnt);
    CHECK(vom != NULL && cnt == 1 && vom[0].gid == 4242 && strcmp(vom[0].groupname, "dteamgrp") == 0);
    CHECK(addCredentialData(POOL_INDEX, &pool) == 0);
    ps = (char **)getCredentialData(POOL_INDEX, &cnt);
    CHECK(ps != NULL && cnt == 1 && strcmp(*ps, pool) == 0);

    /* utilities */
    CHECK(lcmaps_get_gidlist("root", &ngroups, &groups) == 0 && ngroups >= 1 && groups[0] == 0);
    free(groups);
    CHECK(lcmaps_get_gidlist("no-such-user-xyz", &ngroups, &groups) == 1);
    CHECK(lcmaps_get_gidlist(NULL, &ngroups, &groups) == 1);

    /* logging */
    lcmaps_log(LOG_NOTICE, "plugin_all: mapped %s to %d\n", dn, (int)uid);
    lcmaps_log(LOG_INFO, "plugin_all: info %s\n", "line");
    lcmaps_log_time(LOG_WARNING, "plugin_all: warning %d\n", 1);
    lcmaps_log_debug(5, "plugin_all: debug %d\n", 2);
    lcmaps_log_a_string(LOG_INFO, "plugin_all: a string %s\n", "here");
    lcmaps_log_a_string_debug(1, "plugin_all: a debug string %s\n", "here");
    lcmaps_printCredData(1);
    return LCMAPS_MOD_SUCCESS;
}

int plugin_run(int argc, lcmaps_argument_t *argv)
{
    return do_run(argc, argv);
}

int plugin_verify(int argc, lcmaps_argument_t *argv)
{
    lcmaps_log(LOG_INFO, "plugin_all: verify\n");
    return do_run(argc, argv);
}

int plugin_terminate(void)
{
    lcmaps_log_debug(1, "plugin_all: terminate\n");
    if (initialized > 0)
        initialized--;
    return LCMAPS_MOD_SUCCESS;
}
