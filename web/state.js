// What every screen of the web client shares: the API, the session's state, and how a
// conversation and a message are named in lists.
import { Api } from "./api.js";

export const api = new Api();

export const state = {
  me: null,
  socket: null,
  conversations: new Map(),  // id -> summary from GET /conversations (+ live updates)
  inboxNext: null,           // next_before of the oldest inbox page loaded (null: nothing older)
  inboxPaged: false,         // older pages were loaded: a reload merges the first page into them
  archivedView: false,       // the inbox lists the archived conversations instead
  users: new Map(),          // id -> User (presence)
  open: null,                // { id, peer, group, messages: Map seq -> message, oldest, hasMore }
  pending: new Map(),        // client_id -> { event, convKey }
  receipts: new Map(),       // conversation id -> Map user -> { delivered, read }
  typingTimers: new Map(),
  replyTo: null,
  blocked: new Set(),        // ids of the users one blocks
  lastTypingSent: 0,
};

export function convName(c) {
  return c.group ? c.group.name : c.peer ? c.peer.username : "?";
}
export function preview(m) {
  if (!m) return "";
  if (m.deleted) return "message deleted";
  if (!m.content && m.attachments?.length) return `📎 ${m.attachments[0].filename}`;
  return m.content;
}
export const convKey = (o) => (o.group ? `g${o.group.id}` : `u${o.peer.id}`);
// A message past its expires_at has disappeared (PROTOCOL §9): never shown again.
export const expired = (m) => !!m?.expires_at && new Date(m.expires_at) <= new Date();

// A disappearing timer in words: "1 day", "5 minutes".
export function duration(seconds) {
  const units = [[86400, "day"], [3600, "hour"], [60, "minute"], [1, "second"]];
  for (const [n, name] of units)
    if (seconds % n === 0) { const k = seconds / n; return `${k} ${name}${k === 1 ? "" : "s"}`; }
  return `${seconds} seconds`;
}
