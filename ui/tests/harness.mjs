// Runs the built UI (ui/dist) in Debian's headless Chromium through playwright-core,
// served by Vite's in-process preview server on 127.0.0.1, with the Tauri IPC answered
// by fixtures/ipc-stub.ts. Everything started here is stopped here.
import { mkdtemp, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { preview } from "vite";
import { chromium } from "playwright-core";

const ui = join(dirname(fileURLToPath(import.meta.url)), "..");
const CHROMIUM = process.env.KEYBRIDGE_CHROMIUM ?? "/usr/bin/chromium";

let stubScript;
async function stub() {
  stubScript ??= (
    await build({
      entryPoints: [join(ui, "tests/fixtures/ipc-stub.ts")],
      bundle: true,
      format: "iife",
      write: false,
      logLevel: "silent",
    })
  ).outputFiles[0].text;
  return stubScript;
}

/** Starts the preview server and the browser; returns { page, open, calls, close }. */
export async function start() {
  if (!existsSync(join(ui, "dist/index.html"))) {
    throw new Error("ui/dist is missing: run `npm run build` in ui/ first");
  }
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run scripts/install-desktop-deps.sh (Debian's chromium package)`);
  }
  const server = await preview({
    root: ui,
    logLevel: "silent",
    preview: { host: "127.0.0.1", port: 0, strictPort: false, open: false },
  });
  const url = server.resolvedUrls?.local?.[0];
  if (!url) throw new Error("the preview server did not report its address");
  const profile = await mkdtemp(join(tmpdir(), "keybridge-ui-test-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 860 },
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  await context.addInitScript({ content: await stub() });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(10000);
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  return {
    page,
    errors,
    /** Loads the app afresh (the stub's data too) on the page `hash`. */
    async open(hash = "overview") {
      await page.goto("about:blank");
      await page.goto(`${url}#${hash}`);
      await page.getByRole("heading", { level: 1 }).waitFor();
    },
    /** Every command the UI sent, in order: [{ cmd, args }]. */
    calls: () => page.evaluate(() => window.__kbCalls),
    async close() {
      await context.close().catch(() => {});
      await new Promise((resolve) => server.httpServer.close(resolve));
      await rm(profile, { recursive: true, force: true });
    },
  };
}
