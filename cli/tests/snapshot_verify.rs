//! `praktijkregister snapshot verify` checks a snapshot file offline: a file signed with a key of
//! the JWK Set verifies, a changed or re-formatted one does not.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use praktijkregister_platform::canonical_json;
use praktijkregister_platform::config::Settings;
use praktijkregister_platform::signing::TokenSigner;
use serde_json::json;

fn verify(dir: &Path, file: &str) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_praktijkregister"))
        .current_dir(dir)
        .env_remove("PRR_CONFIG_FILE")
        .args([
            "snapshot",
            "verify",
            file,
            "--signature",
            "snapshot.jws",
            "--jwks",
            "jwks.json",
        ])
        .output()
        .expect("run the binary");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn a_signed_snapshot_verifies_offline_and_a_changed_one_does_not() {
    let dir = std::env::temp_dir().join(format!("prr-verify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let signer = TokenSigner::generate(&Settings::defaults().unwrap().auth).unwrap();
    let body = canonical_json::to_vec(&json!({
        "format": "praktijkregister-insurer-snapshot/1", "contract_year": 2027,
        "practices": [{"agb": "07000101", "name": "De Linde", "eligible": true}]
    }))
    .unwrap();
    std::fs::write(dir.join("snapshot.json"), &body).unwrap();
    std::fs::write(
        dir.join("snapshot.jws"),
        signer.sign_detached(&body).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("jwks.json"),
        serde_json::to_vec(&signer.jwks()).unwrap(),
    )
    .unwrap();

    let (ok, text) = verify(&dir, "snapshot.json");
    assert!(ok, "{text}");
    assert!(text.contains("valid: snapshot"), "{text}");

    let changed = String::from_utf8(body.clone())
        .unwrap()
        .replace("true", "false");
    std::fs::write(dir.join("changed.json"), changed).unwrap();
    let (ok, text) = verify(&dir, "changed.json");
    assert!(!ok, "{text}");
    assert!(text.contains("does not match"), "{text}");

    let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
    std::fs::write(
        dir.join("pretty.json"),
        serde_json::to_vec_pretty(&value).unwrap(),
    )
    .unwrap();
    let (ok, text) = verify(&dir, "pretty.json");
    assert!(!ok, "{text}");
    assert!(text.contains("canonical"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}
