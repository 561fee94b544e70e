//! `/healthz` and `/readyz` of the built binary on the embedded store and on a real OpenBao; also
//! proves the test harness (`support`) starts, reaches and stops both.

mod support;

use support::{Gateway, OpenBao, StoreKind};

async fn get_status(url: String) -> u16 {
    support::client().get(url).send().await.expect("request").status().as_u16()
}

#[tokio::test]
async fn healthz_and_readyz_answer_on_embedded_store() {
    let gateway = Gateway::spawn_on(StoreKind::Embedded, &[]);
    assert_eq!(get_status(format!("{}/healthz", gateway.base_url())).await, 200);
    assert_eq!(get_status(format!("{}/readyz", gateway.base_url())).await, 200);
}

#[tokio::test]
async fn healthz_and_readyz_answer_on_openbao() {
    let bao = OpenBao::start();
    let gateway = Gateway::spawn_on(StoreKind::Vault(&bao), &[]);
    assert_eq!(get_status(format!("{}/healthz", gateway.base_url())).await, 200);
    assert_eq!(get_status(format!("{}/readyz", gateway.base_url())).await, 200);
}

#[tokio::test]
async fn openbao_stop_refuses_connections_and_start_again_serves() {
    let mut bao = OpenBao::start();
    let health = format!("{}/v1/sys/health", bao.addr());
    assert_eq!(get_status(health.clone()).await, 200);
    bao.stop();
    assert!(support::client().get(&health).send().await.is_err(), "stopped server still answers");
    bao.start_again();
    assert_eq!(get_status(health).await, 200);
}
