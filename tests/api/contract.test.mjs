// The documents against the server: every object schema of docs/openapi.yaml and
// docs/asyncapi.yaml lists each of its fields in `required` (a client generator can trust them),
// and live answers and frames of a running chatd match them with no field left undocumented
// (unknown fields are refused: `additionalProperties: false` is put on every object schema that
// lists properties). Run by scripts/test with CHATD_BINARY and CHATD_DATABASE_URL set; ajv,
// js-yaml and ws come from tools/apilint (pinned in its package-lock.json).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startChatd } from "../support/chatd_server.mjs";

const root = new URL("../../", import.meta.url).pathname;
const require = createRequire(join(root, "tools/apilint/package.json"));
const Ajv = require("ajv").default;
const addFormats = require("ajv-formats");
const yaml = require("js-yaml");
const WebSocket = require("ws");

const failures = [];
setTimeout(() => { console.log("api contract: timed out"); process.exit(2); }, 120000);
function check(cond, what) {
  if (cond) console.log(`  ok  ${what}`);
  else { console.log(`  FAIL ${what}`); failures.push(what); }
}

const openapi = yaml.load(readFileSync(join(root, "docs/openapi.yaml"), "utf8"));
const asyncapi = yaml.load(readFileSync(join(root, "docs/asyncapi.yaml"), "utf8"));

// ---- the documents alone ----------------------------------------------------------------

// Every object schema with properties, wherever it sits, with a path to name it.
function* objects(node, path) {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) yield* objects(node[i], `${path}[${i}]`);
    return;
  }
  if (!node || typeof node !== "object") return;
  if (node.properties && typeof node.properties === "object") yield [path, node];
  for (const [k, v] of Object.entries(node)) {
    if (k === "examples" || k === "example") continue;
    yield* objects(v, `${path}.${k}`);
  }
}
// What chatd sends: response bodies and server → client frames (a request body may leave
// fields out; those are not checked here).
const sent = [
  ...Object.entries(openapi.components.schemas).map(([n, s]) => [`openapi schemas.${n}`, s]),
  ...Object.entries(openapi.paths).flatMap(([p, ops]) => Object.entries(ops).flatMap(([m, op]) =>
    Object.entries(op.responses || {}).map(([st, r]) => [`openapi ${m.toUpperCase()} ${p} ${st}`,
                                                          r.content?.["application/json"]?.schema]))),
  ...Object.entries(openapi.components.responses || {}).map(([n, r]) =>
    [`openapi responses.${n}`, r.content?.["application/json"]?.schema]),
  ...Object.entries(asyncapi.components.schemas).map(([n, s]) => [`asyncapi schemas.${n}`, s]),
  ...asyncapi.operations.receiveEvents.messages.map((ref) => {
    const name = ref.$ref.split("/").pop();
    return [`asyncapi ${name}`, asyncapi.components.messages[name].payload];
  }),
];
const incomplete = [];
for (const [where, schema] of sent)
  for (const [path, o] of objects(schema, where)) {
    const missing = Object.keys(o.properties).filter((k) => !(o.required || []).includes(k));
    if (missing.length) incomplete.push(`${path}: ${missing.join(", ")}`);
  }
check(incomplete.length === 0, `every field chatd sends is in required${incomplete.length ? `:\n      ${incomplete.join("\n      ")}` : ""}`);

// ---- validators: unknown fields refused ---------------------------------------------------

function strict(node) {
  if (Array.isArray(node)) return node.map(strict);
  if (!node || typeof node !== "object") return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) out[k] = k === "properties"
    ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, strict(s)])) : strict(v);
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(strict({ components: openapi.components }), "openapi");
ajv.addSchema(strict({ components: asyncapi.components }), "asyncapi");
const fix = (schema, doc) => JSON.parse(JSON.stringify(strict(schema)).replaceAll('"#/components/', `"${doc}#/components/`));

const responseSchema = (method, template, status) => {
  const op = openapi.paths[template]?.[method.toLowerCase()];
  if (!op) return { error: `${method} ${template} is not documented` };
  let r = op.responses?.[String(status)];
  if (!r) return { error: `${method} ${template} does not document ${status}` };
  if (r.$ref) r = openapi.components.responses[r.$ref.split("/").pop()];
  return { schema: r.content?.["application/json"]?.schema };
};
const seenRoutes = new Set();
function validateResponse(method, template, status, body) {
  seenRoutes.add(`${method} ${template}`);
  const { schema, error } = responseSchema(method, template, status);
  if (error) { failures.push(error); console.log(`  FAIL ${error}`); return; }
  if (!schema) return;
  const validate = ajv.compile(fix(schema, "openapi"));
  if (!validate(body)) {
    const what = `${method} ${template} ${status}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(body).slice(0, 400)}`;
    failures.push(what);
    console.log(`  FAIL ${what}`);
  }
}
const frameValidators = new Map();
for (const ref of asyncapi.operations.receiveEvents.messages) {
  const m = asyncapi.components.messages[ref.$ref.split("/").pop()];
  const type = (m.payload.properties ?? m.payload.oneOf[0].properties).type.const;
  frameValidators.set(type, ajv.compile(fix(m.payload, "asyncapi")));
}
const framesSeen = new Set();
function validateFrame(frame) {
  framesSeen.add(frame.type);
  const v = frameValidators.get(frame.type);
  if (!v) { failures.push(`frame type ${frame.type} is not documented`); return; }
  if (!v(frame)) {
    const what = `frame ${frame.type}: ${ajv.errorsText(v.errors)} in ${JSON.stringify(frame).slice(0, 400)}`;
    failures.push(what);
    console.log(`  FAIL ${what}`);
  }
}

// ---- a live chatd ------------------------------------------------------------------------

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const server = await startChatd(port, mkdtempSync(join(tmpdir(), "chatd-contract-")),
                                "contract-secret-0123456789abcdef0123456789");

// One request: the answer's status and JSON, validated against the route's documented answer.
async function call(method, template, path, token, body, raw) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined && !raw) headers["Content-Type"] = "application/json";
  const res = await fetch(base + path, { method, headers,
                                        body: raw ?? (body === undefined ? undefined : JSON.stringify(body)) });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON: not validated */ }
  if (json !== null && (res.headers.get("content-type") || "").includes("json"))
    validateResponse(method, template, res.status, json);
  return { status: res.status, json };
}

// A WebSocket whose every frame is validated; `next(type)` waits for one of that type.
function socket(token) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${token}`);
  const inbox = [];
  const waiters = [];
  ws.on("message", (data) => {
    const f = JSON.parse(String(data));
    validateFrame(f);
    inbox.push(f);
    for (const w of [...waiters]) w();
  });
  const next = (type, timeout = 5000) => new Promise((resolve, reject) => {
    const look = () => {
      const i = inbox.findIndex((f) => f.type === type);
      if (i < 0) return false;
      waiters.splice(waiters.indexOf(look), 1);
      resolve(inbox.splice(i, 1)[0]);
      return true;
    };
    waiters.push(look);
    if (!look()) setTimeout(() => reject(new Error(`no ${type} frame`)), timeout);
  });
  const opened = new Promise((r) => ws.on("open", r));
  return { ws, next, opened, send: (e) => ws.send(JSON.stringify(e)) };
}

try {
  const suffix = Date.now().toString(36);
  const reg = async (name) => (await call("POST", "/auth/register", "/auth/register", null,
    { username: `${name}_${suffix}`, email: `${name}_${suffix}@example.com`, password: "correct-horse-battery" })).json;
  const a = await reg("ann"), b = await reg("ben"), c = await reg("cat");
  const [ta, tb] = [a.token, b.token];
  await call("POST", "/auth/login", "/auth/login", null, { email: `ann_${suffix}@example.com`, password: "correct-horse-battery" });
  await call("POST", "/auth/login", "/auth/login", null, { email: `ann_${suffix}@example.com`, password: "wrong-password-1" });
  await call("GET", "/healthz", "/healthz");
  await call("GET", "/users/me", "/users/me", ta);
  await call("GET", "/users/me", "/users/me");
  await call("GET", "/users/{id}", `/users/${b.user.id}`, ta);
  await call("GET", "/users/{id}", "/users/999999999", ta);
  await call("GET", "/users", `/users?username=ben_${suffix}`, ta);

  const sa = socket(ta), sb = socket(tb);
  await sa.opened; await sb.opened;
  await sa.next("ready"); await sb.next("ready");
  const up = await call("POST", "/attachments", "/attachments?filename=n.txt", ta, undefined, "some bytes");
  sa.send({ type: "send_message", to: b.user.id, content: "hi @ben", client_id: "k1",
            mentions: [b.user.id], attachment_ids: [up.json.attachment.id] });
  const ack = await sa.next("ack");
  await sb.next("message");
  await sa.next("receipt");
  const conv = ack.message.conversation_id;
  sb.send({ type: "typing", conversation_id: conv });
  await sa.next("typing");
  sb.send({ type: "react", message_id: ack.message.id, emoji: "👍" });
  await sa.next("reaction");
  sb.send({ type: "mark_read", conversation_id: conv, seq: ack.message.seq });
  await sa.next("receipt");
  sa.send({ type: "edit_message", message_id: ack.message.id, content: "hi @ben, edited" });
  await sb.next("message_updated");
  sa.send({ type: "ping" });
  await sa.next("pong");
  sa.send({ type: "nonsense" });
  await sa.next("error");
  sb.send({ type: "send_message", to: c.user.id, forward_of: ack.message.id, client_id: "f1" });
  await sb.next("ack");
  await call("PUT", "/conversations/{id}/settings", `/conversations/${conv}/settings`, tb, { pinned: true, muted_until: "2099-01-01T00:00:00Z" });
  await sb.next("conversation_settings");
  await call("PUT", "/conversations/{id}/settings", `/conversations/${conv}/settings`, tb, { pinned: "yes" });
  await call("PUT", "/conversations/{id}/disappearing", `/conversations/${conv}/disappearing`, ta, { seconds: 86400 });
  await sa.next("conversation_updated");
  await call("PUT", "/conversations/{id}/disappearing", `/conversations/${conv}/disappearing`, ta, { seconds: 1 });
  sa.send({ type: "send_message", to: b.user.id, content: "this one goes in a day" });
  await sa.next("ack");
  const sc = socket(c.token);  // cat connects: presence to ben, the replay of the forward
  await sc.opened; await sc.next("ready"); await sc.next("message");
  await sb.next("presence");

  const g = await call("POST", "/groups", "/groups", ta, { name: "docs", members: [b.user.id] });
  await call("POST", "/groups", "/groups", ta, { name: "", members: [] });
  await call("GET", "/groups/{id}", `/groups/${g.json.group.id}`, ta);
  await call("GET", "/groups/{id}", "/groups/999999999", ta);
  await call("POST", "/groups/{id}/members", `/groups/${g.json.group.id}/members`, ta, { user_id: c.user.id });
  sa.send({ type: "send_message", group_id: g.json.group.id, content: "to the group" });
  const gm = await sa.next("ack");
  await call("GET", "/messages/{id}/receipts", `/messages/${gm.message.id}/receipts`, ta);
  await call("GET", "/conversations", "/conversations?limit=2", ta);
  await call("GET", "/conversations", "/conversations?archived=true", ta);
  await call("GET", "/conversations", "/conversations?limit=0", ta);
  await call("GET", "/messages", `/messages?conversation_id=${conv}`, tb);
  await call("GET", "/messages", `/messages?conversation_id=${conv}&changed_since=2020-01-01T00:00:00Z`, tb);
  await call("GET", "/messages", "/messages?conversation_id=999999999", tb);
  await call("GET", "/search", "/search?q=hi&limit=5", tb);
  await call("GET", "/search", "/search?q=...", tb);
  await call("POST", "/users/me/blocks", "/users/me/blocks", tb, { user_id: c.user.id });
  await call("GET", "/users/me/blocks", "/users/me/blocks", tb);
  await call("DELETE", "/users/me/blocks/{user_id}", `/users/me/blocks/${c.user.id}`, tb);
  await call("POST", "/devices", "/devices", tb, { platform: "web", token: "contract-device" });
  await call("POST", "/reports", "/reports", tb, { message_id: ack.message.id, reason: "checking the documents" });
  execFileSync(process.env.CHATD_BINARY, ["admin", "promote", `ann_${suffix}@example.com`],
               { env: process.env, stdio: ["ignore", "ignore", "inherit"] });
  await call("GET", "/admin/users", "/admin/users?q=ben", ta);
  await call("GET", "/admin/users", "/admin/users", tb);
  await call("GET", "/admin/reports", "/admin/reports?status=open", ta);
  await call("GET", "/admin/stats", "/admin/stats", ta);
  await call("POST", "/admin/invites", "/admin/invites", ta, { max_uses: 2, expires_in_seconds: 3600 });
  await call("GET", "/users/me/export", "/users/me/export", tb);
  await call("PUT", "/users/me/password", "/users/me/password", tb, { current_password: "wrong-password-1", new_password: "another-horse-battery" });

  const expected = ["ready", "ack", "message", "receipt", "typing", "reaction", "message_updated",
                    "pong", "error", "conversation_settings", "conversation_updated", "presence"];
  check(expected.every((t) => framesSeen.has(t)), `every kind of frame was seen and checked (${[...framesSeen].join(", ")})`);
  check(seenRoutes.size >= 25, `${seenRoutes.size} routes answered as documented`);
  for (const s of [sa, sb, sc]) s.ws.close();
} catch (err) {
  failures.push(String(err.stack || err));
} finally {
  server.kill("SIGKILL");
}

if (failures.length) {
  console.log(`api contract: ${failures.length} failure(s)`);
  for (const f of failures) console.log(`  - ${f}`);
  process.exit(1);
}
console.log("api contract: live answers and frames match docs/openapi.yaml and docs/asyncapi.yaml");
process.exit(0);
