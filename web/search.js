// Search over all one's conversations (PROTOCOL §9): results newest first, "More" pages on, and a
// result opens its conversation at that message.
import { $, el, button } from "./dom.js";
import { api, state, convName } from "./state.js";
import { openConversation } from "./conversation.js";

let query = "";
let next = null;

function summaryOf(m) {
  return state.conversations.get(m.conversation_id) || {
    id: m.conversation_id, group: m.group_id ? { id: m.group_id, name: "group" } : null,
    peer: m.group_id ? null : state.users.get(m.sender_id === state.me.id ? m.to : m.sender_id) ||
      { id: m.sender_id === state.me.id ? m.to : m.sender_id, username: "?" },
    unread_count: 0,
  };
}

function show(messages, append) {
  const list = $("search-results");
  if (!append) list.replaceChildren();
  list.querySelector(".more")?.remove();
  for (const m of messages) {
    const c = summaryOf(m);
    const li = el("li", "result");
    li.tabIndex = 0;
    li.dataset.id = m.id;
    li.append(el("span", "name", convName(c)), el("span", "preview", m.content),
              el("span", "seen", new Date(m.created_at).toLocaleString()));
    li.onclick = () => openConversation(c, m);
    list.append(li);
  }
  if (!append && !messages.length) list.append(el("li", "empty", `Nothing found for “${query}”`));
  if (next) {
    const li = el("li", "more");
    li.append(button("More results", more));
    list.append(li);
  }
  list.hidden = false;
  $("inbox").hidden = true;
}

async function more() {
  try {
    const page = await api.search(query, { before: next });
    next = page.next_before;
    show(page.messages, true);
  } catch (err) {
    $("sidebar-error").textContent = err.message;
  }
}

$("search").onsubmit = async (e) => {
  e.preventDefault();
  $("sidebar-error").textContent = "";
  query = $("search-q").value.trim();
  if (!query) return clear();
  try {
    const page = await api.search(query);
    next = page.next_before;
    show(page.messages, false);
  } catch (err) {
    $("sidebar-error").textContent = err.message;
  }
};

function clear() {
  $("search-q").value = "";
  $("search-results").hidden = true;
  $("inbox").hidden = false;
}
$("search-clear").onclick = clear;
