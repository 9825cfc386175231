// The composer (PROTOCOL §3, §9): sending with a client_id (kept until acked, resent on
// reconnect), replies, attachments, @-mentions of group members with autocomplete, and the
// group's member controls.
import { $, el } from "./dom.js";
import { api, state, convKey } from "./state.js";
import { renderMessages, renderSubtitle } from "./conversation.js";
let counter = 0;
export function clientId() {
  return `${state.me.id}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
}

const escapeRegExp = (s) => s.replace(/[.*+?^$()|[\]\\{}]/g, "\\$&");
// The members named "@username" in `text` (a group's; the peer's in a direct chat).
function mentionsIn(text) {
  const o = state.open;
  const people = o.group ? (o.members || []).map((m) => ({ id: m.user_id, name: m.username }))
    : [{ id: o.peer.id, name: o.peer.username }];
  return people.filter((p) => new RegExp(`(^|\\s)@${escapeRegExp(p.name)}(?=$|[\\s,.!?:;])`, "i").test(text))
    .map((p) => p.id);
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
  hideMentionHints();
  const mentions = mentionsIn(text);
  send(mentions.length ? { content: text, mentions } : { content: text });
};

// @-autocomplete: the members whose name starts with what follows the "@" before the caret.
function mentionQuery() {
  const t = $("text");
  const before = t.value.slice(0, t.selectionStart);
  const m = /(^|\s)@([^\s@]*)$/.exec(before);
  return m ? { query: m[2], start: before.length - m[2].length - 1 } : null;
}
function hideMentionHints() { $("mention-hints").hidden = true; }
export function renderMentionHints() {
  const o = state.open;
  const q = o?.group && mentionQuery();
  const list = $("mention-hints");
  if (!q) return hideMentionHints();
  const matches = (o.members || []).filter((m) => m.user_id !== state.me.id &&
    m.username.toLowerCase().startsWith(q.query.toLowerCase())).slice(0, 8);
  list.replaceChildren();
  for (const m of matches) {
    const li = el("li", "hint", `@${m.username}`);
    li.onmousedown = (e) => {  // before the textarea loses focus
      e.preventDefault();
      const t = $("text");
      const end = t.selectionStart;
      t.value = `${t.value.slice(0, q.start)}@${m.username} ${t.value.slice(end)}`;
      t.selectionStart = t.selectionEnd = q.start + m.username.length + 2;
      hideMentionHints();
      t.focus();
    };
    list.append(li);
  }
  list.hidden = !matches.length;
}
$("text").addEventListener("input", renderMentionHints);
$("text").addEventListener("blur", hideMentionHints);
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

