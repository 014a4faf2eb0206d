//! Small helpers for upstream-style option parsing in `plugin_initialize`.

/// The value after option `args[i]`: must be present and non-empty.
pub fn value<'a>(args: &'a [String], i: usize, what: &str) -> Result<&'a str, String> {
    match args.get(i + 1) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(format!("option {} needs to be followed by {what}", args[i])),
    }
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
