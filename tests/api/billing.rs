//! Paid apps through real HTTP: a price must be confirmed to install, the first payment is
//! charged at install, a monthly subscription renews once per month (even when asked twice),
//! uninstalling ends it at the end of the paid month with no further charge, and the
//! organization's statement and the developer's payout (after the platform's 20 %) add up.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::catalog::{approve, manifest};
use crate::guests::component;
use crate::support::{Backend, Browser, TestServer};

pub(crate) fn priced(slug: &str, name: &str, pricing: &str) -> String {
    manifest("project-stats")
        .replace("slug = \"project-stats\"", &format!("slug = \"{slug}\""))
        .replace("name = \"Project statistics\"", &format!("name = \"{name}\""))
        .replace("[pricing]\nplan = \"free\"", pricing)
}

fn ms(text: &str) -> i64 {
    bazaar::platform::parse_time(text).unwrap()
}

fn billing() -> bazaar::billing::Billing {
    bazaar::billing::Billing {
        provider: Box::new(bazaar::billing::RecordingProvider::default()),
        platform_share_percent: 20,
    }
}

async fn install(server: &TestServer, key: &str, slug: &str, price: Option<Value>) -> (StatusCode, Value) {
    let mut body = json!({ "app": slug, "scopes": ["tasks:read", "storage"] });
    if let Some(price) = price {
        body["accept_price"] = price;
    }
    server.post(key, "/v1/installations", body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_app_is_charged_renewed_and_ended_and_each_side_sees_its_statement() {
    let server = TestServer::start(Backend::Sqlite).await;
    let dev = server.org("Stats Inc").await;
    let tenant = server.org("Acme").await;
    let reviewer = server.reviewer().await;
    let stats = component("project-stats");
    for (slug, name, pricing) in [
        (
            "monthly-stats",
            "Monthly stats",
            "[pricing]\nplan = \"monthly\"\nprice_cents = 900\ncurrency = \"EUR\"",
        ),
        (
            "stats-forever",
            "Stats forever",
            "[pricing]\nplan = \"one-time\"\nprice_cents = 4900\ncurrency = \"EUR\"",
        ),
    ] {
        let (_, submitted) = server
            .publish_draft(&dev.key, &priced(slug, name, pricing), "1.0.0", &stats, None)
            .await;
        approve(&reviewer, submitted["id"].as_str().unwrap()).await;
    }

    // No install without the price confirmed, exactly.
    let (status, refused) = install(&server, &tenant.key, "monthly-stats", None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains("costs 9.00 EUR a month"), "{message}");
    let cheaper = json!({ "price_cents": 100, "currency": "EUR" });
    let (status, _) = install(&server, &tenant.key, "monthly-stats", Some(cheaper)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, none) = server.get(&tenant.key, "/v1/billing/subscriptions").await;
    assert_eq!(none["data"], json!([]), "nothing started, nothing charged");

    // Confirmed: installed, the first month charged.
    let monthly = json!({ "price_cents": 900, "currency": "EUR" });
    let (status, installed) = install(&server, &tenant.key, "monthly-stats", Some(monthly)).await;
    assert_eq!(status, StatusCode::CREATED, "{installed}");
    let id = installed["id"].as_str().unwrap().to_owned();
    let (_, subs) = server.get(&tenant.key, "/v1/billing/subscriptions").await;
    let sub = &subs["data"][0];
    assert_eq!(
        (sub["plan"].as_str(), sub["state"].as_str()),
        (Some("monthly"), Some("active")),
        "{subs}"
    );
    let paid_until = ms(sub["paid_until"].as_str().unwrap());
    let started = ms(sub["started_at"].as_str().unwrap());
    assert!(paid_until - started >= 28 * 86_400_000 && paid_until - started <= 31 * 86_400_000);
    let this_month = &sub["started_at"].as_str().unwrap()[..7];
    let (_, statement) = server
        .get(&tenant.key, &format!("/v1/billing/statement?month={this_month}"))
        .await;
    assert_eq!(
        statement["totals"],
        json!([{ "currency": "EUR", "amount_cents": 900, "platform_fee_cents": 180, "developer_cents": 720 }]),
        "{statement}"
    );
    let (_, payout) = server
        .get(&dev.key, &format!("/v1/billing/payouts?month={this_month}"))
        .await;
    assert_eq!(payout["lines"][0]["developer_cents"], 720, "{payout}");
    let (_, theirs) = server
        .get(&tenant.key, &format!("/v1/billing/payouts?month={this_month}"))
        .await;
    assert_eq!(theirs["lines"], json!([]), "the tenant earns nothing from it");

    // The month is over: one renewal, even when two nodes ask.
    let ledger = billing();
    assert_eq!(
        ledger
            .renew_due(&server.store, paid_until + 1_000)
            .await
            .unwrap()
            .renewed,
        1
    );
    assert_eq!(
        ledger
            .renew_due(&server.store, paid_until + 2_000)
            .await
            .unwrap()
            .renewed,
        0
    );
    let next_month = &bazaar::platform::format_time(paid_until + 1_000)[..7];
    let (_, renewed) = server
        .get(&tenant.key, &format!("/v1/billing/statement?month={next_month}"))
        .await;
    assert_eq!(renewed["lines"].as_array().unwrap().len(), 1, "{renewed}");
    assert!(
        renewed["lines"][0]["description"]
            .as_str()
            .unwrap()
            .starts_with("Monthly stats, "),
        "{renewed}"
    );

    // Uninstalled: it runs to the end of the paid month, then ends, with no further charge.
    let (status, _) = server
        .call(
            &tenant.key,
            Method::DELETE,
            &format!("/v1/installations/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, subs) = server.get(&tenant.key, "/v1/billing/subscriptions").await;
    assert_eq!(subs["data"][0]["state"], "ending", "{subs}");
    let second_end = ms(subs["data"][0]["paid_until"].as_str().unwrap());
    assert_eq!(
        ledger
            .renew_due(&server.store, second_end + 1_000)
            .await
            .unwrap()
            .renewed,
        0
    );
    let (_, subs) = server.get(&tenant.key, "/v1/billing/subscriptions").await;
    assert_eq!(subs["data"][0]["state"], "ended");

    // A one-time purchase: charged once, ended at uninstall.
    let once = json!({ "price_cents": 4900, "currency": "EUR" });
    let (status, bought) = install(&server, &tenant.key, "stats-forever", Some(once)).await;
    assert_eq!(status, StatusCode::CREATED, "{bought}");
    let (_, statement) = server
        .get(&tenant.key, &format!("/v1/billing/statement?month={this_month}"))
        .await;
    assert_eq!(statement["totals"][0]["amount_cents"], 900 + 4900, "{statement}");

    // The pages: the price to agree to, the tenant's statement, the developer's payouts.
    let admin = Browser::sign_in(&server, &tenant.owner_email, &tenant.password)
        .await
        .unwrap();
    let (_, page) = admin.page("/marketplace/monthly-stats/install").await;
    assert!(page.contains("I agree to pay 9.00 EUR a month"), "{page}");
    assert!(
        page.contains("name=\"accept_price.price_cents\" value=\"900\""),
        "{page}"
    );
    let (_, page) = admin.page("/installed").await;
    assert!(
        page.contains("Paid apps") && page.contains("Stats forever, one-time purchase"),
        "{page}"
    );
    let developer = Browser::sign_in(&server, &dev.owner_email, &dev.password)
        .await
        .unwrap();
    let (_, portal) = developer.page("/developer").await;
    assert!(
        portal.contains("Payouts for") && portal.contains("46.40 EUR"),
        "{portal}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_apps_subscription_ends_with_the_paid_month() {
    let server = TestServer::start(Backend::Sqlite).await;
    let dev = server.org("Stats Inc").await;
    let tenant = server.org("Acme").await;
    let reviewer = server.reviewer().await;
    let (app_id, submitted) = server
        .publish_draft(
            &dev.key,
            &priced(
                "monthly-stats",
                "Monthly stats",
                "[pricing]\nplan = \"monthly\"\nprice_cents = 900\ncurrency = \"EUR\"",
            ),
            "1.0.0",
            &component("project-stats"),
            None,
        )
        .await;
    approve(&reviewer, submitted["id"].as_str().unwrap()).await;
    let (status, _) = install(
        &server,
        &tenant.key,
        "monthly-stats",
        Some(json!({ "price_cents": 900, "currency": "EUR" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = reviewer
        .send(
            Method::POST,
            &format!("/v1/review/apps/{app_id}/suspend"),
            Some(json!({ "reason": "Sends data where it should not" })),
            true,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, subs) = server.get(&tenant.key, "/v1/billing/subscriptions").await;
    let paid_until = ms(subs["data"][0]["paid_until"].as_str().unwrap());
    assert_eq!(
        billing()
            .renew_due(&server.store, paid_until + 1_000)
            .await
            .unwrap()
            .renewed,
        0,
        "no charge for a suspended app"
    );
    let (_, subs) = server.get(&tenant.key, "/v1/billing/subscriptions").await;
    assert_eq!(subs["data"][0]["state"], "ended", "{subs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_that_changes_the_price_waits_for_the_tenants_agreement() {
    let server = TestServer::start(Backend::Sqlite).await;
    let dev = server.org("Stats Inc").await;
    let tenant = server.org("Acme").await;
    let reviewer = server.reviewer().await;
    let stats = component("project-stats");
    let pricing = |plan: &str| match plan {
        "free" => "[pricing]\nplan = \"free\"".to_owned(),
        cents => format!("[pricing]\nplan = \"monthly\"\nprice_cents = {cents}\ncurrency = \"EUR\""),
    };
    let publish = |version: &'static str, plan: &'static str, app: Option<String>| {
        let manifest = priced("stats-plus", "Stats plus", &pricing(plan));
        let (server, dev, reviewer, stats) = (&server, &dev, &reviewer, &stats);
        async move {
            let (app_id, submitted) = server
                .publish_draft(&dev.key, &manifest, version, stats, app.as_deref())
                .await;
            approve(reviewer, submitted["id"].as_str().unwrap()).await;
            app_id
        }
    };
    let app_id = publish("1.0.0", "free", None).await;
    let (status, installed) = install(&server, &tenant.key, "stats-plus", None).await;
    assert_eq!(status, StatusCode::CREATED, "{installed}");
    let id = installed["id"].as_str().unwrap().to_owned();
    let upgrade = format!("/v1/installations/{id}/upgrade");

    // 1.1.0 costs 9.00 EUR a month: the upgrade waits for the agreement.
    publish("1.1.0", "900", Some(app_id.clone())).await;
    let (status, waiting) = server.post(&tenant.key, &upgrade, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{waiting}");
    assert_eq!(waiting["version"], "1.0.0");
    assert_eq!(
        waiting["pending_upgrade"]["new_price"],
        json!({ "price_cents": 900, "currency": "EUR" })
    );
    let (status, _) = server
        .post(
            &tenant.key,
            &upgrade,
            json!({ "accept_price": { "price_cents": 100, "currency": "EUR" } }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let admin = Browser::sign_in(&server, &tenant.owner_email, &tenant.password)
        .await
        .unwrap();
    let (_, page) = admin.page(&format!("/installed/{id}")).await;
    assert!(
        page.contains("It costs 9.00 EUR a month") && page.contains("I agree to pay 9.00 EUR a month"),
        "{page}"
    );
    let (status, upgraded) = server
        .post(
            &tenant.key,
            &upgrade,
            json!({ "accept_price": { "price_cents": 900, "currency": "EUR" } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{upgraded}");
    assert_eq!(upgraded["version"], "1.1.0");
    let (_, subs) = server.get(&tenant.key, "/v1/billing/subscriptions").await;
    assert_eq!(
        (
            subs["data"][0]["state"].as_str(),
            subs["data"][0]["price_cents"].as_i64()
        ),
        (Some("active"), Some(900)),
        "{subs}"
    );
    let month = &subs["data"][0]["started_at"].as_str().unwrap()[..7];
    let statement = format!("/v1/billing/statement?month={month}");
    let (_, paid) = server.get(&tenant.key, &statement).await;
    assert_eq!(paid["totals"][0]["amount_cents"], 900, "{paid}");

    // 1.2.0 costs 12.00: agreed, it applies from the next renewal (nothing charged now).
    publish("1.2.0", "1200", Some(app_id.clone())).await;
    let (_, waiting) = server.post(&tenant.key, &upgrade, json!({})).await;
    assert_eq!(waiting["version"], "1.1.0", "{waiting}");
    server
        .post(
            &tenant.key,
            &upgrade,
            json!({ "accept_price": { "price_cents": 1200, "currency": "EUR" } }),
        )
        .await;
    let (_, subs) = server.get(&tenant.key, "/v1/billing/subscriptions").await;
    assert_eq!(subs["data"].as_array().unwrap().len(), 1);
    assert_eq!(subs["data"][0]["price_cents"], 1200);
    let (_, paid) = server.get(&tenant.key, &statement).await;
    assert_eq!(paid["totals"][0]["amount_cents"], 900, "nothing more now: {paid}");

    // 2.0.0 is free again: it applies at once, and the subscription ends with the paid month.
    publish("2.0.0", "free", Some(app_id)).await;
    let (_, upgraded) = server.post(&tenant.key, &upgrade, json!({})).await;
    assert_eq!(upgraded["version"], "2.0.0", "{upgraded}");
    let (_, subs) = server.get(&tenant.key, "/v1/billing/subscriptions").await;
    assert_eq!(subs["data"][0]["state"], "ending", "{subs}");
}

/// Declines every charge.
struct Declining;

impl bazaar::billing::PaymentProvider for Declining {
    fn charge<'a>(
        &'a self,
        _: &'a bazaar::billing::ChargeRequest,
    ) -> bazaar::billing::provider::Charging<'a> {
        Box::pin(async { Err(bazaar::billing::PaymentError("card declined".into())) })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declined_renewals_are_retried_daily_and_end_unpaid_after_three() {
    let server = TestServer::start(Backend::Sqlite).await;
    let dev = server.org("Stats Inc").await;
    let tenant = server.org("Acme").await;
    let reviewer = server.reviewer().await;
    let (_, submitted) = server
        .publish_draft(
            &dev.key,
            &priced(
                "monthly-stats",
                "Monthly stats",
                "[pricing]\nplan = \"monthly\"\nprice_cents = 900\ncurrency = \"EUR\"",
            ),
            "1.0.0",
            &component("project-stats"),
            None,
        )
        .await;
    approve(&reviewer, submitted["id"].as_str().unwrap()).await;
    install(
        &server,
        &tenant.key,
        "monthly-stats",
        Some(json!({ "price_cents": 900, "currency": "EUR" })),
    )
    .await;
    let (_, subs) = server.get(&tenant.key, "/v1/billing/subscriptions").await;
    let paid_until = subs["data"][0]["paid_until"].as_str().unwrap().to_owned();
    let declining = bazaar::billing::Billing {
        provider: Box::new(Declining),
        platform_share_percent: 20,
    };
    let due = ms(&paid_until) + 1_000;
    let day = 24 * 3_600_000;
    let first = declining.renew_due(&server.store, due).await.unwrap();
    assert_eq!((first.renewed, first.lapsed.len()), (0, 0));
    let (_, subs) = server.get(&tenant.key, "/v1/billing/subscriptions").await;
    assert_eq!(
        subs["data"][0]["paid_until"],
        paid_until.as_str(),
        "the unpaid month was not given: {subs}"
    );
    assert_eq!(subs["data"][0]["state"], "active");
    // Tried again a day later, not every minute; paid then, all is well again.
    assert_eq!(
        billing()
            .renew_due(&server.store, due + 60_000)
            .await
            .unwrap()
            .renewed,
        0,
        "not before a day"
    );
    assert_eq!(
        billing()
            .renew_due(&server.store, due + day)
            .await
            .unwrap()
            .renewed,
        1,
        "tried again, and paid"
    );

    // Three declines in a row, a day apart: the subscription ends unpaid and the installation
    // is paused (the round each node runs every minute).
    let (_, subs) = server.get(&tenant.key, "/v1/billing/subscriptions").await;
    let next_due = ms(subs["data"][0]["paid_until"].as_str().unwrap()) + 1_000;
    for n in 0..3 {
        bazaar::server::collect_renewals(&declining, &server.store, next_due + n * day).await;
    }
    let (_, subs) = server.get(&tenant.key, "/v1/billing/subscriptions").await;
    assert_eq!(subs["data"][0]["state"], "ended", "{subs}");
    assert!(
        subs["data"][0]["ended_reason"]
            .as_str()
            .unwrap()
            .contains("unpaid"),
        "{subs}"
    );
    let id = subs["data"][0]["installation_id"].as_str().unwrap();
    let (_, installation) = server.get(&tenant.key, &format!("/v1/installations/{id}")).await;
    assert_eq!(installation["status"], "paused", "{installation}");

    // A declined first payment leaves no subscription behind.
    let other = server.org("Globex").await;
    let pricing = bazaar::catalog::manifest::Pricing::Monthly {
        price_cents: 900,
        currency: "EUR".into(),
    };
    let app = bazaar::catalog::apps::App {
        id: "app_x".into(),
        slug: "monthly-stats".into(),
        kind: bazaar::catalog::apps::AppKind::Plugin,
        owner_org_id: dev.id.clone(),
        name: "Monthly stats".into(),
        description: String::new(),
        category: "analytics".into(),
        status: "active".into(),
        suspended_reason: None,
        published_version_id: None,
        install_count: 0,
        created_at: String::new(),
    };
    let declined = declining
        .start(&server.store, &other.id, "ins_x", &app, &pricing)
        .await;
    assert!(declined.unwrap_err().to_string().contains("declined"));
    let (_, none) = server.get(&other.key, "/v1/billing/subscriptions").await;
    assert_eq!(none["data"], json!([]));
}
