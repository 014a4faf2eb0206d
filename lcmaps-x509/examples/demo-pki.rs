//! The demo's certificates (`scripts/demo`): a CA directory with a CRL, and
//! RFC 3820 proxies (chain and key, mode 0600) of two users, written into
//! the directory given. Generated each time, never downloaded.
//!
//!     cargo run -p lcmaps-x509 --features test-fixtures --example demo-pki -- DIR

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use lcmaps_x509::fixtures::{self, Kind, Tweak};

fn main() {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: demo-pki DIR");
        std::process::exit(2);
    };
    let certs = dir.join("certificates");
    std::fs::create_dir_all(&certs).expect("the certificates directory");
    let ca = fixtures::ca("Demo CA");
    fixtures::install_ca(&certs, &ca, &[]);
    for (file, name, serial) in [("jane.pem", "Jane Doe", 11), ("pat.pem", "Pat Pool", 12)] {
        let (user, user_key) = fixtures::user(&ca, name, serial);
        let (proxy, proxy_key) = fixtures::proxy(&user, &user_key, Kind::Rfc, Tweak::default());
        let path = dir.join(file);
        std::fs::write(&path, fixtures::pem(&[&proxy, &user], Some(&proxy_key)))
            .expect("the proxy file");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .expect("the proxy's mode");
        println!("{}: proxy of /DC=org/DC=example/CN={name}", path.display());
    }
}
