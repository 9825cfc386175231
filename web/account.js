// The account screen (change password, export my data, delete my account) and, for admins, the
// admin screen (find a user, suspend or unsuspend, the open reports with their copies, resolve):
// PROTOCOL §10 over the public API only.
import { $, el, button } from "./dom.js";

export function initAccount(api, { endSession, showPanel, closePanel }) {
  let me = null;
  const status = (id, text) => { $(id).textContent = text; };

  for (const b of document.querySelectorAll(".close-panel")) b.onclick = closePanel;
  $("account-open").onclick = () => { status("account-status", ""); showPanel("account"); };
  $("admin-open").onclick = () => {
    status("admin-status", "");
    showPanel("admin");
    loadReports();
  };

  $("password-form").onsubmit = async (e) => {
    e.preventDefault();
    try {
      await api.changePassword($("pw-current").value, $("pw-new").value);
      $("password-form").reset();
      status("account-status", "Password changed. Your other devices were logged out.");
    } catch (err) {
      status("account-status", err.message);
    }
  };

  $("export").onclick = async () => {
    status("account-status", "Preparing your export…");
    try {
      const res = await api.exportData();
      if (!res.ok) throw new Error(`export failed (HTTP ${res.status})`);
      const blob = await res.blob();
      const data = JSON.parse(await blob.text());
      const link = el("a");
      link.href = URL.createObjectURL(blob);
      link.download = "chatd-export.json";
      link.click();
      status("account-status",
             `Exported ${data.messages.length} message(s) and ${data.conversations.length} conversation(s).`);
    } catch (err) {
      status("account-status", err.message);
    }
  };

  $("delete-form").onsubmit = async (e) => {
    e.preventDefault();
    if (!confirm("Delete your account and every message you sent, for good?")) return;
    try {
      await api.deleteAccount($("delete-password").value);
      endSession("Your account was deleted.");
    } catch (err) {
      status("account-status", err.code === "invalid_credentials" ? "The password is wrong." : err.message);
    }
  };

  // ---- admin ------------------------------------------------------------------------------

  $("admin-search").onsubmit = async (e) => {
    e.preventDefault();
    await findUsers();
  };

  async function findUsers() {
    try {
      const { users } = await api.adminUsers($("admin-q").value);
      $("admin-users").replaceChildren(...users.map(userRow));
      if (!users.length) status("admin-status", "No user matches.");
    } catch (err) {
      status("admin-status", err.message);
    }
  }

  function userRow(u) {
    const li = el("li", "item");
    li.dataset.id = u.id;
    li.append(el("strong", "name", u.username), el("span", "detail", ` ${u.email} `),
              el("span", `badge${u.suspended ? " suspended" : ""}`,
                 u.deleted ? "deleted" : u.suspended ? "suspended" : u.role));
    if (u.deleted || u.id === me?.id) return li;
    li.append(u.suspended
      ? button("Unsuspend", () => act(() => api.unsuspend(u.id), `${u.username} may log in again.`))
      : button("Suspend", () => {
          const reason = prompt(`Suspend ${u.username}: the reason (kept in the audit log)`);
          if (reason) act(() => api.suspend(u.id, reason), `${u.username} is suspended.`);
        }));
    return li;
  }

  async function act(call, done) {
    try {
      await call();
      status("admin-status", done);
      await findUsers();
    } catch (err) {
      status("admin-status", err.message);
    }
  }

  async function loadReports() {
    try {
      const { reports } = await api.reports("open");
      $("admin-reports").replaceChildren(...reports.map(reportRow));
      if (!reports.length) $("admin-reports").append(el("li", "item empty", "No open reports."));
    } catch (err) {
      status("admin-status", err.message);
    }
  }

  function reportRow(r) {
    const li = el("li", "item report");
    li.dataset.id = r.id;
    li.append(el("div", "detail",
                 `#${r.id} by user ${r.reporter_id} about user ${r.user_id}, ${new Date(r.created_at).toLocaleString()}`));
    li.append(el("div", "reason", r.reason));
    if (r.message) li.append(el("blockquote", "copy", r.message.content || "(no text)"));
    li.append(button("Resolve", async () => {
      const note = prompt("Note (what was done)");
      if (note === null) return;
      try {
        await api.resolveReport(r.id, note);
        status("admin-status", `Report #${r.id} resolved.`);
        await loadReports();
      } catch (err) {
        status("admin-status", err.message);
      }
    }));
    return li;
  }

  return {
    setUser(user) {
      me = user;
      $("admin-open").hidden = user.role !== "admin";
    },
  };
}
