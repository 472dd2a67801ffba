/* The resident simulator page. Plain JS, no build step.
 * Every piece of text from the server or the user is put on the page with textContent, never
 * markup, so a message cannot inject HTML. */
"use strict";

(function () {
  const POLL_MS = 1500;
  const LATE_WAIT_MS = 10000; // a reply that missed the deadline comes as a customer-service message
  const ROLE_NAMES = { member_household: "党员中心户", grid_worker: "网格员", staff: "工作人员" };

  const $ = (id) => document.getElementById(id);
  const els = {
    panel: $("panel"), account: $("account"), residents: $("residents"), custom: $("custom"),
    customOpenid: $("custom-openid"), title: $("title"), subtitle: $("subtitle"), who: $("who"),
    messages: $("messages"), composer: $("composer"), text: $("text"), send: $("send"),
    menubar: $("menubar"), sceneDialog: $("scene-dialog"), scene: $("scene"),
  };

  const state = {
    accounts: [], account: null, people: [], current: null, threads: new Map(),
    typingUntil: 0, busy: false, defaultLocation: "",
  };

  // ---- small DOM helpers -------------------------------------------------------------------
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function clockText(date) {
    const pad = (n) => String(n).padStart(2, "0");
    return pad(date.getHours()) + ":" + pad(date.getMinutes());
  }

  async function api(path, options) {
    const response = await fetch(path, options);
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      throw new Error((data && data.error) || ("请求失败（HTTP " + response.status + "）"));
    }
    return data;
  }

  // ---- threads -------------------------------------------------------------------------------
  function threadKey() { return state.account.name + "|" + state.current.openid; }

  function thread() {
    const key = threadKey();
    if (!state.threads.has(key)) state.threads.set(key, { items: [], after: null, lastAt: 0 });
    return state.threads.get(key);
  }

  function addItem(item) {
    const t = thread();
    item.at = item.at || Date.now();
    t.items.push(item);
    renderItem(item, t);
    scrollDown();
  }

  function renderThread() {
    els.messages.replaceChildren();
    const t = thread();
    t.lastAt = 0;
    if (!t.items.length) {
      const empty = el("div", "empty");
      empty.append(el("div", "", "你现在是「" + state.current.name + "」"),
        el("div", "", "发一句“你好”，或者点下面的菜单试试。"));
      els.messages.append(empty);
    }
    t.items.forEach((item) => renderItem(item, t));
    renderTyping();
    scrollDown();
  }

  function renderItem(item, t) {
    const empty = els.messages.querySelector(".empty");
    if (empty) empty.remove();
    if (item.at - t.lastAt > 60 * 1000) place(el("div", "time", clockText(new Date(item.at))));
    t.lastAt = item.at;
    if (item.kind === "note" || item.kind === "error") {
      const note = el("div", "note" + (item.kind === "error" ? " error" : ""));
      note.append(el("span", "", item.text));
      place(note);
      return;
    }
    const row = el("div", "row " + (item.from === "me" ? "me" : "bot"));
    const avatar = el("div", "avatar", item.from === "me" ? initial(state.current.name) : "邻");
    const stack = el("div", "stack");
    if (item.tag) stack.append(el("div", "tag" + (item.tagClass ? " " + item.tagClass : ""), item.tag));
    stack.append(bubble(item));
    row.append(avatar, stack);
    place(row);
  }

  /* New items go above the "typing" bubble, which always stays last. */
  function place(node) {
    els.messages.insertBefore(node, els.messages.querySelector(".typing-row"));
  }

  function bubble(item) {
    if (item.kind === "voice") {
      const b = el("div", "bubble voice", "🔊 语音 " + Math.max(1, Math.ceil(item.text.length / 4)) + "″");
      b.append(el("span", "sub", "转文字：" + item.text));
      return b;
    }
    if (item.kind === "image") {
      const b = el("div", "bubble photo");
      b.append(el("div", "ph", "🖼️ " + (item.text || "照片")));
      return b;
    }
    if (item.kind === "location") {
      const b = el("div", "bubble place");
      b.append(el("div", "label", item.text), el("div", "map", "📍"));
      return b;
    }
    return el("div", "bubble", item.text);
  }

  function initial(name) {
    const text = (name || "我").replace(/^o_(demo_)?/, "");
    return text.slice(0, 1).toUpperCase() || "我";
  }

  function scrollDown() { els.messages.scrollTop = els.messages.scrollHeight; }

  // ---- "正在输入…" -------------------------------------------------------------------------
  function setTyping(ms) {
    state.typingUntil = ms ? Date.now() + ms : 0;
    renderTyping();
  }

  function renderTyping() {
    const on = state.typingUntil > Date.now();
    const existing = els.messages.querySelector(".typing-row");
    if (on && !existing) {
      const row = el("div", "row bot typing-row");
      const dots = el("div", "bubble typing");
      dots.append(el("i"), el("i"), el("i"));
      row.append(el("div", "avatar", "邻"), dots);
      els.messages.append(row);
      scrollDown();
    } else if (!on && existing) {
      existing.remove();
    }
    els.title.textContent = on ? "对方正在输入…" : (state.account ? state.account.community : "邻里");
    els.title.classList.toggle("typing-title", on);
  }

  // ---- sending -------------------------------------------------------------------------------
  async function send(payload, shown) {
    if (!state.current || state.busy) return;
    state.busy = true;
    setBusy(true);
    if (shown) addItem(shown);
    const expectsReply = payload.type !== "unsubscribe";
    if (expectsReply) setTyping(8000);
    const body = Object.assign({ account: state.account.name, openid: state.current.openid }, payload);
    try {
      const result = await api("/simulator/api/send", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      showResult(result, expectsReply);
    } catch (err) {
      setTyping(0);
      addItem({ kind: "error", text: err.message });
    } finally {
      state.busy = false;
      setBusy(false);
      els.text.focus();
      poll();
    }
  }

  function showResult(result, expectsReply) {
    if (!result.ok) {
      setTyping(0);
      addItem({ kind: "error", text: result.error || "该公众号暂时无法提供服务" });
      return;
    }
    if (result.reply) {
      setTyping(0);
      addItem(replyItem(result.reply));
      return;
    }
    // "success": nothing now; if the server ran out of time the answer follows as a 客服消息.
    setTyping(expectsReply && result.elapsed_ms > 3000 ? LATE_WAIT_MS : 0);
  }

  function replyItem(reply) {
    if (reply.type === "image") return { from: "bot", kind: "image", text: "图片" };
    return { from: "bot", kind: "text", text: reply.content || "" };
  }

  function setBusy(on) {
    els.send.disabled = on;
    document.querySelectorAll(".tools button, .menubar button").forEach((b) => { b.disabled = on; });
  }

  function takeText() {
    const text = els.text.value.trim();
    els.text.value = "";
    return text;
  }

  const actions = {
    text() {
      const text = takeText();
      if (text) send({ type: "text", content: text }, { from: "me", kind: "text", text: text });
    },
    voice() {
      const text = takeText();
      if (!text) {
        addItem({ kind: "note", text: "先在输入框里写下要“说”的话，再点「语音」" });
        return;
      }
      send({ type: "voice", content: text }, { from: "me", kind: "voice", text: text });
    },
    image() { send({ type: "image" }, { from: "me", kind: "image", text: "照片" }); },
    location() {
      const label = takeText() || state.defaultLocation;
      send({ type: "location", label: label }, { from: "me", kind: "location", text: label });
    },
    subscribe() {
      if (typeof els.sceneDialog.showModal === "function") {
        els.sceneDialog.returnValue = "";
        els.sceneDialog.showModal();
      } else {
        const scene = window.prompt("二维码场景（可不填）", "building:3栋");
        if (scene !== null) subscribe(scene.trim());
      }
    },
    unsubscribe() {
      send({ type: "unsubscribe" }, { kind: "note", text: "你已取消关注该公众号" });
    },
  };

  function subscribe(scene) {
    const text = scene ? "你扫码关注了公众号（场景：" + scene + "）" : "你关注了公众号";
    send({ type: "subscribe", scene: scene }, { kind: "note", text: text });
  }

  function menuClick(button) {
    if (button.type === "view") {
      send({ type: "view", key: button.url || button.key }, { kind: "note", text: "打开了网页：" + button.name });
      if (button.url && /^https?:\/\//.test(button.url)) window.open(button.url, "_blank", "noopener");
      return;
    }
    send({ type: "click", key: button.key }, { kind: "note", text: "点击了菜单「" + button.name + "」" });
  }

  // ---- customer-service messages -------------------------------------------------------------
  async function poll() {
    if (!state.current) return;
    const t = thread();
    const key = threadKey();
    const after = t.after === null ? 0 : t.after;
    let data;
    try {
      data = await api("/simulator/api/inbox?" + new URLSearchParams({
        account: state.account.name, openid: state.current.openid, after: String(after),
      }));
    } catch (err) {
      return;
    }
    if (key !== threadKey()) return; // switched residents meanwhile
    const priming = t.after === null; // the first look only learns where we are
    data.messages.forEach((m) => {
      if (m.seq <= (t.after || 0)) return;
      t.after = m.seq;
      if (priming) return;
      setTyping(0);
      const tag = m.kind === "text" || m.kind === "image" ? "客服消息" : "模板消息";
      addItem({ from: "bot", kind: m.kind === "image" ? "image" : "text", text: m.text, tag: tag, tagClass: "cs" });
    });
    if (t.after === null) t.after = 0;
  }

  // ---- residents and accounts ---------------------------------------------------------------
  async function loadConfig() {
    const data = await api("/simulator/api/config");
    state.accounts = data.accounts;
    state.defaultLocation = data.default_location;
    els.account.replaceChildren();
    data.accounts.forEach((a) => {
      const option = el("option", "", a.community + "（" + a.name + "）");
      option.value = a.name;
      els.account.append(option);
    });
    const saved = localStorage.getItem("linli.sim.account");
    if (saved && data.accounts.some((a) => a.name === saved)) els.account.value = saved;
    await selectAccount(els.account.value);
  }

  async function selectAccount(name) {
    state.account = state.accounts.find((a) => a.name === name) || state.accounts[0];
    localStorage.setItem("linli.sim.account", state.account.name);
    els.title.textContent = state.account.community;
    renderMenu(state.account.menu);
    await loadResidents();
  }

  async function loadResidents() {
    try {
      const data = await api("/simulator/api/residents?" + new URLSearchParams({ account: state.account.name }));
      state.people = data.residents;
    } catch (err) {
      state.people = [];
    }
    renderResidents();
    const saved = localStorage.getItem("linli.sim.openid");
    const person = state.people.find((p) => p.openid === saved) || state.people[0];
    if (person) selectResident(person);
    else if (saved) selectResident({ openid: saved, name: saved, address: "", roles: [] });
  }

  function renderResidents() {
    els.residents.replaceChildren();
    if (!state.people.length) {
      els.residents.append(el("li", "hint small", "还没有居民。输入一个 openid 开始聊天。"));
    }
    state.people.forEach((p) => {
      const li = el("li");
      const button = el("button");
      button.type = "button";
      button.dataset.openid = p.openid;
      const meta = el("span", "meta");
      const name = el("span", "name", p.name || p.openid);
      (p.roles || []).forEach((r) => {
        if (ROLE_NAMES[r]) name.append(el("span", "role" + (r === "grid_worker" ? " grid" : ""), ROLE_NAMES[r]));
      });
      meta.append(name, el("span", "addr", (p.address || "未登记住址") + " · " + p.openid));
      button.append(el("span", "avatar", initial(p.name || p.openid)), meta);
      button.addEventListener("click", () => { selectResident(p); closePanel(); });
      li.append(button);
      els.residents.append(li);
    });
  }

  function selectResident(person) {
    state.current = { openid: person.openid, name: person.name || person.openid };
    localStorage.setItem("linli.sim.openid", person.openid);
    els.who.textContent = state.current.name;
    els.subtitle.textContent = "当前居民：" + state.current.name + (person.address ? "（" + person.address + "）" : "");
    els.residents.querySelectorAll("button").forEach((b) => {
      b.classList.toggle("active", b.dataset.openid === person.openid);
    });
    setTyping(0);
    renderThread();
    poll();
  }

  // ---- the account menu ---------------------------------------------------------------------
  function renderMenu(menu) {
    els.menubar.replaceChildren();
    (menu || []).slice(0, 3).forEach((top) => {
      const item = el("div", "menu-item");
      const subs = (top.sub || []).slice(0, 5);
      const button = el("button", "top" + (subs.length ? " has-sub" : ""), top.name);
      button.type = "button";
      item.append(button);
      if (subs.length) {
        const list = el("ul", "submenu");
        list.hidden = true;
        subs.forEach((sub) => {
          const li = el("li");
          const b = el("button", "", sub.name);
          b.type = "button";
          b.addEventListener("click", () => { list.hidden = true; menuClick(sub); });
          li.append(b);
          list.append(li);
        });
        item.append(list);
        button.addEventListener("click", (event) => {
          event.stopPropagation();
          const wasHidden = list.hidden;
          closeMenus();
          list.hidden = !wasHidden;
        });
      } else {
        button.addEventListener("click", () => { closeMenus(); menuClick(top); });
      }
      els.menubar.append(item);
    });
  }

  function closeMenus() { els.menubar.querySelectorAll(".submenu").forEach((l) => { l.hidden = true; }); }
  function closePanel() { els.panel.classList.remove("open"); }

  // ---- wiring -------------------------------------------------------------------------------
  function wire() {
    els.composer.addEventListener("submit", (event) => { event.preventDefault(); actions.text(); });
    document.querySelectorAll(".tools button").forEach((b) => {
      b.addEventListener("click", () => actions[b.dataset.action]());
    });
    els.account.addEventListener("change", () => selectAccount(els.account.value));
    els.custom.addEventListener("submit", (event) => {
      event.preventDefault();
      const openid = els.customOpenid.value.trim();
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(openid)) {
        els.customOpenid.setCustomValidity("只能用字母、数字、下划线和短横线");
        els.customOpenid.reportValidity();
        return;
      }
      els.customOpenid.setCustomValidity("");
      selectResident({ openid: openid, name: openid, address: "", roles: [] });
      closePanel();
    });
    els.customOpenid.addEventListener("input", () => els.customOpenid.setCustomValidity(""));
    els.sceneDialog.addEventListener("close", () => {
      const choice = els.sceneDialog.returnValue;
      if (choice === "scene") subscribe(els.scene.value.trim());
      else if (choice === "plain") subscribe("");
    });
    $("open-panel").addEventListener("click", () => els.panel.classList.add("open"));
    $("close-panel").addEventListener("click", closePanel);
    document.addEventListener("click", closeMenus);
    setInterval(() => { poll(); renderTyping(); }, POLL_MS);
  }

  wire();
  loadConfig().catch((err) => {
    els.messages.replaceChildren(el("div", "note error", "页面加载失败：" + err.message));
  });
})();
