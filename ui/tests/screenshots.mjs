// Saves the Single sign-on pages of the built UI (light theme, the test stub's sample
// data: a discovery check, a policy and people's status need an identity provider and
// history the end-to-end test does not set up) to docs/screenshots/, for the README.
// The other pages' pictures are of the real window, taken by
// `scripts/e2e-desktop.sh --screenshots docs/screenshots`. Not a test: run
// `node tests/screenshots.mjs`.
import { mkdir } from "node:fs/promises";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { start } from "./harness.mjs";

const out = join(dirname(fileURLToPath(import.meta.url)), "../../docs/screenshots");
await mkdir(out, { recursive: true });
const ui = await start();
try {
  const { page } = ui;
  await page.emulateMedia({ colorScheme: "light" });
  await ui.open("overview");
  await page.getByRole("button", { name: "Start bridge" }).click();
  await page.getByTestId("base-url").waitFor();
  await page.getByLabel("Token name").fill("okta");
  await page.getByRole("button", { name: "Create token" }).click();
  await page.getByTestId("new-token").waitFor();
  await page.getByRole("link", { name: "People" }).click();
  await page.getByRole("button", { name: "Ada Lovelace" }).click();
  await page.getByTestId("person-json").waitFor();
  await page.getByRole("link", { name: "Groups" }).click();
  await page.getByRole("button", { name: "Engineering" }).click();
  await page.getByText("Members (2)").waitFor();
  await page.getByRole("link", { name: "Events" }).click();
  await page.getByTestId("event-count").filter({ hasText: "4 events" }).waitFor();
  await page.getByRole("link", { name: "Mapping" }).click();
  await page.getByTestId("scim-preview").waitFor();
  await page.getByLabel("Row 3 source", { exact: true }).fill("jcUser.firstname +");
  await page.getByTestId("error-2-source").waitFor();
  await page.getByRole("link", { name: "Single sign-on" }).click();
  await page.getByTestId("redirect-0").waitFor();
  await page.getByRole("button", { name: "Check discovery" }).click();
  await page.getByTestId("check-verdict").waitFor();
  await page.screenshot({ path: join(out, "sso.png"), fullPage: true });
  await page.getByRole("tab", { name: "Unlock policy" }).click();
  await page.getByLabel("Selected groups (recommended)").check();
  await page.getByLabel("Add group").selectOption({ label: "Engineering (2)" });
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await page.getByRole("button", { name: "Save policy" }).click();
  await page.getByText("starts when saved").waitFor({ state: "detached" });
  await page.screenshot({ path: join(out, "sso-policy.png"), fullPage: true });
  await page.getByRole("tab", { name: /People's status/ }).click();
  await page.getByRole("button", { name: "Show invitation link for bob@example.com" }).click();
  await page.getByTestId("link-p2").waitFor();
  await page.screenshot({ path: join(out, "sso-status.png"), fullPage: true });
  await page.getByRole("link", { name: "Settings" }).click();
  await page.getByTestId("data-dir").filter({ hasText: "Keybridge" }).waitFor();
  await page.emulateMedia({ colorScheme: "dark" });
  await page.getByRole("link", { name: "Overview" }).click();
  await page.getByTestId("bridge-state").waitFor();
  console.log(`saved screenshots to ${out}`);
} finally {
  await ui.close();
}
