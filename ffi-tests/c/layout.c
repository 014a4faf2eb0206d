/* Prints the sizes and field offsets of the public LCMAPS structs; built
 * against our headers and Debian's, the outputs must be identical. */
#include <stdio.h>
#include <stddef.h>
#include "lcmaps_arguments.h"
#include "lcmaps_cred_data.h"
#include "lcmaps_vo_data.h"
#include "lcmaps_account.h"
#include "lcmaps_types.h"
#include "lcmaps_defines.h"
#include "lcmaps_version.h"

#define S(t) printf(#t " size=%zu\n", sizeof(t))
#define O(t, f) printf(#t "." #f "=%zu\n", offsetof(t, f))

int main(void)
{
    S(lcmaps_argument_t); O(lcmaps_argument_t, argName); O(lcmaps_argument_t, argType);
    O(lcmaps_argument_t, argInOut); O(lcmaps_argument_t, value);
    S(lcmaps_vo_data_t); O(lcmaps_vo_data_t, vo); O(lcmaps_vo_data_t, group);
    O(lcmaps_vo_data_t, subgroup); O(lcmaps_vo_data_t, role); O(lcmaps_vo_data_t, capability);
    S(lcmaps_vo_mapping_t); O(lcmaps_vo_mapping_t, vostring); O(lcmaps_vo_mapping_t, groupname);
    O(lcmaps_vo_mapping_t, gid);
    S(lcmaps_account_info_t); O(lcmaps_account_info_t, uid); O(lcmaps_account_info_t, pgid_list);
    O(lcmaps_account_info_t, npgid); O(lcmaps_account_info_t, sgid_list);
    O(lcmaps_account_info_t, nsgid); O(lcmaps_account_info_t, poolindex);
    S(cred_data_t); O(cred_data_t, dn); O(cred_data_t, uid); O(cred_data_t, secGid);
    O(cred_data_t, VoCredMapping); O(cred_data_t, cntUid); O(cred_data_t, cntVoCredMapping);
    O(cred_data_t, pool_index);
    S(lcmaps_voms_t); O(lcmaps_voms_t, fqan_unix); O(lcmaps_voms_t, nfqan); O(lcmaps_voms_t, nattr);
    S(lcmaps_vomsdata_t); O(lcmaps_vomsdata_t, extra_data);
    S(lcmaps_fqan_unix_t); S(lcmaps_voms_generic_attr_t); S(lcmaps_request_t);
    printf("consts %d %d %d %d %d %d %d %d %d %d %d %d %d %d %zu %zu %d %d\n", LCMAPS_MOD_SUCCESS,
           LCMAPS_MOD_FAIL, LCMAPS_MOD_NOFILE, LCMAPS_MOD_ENTRY, LCMAPS_MOD_NOENTRY, DN, UID,
           PRI_GID, SEC_GID, LCMAPS_VO_CRED, LCMAPS_VO_CRED_STRING, LCMAPS_VO_CRED_MAPPING,
           POOL_INDEX, (int)LCMAPS_NO_GID, LCMAPS_MAXPATHLEN, LCMAPS_MAXARGSTRING, LCMAPS_MAXARGS,
           LCMAPS_API_MAJOR_VERSION);
    return 0;
}
