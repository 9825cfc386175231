// The web client in Debian's Chromium (puppeteer-core, no browser download) against a real
// chatd it starts and restarts itself. Run by scripts/test with CHATD_BINARY, CHATD_DATABASE_URL
// and CHATD_WEB_ROOT set; SCREENSHOTS=<dir> also saves the main screens there.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer from "puppeteer-core";
import { freePort, sleep, startChatd } from "../support/chatd_server.mjs";

const failures = [];
// A hung browser or page fails the run instead of holding it.
// (The chatd it started goes too: `server` is set below.)
setTimeout(() => {
  console.log("web client: timed out after 8 minutes");
  server?.kill("SIGKILL");
  process.exit(2);
}, 480000);
function check(cond, what) {
  if (cond) console.log(`  ok  ${what}`);
  else { console.log(`  FAIL ${what}`); failures.push(what); }
}

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const dataDir = mkdtempSync(join(tmpdir(), "chatd-web-"));
let server = null;
async function startServer() {
  server = await startChatd(port, dataDir, "web-test-secret-0123456789abcdef0123456789");
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
  // A first start in a fresh profile on a busy 2-core machine once took over puppeteer's
  // default 30 s to print its endpoint.
  timeout: 120000,
});
const shots = process.env.SCREENSHOTS;
async function shot(page, name) {
  if (shots) await page.screenshot({ path: join(shots, `${name}.png`) });
}

const suffix = Date.now().toString(36);
const answers = [];
// Dialogs (the edit, report, suspend and resolve prompts, the delete confirmations) are answered
// in order from `answers`; page errors fail the run.
function answerDialogs(page, name) {
  page.on("dialog", async (d) => {
    const a = answers.shift();
    if (a === undefined) { failures.push(`unexpected dialog: ${d.message()}`); await d.dismiss(); }
    else if (a === null) await d.accept("");  // a confirmation
    else await d.accept(a);
  });
  page.on("pageerror", (e) => failures.push(`page error (${name}): ${e.message}`));
}
async function user(name) {
  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  await page.setViewport({ width: 1000, height: 700 });
  answerDialogs(page, name);
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
  answerDialogs(bob2.page, "bob2");
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

  console.log("reactions and blocking");
  await openFromInbox(alice, carol.name);
  await waitText(alice, "old 120");
  await alice.page.evaluate(() => {
    const theirs = [...document.querySelectorAll("#messages .msg:not(.mine)")].pop();
    theirs.querySelector('.picker button[aria-label="React 👍"]').click();
  });
  await alice.page.waitForFunction(() => [...document.querySelectorAll("#messages .msg:not(.mine) .chip.mine")]
    .some((c) => c.textContent === "👍 1"));
  check(true, "a reaction from the picker shows as one's own chip");
  await openFromInbox(carol, alice.name);
  await carol.page.waitForFunction(() => [...document.querySelectorAll("#messages .msg.mine .chip")]
    .some((c) => c.textContent === "👍 1"), { timeout: 10000 });
  check(true, "the other person sees the reaction on their message");
  answers.push(null);  // the confirmation
  await carol.page.click("#block-user");
  await carol.page.waitForFunction(() => document.getElementById("block-user").textContent === "Unblock");
  await sendText(alice, "can you hear me");
  await alice.page.waitForFunction(() => document.getElementById("typing").textContent.includes("does not accept"));
  await sleep(300);
  check(!(await texts(carol.page)).includes("can you hear me"), "a blocked person's message is refused and never arrives");
  await carol.page.click("#block-user");
  await carol.page.waitForFunction(() => document.getElementById("block-user").textContent === "Block");
  await sendText(alice, "after the unblock");
  await waitText(carol, "after the unblock");
  check(true, "unblocked, messages arrive again");

  console.log("mentions, message info, forwarding");
  const actOnLast = (page, sel, label) => page.evaluate((q, l) => {
    const m = [...document.querySelectorAll(q)].pop();
    [...m.querySelectorAll(".actions button")].find((b) => b.textContent === l).click();
  }, sel, label);
  await openFromInbox(alice, "trio");
  await alice.page.waitForFunction((n) => document.getElementById("chat-subtitle").textContent.includes(n), {}, bob.name);
  await openFromInbox(bob2, "trio");
  await alice.page.type("#text", `look @${bob.name.slice(0, 3)}`);
  await alice.page.waitForFunction((n) => [...document.querySelectorAll("#mention-hints:not([hidden]) .hint")]
    .some((h) => h.textContent === `@${n}`), {}, bob.name);
  check(true, "typing @ in a group suggests its members");
  await alice.page.evaluate(() => document.querySelector("#mention-hints .hint")
    .dispatchEvent(new MouseEvent("mousedown", { bubbles: true, cancelable: true })));
  await alice.page.type("#text", "at this");
  check(await alice.page.$eval("#text", (t) => t.value) === `look @${bob.name} at this`, "a suggestion completes the name");
  await alice.page.keyboard.press("Enter");
  await bob2.page.waitForFunction((t) => [...document.querySelectorAll("#messages .msg.mentions-me .text")]
    .some((e) => e.textContent === t), {}, `look @${bob.name} at this`);
  check(true, "the mentioned member sees the message marked as mentioning them");
  await alice.page.waitForFunction(() => !document.querySelector("#messages .msg.pending"));
  await actOnLast(alice.page, "#messages .msg.mine", "Info");
  await alice.page.waitForFunction((n) => [...document.querySelectorAll("#info:not([hidden]) #info-list li")]
    .some((li) => li.textContent.startsWith(`${n}: `) && ["delivered", "read"].includes(li.dataset.status)), {}, bob.name);
  check(true, "message info shows who got or read one's group message");
  await alice.page.click("#info-close");
  answers.push(alice.name);
  await actOnLast(bob2.page, "#messages .msg:not(.mine)", "Forward");
  await bob2.page.waitForFunction(() => document.getElementById("typing").textContent.startsWith("Forwarded to"));
  await openFromInbox(alice, bob.name);
  await alice.page.waitForFunction((t) => [...document.querySelectorAll("#messages .msg")]
    .some((m) => m.querySelector(".forwarded") && m.querySelector(".text")?.textContent === t), {}, `look @${bob.name} at this`);
  check(true, "a forwarded message arrives in the other chat, marked forwarded");

  console.log("search");
  await alice.page.type("#search-q", "OLD 7");
  await alice.page.click("#search button[type=submit]");
  await alice.page.waitForFunction(() => !document.getElementById("search-results").hidden &&
    document.querySelectorAll("#search-results .result").length === 11);
  const found = await alice.page.$$eval("#search-results .result .preview", (p) => p.map((e) => e.textContent));
  check(found[0] === "old 79" && found.at(-1) === "old 7", `search finds every match, newest first (${found.length})`);
  await alice.page.evaluate(() => [...document.querySelectorAll("#search-results .result")]
    .find((r) => r.querySelector(".preview").textContent === "old 7").click());
  await alice.page.waitForFunction((n) => document.getElementById("chat-title").textContent === n &&
    document.querySelector("#messages .msg.found .text")?.textContent === "old 7", {}, carol.name);
  check(true, "a result opens its conversation at that message");
  await alice.page.click("#search-clear");
  check(await alice.page.$eval("#inbox", (i) => !i.hidden), "clearing the search shows the inbox again");

  console.log("pin, mute, archive");
  const inboxLi = (page, name, sel) => page.evaluate((n, q) => {
    const li = [...document.querySelectorAll("#inbox li[data-id]")].find((l) => l.querySelector(".name").textContent === n);
    li.querySelector(q).click();
  }, name, sel);
  await inboxLi(alice.page, carol.name, ".pin");
  await alice.page.waitForFunction((n) => {
    const first = document.querySelector("#inbox li[data-id]");
    return first.classList.contains("pinned") && first.querySelector(".name").textContent === n;
  }, {}, carol.name);
  check(true, "a pinned chat heads the inbox");
  await inboxLi(alice.page, carol.name, ".mute");
  await alice.page.waitForFunction((n) => [...document.querySelectorAll("#inbox li[data-id]")]
    .some((l) => l.querySelector(".name").textContent === n && l.querySelector(".muted-badge")), {}, carol.name);
  check(true, "a muted chat shows it");
  const names = (page) => page.$$eval("#inbox li[data-id] .name", (n) => n.map((e) => e.textContent));
  await inboxLi(alice.page, "trio", ".archive");
  await alice.page.waitForFunction(() => ![...document.querySelectorAll("#inbox li[data-id] .name")]
    .some((e) => e.textContent === "trio"));
  await alice.page.click("#archived-toggle");
  await alice.page.waitForFunction(() => [...document.querySelectorAll("#inbox li[data-id] .name")]
    .map((e) => e.textContent).join() === "trio");
  check(true, "an archived chat leaves the inbox for the Archived list");
  await inboxLi(alice.page, "trio", ".archive");
  await alice.page.waitForFunction(() => document.querySelector("#inbox .empty") !== null);
  await alice.page.click("#archived-toggle");
  await alice.page.waitForFunction(() => [...document.querySelectorAll("#inbox li[data-id] .name")]
    .some((e) => e.textContent === "trio"));
  check((await names(alice.page))[0] === carol.name, "unarchived, it is back; the pinned chat still first");

  console.log("disappearing messages");
  await openFromInbox(alice, carol.name);
  await openFromInbox(carol, alice.name);
  await alice.page.select("#timer", "3600");
  await carol.page.waitForFunction(() => [...document.querySelectorAll("#messages .notice")]
    .some((n) => n.textContent.includes("disappear after 1 hour")));
  check(await carol.page.$eval("#timer", (t) => t.value) === "3600", "the other side sees the notice and the timer");
  await carol.page.evaluate(async (conv) => {  // 5 s, set from carol's side over the API
    await fetch(`/conversations/${conv}/disappearing`, { method: "PUT",
      headers: { Authorization: `Bearer ${localStorage.getItem("chatd.token")}`, "Content-Type": "application/json" },
      body: JSON.stringify({ seconds: 5 }) });
  }, await alice.page.evaluate(() => Number(document.querySelector("#inbox li.active").dataset.id)));
  await alice.page.waitForFunction(() => document.getElementById("timer").value === "5");
  await sendText(alice, "gone in five");
  await waitText(carol, "gone in five");
  check(true, "a disappearing message arrives");
  await carol.page.waitForFunction(() => ![...document.querySelectorAll("#messages .msg .text")]
    .some((e) => e.textContent === "gone in five"), { timeout: 15000 });
  await alice.page.waitForFunction(() => ![...document.querySelectorAll("#messages .msg .text")]
    .some((e) => e.textContent === "gone in five"), { timeout: 15000 });
  check(true, "and disappears from both sides when its time is up");
  await alice.page.select("#timer", "");
  await carol.page.waitForFunction(() => [...document.querySelectorAll("#messages .notice")]
    .some((n) => n.textContent.includes("turned off")));
  check(true, "turning the timer off is told too");
  await shot(alice.page, "everyday");

  console.log("reports, the admin view and the account page");
  // alice reports one of carol's messages from the conversation.
  await openFromInbox(alice, carol.name);
  await waitText(alice, "old 120");
  answers.push("this is spam");
  await alice.page.evaluate(() => {
    const theirs = [...document.querySelectorAll("#messages .msg:not(.mine)")].pop();
    [...theirs.querySelectorAll(".actions button")].find((b) => b.textContent === "Report").click();
  });
  await alice.page.waitForFunction(() => document.getElementById("typing").textContent.startsWith("Reported"));
  check(true, "a message is reported from the conversation");
  check(await alice.page.$eval("#report-user", (b) => !b.hidden), "a direct chat offers to report the user");
  check(await alice.page.$eval("#admin-open", (b) => b.hidden), "no admin view for a user");

  // bob is made an admin the operator's way, and sees the admin view after a reload.
  execFileSync(process.env.CHATD_BINARY, ["admin", "promote", `bob_${suffix}@example.com`],
               { env: process.env, stdio: ["ignore", "ignore", "inherit"] });
  await bob2.page.reload();
  await bob2.page.waitForSelector("#connection.up");
  await bob2.page.waitForSelector("#admin-open:not([hidden])");
  await bob2.page.click("#admin-open");
  await bob2.page.waitForFunction(() => [...document.querySelectorAll("#admin-reports .report")]
    .some((r) => r.querySelector(".reason")?.textContent === "this is spam" &&
                 r.querySelector(".copy")?.textContent === "old 120"));
  check(true, "the admin sees the open report with the copy of the message");
  console.log("  (the admin finds carol)");
  await bob2.page.type("#admin-q", carol.name);
  await bob2.page.click("#admin-search button");
  await bob2.page.waitForFunction((n) => [...document.querySelectorAll("#admin-users .name")]
    .some((e) => e.textContent === n), {}, carol.name);
  console.log("  (and suspends her)");
  answers.push("spamming people");
  await bob2.page.evaluate(() => [...document.querySelectorAll("#admin-users button")]
    .find((b) => b.textContent === "Suspend").click());
  await carol.page.waitForFunction(() => !document.getElementById("auth").hidden &&
    document.getElementById("auth-error").textContent.includes("suspended"), { timeout: 5000 });
  check(true, "a suspended user is logged out and told why");
  await bob2.page.waitForFunction(() => [...document.querySelectorAll("#admin-users .badge")]
    .some((b) => b.textContent === "suspended"));
  await shot(bob2.page, "admin");
  await bob2.page.evaluate(() => [...document.querySelectorAll("#admin-users button")]
    .find((b) => b.textContent === "Unsuspend").click());
  await bob2.page.waitForFunction(() => document.getElementById("admin-status").textContent.includes("may log in"));
  await carol.page.type("#auth-email", `carol_${suffix}@example.com`);
  await carol.page.type("#auth-password", "correct-horse-battery");
  await carol.page.click("#auth-submit");
  await carol.page.waitForSelector("#app:not([hidden])");
  check(true, "unsuspended, carol logs in again");
  answers.push("warned carol");
  await bob2.page.evaluate(() => [...document.querySelectorAll("#admin-reports .report button")]
    .find((b) => b.textContent === "Resolve").click());
  await bob2.page.waitForFunction(() => document.querySelector("#admin-reports .empty") !== null);
  check(true, "a resolved report leaves the open list");

  // alice's account page: export, a wrong password, then leaving for good.
  await alice.page.click("#account-open");
  await alice.page.click("#export");
  await alice.page.waitForFunction(() => document.getElementById("account-status").textContent.startsWith("Exported"));
  const exported = await alice.page.$eval("#account-status", (s) => s.textContent);
  check(/^Exported [1-9]\d* message/.test(exported), `the export downloads ("${exported}")`);
  await shot(alice.page, "account");
  answers.push(null);
  await alice.page.type("#delete-password", "not-the-password");
  await alice.page.click("#delete-form button");
  await alice.page.waitForFunction(() => document.getElementById("account-status").textContent === "The password is wrong.");
  check(true, "a wrong password deletes nothing");
  answers.push(null);
  await alice.page.$eval("#delete-password", (i) => { i.value = ""; });
  await alice.page.type("#delete-password", "correct-horse-battery");
  await alice.page.click("#delete-form button");
  await alice.page.waitForFunction(() => !document.getElementById("auth").hidden &&
    document.getElementById("auth-error").textContent.includes("deleted"));
  check(true, "leaving for good returns to the login screen");
  await openFromInbox(bob2, "trio");
  await bob2.page.waitForFunction(() => !(
    [...document.querySelectorAll("#messages .msg .text")].some((e) => e.textContent === "hi both")));
  check(true, "what alice sent is gone for the others");
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
