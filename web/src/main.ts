// tradewire dashboard: every value shown is the exact text the API sent (decimal strings); the charts
// alone convert to numbers to draw. Updates arrive by WebSocket push; a (re)subscribe returns snapshots.
import "./style.css";
import {
  CandlestickSeries,
  LineSeries,
  createChart,
  createSeriesMarkers,
  type CandlestickData,
  type IChartApi,
  type ISeriesApi,
  type ISeriesMarkersPluginApi,
  type SeriesMarker,
  type Time,
  type UTCTimestamp,
} from "lightweight-charts";

type Row = Record<string, any>;
const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const TOKEN_KEY = "tradewire.token";
let token: string | null = sessionStorage.getItem(TOKEN_KEY);
let instrument = "";

// ---------------------------------------------------------------- helpers
function esc(v: unknown): string {
  if (v === null || v === undefined) return "–";
  return String(v).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}
function signed(v: string | null | undefined): string {
  if (v === null || v === undefined) return "–";
  const cls = v.startsWith("-") ? "neg" : /^0(\.0*)?$/.test(v) ? "" : "pos";
  return `<span class="${cls}">${esc(v)}</span>`;
}
function utc(ns: number): string {
  return new Date(ns / 1e6).toISOString().replace("T", " ").slice(0, 23);
}
function toast(text: string): void {
  const t = $("toast");
  t.textContent = text;
  t.hidden = false;
  window.setTimeout(() => (t.hidden = true), 5000);
}
async function api(method: string, path: string, body?: unknown): Promise<any> {
  const headers: Record<string, string> = {};
  if (token) headers["Authorization"] = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (r.status === 401) {
    showLogin("Session expired or not logged in.");
    throw new Error("authentication required");
  }
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(`${r.status}: ${typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail)}`);
  return data;
}
async function command(method: string, path: string, body?: unknown): Promise<void> {
  try {
    await api(method, path, body);
  } catch (e) {
    toast(String((e as Error).message));
  }
}
function table(id: string, rows: string[], empty: string): void {
  $(id).querySelector("tbody")!.innerHTML = rows.join("");
  $(empty).hidden = rows.length > 0;
}

// ---------------------------------------------------------------- charts
let priceChart: IChartApi | null = null;
let candles: ISeriesApi<"Candlestick"> | null = null;
let markers: ISeriesMarkersPluginApi<Time> | null = null;
let equitySeries: ISeriesApi<"Line"> | null = null;
const fillMarkers: SeriesMarker<Time>[] = [];
let lastBarTime = 0;

function initCharts(): void {
  const opts = { layout: { background: { color: "#171c23" }, textColor: "#d8dee6" }, grid: { vertLines: { color: "#222932" }, horzLines: { color: "#222932" } }, timeScale: { timeVisible: true, secondsVisible: true }, autoSize: true };
  priceChart = createChart($("price-chart"), opts);
  candles = priceChart.addSeries(CandlestickSeries, { upColor: "#26a69a", downColor: "#ef5350", borderVisible: false, wickUpColor: "#26a69a", wickDownColor: "#ef5350" });
  markers = createSeriesMarkers(candles, []);
  const eq = createChart($("equity-chart"), opts);
  equitySeries = eq.addSeries(LineSeries, { color: "#f0b429", lineWidth: 2 });
  initOrderFlowChart(opts);
}
function barPoint(b: Row): CandlestickData<Time> {
  return { time: Math.floor(b.ts_event / 1e9) as UTCTimestamp, open: +b.open, high: +b.high, low: +b.low, close: +b.close };
}
function onBars(bars: Row[] | Row, snapshot: boolean): void {
  if (!candles) return;
  if (snapshot) {
    const pts = (bars as Row[]).map(barPoint);
    const dedup: CandlestickData<Time>[] = [];
    for (const p of pts) if (!dedup.length || (p.time as number) > (dedup[dedup.length - 1].time as number)) dedup.push(p);
    candles.setData(dedup);
    lastBarTime = dedup.length ? (dedup[dedup.length - 1].time as number) : 0;
  } else {
    const p = barPoint(bars as Row);
    if ((p.time as number) < lastBarTime) return;
    lastBarTime = p.time as number;
    candles.update(p);
  }
}
function addFillMarkers(fills: Row[]): void {
  for (const f of fills) {
    fillMarkers.push({ time: Math.floor(f.ts_event / 1e9) as UTCTimestamp, position: f.side === "buy" ? "belowBar" : "aboveBar", color: f.side === "buy" ? "#26a69a" : "#ef5350", shape: f.side === "buy" ? "arrowUp" : "arrowDown", text: f.side === "buy" ? "B" : "S" });
  }
  fillMarkers.sort((a, b) => (a.time as number) - (b.time as number));
  markers?.setMarkers(fillMarkers.slice(-200));
}

// ---------------------------------------------------------------- state and renderers
const orders = new Map<string, Row>();
let fills: Row[] = [];
let alerts: Row[] = [];

function renderAccount(s: Row): void {
  $("kpi-equity").innerHTML = esc(s.equity);
  $("kpi-total-pnl").innerHTML = signed(s.total_pnl);
  $("kpi-daily-pnl").innerHTML = signed(s.daily_pnl);
  $("kpi-balance").innerHTML = `${esc(s.balance)} ${esc(s.currency)}`;
  $("kpi-win-rate").innerHTML = esc(s.win_rate_pct);
  $("kpi-profit-factor").innerHTML = esc(s.profit_factor);
  $("kpi-exposure").innerHTML = esc(s.exposure);
  $("kpi-fees").innerHTML = esc(s.fees);
  $("kpi-fills").innerHTML = esc(s.fills);
}
function onAccount(s: Row, snapshot: boolean): void {
  renderAccount(s);
  if (!equitySeries) return;
  if (snapshot && Array.isArray(s.equity_curve)) {
    equitySeries.setData(s.equity_curve.map((p: [number, string]) => ({ time: Math.floor(p[0] / 1e9) as UTCTimestamp, value: +p[1] })));
  } else if (s.equity_point) {
    try {
      equitySeries.update({ time: Math.floor(s.equity_point[0] / 1e9) as UTCTimestamp, value: +s.equity_point[1] });
    } catch {
      /* an older point than the last one: ignore */
    }
  }
}
function renderPositions(rows: Row[]): void {
  table("positions", rows.map((p) => `<tr data-instrument="${esc(p.instrument_id)}"><td>${esc(p.instrument_id)}</td><td>${esc(p.strategy_id)}</td><td>${esc(p.side)}</td><td class="qty">${esc(p.signed_qty)}</td><td>${esc(p.avg_px_open)}</td><td>${esc(p.mark)}</td><td class="upnl">${signed(p.unrealized_pnl)}</td><td>${signed(p.realized_pnl)}</td></tr>`), "positions-empty");
}
const WORKING = new Set(["initialized", "submitted", "accepted", "triggered", "pending_update", "pending_cancel", "partially_filled"]);
function renderOrders(): void {
  const all = [...orders.values()].sort((a, b) => b.ts_init - a.ts_init);
  const working = all.filter((o) => WORKING.has(o.status));
  const history = all.filter((o) => !WORKING.has(o.status)).slice(0, 100);
  table("orders-working", working.map((o) => `<tr><td>${esc(o.client_order_id)}</td><td>${esc(o.side)}</td><td>${esc(o.order_type)}</td><td>${esc(o.quantity)}</td><td>${esc(o.price)}</td><td>${esc(o.filled_qty)}</td><td>${esc(o.status)}</td><td><button data-cancel="${esc(o.client_order_id)}">cancel</button></td></tr>`), "orders-working-empty");
  table("orders-history", history.map((o) => `<tr><td>${esc(o.client_order_id)}</td><td>${esc(o.side)}</td><td>${esc(o.order_type)}</td><td>${esc(o.quantity)}</td><td>${esc(o.avg_px)}</td><td>${esc(o.status)}</td><td>${esc(o.reason)}</td></tr>`), "orders-history-empty");
}
function fillRow(f: Row): string {
  return `<tr data-trade-id="${esc(f.trade_id)}" data-ts-event="${esc(f.ts_event)}" data-ts-published="${esc(f.ts_published)}"><td>${utc(f.ts_event)}</td><td>${esc(f.client_order_id)}</td><td>${esc(f.side)}</td><td>${esc(f.quantity)}</td><td>${esc(f.price)}</td><td>${esc(f.commission)} ${esc(f.commission_currency)}</td><td>${esc(f.liquidity_side)}</td></tr>`;
}
function onFills(data: Row[] | Row, snapshot: boolean): void {
  const body = $("fills").querySelector("tbody")!;
  if (snapshot) {
    fills = (data as Row[]).slice(0, 200);
    body.innerHTML = fills.map(fillRow).join("");
    fillMarkers.length = 0;
    addFillMarkers(fills);
  } else {
    const f = data as Row;
    fills.unshift(f);
    body.insertAdjacentHTML("afterbegin", fillRow(f));
    while (body.rows.length > 200) body.deleteRow(body.rows.length - 1);
    addFillMarkers([f]);
  }
  $("fills-empty").hidden = fills.length > 0;
}
function renderBook(b: Row | null): void {
  if (!b) return;
  const asks = (b.asks as string[][]).slice(0, 12).reverse();
  const bids = (b.bids as string[][]).slice(0, 12);
  const rows = asks.map((a, i) => `<tr${i === asks.length - 1 ? ' class="spread"' : ""}><td></td><td class="px ask">${esc(a[0])}</td><td class="ask">${esc(a[1])}</td></tr>`).concat(bids.map((x) => `<tr><td class="bid">${esc(x[1])}</td><td class="px bid">${esc(x[0])}</td><td></td></tr>`));
  table("dom", rows, "dom-empty");
  $("dom").dataset.sequence = String(b.sequence);
}
function renderRisk(r: Row): void {
  const state = String(r.trading_state ?? "–");
  $("risk-state").textContent = state;
  $("risk-reason").textContent = r.state_reason ? `(${r.state_reason})` : "";
  const pill = $("trading-state");
  pill.textContent = `risk: ${state}`;
  pill.className = `pill ${state === "active" ? "good" : "bad"}`;
  const rules = (r.rules ?? []) as Row[];
  $("risk-rules").innerHTML = rules.length
    ? rules.map((x) => { const pct = x.headroom_pct === null || x.headroom_pct === undefined ? null : Math.max(0, Math.min(100, +x.headroom_pct)); return `<div class="rule">${esc(x.kind ?? x.name)}: value ${esc(x.value)} / limit ${esc(x.limit)}, headroom ${esc(x.headroom)} (${esc(x.headroom_pct)}%)${pct === null ? "" : `<div class="bar${pct < 20 ? " low" : ""}"><div style="width:${pct}%"></div></div>`}</div>`; }).join("")
    : '<p class="empty">no account rules configured</p>';
  const inst = (r.pre_trade?.instruments ?? {}) as Record<string, Row>;
  $("risk-instruments").innerHTML = Object.entries(inst).map(([id, e]) => `<div class="rule">${esc(id)}: position ${esc(e.position)} / max ${esc(e.max_position ?? "no limit")}${e.position_headroom_pct !== undefined ? `<div class="bar${+e.position_headroom_pct < 20 ? " low" : ""}"><div style="width:${Math.max(0, Math.min(100, +e.position_headroom_pct))}%"></div></div>` : ""}</div>`).join("") + `<p>open orders ${esc(r.pre_trade?.open_orders)} / max ${esc(r.pre_trade?.max_open_orders ?? "no limit")}; denied ${esc(JSON.stringify(r.denied ?? {}))}</p>`;
}
function renderEngine(e: Row): void {
  const pill = $("engine-state");
  pill.textContent = `engine: ${e.state}`;
  pill.className = `pill ${e.state === "running" ? "good" : e.state === "error" ? "bad" : ""}`;
  $("engine-state2").textContent = String(e.state);
  const c = e.counters ?? {};
  $("engine-counters").textContent = `events ${c.events_processed} (${c.events_per_s}/s), orders ${c.orders}, fills ${c.fills}, loop ${c.loop}`;
}
function renderConnections(list: Row[]): void {
  $("connections").innerHTML = list.length
    ? list.map((c) => `<div class="conn" data-conn="${esc(c.id)}"><b>${esc(c.id)}</b> ${esc(c.mode)} / ${esc(c.data)} — <span class="status">${esc(c.status)}</span>, live trading ${c.live_trading ? "ON" : "off"}, balance ${esc(Object.entries(c.balance ?? {}).map(([k, v]) => `${v} ${k}`).join(", "))}, open positions ${esc(c.open_positions)}<br/>last test: ${c.last_test ? `${c.last_test.ok ? "ok" : "FAILED"} at ${utc(c.last_test.ts)}` : "never"}<br/><button data-test="${esc(c.id)}">test</button> <button data-enable="${esc(c.id)}" data-on="${c.enabled ? "0" : "1"}">${c.enabled ? "disable" : "enable"}</button> <button data-live="${esc(c.id)}">${c.live_trading ? "live off" : "go live…"}</button></div>`).join("")
    : '<p class="empty">no connections</p>';
}
function onAlert(data: Row[] | Row, snapshot: boolean): void {
  alerts = snapshot ? (data as Row[]).slice(0, 200) : [data as Row, ...alerts].slice(0, 200);
  $("alerts").innerHTML = alerts.map((a) => `<li><span class="src">${esc(a.source)}</span>${utc(a.ts_event)} ${esc(a.message)}</li>`).join("");
  $("alerts-empty").hidden = alerts.length > 0;
}

// ---------------------------------------------------------------- order flow
let cvdSeries: ISeriesApi<"Line"> | null = null;
const seenSignals = new Set<string>();
let signalsPrimed = false;
let audio: AudioContext | null = null;
const SIGNAL_TONE: Record<string, number> = { large_order: 660, absorption: 440, exhaustion: 520, imbalance: 880, iceberg: 990, regime: 330 };

function initOrderFlowChart(opts: object): void {
  const c = createChart($("of-cvd-chart"), opts);
  cvdSeries = c.addSeries(LineSeries, { color: "#42a5f5", lineWidth: 2 });
}
function beep(kind: string): void {
  if (!$<HTMLInputElement>("of-sound").checked) return;
  audio ??= new AudioContext();
  const osc = audio.createOscillator();
  const gain = audio.createGain();
  osc.frequency.value = SIGNAL_TONE[kind] ?? 600;
  gain.gain.setValueAtTime(0.08, audio.currentTime);
  gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.15);
  osc.connect(gain).connect(audio.destination);
  osc.start();
  osc.stop(audio.currentTime + 0.16);
}
function gauge(id: string, v: number | null | undefined): void {
  const bar = $(`${id}-bar`);
  const text = $(id);
  if (v === null || v === undefined || !Number.isFinite(v)) {
    bar.style.width = "0";
    text.textContent = "–";
    text.removeAttribute("data-value");
    return;
  }
  const x = Math.max(-1, Math.min(1, v));
  bar.className = `gfill ${x >= 0 ? "buy" : "sell"}`;
  bar.style.left = x >= 0 ? "50%" : `${50 + x * 50}%`;
  bar.style.width = `${Math.abs(x) * 50}%`;
  text.textContent = v.toFixed(3);
  text.dataset.value = String(v);
}
function renderFootprint(fp: Row | null, poc: string | null): void {
  if (!fp) {
    $("of-fp-title").textContent = "";
    table("of-footprint", [], "of-fp-empty");
    return;
  }
  $("of-fp-title").textContent = `${utc(fp.start_ns).slice(11, 19)} bar · O ${fp.open} H ${fp.high} L ${fp.low} C ${fp.close} · vol ${fp.volume} · Δ ${fp.delta}`;
  const rows = (fp.rows as Row[]).map((r) => {
    const bidCls = r.imbalance === -1 ? "bidv imb-sell" : "bidv";
    const askCls = r.imbalance === 1 ? "askv imb-buy" : "askv";
    return `<tr data-price="${esc(r.price)}"${r.price === poc ? ' class="poc"' : ""}><td>${esc(r.price)}</td><td class="${bidCls}">${esc(r.bid)}</td><td class="x">×</td><td class="${askCls}">${esc(r.ask)}</td></tr>`;
  });
  table("of-footprint", rows, "of-fp-empty");
}
function renderSignals(list: Row[]): void {
  const fresh: string[] = [];
  const items = [...list].reverse().map((g) => {
    const key = `${g.ts_event}:${g.kind}:${g.price}:${g.strength}`;
    const isNew = !seenSignals.has(key);
    if (isNew) {
      seenSignals.add(key);
      fresh.push(g.kind);
    }
    const side = g.strength > 0 ? "bullish" : g.strength < 0 ? "bearish" : "";
    return `<li class="k-${esc(g.kind)}${isNew && signalsPrimed ? " fresh" : ""}" data-kind="${esc(g.kind)}"><span class="kind">${esc(g.kind)}</span>${utc(g.ts_event).slice(11, 23)} ${side} strength ${esc(Number(g.strength).toFixed(2))}${g.price ? ` at ${esc(g.price)}` : ""}</li>`;
  });
  $("of-signals").innerHTML = items.join("");
  $("of-signals-empty").hidden = items.length > 0;
  if (signalsPrimed && fresh.length) beep(fresh[0]);
  signalsPrimed = true;
}
function onOrderFlow(v: Row): void {
  const t = v.totals ?? {};
  const hasData = (t.trades ?? 0) > 0 || v.book !== null;
  $("of-empty").hidden = hasData;
  $("of-body").hidden = !hasData;
  const of = $("orderflow");
  of.dataset.trades = String(t.trades ?? 0);
  of.dataset.cvd = String(v.cvd?.session ?? "");
  if (!hasData) return;
  gauge("of-tob", v.book?.tob_imbalance);
  gauge("of-depth", v.book?.depth_imbalance);
  $("of-cvd").innerHTML = signed(v.cvd?.session);
  $("of-cvd-rolling").innerHTML = signed(v.cvd?.rolling);
  $("of-volume").textContent = t.volume ?? "–";
  $("of-trades").textContent = String(t.trades ?? "–");
  $("of-vwap").textContent = t.vwap ?? "–";
  $("of-poc").textContent = t.poc ?? "–";
  const series = (v.cvd?.series ?? []) as [number, string][];
  cvdSeries?.setData(series.map((p) => ({ time: Math.floor(p[0] / 1e9) as UTCTimestamp, value: +p[1] })));
  renderFootprint(v.footprint, t.poc);
  renderSignals((v.signals ?? []) as Row[]);
}

// ---------------------------------------------------------------- socket
let ws: WebSocket | null = null;
let retry = 500;
let lastSeq = 0;
function topics(): string[] {
  return ["orders", "fills", "positions", "account", "engine", "risk", "alerts", "connections", `book:${instrument}`, `bars:${instrument}`, `orderflow:${instrument}`];
}
function handle(msg: Row): void {
  if (msg.seq !== lastSeq + 1) console.warn(`sequence gap: ${lastSeq} -> ${msg.seq}`);
  lastSeq = msg.seq;
  if (msg.type === "error") return toast(msg.message);
  if (msg.type !== "snapshot" && msg.type !== "update") return;
  const snap = msg.type === "snapshot";
  const d = msg.data;
  const t: string = msg.topic;
  if (d === null || d === undefined) return;
  if (t === "orders") {
    if (snap) orders.clear();
    for (const o of snap ? d : [d]) orders.set(o.client_order_id, o);
    renderOrders();
  } else if (t === "fills") onFills(d, snap);
  else if (t === "positions") renderPositions(d);
  else if (t === "account") onAccount(d, snap);
  else if (t === "engine") renderEngine(d);
  else if (t === "risk") renderRisk(d);
  else if (t === "alerts") onAlert(d, snap);
  else if (t === "connections") renderConnections(d);
  else if (t.startsWith("book:")) renderBook(d);
  else if (t.startsWith("bars:")) onBars(d, snap);
  else if (t.startsWith("orderflow:")) onOrderFlow(d);
}
function connect(): void {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const q = token ? `?access_token=${encodeURIComponent(token)}` : "";
  ws = new WebSocket(`${proto}://${location.host}/ws${q}`);
  ws.onopen = () => {
    retry = 500;
    lastSeq = 0;
    $("ws-state").textContent = "socket: live";
    $("ws-state").className = "pill good";
    ws!.send(JSON.stringify({ type: "subscribe", topics: topics() }));
  };
  ws.onmessage = (ev) => handle(JSON.parse(ev.data));
  ws.onclose = () => {
    $("ws-state").textContent = "socket: reconnecting…";
    $("ws-state").className = "pill bad";
    window.setTimeout(start, retry);
    retry = Math.min(retry * 2, 10000);
  };
}

// ---------------------------------------------------------------- login and start
function showLogin(hint: string): void {
  ws?.close();
  $("login-hint").textContent = hint;
  $("login").hidden = false;
}
$("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const r = await fetch("/api/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ password: $<HTMLInputElement>("login-password").value }) });
  if (!r.ok) {
    $("login-error").textContent = r.status === 401 ? "wrong password or token" : `login failed (${r.status})`;
    return;
  }
  token = (await r.json()).token as string;
  sessionStorage.setItem(TOKEN_KEY, token);
  $("login").hidden = true;
  $<HTMLInputElement>("login-password").value = "";
  start();
});

async function start(): Promise<void> {
  try {
    const auth = await (await fetch("/api/auth")).json();
    if (auth.required && !token) return showLogin(`This node requires a login (${auth.method}).`);
    const h = await api("GET", "/api/health");
    instrument = h.instrument_id;
    $("chart-title").textContent = `${instrument} · 1-second bars`;
    $("of-title").textContent = instrument;
    const badge = $("mode-badge");
    badge.textContent = h.mode_label ?? String(h.mode).toUpperCase();
    badge.className = `badge ${h.mode === "live" ? "live" : "paper"}`;
    badge.title = `mode reported by /api/health${h.data_source ? ` · data: ${h.data_source}` : ""}`;
    $("banner").textContent = h.banner ?? "";
    connect();
  } catch (e) {
    if (String(e).includes("authentication")) return;
    $("ws-state").textContent = "socket: node unreachable, retrying…";
    window.setTimeout(start, Math.min((retry *= 2), 10000));
  }
}

document.addEventListener("click", (ev) => {
  const el = ev.target as HTMLElement;
  if (el.dataset.cancel) command("DELETE", `/api/orders/${encodeURIComponent(el.dataset.cancel)}`);
  else if (el.dataset.test) command("POST", `/api/connections/${encodeURIComponent(el.dataset.test)}/test`);
  else if (el.dataset.enable) command("POST", `/api/connections/${encodeURIComponent(el.dataset.enable)}/${el.dataset.on === "1" ? "enable" : "disable"}`);
  else if (el.dataset.live) {
    const id = el.dataset.live;
    const typed = window.prompt(`Switch ${id} to LIVE trading with real money? Type the connection id to confirm.`);
    if (typed !== null) command("POST", `/api/connections/${encodeURIComponent(id)}/live`, { enabled: true, confirm: typed });
  }
});
$("kill-btn").addEventListener("click", () => {
  if (window.confirm("Kill switch: halt trading, cancel working orders and flatten every position?")) command("POST", "/api/risk/kill", { reason: "dashboard kill switch" });
});
$("reset-btn").addEventListener("click", () => {
  if (window.confirm("Return trading to ACTIVE?")) command("POST", "/api/risk/reset");
});
$("engine-start").addEventListener("click", () => command("POST", "/api/engine/start"));
$("engine-stop").addEventListener("click", () => {
  if (window.confirm("Stop the engine (strategies stop, market data paused)?")) command("POST", "/api/engine/stop");
});

initCharts();
start();
