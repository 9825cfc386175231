// The chatd web client over the public contract only (REST and /ws): logging in, the session's
// WebSocket and its events. The screens are modules of their own: inbox.js, search.js,
// conversation.js, composer.js, account.js. Everything users type is put on the page as text
// (textContent), never as HTML.
import { Socket } from "./api.js";
import { initAccount } from "./account.js";
import { $ } from "./dom.js";
import { applyReaction } from "./reactions.js";
import { api, state } from "./state.js";
import { applySettings, loadInbox, renderInbox } from "./inbox.js";
import { addMessages, markRead, renderMessages, renderSubtitle, timerChanged, typingName }
  from "./conversation.js";
import "./composer.js";
import "./search.js";

// ---- authentication ----------------------------------------------------------------------

let registering = false;
export function showAuth() {
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
    case "conversation_settings":
      applySettings(ev.conversation_id, ev.settings);
      break;
    case "conversation_updated":
      timerChanged(ev);
      break;
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

