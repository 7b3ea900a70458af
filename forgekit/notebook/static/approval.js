// forgekit ApprovalPrompt front end (anywidget ES module).

function render({ model, el }) {
  function draw() {
    const d = model.get("data") || {};
    el.replaceChildren();
    const root = h("div", { class: "fk-widget fk-approvals" });
    if (!(d.pending || []).length) root.append(h("div", { class: "fk-muted" }, "no pending approval requests"));
    for (const p of d.pending || []) {
      const args = h("textarea", { class: "fk-args" });
      args.value = p.arguments;
      args.readOnly = !d.can_edit;
      const send = (decision, extra) => model.send({ action: "decide", id: p.id, decision, ...(extra || {}) });
      root.append(h("div", { class: "fk-approval", "data-id": p.id },
        h("div", {}, h("b", {}, "Allow tool call "), h("code", {}, p.tool), "?",
          p.risk ? h("span", { class: "fk-error" }, ` risk: ${p.risk}`) : null),
        p.reason ? h("div", { class: "fk-muted" }, "policy: " + p.reason) : null,
        args,
        h("div", {},
          h("button", { class: "fk-approve", onclick: () => send("approve") }, "Approve"),
          h("button", { class: "fk-reject", onclick: () => send("reject") }, "Reject"),
          d.can_edit ? h("button", { class: "fk-edit", onclick: () => send("edit", { arguments: args.value }) }, "Approve edited") : null,
          h("span", { class: "fk-muted" }, ` times out in ${Math.round(p.seconds_left)}s (then ${d.on_timeout})`))));
    }
    const hist = d.history || [];
    if (hist.length) root.append(h("div", { class: "fk-muted" }, "answered: ",
      hist.map((x) => `${x.tool}: ${x.decision}`).join(" · ")));
    el.append(root);
  }
  model.on("change:data", draw);
  draw();
  return () => model.off("change:data", draw);
}
export default { render };
