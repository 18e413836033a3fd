//! Runs every case of `dashvault_store::testkit` on each engine, each case on its own
//! fresh database (a temporary SQLite file, a new PostgreSQL database), plus the few
//! checks that only make sense for one engine or for `open` itself.

use dashvault_store::testkit::{self, TestDatabase};
use dashvault_store::{open, Error};

#[path = "conformance/blob.rs"]
mod blob;

async fn sqlite_database() -> TestDatabase {
    testkit::sqlite_test_database()
}

async fn postgres_database() -> TestDatabase {
    testkit::postgres_test_database().await
}

/// For each engine, one module per suite module, one test per case.
macro_rules! conformance {
    ($($module:ident: [$($case:ident),* $(,)?]),* $(,)?) => {
        conformance!(@engine sqlite, sqlite_database; $($module: [$($case),*]),*);
        conformance!(@engine postgres, postgres_database; $($module: [$($case),*]),*);
    };
    (@engine $engine:ident, $database:ident; $($module:ident: [$($case:ident),*]),*) => {
        mod $engine {
            $(mod $module {
                $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let db = crate::$database().await;
                    let repo = dashvault_store::open(db.url()).await.expect("open repository");
                    assert_eq!(repo.engine(), stringify!($engine));
                    dashvault_store::testkit::$module::$case(repo).await;
                })*
            })*
        }
    };
}

conformance! {
    health: [repo_answers_ping],
    users: [
        find_or_create_is_idempotent,
        concurrent_first_sign_ins_make_one_user,
        times_are_kept_to_the_millisecond,
    ],
    login_codes: [
        right_code_is_accepted_once,
        codes_belong_to_their_number,
        wrong_codes_count_tries,
        too_many_wrong_tries_kill_the_code,
        new_code_replaces_old_and_resets_tries,
        code_expires_at_its_expiry_instant,
        concurrent_checks_accept_once,
        concurrent_wrong_tries_stop_at_the_limit,
        sends_are_counted_per_phone_and_address,
        prune_forgets_old_sends_and_expired_codes,
    ],
    sessions: [
        session_lives_until_it_expires,
        renewal_moves_the_expiry,
        sign_out_deletes_the_session,
        sessions_need_a_user_and_a_unique_token,
        prune_forgets_expired_sessions,
    ],
    devices: [
        devices_read_back_oldest_first,
        devices_are_scoped_by_owner,
        replacing_the_token_forgets_the_old_one,
        deleting_a_device_forgets_its_token,
        devices_need_an_owner_and_a_unique_token,
        device_timezone_last_seen_and_usage,
    ],
    uploads: [
        uploads_are_scoped_by_owner,
        progress_is_compare_and_set,
        expired_uploads_are_found_and_lengths_count,
        outcomes_are_kept_with_the_upload,
        upload_locks_are_exclusive,
    ],
    media: [
        nearby_recordings_make_one_drive,
        file_timing_and_the_nearest_sibling,
        same_file_is_one_object,
        clips_keep_incidents_and_attach_to_drives,
        sidecars_attach_to_drives,
    ],
    archive: [old_drives_are_due_until_archived, restore_requests_are_decided_once],
    library: [
        clip_listing_filters_and_pages,
        drive_listing_filters_and_clips,
        deleting_a_clip_leaves_a_tombstone_and_a_job,
        deleting_a_drive_keeps_its_clips,
        a_rides_incidents_outlive_its_clips,
    ],
    shares: [shares_are_found_listed_and_revoked],
    evidence: [
        ledger_is_one_chain,
        concurrent_appends_make_one_chain,
        clip_activity_is_the_owners_and_goes_with_the_clip,
    ],
    jobs: [
        claims_follow_run_at,
        jobs_wait_for_run_at,
        dedupe_key_queues_once,
        expired_lease_is_claimed_again,
        heartbeat_keeps_the_job,
        failures_retry_then_fail,
        permanent_failure_fails_at_once,
        crash_on_the_last_attempt_fails_the_job,
        claims_take_only_the_asked_kinds,
        jobs_are_listed_and_counted_by_state,
        prune_forgets_old_done_jobs,
        concurrent_claims_run_each_job_once,
    ],
}

/// Two repositories on one database, as two server replicas (or a server and an admin
/// command on one SQLite file) would have.
async fn replicas(db: &TestDatabase) -> [std::sync::Arc<dyn dashvault_store::Repo>; 2] {
    let first = open(db.url()).await.expect("open first");
    let second = open(db.url()).await.expect("open second");
    [first, second]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_replicas_accept_a_code_once() {
    let db = sqlite_database().await;
    testkit::login_codes::concurrent_checks_accept_once_across(&replicas(&db).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_replicas_accept_a_code_once() {
    let db = postgres_database().await;
    testkit::login_codes::concurrent_checks_accept_once_across(&replicas(&db).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_replicas_run_each_job_once() {
    let db = sqlite_database().await;
    testkit::jobs::concurrent_claims_run_each_job_once_across(&replicas(&db).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_replicas_run_each_job_once() {
    let db = postgres_database().await;
    testkit::jobs::concurrent_claims_run_each_job_once_across(&replicas(&db).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_replicas_append_one_ledger_chain() {
    let db = sqlite_database().await;
    testkit::evidence::concurrent_appends_make_one_chain_across(&replicas(&db).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_replicas_append_one_ledger_chain() {
    let db = postgres_database().await;
    testkit::evidence::concurrent_appends_make_one_chain_across(&replicas(&db).await).await;
}

#[tokio::test]
async fn unknown_url_scheme_is_refused() {
    let err = open("mysql://localhost/db")
        .await
        .err()
        .expect("mysql is not supported");
    assert!(
        matches!(err, Error::UnsupportedUrl(ref url) if url == "mysql://localhost/db"),
        "{err}"
    );
}

#[tokio::test]
async fn sqlite_in_memory_opens() {
    let repo = open("sqlite::memory:")
        .await
        .expect("open in-memory SQLite");
    testkit::health::repo_answers_ping(repo).await;
}

#[tokio::test]
async fn sqlite_file_keeps_data_across_reopening() {
    let db = testkit::sqlite_test_database();
    let first = open(db.url()).await.expect("create");
    let user = first
        .find_or_create_user("+14155550100", chrono::Utc::now())
        .await
        .expect("user");
    drop(first);
    let again = open(db.url())
        .await
        .expect("reopen, migrations already applied");
    assert_eq!(again.user(user.id).await.expect("user"), Some(user));
}

#[tokio::test]
async fn postgres_database_is_dropped_with_its_guard() {
    let db = testkit::postgres_test_database().await;
    let url = db.url().to_owned();
    open(&url).await.expect("open").ping().await.expect("ping");
    drop(db);
    assert!(
        open(&url).await.is_err(),
        "the test database should be gone"
    );
}

#[tokio::test]
async fn malformed_url_is_reported_as_such() {
    let err = open("postgres://127.0.0.1:notaport/db")
        .await
        .err()
        .expect("bad port");
    assert!(matches!(err, Error::InvalidUrl(_)), "{err}");
}

#[tokio::test]
async fn unreachable_postgres_is_unavailable() {
    // Port 1 (tcpmux) has no PostgreSQL: the connection is refused at once.
    let err = open("postgres://postgres@127.0.0.1:1/postgres")
        .await
        .err()
        .expect("refused");
    assert!(err.is_unavailable(), "{err}");
    assert!(
        err.to_string().contains("refused"),
        "the cause is reported: {err}"
    );
}
