//! The OpenAPI document against the real server, by a schema-driven fuzzer
//! (schemathesis from PyPI, installed by `./scripts/test`): a fixed seed and budget, zero
//! failures. Checked: no `5xx`, every status, content type, header and body as the
//! document says, and no operation that ignores its credentials. Not checked: whether
//! every schema-valid value is accepted (a phone number or a date range is validated
//! beyond what a schema can say) and the tus `PATCH`/`POST` bodies, which the real tus
//! clients' tests cover.

use crate::uploads::Server;
use std::process::Command;

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_holds_under_fuzzing() {
    let tool = std::env::var("DASHVAULT_SCHEMATHESIS")
        .expect("DASHVAULT_SCHEMATHESIS is not set: run the tests with ./scripts/test");
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let http = reqwest::Client::new();
    let token = server.sign_in(&http, "+14155550100").await;
    let out = Command::new("python3")
        .arg(format!("{tool}/bin/schemathesis"))
        .env("PYTHONPATH", &tool)
        .current_dir(dir.path())
        .args(["run", &server.url("/api/openapi.json")])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_headers_conformance,response_schema_conformance,ignored_auth",
            "--max-examples",
            "30",
            "--seed",
            "1",
            "--exclude-name-regex",
            r"^(POST /api/v1/uploads|PATCH /api/v1/uploads/\{id\}|POST /api/v1/auth/logout)$",
        ])
        .output()
        .expect("schemathesis runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found failures:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains(" passed"), "{report}");
}
