// Shared by every forgekit widget module: live.py puts it in front of each one.
// h(tag, {class, onclick, ...attrs}, ...kids): an element; `on*` attributes become
// event listeners, kids may be nodes, strings, numbers, arrays, null.
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v);
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}
