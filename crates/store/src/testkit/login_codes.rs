//! Suite cases for [`LoginCodeRepo`](crate::LoginCodeRepo): replacement, expiry, tries,
//! single use under concurrency, and the send log behind rate limits.

use super::{at, HOUR, MINUTE};
use crate::model::{CodeCheck, NewLoginCode};
use crate::Repo;
use std::sync::Arc;

const PHONE: &str = "+14155550100";
const OTHER_PHONE: &str = "+14155550199";
const RIGHT: &[u8] = b"hash-of-the-right-code";
const WRONG: &[u8] = b"hash-of-a-wrong-code";
const MAX_TRIES: u32 = 5;
/// How long the codes of these cases live.
const TTL: i64 = 5 * MINUTE;

/// A code for `phone` with hash `code_hash`, sent from `ip` at `at(sent)`, living [`TTL`].
fn code(phone: &str, code_hash: &[u8], sent: i64, ip: &str) -> NewLoginCode {
    NewLoginCode {
        phone: phone.into(),
        code_hash: code_hash.into(),
        sent_at: at(sent),
        expires_at: at(sent + TTL),
        ip: ip.into(),
    }
}

async fn put(repo: &Arc<dyn Repo>, code: NewLoginCode) {
    repo.put_login_code(&code).await.expect("put_login_code");
}

async fn check(repo: &Arc<dyn Repo>, phone: &str, hash: &[u8], now: i64) -> CodeCheck {
    repo.check_login_code(phone, hash, at(now), MAX_TRIES)
        .await
        .expect("check_login_code")
}

/// The right code is accepted once; the consumed code is then gone.
pub async fn right_code_is_accepted_once(repo: Arc<dyn Repo>) {
    put(&repo, code(PHONE, RIGHT, 0, "192.0.2.1")).await;
    assert_eq!(check(&repo, PHONE, RIGHT, 1000).await, CodeCheck::Accepted);
    assert_eq!(check(&repo, PHONE, RIGHT, 1001).await, CodeCheck::Missing);
    assert_eq!(check(&repo, PHONE, WRONG, 1002).await, CodeCheck::Missing);
}

/// A number that was never sent a code has none, and one number's code is not another's.
pub async fn codes_belong_to_their_number(repo: Arc<dyn Repo>) {
    assert_eq!(check(&repo, PHONE, RIGHT, 0).await, CodeCheck::Missing);
    put(&repo, code(PHONE, RIGHT, 0, "192.0.2.1")).await;
    assert_eq!(
        check(&repo, OTHER_PHONE, RIGHT, 1).await,
        CodeCheck::Missing
    );
    assert_eq!(check(&repo, PHONE, RIGHT, 2).await, CodeCheck::Accepted);
}

/// Each wrong code counts one try; the right code still works below the limit.
pub async fn wrong_codes_count_tries(repo: Arc<dyn Repo>) {
    put(&repo, code(PHONE, RIGHT, 0, "192.0.2.1")).await;
    for attempts in 1..MAX_TRIES {
        assert_eq!(
            check(&repo, PHONE, WRONG, i64::from(attempts)).await,
            CodeCheck::Wrong { attempts }
        );
    }
    assert_eq!(check(&repo, PHONE, RIGHT, 10).await, CodeCheck::Accepted);
}

/// After the maximum of wrong tries even the right code is refused, and further tries
/// are not counted.
pub async fn too_many_wrong_tries_kill_the_code(repo: Arc<dyn Repo>) {
    put(&repo, code(PHONE, RIGHT, 0, "192.0.2.1")).await;
    for attempts in 1..=MAX_TRIES {
        assert_eq!(
            check(&repo, PHONE, WRONG, i64::from(attempts)).await,
            CodeCheck::Wrong { attempts }
        );
    }
    assert_eq!(
        check(&repo, PHONE, RIGHT, 10).await,
        CodeCheck::TooManyAttempts
    );
    assert_eq!(
        check(&repo, PHONE, WRONG, 11).await,
        CodeCheck::TooManyAttempts
    );
    // Had the refused tries been counted, a higher limit would now show more than 5.
    let looser = repo
        .check_login_code(PHONE, WRONG, at(12), MAX_TRIES + 1)
        .await
        .expect("check_login_code");
    assert_eq!(
        looser,
        CodeCheck::Wrong {
            attempts: MAX_TRIES + 1
        }
    );
}

/// A new code replaces the old one (which stops working) and starts with no tries.
pub async fn new_code_replaces_old_and_resets_tries(repo: Arc<dyn Repo>) {
    put(&repo, code(PHONE, RIGHT, 0, "192.0.2.1")).await;
    for t in 1..MAX_TRIES {
        check(&repo, PHONE, WRONG, i64::from(t)).await;
    }
    put(&repo, code(PHONE, WRONG, MINUTE, "192.0.2.1")).await;
    assert_eq!(
        check(&repo, PHONE, RIGHT, MINUTE + 1).await,
        CodeCheck::Wrong { attempts: 1 },
        "the replaced code must be refused and the try count restarted"
    );
    assert_eq!(
        check(&repo, PHONE, WRONG, MINUTE + 2).await,
        CodeCheck::Accepted
    );
}

/// A code works until one millisecond before `expires_at` and not at `expires_at`; tries
/// at or after expiry are not counted.
pub async fn code_expires_at_its_expiry_instant(repo: Arc<dyn Repo>) {
    put(&repo, code(PHONE, RIGHT, 0, "192.0.2.1")).await;
    assert_eq!(
        check(&repo, PHONE, RIGHT, TTL - 1).await,
        CodeCheck::Accepted
    );
    put(&repo, code(PHONE, RIGHT, 0, "192.0.2.1")).await;
    assert_eq!(check(&repo, PHONE, RIGHT, TTL).await, CodeCheck::Missing);
    assert_eq!(check(&repo, PHONE, WRONG, TTL).await, CodeCheck::Missing);
    assert_eq!(
        check(&repo, PHONE, RIGHT, TTL + HOUR).await,
        CodeCheck::Missing
    );
    // The late tries changed nothing: before expiry the code is still whole.
    assert_eq!(
        check(&repo, PHONE, RIGHT, TTL - 1).await,
        CodeCheck::Accepted
    );
}

/// Many concurrent checks of the right code: exactly one is accepted.
pub async fn concurrent_checks_accept_once(repo: Arc<dyn Repo>) {
    concurrent_checks_accept_once_across(&[repo]).await;
}

/// Concurrent checks of the right code made through several repositories open on one
/// database (server replicas, or a server and an admin command): exactly one is accepted.
///
/// Panics if `replicas` is empty.
pub async fn concurrent_checks_accept_once_across(replicas: &[Arc<dyn Repo>]) {
    let first = replicas.first().expect("at least one repository");
    put(first, code(PHONE, RIGHT, 0, "192.0.2.1")).await;
    let outcomes = concurrently(replicas, 8, RIGHT).await;
    let accepted = outcomes
        .iter()
        .filter(|o| **o == CodeCheck::Accepted)
        .count();
    assert_eq!(accepted, 1, "one code, several sign-ins: {outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, CodeCheck::Accepted | CodeCheck::Missing)),
        "{outcomes:?}"
    );
}

/// Many concurrent wrong tries: exactly the maximum is counted, the rest refused.
pub async fn concurrent_wrong_tries_stop_at_the_limit(repo: Arc<dyn Repo>) {
    put(&repo, code(PHONE, RIGHT, 0, "192.0.2.1")).await;
    let outcomes = concurrently(&[repo], 12, WRONG).await;
    let mut counted: Vec<u32> = outcomes
        .iter()
        .filter_map(|o| match o {
            CodeCheck::Wrong { attempts } => Some(*attempts),
            _ => None,
        })
        .collect();
    counted.sort_unstable();
    assert_eq!(counted, (1..=MAX_TRIES).collect::<Vec<_>>(), "{outcomes:?}");
    let refused = outcomes
        .iter()
        .filter(|o| **o == CodeCheck::TooManyAttempts)
        .count();
    assert_eq!(refused, 12 - counted.len(), "{outcomes:?}");
}

/// `n` checks of `hash` against [`PHONE`]'s code, started together on separate tasks,
/// spread over `replicas` in turn.
async fn concurrently(replicas: &[Arc<dyn Repo>], n: usize, hash: &'static [u8]) -> Vec<CodeCheck> {
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let tasks: Vec<_> = replicas
        .iter()
        .cycle()
        .take(n)
        .map(|repo| {
            let (repo, barrier) = (Arc::clone(repo), Arc::clone(&barrier));
            tokio::spawn(async move {
                barrier.wait().await;
                repo.check_login_code(PHONE, hash, at(1000), MAX_TRIES)
                    .await
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("task").expect("check_login_code"));
    }
    outcomes
}

/// Sends are counted per phone and per address from `since` (inclusive), whatever became
/// of the codes, and the oldest and latest sends are reported.
pub async fn sends_are_counted_per_phone_and_address(repo: Arc<dyn Repo>) {
    let (ip1, ip2) = ("192.0.2.1", "2001:db8::1");
    put(&repo, code(PHONE, RIGHT, 0, ip1)).await;
    put(&repo, code(PHONE, RIGHT, 10 * MINUTE, ip1)).await;
    put(&repo, code(PHONE, RIGHT, 20 * MINUTE, ip2)).await;
    put(&repo, code(OTHER_PHONE, RIGHT, 30 * MINUTE, ip1)).await;
    // Consuming a code does not erase its send.
    assert_eq!(
        check(&repo, PHONE, RIGHT, 21 * MINUTE).await,
        CodeCheck::Accepted
    );

    assert_eq!(
        repo.codes_sent_to_phone(PHONE, at(0)).await.expect("count"),
        3
    );
    assert_eq!(
        repo.codes_sent_to_phone(PHONE, at(10 * MINUTE))
            .await
            .expect("count"),
        2
    );
    assert_eq!(
        repo.codes_sent_to_phone(PHONE, at(10 * MINUTE + 1))
            .await
            .expect("count"),
        1
    );
    assert_eq!(
        repo.codes_sent_to_phone(OTHER_PHONE, at(0))
            .await
            .expect("count"),
        1
    );
    assert_eq!(
        repo.codes_sent_to_phone("+19995550000", at(0))
            .await
            .expect("count"),
        0
    );
    assert_eq!(repo.codes_sent_from_ip(ip1, at(0)).await.expect("count"), 3);
    assert_eq!(
        repo.codes_sent_from_ip(ip1, at(10 * MINUTE))
            .await
            .expect("count"),
        2
    );
    assert_eq!(repo.codes_sent_from_ip(ip2, at(0)).await.expect("count"), 1);
    assert_eq!(
        repo.codes_sent_from_ip(ip2, at(20 * MINUTE + 1))
            .await
            .expect("count"),
        0
    );

    let oldest_to = |since| repo.oldest_code_sent_to_phone(PHONE, at(since));
    assert_eq!(oldest_to(0).await.expect("oldest"), Some(at(0)));
    assert_eq!(oldest_to(1).await.expect("oldest"), Some(at(10 * MINUTE)));
    assert_eq!(oldest_to(HOUR).await.expect("oldest"), None);
    let oldest_from = |since| repo.oldest_code_sent_from_ip(ip1, at(since));
    assert_eq!(
        oldest_from(MINUTE).await.expect("oldest"),
        Some(at(10 * MINUTE))
    );
    assert_eq!(oldest_from(HOUR).await.expect("oldest"), None);

    assert_eq!(
        repo.last_code_sent_at(PHONE).await.expect("last"),
        Some(at(20 * MINUTE))
    );
    assert_eq!(
        repo.last_code_sent_at(OTHER_PHONE).await.expect("last"),
        Some(at(30 * MINUTE))
    );
    assert_eq!(
        repo.last_code_sent_at("+19995550000").await.expect("last"),
        None
    );
}

/// Pruning forgets sends logged before the cut and codes expired before it, nothing else.
pub async fn prune_forgets_old_sends_and_expired_codes(repo: Arc<dyn Repo>) {
    put(&repo, code(PHONE, RIGHT, 0, "192.0.2.1")).await;
    put(&repo, code(OTHER_PHONE, RIGHT, HOUR, "192.0.2.2")).await;
    repo.prune_login_codes(at(HOUR)).await.expect("prune");

    assert_eq!(
        repo.codes_sent_to_phone(PHONE, at(0)).await.expect("count"),
        0
    );
    assert_eq!(repo.last_code_sent_at(PHONE).await.expect("last"), None);
    assert_eq!(
        repo.codes_sent_from_ip("192.0.2.1", at(0))
            .await
            .expect("count"),
        0
    );
    // Asked as of before its expiry, the pruned code would have been accepted.
    assert_eq!(check(&repo, PHONE, RIGHT, 1).await, CodeCheck::Missing);

    assert_eq!(
        repo.codes_sent_to_phone(OTHER_PHONE, at(0))
            .await
            .expect("count"),
        1
    );
    assert_eq!(
        check(&repo, OTHER_PHONE, RIGHT, HOUR + 1).await,
        CodeCheck::Accepted
    );
}
