//! Small helpers for upstream-style option parsing in `plugin_initialize`.

/// The value after option `args[i]`: must be present and non-empty.
pub fn value<'a>(args: &'a [String], i: usize, what: &str) -> Result<&'a str, String> {
    match args.get(i + 1) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(format!("option {} needs to be followed by {what}", args[i])),
    }
}

/// The file after option `args[i]`, resolved as upstream resolves file
/// options ([`crate::files::resolve_file_option`]). When it exists, a
/// privileged process must be able to trust it ([`trusted`]), so a bad file
/// fails `plugin_initialize`.
pub fn file(args: &[String], i: usize) -> Result<std::path::PathBuf, String> {
    let path = crate::files::resolve_file_option(value(args, i, "valid filename")?)?;
    trusted(&path)?;
    Ok(path)
}

/// The absolute directory after option `args[i]` (`-gridmapdir`,
/// `-groupmapdir`); when it exists, checked as [`file()`] is.
pub fn absolute_dir(args: &[String], i: usize) -> Result<std::path::PathBuf, String> {
    match args.get(i + 1) {
        Some(v) if v.starts_with('/') => {
            let path = std::path::PathBuf::from(v);
            trusted(&path)?;
            Ok(path)
        }
        _ => Err(format!(
            "option {} needs to be followed by a valid absolute directory.",
            args[i]
        )),
    }
}

/// [`lcmaps_core::trust::check`] on a site file or directory a plugin
/// option names, if it exists (a missing one is the reader's error, at
/// the time it reads it).
pub fn trusted(path: &std::path::Path) -> Result<(), String> {
    if std::fs::symlink_metadata(path).is_err() {
        return Ok(());
    }
    lcmaps_core::trust::check(path).map_err(|e| e.to_string())
}

/// `-max_mappings_per_credential <n>`, 1 to
/// [`crate::gridmapdir::ABSOLUTE_MAPPING_MAX`].
pub fn mapping_max(args: &[String], i: usize) -> Result<i32, String> {
    use crate::gridmapdir::ABSOLUTE_MAPPING_MAX;
    let v = value(args, i, "a valid number")?;
    v.parse::<i32>()
        .ok()
        .filter(|n| (1..=ABSOLUTE_MAPPING_MAX).contains(n))
        .ok_or_else(|| {
            format!(
                "Illegal value for \"-max_mappings_per_credential\" ({v}): Should be in the range: 1-{ABSOLUTE_MAPPING_MAX} (failure)"
            )
        })
}

/// `yes` or `no`.
pub fn yes_no(args: &[String], i: usize) -> Result<bool, String> {
    match value(args, i, "\"yes\" or \"no\"")? {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(format!("use \"yes\" or \"no\" for option {}", args[i])),
    }
}

/// The options LCMAPS passes after argv\[0\].
pub fn options(argv: &[String]) -> &[String] {
    argv.get(1..).unwrap_or_default()
}
