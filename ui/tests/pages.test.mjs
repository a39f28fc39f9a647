// One test per page of the desktop UI: what an admin sees and clicks, in a real
// headless Chromium against the built UI, with the Rust core stubbed at the IPC.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { start } from "./harness.mjs";

let ui;
before(async () => {
  ui = await start();
});
after(async () => {
  await ui?.close();
});
beforeEach(() => {
  ui.errors.length = 0;
});
const lastCall = async (cmd) => (await ui.calls()).filter((c) => c.cmd === cmd).at(-1);

test("Overview: start the bridge, copy the base URL, create, copy, rotate and revoke a token", async () => {
  const { page } = ui;
  await ui.open("overview");
  assert.equal(await page.getByTestId("bridge-state").textContent(), "stopped");
  await page.getByRole("button", { name: "Start bridge" }).click();
  await page.getByTestId("base-url").waitFor();
  assert.equal(await page.getByTestId("bridge-state").textContent(), "running");
  assert.equal(await page.getByTestId("base-url").textContent(), "https://scim.example.com:8443/scim/v2");
  await page.getByRole("button", { name: "Copy", exact: true }).first().click();
  assert.deepEqual((await lastCall("copy_text")).args, { text: "https://scim.example.com:8443/scim/v2" });

  // A name the core refuses: the message says what to do.
  await page.getByLabel("Token name").fill("has space");
  await page.getByLabel("Token name").evaluate((i) => i.removeAttribute("pattern"));
  await page.getByRole("button", { name: "Create token" }).click();
  await page.getByRole("alert").filter({ hasText: "letters, digits" }).waitFor();

  await page.getByLabel("Token name").fill("okta");
  await page.getByRole("button", { name: "Create token" }).click();
  const shown = await page.getByTestId("new-token").textContent();
  assert.match(shown, /^kb_test_token_/);
  await page.getByRole("button", { name: "Copy token" }).click();
  assert.deepEqual((await lastCall("copy_text")).args, { text: shown });
  await page.getByRole("button", { name: "Done" }).click();
  assert.equal(await page.getByTestId("new-token").count(), 0, "a new token is shown once");

  const row = page.getByRole("row").filter({ hasText: "okta" });
  await row.getByRole("button", { name: "Copy" }).click();
  assert.deepEqual((await lastCall("copy_token")).args, { name: "okta" });
  await row.getByRole("button", { name: "Rotate" }).click();
  assert.match(await page.getByTestId("new-token").textContent(), /^kb_rotated_/);
  await row.getByRole("button", { name: "Revoke" }).click();
  await row.getByRole("button", { name: "Really revoke" }).click();
  await page.getByRole("row").filter({ hasText: "okta" }).waitFor({ state: "detached" });

  assert.equal(await page.getByTestId("cert-mode").textContent(), "Self-signed");
  await page.getByText(/events in the last 24 hours/).waitFor();
  await page.getByText("already exists").first().waitFor();
  await page.getByRole("button", { name: "Stop bridge" }).click();
  await page.getByRole("button", { name: "Start bridge" }).waitFor();
  assert.deepEqual(ui.errors, []);
});

test("People: search, filter by state (removed too) and group, open a person with attributes and history", async () => {
  const { page } = ui;
  await ui.open("overview");
  await page.keyboard.press("Alt+2"); // keyboard navigation
  await page.getByRole("heading", { name: "People", level: 1 }).waitFor();
  await page.getByTestId("people-count").filter({ hasText: "3 people" }).waitFor();
  await page.getByRole("searchbox", { name: "Search" }).fill("émile");
  await page.getByTestId("people-count").filter({ hasText: "1 person" }).waitFor();
  assert.equal((await lastCall("search_people")).args.query.text, "émile");
  await page.getByRole("searchbox", { name: "Search" }).fill("");
  await page.getByLabel("State").selectOption("removed");
  await page.getByTestId("people-count").filter({ hasText: "1 person" }).waitFor();
  await page.getByRole("button", { name: "cy@example.com" }).waitFor();
  await page.getByLabel("State").selectOption("");
  await page.getByLabel("Group").selectOption({ label: "Engineering" });
  await page.getByTestId("people-count").filter({ hasText: "2 people" }).waitFor();
  assert.equal((await lastCall("search_people")).args.query.groupId, "g3");

  await page.getByRole("button", { name: "Ada Lovelace" }).click();
  const detail = page.getByRole("region", { name: "Ada Lovelace" });
  await detail.waitFor();
  assert.match(await page.getByTestId("person-json").textContent(), /"userName": "ada@example.com"/);
  await detail.getByText("user_create_provision").waitFor();
  await detail.getByText("Owners, Engineering").waitFor();
  assert.deepEqual(ui.errors, []);
});

test("Groups: built-in and managed groups, members, and a member opens in People", async () => {
  const { page } = ui;
  await ui.open("groups");
  const owners = page.getByRole("row").filter({ hasText: "Owners" });
  await owners.getByText("built-in").waitFor();
  const eng = page.getByRole("row").filter({ hasText: "Engineering" });
  await eng.getByText("by the identity provider").waitFor();
  await eng.getByRole("button", { name: "Engineering" }).click();
  const detail = page.getByRole("region", { name: "Engineering" });
  await detail.getByText("Members (2)").waitFor();
  await detail.getByRole("button", { name: "Bob Émile" }).click();
  await page.getByRole("heading", { name: "People", level: 1 }).waitFor();
  await page.getByRole("region", { name: "Bob Émile" }).waitFor();
  assert.deepEqual(ui.errors, []);
});

test("Events: filter by outcome and name, export the shown events as JSON", async () => {
  const { page } = ui;
  await ui.open("events");
  await page.getByTestId("event-count").filter({ hasText: "4 events" }).waitFor();
  await page.getByLabel("Outcome").selectOption("failure");
  await page.getByTestId("event-count").filter({ hasText: "1 events" }).waitFor();
  await page.getByText("already exists").waitFor();
  await page.getByLabel("Outcome").selectOption("");
  await page.getByLabel("Event").selectOption("user_deprovision");
  await page.getByTestId("event-count").filter({ hasText: "1 events" }).waitFor();
  await page.getByRole("button", { name: "Export JSON" }).click();
  await page.getByText("keybridge-events-").waitFor();
  const exported = await lastCall("export_events");
  assert.equal(exported.args.filter.name, "user_deprovision");
  assert.deepEqual(ui.errors, []);
});

test("Mapping: an error appears under the exact cell with its position, the preview follows, save and restore", async () => {
  const { page } = ui;
  await ui.open("mapping");
  const preview = page.getByTestId("scim-preview");
  await preview.filter({ hasText: '"userName": "ada.lovelace@example.com"' }).waitFor();

  await page.getByLabel("Row 3 source", { exact: true }).fill("jcUser.firstname +");
  const error = page.getByTestId("error-2-source");
  await error.waitFor();
  assert.match(await error.textContent(), /line 1, column 19:/);
  assert.equal(await page.getByTestId("error-2-target").count(), 0, "only the source cell is marked");
  await page.getByText("Fix the marked cells to see the payload.").waitFor();
  await page.getByRole("button", { name: "Save mapping" }).click();
  await page.getByRole("alert").filter({ hasText: "fix the marked cells" }).waitFor();

  await page.getByLabel("Row 3 source", { exact: true }).fill("jcUser.firstname");
  await page.getByLabel("Row 2 target").fill("nickname");
  await page.getByTestId("error-1-target").filter({ hasText: "not a SCIM User attribute" }).waitFor();
  await page.getByLabel("Row 2 target").fill("title");
  await error.waitFor({ state: "detached" });

  await page.getByLabel("JumpCloud user JSON").fill('{"email": "grace@example.com", "firstname": "Grace", "lastname": "Hopper"}');
  await preview.filter({ hasText: '"userName": "grace@example.com"' }).waitFor();
  await page.getByLabel("JumpCloud user JSON").fill("{not json");
  await page.getByText("is not valid JSON").waitFor();

  await page.getByRole("button", { name: "Save mapping" }).click();
  await page.getByText("Mapping saved as version 1").waitFor();
  assert.equal((await lastCall("save_mapping")).args.rows[1].target, "title");
  await page.getByRole("button", { name: "Restore defaults" }).click();
  await page.getByRole("button", { name: "Replace with the defaults" }).click();
  await page.getByText("Default mapping restored").waitFor();
  assert.deepEqual(ui.errors, []);
});

test("Settings: a bad port is explained under the field, a good save asks to restart a running bridge", async () => {
  const { page } = ui;
  await ui.open("settings");
  await page.getByTestId("data-dir").filter({ hasText: "Keybridge" }).waitFor();
  await page.getByLabel("Port").fill("0");
  await page.getByRole("button", { name: "Save settings" }).click();
  await page.getByText("enter a port from 1 to 65535, e.g. 8443").first().waitFor();
  assert.equal(await page.getByLabel("Port").getAttribute("aria-invalid"), "true");

  await page.getByRole("link", { name: "Overview" }).click();
  await page.getByRole("button", { name: "Start bridge" }).click();
  await page.getByTestId("base-url").waitFor();
  await page.getByRole("link", { name: "Settings" }).click();
  await page.getByLabel("Port").fill("9443");
  await page.getByLabel(/Start Keybridge at login/).check();
  await page.getByLabel("Channel").selectOption("beta");
  await page.getByRole("button", { name: "Save settings" }).click();
  await page.getByText("The bridge still serves with the old settings.").waitFor();
  const saved = (await lastCall("save_settings")).args.settings;
  assert.equal(saved.port, 9443);
  assert.equal(saved.startAtLogin, true);
  assert.equal(saved.updateChannel, "beta");
  await page.getByRole("button", { name: "Restart bridge" }).click();
  await page.getByText("The bridge still serves with the old settings.").waitFor({ state: "detached" });
  await page.getByRole("button", { name: "Check for updates" }).click();
  await page.getByText("Keybridge is up to date.").waitFor();

  // The theme: asked of the core at start (no window start script here), kept by the core.
  assert.ok(await lastCall("get_theme"), "the saved theme is asked for");
  await page.getByLabel("Theme").selectOption("dark");
  await page.locator("html[data-theme='dark']").waitFor({ state: "attached" });
  assert.deepEqual((await lastCall("set_theme")).args, { theme: "dark" });
  await page.getByLabel("Theme").selectOption("system");
  assert.deepEqual(ui.errors, []);
});

test("Single sign-on: the client ID is kept and never shown, redirect URIs copy, the setup check and Test connection report each step", async () => {
  const { page } = ui;
  await ui.open("sso");
  await page.getByTestId("client-id-state").filter({ hasText: "No client ID is stored yet" }).waitFor();
  assert.equal(await page.getByTestId("redirect-0").textContent(), "https://scim.example.com:8443/sso/oidc/redirect/");
  assert.equal(await page.getByTestId("redirect-1").textContent(), "http://127.0.0.1/keybridge/oidc/callback");
  await page.getByRole("button", { name: "Copy The bridge (people joining and switching)" }).click();
  assert.deepEqual((await lastCall("copy_text")).args, { text: "https://scim.example.com:8443/sso/oidc/redirect/" });

  // Problems appear under their fields.
  await page.getByLabel("Well-known URL").fill("http://idp");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByText("enter an https URL ending in /.well-known/openid-configuration").waitFor();
  await page.getByText("enter the client ID JumpCloud shows").waitFor();
  assert.equal(await page.getByLabel("Client ID").getAttribute("aria-invalid"), "true");

  await page.getByRole("button", { name: "Use JumpCloud's" }).click();
  assert.equal(await page.getByLabel("Well-known URL").inputValue(), "https://oauth.id.jumpcloud.com/.well-known/openid-configuration");
  await page.getByLabel("Client ID").fill("jc-client-42");
  assert.equal(await page.getByLabel("Client ID").getAttribute("type"), "password", "the client ID is masked");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByTestId("client-id-state").filter({ hasText: "it is never shown again" }).waitFor();
  assert.equal(await page.getByLabel("Client ID").inputValue(), "", "the stored client ID is not sent back");
  assert.equal((await lastCall("save_sso_settings")).args.input.clientId, "jc-client-42");

  await page.getByRole("button", { name: "Check discovery" }).click();
  await page.getByTestId("check-verdict").filter({ hasText: "Every discovery check passed" }).waitFor();
  assert.equal(await page.getByTestId("check-steps").getByRole("listitem").count(), 6);
  assert.equal((await lastCall("sso_check")).args.request.signIn, false);

  // Test connection waits for the browser with progress, and can be cancelled.
  await page.getByRole("button", { name: "Test connection", exact: true }).click();
  await page.getByTestId("sign-in-wait").filter({ hasText: "of 3:00" }).waitFor();
  assert.equal(await page.getByRole("button", { name: "Check discovery" }).isDisabled(), true);
  await page.getByRole("button", { name: "Cancel" }).click();
  await page.getByText("The test sign-in was cancelled.").waitFor();
  await page.getByRole("button", { name: "Test connection", exact: true }).click();
  await page.getByTestId("sign-in-wait").waitFor();
  assert.equal((await lastCall("sso_check")).args.request.signIn, true);
  await page.evaluate(() => window.__kbFinishSignIn());
  await page.getByTestId("check-verdict").filter({ hasText: "signed in as admin@example.com" }).waitFor();
  await page.getByText("ID token verified").waitFor();

  // A failed step says what to fix.
  await page.getByLabel("Well-known URL").fill("https://idp.example.com/.well-known/openid-configuration");
  await page.getByRole("button", { name: "Check discovery" }).click();
  await page.getByTestId("check-verdict").filter({ hasText: "A check failed" }).waitFor();
  await page.getByTestId("check-steps").getByText("issuer mismatch").waitFor();
  await page.getByTestId("check-steps").getByText("failed:").waitFor();

  // Invitation mail.
  await page.getByLabel("Port", { exact: true }).fill("0");
  await page.getByRole("button", { name: "Save mail settings" }).click();
  await page.getByText("enter the relay's host name").waitFor();
  await page.getByText("enter a port from 1 to 65535").waitFor();
  await page.getByLabel("Relay", { exact: true }).fill("smtp.example.com");
  await page.getByLabel("Port", { exact: true }).fill("465");
  await page.getByLabel(/TLS \(usually port 465\)/).check();
  await page.getByLabel("User name", { exact: true }).fill("it@example.com");
  await page.getByLabel("Password", { exact: true }).fill("hunter2");
  await page.getByLabel("Sender", { exact: true }).fill("Keybridge <it@example.com>");
  await page.getByRole("button", { name: "Save mail settings" }).click();
  await page.getByText("Invitations are mailed when people are provisioned").waitFor();
  assert.equal(await page.getByLabel("Password", { exact: true }).inputValue(), "", "the stored password is not sent back");
  const smtp = (await lastCall("save_smtp_settings")).args.input;
  assert.deepEqual({ relay: smtp.relay, port: smtp.port, security: smtp.security }, { relay: "smtp.example.com", port: 465, security: "tls" });
  assert.deepEqual(ui.errors, []);
});

test("Single sign-on: the policy editor selects groups with grace periods and shows errors under the field", async () => {
  const { page } = ui;
  await ui.open("sso");
  await page.getByRole("tab", { name: "Unlock policy" }).click();
  await page.getByText("Owners never unlock with SSO; guests only under Everyone.").waitFor();
  await page.getByText("Editing it moves the deadline relative to that original date").waitFor();
  await page.getByLabel("Selected groups (recommended)").check();
  await page.getByRole("button", { name: "Save policy" }).click();
  await page.getByText("select at least one group, or choose No one").waitFor();

  const owners = page.getByLabel("Add group").locator("option", { hasText: "Owners" });
  assert.equal(await owners.evaluate((o) => o.disabled), true, "Owners cannot be selected");
  await page.getByLabel("Add group").selectOption({ label: "Engineering (2)" });
  await page.getByRole("button", { name: "Add", exact: true }).click();
  const grace = page.getByLabel("Grace period for Engineering (days)");
  assert.equal(await grace.inputValue(), "5", "the default grace period");
  await page.getByText("starts when saved").waitFor();
  await grace.fill("0");
  await page.getByRole("button", { name: "Save policy" }).click();
  await page.getByText("enter 1 to 30 days").waitFor();
  assert.equal(await grace.getAttribute("aria-invalid"), "true");
  await grace.fill("10");
  await page.getByRole("button", { name: "Save policy" }).click();
  await page.getByText("starts when saved").waitFor({ state: "detached" });
  assert.equal(await grace.getAttribute("aria-invalid"), "false");
  assert.deepEqual((await lastCall("save_sso_policy")).args.input, { mode: "selected_groups", groups: [{ id: "g3", graceDays: 10 }], everyoneGraceDays: null });

  await page.getByLabel("Everyone except guests").check();
  await page.getByLabel("Grace period for everyone (days)").fill("45");
  await page.getByRole("button", { name: "Save policy" }).click();
  await page.getByText("enter 1 to 30 days").waitFor();
  await page.getByLabel("Grace period for everyone (days)").fill("7");
  await page.getByRole("button", { name: "Save policy" }).click();
  await page.getByText("enter 1 to 30 days").waitFor({ state: "detached" });
  const saved = (await lastCall("save_sso_policy")).args.input;
  assert.equal(saved.mode, "everyone_except_guests");
  assert.equal(saved.everyoneGraceDays, 7);
  assert.deepEqual(ui.errors, []);
});

test("Single sign-on: people's unlock status, recover a person, show and copy an invitation link, and the People detail", async () => {
  const { page } = ui;
  await ui.open("sso");
  await page.getByRole("tab", { name: /People's status/ }).click();
  const table = page.getByTestId("unlock-table");
  await table.waitFor();
  await page.getByText("Invitation mail is not set up").waitFor();
  const dee = table.getByRole("row").filter({ hasText: "dee@example.com" });
  await dee.getByText("Needs recovery", { exact: true }).waitFor();
  await dee.getByText("did not switch by the deadline").waitFor();
  await dee.getByRole("button", { name: "Recover dee@example.com" }).click();
  await dee.getByText("Switch pending", { exact: true }).waitFor();
  await dee.getByRole("button", { name: "Show switch link for dee@example.com" }).waitFor();
  assert.deepEqual((await lastCall("recover_person")).args, { id: "p4" });

  const bob = table.getByRole("row").filter({ hasText: "bob@example.com" });
  await bob.getByText("Joins with SSO", { exact: true }).waitFor();
  await bob.getByRole("button", { name: "Show invitation link for bob@example.com" }).click();
  const link = page.getByTestId("link-p2");
  await link.getByText("/join/test-link-1").waitFor();
  await link.getByRole("button", { name: "Copy invitation link for bob@example.com" }).click();
  assert.deepEqual((await lastCall("copy_text")).args, { text: "https://scim.example.com:8443/join/test-link-1" });
  const ada = table.getByRole("row").filter({ hasText: "ada@example.com" });
  await ada.getByText("Owners never unlock with SSO").waitFor();
  assert.equal(await ada.getByRole("button").count(), 0, "nothing to do for an owner");

  await page.getByRole("link", { name: "People" }).click();
  await page.getByRole("button", { name: "Bob Émile" }).click();
  const unlock = page.getByTestId("person-unlock");
  await unlock.getByText("Invited: joins by signing in with the identity provider").waitFor();
  await unlock.getByText("5 days, from Engineering").waitFor();
  await page.getByRole("button", { name: "Show invitation link for bob@example.com" }).click();
  await page.getByTestId("link-p2").getByText("/join/test-link-2").waitFor();
  assert.deepEqual(ui.errors, []);
});

test("Settings: Let's Encrypt (ACME) shows its fields and port needs, a bad email is explained under it", async () => {
  const { page } = ui;
  await ui.open("settings");
  await page.getByTestId("data-dir").filter({ hasText: "Keybridge" }).waitFor();
  assert.equal(await page.getByLabel("Contact email").count(), 0, "ACME fields only in ACME mode");
  await page.getByLabel(/Let's Encrypt \(ACME\)/).check();
  const ports = await page.getByTestId("acme-ports").textContent();
  assert.match(ports, /port 80/);
  assert.match(ports, /443/);
  assert.equal(await page.getByLabel("CA directory URL").inputValue(), "https://acme-v02.api.letsencrypt.org/directory");
  assert.equal(await page.getByLabel("Port for the CA's port-80 check").inputValue(), "80");

  await page.getByLabel("Contact email").fill("ops@");
  await page.getByLabel("CA directory URL").fill("http://ca.example/directory");
  await page.getByRole("button", { name: "Save settings" }).click();
  await page.locator("#e-acme-email").filter({ hasText: "ops@ is not an email address" }).waitFor();
  await page.locator("#e-acme-dir").filter({ hasText: "starts with https://" }).waitFor();
  assert.equal(await page.getByLabel("Contact email").getAttribute("aria-invalid"), "true");

  await page.getByLabel("Contact email").fill("ops@example.com");
  await page.getByRole("button", { name: "Use staging (for a first try)" }).click();
  await page.getByRole("button", { name: "Save settings" }).click();
  await page.getByText("Settings saved").waitFor();
  assert.equal(await page.locator("#e-acme-email").count(), 0);
  const saved = (await lastCall("save_settings")).args.settings;
  assert.equal(saved.tls, "acme");
  assert.equal(saved.acmeEmail, "ops@example.com");
  assert.equal(saved.acmeDirectory, "https://acme-staging-v02.api.letsencrypt.org/directory");
  assert.equal(saved.acmeHttpPort, 80);

  // Listening on 443, the CA checks that port: no port-80 field.
  await page.getByLabel("Port", { exact: true }).fill("443");
  assert.equal(await page.getByLabel("Port for the CA's port-80 check").count(), 0);
  assert.deepEqual(ui.errors, []);
});
