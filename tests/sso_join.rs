//! Invitations and joining through the bridge, with a real SMTP server (aiosmtpd) and a
//! real OpenID provider (oidc-provider) on loopback: the invitation arrives with a
//! working link; joining through it, with and without SSO, makes the person Active; a
//! second use is refused; a replayed sign-in and a mismatched email are refused.

mod peers;

use keybridge::directory::{Actor, Precondition};
use keybridge::secrets::Secret;
use keybridge::sso::mail::{SmtpSecurity, SmtpSettings};
use keybridge::sso::policy::{PolicyMode, UnlockState};
use peers::{
    browser, form_field, join_link, sign_in_at_provider, OidcProvider, SmtpSink, SsoBridge,
    CLIENT_ID,
};
use reqwest::StatusCode;
use serde_json::json;

async fn with_mail(b: &SsoBridge, smtp: &SmtpSink) {
    b.sso
        .configure_smtp(
            "test",
            SmtpSettings {
                relay: "127.0.0.1".into(),
                port: smtp.port,
                security: SmtpSecurity::None,
                username: None,
                from: "Keybridge <it@example.com>".into(),
            },
            None,
        )
        .await
        .expect("smtp settings");
}

async fn with_sso(b: &SsoBridge, p: &OidcProvider, group: &str) {
    b.sso
        .configure("test", &p.well_known, Some(&Secret::new(CLIENT_ID)), None)
        .await
        .expect("configure");
    b.sso
        .set_policy_mode("test", PolicyMode::SelectedGroups, None)
        .await
        .expect("policy");
    b.sso
        .select_group("test", group, Some(5))
        .await
        .expect("select");
}

/// Opens a join page, submits its form, and returns the response to the POST.
async fn submit_join(br: &reqwest::Client, link: &str) -> reqwest::Response {
    let page = br.get(link).send().await.expect("GET join");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("page");
    let csrf = form_field(&html, "csrf");
    let action = form_field(&html, "action");
    br.post(link)
        .form(&[("csrf", csrf.as_str()), ("action", action.as_str())])
        .send()
        .await
        .expect("POST join")
}

/// Joins through the identity provider as `login`; returns the bridge's last answer.
async fn join_with_sso(
    br: &reqwest::Client,
    link: &str,
    login: &str,
) -> (StatusCode, String, String) {
    let started = submit_join(br, link).await;
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let auth = started.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let back = sign_in_at_provider(br, &auth, login).await;
    assert!(back.contains("/sso/oidc/redirect/?"), "{back}");
    let r = br.get(&back).send().await.expect("redirect");
    let status = r.status();
    (status, r.text().await.expect("page"), back)
}

#[tokio::test]
async fn an_invitation_mail_arrives_and_joining_without_sso_makes_the_person_active_once() {
    let smtp = SmtpSink::start();
    let b = SsoBridge::start().await;
    with_mail(&b, &smtp).await;
    let id = b.create_user("bob@example.com").await;
    assert_eq!(
        b.sso
            .deliver_due_invitations("test")
            .await
            .expect("deliver"),
        1
    );
    // Delivered once only.
    assert_eq!(
        b.sso
            .deliver_due_invitations("test")
            .await
            .expect("deliver"),
        0
    );
    let mail = smtp.messages();
    assert_eq!(mail.len(), 1);
    assert!(
        mail[0].starts_with("X-Rcpt-To: bob@example.com"),
        "{}",
        mail[0]
    );
    assert!(mail[0].contains("accept the invitation"), "{}", mail[0]);
    let link = join_link(&mail[0]);
    assert!(link.starts_with(&format!("{}/join/", b.origin)), "{link}");

    let br = browser();
    let r = submit_join(&br, &link).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.expect("page").contains("You have joined"));
    assert_eq!(b.state_of(&id).await, "active");

    let again = br.get(&link).send().await.expect("GET again");
    assert_eq!(again.status(), StatusCode::GONE);
    assert!(again.text().await.expect("page").contains("already used"));
    let events = b.events().await;
    assert!(
        events.contains(&("user_join".into(), "success".into())),
        "{events:?}"
    );
    assert!(events.contains(&("user_invitation_mailed".into(), "success".into())));
    b.stop().await;
}

#[tokio::test]
async fn joining_with_sso_through_the_mailed_link_makes_the_person_active_and_refuses_replays() {
    let smtp = SmtpSink::start();
    let p = OidcProvider::start("none");
    let b = SsoBridge::start().await;
    with_mail(&b, &smtp).await;
    let id = b.create_user("alice@example.com").await;
    b.create_group("Engineering", &[&id]).await;
    with_sso(&b, &p, "Engineering").await;
    assert_eq!(
        b.sso
            .person_status("alice@example.com")
            .await
            .expect("status")
            .unlock,
        UnlockState::JoinsWithSso
    );

    assert_eq!(
        b.sso
            .deliver_due_invitations("test")
            .await
            .expect("deliver"),
        1
    );
    let mail = smtp.messages();
    assert!(
        mail[0].contains("sign in with your identity provider"),
        "{}",
        mail[0]
    );
    let link = join_link(&mail[0]);

    let br = browser();
    let (status, page, back) = join_with_sso(&br, &link, "alice@example.com").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("unlock with single sign-on"), "{page}");
    assert_eq!(b.state_of(&id).await, "active");
    let st = b
        .sso
        .person_status("alice@example.com")
        .await
        .expect("status");
    assert_eq!(st.unlock, UnlockState::Switched);

    // The same response from the identity provider, replayed: refused.
    let replay = br.get(&back).send().await.expect("replay");
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert!(replay
        .text()
        .await
        .expect("page")
        .contains("does not belong to a sign-in that is waiting"));
    // The link, used a second time: refused.
    let again = br.get(&link).send().await.expect("GET again");
    assert_eq!(again.status(), StatusCode::GONE);
    let events = b.events().await;
    for name in [
        "sso_configured",
        "sso_policy_update",
        "user_invitation_mailed",
        "user_join",
    ] {
        assert!(
            events.contains(&(name.into(), "success".into())),
            "{name} missing: {events:?}"
        );
    }
    b.stop().await;
}

#[tokio::test]
async fn signing_in_as_someone_else_is_refused_and_leaves_the_person_invited() {
    let p = OidcProvider::start("none");
    let b = SsoBridge::start().await;
    let id = b.create_user("carol@example.com").await;
    b.create_group("Engineering", &[&id]).await;
    with_sso(&b, &p, "Engineering").await;
    let link = b
        .sso
        .invite_link("test", "carol@example.com")
        .await
        .expect("link");
    let (status, page, _) = join_with_sso(&browser(), link.expose(), "mallory@example.com").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        page.contains(
            "you signed in as mallory@example.com, but this invitation is for carol@example.com"
        ),
        "{page}"
    );
    assert_eq!(b.state_of(&id).await, "invited");
    b.stop().await;
}

#[tokio::test]
async fn an_active_person_in_an_sso_group_switches_before_the_deadline() {
    let p = OidcProvider::start("none");
    let b = SsoBridge::start().await;
    let id = b.create_user("dana@example.com").await;
    b.directory
        .confirm_person(&Actor::admin(), "dana@example.com", &b.base)
        .await
        .expect("confirm");
    b.create_group("Engineering", &[&id]).await;
    with_sso(&b, &p, "Engineering").await;
    assert!(matches!(
        b.sso
            .person_status("dana@example.com")
            .await
            .expect("status")
            .unlock,
        UnlockState::SwitchPending { .. }
    ));
    let link = b
        .sso
        .switch_link("test", "dana@example.com")
        .await
        .expect("link");
    let (status, page, _) = join_with_sso(&browser(), link.expose(), "dana@example.com").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(
        b.sso
            .person_status("dana@example.com")
            .await
            .expect("status")
            .unlock,
        UnlockState::Switched
    );
    assert!(b
        .events()
        .await
        .contains(&("sso_switched".into(), "success".into())));
    b.stop().await;
}

#[tokio::test]
async fn deprovisioning_an_invited_person_invalidates_the_link() {
    let b = SsoBridge::start().await;
    let id = b.create_user("erin@example.com").await;
    let link = b
        .sso
        .invite_link("test", "erin@example.com")
        .await
        .expect("link");
    b.directory
        .replace_user(
            &Actor::admin(),
            &id,
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "erin@example.com", "active": false}),
            Precondition::default(),
            &b.base,
        )
        .await
        .expect("deprovision");
    let r = browser().get(link.expose()).send().await.expect("GET");
    assert_eq!(r.status(), StatusCode::GONE);
    assert!(r.text().await.expect("page").contains("withdrawn"));
    b.stop().await;
}

#[tokio::test]
async fn a_new_link_replaces_the_old_one_and_a_form_without_its_cookie_is_refused() {
    let b = SsoBridge::start().await;
    b.create_user("finn@example.com").await;
    let old = b
        .sso
        .invite_link("test", "finn@example.com")
        .await
        .expect("link");
    let new = b
        .sso
        .invite_link("test", "finn@example.com")
        .await
        .expect("link");
    let r = browser().get(old.expose()).send().await.expect("GET old");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A cross-site form post carries no cookie: refused, and the link stays usable.
    let forged = reqwest::Client::new()
        .post(new.expose())
        .form(&[("csrf", "guess"), ("action", "accept")])
        .send()
        .await
        .expect("POST");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let r = submit_join(&browser(), new.expose()).await;
    assert_eq!(r.status(), StatusCode::OK);
    b.stop().await;
}
