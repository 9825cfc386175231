// One conversation (PROTOCOL §3–§5, §9): its messages with replies, attachments, reactions,
// mentions and forwards; the actions on a message (reply, react, edit, delete, forward, report,
// message info); the header's block and disappearing-timer controls.
import { $, el, button } from "./dom.js";
import { api, state, convName, preview, convKey, expired, duration } from "./state.js";
import { renderInbox } from "./inbox.js";
import { clientId } from "./composer.js";
import { chips, picker } from "./reactions.js";
// Opens `c`; with `at` (a message found by search), at that message, highlighted.
export async function openConversation(c, at = null) {
  state.open = { id: c.id, peer: c.peer, group: c.group, messages: new Map(), oldest: null,
                 hasMore: false, members: null, notices: [], found: at?.id ?? null,
                 scrollToBottom: !at };
  state.replyTo = null;
  $("replying").hidden = true;
  $("app").classList.add("in-chat");
  $("account").hidden = $("admin").hidden = true;
  $("chat").hidden = false;
  $("chat-title").textContent = convName(c);
  $("group-admin").hidden = !c.group;
  $("report-user").hidden = !c.peer;
  $("info").hidden = true;
  renderBlockButton();
  renderTimer(c.disappearing_seconds ?? null);
  $("typing").textContent = "";
  renderSubtitle();
  renderMessages();
  c.unread_count = 0;
  renderInbox();
  try {
    // At a found message: the page that ends a little after it.
    const page = at ? await api.history(c.id, { before: at.seq + 10 })
      : c.id ? await api.history(c.id) : await api.historyWith(c.peer.id);
    if (state.open?.peer !== c.peer || state.open?.group !== c.group) return;
    addMessages(page.messages, page.has_more);
    if (c.group) {
      const { group } = await api.group(c.group.id);
      state.open.members = group.members;
      renderSubtitle();
    }
    if (at) document.querySelector(`#messages .msg[data-id="${at.id}"]`)?.scrollIntoView({ block: "center" });
    else markRead();
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

export function renderSubtitle() {
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

export function addMessages(list, hasMore) {
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
  if (m.mentions?.includes(state.me.id)) li.classList.add("mentions-me");
  if (m.id && m.id === state.open?.found) li.classList.add("found");
  if (m.forwarded && !m.deleted) li.append(el("div", "forwarded", "↪ Forwarded"));
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
  bar.append(reply, picker(m, state.me.id, react), button("Forward", () => forward(m)));
  if (m.sender_id === state.me.id && state.open?.group) bar.append(button("Info", () => info(m)));
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

// PROTOCOL §9: a copy of `m` (content and attachments) sent to another conversation, named by
// its title in the inbox.
function forward(m) {
  const name = prompt("Forward to (a chat's name)");
  if (!name) return;
  const target = [...state.conversations.values()]
    .find((c) => convName(c).toLowerCase() === name.trim().toLowerCase());
  if (!target) { $("typing").textContent = `no chat named ${name}`; return; }
  const event = { type: "send_message", forward_of: m.id, client_id: clientId() };
  if (target.group) event.group_id = target.group.id;
  else event.to = target.peer.id;
  state.pending.set(event.client_id, { event, key: convKey(target) });
  state.socket.send(event);
  $("typing").textContent = `Forwarded to ${convName(target)}`;
}

// Message info (PROTOCOL §9): who got and read one's own group message.
async function info(m) {
  try {
    const { receipts } = await api.receipts(m.id);
    const list = $("info-list");
    list.replaceChildren();
    for (const r of receipts) {
      const who = state.open?.members?.find((x) => x.user_id === r.user_id);
      const when = r.read_at || r.delivered_at;
      const li = el("li", `receipt ${r.status}`, `${who ? who.username : `user ${r.user_id}`}: ${r.status}` +
                   (when ? ` ${new Date(when).toLocaleString()}` : ""));
      li.dataset.status = r.status;
      list.append(li);
    }
    $("info-title").textContent = `Message info: ${preview(m)}`;
    $("info").hidden = false;
  } catch (err) {
    $("typing").textContent = err.message;
  }
}
$("info-close").onclick = () => { $("info").hidden = true; };

// PROTOCOL §9: the conversation's disappearing timer, in the header; a change is a notice in the
// conversation (conversation_updated, from here or from the other side).
export function renderTimer(seconds) {
  const sel = $("timer");
  sel.disabled = !state.open?.id;
  sel.value = seconds ? String(seconds) : "";
  if (seconds && !sel.value) {  // a value set elsewhere that the menu does not offer
    sel.append(new Option(duration(seconds), String(seconds)));
    sel.value = String(seconds);
  }
}
$("timer").onchange = async () => {
  const o = state.open;
  if (!o?.id) return;
  const seconds = $("timer").value ? Number($("timer").value) : null;
  try {
    await api.setTimer(o.id, seconds);
  } catch (err) {
    $("typing").textContent = err.message;
    renderTimer(state.conversations.get(o.id)?.disappearing_seconds ?? null);
  }
};
export function timerChanged(ev) {
  const c = state.conversations.get(ev.conversation_id);
  if (c) c.disappearing_seconds = ev.disappearing_seconds;
  const o = state.open;
  if (o?.id !== ev.conversation_id) return;
  renderTimer(ev.disappearing_seconds);
  const who = ev.by === state.me.id ? "You" : typingName(ev.by);
  o.notices.push(ev.disappearing_seconds
    ? `${who} turned on disappearing messages: new messages disappear after ${duration(ev.disappearing_seconds)}.`
    : `${who} turned off disappearing messages.`);
  o.scrollToBottom = true;
  renderMessages();
}
export function typingName(userId) {
  const o = state.open;
  if (o?.peer && o.peer.id === userId) return o.peer.username;
  return o?.members?.find((m) => m.user_id === userId)?.username || "someone";
}

// PROTOCOL §9: blocking the peer of a direct chat from its header.
export function renderBlockButton() {
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

let expiryTimer = null;
export function renderMessages() {
  const list = $("messages");
  const o = state.open;
  if (!o) return;
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const oldHeight = list.scrollHeight;
  const oldTop = list.scrollTop;
  list.replaceChildren();
  let day = "";
  // Disappeared messages go, and the next to go is re-checked when its time comes.
  const sorted = [...o.messages.values()].filter((m) => !expired(m)).sort((a, b) => a.seq - b.seq);
  clearTimeout(expiryTimer);
  const next = Math.min(...sorted.filter((m) => m.expires_at).map((m) => new Date(m.expires_at)));
  if (Number.isFinite(next)) expiryTimer = setTimeout(renderMessages, Math.max(50, next - Date.now() + 50));
  for (const m of sorted) {
    const d = new Date(m.created_at).toDateString();
    if (d !== day) {
      day = d;
      list.append(el("li", "day", d));
    }
    list.append(bubble(m, false));
  }
  for (const n of o.notices) list.append(el("li", "notice", n));
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

export function markRead() {
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

