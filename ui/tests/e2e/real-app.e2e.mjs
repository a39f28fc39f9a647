// End to end on the real desktop app: the release build's WebKitGTK window under Xvfb,
// driven over W3C WebDriver by tauri-driver and Debian's WebKitWebDriver. From the UI it
// sets the bridge to a loopback port with a host name (self-signed certificate), starts
// it and creates a bearer token; the test then provisions a person (and a group) over
// real SCIM HTTPS with that token (trusting only that certificate),
// finds the person in People, and stops the bridge from the UI. On the way it saves a
// screenshot of each page of the real window.
//
// Run by scripts/e2e-desktop.sh, which builds or finds the app and installs tauri-driver:
//   KEYBRIDGE_APP=path/to/keybridge-desktop TAURI_DRIVER=path/to/tauri-driver \
//   KEYBRIDGE_SCREENSHOTS=dir node --test tests/e2e/
// Everything started here (Xvfb, tauri-driver with WebKitWebDriver and the app) is
// stopped here, by process id, and the throwaway home and data directories are removed.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { request } from "node:https";
import { mkdtemp, mkdir, rm, writeFile, readdir, readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Session, waitForDriver } from "./webdriver.mjs";

const APP = process.env.KEYBRIDGE_APP;
const DRIVER = process.env.TAURI_DRIVER ?? "tauri-driver";
const SHOTS = process.env.KEYBRIDGE_SCREENSHOTS;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const HOST = "scim.example.com";

/** One HTTPS request to the bridge on 127.0.0.1:`port` as `HOST`, trusting only `ca`. */
function bridgeRequest({ port, ca, method, path, token, body }) {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        servername: HOST,
        ca,
        method,
        path,
        timeout: 10000,
        headers: {
          host: `${HOST}:${port}`,
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body ? { "content-type": "application/scim+json" } : {}),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : null }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer in 10 s`)));
    req.on("error", reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

/** A loopback port that was free a moment ago. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts Xvfb on a display number it picks itself (-displayfd): no clash with others. */
function startXvfb() {
  const xvfb = spawn("Xvfb", ["-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp"], {
    stdio: ["ignore", "ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(() => reject(new Error(`Xvfb did not start: ${err}`)), 15000);
    xvfb.stderr.on("data", (d) => (err += d));
    xvfb.once("exit", (code) => reject(new Error(`Xvfb exited (${code}): ${err}`)));
    xvfb.stdio[3].on("data", (d) => {
      out += d;
      if (out.includes("\n")) {
        clearTimeout(timer);
        resolve({ proc: xvfb, display: `:${out.trim()}` });
      }
    });
  });
}

/** Process ids whose process group is `pgid` (what tauri-driver started, the app too). */
async function processGroup(pgid) {
  const out = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, "utf8").catch(() => "");
    // Fields after the command name (which may hold spaces) in parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) === pgid && fields[0] !== "Z") out.push(Number(name));
  }
  return out;
}

const started = { xvfb: null, driver: null, scratch: null, session: null };

after(async () => {
  await started.session?.close().catch(() => {});
  const driver = started.driver;
  if (driver?.pid) {
    // tauri-driver runs in a process group of its own (detached): WebKitWebDriver and
    // the app it launched are in it. Ask nicely, then make sure.
    try {
      process.kill(-driver.pid, "SIGTERM");
    } catch {}
    for (let i = 0; i < 50 && (await processGroup(driver.pid)).length; i++) await sleep(100);
    for (const pid of await processGroup(driver.pid)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
  }
  if (started.xvfb) {
    started.xvfb.kill("SIGTERM");
  }
  if (started.scratch) await rm(started.scratch, { recursive: true, force: true });
});

test("the real app: start the bridge from the UI, provision a person over SCIM, see them in People, stop the bridge", { timeout: 240000 }, async () => {
  assert.ok(APP && existsSync(APP), `KEYBRIDGE_APP must name the built app (got ${APP}); run scripts/e2e-desktop.sh`);
  const scratch = (started.scratch = await mkdtemp(join(tmpdir(), "keybridge-e2e-")));
  for (const d of ["home", "run", "data"]) await mkdir(join(scratch, d), { mode: 0o700 });
  if (SHOTS) await mkdir(SHOTS, { recursive: true });

  const { proc: xvfb, display } = await startXvfb();
  started.xvfb = xvfb;
  const [driverPort, nativePort, bridgePort] = [await freePort(), await freePort(), await freePort()];
  const env = {
    PATH: process.env.PATH,
    DISPLAY: display,
    NO_AT_BRIDGE: "1", // no accessibility bus helpers left behind
    HOME: join(scratch, "home"), // WebKit's caches, no keychain, no autostart entry
    XDG_RUNTIME_DIR: join(scratch, "run"),
    KEYBRIDGE_DATA_DIR: join(scratch, "data"),
    KEYBRIDGE_LOG: "info",
    KEYBRIDGE_UPDATES: "off", // a fresh data directory checks for updates: not from a test
    LANG: "C.UTF-8",
  };
  let driverLog = "";
  const driver = spawn(DRIVER, ["--port", String(driverPort), "--native-port", String(nativePort)], {
    env,
    detached: true, // its own process group, so cleanup reaches the app as well
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.driver = driver;
  driver.stdout.on("data", (d) => (driverLog += d));
  driver.stderr.on("data", (d) => (driverLog += d));
  const base = `http://127.0.0.1:${driverPort}`;
  await waitForDriver(base);

  const wd = (started.session = await Session.create(base, { "tauri:options": { application: APP } }));
  const shot = async (name) => {
    if (!SHOTS) return;
    await writeFile(join(SHOTS, `${name}.png`), await wd.screenshot());
  };
  const nav = async (label) => {
    await wd.click(await wd.waitFor(`//nav//a[normalize-space()='${label}']`));
    await wd.waitFor(`//h1[normalize-space()='${label}']`);
  };
  const button = (label) => wd.waitFor(`//button[normalize-space()="${label}"]`, { what: `the ${label} button` });
  const field = (label) => wd.waitFor(`//label[normalize-space(text())='${label}']//input`, { what: `the ${label} field` });

  try {
    await wd.waitFor("//h1[normalize-space()='Overview']");
    assert.equal(await wd.attribute(await wd.waitFor("//*[@data-testid='bridge-state']"), "data-state"), "stopped");

    // Settings: this machine only, a free port, the public host name (self-signed
    // certificate, the default), secrets in the owner-only file (no keychain here).
    await nav("Settings");
    await wd.fill(await field("Listen address"), "127.0.0.1");
    await wd.fill(await field("Port"), bridgePort);
    await wd.fill(await field("Public host name"), HOST);
    assert.equal(await wd.send("GET", `/element/${await wd.waitFor("//input[@type='radio'][@value='self_signed']")}/selected`), true);
    await wd.click(await wd.waitFor("//input[@type='radio'][@value='file']"));
    await wd.click(await button("Save settings"));
    await wd.waitFor("//*[contains(@class,'toast')][normalize-space()='Settings saved']");

    // Overview: start the bridge, create a token.
    await nav("Overview");
    await wd.click(await button("Start bridge"));
    const baseUrl = await wd.text(await wd.waitFor("//*[@data-testid='base-url']"));
    assert.equal(baseUrl, `https://${HOST}:${bridgePort}/scim/v2`);
    assert.equal(await wd.attribute(await wd.waitFor("//*[@data-testid='bridge-state']"), "data-state"), "running");
    await wd.fill(await field("Token name"), "jumpcloud");
    await wd.click(await button("Create token"));
    const token = (await wd.text(await wd.waitFor("//*[@data-testid='new-token']"))).trim();
    assert.ok(token.length >= 32, "a new token is shown");
    await wd.click(await button("Done"));
    await wd.waitGone("//*[@data-testid='new-token']");

    // The identity provider's side: real SCIM over HTTPS with that token, trusting the
    // certificate the bridge generated in its data directory.
    const ca = await readFile(join(env.KEYBRIDGE_DATA_DIR, "tls", "self-signed.crt"));
    const scim = (method, path, body, auth = token) =>
      bridgeRequest({ port: bridgePort, ca, method, path: `/scim/v2${path}`, token: auth, body });
    const created = await scim("POST", "/Users", {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
      userName: "grace.hopper@example.com",
      displayName: "Grace Hopper",
      name: { givenName: "Grace", familyName: "Hopper" },
      emails: [{ value: "grace.hopper@example.com", type: "work", primary: true }],
      title: "Rear Admiral",
      active: true,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const group = await scim("POST", "/Groups", {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"],
      displayName: "Engineering",
      members: [{ value: created.body.id }],
    });
    assert.equal(group.status, 201, JSON.stringify(group.body));
    assert.equal((await scim("GET", "/Users", undefined, "not-the-token")).status, 401);

    // Overview shows the token and the events of the last day.
    await nav("People");
    await nav("Overview");
    await wd.waitFor("//tr[td[normalize-space()='jumpcloud']]");
    await wd.waitFor("//*[@data-testid='cert-mode'][normalize-space()='Self-signed']");
    await shot("overview");

    // People: the provisioned person, with every attribute and their history.
    await nav("People");
    await wd.waitFor("//*[@data-testid='people-count'][normalize-space()='1 person']");
    const row = await wd.waitFor("//tr[.//button[normalize-space()='Grace Hopper']]");
    assert.match(await wd.text(row), /grace\.hopper@example\.com/);
    await wd.click(await wd.waitFor("//button[normalize-space()='Grace Hopper']"));
    const json = await wd.text(await wd.waitFor("//*[@data-testid='person-json']"));
    assert.match(json, /"title": "Rear Admiral"/);
    await shot("people");

    await nav("Groups");
    await wd.click(await wd.waitFor("//button[normalize-space()='Engineering']"));
    await wd.waitFor("//*[normalize-space()='Members (1)']");
    await shot("groups");

    await nav("Events");
    await wd.waitFor("//*[@data-testid='event-count'][not(starts-with(normalize-space(), '0 '))]");
    await shot("events");

    await nav("Mapping");
    await wd.waitFor("//*[@data-testid='scim-preview']");
    await shot("mapping");

    await nav("Settings");
    await wd.waitFor("//*[@data-testid='data-dir'][contains(., 'data')]");
    await shot("settings");

    // The dark theme, picked in the window as an admin would.
    await wd.click(await wd.waitFor("//label[contains(@class,'theme')]//option[@value='dark']"));
    await nav("Overview");
    await wd.waitFor("//html[@data-theme='dark']");
    await shot("overview-dark");
    await wd.click(await wd.waitFor("//label[contains(@class,'theme')]//option[@value='light']"));

    // Stop from the UI: nothing listens any more.
    await wd.click(await button("Stop bridge"));
    await button("Start bridge");
    assert.equal(await wd.attribute(await wd.waitFor("//*[@data-testid='bridge-state']"), "data-state"), "stopped");
    await assert.rejects(scim("GET", "/Users"), /ECONNREFUSED/, "nothing listens after Stop");
  } catch (e) {
    if (SHOTS) await shot("failure").catch(() => {});
    e.message += `\n--- tauri-driver, WebKitWebDriver and the app said:\n${driverLog.slice(-4000)}`;
    throw e;
  }
});
