//! A seccomp filter for the mapping helper: system calls no mapping needs,
//! and which a compromised parser or plugin would use to attack the kernel
//! or other processes, fail with `EPERM`. A deny list, not an allow list: C
//! plugins (network callouts, NSS modules, OpenSSL's engines) make system
//! calls we cannot enumerate, and the helper must keep running them.
//!
//! Denied: debugging other processes (`ptrace`, `process_vm_readv/writev`,
//! `kcmp`, `pidfd_getfd`), new namespaces (`unshare`, `setns`, `clone` with a
//! namespace flag; `clone3` answers `ENOSYS`, as for an old kernel, so that
//! the C library falls back to `clone`, whose flags a filter can see),
//! mounts, kernel keyrings, `bpf`, `perf_event_open`, `userfaultfd`,
//! `io_uring`, modules, kexec, `reboot`, swap, clocks, `acct`, `iopl`/`ioperm`,
//! `open_by_handle_at`. The helper sets `PR_SET_NO_NEW_PRIVS` first, which
//! also lets an unprivileged process install the filter.

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

/// Every system call answered with `EPERM`, whatever its arguments.
/// (System call numbers are `c_long`, i64 on the 64-bit architectures
/// seccompiler supports.)
const DENIED: &[i64] = &[
    libc::SYS_ptrace,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_kcmp,
    libc::SYS_pidfd_getfd,
    libc::SYS_unshare,
    libc::SYS_setns,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_chroot,
    libc::SYS_open_tree,
    libc::SYS_move_mount,
    libc::SYS_fsopen,
    libc::SYS_fsmount,
    libc::SYS_fsconfig,
    libc::SYS_fspick,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_keyctl,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_userfaultfd,
    libc::SYS_io_uring_setup,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_kexec_load,
    libc::SYS_kexec_file_load,
    libc::SYS_reboot,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_settimeofday,
    libc::SYS_clock_settime,
    libc::SYS_clock_adjtime,
    libc::SYS_adjtimex,
    libc::SYS_acct,
    libc::SYS_open_by_handle_at,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_iopl,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_ioperm,
];

/// The `clone` flags that make a new namespace.
const NAMESPACE_FLAGS: &[libc::c_int] = &[
    libc::CLONE_NEWNS,
    libc::CLONE_NEWUTS,
    libc::CLONE_NEWIPC,
    libc::CLONE_NEWUSER,
    libc::CLONE_NEWPID,
    libc::CLONE_NEWNET,
    libc::CLONE_NEWCGROUP,
];

fn program(
    rules: BTreeMap<i64, Vec<SeccompRule>>,
    errno: i32,
    arch: TargetArch,
) -> Result<BpfProgram, String> {
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(errno as u32),
        arch,
    )
    .map_err(|e| e.to_string())?;
    filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| e.to_string())
}

/// Install the filters in this process (and the threads it starts later).
/// An architecture seccompiler does not know is left unfiltered (`Ok`).
pub fn confine() -> Result<(), String> {
    let Ok(arch) = TargetArch::try_from(std::env::consts::ARCH) else {
        return Ok(());
    };
    let mut denied: BTreeMap<i64, Vec<SeccompRule>> =
        DENIED.iter().map(|s| (*s, Vec::new())).collect();
    // clone with any namespace flag (the flags are the first argument on
    // x86_64 and aarch64).
    let mut clone_rules = Vec::new();
    for flag in NAMESPACE_FLAGS {
        let flag = *flag as u64;
        let cond = SeccompCondition::new(
            0,
            SeccompCmpArgLen::Qword,
            SeccompCmpOp::MaskedEq(flag),
            flag,
        )
        .map_err(|e| e.to_string())?;
        clone_rules.push(SeccompRule::new(vec![cond]).map_err(|e| e.to_string())?);
    }
    denied.insert(libc::SYS_clone, clone_rules);
    let clone3: BTreeMap<i64, Vec<SeccompRule>> =
        [(libc::SYS_clone3, Vec::new())].into_iter().collect();
    // Two filters, no call matched by both: clone3 gets ENOSYS, the rest of
    // the list EPERM.
    for prog in [
        program(clone3, libc::ENOSYS, arch)?,
        program(denied, libc::EPERM, arch)?,
    ] {
        seccompiler::apply_filter(&prog).map_err(|e| e.to_string())?;
    }
    Ok(())
}
