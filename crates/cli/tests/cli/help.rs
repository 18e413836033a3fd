//! What a new user reads: each command's help, the hints on a mistaken flag, and error
//! messages, from the real binary (issue 19's rough edges).

use std::path::Path;
use std::process::{Command, Output};

/// `dashvault ARGS…` with `envs` set, run to its end.
fn run(args: &[&str], envs: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dashvault"))
        .args(args)
        .envs(envs.iter().copied())
        .output()
        .expect("run dashvault")
}

/// The help of `dashvault ARGS… --help`.
fn help(args: &[&str]) -> String {
    let out = run(&[args, &["--help"]].concat(), &[]);
    assert!(out.status.success(), "{args:?} --help: {out:?}");
    String::from_utf8(out.stdout).expect("utf-8 help")
}

/// Every option's block of a help text: its `--flag` line and the lines under it.
fn option_blocks(help: &str) -> Vec<String> {
    let mut blocks: Vec<String> = Vec::new();
    for line in help.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed.starts_with('-') && (2..=6).contains(&indent) {
            blocks.push(String::new());
        } else if indent == 0 {
            continue;
        }
        if let Some(block) = blocks.last_mut() {
            block.push_str(trimmed);
            block.push('\n');
        }
    }
    blocks
}

#[test]
fn admin_commands_show_their_own_options_and_the_store_settings_only() {
    for (command, own) in [
        (
            &["admin", "jobs"][..],
            &["--state", "--limit", "--json"][..],
        ),
        (&["admin", "archive", "run"], &["--older-than"]),
        (&["admin", "restores", "list"], &["--state", "--json"]),
        (&["admin", "restores", "approve"], &[]),
        (&["admin", "storage"], &["--sweep", "--json"]),
        (&["admin", "verify-store"], &["--jobs", "--adopt", "--json"]),
        (&["admin", "evidence-key"], &["--json"]),
    ] {
        let text = help(command);
        for flag in own
            .iter()
            .chain(&["--config", "--data-dir", "--database-url", "--blob-url"])
        {
            assert!(text.contains(flag), "{command:?} lacks {flag}:\n{text}");
        }
        for serve_only in [
            "--listen",
            "--code-ttl",
            "--twilio-from",
            "--secret",
            "--sms",
        ] {
            assert!(
                !text.contains(serve_only),
                "{command:?} lists {serve_only}:\n{text}"
            );
        }
        // Its own few, help and version, and the five store settings: not serve's ~35.
        let options = option_blocks(&text).len();
        assert!(options <= 15, "{command:?}: {options} options\n{text}");
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains("`dashvault serve --help` lists them"),
            "{text}"
        );
    }
    // The hidden settings still work, as scripts pass them to `serve` and `admin` alike.
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_str().expect("utf-8 path");
    let out = run(
        &[
            "admin",
            "jobs",
            "--data-dir",
            data,
            "--code-ttl",
            "5m",
            "--listen",
            "127.0.0.1:1",
        ],
        &[],
    );
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("no jobs"),
        "{out:?}"
    );
}

#[test]
fn url_settings_name_every_scheme_and_each_option_one_default() {
    let text = help(&["serve"]);
    let blocks = option_blocks(&text);
    let block = |flag: &str| {
        blocks
            .iter()
            .find(|b| b.starts_with(flag))
            .unwrap_or_else(|| panic!("no {flag} in\n{text}"))
            .clone()
    };
    for flag in ["--blob-url", "--archive-url"] {
        let block = block(flag);
        for scheme in ["file://", "s3://", "endpoint=", "region="] {
            assert!(
                block.contains(scheme),
                "{flag} help lacks {scheme}:\n{block}"
            );
        }
    }
    let database = block("--database-url");
    for scheme in ["sqlite://", "postgres://"] {
        assert!(database.contains(scheme), "{database}");
    }
    for block in &blocks {
        assert!(
            block.matches("[default").count() <= 1,
            "two defaults:\n{block}"
        );
    }
    assert!(block("--map-tiles-url").contains("[default: none"));
}

#[test]
fn secrets_given_in_the_environment_are_not_echoed_in_help() {
    const SECRET: &str = "dvd_s3cr3t_never_printed_0123456789abcdef";
    let url = format!("postgres://dashvault:{SECRET}@db.internal/dashvault");
    let envs = [
        ("DASHVAULT_DEVICE_TOKEN", SECRET),
        ("DASHVAULT_SECRET", SECRET),
        ("DASHVAULT_TWILIO_AUTH_TOKEN", SECRET),
        ("DASHVAULT_OPERATOR_TOKEN", SECRET),
        ("DASHVAULT_EVIDENCE_KEY", SECRET),
        ("DASHVAULT_DATABASE_URL", url.as_str()),
    ];
    for command in [
        &["agent", "run"][..],
        &["serve"],
        &["admin", "jobs"],
        &["admin", "storage"],
        &["admin", "evidence-key"],
    ] {
        let out = run(&[command, &["--help"]].concat(), &envs);
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            !text.contains(SECRET),
            "{command:?} --help prints a secret:\n{text}"
        );
    }
    let text =
        String::from_utf8_lossy(&run(&["agent", "run", "--help"], &envs).stdout).into_owned();
    assert!(text.contains("DASHVAULT_DEVICE_TOKEN"), "{text}");
}

#[test]
fn port_is_refused_with_a_tip_toward_listen() {
    for args in [&["serve", "--port", "8080"][..], &["serve", "--port=8080"]] {
        let out = run(args, &[]);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("unexpected argument '--port'"), "{stderr}");
        assert!(
            stderr.contains("tip:") && stderr.contains("--listen 127.0.0.1:PORT"),
            "{stderr}"
        );
    }
    // Only `serve` listens: elsewhere `--port` is just unknown.
    let out = run(&["agent", "status", "--port", "8080"], &[]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("--listen"),
        "{out:?}"
    );
}

/// Asserts a failure: exit code 1, one line on stderr, containing `want`, no part said
/// twice.
fn fails_once(out: &Output, want: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "not one line: {stderr}"
    );
    assert!(stderr.contains(want), "{stderr:?} should contain {want:?}");
    let parts: Vec<&str> = stderr.trim_end().split(": ").collect();
    for (i, part) in parts.iter().enumerate() {
        assert!(
            !parts[i + 1..].contains(part),
            "{part:?} said twice: {stderr}"
        );
    }
    stderr
}

#[test]
fn a_file_that_is_not_mp4_says_so_and_what_it_looks_like() {
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let readme = readme.to_str().expect("utf-8 path");
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.mp4");
    let out = out.to_str().expect("utf-8 path");
    fails_once(
        &run(
            &[
                "media", "cut", "--from", "0", "--to", "5", "-o", out, readme,
            ],
            &[],
        ),
        "README.md: not an MP4/MOV file (it looks like text)",
    );
    let png = dir.path().join("photo.mp4");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0\0\0\x01\0").expect("write");
    fails_once(
        &run(&["media", "probe", png.to_str().expect("utf-8 path")], &[]),
        "photo.mp4: not an MP4/MOV file (it looks like a PNG image)",
    );
}

#[test]
fn each_error_is_printed_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_str().expect("utf-8 path");
    for args in [
        &["media", "probe", path][..],
        &["media", "cut", "--from", "0", "--to", "1", "-o", "-", path],
        &["media", "telemetry", path],
        &["media", "thumb", "--at", "0", "-o", "-", path],
    ] {
        let stderr = fails_once(&run(args, &[]), path);
        assert!(stderr.contains("directory"), "{args:?}: {stderr}");
    }
}
