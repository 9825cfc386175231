// The inbox (PROTOCOL §5, §9): conversations by activity with the pinned ones first, the
// "Archived" list, and pin, archive and mute on each; opening a chat or a new group.
import { $, el, button } from "./dom.js";
import { api, state, convName, preview, expired } from "./state.js";
import { showAuth } from "./app.js";
import { openConversation } from "./conversation.js";

async function fetchInbox(before) {
  try {
    return await api.conversations(before, state.archivedView);
  } catch (err) {
    if (err.status === 401) showAuth();
    else $("sidebar-error").textContent = err.message;
    return null;
  }
}
export async function loadInbox() {
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

let pinOrder = 0;
function addConversations(conversations) {
  for (const c of conversations) {
    // The server lists the pinned ones first, most recently pinned first: keep that order.
    if (c.pinned) c.pinOrder = pinOrder++;
    state.conversations.set(c.id, c);
    if (c.peer) state.users.set(c.peer.id, c.peer);
  }
  renderInbox();
}

// Settings changed here or on another device (conversation_settings): an archived
// conversation leaves the main list, an unarchived one the Archived list.
export function applySettings(id, settings) {
  const c = state.conversations.get(id);
  if (!c) {
    if (settings.archived === state.archivedView) loadInbox();
    return;
  }
  if (settings.pinned && !c.pinned) c.pinOrder = -Date.now();
  Object.assign(c, settings);
  if (c.archived !== state.archivedView) state.conversations.delete(id);
  renderInbox();
}
async function change(c, body) {
  try {
    const { settings } = await api.settings(c.id, body);
    applySettings(c.id, settings);
  } catch (err) {
    $("sidebar-error").textContent = err.message;
  }
}
const muted = (c) => !!c.muted_until && new Date(c.muted_until) > new Date();

function controls(c) {
  const box = el("span", "controls");
  const pin = button(c.pinned ? "Unpin" : "Pin", () => change(c, { pinned: !c.pinned }));
  pin.className = "pin";
  // Muted "always": until a time far ahead, as the contract has no "forever".
  const mute = button(muted(c) ? "Unmute" : "Mute",
                      () => change(c, { muted_until: muted(c) ? null : "2999-01-01T00:00:00Z" }));
  mute.className = "mute";
  const archive = button(c.archived ? "Unarchive" : "Archive", () => change(c, { archived: !c.archived }));
  archive.className = "archive";
  box.append(pin, mute, archive);
  // A click on a control is not a click on the conversation.
  box.onclick = (e) => e.stopPropagation();
  return box;
}

export function renderInbox() {
  const list = $("inbox");
  list.replaceChildren();
  $("archived-toggle").textContent = state.archivedView ? "‹ Chats" : "Archived";
  // The server's order: pinned first (most recently pinned first), then latest activity (last
  // message, else creation), then higher id.
  const sorted = [...state.conversations.values()].sort((a, b) =>
    (b.pinned ? 1 : 0) - (a.pinned ? 1 : 0) ||
    (a.pinned && b.pinned ? (a.pinOrder ?? 0) - (b.pinOrder ?? 0) : 0) ||
    (b.activity_at || "").localeCompare(a.activity_at || "") || b.id - a.id);
  for (const c of sorted) {
    const li = el("li");
    li.tabIndex = 0;
    li.dataset.id = c.id;
    if (state.open?.id === c.id) li.classList.add("active");
    if (c.pinned) li.classList.add("pinned");
    const name = el("span", "name");
    if (c.peer) {
      const peer = state.users.get(c.peer.id) || c.peer;
      name.append(el("span", `dot${peer.is_online ? " online" : ""}`));
    }
    name.append(document.createTextNode(convName(c)));
    li.append(name);
    if (c.pinned) li.append(el("span", "badge pinned-badge", "📌"));
    if (muted(c)) li.append(el("span", "badge muted-badge", "🔕"));
    if (c.unread_count > 0) li.append(el("span", "unread", String(c.unread_count)));
    if (c.peer) {
      const peer = state.users.get(c.peer.id) || c.peer;
      if (!peer.is_online && peer.last_seen)
        li.append(el("span", "seen", `last seen ${new Date(peer.last_seen).toLocaleString()}`));
    }
    li.append(el("span", "preview", expired(c.last_message) ? "" : preview(c.last_message)));
    if (c.id) li.append(controls(c));
    li.onclick = () => openConversation(c);
    li.onkeydown = (e) => { if (e.key === "Enter") openConversation(c); };
    list.append(li);
  }
  if (!sorted.length && state.archivedView) list.append(el("li", "empty", "No archived chats"));
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

$("archived-toggle").onclick = () => {
  state.archivedView = !state.archivedView;
  state.inboxPaged = false;
  loadInbox();
};

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
                      last_message_at: null, activity_at: r.group.created_at,
                      pinned: false, archived: false, muted_until: null, disappearing_seconds: null };
    state.conversations.set(summary.id, summary);
    renderInbox();
    openConversation(summary);
  } catch (err) {
    $("sidebar-error").textContent = err.message;
  }
};
