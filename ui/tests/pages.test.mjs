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
  assert.deepEqual(ui.errors, []);
});
