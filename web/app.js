// The chatd web client: inbox, conversations, groups, over the public contract only (REST and
// /ws). Everything users type is put on the page as text (textContent), never as HTML.
import { Api, Socket } from "./api.js";
import { initAccount } from "./account.js";
import { $, el, button } from "./dom.js";
import { applyReaction, chips, picker } from "./reactions.js";

const api = new Api();

const state = {
  me: null,
  socket: null,
  conversations: new Map(),  // id -> summary from GET /conversations (+ live updates)
  inboxNext: null,           // next_before of the oldest inbox page loaded (null: nothing older)
  inboxPaged: false,         // older pages were loaded: a reload merges the first page into them
  users: new Map(),          // id -> User (presence)
  open: null,                // { id, peer, group, messages: Map seq -> message, oldest, hasMore }
  pending: new Map(),        // client_id -> { event, convKey }
  receipts: new Map(),       // conversation id -> Map user -> { delivered, read }
  typingTimers: new Map(),
  replyTo: null,
  blocked: new Set(),        // ids of the users one blocks
  lastTypingSent: 0,
};

// ---- authentication ----------------------------------------------------------------------

let registering = false;
function showAuth() {
  $("app").hidden = true;
  $("auth").hidden = false;
}
$("tab-login").onclick = () => setMode(false);
$("tab-register").onclick = () => setMode(true);
function setMode(reg) {
  registering = reg;
  $("tab-login").setAttribute("aria-selected", String(!reg));
  $("tab-register").setAttribute("aria-selected", String(reg));
  $("username-row").hidden = !reg;
  $("auth-submit").textContent = reg ? "Register" : "Log in";
}
$("auth-form").onsubmit = async (e) => {
  e.preventDefault();
  $("auth-error").textContent = "";
  try {
    const r = registering
      ? await api.register($("auth-username").value, $("auth-email").value, $("auth-password").value)
      : await api.login($("auth-email").value, $("auth-password").value);
    api.setToken(r.token);
    start(r.user);
  } catch (err) {
    $("auth-error").textContent = err.message;
  }
};
$("logout").onclick = () => endSession("");
// Back to the login screen, with `why` shown there (a session ended elsewhere, a suspension).
function endSession(why) {
  state.socket?.close();
  api.setToken("");
  if (!why) { location.reload(); return; }
  showAuth();
  $("auth-error").textContent = why;
}
const account = initAccount(api, { endSession, showPanel, closePanel });

// ---- start -------------------------------------------------------------------------------

async function start(user) {
  state.me = user;
  $("auth").hidden = true;
  $("app").hidden = false;
  $("me").textContent = user.username;
  account.setUser(user);
  try {
    state.blocked = new Set((await api.blocks()).users.map((u) => u.id));
  } catch { /* the button shows Block; the server still decides */ }
  await loadInbox();
  state.socket = new Socket(api, onEvent, (up) => $("connection").classList.toggle("up", up),
                            (code) => endSession(code === 4003
                              ? "Your account was suspended by an admin."
                              : "Your session was ended. Log in again."));
}

// The account and admin screens take the conversation's place.
function showPanel(id) {
  for (const p of ["chat", "account", "admin"]) $(p).hidden = p !== id;
  $("app").classList.add("in-chat");
  state.open = null;
  renderInbox();
}
function closePanel() {
  $("account").hidden = $("admin").hidden = true;
  $("app").classList.remove("in-chat");
}

async function fetchInbox(before) {
  try {
    return await api.conversations(before);
  } catch (err) {
    if (err.status === 401) showAuth();
    else $("sidebar-error").textContent = err.message;
    return null;
  }
}
async function loadInbox() {
  const page = await fetchInbox();
  if (!page) return;
  if (!state.inboxPaged) {
    state.conversations = new Map();
    state.inboxNext = page.next_before;
  }
  addConversations(page.conversations);
}
async function loadOlderConversations() {
  const page = state.inboxNext && await fetchInbox(state.inboxNext);
  if (!page) return;
  state.inboxPaged = true;
  state.inboxNext = page.next_before;
  addConversations(page.conversations);
}

// ---- inbox -------------------------------------------------------------------------------

function convName(c) {
  return c.group ? c.group.name : c.peer ? c.peer.username : "?";
}
function preview(m) {
  if (!m) return "";
  if (m.deleted) return "message deleted";
  if (!m.content && m.attachments?.length) return `📎 ${m.attachments[0].filename}`;
  return m.content;
}
function addConversations(conversations) {
  for (const c of conversations) {
    state.conversations.set(c.id, c);
    if (c.peer) state.users.set(c.peer.id, c.peer);
  }
  renderInbox();
}
function renderInbox() {
  const list = $("inbox");
  list.replaceChildren();
  // The server's order: latest activity (last message, else creation) first, then higher id.
  const sorted = [...state.conversations.values()].sort((a, b) =>
    (b.activity_at || "").localeCompare(a.activity_at || "") || b.id - a.id);
  for (const c of sorted) {
    const li = el("li");
    li.tabIndex = 0;
    li.dataset.id = c.id;
    if (state.open?.id === c.id) li.classList.add("active");
    const name = el("span", "name");
    if (c.peer) {
      const peer = state.users.get(c.peer.id) || c.peer;
      name.append(el("span", `dot${peer.is_online ? " online" : ""}`));
    }
    name.append(document.createTextNode(convName(c)));
    li.append(name);
    if (c.unread_count > 0) li.append(el("span", "unread", String(c.unread_count)));
    if (c.peer) {
      const peer = state.users.get(c.peer.id) || c.peer;
      if (!peer.is_online && peer.last_seen)
        li.append(el("span", "seen", `last seen ${new Date(peer.last_seen).toLocaleString()}`));
    }
    li.append(el("span", "preview", preview(c.last_message)));
    li.onclick = () => openConversation(c);
    li.onkeydown = (e) => { if (e.key === "Enter") openConversation(c); };
    list.append(li);
  }
  if (state.inboxNext) {
    const older = el("button", null, "Older conversations");
    older.type = "button";
    older.id = "older-conversations";
    older.onclick = loadOlderConversations;
    const li = el("li", "more");
    li.append(older);
    list.append(li);
  }
}

$("new-chat").onsubmit = async (e) => {
  e.preventDefault();
  $("sidebar-error").textContent = "";
  const username = $("new-chat-username").value.trim();
  if (!username) return;
  try {
    const { users } = await api.findUser(username);
    if (!users.length) throw new Error(`no user ${username}`);
    const peer = users[0];
    state.users.set(peer.id, peer);
    const existing = [...state.conversations.values()].find((c) => c.peer?.id === peer.id);
    $("new-chat-username").value = "";
    openConversation(existing || { id: null, peer, group: null, unread_count: 0 });
  } catch (err) {
    $("sidebar-error").textContent = err.message;
  }
};

$("new-group").onsubmit = async (e) => {
  e.preventDefault();
  $("sidebar-error").textContent = "";
  try {
    const names = $("new-group-members").value.split(",").map((s) => s.trim()).filter(Boolean);
    const ids = [];
    for (const n of names) {
      const { users } = await api.findUser(n);
      if (!users.length) throw new Error(`no user ${n}`);
      ids.push(users[0].id);
    }
    const r = await api.createGroup($("new-group-name").value.trim(), ids);
    $("new-group-name").value = $("new-group-members").value = "";
    const summary = { id: r.conversation_id, group: { id: r.group.id, name: r.group.name },
                      peer: null, unread_count: 0, last_message: null,
                      last_message_at: null, activity_at: r.group.created_at };
    state.conversations.set(summary.id, summary);
    renderInbox();
    openConversation(summary);
  } catch (err) {
    $("sidebar-error").textContent = err.message;
  }
};

// ---- a conversation ----------------------------------------------------------------------

async function openConversation(c) {
  state.open = { id: c.id, peer: c.peer, group: c.group, messages: new Map(), oldest: null,
                 hasMore: false, members: null };
  state.replyTo = null;
  $("replying").hidden = true;
  $("app").classList.add("in-chat");
  $("account").hidden = $("admin").hidden = true;
  $("chat").hidden = false;
  $("chat-title").textContent = convName(c);
  $("group-admin").hidden = !c.group;
  $("report-user").hidden = !c.peer;
  renderBlockButton();
  $("typing").textContent = "";
  renderSubtitle();
  renderMessages();
  c.unread_count = 0;
  renderInbox();
  try {
    const page = c.id ? await api.history(c.id) : await api.historyWith(c.peer.id);
    if (state.open?.peer !== c.peer || state.open?.group !== c.group) return;
    addMessages(page.messages, page.has_more);
    if (c.group) {
      const { group } = await api.group(c.group.id);
      state.open.members = group.members;
      renderSubtitle();
    }
    markRead();
  } catch (err) {
    if (err.status !== 404) $("typing").textContent = err.message;
  }
  $("text").focus();
}

$("back").onclick = () => {
  $("app").classList.remove("in-chat");
  state.open = null;
  renderInbox();
};

function renderSubtitle() {
  const o = state.open;
  if (!o) return;
  if (o.group) {
    $("chat-subtitle").textContent = o.members ? o.members.map((m) => m.username).join(", ") : "";
  } else if (o.peer) {
    const p = state.users.get(o.peer.id) || o.peer;
    $("chat-subtitle").textContent = p.is_online ? "online"
      : p.last_seen ? `last seen ${new Date(p.last_seen).toLocaleString()}` : "";
  }
}

function addMessages(list, hasMore) {
  const o = state.open;
  for (const m of list) {
    if (!o.id) o.id = m.conversation_id;
    o.messages.set(m.seq, m);
    if (o.oldest === null || m.seq < o.oldest) o.oldest = m.seq;
  }
  if (hasMore !== undefined) o.hasMore = hasMore;
  renderMessages();
}

function tick(m) {
  if (m.sender_id !== state.me.id) return null;
  const others = state.receipts.get(m.conversation_id);
  let delivered = false, read = false;
  if (others && others.size) {
    const vals = [...others.values()];
    delivered = vals.every((r) => r.delivered >= m.seq || r.read >= m.seq);
    read = vals.every((r) => r.read >= m.seq);
  }
  const t = el("span", `tick${read ? " read" : ""}`, read || delivered ? "✓✓" : "✓");
  t.title = read ? "read" : delivered ? "delivered" : "sent";
  t.dataset.state = read ? "read" : delivered ? "delivered" : "sent";
  return t;
}

function bubble(m, pending) {
  const li = el("li", `msg${m.sender_id === state.me.id ? " mine" : ""}${pending ? " pending" : ""}`);
  if (m.id) li.dataset.id = m.id;
  if (m.seq) li.dataset.seq = m.seq;
  if (m.client_id) li.dataset.clientId = m.client_id;
  if (state.open?.group && m.sender_id !== state.me.id) {
    const who = state.open.members?.find((x) => x.user_id === m.sender_id);
    li.append(el("div", "who", who ? who.username : `user ${m.sender_id}`));
  }
  if (m.reply_to) {
    const orig = [...state.open.messages.values()].find((x) => x.id === m.reply_to);
    li.append(el("div", "quote", orig ? preview(orig) : "a message"));
  }
  if (m.deleted) {
    li.append(el("div", "deleted", "message deleted"));
  } else {
    if (m.content) li.append(el("div", "text", m.content));
    for (const a of m.attachments || []) li.append(attachment(a));
    if (m.reactions?.length) li.append(chips(m, state.me.id, react));
  }
  const meta = el("div", "meta");
  const when = m.created_at ? new Date(m.created_at) : new Date();
  meta.append(document.createTextNode(
    `${m.edited_at ? "edited " : ""}${when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })} `));
  if (pending) meta.append(el("span", "tick", "🕓"));
  else { const t = tick(m); if (t) meta.append(t); }
  li.append(meta);
  if (!pending && !m.deleted) li.append(actions(m));
  return li;
}

function attachment(a) {
  const box = el("div", "attachment");
  if (a.content_type.startsWith("image/")) {
    const img = el("img");
    img.alt = a.filename;
    api.attachmentUrl(a.url).then((u) => { img.src = u; }).catch(() => {});
    box.append(img);
  } else {
    const b = el("button", "", `📎 ${a.filename} (${Math.ceil(a.size / 1024)} KiB)`);
    b.type = "button";
    b.onclick = async () => {
      const u = await api.attachmentUrl(a.url);
      const link = el("a");
      link.href = u;
      link.download = a.filename;
      link.click();
    };
    box.append(b);
  }
  return box;
}

function actions(m) {
  const bar = el("div", "actions");
  const reply = el("button", "", "Reply");
  reply.type = "button";
  reply.onclick = () => {
    state.replyTo = m;
    $("replying-text").textContent = `Replying to: ${preview(m)}`;
    $("replying").hidden = false;
    $("text").focus();
  };
  bar.append(reply, picker(m, state.me.id, react));
  if (m.sender_id === state.me.id) {
    const edit = el("button", "", "Edit");
    edit.type = "button";
    edit.onclick = () => {
      const content = prompt("Edit message", m.content);
      if (content !== null) state.socket.send({ type: "edit_message", message_id: m.id, content });
    };
    const del = el("button", "", "Delete");
    del.type = "button";
    del.onclick = () => {
      if (confirm("Delete for everyone?")) state.socket.send({ type: "delete_message", message_id: m.id });
    };
    bar.append(edit, del);
  } else {
    bar.append(button("Report", () => report({ message_id: m.id })));
  }
  return bar;
}

function react(m, emoji) {
  state.socket?.send({ type: "react", message_id: m.id, emoji });
}

// PROTOCOL §9: blocking the peer of a direct chat from its header.
function renderBlockButton() {
  const peer = state.open?.peer;
  $("block-user").hidden = !peer;
  if (peer) $("block-user").textContent = state.blocked.has(peer.id) ? "Unblock" : "Block";
}
$("block-user").onclick = async () => {
  const peer = state.open?.peer;
  if (!peer) return;
  try {
    if (state.blocked.has(peer.id)) {
      await api.unblock(peer.id);
      state.blocked.delete(peer.id);
    } else {
      if (!confirm(`Block ${peer.username}? Neither of you can then message the other here.`)) return;
      await api.block(peer.id);
      state.blocked.add(peer.id);
    }
    renderBlockButton();
  } catch (err) {
    $("typing").textContent = err.message;
  }
};

// PROTOCOL §10: a message or a user reported to the admins, with a reason.
async function report(target) {
  const reason = prompt("Why are you reporting this? (sent to the admins)");
  if (!reason) return;
  try {
    await api.report({ ...target, reason });
    $("typing").textContent = "Reported. Thank you.";
  } catch (err) {
    $("typing").textContent = err.message;
  }
}
$("report-user").onclick = () => {
  if (state.open?.peer) report({ user_id: state.open.peer.id });
};

function renderMessages() {
  const list = $("messages");
  const o = state.open;
  if (!o) return;
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const oldHeight = list.scrollHeight;
  const oldTop = list.scrollTop;
  list.replaceChildren();
  let day = "";
  const sorted = [...o.messages.values()].sort((a, b) => a.seq - b.seq);
  for (const m of sorted) {
    const d = new Date(m.created_at).toDateString();
    if (d !== day) {
      day = d;
      list.append(el("li", "day", d));
    }
    list.append(bubble(m, false));
  }
  for (const [cid, p] of state.pending) {
    if (p.key !== convKey(o)) continue;
    list.append(bubble({ ...p.event, sender_id: state.me.id, client_id: cid }, true));
  }
  if (atBottom || o.scrollToBottom !== false) {
    list.scrollTop = list.scrollHeight;
    o.scrollToBottom = false;
  } else {
    list.scrollTop = oldTop + (list.scrollHeight - oldHeight);
  }
}

// Older history as one scrolls up.
$("messages").addEventListener("scroll", async () => {
  const o = state.open;
  const list = $("messages");
  if (!o || !o.id || !o.hasMore || o.loading || list.scrollTop > 60) return;
  o.loading = true;
  try {
    const page = await api.history(o.id, { before: o.oldest });
    if (state.open === o) {
      o.scrollToBottom = false;
      addMessages(page.messages, page.has_more);
    }
  } finally {
    o.loading = false;
  }
});

function markRead() {
  const o = state.open;
  if (!o || !o.id || document.hidden) return;
  const last = Math.max(0, ...[...o.messages.values()]
    .filter((m) => m.sender_id !== state.me.id).map((m) => m.seq));
  if (last > (o.readUpTo || 0)) {
    o.readUpTo = last;
    state.socket?.send({ type: "mark_read", conversation_id: o.id, seq: last });
  }
}
document.addEventListener("visibilitychange", markRead);

// ---- sending -----------------------------------------------------------------------------

const convKey = (o) => (o.group ? `g${o.group.id}` : `u${o.peer.id}`);
let counter = 0;
function clientId() {
  return `${state.me.id}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
}

function send(extra) {
  const o = state.open;
  if (!o) return;
  const event = { type: "send_message", ...extra };
  if (o.group) event.group_id = o.group.id;
  else event.to = o.peer.id;
  if (state.replyTo) event.reply_to = state.replyTo.id;
  const cid = clientId();
  event.client_id = cid;
  state.pending.set(cid, { event, key: convKey(o) });
  state.replyTo = null;
  $("replying").hidden = true;
  o.scrollToBottom = true;
  renderMessages();
  state.socket.send(event);  // if the socket is down, it is resent on `ready`
}

$("composer").onsubmit = (e) => {
  e.preventDefault();
  const text = $("text").value;
  if (!text.trim()) return;
  $("text").value = "";
  send({ content: text });
};
$("text").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) {
    e.preventDefault();
    $("composer").requestSubmit();
    return;
  }
  const o = state.open;
  if (o?.id && Date.now() - state.lastTypingSent > 2000) {
    state.lastTypingSent = Date.now();
    state.socket.send({ type: "typing", conversation_id: o.id });
  }
});
$("cancel-reply").onclick = () => { state.replyTo = null; $("replying").hidden = true; };
$("attach").onchange = async () => {
  const file = $("attach").files[0];
  $("attach").value = "";
  if (!file) return;
  try {
    const { attachment } = await api.upload(file);
    send({ content: "", attachment_ids: [attachment.id] });
  } catch (err) {
    $("typing").textContent = err.message;
  }
};

$("group-admin").onsubmit = async (e) => {
  e.preventDefault();
  const o = state.open;
  try {
    const { users } = await api.findUser($("add-member").value.trim());
    if (!users.length) throw new Error("no such user");
    const { group } = await api.addMember(o.group.id, users[0].id);
    o.members = group.members;
    $("add-member").value = "";
    renderSubtitle();
  } catch (err) {
    $("typing").textContent = err.message;
  }
};
$("remove-member").onclick = async () => {
  const o = state.open;
  const name = $("add-member").value.trim();
  const member = o?.members?.find((m) => m.username.toLowerCase() === name.toLowerCase());
  if (!member) { $("typing").textContent = `${name} is not a member`; return; }
  try {
    await api.removeMember(o.group.id, member.user_id);
    o.members = o.members.filter((m) => m.user_id !== member.user_id);
    $("add-member").value = "";
    renderSubtitle();
  } catch (err) {
    $("typing").textContent = err.message;
  }
};
$("leave-group").onclick = async () => {
  const o = state.open;
  if (!o?.group || !confirm("Leave this group?")) return;
  await api.removeMember(o.group.id, state.me.id);
  state.conversations.delete(o.id);
  $("back").click();
};

// ---- events from the server --------------------------------------------------------------

function touchConversation(m, incoming) {
  let c = state.conversations.get(m.conversation_id);
  if (!c) {
    loadInbox();  // a conversation we did not know yet
    return;
  }
  c.last_message = m;
  c.last_message_at = c.activity_at = m.created_at;
  if (incoming && state.open?.id !== m.conversation_id) c.unread_count = (c.unread_count || 0) + 1;
  renderInbox();
}

function onEvent(ev) {
  switch (ev.type) {
    case "ready":
      state.me = ev.user;
      // Resend what was not acked (same client_id: stored once), and catch up.
      for (const p of state.pending.values()) state.socket.send(p.event);
      catchUp();
      break;
    case "ack": {
      state.pending.delete(ev.client_id);
      const m = ev.message;
      const o = state.open;
      if (o && (o.id === m.conversation_id || (!o.id && o.peer && m.to === o.peer.id))) {
        if (!o.id) {
          o.id = m.conversation_id;
          state.conversations.set(o.id, { id: o.id, peer: o.peer, group: null, unread_count: 0 });
        }
        addMessages([m]);
      }
      touchConversation(m, false);
      break;
    }
    case "message": {
      const m = ev.message;
      const o = state.open;
      if (o && (o.id === m.conversation_id ||
                (!o.id && o.peer && (m.sender_id === o.peer.id || m.to === o.peer.id)))) {
        addMessages([m]);
        markRead();
        clearTyping(m.sender_id);
      }
      touchConversation(m, m.sender_id !== state.me.id);
      break;
    }
    case "reaction": {
      const o = state.open;
      const m = o && [...o.messages.values()].find((x) => x.id === ev.message_id);
      if (m) {
        applyReaction(m, ev);
        renderMessages();
      }
      break;
    }
    case "message_updated": {
      const m = ev.message;
      if (state.open?.id === m.conversation_id && state.open.messages.has(m.seq)) addMessages([m]);
      const c = state.conversations.get(m.conversation_id);
      if (c?.last_message?.id === m.id) { c.last_message = m; renderInbox(); }
      break;
    }
    case "receipt": {
      let r = state.receipts.get(ev.conversation_id);
      if (!r) state.receipts.set(ev.conversation_id, (r = new Map()));
      const cur = r.get(ev.user_id) || { delivered: 0, read: 0 };
      if (ev.status === "read") cur.read = Math.max(cur.read, ev.up_to_seq);
      cur.delivered = Math.max(cur.delivered, ev.up_to_seq);
      r.set(ev.user_id, cur);
      if (state.open?.id === ev.conversation_id) renderMessages();
      break;
    }
    case "presence": {
      const u = state.users.get(ev.user_id) || { id: ev.user_id };
      u.is_online = ev.online;
      if (ev.last_seen) u.last_seen = ev.last_seen;
      state.users.set(ev.user_id, u);
      renderInbox();
      renderSubtitle();
      break;
    }
    case "typing":
      if (state.open?.id === ev.conversation_id && ev.user_id !== state.me.id) showTyping(ev.user_id);
      break;
    case "error":
      if (ev.client_id) state.pending.delete(ev.client_id);
      $("typing").textContent = ev.message;
      renderMessages();
      break;
  }
}

async function catchUp() {
  await loadInbox();
  const o = state.open;
  if (!o?.id) return;
  let after = Math.max(0, ...o.messages.keys());
  try {
    for (;;) {
      const page = await api.history(o.id, { after, limit: 200 });
      addMessages(page.messages);
      if (!page.has_more || !page.messages.length) break;
      after = page.messages[page.messages.length - 1].seq;
    }
    markRead();
  } catch (err) {
    if (err.status === 404) $("back").click();  // no longer a member (removed from the group)
    else $("typing").textContent = err.message;
  }
}

function typingName(userId) {
  const o = state.open;
  if (o?.peer && o.peer.id === userId) return o.peer.username;
  return o?.members?.find((m) => m.user_id === userId)?.username || "someone";
}
function showTyping(userId) {
  clearTimeout(state.typingTimers.get(userId));
  $("typing").textContent = `${typingName(userId)} is typing…`;
  state.typingTimers.set(userId, setTimeout(() => clearTyping(userId), 4000));
}
function clearTyping(userId) {
  clearTimeout(state.typingTimers.get(userId));
  state.typingTimers.delete(userId);
  if (!state.typingTimers.size) $("typing").textContent = "";
}

// ---- boot --------------------------------------------------------------------------------

(async () => {
  if (!api.token) return showAuth();
  try {
    const { user } = await api.me();
    start(user);
  } catch {
    api.setToken("");
    showAuth();
  }
})();
