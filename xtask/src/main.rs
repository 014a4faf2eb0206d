//! `cargo xtask <command>` (the alias is in `.cargo/config.toml`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xtask::{clib, install, mods, Profile};

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
        /// The dev profile instead of release.
        #[arg(long)]
        debug: bool,
        /// Where the .mod files go.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The cargo target dir of the build (default <target>/mods-build).
        #[arg(long)]
        build_dir: Option<PathBuf>,
        /// Module names (lcmaps_localaccount, lcas_userban, lcmaps_dn_prefix); default all.
        modules: Vec<String>,
    },
    /// Build liblcmaps_rs.so and lay it out under the names C programs load
    /// (liblcmaps.so.0, its helper libraries, liblcas.so.0); prints the directory
    /// (default <target>/clib). Run unchanged C programs with LD_LIBRARY_PATH=<it>.
    Clib {
        /// The dev profile instead of release.
        #[arg(long)]
        debug: bool,
        /// Where the library and its names go.
        #[arg(long)]
        out: Option<PathBuf>,
        /// The cargo target dir of the build (default the workspace's).
        #[arg(long)]
        build_dir: Option<PathBuf>,
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
    },
}

fn profile(debug: bool) -> Profile {
    if debug {
        Profile::Debug
    } else {
        Profile::Release
    }
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Cmd::Mods {
            debug,
            out,
            build_dir,
            modules,
        } => mods::build(&mods::Options {
            profile: profile(debug),
            out,
            build_dir,
            names: modules,
        })
        .map(|dir| println!("{}", dir.display())),
        Cmd::Clib {
            debug,
            out,
            build_dir,
        } => clib::build(profile(debug), build_dir.as_deref(), out.as_deref())
            .map(|dir| println!("{}", dir.display())),
        Cmd::Install {
            prefix,
            destdir,
            libdir,
            debug,
        } => {
            let mut layout = install::Layout::new(&prefix, &destdir);
            if let Some(libdir) = libdir {
                layout.libdir = libdir;
            }
            install::install(&layout, profile(debug))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cargo xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
