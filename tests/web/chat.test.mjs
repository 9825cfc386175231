// The web client in Debian's Chromium (puppeteer-core, no browser download) against a real
// chatd it starts and restarts itself. Run by scripts/test with CHATD_BINARY, CHATD_DATABASE_URL
// and CHATD_WEB_ROOT set; SCREENSHOTS=<dir> also saves the main screens there.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer from "puppeteer-core";

const failures = [];
// A hung browser or page fails the run instead of holding it.
setTimeout(() => { console.log("web client: timed out after 3 minutes"); process.exit(2); }, 180000);
function check(cond, what) {
  if (cond) console.log(`  ok  ${what}`);
  else { console.log(`  FAIL ${what}`); failures.push(what); }
}

const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, "127.0.0.1", () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const dataDir = mkdtempSync(join(tmpdir(), "chatd-web-"));
let server = null;
async function startServer() {
  server = spawn(process.env.CHATD_BINARY, [], {
    env: { ...process.env, CHATD_PORT: String(port), CHATD_ADDRESS: "127.0.0.1",
           CHATD_JWT_SECRET: "web-test-secret-0123456789abcdef0123456789",
           CHATD_BCRYPT_COST: "4", CHATD_DATA_DIR: dataDir, CHATD_LOG_LEVEL: "warn" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (let i = 0; i < 200; i++) {
    try { if ((await fetch(`${base}/healthz`)).ok) return; } catch {}
    await sleep(50);
  }
  throw new Error("chatd did not start");
}
async function stopServer() {
  const done = new Promise((r) => server.once("exit", r));
  server.kill("SIGTERM");
  await done;
}

await startServer();
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: "new",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-quic"],
});
const shots = process.env.SCREENSHOTS;
async function shot(page, name) {
  if (shots) await page.screenshot({ path: join(shots, `${name}.png`) });
}

const suffix = Date.now().toString(36);
const answers = [];
async function user(name) {
  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  await page.setViewport({ width: 1000, height: 700 });
  // The only dialogs are the edit prompt and the delete confirmation, answered by `answers`.
  page.on("dialog", async (d) => {
    const a = answers.shift();
    if (a === undefined) { failures.push(`unexpected dialog: ${d.message()}`); await d.dismiss(); }
    else if (a === null) await d.accept("");  // a confirmation
    else await d.accept(a);
  });
  page.on("pageerror", (e) => failures.push(`page error (${name}): ${e.message}`));
  await page.goto(base);
  await page.waitForSelector("#auth:not([hidden])");
  if (name === "alice") await shot(page, "login");
  await page.click("#tab-register");
  await page.type("#auth-username", `${name}_${suffix}`);
  await page.type("#auth-email", `${name}_${suffix}@example.com`);
  await page.type("#auth-password", "correct-horse-battery");
  await page.click("#auth-submit");
  await page.waitForSelector("#app:not([hidden])");
  await page.waitForSelector("#connection.up");
  return { page, name: `${name}_${suffix}` };
}
const texts = (page) => page.$$eval("#messages .msg .text", (els) => els.map((e) => e.textContent));
async function openChatWith(u, other) {
  await u.page.type("#new-chat-username", other.name);
  await u.page.click("#new-chat button");
  await u.page.waitForFunction((n) => document.getElementById("chat-title").textContent === n, {}, other.name);
}
async function openFromInbox(u, title) {
  // Found and clicked in one step inside the page: the inbox re-renders as messages arrive,
  // and an element found first and clicked later may be gone by then.
  await u.page.waitForFunction((t) => {
    const li = [...document.querySelectorAll("#inbox li")]
      .find((item) => item.querySelector(".name").textContent === t);
    if (li) li.click();
    return !!li;
  }, { timeout: 10000 }, title);
  await u.page.waitForFunction((t) => document.getElementById("chat-title").textContent === t, {}, title);
}
async function sendText(u, text) {
  await u.page.type("#text", text);
  await u.page.keyboard.press("Enter");
}
const waitText = (u, text, timeout = 10000) => u.page.waitForFunction(
  (t) => [...document.querySelectorAll("#messages .msg .text")].some((e) => e.textContent === t),
  { timeout }, text);

try {
  console.log("direct chat");
  const alice = await user("alice");
  const bob = await user("bob");
  await openChatWith(alice, bob);
  await sendText(alice, "hello bob");
  await waitText(alice, "hello bob");
  await alice.page.waitForSelector("#messages .msg.mine:not(.pending)");
  check(true, "alice's message turns from pending to stored on ack");
  await openFromInbox(bob, alice.name);
  await waitText(bob, "hello bob");
  check(true, "bob sees alice's message");
  await alice.page.waitForSelector('#messages .msg.mine .tick[data-state="read"]', { timeout: 10000 });
  check(true, "alice sees the read ticks once bob opened the chat");
  await bob.page.type("#text", "typing…");
  await alice.page.waitForFunction(() => document.getElementById("typing").textContent.includes("is typing"));
  check(true, "alice sees bob typing");
  await bob.page.keyboard.press("Enter");
  await waitText(alice, "typing…");
  check(true, "bob's reply reaches alice");
  const xss = "<img src=x onerror=alert(1)>";
  await sendText(alice, xss);
  await waitText(bob, xss);
  check(await bob.page.$$eval("#messages img", (imgs) => imgs.length) === 0,
        "the XSS string stays text (no element made of it)");
  await shot(alice.page, "chat");

  console.log("reply, edit, delete");
  // The message actions of one's last message (the list is redrawn often: no element handles).
  const act = (page, label) => page.evaluate((l) => {
    const mine = [...document.querySelectorAll("#messages .msg.mine")].pop();
    [...mine.querySelectorAll(".actions button")].find((b) => b.textContent === l).click();
  }, label);
  await act(alice.page, "Reply");
  await sendText(alice, "this is a reply");
  await bob.page.waitForFunction(() => [...document.querySelectorAll("#messages .msg")]
    .some((m) => m.querySelector(".quote")?.textContent === "<img src=x onerror=alert(1)>"));
  check(true, "a reply shows the message it answers");
  answers.push("edited text");
  await alice.page.waitForFunction(() => !document.querySelector("#messages .msg.pending"));
  await act(alice.page, "Edit");
  await waitText(bob, "edited text");
  check(await bob.page.$$eval("#messages .meta", (m) => m.some((x) => x.textContent.startsWith("edited"))),
        "an edit reaches the other side, marked edited");
  answers.push(null);
  await act(alice.page, "Delete");
  await bob.page.waitForFunction(() => [...document.querySelectorAll("#messages .deleted")].length === 1);
  check(!(await texts(bob.page)).includes("edited text"), "a delete clears the message for everyone");

  console.log("presence");
  check(await alice.page.$$eval("#inbox li .dot.online", (d) => d.length) === 1, "bob shown online");
  await bob.page.close();
  await alice.page.waitForFunction(() => document.querySelectorAll("#inbox li .dot.online").length === 0);
  check(true, "bob shown offline once his page closed");
  await alice.page.waitForFunction(() => document.getElementById("chat-subtitle").textContent.startsWith("last seen"));
  check(true, "alice sees when bob was last seen");

  console.log("history paging");
  const carol = await user("carol");
  await openChatWith(carol, alice);
  const aliceId = await carol.page.evaluate(async (name) => {
    const r = await fetch(`/users?username=${name}`,
      { headers: { Authorization: `Bearer ${localStorage.getItem("chatd.token")}` } });
    return (await r.json()).users[0].id;
  }, alice.name);
  await carol.page.evaluate(async (to) => {  // 120 messages straight over a WebSocket
    const ws = new WebSocket(`ws://${location.host}/ws?token=${localStorage.getItem("chatd.token")}`);
    await new Promise((r) => { ws.onopen = r; });
    let acks = 0;
    const done = new Promise((r) => {
      ws.onmessage = (e) => { if (JSON.parse(e.data).type === "ack" && ++acks === 120) r(); };
    });
    for (let i = 1; i <= 120; i++) ws.send(JSON.stringify({ type: "send_message", to, content: `old ${i}` }));
    await done;
    ws.close();
  }, aliceId);
  await openFromInbox(alice, carol.name);
  await waitText(alice, "old 120");
  const first = (await texts(alice.page)).length;
  for (let i = 0; i < 10 && (await texts(alice.page)).length < 120; i++) {
    await alice.page.$eval("#messages", (m) => { m.scrollTop = 0; m.dispatchEvent(new Event("scroll")); });
    await sleep(300);
  }
  const all = await texts(alice.page);
  check(first <= 60 && all.length === 120 && all[0] === "old 1",
        `scrolling up loads older history (${first} first, ${all.length} after)`);

  console.log("inbox paging");
  await carol.page.evaluate(async () => {  // 105 groups of her own: 106 conversations in all
    const headers = { Authorization: `Bearer ${localStorage.getItem("chatd.token")}`,
                      "Content-Type": "application/json" };
    for (let i = 1; i <= 105; i++) {
      const r = await fetch("/groups", { method: "POST", headers,
                                         body: JSON.stringify({ name: `g${i}`, members: [] }) });
      if (r.status !== 201) throw new Error(`POST /groups: ${r.status}`);
    }
  });
  await carol.page.reload();
  await carol.page.waitForSelector("#connection.up");
  const inboxNames = (page) => page.$$eval("#inbox li[data-id] .name", (n) => n.map((e) => e.textContent));
  const firstPage = await inboxNames(carol.page);
  check(firstPage.length === 100 && !firstPage.includes(alice.name) &&
        (await carol.page.$("#older-conversations")) !== null,
        `the inbox shows its first page and offers older conversations (${firstPage.length})`);
  await carol.page.click("#older-conversations");
  await carol.page.waitForFunction(() => !document.getElementById("older-conversations"));
  const allNames = await inboxNames(carol.page);
  check(allNames.length === 106 && new Set(allNames).size === 106 && allNames.at(-1) === alice.name,
        `older conversations load below, each once (${allNames.length}, last ${allNames.at(-1)})`);

  console.log("a group of three");
  const bob2 = { page: await (await browser.createBrowserContext()).newPage(), name: bob.name };
  await bob2.page.setViewport({ width: 1000, height: 700 });
  await bob2.page.goto(base);
  await bob2.page.click("#auth-email");
  await bob2.page.type("#auth-email", `bob_${suffix}@example.com`);
  await bob2.page.type("#auth-password", "correct-horse-battery");
  await bob2.page.click("#auth-submit");
  await bob2.page.waitForSelector("#connection.up");
  await alice.page.type("#new-group-name", "trio");
  await alice.page.type("#new-group-members", `${bob.name}, ${carol.name}`);
  await alice.page.click("#new-group button");
  await alice.page.waitForFunction(() => document.getElementById("chat-title").textContent === "trio");
  await sendText(alice, "hi both");
  await openFromInbox(bob2, "trio");
  await waitText(bob2, "hi both");
  await openFromInbox(carol, "trio");
  await waitText(carol, "hi both");
  const afterNew = await inboxNames(carol.page);
  check(afterNew.length === 107 && afterNew[0] === "trio",
        `a new conversation joins the top, the older pages stay loaded (${afterNew.length})`);
  await sendText(carol, "hi from carol");
  await waitText(alice, "hi from carol");
  await waitText(bob2, "hi from carol");
  check(true, "three members of a group exchange messages");
  await alice.page.type("#add-member", carol.name);
  await alice.page.click("#remove-member");
  await alice.page.waitForFunction((n) => !document.getElementById("chat-subtitle").textContent.includes(n), {}, carol.name);
  check(true, "an admin removes a member");
  await shot(alice.page, "group");

  console.log("a reconnect after the server restarts");
  await stopServer();
  await alice.page.waitForSelector("#connection:not(.up)");
  await sendText(alice, "sent while the server was down");
  await startServer();
  await alice.page.waitForSelector("#connection.up", { timeout: 20000 });
  await waitText(bob2, "sent while the server was down", 20000);
  await alice.page.waitForFunction(() => !document.querySelector("#messages .msg.pending"), { timeout: 20000 });
  await sleep(1000);
  const copies = (await texts(bob2.page)).filter((t) => t === "sent while the server was down").length;
  check(copies === 1, `the message queued while down arrives once after the reconnect (${copies})`);
  const mine = (await texts(alice.page)).filter((t) => t === "sent while the server was down").length;
  check(mine === 1, "and shows once on the sender's side");
  await shot(alice.page, "inbox");
} catch (err) {
  failures.push(String(err.stack || err));
} finally {
  await browser.close();
  if (server) server.kill("SIGKILL");
}

if (failures.length) {
  console.log(`web client: ${failures.length} failure(s)`);
  for (const f of failures) console.log(`  - ${f}`);
  process.exit(1);
}
console.log("web client: all checks passed");
process.exit(0);
