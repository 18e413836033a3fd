//! The conformance suite that every [`BlobStore`] engine must pass, written once: each
//! function opens its store from a blob URL (so it can open a second "replica" on the same
//! URL), works under a fresh key prefix (so tests can share a bucket and run in parallel),
//! and panics with a message naming what broke.

use std::io;

use bytes::Bytes;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    copy, open_blob_store, BlobError, BlobKey, BlobStore, ByteStream, PartReceipt, UploadId,
    MAX_PARTS, MIN_PART_SIZE,
};

/// Size of the large-object test's blob.
pub const LARGE_OBJECT_LEN: u64 = 64 * 1024 * 1024;

/// How much the process's peak memory may grow while the large object is written and read
/// back: well under [`LARGE_OBJECT_LEN`], so an engine that buffers whole blobs fails.
pub const LARGE_OBJECT_MAX_RSS_GROWTH: u64 = 40 * 1024 * 1024;

/// Largest chunk a read may yield: reads stream, they do not load the range first.
pub const MAX_READ_CHUNK: usize = 8 * 1024 * 1024;

/// Open the store at `url`, or panic.
async fn open(url: &str) -> std::sync::Arc<dyn BlobStore> {
    open_blob_store(url)
        .await
        .unwrap_or_else(|e| panic!("opening blob store {url}: {e:?}"))
}

/// A fresh prefix for one test's keys.
fn prefix() -> String {
    format!("conformance/{}", Uuid::new_v4().simple())
}

/// The key `prefix/name`, or panic.
fn key_at(prefix: &str, name: &str) -> BlobKey {
    BlobKey::new(format!("{prefix}/{name}")).unwrap_or_else(|e| panic!("{e}"))
}

/// Byte `at` of the deterministic test content numbered `seed`: position-dependent, with no
/// short period, so a shifted or reordered range is caught.
fn content_byte(seed: u64, at: u64) -> u8 {
    let mut z = ((seed << 40) ^ (at / 8)).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    z.to_le_bytes()[usize::try_from(at % 8).unwrap_or(0)]
}

/// Bytes `start..end` of content `seed`.
fn content(seed: u64, start: u64, end: u64) -> Vec<u8> {
    (start..end).map(|at| content_byte(seed, at)).collect()
}

/// Content `seed` of `len` bytes as a stream of `chunk`-byte pieces, made as it is read:
/// the test itself never holds the whole body.
pub fn content_stream(seed: u64, len: u64, chunk: u64) -> ByteStream {
    stream::iter((0..len).step_by(usize::try_from(chunk).unwrap_or(usize::MAX)))
        .map(move |start| Ok(Bytes::from(content(seed, start, (start + chunk).min(len)))))
        .boxed()
}

/// The SHA-256 of content `seed` of `len` bytes.
fn content_sha256(seed: u64, len: u64) -> [u8; 32] {
    let mut hash = Sha256::new();
    for start in (0..len).step_by(1 << 20) {
        hash.update(content(seed, start, (start + (1 << 20)).min(len)));
    }
    hash.finalize().into()
}

/// Read a stream to its end: (length, SHA-256, largest chunk).
async fn digest(mut body: ByteStream) -> (u64, [u8; 32], usize) {
    let (mut len, mut hash, mut largest) = (0u64, Sha256::new(), 0usize);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.unwrap_or_else(|e| panic!("reading a blob failed midway: {e:?}"));
        len += chunk.len() as u64;
        largest = largest.max(chunk.len());
        hash.update(&chunk);
    }
    (len, hash.finalize().into(), largest)
}

/// Read a (small) range into memory.
async fn read(store: &dyn BlobStore, key: &BlobKey, range: std::ops::Range<u64>) -> Vec<u8> {
    let body = store
        .get_range(key, range.clone())
        .await
        .unwrap_or_else(|e| panic!("get_range({key}, {range:?}): {e:?}"));
    let chunks: Vec<Bytes> = body
        .try_collect()
        .await
        .unwrap_or_else(|e| panic!("reading {key} {range:?}: {e:?}"));
    chunks.concat()
}

/// Store content `seed` of `len` bytes under `key`, or panic.
async fn put(store: &dyn BlobStore, key: &BlobKey, seed: u64, len: u64) {
    let stored = store
        .put(key, content_stream(seed, len, 7919))
        .await
        .unwrap_or_else(|e| panic!("put({key}): {e:?}"));
    assert_eq!(stored, len, "put({key}) reported the wrong length");
}

/// Store part `index` of content `seed` of `len` bytes, or panic.
async fn put_part(
    store: &dyn BlobStore,
    key: &BlobKey,
    upload: &UploadId,
    index: u32,
    seed: u64,
    len: u64,
) -> PartReceipt {
    let receipt = store
        .put_part(key, upload, index, content_stream(seed, len, 1 << 20))
        .await
        .unwrap_or_else(|e| panic!("put_part({key}, {upload}, {index}): {e:?}"));
    assert_eq!((receipt.part_index, receipt.size), (index, len));
    receipt
}

/// A body that yields `good` bytes of content, then fails as a dropped connection would.
fn failing_stream(good: u64) -> ByteStream {
    content_stream(9, good, 1 << 20)
        .chain(stream::once(async {
            Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "client went away",
            ))
        }))
        .boxed()
}

async fn exists(store: &dyn BlobStore, key: &BlobKey) -> bool {
    store
        .exists(key)
        .await
        .unwrap_or_else(|e| panic!("exists({key}): {e:?}"))
}

/// The keys below `prefix`, sorted, with their lengths.
async fn list(store: &dyn BlobStore, prefix: &BlobKey) -> Vec<(String, u64)> {
    let mut found: Vec<_> = store
        .list(Some(prefix))
        .map_ok(|meta| (meta.key.to_string(), meta.len))
        .try_collect()
        .await
        .unwrap_or_else(|e| panic!("list({prefix}): {e:?}"));
    found.sort();
    found
}

/// `ping` answers on a working store.
pub async fn ping(url: &str) {
    let store = open(url).await;
    store
        .ping()
        .await
        .unwrap_or_else(|e| panic!("ping {url}: {e:?}"));
}

/// A put then a full read gives back the same bytes (SHA-256), length and existence.
pub async fn round_trip(url: &str) {
    let store = open(url).await;
    let key = key_at(&prefix(), "clip.mp4");
    let len = 3 * 1024 * 1024 + 17;
    put(&*store, &key, 1, len).await;
    assert!(exists(&*store, &key).await, "{key} missing after put");
    let meta = store.head(&key).await.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(meta.len, len, "head length");
    let body = store
        .get_range(&key, 0..len)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let (read_len, sha, _) = digest(body).await;
    assert_eq!(read_len, len, "read length");
    assert_eq!(
        sha,
        content_sha256(1, len),
        "content differs after a round trip"
    );
}

/// Ranges at the edges: empty, first and last byte, whole; past the end is an error.
pub async fn ranged_reads(url: &str) {
    let store = open(url).await;
    let prefix = prefix();
    let key = key_at(&prefix, "ranges.bin");
    let len = 1000;
    put(&*store, &key, 2, len).await;
    for range in [0..0, 0..1, 999..1000, 1000..1000, 123..877, 0..1000] {
        assert_eq!(
            read(&*store, &key, range.clone()).await,
            content(2, range.start, range.end),
            "range {range:?}"
        );
    }
    #[allow(clippy::reversed_empty_ranges)]
    let bad_ranges = [999..1001, 1000..1001, 2000..3000, 10..5];
    for range in bad_ranges {
        match store.get_range(&key, range.clone()).await {
            Err(BlobError::RangeNotSatisfiable { len: 1000, .. }) => {}
            Err(e) => panic!("range {range:?} gave {e:?}, not RangeNotSatisfiable"),
            Ok(_) => panic!("range {range:?} of a {len}-byte blob was served"),
        }
    }
    let empty = key_at(&prefix, "empty.bin");
    put(&*store, &empty, 3, 0).await;
    assert_eq!(read(&*store, &empty, 0..0).await, Vec::<u8>::new());
    assert!(matches!(
        store.get_range(&empty, 0..1).await,
        Err(BlobError::RangeNotSatisfiable { .. })
    ));
}

/// Peak resident memory of this process, in bytes (Linux `VmHWM`).
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_else(|e| panic!("reading /proc/self/status (Linux needed): {e}"));
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kib| kib * 1024)
        .unwrap_or_else(|| panic!("no VmHWM line in /proc/self/status"))
}

/// Reset the peak resident memory to the current one (Linux `clear_refs`).
fn reset_peak_rss() {
    std::fs::write("/proc/self/clear_refs", "5")
        .unwrap_or_else(|e| panic!("resetting peak RSS via /proc/self/clear_refs: {e}"));
}

/// A 64 MiB blob written from 1 MiB chunks and read back streams both ways: the process's
/// peak memory grows far less than the blob, and reads come in bounded chunks.
pub async fn large_object_streams(url: &str) {
    let store = open(url).await;
    let key = key_at(&prefix(), "drive.mp4");
    reset_peak_rss();
    let before = peak_rss();
    let stored = store
        .put(&key, content_stream(4, LARGE_OBJECT_LEN, 1 << 20))
        .await
        .unwrap_or_else(|e| panic!("put large: {e:?}"));
    assert_eq!(stored, LARGE_OBJECT_LEN);
    let body = store
        .get_range(&key, 0..LARGE_OBJECT_LEN)
        .await
        .unwrap_or_else(|e| panic!("get large: {e:?}"));
    let (len, sha, largest) = digest(body).await;
    let growth = peak_rss().saturating_sub(before);
    eprintln!("{url}: {LARGE_OBJECT_LEN}-byte put and read, peak memory grew by {growth} bytes");
    assert_eq!(len, LARGE_OBJECT_LEN);
    assert_eq!(
        sha,
        content_sha256(4, LARGE_OBJECT_LEN),
        "large content differs"
    );
    assert!(
        growth < LARGE_OBJECT_MAX_RSS_GROWTH,
        "peak memory grew by {growth} bytes for a {LARGE_OBJECT_LEN}-byte blob: the engine buffers"
    );
    assert!(
        largest <= MAX_READ_CHUNK,
        "a read chunk had {largest} bytes"
    );
    let tail = LARGE_OBJECT_LEN - 10..LARGE_OBJECT_LEN;
    assert_eq!(
        read(&*store, &key, tail.clone()).await,
        content(4, tail.start, tail.end),
        "tail of the large blob"
    );
}

/// A second put replaces the blob whole.
pub async fn overwrite(url: &str) {
    let store = open(url).await;
    let key = key_at(&prefix(), "again.bin");
    put(&*store, &key, 5, 5000).await;
    put(&*store, &key, 6, 300).await;
    assert_eq!(read(&*store, &key, 0..300).await, content(6, 0, 300));
    let meta = store.head(&key).await.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(meta.len, 300, "length after overwrite");
}

/// Deleting removes the blob; deleting again, or a blob never stored, succeeds.
pub async fn delete_is_idempotent(url: &str) {
    let store = open(url).await;
    let key = key_at(&prefix(), "gone.bin");
    put(&*store, &key, 7, 10).await;
    for attempt in 0..2 {
        store
            .delete(&key)
            .await
            .unwrap_or_else(|e| panic!("delete #{attempt}: {e:?}"));
        assert!(!exists(&*store, &key).await, "{key} exists after delete");
    }
}

/// Every read of a missing blob is classified as not found.
pub async fn not_found_is_classified(url: &str) {
    let store = open(url).await;
    let missing = key_at(&prefix(), "missing.bin");
    assert!(!exists(&*store, &missing).await);
    let head = store.head(&missing).await.map(|_| ());
    let range = store.get_range(&missing, 0..1).await.map(|_| ());
    let empty_range = store.get_range(&missing, 0..0).await.map(|_| ());
    for (what, result) in [
        ("head", head),
        ("get_range", range),
        ("empty get_range", empty_range),
    ] {
        match result {
            Err(e) if e.is_not_found() => {}
            other => panic!("{what} of a missing blob gave {other:?}"),
        }
    }
}

/// Listing a prefix gives the blobs below it, with lengths, and nothing beside it.
pub async fn list_by_prefix(url: &str) {
    let store = open(url).await;
    let prefix = prefix();
    for (name, len) in [("a/1", 1), ("a/2", 2), ("a/sub/3", 3), ("ab/4", 4)] {
        put(&*store, &key_at(&prefix, name), 10, len).await;
    }
    let expect = |names: &[(&str, u64)]| -> Vec<(String, u64)> {
        names
            .iter()
            .map(|(n, l)| (format!("{prefix}/{n}"), *l))
            .collect()
    };
    assert_eq!(
        list(&*store, &key_at(&prefix, "a")).await,
        expect(&[("a/1", 1), ("a/2", 2), ("a/sub/3", 3)])
    );
    let root = BlobKey::new(prefix.clone()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        list(&*store, &root).await,
        expect(&[("a/1", 1), ("a/2", 2), ("a/sub/3", 3), ("ab/4", 4)])
    );
    assert_eq!(list(&*store, &key_at(&prefix, "nothing")).await, vec![]);
}

/// A multipart upload started by one store is continued and completed by a second store
/// opened on the same URL (another replica), from the saved id and receipts alone; a part
/// stored twice counts with its newest receipt; a completed upload takes no more parts.
pub async fn multipart_resumed_by_another_replica(url: &str) {
    let key = key_at(&prefix(), "uploaded.mp4");
    let first = open(url).await;
    let upload = first
        .create_multipart(&key)
        .await
        .unwrap_or_else(|e| panic!("create_multipart: {e:?}"));
    let part0 = put_part(&*first, &key, &upload, 0, 20, MIN_PART_SIZE).await;
    let stale = put_part(&*first, &key, &upload, 1, 21, MIN_PART_SIZE).await;
    let saved = (upload.as_str().to_owned(), part0.clone());
    drop(first);

    let second = open(url).await;
    let upload = UploadId::new(saved.0);
    let part1 = put_part(&*second, &key, &upload, 1, 22, MIN_PART_SIZE + 3).await;
    assert_ne!(part1.etag, stale.etag, "a re-stored part kept its etag");
    let part2 = put_part(&*second, &key, &upload, 2, 23, 1000).await;
    assert!(
        !exists(&*second, &key).await,
        "blob visible before completion"
    );
    let meta = second
        .complete_multipart(&key, &upload, &[saved.1, part1, part2])
        .await
        .unwrap_or_else(|e| panic!("complete_multipart: {e:?}"));
    let len = 2 * MIN_PART_SIZE + 3 + 1000;
    assert_eq!(meta.len, len);

    let body = second
        .get_range(&key, 0..len)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let (read_len, sha, _) = digest(body).await;
    let mut expected = Sha256::new();
    for (seed, part_len) in [(20, MIN_PART_SIZE), (22, MIN_PART_SIZE + 3), (23, 1000)] {
        for start in (0..part_len).step_by(1 << 20) {
            expected.update(content(seed, start, (start + (1 << 20)).min(part_len)));
        }
    }
    assert_eq!(read_len, len);
    assert_eq!(
        sha,
        <[u8; 32]>::from(expected.finalize()),
        "assembled content differs"
    );
    let boundary = MIN_PART_SIZE - 2..MIN_PART_SIZE + 2;
    let mut across = content(20, MIN_PART_SIZE - 2, MIN_PART_SIZE);
    across.extend(content(22, 0, 2));
    assert_eq!(
        read(&*second, &key, boundary).await,
        across,
        "bytes across a part boundary"
    );

    assert!(
        second
            .put_part(&key, &upload, 3, content_stream(24, 10, 10))
            .await
            .is_err(),
        "a completed upload took a part"
    );
}

/// Aborting drops the upload: no blob, no more parts, no completion. (How a server names an
/// unknown upload varies: AWS, MinIO and Garage answer 404, s3s-fs 403; the filesystem
/// engine's own test checks its classification and that a second abort succeeds.)
pub async fn multipart_abort_leaves_nothing(url: &str) {
    let store = open(url).await;
    let key = key_at(&prefix(), "aborted.mp4");
    let upload = store
        .create_multipart(&key)
        .await
        .unwrap_or_else(|e| panic!("create_multipart: {e:?}"));
    let part0 = put_part(&*store, &key, &upload, 0, 30, 1000).await;
    store
        .abort_multipart(&key, &upload)
        .await
        .unwrap_or_else(|e| panic!("abort: {e:?}"));
    assert!(!exists(&*store, &key).await, "aborted upload left a blob");
    assert!(
        store
            .put_part(&key, &upload, 1, content_stream(31, 10, 10))
            .await
            .is_err(),
        "an aborted upload took a part"
    );
    assert!(
        store
            .complete_multipart(&key, &upload, &[part0])
            .await
            .is_err(),
        "an aborted upload completed"
    );
    assert!(!exists(&*store, &key).await, "aborted upload left a blob");
}

/// Completion checks the receipts (order, part sizes) and part indexes are bounded, before
/// anything is stored. (Checking etags is the server's job on S3; the filesystem engine's own
/// test covers it there.)
pub async fn multipart_rejects_bad_parts(url: &str) {
    let store = open(url).await;
    let key = key_at(&prefix(), "bad-parts.mp4");
    let upload = store
        .create_multipart(&key)
        .await
        .unwrap_or_else(|e| panic!("create_multipart: {e:?}"));
    let small = put_part(&*store, &key, &upload, 0, 40, 100).await;
    let last = put_part(&*store, &key, &upload, 1, 41, 100).await;
    let out_of_order = [last.clone(), small.clone()];
    let too_small = [small.clone(), last.clone()];
    for (what, parts) in [
        ("out of order", &out_of_order[..]),
        ("small first part", &too_small[..]),
        ("no parts", &[][..]),
    ] {
        assert!(
            store
                .complete_multipart(&key, &upload, parts)
                .await
                .is_err(),
            "completion with {what} succeeded"
        );
    }
    assert!(
        !exists(&*store, &key).await,
        "a rejected completion left a blob"
    );
    match store
        .put_part(&key, &upload, MAX_PARTS, content_stream(42, 1, 1))
        .await
    {
        Err(e) if e.is_invalid_input() => {}
        other => panic!("part index {MAX_PARTS} gave {other:?}"),
    }
    store
        .abort_multipart(&key, &upload)
        .await
        .unwrap_or_else(|e| panic!("abort: {e:?}"));
}

fn key_beside(key: &BlobKey) -> BlobKey {
    BlobKey::new(format!("{key}-other")).unwrap_or_else(|e| panic!("{e}"))
}

/// A put whose body fails midway stores nothing, small or multipart-sized, and leaves an
/// existing blob under the key as it was.
pub async fn interrupted_put_leaves_nothing(url: &str) {
    let store = open(url).await;
    let prefix = prefix();
    for good in [1000, MIN_PART_SIZE + (1 << 20)] {
        let fresh = key_at(&prefix, &format!("fresh-{good}.bin"));
        match store.put(&fresh, failing_stream(good)).await {
            Err(BlobError::Body(_)) => {}
            other => panic!("interrupted put after {good} bytes gave {other:?}"),
        }
        assert!(
            !exists(&*store, &fresh).await,
            "interrupted put left {fresh}"
        );

        let kept = key_at(&prefix, &format!("kept-{good}.bin"));
        put(&*store, &kept, 50, 100).await;
        assert!(store.put(&kept, failing_stream(good)).await.is_err());
        assert_eq!(
            read(&*store, &kept, 0..100).await,
            content(50, 0, 100),
            "old blob damaged"
        );
    }
    assert_eq!(
        list(
            &*store,
            &BlobKey::new(prefix).unwrap_or_else(|e| panic!("{e}"))
        )
        .await
        .len(),
        2
    );
}

/// A blob copied between two stores through the trait arrives whole.
pub async fn copy_between(from_url: &str, to_url: &str) {
    let (from, to) = (open(from_url).await, open(to_url).await);
    let key = key_at(&prefix(), "copied.mp4");
    let len = MIN_PART_SIZE + 12345;
    put(&*from, &key, 60, len).await;
    let copied = copy(&*from, &*to, &key)
        .await
        .unwrap_or_else(|e| panic!("copy {from_url} → {to_url}: {e:?}"));
    assert_eq!(copied, len);
    let body = to
        .get_range(&key, 0..len)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let (read_len, sha, _) = digest(body).await;
    assert_eq!(
        (read_len, sha),
        (len, content_sha256(60, len)),
        "copy differs"
    );
    match copy(&*from, &*to, &key_beside(&key)).await {
        Err(e) if e.is_not_found() => {}
        other => panic!("copying a missing blob gave {other:?}"),
    }
}
