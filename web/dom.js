// Small DOM helpers shared by the screens. Everything users type goes on the page as text
// (textContent), never as HTML.
export const $ = (id) => document.getElementById(id);
export const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};
export const button = (label, onclick) => {
  const b = el("button", "", label);
  b.type = "button";
  b.onclick = onclick;
  return b;
};
