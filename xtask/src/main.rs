//! `cargo xtask <command>` (the alias is in `.cargo/config.toml`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xtask::{clib, deb, install, mods, rpm, Profile};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Build and lay out lcmaps-rs")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build the .mod files (one per mods/* crate, and the SDK's example);
    /// prints their directory (default <target>/mods).
    Mods {
        #[command(flatten)]
        build: Build,
        /// Module names (lcmaps_localaccount, lcas_userban, lcmaps_dn_prefix); default all.
        modules: Vec<String>,
    },
    /// Build liblcmaps_rs.so and lay it out under the names C programs load
    /// (liblcmaps.so.0, its helper libraries, liblcas.so.0); prints the directory
    /// (default <target>/clib). Run unchanged C programs with LD_LIBRARY_PATH=<it>.
    Clib {
        #[command(flatten)]
        build: Build,
    },
    /// Build everything and install it: library and its names, .mods,
    /// lcmaps, glexec (mode 4111), headers, .pc files, example configuration.
    Install {
        /// The installation prefix.
        #[arg(long, default_value = "/usr")]
        prefix: PathBuf,
        /// A staging directory prepended to every path.
        #[arg(long, default_value = "/")]
        destdir: PathBuf,
        /// The library directory (default <prefix>/lib/<multiarch>).
        #[arg(long)]
        libdir: Option<PathBuf>,
        /// The dev profile instead of release.
        #[arg(long)]
        debug: bool,
        /// Take the .mod files from this directory (e.g. what `cargo xtask mods`
        /// made) instead of building them.
        #[arg(long)]
        mods: Option<PathBuf>,
    },
    /// Build the Debian packages (liblcmaps-rs0, lcmaps-rs-plugins, lcmaps-rs,
    /// glexec-rs, liblcmaps-rs-dev) from the installed tree; prints the
    /// .deb files (default in <target>/debian). Needs dpkg-deb, pandoc, strip.
    Deb(Packages),
    /// Build the RPMs (lcmaps-rs, -plugins, -tools, -devel, glexec-rs) with
    /// rpmbuild and packaging/rpm/lcmaps-rs.spec; prints them (default in
    /// <target>/rpm).
    Rpm(Packages),
}

/// How `deb` and `rpm` build.
#[derive(clap::Args)]
struct Packages {
    /// The dev profile instead of release.
    #[arg(long)]
    debug: bool,
    /// Take the .mod files from this directory instead of building them.
    #[arg(long)]
    mods: Option<PathBuf>,
    /// Where the packages go.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// How and where `mods` and `clib` build.
#[derive(clap::Args)]
struct Build {
    /// The dev profile instead of release.
    #[arg(long)]
    debug: bool,
    /// Where the results go (default <target>/mods or <target>/clib).
    #[arg(long)]
    out: Option<PathBuf>,
    /// The cargo target dir of the build (default <target>/mods-build for
    /// mods, the workspace's for clib).
    #[arg(long)]
    build_dir: Option<PathBuf>,
}

fn profile(debug: bool) -> Profile {
    if debug {
        Profile::Debug
    } else {
        Profile::Release
    }
}

/// One path a line.
fn print(paths: Vec<PathBuf>) {
    for p in paths {
        println!("{}", p.display());
    }
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Cmd::Mods { build, modules } => mods::build(&mods::Options {
            profile: profile(build.debug),
            out: build.out,
            build_dir: build.build_dir,
            names: modules,
        })
        .map(|dir| println!("{}", dir.display())),
        Cmd::Clib { build } => clib::build(
            profile(build.debug),
            build.build_dir.as_deref(),
            build.out.as_deref(),
        )
        .map(|dir| println!("{}", dir.display())),
        Cmd::Install {
            prefix,
            destdir,
            libdir,
            debug,
            mods,
        } => {
            let mut layout = install::Layout::new(&prefix, &destdir);
            if let Some(libdir) = libdir {
                layout.libdir = libdir;
            }
            install::install(&layout, profile(debug), mods.as_deref())
        }
        Cmd::Rpm(p) => rpm::build(profile(p.debug), p.mods.as_deref(), p.out.as_deref()).map(print),
        Cmd::Deb(p) => deb::build(profile(p.debug), p.mods.as_deref(), p.out.as_deref()).map(print),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cargo xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
