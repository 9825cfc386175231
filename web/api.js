// chatd's public contract from a browser: REST with the bearer token, and one WebSocket that
// reconnects by itself with backoff. Nothing here touches the page.

export class Api {
  constructor() {
    this.token = localStorage.getItem("chatd.token") || "";
  }

  setToken(token) {
    this.token = token;
    if (token) localStorage.setItem("chatd.token", token);
    else localStorage.removeItem("chatd.token");
  }

  async request(method, path, body, raw = false) {
    const headers = {};
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    let payload;
    if (body instanceof Blob) {
      payload = body;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const res = await fetch(path, { method, headers, body: payload });
    if (raw) return res;
    const text = await res.text();
    const json = text ? JSON.parse(text) : {};
    if (!res.ok) {
      const err = new Error(json.error?.message || `HTTP ${res.status}`);
      err.status = res.status;
      err.code = json.error?.code;
      throw err;
    }
    return json;
  }

  register(username, email, password) {
    return this.request("POST", "/auth/register", { username, email, password });
  }
  login(email, password) {
    return this.request("POST", "/auth/login", { email, password });
  }
  me() { return this.request("GET", "/users/me"); }
  findUser(username) {
    return this.request("GET", `/users?username=${encodeURIComponent(username)}`);
  }
  conversations(before, archived = false) {
    let q = before ? `&before=${encodeURIComponent(before)}` : "";
    if (archived) q += "&archived=true";
    return this.request("GET", `/conversations?limit=100${q}`);
  }
  settings(conversationId, body) {
    return this.request("PUT", `/conversations/${conversationId}/settings`, body);
  }
  setTimer(conversationId, seconds) {
    return this.request("PUT", `/conversations/${conversationId}/disappearing`, { seconds });
  }
  search(q, { conversationId, before } = {}) {
    let path = `/search?limit=20&q=${encodeURIComponent(q)}`;
    if (conversationId) path += `&conversation_id=${conversationId}`;
    if (before) path += `&before=${before}`;
    return this.request("GET", path);
  }
  receipts(messageId) { return this.request("GET", `/messages/${messageId}/receipts`); }
  history(conversationId, { before, after, limit = 50 } = {}) {
    let q = `/messages?conversation_id=${conversationId}&limit=${limit}`;
    if (before) q += `&before=${before}`;
    if (after !== undefined) q += `&after=${after}`;
    return this.request("GET", q);
  }
  historyWith(peerId) { return this.request("GET", `/messages?peer_id=${peerId}&limit=50`); }
  createGroup(name, members) { return this.request("POST", "/groups", { name, members }); }
  group(id) { return this.request("GET", `/groups/${id}`); }
  addMember(groupId, userId) {
    return this.request("POST", `/groups/${groupId}/members`, { user_id: userId });
  }
  removeMember(groupId, userId) {
    return this.request("DELETE", `/groups/${groupId}/members/${userId}`);
  }
  changePassword(current, next) {
    return this.request("PUT", "/users/me/password", { current_password: current, new_password: next });
  }
  deleteAccount(password) { return this.request("DELETE", "/users/me", { password }); }
  exportData() { return this.request("GET", "/users/me/export", undefined, true); }
  report(body) { return this.request("POST", "/reports", body); }
  blocks() { return this.request("GET", "/users/me/blocks"); }
  block(userId) { return this.request("POST", "/users/me/blocks", { user_id: userId }); }
  unblock(userId) { return this.request("DELETE", `/users/me/blocks/${userId}`); }
  adminUsers(q) { return this.request("GET", `/admin/users?q=${encodeURIComponent(q)}&limit=50`); }
  suspend(id, reason) { return this.request("POST", `/admin/users/${id}/suspend`, { reason }); }
  unsuspend(id) { return this.request("POST", `/admin/users/${id}/unsuspend`); }
  reports(status) { return this.request("GET", `/admin/reports?status=${status}`); }
  resolveReport(id, note) { return this.request("POST", `/admin/reports/${id}/resolve`, { note }); }
  upload(file) {
    return this.request("POST", `/attachments?filename=${encodeURIComponent(file.name)}`, file);
  }
  async attachmentUrl(url) {
    const res = await this.request("GET", url, undefined, true);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return URL.createObjectURL(await res.blob());
  }
}

// The WebSocket: `onEvent(event)` for every frame, `onState(up)` when it opens or drops.
// Reconnects after 0.5 s, doubling up to 10 s, until close() is called — or until chatd ends
// the session (4001: token ended, 4003: account suspended), which `onEnded(code)` is told.
export class Socket {
  constructor(api, onEvent, onState, onEnded = () => {}) {
    this.api = api;
    this.onEvent = onEvent;
    this.onState = onState;
    this.onEnded = onEnded;
    this.delay = 500;
    this.closed = false;
    this.ws = null;
    this.connect();
  }

  connect() {
    if (this.closed) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws?token=${encodeURIComponent(this.api.token)}`);
    this.ws = ws;
    ws.onopen = () => {
      this.delay = 500;
      this.onState(true);
    };
    ws.onmessage = (e) => this.onEvent(JSON.parse(e.data));
    ws.onclose = (e) => {
      this.onState(false);
      if (this.closed) return;
      if (e.code === 4001 || e.code === 4003) {
        this.closed = true;
        this.onEnded(e.code);
        return;
      }
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 10000);
    };
  }

  send(event) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(event));
      return true;
    }
    return false;
  }

  close() {
    this.closed = true;
    if (this.ws) this.ws.close();
  }
}
