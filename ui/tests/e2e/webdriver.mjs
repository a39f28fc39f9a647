// A small W3C WebDriver client (the few commands the real-app test needs), over the
// fetch built into Node: no browser-automation framework to install.

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class WebDriverError extends Error {}

export class Session {
  constructor(base, id) {
    this.base = base;
    this.id = id;
  }

  /** Opens a session on the driver at `base` (e.g. http://127.0.0.1:4444). */
  static async create(base, capabilities) {
    const value = await command("POST", `${base}/session`, { capabilities: { alwaysMatch: capabilities } });
    return new Session(base, value.sessionId);
  }

  send(method, path, body) {
    return command(method, `${this.base}/session/${this.id}${path}`, body);
  }

  async close() {
    await this.send("DELETE", "");
  }

  /** The first element matching the XPath `xpath`, or null. */
  async find(xpath, from) {
    const path = from ? `/element/${from}/elements` : "/elements";
    const found = await this.send("POST", path, { using: "xpath", value: xpath });
    return found.length ? found[0][ELEMENT] : null;
  }

  /** Waits (up to `timeout` ms) for an element matching `xpath` that is displayed. */
  async waitFor(xpath, { timeout = 15000, what = xpath } = {}) {
    const until = Date.now() + timeout;
    for (;;) {
      const el = await this.find(xpath);
      if (el && (await this.send("GET", `/element/${el}/displayed`))) return el;
      if (Date.now() > until) {
        const text = await this.script("return document.body ? document.body.innerText : ''").catch(() => "");
        throw new WebDriverError(`timed out waiting for ${what}; the window shows:\n${text}`);
      }
      await sleep(100);
    }
  }

  /** Waits until no element matches `xpath`. */
  async waitGone(xpath, { timeout = 15000 } = {}) {
    const until = Date.now() + timeout;
    while (await this.find(xpath)) {
      if (Date.now() > until) throw new WebDriverError(`timed out waiting for ${xpath} to go`);
      await sleep(100);
    }
  }

  click(el) {
    return this.send("POST", `/element/${el}/click`, {});
  }

  text(el) {
    return this.send("GET", `/element/${el}/text`);
  }

  attribute(el, name) {
    return this.send("GET", `/element/${el}/attribute/${name}`);
  }

  /** Replaces what the field holds with `value`, as typing does (input events fire). */
  async fill(el, value) {
    await this.send("POST", `/element/${el}/clear`, {});
    await this.send("POST", `/element/${el}/value`, { text: String(value) });
  }

  script(body, args = []) {
    return this.send("POST", "/execute/sync", { script: body, args });
  }

  /** Resolves after the window has painted twice (fonts loaded), so a screenshot shows the
   * page as it is now, not a frame behind. */
  async painted() {
    await this.send("POST", "/execute/async", {
      script:
        "const done = arguments[arguments.length - 1];" +
        "document.fonts.ready.then(() => requestAnimationFrame(() => requestAnimationFrame(() => done(true))));",
      args: [],
    });
  }

  /** A PNG of the window's page. */
  async screenshot() {
    await this.painted();
    return Buffer.from(await this.send("GET", "/screenshot"), "base64");
  }
}

async function command(method, url, body) {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60000),
  });
  const text = await res.text();
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new WebDriverError(`${method} ${url}: ${res.status} ${text.slice(0, 300)}`);
  }
  const value = parsed.value;
  if (!res.ok || (value && typeof value === "object" && "error" in value && value.error)) {
    throw new WebDriverError(`${method} ${url}: ${value?.error}: ${value?.message}`);
  }
  return value;
}

/** Resolves once the driver at `base` answers /status as ready. */
export async function waitForDriver(base, timeout = 20000) {
  const until = Date.now() + timeout;
  for (;;) {
    try {
      const res = await fetch(`${base}/status`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new WebDriverError(`the WebDriver server at ${base} did not answer`);
    await sleep(100);
  }
}
