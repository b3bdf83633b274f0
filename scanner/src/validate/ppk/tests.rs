//! Unit tests of the `ppk` validators (fake credentials live here, where
//! the project's own scan allows them).

use super::*;

// Made with puttygen 0.78 from throwaway keys.
const V3: &str = "PuTTY-User-Key-File-3: ssh-ed25519
Encryption: none
Comment: ci-deploy-test
Public-Lines: 2
AAAAC3NzaC1lZDI1NTE5AAAAIIbLnQBkqtCGESQDXDZZDZ4JGjnEE39AsCuhRGT5
H9kw
Private-Lines: 1
AAAAIJ1/5CIjDpIbwWykbbhsjxnD49WWIocqaAyjjpbASvIb
Private-MAC: e0be0ebff97f6b13f0a0fe2931a6eb07279c048a9808466ae140bf31a77481a0";
const V2: &str = "PuTTY-User-Key-File-2: ssh-ed25519
Encryption: none
Comment: deploy@leakscan-test
Public-Lines: 2
AAAAC3NzaC1lZDI1NTE5AAAAIGoYvA5EYQPyXWud9vDhqvfdooachF1h99ySwi4C
PUZk
Private-Lines: 1
AAAAIHnHBDQgWxxf3t3TgmC8g+ZY0YBLla50dh1GPYyXls8x
Private-MAC: c630f7c0a292e013615728a74a9da7015d2a08af";

#[test]
fn real_v2_and_v3_files_verify() {
    let v = putty_private_key(V3.as_bytes()).unwrap();
    assert_eq!(v.details["format"], json!("PuTTY PPK v3"));
    assert_eq!(v.details["key_type"], json!("ssh-ed25519"));
    assert!(putty_private_key(V2.as_bytes()).is_ok());
    assert!(putty_private_key(V2.replace('\n', "\r\n").as_bytes()).is_ok());
}

#[test]
fn edited_or_elided_files_are_rejected() {
    let edited = V3.replace("ci-deploy-test", "ci-deploy-tesT");
    assert!(putty_private_key(edited.as_bytes()).is_err());
    let elided = V2.replace("AAAAIHnHBDQgWxxf3t3TgmC8g+ZY0YBLla50dh1GPYyXls8x", "...");
    assert!(putty_private_key(elided.as_bytes()).is_err());
}
