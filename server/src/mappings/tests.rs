//! Mapping service over the in-memory store (the end-to-end suite runs the same behaviour over
//! OpenBao and the embedded store through the real binary).

use serde_json::{json, Value};

use super::fakes::World;
use super::*;
use crate::certificates::CertificateStatus;
use crate::http::error::ApiError;

/// The answer the HTTP layer makes of a service error: these tests pin the codes callers see.
fn http(error: impl Into<ApiError>) -> ApiError {
    error.into()
}

fn world() -> (World, MappingService) {
    let world = World::new();
    world.certificates.add("acc", 11, CertificateStatus::Available);
    world.certificates.add("acc", 12, CertificateStatus::Available);
    world.certificates.add("other", 21, CertificateStatus::Available);
    let service = world.mappings();
    (world, service)
}

fn item(name: &str, service: &str, url: &str) -> Value {
    json!({"certificationId": 11, "serviceId": service, "url": url, "name": name, "enable": true,
           "siteId": "acc", "deleted": false})
}

#[tokio::test]
async fn create_then_get_and_list() {
    let (_, service) = world();
    let created = service
        .create("acc", &json!([item("one", "1", "HTTPS://Api.Brand.COM:443"), item("two", "WEBHOOKS", "https://a.com/x?q=1#f")]))
        .await
        .unwrap();
    assert_eq!(created.len(), 2);
    let one = &created[0];
    assert_eq!((one.service_id.as_str(), one.service_name.as_str()), ("1", "IDP"));
    assert_eq!(one.url, "https://api.brand.com/");
    assert_eq!((one.site_id.as_str(), one.revision, one.enable, one.deleted), ("acc", 1, true, false));
    assert!(one.id >= 1 && one.id <= MAX_ID);
    assert_eq!(created[1].url, "https://a.com/x?q=1");
    assert_eq!(service.get("acc", one.id).await.unwrap(), *one);
    let mut listed = service.list("acc").await.unwrap();
    listed.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(listed, {
        let mut c = created.clone();
        c.sort_by(|a, b| a.name.cmp(&b.name));
        c
    });
    assert!(service.list("other").await.unwrap().is_empty());
    let error = service.get("other", one.id).await.map_err(http).unwrap_err();
    assert_eq!((error.status.as_u16(), error.code.as_str()), (404, "mapping_not_found"));
}

#[tokio::test]
async fn a_batch_with_one_bad_item_writes_nothing() {
    let (_, service) = world();
    let bad_items = [
        (json!({"certificationId": 11, "serviceId": "1", "name": "b"}), 422, "invalid_mapping"),
        (json!({"certificationId": 11, "serviceId": "9", "url": "https://b.com", "name": "b"}), 422, "unknown_service"),
        (json!({"certificationId": 11, "serviceId": "1", "url": "ftp://b.com", "name": "b"}), 422, "invalid_url"),
        (json!({"certificationId": 99, "serviceId": "1", "url": "https://b.com", "name": "b"}), 422, "certificate_not_found"),
        // Another account's certificate is as unknown as a missing one.
        (json!({"certificationId": 21, "serviceId": "1", "url": "https://b.com", "name": "b"}), 422, "certificate_not_found"),
        (item("one", "0", "https://b.com"), 409, "duplicate_mapping_name"),
        (item("b", "IDP", "https://A.COM:443/"), 409, "duplicate_mapping_url"),
    ];
    for (bad, status, code) in bad_items {
        let error = service.create("acc", &json!([item("one", "1", "https://a.com"), bad])).await.map_err(http).unwrap_err();
        assert_eq!((error.status.as_u16(), error.code.as_str()), (status, code), "{}", error.message);
        assert_eq!(error.details.as_ref().and_then(|d| d.get("index")), Some(&json!(1)));
        assert!(service.list("acc").await.unwrap().is_empty(), "{code}: something was written");
    }
    for body in [json!([]), json!("x"), json!(7)] {
        assert_eq!(service.create("acc", &body).await.map_err(http).unwrap_err().code, "invalid_mapping");
    }
}

#[tokio::test]
async fn duplicates_against_stored_mappings() {
    let (_, service) = world();
    service.create("acc", &json!([item("one", "1", "https://a.com/p")])).await.unwrap();
    let same_name = service.create("acc", &json!([item("one", "2", "https://z.com")])).await.map_err(http).unwrap_err();
    assert_eq!((same_name.status.as_u16(), same_name.code.as_str()), (409, "duplicate_mapping_name"));
    // Same triple after normalisation: case of scheme and host, default port.
    let same_url = service.create("acc", &json!([item("two", "IDP", "HTTPS://A.com:443/p")])).await.map_err(http).unwrap_err();
    assert_eq!((same_url.status.as_u16(), same_url.code.as_str()), (409, "duplicate_mapping_url"));
    // The path is case sensitive, the query is part of the key, other services are separate,
    // and other accounts are separate.
    for (name, svc, url) in [("p", "1", "https://a.com/P"), ("q", "1", "https://a.com/p?x"), ("s", "2", "https://a.com/p")] {
        service.create("acc", &json!([item(name, svc, url)])).await.unwrap();
    }
    let other = json!([{"certificationId": 21, "serviceId": "1", "url": "https://a.com/p", "name": "one"}]);
    service.create("other", &other).await.unwrap();
}

#[tokio::test]
async fn racing_creates_have_exactly_one_winner() {
    let (_, service) = world();
    let service = &service;
    let same_name = (0..16).map(|i| async move {
        service.create("acc", &json!([item("race", "1", &format!("https://a.com/{i}"))])).await
    });
    let results = futures_util::future::join_all(same_name).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(results.iter().filter_map(|r| r.as_ref().err()).all(|e| http(e.clone()).code == "duplicate_mapping_name"));
    let same_url = (0..16).map(|i| async move {
        service.create("acc", &json!([item(&format!("u{i}"), "2", "https://race.com/")])).await
    });
    let results = futures_util::future::join_all(same_url).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert_eq!(service.list("acc").await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_race_lost_mid_batch_rolls_back_what_the_batch_wrote() {
    let (world, service) = world();
    // Another writer claims item 1's route between our checks and our writes.
    let key = keys::route("acc", 1, "https://b.com/");
    *world.store.race.lock().unwrap() = Some((key, json!({"id": 5, "claimedAt": crate::clock::now_unix()})));
    let error = service
        .create("acc", &json!([item("one", "1", "https://a.com"), item("two", "1", "https://b.com")]))
        .await
        .map_err(http).unwrap_err();
    assert_eq!((error.code.as_str(), error.details.unwrap()["index"].clone()), ("duplicate_mapping_url", json!(1)));
    assert!(service.list("acc").await.unwrap().is_empty());
    assert!(service.using_certificate("acc", 11).await.unwrap().is_empty());
    // Item 0's name and route are free again.
    service.create("acc", &json!([item("one", "1", "https://a.com")])).await.unwrap();
}

#[tokio::test]
async fn a_claim_left_by_a_crash_is_taken_over_after_the_grace_period() {
    let (world, service) = world();
    let store: &dyn Store = world.store.as_ref();
    let fresh = json!({"id": 77, "claimedAt": crate::clock::now_unix()});
    store.write(&keys::name("acc", "ghost"), &fresh, Expect::Absent).await.unwrap();
    let error = service.create("acc", &json!([item("ghost", "1", "https://a.com")])).await.map_err(http).unwrap_err();
    assert_eq!(error.code, "duplicate_mapping_name");
    let old = json!({"id": 77, "claimedAt": crate::clock::now_unix() - crate::store::claim::CLAIM_GRACE.as_secs() as i64 - 1});
    store.write(&keys::name("acc", "ghost"), &old, Expect::Any).await.unwrap();
    let created = service.create("acc", &json!([item("ghost", "1", "https://a.com")])).await.unwrap();
    assert_eq!(created[0].name, "ghost");
}

#[tokio::test]
async fn update_with_revisions() {
    let (_, service) = world();
    let m = service.create("acc", &json!([item("one", "1", "https://a.com")])).await.unwrap().remove(0);
    let stale = service.update("acc", m.id, &json!({"enable": false}), Some(m.revision + 1)).await.map_err(http).unwrap_err();
    assert_eq!((stale.status.as_u16(), stale.code.as_str()), (412, "stale_revision"));
    let updated = service.update("acc", m.id, &json!({"enable": false}), Some(m.revision)).await.unwrap();
    assert_eq!((updated.enable, updated.revision, updated.name.as_str()), (false, m.revision + 1, "one"));
    let again = service.update("acc", m.id, &json!({"enable": true}), Some(m.revision)).await.map_err(http).unwrap_err();
    assert_eq!(again.code, "stale_revision");
    // Without If-Match the update applies to whatever is current.
    let unconditional = service.update("acc", m.id, &json!({"url": "https://b.com/"}), None).await.unwrap();
    assert_eq!((unconditional.url.as_str(), unconditional.revision), ("https://b.com/", m.revision + 2));
    assert_eq!(service.get("acc", m.id).await.unwrap(), unconditional);
    // A client sends back the whole object it read, with one field changed.
    let mut whole = serde_json::to_value(&unconditional).unwrap();
    whole["serviceId"] = json!("2");
    let moved = service.update("acc", m.id, &whole, Some(unconditional.revision)).await.unwrap();
    assert_eq!((moved.service_id.as_str(), moved.service_name.as_str()), ("2", "WEBHOOKS"));
    let wrong_id = service.update("acc", m.id, &json!({"id": m.id + 1}), None).await.map_err(http).unwrap_err();
    assert_eq!(wrong_id.code, "invalid_mapping");
    let missing = service.update("acc", m.id + 1, &json!({}), None).await.map_err(http).unwrap_err();
    assert_eq!(missing.code, "mapping_not_found");
    let foreign = service.update("other", m.id, &json!({}), None).await.map_err(http).unwrap_err();
    assert_eq!(foreign.code, "mapping_not_found");
}

#[tokio::test]
async fn update_moves_uniqueness_keys() {
    let (_, service) = world();
    let created = service
        .create("acc", &json!([item("one", "1", "https://a.com"), item("two", "1", "https://b.com")]))
        .await
        .unwrap();
    let (one, two) = (&created[0], &created[1]);
    let taken = service.update("acc", two.id, &json!({"name": "one"}), None).await.map_err(http).unwrap_err();
    assert_eq!(taken.code, "duplicate_mapping_name");
    let taken = service.update("acc", two.id, &json!({"url": "https://A.com:443"}), None).await.map_err(http).unwrap_err();
    assert_eq!(taken.code, "duplicate_mapping_url");
    assert_eq!(service.get("acc", two.id).await.unwrap(), *two, "a refused update changed nothing");
    service.update("acc", one.id, &json!({"name": "uno", "url": "https://c.com", "serviceName": "IDP"}), None).await.unwrap();
    // The old name and route are free now; the new ones are taken.
    service.update("acc", two.id, &json!({"name": "one", "url": "https://a.com"}), None).await.unwrap();
    let error = service.create("acc", &json!([item("x", "1", "https://c.com")])).await.map_err(http).unwrap_err();
    assert_eq!(error.code, "duplicate_mapping_url");
    let error = service.update("acc", one.id, &json!({"certificationId": 21}), None).await.map_err(http).unwrap_err();
    assert_eq!(error.code, "certificate_not_found");
}

#[tokio::test]
async fn delete_frees_the_name_and_the_route() {
    let (_, service) = world();
    let m = service.create("acc", &json!([item("one", "1", "https://a.com")])).await.unwrap().remove(0);
    let stale = service.delete("acc", m.id, Some(m.revision + 1)).await.map_err(http).unwrap_err();
    assert_eq!((stale.status.as_u16(), stale.code.as_str()), (412, "stale_revision"));
    assert_eq!(service.delete("other", m.id, None).await.map_err(http).unwrap_err().code, "mapping_not_found");
    let deleted = service.delete("acc", m.id, Some(m.revision)).await.unwrap();
    assert!(deleted.deleted);
    assert_eq!(deleted.id, m.id);
    assert_eq!(service.get("acc", m.id).await.map_err(http).unwrap_err().code, "mapping_not_found");
    assert_eq!(service.delete("acc", m.id, None).await.map_err(http).unwrap_err().code, "mapping_not_found");
    service.create("acc", &json!([item("one", "1", "https://a.com")])).await.unwrap();
}

#[tokio::test]
async fn mappings_using_a_certificate_follow_changes() {
    let (_, service) = world();
    let created = service
        .create("acc", &json!([item("one", "1", "https://a.com"), item("two", "2", "https://a.com")]))
        .await
        .unwrap();
    let names = |refs: Vec<MappingRef>| refs.into_iter().map(|r| r.name).collect::<Vec<_>>();
    let mut users = names(service.using_certificate("acc", 11).await.unwrap());
    users.sort();
    assert_eq!(users, vec!["one", "two"]);
    service.update("acc", created[0].id, &json!({"certificationId": "12"}), None).await.unwrap();
    assert_eq!(names(service.using_certificate("acc", 11).await.unwrap()), vec!["two"]);
    assert_eq!(names(service.using_certificate("acc", 12).await.unwrap()), vec!["one"]);
    service.delete("acc", created[1].id, None).await.unwrap();
    assert!(service.using_certificate("acc", 11).await.unwrap().is_empty());
    assert!(service.using_certificate("other", 12).await.unwrap().is_empty());
}

#[tokio::test]
async fn store_down_is_503_everywhere() {
    let (world, service) = world();
    let m = service.create("acc", &json!([item("one", "1", "https://a.com")])).await.unwrap().remove(0);
    world.store.down.store(true, std::sync::atomic::Ordering::SeqCst);
    let errors = [
        service.create("acc", &json!([item("two", "1", "https://b.com")])).await.map_err(http).unwrap_err(),
        service.list("acc").await.map_err(http).unwrap_err(),
        service.get("acc", m.id).await.map_err(http).unwrap_err(),
        service.update("acc", m.id, &json!({}), None).await.map_err(http).unwrap_err(),
        service.delete("acc", m.id, None).await.map_err(http).unwrap_err(),
        service.using_certificate("acc", 11).await.map_err(http).unwrap_err(),
    ];
    for error in errors {
        assert_eq!((error.status.as_u16(), error.code.as_str()), (503, "store_unavailable"));
    }
}

/// A delete of the certificate that begins after the create's first look but before its record
/// is written: the create looks again once its record is written, rolls back and is refused
/// (it used to succeed next to the successful delete, leaving a mapping to a deleted certificate).
#[tokio::test]
async fn a_create_racing_the_certificate_delete_is_rolled_back() {
    let (world, service) = world();
    *world.certificates.deletes_begin_after.lock().unwrap() = Some(1);
    let error = service.create("acc", &json!([item("late", "1", "https://late.com/")])).await.map_err(http).unwrap_err();
    assert_eq!((error.status.as_u16(), error.code.as_str()), (422, "certificate_not_found"));
    assert!(service.list("acc").await.unwrap().is_empty());
    assert!(service.using_certificate("acc", 11).await.unwrap().is_empty());
    assert!(world.store.list(&keys::users_of_certificate("acc", 11)).await.unwrap().is_empty());
    // The name and the route were released: the same mapping to a live certificate is fine.
    *world.certificates.deletes_begin_after.lock().unwrap() = None;
    service.create("acc", &json!([item("late", "1", "https://late.com/")])).await.unwrap();
}

/// The same race for an update that points a mapping at a certificate being deleted: the update
/// is undone and the mapping keeps its certificate.
#[tokio::test]
async fn an_update_racing_the_certificate_delete_is_undone() {
    let (world, service) = world();
    let created = service.create("acc", &json!([item("m", "1", "https://m.com/")])).await.unwrap();
    let id = created[0].id;
    *world.certificates.deletes_begin_after.lock().unwrap() = Some(1);
    let error = service
        .update("acc", id, &json!({"certificationId": 12, "name": "renamed"}), None)
        .await
        .map_err(http).unwrap_err();
    assert_eq!((error.status.as_u16(), error.code.as_str()), (422, "certificate_not_found"));
    let now = service.get("acc", id).await.unwrap();
    assert_eq!((now.certification_id, now.name.as_str()), (11, "m"));
    assert!(service.using_certificate("acc", 12).await.unwrap().is_empty());
    assert!(world.store.list(&keys::users_of_certificate("acc", 12)).await.unwrap().is_empty());
    *world.certificates.deletes_begin_after.lock().unwrap() = None;
    service.create("acc", &json!([item("renamed", "1", "https://other.com/")])).await.unwrap();
}
