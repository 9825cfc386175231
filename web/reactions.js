// Reactions on a message (PROTOCOL §9): chips under a bubble, a small picker, and the
// `reaction` event folded into the message as the server would list it (each emoji once, in
// the order of its first use, with its count and the users who chose it).
import { el, button } from "./dom.js";

export const PICKER = ["👍", "❤️", "😂", "😮", "😢", "🙏"];

// The reactions of `m` after `ev` (a `reaction` event): the user's old one out, the new one in.
export function applyReaction(m, ev) {
  const list = (m.reactions || []).map((r) => ({ ...r, user_ids: r.user_ids.filter((u) => u !== ev.user_id) }))
    .filter((r) => r.user_ids.length > 0);
  if (ev.emoji) {
    const chip = list.find((r) => r.emoji === ev.emoji);
    if (chip) chip.user_ids.push(ev.user_id);
    else list.push({ emoji: ev.emoji, user_ids: [ev.user_id] });
  }
  for (const r of list) r.count = r.user_ids.length;
  m.reactions = list;
}

// The chips of a message; clicking one's own reaction takes it back.
export function chips(m, me, react) {
  const box = el("div", "reactions");
  for (const r of m.reactions || []) {
    const mine = r.user_ids.includes(me);
    const b = button(`${r.emoji} ${r.count}`, () => react(m, mine ? null : r.emoji));
    b.className = `chip${mine ? " mine" : ""}`;
    b.title = mine ? "Take your reaction back" : `React with ${r.emoji}`;
    box.append(b);
  }
  return box;
}

// The picker's buttons, for the message's action bar.
export function picker(m, me, react) {
  const box = el("span", "picker");
  for (const e of PICKER) {
    const mine = (m.reactions || []).some((r) => r.emoji === e && r.user_ids.includes(me));
    const b = button(e, () => react(m, mine ? null : e));
    b.className = "pick";
    b.setAttribute("aria-label", `React ${e}`);
    box.append(b);
  }
  return box;
}
