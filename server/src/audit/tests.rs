//! The trail over the memory store: numbering, pages, `since`, cursors, gaps, failures.

use std::sync::Arc;

use super::*;
use crate::mappings::fakes::TestStore;

fn change(account: Option<&str>, action: &'static str, name: &str) -> Change {
    Change {
        account: account.map(str::to_owned),
        actor: Actor { scheme: "bearer".to_owned(), subject: "tester".to_owned() },
        action,
        resource: Resource { kind: "certificate".to_owned(), id: None, name: Some(name.to_owned()) },
        request_id: format!("req-{name}"),
    }
}

fn names(page: &Page) -> Vec<String> {
    page.records.iter().map(|r| r.resource.name.clone().unwrap_or_default()).collect()
}

#[tokio::test]
async fn pages_run_newest_first_per_account_and_across_accounts() {
    let log = AuditLog::new(Arc::new(TestStore::default()));
    for n in 0..5 {
        log.record(change(Some("a"), "certificate.create", &format!("a{n}"))).await.unwrap();
        log.record(change(Some("b"), "certificate.create", &format!("b{n}"))).await.unwrap();
    }
    log.record(change(None, "token.issue", "admin-only")).await.unwrap();
    let first = log.page(Trail::Account("a"), None, 2, None).await.unwrap();
    assert_eq!(names(&first), ["a4", "a3"]);
    let second = log.page(Trail::Account("a"), None, 2, first.next_cursor.as_deref()).await.unwrap();
    assert_eq!(names(&second), ["a2", "a1"]);
    let third = log.page(Trail::Account("a"), None, 2, second.next_cursor.as_deref()).await.unwrap();
    assert_eq!(names(&third), ["a0"]);
    assert!(third.next_cursor.is_none());
    let all = log.page(Trail::All, None, 100, None).await.unwrap();
    assert_eq!(all.records.len(), 11);
    assert_eq!(names(&all)[..3], ["admin-only", "b4", "a4"]);
    assert!(all.records[0].account.is_none());
    assert_eq!(all.records[1].request_id, "req-b4");
}

#[tokio::test]
async fn since_stops_at_older_records() {
    let log = AuditLog::new(Arc::new(TestStore::default()));
    log.record(change(Some("a"), "certificate.create", "old")).await.unwrap();
    // Records carry millisecond instants; wait for the next millisecond, a deadline not a race.
    let since = clock::now_unix_millis() + 5;
    while clock::now_unix_millis() < since {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    log.record(change(Some("a"), "certificate.create", "new")).await.unwrap();
    let page = log.page(Trail::Account("a"), Some(since), 10, None).await.unwrap();
    assert_eq!(names(&page), ["new"]);
    assert!(page.next_cursor.is_none());
}

#[tokio::test]
async fn withdrawn_records_leave_gaps_readers_skip_and_completion_adds_the_id() {
    let log = AuditLog::new(Arc::new(TestStore::default()));
    log.record(change(Some("a"), "certificate.create", "kept")).await.unwrap();
    let gone = log.record(change(Some("a"), "certificate.create", "gone")).await.unwrap();
    let mut made = log.record(change(Some("a"), "certificate.create", "made")).await.unwrap();
    log.withdraw(gone).await;
    log.complete(&mut made, "42".to_owned()).await;
    let page = log.page(Trail::Account("a"), None, 10, None).await.unwrap();
    assert_eq!(names(&page), ["made", "kept"]);
    assert_eq!(page.records[0].resource.id.as_deref(), Some("42"));
    let all = log.page(Trail::All, None, 10, None).await.unwrap();
    assert_eq!(names(&all), ["made", "kept"]);
    assert_eq!(all.records[0].resource.id.as_deref(), Some("42"));
}

#[tokio::test]
async fn a_stale_head_hint_is_probed_past() {
    let store = Arc::new(TestStore::default());
    let log = AuditLog::new(store.clone());
    for n in 0..3 {
        log.record(change(Some("a"), "certificate.create", &format!("a{n}"))).await.unwrap();
    }
    store.write("audit/heads/all", &json!({ "last": 1 }), Expect::Any).await.unwrap();
    log.record(change(Some("a"), "certificate.create", "a3")).await.unwrap();
    let all = log.page(Trail::All, None, 10, None).await.unwrap();
    assert_eq!(names(&all), ["a3", "a2", "a1", "a0"]);
}

#[tokio::test]
async fn a_failed_write_records_nothing_and_bad_cursors_are_refused() {
    let store = Arc::new(TestStore::default());
    let log = AuditLog::new(store.clone());
    // The account trail is written, the admin trail refuses: the half is removed again.
    *store.fail_writes_under.lock().unwrap() = Some("audit/all/".to_owned());
    let error = log.record(change(Some("a"), "certificate.create", "x")).await.unwrap_err();
    assert!(matches!(error, AuditError::Unavailable(_)));
    *store.fail_writes_under.lock().unwrap() = None;
    assert!(log.page(Trail::Account("a"), None, 10, None).await.unwrap().records.is_empty());
    assert!(log.page(Trail::All, None, 10, None).await.unwrap().records.is_empty());
    for cursor in ["", "!!", "YTE6eA", &URL_SAFE_NO_PAD.encode("b1:3")] {
        assert_eq!(log.page(Trail::All, None, 10, Some(cursor)).await.unwrap_err(), AuditError::BadCursor, "{cursor}");
    }
}
