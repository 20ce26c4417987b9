// Sous console: a small single-page app over the host's HTTP API. No framework, no
// build step. Every piece of data is put in the page with textContent (never as
// HTML), the token lives in sessionStorage, and event streams are read with fetch +
// ReadableStream so that they can carry the Authorization header.
'use strict';

const TOKEN_KEY = 'sous.token';
const FINAL = new Set(['succeeded', 'failed', 'timeout']);
const main = document.getElementById('main');
let view = null; // AbortController of the view on screen

// ---- DOM ----------------------------------------------------------------------

// h builds an element: props are attributes, except class, text, on* (listeners)
// and hidden/disabled/value (properties). Children are nodes or strings (text).
function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'hidden' || k === 'disabled' || k === 'value' || k === 'checked') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : String(kid));
  }
  return el;
}

function clear(el, ...kids) { el.replaceChildren(...kids.flat().filter(Boolean)); return el; }
function pretty(v) { return typeof v === 'string' ? v : JSON.stringify(v, null, 2); }
function short(id) { return id ? id.slice(-8) : ''; }
function fmtTime(t) { return t ? new Date(t).toLocaleString() : '—'; }
function fmtMS(ms) { return ms === undefined || ms === null ? '—' : ms < 1000 ? ms + ' ms' : (ms / 1000).toFixed(2) + ' s'; }
function ago(t) {
  if (!t) return '';
  const s = Math.max(0, (Date.now() - new Date(t).getTime()) / 1000);
  if (s < 60) return Math.floor(s) + 's ago';
  if (s < 3600) return Math.floor(s / 60) + 'm ago';
  if (s < 86400) return Math.floor(s / 3600) + 'h ago';
  return Math.floor(s / 86400) + 'd ago';
}
function took(inv) { return FINAL.has(inv.status) ? fmtMS(inv.duration_ms || 0) : '—'; }
function badge(status) { return h('span', { class: 'badge s-' + (status || 'none'), text: status || 'never run' }); }
function aliasChips(aliases) {
  const names = Object.keys(aliases || {}).sort();
  if (!names.length) return h('span', { class: 'muted', text: 'none' });
  return h('span', { class: 'chips' }, names.map((a) => h('span', { class: 'chip alias-' + a, text: `${a} → v${aliases[a]}` })));
}
function jsonBlock(v, cls) { return h('pre', { class: 'json ' + (cls || ''), text: pretty(v) }); }

// ---- API ----------------------------------------------------------------------

class APIError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function errorFrom(res) {
  let code = 'http_' + res.status, msg = res.statusText;
  try { const b = await res.json(); code = b.error.code; msg = b.error.message; } catch (_) { /* not JSON */ }
  if (res.status === 401) signOut('Signed out: ' + msg);
  return new APIError(res.status, code, msg);
}

function authHeaders(extra) {
  return Object.assign({ Authorization: 'Bearer ' + (sessionStorage.getItem(TOKEN_KEY) || '') }, extra || {});
}

async function api(method, path, body, signal) {
  const res = await fetch(path, {
    method, signal, cache: 'no-store',
    headers: authHeaders(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw await errorFrom(res);
  return res.status === 204 ? null : res.json();
}

// sse reads a text/event-stream response. onOpen(res) runs once the headers are in;
// onEvent(envelope, id) per event. Resolves with {done, lastID} when the stream ends.
async function sse(path, { method = 'GET', body, lastEventID, signal, onOpen, onEvent, onComment }) {
  const headers = authHeaders({ Accept: 'text/event-stream' });
  if (lastEventID) headers['Last-Event-ID'] = lastEventID;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, body, signal, cache: 'no-store' });
  if (!res.ok) throw await errorFrom(res);
  if (onOpen) onOpen(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '', id = '', data = '', lastID = lastEventID || '', done = false;
  for (;;) {
    const { value, done: eof } = await reader.read();
    if (eof) break;
    buf += value;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      if (line === '') {
        if (data) {
          const env = JSON.parse(data);
          if (id) lastID = id;
          onEvent(env, id);
          if (env.type === 'done') done = true;
        }
        id = ''; data = '';
      } else if (line.startsWith(':')) {
        if (onComment) onComment(line.slice(1).trim());
      } else if (line.startsWith('id:')) {
        id = line.slice(3).trim();
      } else if (line.startsWith('data:')) {
        data += line.slice(5).replace(/^ /, '');
      }
    }
  }
  return { done, lastID };
}

// ---- Errors -------------------------------------------------------------------

// sourceLine finds "file:line" of the function's own code in a stack: the last
// Python frame, or the first JavaScript frame outside the harness.
function sourceLine(stack) {
  if (!stack) return '';
  const py = [...stack.matchAll(/File "([^"]+\.py)", line (\d+)/g)].filter((m) => !/runner/.test(m[1]));
  if (py.length) { const m = py[py.length - 1]; return m[1].split('/').pop() + ':' + m[2]; }
  for (const m of stack.matchAll(/([\w./@-]+\.(?:ts|tsx|js|mjs|cjs|jsx)):(\d+)(?::\d+)?/g)) {
    if (!/runner|node_modules/.test(m[1])) return m[1].split('/').pop() + ':' + m[2];
  }
  return '';
}

function errorBox(err) {
  const at = sourceLine(err.stack);
  return h('div', { class: 'error-box' },
    h('div', { class: 'error-head' },
      h('span', { class: 'kind kind-' + err.kind, text: err.kind }),
      h('span', { class: 'error-msg', text: err.message }),
      at && h('span', { class: 'error-at', text: 'at ' + at })),
    err.stack && h('details', {}, h('summary', { text: 'stack' }), h('pre', { class: 'stack', text: err.stack })));
}

function problem(e) {
  const msg = e instanceof APIError ? `${e.message} (${e.code}, HTTP ${e.status})` : String(e.message || e);
  return h('div', { class: 'problem', role: 'alert', text: msg });
}

// ---- Sign-in ------------------------------------------------------------------

function claims() {
  try {
    const p = (sessionStorage.getItem(TOKEN_KEY) || '').split('.')[1];
    return JSON.parse(atob(p.replace(/-/g, '+').replace(/_/g, '/')));
  } catch (_) { return null; }
}

function signOut(reason) {
  sessionStorage.removeItem(TOKEN_KEY);
  if (view) view.abort();
  showSignIn(reason);
}

async function useLink(code) {
  history.replaceState(null, '', location.pathname + '#/');
  const res = await fetch('api/signin', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code }) });
  if (!res.ok) {
    let msg = 'the sign-in link did not work';
    try { msg = (await res.json()).error.message; } catch (_) { /* keep */ }
    return msg;
  }
  sessionStorage.setItem(TOKEN_KEY, (await res.json()).token);
  return '';
}

function showSignIn(reason) {
  document.getElementById('nav').hidden = true;
  document.getElementById('signout').hidden = true;
  document.getElementById('who').textContent = '';
  const ta = h('textarea', { id: 'token', rows: 4, placeholder: 'eyJhbGciOi…', spellcheck: 'false', autocomplete: 'off' });
  const msg = h('p', { class: 'problem', hidden: !reason, text: reason || '' });
  const form = h('form', {
    class: 'card signin', onsubmit: async (ev) => {
      ev.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, ta.value.trim());
      try { await api('GET', '/v1/functions'); route(); } catch (e) {
        sessionStorage.removeItem(TOKEN_KEY);
        msg.hidden = false; msg.textContent = 'That token does not work: ' + e.message;
      }
    },
  },
  h('h1', { text: 'Sign in to Sous' }),
  h('p', {}, 'Paste an API token (', h('code', { text: 'sous token create' }), ', or ',
    h('code', { text: '.sous/auth/admin.token' }), '). ', h('code', { text: 'sous dev' }),
  ' also prints a one-time sign-in link.'),
  h('label', { for: 'token', text: 'Token' }), ta, msg,
  h('button', { type: 'submit', id: 'signin', text: 'Sign in' }),
  h('p', { class: 'muted small', text: 'The token stays in this tab (sessionStorage) and is sent only to this host.' }));
  clear(main, form);
}

// ---- Router -------------------------------------------------------------------

async function route() {
  if (view) view.abort();
  view = new AbortController();
  const signal = view.signal;
  const m = location.hash.match(/^#signin=([0-9a-f]+)$/);
  if (m) {
    const err = await useLink(m[1]);
    if (err) return showSignIn(err);
  }
  if (!sessionStorage.getItem(TOKEN_KEY)) return showSignIn('');
  const c = claims() || {};
  document.getElementById('nav').hidden = false;
  document.getElementById('signout').hidden = false;
  document.getElementById('who').textContent = `${c.tenant || '?'} · ${c.scope || ''}`;
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  const q = new URLSearchParams(query || '');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  for (const a of document.querySelectorAll('[data-nav]')) {
    a.classList.toggle('active', a.dataset.nav === (parts[0] === 'invocations' ? 'invocations' : 'functions'));
  }
  try {
    if (parts[0] === 'functions' && parts[1]) await functionView(parts[1], signal);
    else if (parts[0] === 'invocations' && parts[1]) await invocationView(parts[1], q, signal);
    else if (parts[0] === 'invocations') await invocationsView(q, signal);
    else await functionsView(signal);
  } catch (e) {
    if (e.name !== 'AbortError' && sessionStorage.getItem(TOKEN_KEY)) clear(main, problem(e));
  }
}

// every runs fn now and every ms until signal aborts.
function every(ms, signal, fn) {
  const tick = async () => { if (signal.aborted) return; try { await fn(); } catch (_) { /* next tick */ } if (!signal.aborted) setTimeout(tick, ms); };
  tick();
}

// ---- Functions ----------------------------------------------------------------

async function functionsView(signal) {
  const { functions } = await api('GET', '/v1/functions', undefined, signal);
  const rows = await Promise.all(functions.map(async (fn) => {
    const [vs, inv] = await Promise.all([
      api('GET', `/v1/functions/${encodeURIComponent(fn.name)}/versions`, undefined, signal).catch(() => ({ versions: [] })),
      api('GET', `/v1/invocations?function=${encodeURIComponent(fn.name)}&limit=1`, undefined, signal).catch(() => ({ invocations: [] })),
    ]);
    return { fn, latest: vs.versions[0] || {}, last: inv.invocations[0] };
  }));
  const table = h('table', { class: 'list', id: 'functions' },
    h('thead', {}, h('tr', {}, ['Function', 'Runtime', 'Versions', 'Aliases', 'Last invocation'].map((t) => h('th', { text: t })))),
    h('tbody', {}, rows.map(({ fn, latest, last }) => h('tr', { 'data-function': fn.name },
      h('td', {}, h('a', { href: '#/functions/' + encodeURIComponent(fn.name), class: 'fn-name', text: fn.name }),
        latest.description && h('div', { class: 'muted small', text: latest.description })),
      h('td', {}, h('span', { class: 'runtime rt-' + latest.runtime, text: latest.runtime || '?' })),
      h('td', { text: String(fn.latest_version) }),
      h('td', {}, aliasChips(fn.aliases)),
      h('td', {}, last ? [h('a', { href: '#/invocations/' + last.id }, badge(last.status)), ' ', h('span', { class: 'muted small', text: ago(last.created_at) })] : badge('')),
    ))));
  clear(main, h('div', { class: 'page-head' }, h('h1', { text: 'Functions' }),
    h('span', { class: 'muted', text: `${functions.length} deployed` })),
  functions.length ? table : h('p', { class: 'card', text: 'No functions yet: deploy one with `sous deploy <dir>`.' }));
}

async function functionView(name, signal) {
  const enc = encodeURIComponent(name);
  const [fn, { versions }] = await Promise.all([
    api('GET', `/v1/functions/${enc}`, undefined, signal),
    api('GET', `/v1/functions/${enc}/versions`, undefined, signal),
  ]);
  const current = versions.find((v) => v.version === (fn.aliases || {}).dev) || versions[0] || {};
  const code = h('div', { class: 'card' }, h('h2', { text: `Code · version ${current.version}` }), h('p', { class: 'muted', text: 'loading…' }));
  const run = runPanel(fn, versions, current, signal);
  const feed = liveFeed(name, signal);
  clear(main,
    h('div', { class: 'page-head' },
      h('h1', {}, h('a', { href: '#/', class: 'crumb', text: 'Functions' }), ' / ', name),
      h('span', { class: 'runtime rt-' + current.runtime, text: current.runtime })),
    current.description && h('p', { class: 'lead', text: current.description }),
    h('div', { class: 'grid' },
      h('div', { class: 'col' }, run, feed),
      h('div', { class: 'col' }, code, versionsCard(fn, versions, signal))));
  api('GET', `/console/api/functions/${enc}/versions/${current.version}/files`, undefined, signal)
    .then((r) => clear(code, h('h2', { text: `Code · version ${current.version}` }), filesView(r.files, current.entry)))
    .catch((e) => { if (e.name !== 'AbortError') clear(code, h('h2', { text: 'Code' }), problem(e)); });
}

function filesView(files, entry) {
  const pre = h('pre', { class: 'code', id: 'code' });
  const tabs = h('div', { class: 'tabs', role: 'tablist' });
  const show = (f) => {
    for (const t of tabs.children) t.classList.toggle('active', t.dataset.path === f.path);
    pre.textContent = f.binary ? `(binary file, ${f.size} bytes)` : f.text;
  };
  for (const f of files) {
    tabs.append(h('button', { class: 'tab', role: 'tab', 'data-path': f.path, text: f.path + (f.path === entry ? ' ★' : ''), onclick: () => show(f) }));
  }
  const first = files.find((f) => f.path === entry) || files[0];
  if (first) show(first);
  return [tabs, pre, h('p', { class: 'muted small', text: 'Read-only: deploy a new version to change it.' })];
}

function versionsCard(fn, versions, signal) {
  const aliases = fn.aliases || {};
  const byVersion = {};
  for (const [a, n] of Object.entries(aliases)) (byVersion[n] = byVersion[n] || []).push(a);
  const msg = h('p', { class: 'small', hidden: true });
  const dev = aliases.dev;
  const promote = h('button', {
    id: 'promote', disabled: !dev || aliases.prod === dev,
    text: dev ? (aliases.prod === dev ? `prod runs v${dev}` : `Promote dev (v${dev}) → prod`) : 'no dev alias',
    onclick: async () => {
      promote.disabled = true;
      try {
        await api('PUT', `/v1/functions/${encodeURIComponent(fn.name)}/aliases/prod`, { version: dev }, signal);
        route();
      } catch (e) { msg.hidden = false; clear(msg, problem(e)); promote.disabled = false; }
    },
  });
  return h('div', { class: 'card' },
    h('div', { class: 'card-head' }, h('h2', { text: 'Versions' }), promote), msg,
    h('table', { class: 'list compact' },
      h('thead', {}, h('tr', {}, ['Version', 'Aliases', 'Digest', 'Deployed'].map((t) => h('th', { text: t })))),
      h('tbody', {}, versions.map((v) => h('tr', {},
        h('td', { text: 'v' + v.version }),
        h('td', {}, h('span', { class: 'chips' }, (byVersion[v.version] || []).sort().map((a) => h('span', { class: 'chip alias-' + a, text: a })))),
        h('td', {}, h('code', { text: v.digest.slice(0, 12) })),
        h('td', { class: 'muted small', text: fmtTime(v.created_at) }))))));
}

// skeleton is a starting input from a JSON Schema: each property's default, or a
// value of its type.
function skeleton(schema) {
  if (!schema || schema.type !== 'object' || !schema.properties) return {};
  const out = {};
  for (const [k, p] of Object.entries(schema.properties)) {
    out[k] = 'default' in p ? p.default : { string: '', integer: 0, number: 0, boolean: false, array: [], object: {} }[p.type] ?? null;
  }
  return out;
}

// ---- Run panel ----------------------------------------------------------------

function runPanel(fn, versions, current, viewSignal) {
  const input = h('textarea', { id: 'input', class: 'editor', rows: 6, spellcheck: 'false', value: JSON.stringify(skeleton(current.input_schema), null, 2) });
  const inputMsg = h('span', { class: 'small problem-inline', hidden: true });
  const target = h('select', { id: 'target' },
    Object.keys(fn.aliases || {}).sort().map((a) => h('option', { value: 'env=' + a, text: `env ${a} (v${fn.aliases[a]})` })),
    versions.map((v) => h('option', { value: 'version=' + v.version, text: `version ${v.version}` })));
  const runBtn = h('button', { id: 'run', type: 'submit', text: 'Run' });
  const cancel = h('button', { id: 'cancel', type: 'button', class: 'ghost', hidden: true, text: 'Stop watching' });
  const status = h('div', { id: 'run-status', class: 'status-line' }, h('span', { class: 'muted', text: 'Not run yet.' }));
  const output = h('div', { id: 'output', class: 'output' });
  const logs = h('div', { id: 'logs', class: 'term' });
  const note = h('div', { id: 'run-note', class: 'muted small' });
  input.addEventListener('input', () => { inputMsg.hidden = true; });
  const form = h('form', {
    class: 'run-form', onsubmit: (ev) => {
      ev.preventDefault();
      let body = input.value.trim() || 'null';
      try { JSON.parse(body); } catch (e) { inputMsg.hidden = false; inputMsg.textContent = 'Not JSON: ' + e.message; return; }
      startRun(fn.name, target.value, body, { runBtn, cancel, status, output, logs, note, viewSignal });
    },
  },
  h('label', { for: 'input', text: 'Input (JSON)' }), input, inputMsg,
  h('div', { class: 'row' }, h('label', { for: 'target', text: 'Run' }), target, runBtn, cancel));
  return h('div', { class: 'card run' }, h('h2', { text: 'Run' }), form, status,
    h('div', { class: 'panes' },
      h('section', {}, h('h3', { text: 'Output' }), output),
      h('section', {}, h('h3', { text: 'Logs' }), logs)), note);
}

function logLine(e, prefix) {
  return h('div', { class: 'line ' + (e.stream === 'stderr' ? 'stderr' : 'stdout') },
    prefix && h('span', { class: 'prefix', text: prefix }),
    h('span', { class: 'stream', text: e.stream }), h('span', { class: 'text', text: e.text }));
}

async function startRun(name, target, body, ui) {
  const ctl = new AbortController();
  const onViewAbort = () => ctl.abort();
  ui.viewSignal.addEventListener('abort', onViewAbort);
  const env = target.startsWith('env=') ? target.slice(4) : '';
  let id = '', chunks = 0, attempt = 0;
  clear(ui.output); clear(ui.note);
  clear(ui.logs, env === 'dev' ? null : h('div', { class: 'gated', id: 'logs-gated', text: env
    ? `Logs are gated: this run is in ${env}, and only dev keeps logs. Output (chunks and result) is never gated.`
    : 'Logs are gated: a run by version number has no environment; run env dev to see logs.' }));
  const setStatus = (st, extra) => clear(ui.status, badge(st),
    id && h('a', { href: '#/invocations/' + id, class: 'inv-link', text: id }),
    attempt ? h('span', { class: 'muted', text: `attempt ${attempt}` }) : null, extra);
  ui.runBtn.disabled = true; ui.cancel.hidden = false;
  ui.cancel.onclick = () => {
    ctl.abort();
    clear(ui.note, 'Stopped watching. The run goes on and is recorded: ',
      id ? h('a', { href: '#/invocations/' + id, text: 'open it in Invocations' }) : 'see Invocations', '.');
  };
  setStatus('pending');
  try {
    const res = await sse(`/v1/functions/${encodeURIComponent(name)}/invoke?${target}`, {
      method: 'POST', body, signal: ctl.signal,
      onOpen: (r) => { id = r.headers.get('Sous-Invocation-Id') || ''; setStatus('pending'); window.dispatchEvent(new Event('sous:run')); },
      onEvent: (e) => {
        switch (e.type) {
          case 'status':
            if (e.attempt > 1 && e.attempt !== attempt) {
              clear(ui.output, h('div', { class: 'muted small', text: `retried: attempt ${e.attempt} starts over` }));
              chunks = 0;
            }
            attempt = e.attempt || attempt;
            setStatus(e.status);
            break;
          case 'log':
            ui.logs.append(logLine(e));
            ui.logs.scrollTop = ui.logs.scrollHeight;
            break;
          case 'chunk':
            chunks++;
            ui.output.append(h('div', { class: 'chunk', 'data-seq': e.seq }, h('span', { class: 'seq', text: '#' + e.seq }), h('span', { class: 'data', text: pretty(e.data) })));
            break;
          case 'result':
            ui.output.append(h('div', { class: 'result', id: 'result' }, h('div', { class: 'label', text: 'result' }), jsonBlock(e.output)));
            setStatus('succeeded', h('span', { class: 'muted', text: fmtMS(e.duration_ms) }));
            break;
          case 'error':
            ui.output.append(h('div', { class: 'result failed', id: 'result' }, errorBox(e)));
            setStatus(e.kind === 'timeout' ? 'timeout' : 'failed', h('span', { class: 'muted', text: fmtMS(e.duration_ms) }));
            break;
        }
      },
      onComment: (c) => ui.note.append(h('div', { class: 'problem', text: c })),
    });
    if (id) {
      window.dispatchEvent(new Event('sous:run'));
      const rec = await api('GET', '/v1/invocations/' + id);
      attempt = rec.attempts || attempt;
      setStatus(rec.status, h('span', { class: 'muted', id: 'run-duration', text: `${fmtMS(rec.duration_ms || 0)} · ${chunks} chunk${chunks === 1 ? '' : 's'}` }));
      if (env === 'dev' && !ui.logs.children.length) ui.logs.append(h('div', { class: 'muted', text: 'The function printed nothing.' }));
    }
    if (!res.done) ui.note.append(h('div', { class: 'problem', text: 'The stream ended early; the invocation page has its outcome.' }));
  } catch (e) {
    if (e.name !== 'AbortError') { clear(ui.output, problem(e)); setStatus('failed'); }
  } finally {
    ui.viewSignal.removeEventListener('abort', onViewAbort);
    ui.runBtn.disabled = false; ui.cancel.hidden = true;
  }
}

// ---- Live feed ----------------------------------------------------------------

// liveFeed polls the function's invocations and follows the events of new dev runs
// to show their logs as they happen.
function liveFeed(name, signal) {
  const rows = h('tbody');
  const feedTable = h('table', { class: 'list compact', id: 'feed' },
    h('thead', {}, h('tr', {}, ['Invocation', 'Env', 'Status', 'When', 'Took'].map((t) => h('th', { text: t })))), rows);
  const hint = h('div', { class: 'muted', text: 'Dev logs of new runs appear here.' });
  const term = h('div', { class: 'term small-term', id: 'live-logs' }, hint);
  const followed = new Set();
  let first = true;
  const follow = (inv) => {
    followed.add(inv.id);
    sse(`/v1/invocations/${inv.id}/events`, {
      signal, onEvent: (e) => {
        if (e.type === 'log') { hint.remove(); term.append(logLine(e, short(inv.id))); term.scrollTop = term.scrollHeight; }
      },
    }).catch(() => { /* the list still shows its outcome */ });
  };
  const poll = async () => {
    const { invocations } = await api('GET', `/v1/invocations?function=${encodeURIComponent(name)}&limit=10`, undefined, signal);
    clear(rows, invocations.map((inv) => h('tr', {},
      h('td', {}, h('a', { href: '#/invocations/' + inv.id, text: short(inv.id) })),
      h('td', {}, inv.env ? h('span', { class: 'chip alias-' + inv.env, text: inv.env }) : h('span', { class: 'muted', text: 'v' + inv.version })),
      h('td', {}, badge(inv.status)),
      h('td', { class: 'muted small', text: ago(inv.created_at) }),
      h('td', { class: 'muted small', text: took(inv) }))));
    for (const inv of invocations) {
      if (followed.has(inv.id)) continue;
      // Follow new dev runs, and those still going when the page opened.
      if (inv.env !== 'dev' || (first && FINAL.has(inv.status))) { followed.add(inv.id); continue; }
      follow(inv);
    }
    first = false;
    feedTable.dataset.polled = String(Date.now());
  };
  every(2000, signal, poll);
  // A run from the panel shows up at once, not at the next tick.
  const onRun = () => { poll().catch(() => {}); };
  window.addEventListener('sous:run', onRun);
  signal.addEventListener('abort', () => window.removeEventListener('sous:run', onRun));
  return h('div', { class: 'card' }, h('h2', { text: 'Live' }), feedTable, h('h3', { text: 'Dev logs' }), term);
}

// ---- Invocations --------------------------------------------------------------

async function invocationsView(q, signal) {
  const { functions } = await api('GET', '/v1/functions', undefined, signal);
  const fnSel = h('select', { id: 'filter-function' }, h('option', { value: '', text: 'all functions' }),
    functions.map((f) => h('option', { value: f.name, text: f.name })));
  fnSel.value = q.get('function') || '';
  const stSel = h('select', { id: 'filter-status' }, ['', 'pending', 'running', 'succeeded', 'failed', 'timeout'].map((s) => h('option', { value: s, text: s || 'any status' })));
  stSel.value = q.get('status') || '';
  const apply = () => {
    const p = new URLSearchParams();
    if (fnSel.value) p.set('function', fnSel.value);
    if (stSel.value) p.set('status', stSel.value);
    location.hash = '#/invocations' + (p.toString() ? '?' + p : '');
  };
  fnSel.addEventListener('change', apply); stSel.addEventListener('change', apply);
  const rows = h('tbody');
  clear(main, h('div', { class: 'page-head' }, h('h1', { text: 'Invocations' }),
    h('div', { class: 'row filters' }, fnSel, stSel, h('span', { class: 'muted small', text: 'refreshes every 3 s' }))),
  h('table', { class: 'list', id: 'invocations' },
    h('thead', {}, h('tr', {}, ['Invocation', 'Function', 'Version', 'Env', 'Status', 'Created', 'Took', 'Attempts'].map((t) => h('th', { text: t })))), rows));
  const p = new URLSearchParams({ limit: '100' });
  if (fnSel.value) p.set('function', fnSel.value);
  if (stSel.value) p.set('status', stSel.value);
  every(3000, signal, async () => {
    const { invocations } = await api('GET', '/v1/invocations?' + p, undefined, signal);
    clear(rows, invocations.length ? invocations.map((inv) => h('tr', {},
      h('td', {}, h('a', { href: '#/invocations/' + inv.id, class: 'mono', text: inv.id })),
      h('td', {}, h('a', { href: '#/functions/' + encodeURIComponent(inv.function), text: inv.function })),
      h('td', { text: 'v' + inv.version }),
      h('td', { text: inv.env || '—' }),
      h('td', {}, badge(inv.status), inv.error ? h('span', { class: 'muted small', text: ' ' + inv.error.kind }) : null),
      h('td', { class: 'muted small', text: fmtTime(inv.created_at) }),
      h('td', { text: took(inv) }),
      h('td', { text: String(inv.attempts || 0) }))) : h('tr', {}, h('td', { colspan: 8, class: 'muted', text: 'No invocations match.' })));
  });
}

async function invocationView(id, q, signal) {
  const rec = await api('GET', '/v1/invocations/' + encodeURIComponent(id), undefined, signal);
  const field = (k, v) => [h('dt', { text: k }), h('dd', {}, v)];
  const events = h('div', { class: 'events', id: 'events' });
  const evNote = h('p', { class: 'muted small' });
  const record = h('dl', { class: 'record', id: 'record' },
    field('function', h('a', { href: '#/functions/' + encodeURIComponent(rec.function), text: rec.function })),
    field('version', 'v' + rec.version), field('env', rec.env || '— (by version)'),
    field('status', badge(rec.status)), field('attempts', String(rec.attempts)),
    field('created', fmtTime(rec.created_at)), field('started', fmtTime(rec.started_at)),
    field('finished', fmtTime(rec.finished_at)), field('duration', FINAL.has(rec.status) ? fmtMS(rec.duration_ms || 0) : '—'));
  clear(main, h('div', { class: 'page-head' }, h('h1', {}, h('a', { href: '#/invocations', class: 'crumb', text: 'Invocations' }), ' / ', h('span', { class: 'mono', text: id }))),
    h('div', { class: 'grid' },
      h('div', { class: 'col' }, h('div', { class: 'card' }, h('h2', { text: 'Record' }), record,
        rec.input !== undefined && [h('h3', { text: 'Input' }), jsonBlock(rec.input)],
        rec.error ? [h('h3', { text: 'Error' }), errorBox(rec.error)]
          : [h('h3', { text: 'Output' }), rec.output !== undefined ? jsonBlock(rec.output) : h('p', { class: 'muted', text: FINAL.has(rec.status) ? 'null' : 'not finished yet' })])),
      h('div', { class: 'col' }, h('div', { class: 'card' }, h('h2', { text: 'Events' }), evNote, events,
        rec.env !== 'dev' && h('p', { class: 'gated', text: 'Logs are gated: only dev invocations keep logs.' })))));
  // Replay then follow; if the stream drops, resume after the last event (Last-Event-ID).
  let last = q.get('after') || '';
  if (last) evNote.textContent = `Resumed after event ${last}.`;
  for (let tries = 0; tries < 5 && !signal.aborted; tries++) {
    try {
      const r = await sse(`/v1/invocations/${encodeURIComponent(id)}/events`, {
        lastEventID: last, signal, onEvent: (e, evID) => events.append(eventRow(e, evID)),
      });
      last = r.lastID;
      if (r.done) break;
      evNote.textContent = `Stream interrupted; resuming after event ${last || '(start)'}…`;
    } catch (e) {
      if (e.name === 'AbortError') return;
      events.append(problem(e));
      break;
    }
    await new Promise((res) => setTimeout(res, 500));
  }
  if (!events.children.length) events.append(h('p', { class: 'muted', text: 'No events kept (they expire a few minutes after the run).' }));
}

function eventRow(e, id) {
  let body;
  switch (e.type) {
    case 'status': body = `${e.status}${e.attempt ? ' · attempt ' + e.attempt : ''}${e.worker ? ' · ' + e.worker : ''}`; break;
    case 'log': body = logLine(e); break;
    case 'chunk': body = pretty(e.data); break;
    case 'result': body = jsonBlock(e.output); break;
    case 'error': body = errorBox(e); break;
    default: body = '';
  }
  return h('div', { class: 'event ev-' + e.type, 'data-type': e.type },
    h('span', { class: 'ev-id', text: id || '' }), h('span', { class: 'ev-type', text: e.type }), h('div', { class: 'ev-body' }, body));
}

// ---- Start --------------------------------------------------------------------

document.getElementById('signout').addEventListener('click', () => signOut(''));
window.addEventListener('hashchange', route);
route();
