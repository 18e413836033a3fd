//! The blob store suite (`dashvault_store::blob::testkit`) on the filesystem engine and on
//! a real S3-compatible server, plus checks that concern one engine only.

use dashvault_store::blob::{testkit, BlobError, BlobKey, BlobLocation, PartReceipt, UploadId};
use dashvault_store::open_blob_store;
use tempfile::TempDir;

/// The S3 server the test command started (`scripts/s3-server`); its absence fails.
fn s3_url() -> String {
    std::env::var("DASHVAULT_TEST_S3_URL").unwrap_or_else(|_| {
        panic!(
            "DASHVAULT_TEST_S3_URL is not set: run the tests with ./scripts/test, or start \
             the test S3 server first with `eval \"$(scripts/s3-server)\"`"
        )
    })
}

/// A fresh root directory and its `file://` URL.
fn fs_store() -> (TempDir, String) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let url = format!("file://{}", dir.path().display());
    (dir, url)
}

/// One test per case of the suite, for each engine.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod fs {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let (_dir, url) = super::fs_store();
                super::testkit::$case(&url).await;
            })*
        }
        mod s3 {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                super::testkit::$case(&super::s3_url()).await;
            })*
        }
    };
}

conformance![
    ping,
    round_trip,
    ranged_reads,
    large_object_streams,
    overwrite,
    delete_is_idempotent,
    not_found_is_classified,
    list_by_prefix,
    multipart_resumed_by_another_replica,
    multipart_abort_leaves_nothing,
    multipart_rejects_bad_parts,
    interrupted_put_leaves_nothing,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_from_files_to_s3() {
    let (_dir, fs_url) = fs_store();
    testkit::copy_between(&fs_url, &s3_url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_from_s3_to_files() {
    let (_dir, fs_url) = fs_store();
    testkit::copy_between(&s3_url(), &fs_url).await;
}

/// Failed and interrupted writes leave no stray file behind in the staging directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fs_failed_writes_leave_no_temporary_files() {
    let (dir, url) = fs_store();
    testkit::interrupted_put_leaves_nothing(&url).await;
    testkit::multipart_abort_leaves_nothing(&url).await;
    for staging in [".tmp", ".uploads"] {
        let left: Vec<_> = std::fs::read_dir(dir.path().join(staging))
            .unwrap_or_else(|e| panic!("{staging}: {e}"))
            .collect();
        assert!(left.is_empty(), "{staging} still holds {left:?}");
    }
}

/// The filesystem engine names every unknown upload "not found": aborted, completed, for
/// another key, or a made-up id; and aborting one again succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fs_unknown_uploads_are_not_found() {
    let (_dir, url) = fs_store();
    let store = open_blob_store(&url)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let key = BlobKey::new("uploads/a.mp4").unwrap_or_else(|e| panic!("{e}"));
    let other = BlobKey::new("uploads/b.mp4").unwrap_or_else(|e| panic!("{e}"));
    let body = || testkit::content_stream(1, 10, 10);

    let aborted = store
        .create_multipart(&key)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(store
        .put_part(&other, &aborted, 0, body())
        .await
        .is_err_and(|e| e.is_not_found()));
    for attempt in 0..2 {
        store
            .abort_multipart(&key, &aborted)
            .await
            .unwrap_or_else(|e| panic!("abort #{attempt}: {e:?}"));
    }
    let completed = store
        .create_multipart(&key)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let part = store
        .put_part(&key, &completed, 0, body())
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    store
        .complete_multipart(&key, &completed, &[part])
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    for upload in [
        aborted,
        completed,
        UploadId::new("../../etc"),
        UploadId::new("nope"),
    ] {
        match store.put_part(&key, &upload, 1, body()).await {
            Err(e) if e.is_not_found() => {}
            other => panic!("put_part to upload {upload} gave {other:?}"),
        }
    }
}

/// A directory under the root (the parent of stored keys) is not a blob, and completion
/// refuses a receipt whose etag names no stored part (or could name a path).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fs_checks_directories_and_etags() {
    let (_dir, url) = fs_store();
    let store = open_blob_store(&url)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let key = |k: &str| BlobKey::new(k).unwrap_or_else(|e| panic!("{e}"));
    store
        .put(&key("dir/inner.bin"), testkit::content_stream(1, 10, 10))
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(!store
        .exists(&key("dir"))
        .await
        .unwrap_or_else(|e| panic!("{e:?}")));
    assert!(store
        .get_range(&key("dir"), 0..0)
        .await
        .is_err_and(|e| e.is_not_found()));

    let target = key("forged.mp4");
    let upload = store
        .create_multipart(&target)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let part = store
        .put_part(&target, &upload, 0, testkit::content_stream(2, 10, 10))
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    for etag in [
        "0123456789abcdef0123456789abcdef",
        "../../../../dir/inner.bin",
        "",
    ] {
        let forged = PartReceipt {
            etag: etag.to_owned(),
            ..part.clone()
        };
        match store.complete_multipart(&target, &upload, &[forged]).await {
            Err(BlobError::InvalidParts { .. }) => {}
            other => panic!("completion with etag {etag:?} gave {other:?}"),
        }
    }
    let wrong_size = PartReceipt {
        size: 11,
        ..part.clone()
    };
    assert!(store
        .complete_multipart(&target, &upload, &[wrong_size])
        .await
        .is_err());
    assert!(!store
        .exists(&target)
        .await
        .unwrap_or_else(|e| panic!("{e:?}")));
    let meta = store
        .complete_multipart(&target, &upload, &[part])
        .await
        .unwrap_or_else(|e| panic!("the true receipt was refused: {e:?}"));
    assert_eq!(meta.len, 10);
}

/// Temporary files of stores that are gone (a crashed process's) are swept, at open and on
/// request; a live store's are not, whatever their age.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fs_sweeps_temporary_files_of_gone_writers_only() {
    let (dir, url) = fs_store();
    let live = open_blob_store(&url)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let tmp = dir.path().join(".tmp");
    let live_dirs: Vec<_> = std::fs::read_dir(&tmp)
        .unwrap_or_else(|e| panic!("{e}"))
        .map(|e| e.unwrap_or_else(|e| panic!("{e}")).path())
        .collect();
    assert_eq!(live_dirs.len(), 1, "one directory per open store");
    let crashed = tmp.join("crashed");
    std::fs::create_dir(&crashed).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(crashed.join("lock"), b"").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(crashed.join("partial"), b"partial").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(live_dirs[0].join("writing"), b"live").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        live.sweep_temporary(false)
            .await
            .unwrap_or_else(|e| panic!("{e:?}")),
        7,
        "only the crashed store's file counts"
    );
    assert!(crashed.exists(), "a survey removes nothing");
    assert_eq!(
        live.sweep_temporary(true)
            .await
            .unwrap_or_else(|e| panic!("{e:?}")),
        7
    );
    assert!(!crashed.exists(), "a gone writer's files survived");
    assert!(
        live_dirs[0].join("writing").exists(),
        "a live store's file was removed"
    );
    drop(live);
    assert!(
        !live_dirs[0].exists(),
        "a store removes its own directory when dropped"
    );
    open_blob_store(&url)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
}

/// A relative `file://` URL is taken from the current directory, which it creates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fs_relative_url_is_created_under_the_current_dir() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let cwd = std::env::current_dir().unwrap_or_else(|e| panic!("current dir: {e}"));
    // From the current directory up to `/` (the root is a component too), then down.
    let mut relative: std::path::PathBuf = cwd.components().skip(1).map(|_| "..").collect();
    relative.push(dir.path().strip_prefix("/").unwrap_or(dir.path()));
    relative.push("blobs");
    let url = format!("file://{}", relative.display());
    open_blob_store(&url)
        .await
        .unwrap_or_else(|e| panic!("open {url}: {e:?}"))
        .ping()
        .await
        .unwrap_or_else(|e| panic!("ping {url}: {e:?}"));
    assert!(
        dir.path().join("blobs/.tmp").is_dir(),
        "{url} was not created"
    );
}

/// A bucket that does not exist makes `ping` fail (readiness reports it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_ping_fails_for_a_missing_bucket() {
    let url = s3_url();
    let BlobLocation::S3 {
        endpoint: Some(endpoint),
        region,
        ..
    } = BlobLocation::parse(&url).unwrap_or_else(|e| panic!("{e}"))
    else {
        panic!("{url} names no endpoint");
    };
    let missing = format!(
        "s3://no-such-bucket-{}?endpoint={endpoint}&region={}",
        uuid::Uuid::new_v4().simple(),
        region.unwrap_or_else(|| "us-east-1".to_owned())
    );
    let store = open_blob_store(&missing)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(store.ping().await.is_err(), "ping of {missing} succeeded");
}

#[tokio::test]
async fn unknown_blob_url_is_refused() {
    for url in ["ftp://host/x", "s3://b?endpont=http://x", "file://"] {
        match open_blob_store(url).await {
            Err(BlobError::InvalidUrl { .. }) => {}
            other => panic!("{url} gave {other:?}"),
        }
    }
}

/// The filesystem engine writes parts straight into one file: it takes them in order,
/// storing a part again forgets the later ones, and a part cut off midway leaves no
/// receipt-able bytes — the next attempt at that part starts clean.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fs_parts_go_in_order_into_one_file() {
    use futures_util::{stream, StreamExt, TryStreamExt};
    use std::io;

    let (_dir, url) = fs_store();
    let store = open_blob_store(&url)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let key = BlobKey::new("in-order.bin").unwrap_or_else(|e| panic!("{e}"));
    let upload = store
        .create_multipart(&key)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let min = dashvault_store::blob::MIN_PART_SIZE;
    let part = |index: u32, seed: u64, len: u64| {
        let (store, key, upload) = (store.clone(), key.clone(), upload.clone());
        async move {
            store
                .put_part(
                    &key,
                    &upload,
                    index,
                    testkit::content_stream(seed, len, 1 << 20),
                )
                .await
        }
    };

    match part(1, 1, 10).await {
        Err(BlobError::InvalidParts { reason, .. }) => assert!(reason.contains("in order")),
        other => panic!("part 1 before part 0 gave {other:?}"),
    }
    let first = part(0, 1, min).await.unwrap_or_else(|e| panic!("{e:?}"));
    let stale = part(1, 2, min).await.unwrap_or_else(|e| panic!("{e:?}"));
    let old_last = part(2, 3, 100).await.unwrap_or_else(|e| panic!("{e:?}"));

    // Part 1 again, cut off midway: nothing of it counts, and part 2 is forgotten.
    let broken = stream::iter(vec![
        Ok(bytes::Bytes::from(vec![7u8; 1000])),
        Err(io::Error::other("connection dropped")),
    ])
    .boxed();
    assert!(store.put_part(&key, &upload, 1, broken).await.is_err());
    for parts in [
        vec![first.clone(), stale.clone(), old_last.clone()],
        vec![first.clone(), stale.clone()],
    ] {
        assert!(
            store
                .complete_multipart(&key, &upload, &parts)
                .await
                .is_err(),
            "a receipt for overwritten bytes was accepted"
        );
    }
    let second = part(1, 4, min + 5)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let last = part(2, 5, 100).await.unwrap_or_else(|e| panic!("{e:?}"));
    let meta = store
        .complete_multipart(&key, &upload, &[first, second, last])
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(meta.len, 2 * min + 5 + 100);

    let stored: Vec<u8> = store
        .get_range(&key, 0..meta.len)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
        .try_fold(Vec::new(), |mut all, chunk| async move {
            all.extend_from_slice(&chunk);
            Ok(all)
        })
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let mut expected = Vec::new();
    for (seed, len) in [(1, min), (4, min + 5), (5, 100)] {
        let body: Vec<u8> = testkit::content_stream(seed, len, 1 << 20)
            .try_fold(Vec::new(), |mut all, chunk| async move {
                all.extend_from_slice(&chunk);
                Ok(all)
            })
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        expected.extend(body);
    }
    assert!(stored == expected, "the assembled bytes differ");
}

/// Completion after a crash between publishing the object and removing the upload's
/// directory finds the object in place and succeeds; completion with the upload's bytes
/// gone fails, and never makes an object out of missing bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fs_completion_never_invents_bytes() {
    let (dir, url) = fs_store();
    let store = open_blob_store(&url)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    for (name, published) in [("published.bin", true), ("lost.bin", false)] {
        let key = BlobKey::new(name).unwrap_or_else(|e| panic!("{e}"));
        let upload = store
            .create_multipart(&key)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        let part = store
            .put_part(&key, &upload, 0, testkit::content_stream(9, 10, 10))
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        let upload_dir = dir.path().join(".uploads").join(upload.as_str());
        let data = upload_dir.join("data");
        if published {
            std::fs::rename(&data, dir.path().join(name)).unwrap_or_else(|e| panic!("{e}"));
            let meta = store
                .complete_multipart(&key, &upload, &[part])
                .await
                .unwrap_or_else(|e| panic!("completing a published upload: {e:?}"));
            assert_eq!(meta.len, 10);
            assert!(
                !upload_dir.exists(),
                "the upload's directory is cleaned away"
            );
        } else {
            std::fs::remove_file(&data).unwrap_or_else(|e| panic!("{e}"));
            assert!(store
                .complete_multipart(&key, &upload, &[part])
                .await
                .is_err());
            assert!(!store.exists(&key).await.unwrap_or_else(|e| panic!("{e:?}")));
        }
    }
}
