/*
 * app.js — the cairn app in the browser: one page, its views chosen by the
 * URL's hash (#/list/partner, #/record/partner/lib...), every datum read and
 * written through the JSON API of docs/http.md on this device's own store.
 * No framework and no build step; nothing is fetched from outside. Text from
 * records is put on the page as text nodes only (never as HTML).
 */
'use strict';

/* ---- small helpers ---- */

const TOKEN = document.querySelector('meta[name="cairn-token"]').content;
const POLL_MS = 3000;

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

const enc = encodeURIComponent;

class ApiError extends Error {
  constructor(status, data) {
    super((data && data.error) || 'the request failed (HTTP ' + status + ')');
    this.status = status;
    this.data = data;
  }
}

/* One call of the API: the parsed JSON reply, or an ApiError. */
async function api(method, path, body, type) {
  const opts = {method, headers: {Authorization: 'Bearer ' + TOKEN}, credentials: 'same-origin'};
  if (body !== undefined) {
    opts.headers['Content-Type'] = type || 'application/json';
    opts.body = type ? body : JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch('/api/' + path, opts);
  } catch (e) {
    throw new ApiError(0, {error: 'cairn ui is not answering: is it still running? Start it ' +
                                 'again with `cairn ui` and open the address it prints.'});
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = {error: text}; }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/* Labels whose plural the rules below would get wrong. */
const PLURALS = {Person: 'People', 'Story behind the curve': 'Stories behind the curve'};

function plural(label) {
  if (PLURALS[label]) return PLURALS[label];
  if (/[^aeiou]y$/i.test(label)) return label.slice(0, -1) + 'ies';
  if (/(s|x|ch|sh)$/i.test(label)) return label + 'es';
  return label + 's';
}

function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 45) return 'just now';
  if (s < 90) return 'a minute ago';
  const m = Math.round(s / 60);
  if (m < 60) return m + ' minutes ago';
  const hr = Math.round(m / 60);
  if (hr < 36) return hr === 1 ? 'an hour ago' : hr + ' hours ago';
  const d = Math.round(hr / 24);
  return d === 1 ? 'yesterday' : d + ' days ago';
}

function when(iso) {
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  return d.toLocaleString(undefined, {year: 'numeric', month: 'short', day: 'numeric',
                                      hour: '2-digit', minute: '2-digit'});
}

function dayOf(iso) {
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleDateString(undefined, {weekday: 'long', year: 'numeric',
                                                           month: 'long', day: 'numeric'});
}

/* A new record id as `cairn add` makes them: 12 hex digits of the clock, 8 random. */
function newId() {
  const r = new Uint32Array(1);
  crypto.getRandomValues(r);
  return Date.now().toString(16).padStart(12, '0').slice(-12) + r[0].toString(16).padStart(8, '0');
}

function toast(text, kind) {
  const t = h('div', {class: 'toast ' + (kind || ''), role: kind === 'bad' ? 'alert' : 'status'},
              text);
  const box = document.getElementById('toasts');
  box.append(t);
  while (box.children.length > 3) box.firstChild.remove();
  setTimeout(() => t.remove(), kind === 'bad' ? 9000 : 4500);
}

/* ---- what the app knows: schema, names, status ---- */

const app = {
  schema: null,          /* {types: [...]} */
  types: new Map(),      /* name -> type */
  names: new Map(),      /* type -> Promise of Map id -> title */
  people: new Map(),     /* author key -> member name */
  status: null,
  seen: null,            /* last_arrival and own_entries last shown */
  dirty: false,          /* a form has unsaved input */
};

async function loadSchema() {
  app.schema = await api('GET', 'schema');
  app.types.clear();
  for (const t of app.schema.types) app.types.set(t.name, t);
}

function typeOf(name) {
  return app.types.get(name) || {name, label: name, fields: []};
}

function typeLabel(name) {
  return typeOf(name).label || name;
}

/* The fields people see, in the schema's order (hidden ones left out). */
function visibleFields(type) {
  return (typeOf(type).fields || []).filter(f => !f.hidden);
}

function fieldOf(type, name) {
  return (typeOf(type).fields || []).find(f => f.name === name) || {name, kind: 'json'};
}

function fieldLabel(type, name) {
  const f = fieldOf(type, name);
  return f.label || name;
}

/* The field that names a record of type: name, title, or the first required text. */
function titleField(type) {
  const fs = visibleFields(type);
  const pick = fs.find(f => f.name === 'name') || fs.find(f => f.name === 'title') ||
               fs.find(f => f.kind === 'text' && f.required);
  return pick ? pick.name : null;
}

/* The fields that may name a record of a type with no name or title: its
 * references (to a partner first) and its dates and periods. */
function describingFields(type) {
  const fs = visibleFields(type);
  const refs = fs.filter(f => f.kind === 'ref');
  return refs.filter(f => f.ref === 'partner').concat(refs.filter(f => f.ref !== 'partner'))
    .concat(fs.filter(f => f.kind === 'date' || f.kind === 'period')).map(f => f.name);
}

/* What people call a record: its name or title; else the name of the first
 * record it refers to and its first date ("Lincoln Library · 2026-11-24");
 * else its id. names: {field: Map id -> title}. */
function recordTitle(type, rec, names) {
  if (!rec) return '';
  const tf = titleField(type);
  if (tf) return rec[tf] !== null && rec[tf] !== undefined && rec[tf] !== '' ? String(rec[tf]) : rec._id;
  const set = describingFields(type).filter(n => rec[n] !== undefined && rec[n] !== null);
  const ref = set.find(n => fieldOf(type, n).kind === 'ref');
  const when = set.find(n => fieldOf(type, n).kind !== 'ref');
  const parts = [];
  if (ref) parts.push((names && names[ref] && names[ref].get(rec[ref])) || rec[ref]);
  if (when) parts.push(String(rec[when]));
  return parts.length ? parts.join(' · ') : rec._id;
}

/* Names looked up per type: past this many records, the rest show their ids. */
const NAMES_LIMIT = 5000;

/* Map id -> title of the records of type (cached until the data changes). */
function namesOf(type) {
  if (!app.names.has(type)) {
    const tf = titleField(type);
    const fields = tf ? [tf] : describingFields(type);
    const q = 'limit=' + NAMES_LIMIT + (fields.length ? '&fields=' + enc(fields.join(',')) : '');
    const p = api('GET', 'records/' + enc(type) + '?' + q)
      .then(async rows => {
        const names = tf ? {} : await refNames(type, fields);
        return new Map(rows.map(r => [r._id, recordTitle(type, r, names)]));
      })
      .catch(() => new Map());
    app.names.set(type, p);
  }
  return app.names.get(type);
}

async function loadPeople() {
  try {
    const doc = await api('GET', 'members');
    app.people.clear();
    for (const m of [...(doc.members || []), ...(doc.invites || [])])
      if (m.name) app.people.set(m.key, m.name);
    return doc;
  } catch (e) {
    return null;
  }
}

function who(key, name) {
  return name || app.people.get(key) || (key ? 'device ' + key.slice(0, 8) : 'someone');
}

/* ---- values on the page ---- */

function refLink(type, id, names) {
  const title = names && names.get(id);
  return h('a', {href: '#/record/' + enc(type) + '/' + enc(id)}, title || id);
}

/* A value as people read it, by its field's kind. */
function showValue(type, name, v, names) {
  const f = fieldOf(type, name);
  if (v === null || v === undefined) return h('span', {class: 'none'}, '—');
  switch (f.kind) {
    case 'bool': return v === true ? 'Yes' : v === false ? 'No' : String(v);
    case 'enum': return h('span', {class: 'tag tag-' + String(v).replace(/[^a-z0-9-]/gi, '')}, v);
    case 'ref': return typeof v === 'string' ? refLink(f.ref, v, names && names[name]) : String(v);
    case 'refs':
      if (!Array.isArray(v)) return String(v);
      return h('span', {class: 'refs'}, v.map((id, i) =>
        [i ? ', ' : '', refLink(f.ref, id, names && names[name])]));
    case 'number': case 'integer':
      return typeof v === 'number' ? v.toLocaleString() + (f.unit ? ' ' + f.unit : '') : String(v);
    case 'json': return typeof v === 'string' ? v : JSON.stringify(v);
    default: return typeof v === 'string' ? v : JSON.stringify(v);
  }
}

/* The name maps of a type's reference fields: {field: Map id -> title}. */
async function refNames(type, fieldNames) {
  const out = {};
  for (const n of fieldNames) {
    const f = fieldOf(type, n);
    if ((f.kind === 'ref' || f.kind === 'refs') && f.ref) out[n] = await namesOf(f.ref);
  }
  return out;
}

/* A value as a form field holds it (text). */
function valueText(f, v) {
  if (v === null || v === undefined) return '';
  if (f.kind === 'json') return JSON.stringify(v, null, 2);
  return typeof v === 'string' ? v : String(v);
}

/* ---- the frame: sections, sync status, banner ---- */

const REPORTS = [
  ['meeting', 'Monthly meeting'], ['commitments', 'Commitments'], ['measures', 'Measures'],
  ['partners', 'Partners'], ['goals', 'Soft goals'], ['changes', 'Recent changes'],
];

function navLink(href, label, extra) {
  return h('a', {href, 'data-href': href}, label, extra || null);
}

function renderNav() {
  const side = clear(document.getElementById('side'));
  const conflicts = app.status ? app.status.conflicts || 0 : 0;
  side.append(
    h('p', {class: 'navhead'}, 'Meeting'),
    navLink('#/', 'Dashboard'),
    navLink('#/changes', 'What changed'),
    navLink('#/conflicts', 'To resolve',
            conflicts ? h('span', {class: 'count', title: conflicts + ' open'}, conflicts) : null),
    h('p', {class: 'navhead'}, 'Records'),
    ...app.schema.types.map(t => navLink('#/list/' + enc(t.name), plural(t.label || t.name))),
    h('p', {class: 'navhead'}, 'Network'),
    navLink('#/import', 'Import and export'),
    navLink('#/members', 'Members and invites'));
  markNav();
}

function markNav() {
  const here = location.hash || '#/';
  for (const a of document.querySelectorAll('#side a')) {
    const href = a.getAttribute('data-href');
    const on = href === '#/' ? here === '#/' || here === '' || here.startsWith('#/report')
                             : here === href || here.startsWith(href + '/') ||
                               here.startsWith(href + '?');
    if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  const rec = here.match(/^#\/(?:record|edit|new)\/([^/?]+)/);
  if (rec) {
    const a = document.querySelector('#side a[data-href="#/list/' + rec[1] + '"]');
    if (a) a.setAttribute('aria-current', 'page');
  }
}

function renderSync() {
  const box = clear(document.getElementById('sync'));
  const st = app.status;
  if (!st) return;
  let line;
  if (!st.relay) {
    line = h('span', {class: 'dot off'}, 'Working offline: no relay set');
  } else {
    const last = st.last_sync_ms ? 'Synced ' + ago(st.last_sync_ms) : 'Never synced';
    const waiting = st.unacknowledged ? st.unacknowledged + (st.unacknowledged === 1 ?
                    ' change' : ' changes') + ' to send' : 'all sent';
    line = h('span', {class: 'dot ' + (st.unacknowledged ? 'wait' : 'on'),
                      title: 'Relay ' + st.relay}, last + ' · ' + waiting);
  }
  const running = st.sync && st.sync.running;
  const btn = h('button', {type: 'button', class: 'syncnow', disabled: !st.relay || running,
                           title: st.relay ? 'Send and receive changes now' :
                                  'Set a relay first: cairn remote HOST:PORT --key RELAYKEY'},
                running ? 'Syncing…' : 'Sync now');
  btn.addEventListener('click', () => syncNow(btn));
  box.append(line, btn);
  const banner = document.getElementById('banner');
  if (st.clock_warning) {
    clear(banner).append(h('strong', {}, 'Check this device\'s clock. '), st.clock_warning);
    banner.hidden = false;
  } else {
    banner.hidden = true;
  }
}

/* Start a sync in the background; the status says when it has ended. */
async function syncNow(btn) {
  btn.disabled = true;
  try {
    await api('POST', 'sync?background=true');
  } catch (e) {
    toast(e.message, 'bad');
  }
  await poll(true);
}

/* "pushed 3, pulled 12, applied 12, ..." (what `cairn sync` prints) in words. */
function syncResult(s) {
  const m = /pushed (\d+), pulled (\d+), applied (\d+)/.exec(s.message || '');
  if (!s.ok) return s.message || 'The sync failed.';
  return m ? 'Synced: ' + m[1] + ' sent, ' + m[3] + ' received.' : 'Synced.';
}

/* After this page's own write: take the new counts as seen, so that the write
 * is not announced as news. */
async function wrote() {
  try {
    const st = await api('GET', 'status');
    app.status = st;
    app.seen = st.last_arrival + '/' + st.own_entries;
    renderSync();
    renderNav();
  } catch (e) { /* the next poll tries again */ }
}

/* Read the status; when entries arrived or were written elsewhere, show them. */
async function poll(force) {
  let st;
  try {
    st = await api('GET', 'status');
  } catch (e) {
    return;
  }
  const mark = st.last_arrival + '/' + st.own_entries;
  const changed = app.seen !== null && app.seen !== mark;
  const conflictsChanged = app.status && app.status.conflicts !== st.conflicts;
  const was = app.status && app.status.sync;
  if (was && was.running && st.sync && !st.sync.running)
    toast(syncResult(st.sync), st.sync.ok ? 'good' : 'bad');
  app.status = st;
  app.seen = mark;
  renderSync();
  if (conflictsChanged) renderNav();
  if (changed) {
    app.names.clear();
    if (app.dirty) {
      toast('New changes arrived. Save or cancel this form to see them.');
    } else {
      if (!force) toast('New changes arrived: the page shows them.');
      await loadSchema();
      renderNav();
      route();
    }
  }
}

/* ---- views ---- */

function page(title, sub, ...actions) {
  const main = clear(document.getElementById('main'));
  document.title = title + ' · cairn';
  main.append(h('div', {class: 'pagehead'},
                h('div', {}, h('h1', {}, title), sub ? h('p', {class: 'sub'}, sub) : null),
                h('div', {class: 'actions'}, actions)));
  return main;
}

function failure(main, e) {
  main.append(h('div', {class: 'msg bad', role: 'alert'}, e.message));
}

/* The dashboard: a report as its own HTML page (the report renderers), framed. */
async function viewReport(name, asOf) {
  name = name || 'meeting';
  const label = (REPORTS.find(r => r[0] === name) || [name, name])[1];
  const src = '/reports/' + enc(name) + '.html' + (asOf ? '?as_of=' + enc(asOf) : '');
  const pick = h('select', {id: 'report-pick', 'aria-label': 'Report'},
                 REPORTS.map(([n, l]) => h('option', {value: n, selected: n === name}, l)));
  const date = h('input', {type: 'date', id: 'report-asof', value: asOf || '',
                           'aria-label': 'As of'});
  const go = () => { location.hash = '#/report/' + pick.value + (date.value ? '?as_of=' + date.value : ''); };
  pick.addEventListener('change', go);
  date.addEventListener('change', go);
  const main = page(name === 'meeting' ? 'Dashboard' : label,
                    asOf ? 'As the records stood at the end of ' + asOf + '.' :
                           'From this device\'s records, as they are now.',
                    h('label', {class: 'inline'}, 'Report ', pick),
                    h('label', {class: 'inline'}, 'As of ', date),
                    h('a', {class: 'button ghost', href: src, target: '_blank',
                            rel: 'noopener'}, 'Open to print'));
  const frame = h('iframe', {class: 'report', src, title: label + ' report'});
  frame.addEventListener('load', () => fitFrame(frame));
  main.append(frame);
}

/* A framed report as tall as its page, so that the app's page scrolls, not the frame. */
function fitFrame(frame) {
  const doc = frame.contentDocument;
  if (!doc || !doc.documentElement) return;
  frame.style.height = '0';
  frame.style.height = doc.documentElement.scrollHeight + 'px';
}

window.addEventListener('resize', () => {
  const frame = document.querySelector('iframe.report');
  if (frame) fitFrame(frame);
});

/* ---- lists ---- */

const LIST_LIMIT = 200;
const OPS = [['=', 'is'], ['!=', 'is not'], ['~', 'contains'], ['<', 'before / below'],
             ['>', 'after / above'], ['<=', 'at most'], ['>=', 'at least']];

/* The columns of a list: the title field, then a few short fields. */
function listColumns(type) {
  const tf = titleField(type);
  const rest = visibleFields(type).filter(f => f.name !== tf && f.kind !== 'json' &&
                                               !/notes|description|summary|text|story/.test(f.name));
  return rest.slice(0, 5).map(f => f.name);
}

function listHash(type, q) {
  const p = new URLSearchParams();
  if (q.search) p.set('search', q.search);
  for (const w of q.where) p.append('where', w);
  if (q.sort) p.set('sort', q.sort);
  const s = p.toString();
  return '#/list/' + enc(type) + (s ? '?' + s : '');
}

async function viewList(type, params) {
  const t = typeOf(type);
  const q = {search: params.get('search') || '', where: params.getAll('where'),
             sort: params.get('sort') || ''};
  const main = page(plural(t.label || type), t.help || null,
                    h('a', {class: 'button', href: '#/new/' + enc(type)},
                      'New ' + (t.label || type).toLowerCase()),
                    h('a', {class: 'button ghost', href: '/api/export/' + enc(type) + '?format=csv',
                            download: type + '.csv'}, 'Export CSV'));
  main.append(listControls(type, q));
  const cols = listColumns(type);
  const api_q = new URLSearchParams();
  if (q.search) api_q.set('search', q.search);
  for (const w of q.where) api_q.append('where', w);
  if (q.sort) api_q.set('sort', q.sort);
  api_q.set('limit', String(LIST_LIMIT + 1));
  let rows;
  try {
    rows = await api('GET', 'records/' + enc(type) + '?' + api_q.toString());
  } catch (e) {
    failure(main, e);
    return;
  }
  const more = rows.length > LIST_LIMIT;
  rows = rows.slice(0, LIST_LIMIT);
  const names = await refNames(type, cols.concat(titleField(type) ? [] : describingFields(type)));
  if (rows.length === 0) {
    main.append(h('p', {class: 'empty'}, q.search || q.where.length
      ? 'No ' + plural(t.label || type).toLowerCase() + ' match. Clear the search or a filter to see more.'
      : 'No ' + plural(t.label || type).toLowerCase() + ' yet. Add the first with "New ' +
        (t.label || type).toLowerCase() + '", or import a CSV file.'));
    return;
  }
  main.append(h('p', {class: 'count'}, more ? 'The first ' + LIST_LIMIT + ' shown: search or filter to find others.'
                                          : rows.length + (rows.length === 1 ? ' record' : ' records')));
  const sortOf = c => q.sort === c ? 'ascending' : q.sort === '-' + c ? 'descending' : null;
  const tf = titleField(type);
  const head = h('tr', {}, [tf || ''].concat(cols).map(c => {
    if (c === '') return h('th', {scope: 'col'}, t.label || type);
    const dir = sortOf(c);
    const next = dir === 'ascending' ? '-' + c : c;
    return h('th', {scope: 'col', 'aria-sort': dir},
             h('a', {href: listHash(type, Object.assign({}, q, {sort: next})),
                     title: 'Sort by ' + fieldLabel(type, c)},
               fieldLabel(type, c), dir ? (dir === 'ascending' ? ' ▲' : ' ▼') : ''));
  }));
  const body = h('tbody', {}, rows.map(r => h('tr', {},
    h('td', {}, h('a', {href: '#/record/' + enc(type) + '/' + enc(r._id)}, recordTitle(type, r, names))),
    cols.map(c => h('td', {class: cellClass(type, c)}, showValue(type, c, r[c], names))))));
  main.append(h('div', {class: 'tablewrap'}, h('table', {class: 'list'}, h('thead', {}, head), body)));
}

function cellClass(type, c) {
  const k = fieldOf(type, c).kind;
  if (k === 'number' || k === 'integer') return 'n';
  return k === 'date' || k === 'datetime' || k === 'period' || k === 'enum' ? 'nowrap' : null;
}

/* Search, filters and their chips. */
function listControls(type, q) {
  const search = h('input', {type: 'search', name: 'search', value: q.search,
                             placeholder: 'Search every field', 'aria-label': 'Search'});
  const field = h('select', {'aria-label': 'Field'},
                  visibleFields(type).map(f => h('option', {value: f.name}, f.label || f.name)));
  const op = h('select', {'aria-label': 'Condition'},
               OPS.map(([v, l]) => h('option', {value: v}, l)));
  const value = h('input', {type: 'text', 'aria-label': 'Value', placeholder: 'value'});
  const form = h('form', {class: 'filters', role: 'search'},
                 h('div', {class: 'line'}, search, h('button', {type: 'submit'}, 'Search')),
                 h('div', {class: 'line'}, h('span', {class: 'sep'}, 'Only where'), field, op, value,
                 h('button', {type: 'button', class: 'ghost', onclick: () => {
                   if (value.value.trim() === '' && op.value !== '=' && op.value !== '!=') return;
                   const where = q.where.concat(field.value + op.value + value.value.trim());
                   location.hash = listHash(type, Object.assign({}, q, {where, search: search.value}));
                 }}, 'Add filter')));
  form.addEventListener('submit', ev => {
    ev.preventDefault();
    location.hash = listHash(type, Object.assign({}, q, {search: search.value.trim()}));
  });
  const chips = q.where.map((w, i) => h('span', {class: 'chip'}, describeWhere(type, w),
    h('a', {href: listHash(type, Object.assign({}, q, {where: q.where.filter((_, k) => k !== i)})),
            'aria-label': 'Remove this filter', title: 'Remove this filter'}, '×')));
  return h('div', {class: 'controls'}, form, chips.length ? h('div', {class: 'chips'}, chips) : null);
}

function describeWhere(type, w) {
  const m = w.match(/^([^=!<>~]+)(!=|<=|>=|=|<|>|~)(.*)$/);
  if (!m) return w;
  const label = (OPS.find(o => o[0] === m[2]) || [m[2], m[2]])[1];
  return fieldLabel(type, m[1]) + ' ' + (m[3] === '' ? (m[2] === '=' ? 'is empty' : 'is set')
                                                     : label + ' ' + m[3]);
}

/* ---- one record ---- */

async function viewRecord(type, id) {
  const t = typeOf(type);
  let rec;
  try {
    rec = await api('GET', 'records/' + enc(type) + '/' + enc(id));
  } catch (e) {
    const main = page(t.label || type, null);
    failure(main, e.status === 404 ? new Error('This ' + (t.label || type).toLowerCase() +
      ' is not on this device: it was deleted, or it has not arrived yet (sync, then look again).') : e);
    main.append(h('p', {}, h('a', {href: '#/list/' + enc(type)}, '← All ' + plural(t.label || type).toLowerCase())));
    return;
  }
  const shown = visibleFields(type).map(f => f.name).filter(n => n in rec);
  const names = await refNames(type, shown);
  const title = recordTitle(type, rec, names);
  const del = h('button', {type: 'button', class: 'danger ghost'}, 'Delete');
  del.addEventListener('click', () => deleteRecord(type, id, title));
  const main = page(title, t.label || type,
                    h('a', {class: 'button', href: '#/edit/' + enc(type) + '/' + enc(id)}, 'Edit'),
                    del);
  main.prepend(h('p', {class: 'crumbs'}, h('a', {href: '#/list/' + enc(type)},
                                               '← All ' + plural(t.label || type).toLowerCase())));
  if (rec._conflicts) main.append(await conflictPanel(type, id, rec, title));
  const other = Object.keys(rec).filter(k => !k.startsWith('_') && !shown.includes(k) &&
                                             !(fieldOf(type, k).hidden));
  const marked = rec._conflicts || {};
  main.append(h('section', {class: 'card'}, h('dl', {class: 'fields'},
    shown.concat(other).map(n => [
      h('dt', {}, fieldLabel(type, n), marked[n] ? h('span', {class: 'tag tag-conflict'}, 'in conflict') : null),
      h('dd', {}, showValue(type, n, rec[n], names))]),
    h('dt', {class: 'soft'}, 'Record id'), h('dd', {class: 'soft mono'}, id))));
  main.append(await historyPanel(type, id));
}

async function deleteRecord(type, id, title) {
  if (!confirm('Delete ' + typeLabel(type).toLowerCase() + ' "' + title + '"? ' +
               'Everyone will see it deleted after they sync; its history stays.')) return;
  try {
    await api('DELETE', 'records/' + enc(type) + '/' + enc(id));
    toast(typeLabel(type) + ' "' + title + '" deleted.', 'good');
    app.names.delete(type);
    await wrote();
    location.hash = '#/list/' + enc(type);
  } catch (e) {
    toast(e.message, 'bad');
  }
}

/* Conflicting values of each field, each with the button that keeps it. */
async function conflictPanel(type, id, rec, title) {
  const box = h('section', {class: 'card conflict', 'aria-labelledby': 'conflict-h'},
                h('h2', {id: 'conflict-h'}, 'Edits to resolve'),
                h('p', {}, 'People changed this record at the same time on different devices. ' +
                           'Choose what it should say; everyone gets your choice when they sync.'));
  for (const [field, heads] of Object.entries(rec._conflicts)) {
    if (field === '_deleted') {
      const names = heads.map(x => who(x.author, x.name));
      box.append(h('div', {class: 'choice'},
        h('h3', {}, 'Deleted while someone was editing it'),
        h('p', {}, names.join(' and ') + ' disagree: one deleted this record while the other changed it.'),
        h('div', {class: 'actions'},
          h('button', {type: 'button', class: 'keep', onclick: () => resolve(type, id, {_keep: true})},
            'Keep the record'),
          h('button', {type: 'button', class: 'danger ghost',
                       onclick: () => deleteRecord(type, id, title)}, 'Delete it'))));
      continue;
    }
    const names = await refNames(type, [field]);
    box.append(h('div', {class: 'choice', 'data-field': field},
      h('h3', {}, fieldLabel(type, field)),
      h('ul', {class: 'heads'}, heads.map((x, i) => h('li', {},
        h('div', {class: 'val'}, showValue(type, field, x.value, names)),
        h('div', {class: 'by'}, who(x.author, x.name) + ', ' + when(x.time) +
                                (i === 0 ? ' · shown now' : '')),
        h('button', {type: 'button', class: 'keep',
                     onclick: () => resolve(type, id, {[field]: x.value})}, 'Keep this'))))));
  }
  return box;
}

async function resolve(type, id, body) {
  try {
    await api('POST', 'resolve/' + enc(type) + '/' + enc(id), body);
    toast('Resolved. Everyone gets your choice when they sync.', 'good');
    await wrote();
    route();
  } catch (e) {
    toast(e.message, 'bad');
  }
}

/* Who changed what, oldest first, as `cairn history` tells it. */
async function historyPanel(type, id) {
  const box = h('section', {class: 'card'}, h('h2', {}, 'History'));
  let items;
  try {
    items = await api('GET', 'history/' + enc(type) + '/' + enc(id));
  } catch (e) {
    box.append(h('p', {class: 'empty'}, e.message));
    return box;
  }
  const names = await refNames(type, visibleFields(type).map(f => f.name));
  const label = typeLabel(type).toLowerCase();
  box.append(h('ol', {class: 'history'}, items.slice().reverse().map((x, i, all) => {
    let what;
    if (x.op === 'del') what = h('p', {}, 'Deleted this ' + label + '.');
    else if (x.op === 'purge') what = h('p', {}, 'Purged this ' + label + '.');
    else if (!x.fields || Object.keys(x.fields).length === 0) what = h('p', {}, 'Kept this ' + label + '.');
    else what = h('ul', {class: 'changed'}, Object.entries(x.fields).map(([k, v]) =>
      h('li', {}, h('span', {class: 'k'}, fieldLabel(type, k)), ' ',
        v === null ? h('span', {class: 'none'}, 'cleared') : showValue(type, k, v, names))));
    const added = i === all.length - 1 && x.op === 'put' ? 'added this ' + label : null;
    return h('li', {},
      h('div', {class: 'by'}, h('strong', {}, who(x.author, x.name)), added ? ' ' + added : '',
        ' · ', when(x.time)),
      what, x.refused ? h('p', {class: 'msg warn'}, 'Not applied: ' + x.refused) : null);
  })));
  return box;
}

/* ---- forms made from the schema ---- */

const LONG_TEXT = /notes|description|summary|story|text|details|agenda|minutes/;

/* One input for field f holding value v; returns {row, read} where read()
 * gives the value to send (undefined: leave the field as it is). */
async function fieldInput(type, f, v) {
  const id = 'f-' + f.name;
  const before = valueText(f, v);
  let input, read;
  const textRead = () => {
    const now = input.value.trim();
    if (now === before.trim()) return undefined;
    return now === '' ? null : now;
  };
  switch (f.kind) {
    case 'enum':
      input = h('select', {id, name: f.name}, h('option', {value: ''}, '—'),
                (f.values || []).map(x => h('option', {value: x, selected: x === v}, x)));
      if (v !== undefined && v !== null && !(f.values || []).includes(v))
        input.append(h('option', {value: String(v), selected: true}, String(v)));
      read = textRead;
      break;
    case 'bool':
      input = h('select', {id, name: f.name}, h('option', {value: ''}, '—'),
                h('option', {value: 'true', selected: v === true}, 'Yes'),
                h('option', {value: 'false', selected: v === false}, 'No'));
      read = () => {
        const now = input.value === '' ? null : input.value === 'true';
        return now === (v === undefined ? null : v) ? undefined : now;
      };
      break;
    case 'ref': {
      const names = await namesOf(f.ref);
      const opts = [...names.entries()].sort((a, b) => a[1].localeCompare(b[1]));
      input = h('select', {id, name: f.name}, h('option', {value: ''}, '—'),
                opts.map(([rid, title]) => h('option', {value: rid, selected: rid === v}, title)));
      if (typeof v === 'string' && !names.has(v))
        input.append(h('option', {value: v, selected: true}, v + ' (not on this device)'));
      read = textRead;
      break;
    }
    case 'refs': {
      const names = await namesOf(f.ref);
      const have = new Set(Array.isArray(v) ? v : []);
      const opts = [...names.entries()].sort((a, b) => a[1].localeCompare(b[1]));
      for (const x of have) if (!names.has(x)) opts.push([x, x + ' (not on this device)']);
      input = h('div', {class: 'picks', id, role: 'group'}, opts.length ? opts.map(([rid, title]) =>
        h('label', {}, h('input', {type: 'checkbox', value: rid, checked: have.has(rid)}), ' ', title))
        : h('span', {class: 'none'}, 'No ' + plural(typeLabel(f.ref)).toLowerCase() + ' yet.'));
      read = () => {
        const now = [...input.querySelectorAll('input:checked')].map(c => c.value);
        const same = now.length === have.size && now.every(x => have.has(x));
        return same ? undefined : now.length ? now : null;
      };
      break;
    }
    case 'date':
      input = h('input', {id, name: f.name, type: 'date', value: before});
      read = textRead;
      break;
    case 'json':
      input = h('textarea', {id, name: f.name, rows: 4, class: 'mono'}, before);
      read = () => {
        const now = input.value.trim();
        if (now === before.trim()) return undefined;
        if (now === '') return null;
        try { return JSON.parse(now); } catch (e) {
          throw new FormError(f.name, fieldLabel(type, f.name) + ' is not JSON: ' + e.message);
        }
      };
      break;
    default: {
      const attrs = {id, name: f.name, value: before};
      if (f.kind === 'number') attrs.inputmode = 'decimal';
      if (f.kind === 'integer') attrs.inputmode = 'numeric';
      if (f.kind === 'period') attrs.placeholder = 'such as 2026-Q2, 2026-03 or 2026';
      if (f.kind === 'datetime') attrs.placeholder = 'such as 2026-11-30T09:00Z';
      input = f.kind === 'text' && LONG_TEXT.test(f.name)
        ? h('textarea', {id, name: f.name, rows: 3}, before)
        : h('input', Object.assign({type: 'text'}, attrs));
      read = textRead;
    }
  }
  if (f.required) input.setAttribute('aria-required', 'true');
  const help = f.help || (f.unit ? 'In ' + f.unit + '.' : null);
  const row = h('div', {class: 'field', 'data-field': f.name},
                h('label', {for: id}, f.label || f.name, f.required ? h('span', {class: 'req', title: 'required'}, ' *') : null),
                input, help ? h('p', {class: 'help'}, help) : null);
  input.addEventListener('input', () => { app.dirty = true; });
  input.addEventListener('change', () => { app.dirty = true; });
  return {row, read, name: f.name};
}

class FormError extends Error {
  constructor(field, message) { super(message); this.field = field; }
}

async function viewForm(type, id) {
  const t = typeOf(type);
  const creating = id === null;
  let rec = {};
  if (!creating) {
    try {
      rec = await api('GET', 'records/' + enc(type) + '/' + enc(id));
    } catch (e) {
      failure(page('Edit ' + (t.label || type).toLowerCase(), null), e);
      return;
    }
  }
  const title = creating ? '' : (await namesOf(type)).get(id) || recordTitle(type, rec);
  const main = page(creating ? 'New ' + (t.label || type).toLowerCase() : 'Edit ' + title,
                    creating ? t.help || null : t.label || type);
  const fields = [];
  for (const f of visibleFields(type)) fields.push(await fieldInput(type, f, rec[f.name]));
  const msg = h('div', {class: 'msg bad', role: 'alert', hidden: true});
  const save = h('button', {type: 'submit'}, creating ? 'Save ' + (t.label || type).toLowerCase() : 'Save changes');
  const back = creating ? '#/list/' + enc(type) : '#/record/' + enc(type) + '/' + enc(id);
  const form = h('form', {class: 'card form', novalidate: true}, msg,
                 h('p', {class: 'soft'}, 'Fields marked * are required.'),
                 fields.map(x => x.row),
                 h('div', {class: 'actions'}, save,
                   h('a', {class: 'button ghost', href: back, onclick: () => { app.dirty = false; }}, 'Cancel')));
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    for (const el of form.querySelectorAll('.field.bad')) el.classList.remove('bad');
    msg.hidden = true;
    const body = {};
    try {
      for (const x of fields) {
        const v = x.read();
        if (v !== undefined && !(creating && v === null)) body[x.name] = v;
      }
    } catch (e) {
      return showFormError(form, msg, e.message, e.field);
    }
    if (Object.keys(body).length === 0) {
      if (creating) return showFormError(form, msg, 'Fill in the fields first.', null);
      app.dirty = false;
      location.hash = back;
      return;
    }
    const rid = creating ? newId() : id;
    save.disabled = true;
    try {
      await api('PUT', 'records/' + enc(type) + '/' + enc(rid), body);
      app.dirty = false;
      app.names.delete(type);
      await wrote();
      toast((t.label || type) + ' saved.', 'good');
      location.hash = '#/record/' + enc(type) + '/' + enc(rid);
    } catch (e) {
      const text = e.message.startsWith(type + ' ' + rid + ': ') ? e.message.slice(type.length + rid.length + 3) : e.message;
      showFormError(form, msg, text, guessField(text, fields.map(x => x.name)));
    } finally {
      save.disabled = false;
    }
  });
  main.append(form);
  const first = form.querySelector('input, select, textarea');
  if (first) first.focus();
}

/* The field a message from the store names, if any. */
function guessField(message, names) {
  const byLength = names.slice().sort((a, b) => b.length - a.length);
  return byLength.find(n => new RegExp('(^|[\\s\'"(])' + n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') +
                                       '([\\s\'":=)]|$)').test(message)) || null;
}

function showFormError(form, msg, text, field) {
  clear(msg).append(h('strong', {}, 'Not saved. '), text);
  msg.hidden = false;
  if (field) {
    const row = form.querySelector('.field[data-field="' + field + '"]');
    if (row) {
      row.classList.add('bad');
      const input = row.querySelector('input, select, textarea');
      if (input) input.focus();
    }
  }
  msg.scrollIntoView({block: 'nearest'});
}

/* ---- what changed ---- */

async function viewChanges(params) {
  const since = params.get('since') || '30d';
  const pick = h('select', {'aria-label': 'Since'},
                 [['7d', 'Last 7 days'], ['30d', 'Last 30 days'], ['90d', 'Last 90 days'],
                  ['3650d', 'Everything']].map(([v, l]) => h('option', {value: v, selected: v === since}, l)));
  pick.addEventListener('change', () => { location.hash = '#/changes?since=' + pick.value; });
  const main = page('What changed', 'Every change on this device, anyone\'s, newest first.',
                    h('label', {class: 'inline'}, 'Show ', pick));
  let items;
  try {
    items = await api('GET', 'changes?since=' + enc(since));
  } catch (e) {
    failure(main, e);
    return;
  }
  if (items.length === 0) {
    main.append(h('p', {class: 'empty'}, 'Nothing changed in this time.'));
    return;
  }
  items = items.slice(-500).reverse();
  const parts = [];
  let day = null, list = null;
  for (const x of items) {
    const d = dayOf(x.time);
    if (d !== day) {
      day = d;
      list = h('ul', {class: 'feed'});
      parts.push(h('h2', {class: 'day'}, d), list);
    }
    list.append(await changeItem(x));
  }
  main.append(...parts);
}

async function changeItem(x) {
  const time = new Date(x.time).toLocaleTimeString(undefined, {hour: '2-digit', minute: '2-digit'});
  if (!x._type) return h('li', {}, h('span', {class: 'time'}, time), who(x.author, x.name) + ' made a change that was later erased.');
  const t = typeLabel(x._type).toLowerCase();
  const names = await namesOf(x._type);
  const link = h('a', {href: '#/record/' + enc(x._type) + '/' + enc(x._id)}, names.get(x._id) || x._id);
  let verb, detail = null;
  if (x.op === 'del') verb = 'deleted ' + t;
  else if (x.op === 'purge') verb = 'purged ' + t;
  else {
    verb = 'changed ' + t;
    const keys = Object.keys(x.fields || {});
    detail = keys.length ? h('span', {class: 'what'}, keys.map(k => fieldLabel(x._type, k)).join(', ')) : null;
  }
  return h('li', {}, h('span', {class: 'time'}, time),
           h('strong', {}, who(x.author, x.name)), ' ' + verb + ' ', link, detail ? [' · ', detail] : null,
           x.refused ? h('span', {class: 'tag tag-conflict'}, 'not applied') : null);
}

/* ---- conflicts ---- */

async function viewConflicts() {
  const main = page('To resolve', 'Edits made at the same time on different devices. ' +
                    'Open a record to choose what it should say.');
  let items;
  try {
    items = await api('GET', 'conflicts');
  } catch (e) {
    failure(main, e);
    return;
  }
  if (items.length === 0) {
    main.append(h('p', {class: 'empty'}, 'Nothing to resolve: every record says one thing.'));
    return;
  }
  const rows = [];
  for (const c of items) {
    const names = await namesOf(c._type);
    rows.push(h('tr', {},
      h('td', {}, typeLabel(c._type)),
      h('td', {}, h('a', {href: '#/record/' + enc(c._type) + '/' + enc(c._id)}, names.get(c._id) || c._id)),
      h('td', {}, c.field === '_deleted' ? 'deleted while edited' : fieldLabel(c._type, c.field)),
      h('td', {}, c.heads.map(x => who(x.author, x.name)).join(', '))));
  }
  main.append(h('div', {class: 'tablewrap'}, h('table', {class: 'list'},
    h('thead', {}, h('tr', {}, ['Type', 'Record', 'Field', 'Changed by'].map(x => h('th', {scope: 'col'}, x)))),
    h('tbody', {}, rows))));
}

/* ---- import and export ---- */

function viewImport() {
  const main = page('Import and export', 'Bring records in from a spreadsheet, or take them out.');
  const types = app.schema.types.map(t => h('option', {value: t.name}, t.label || t.name));
  const type = h('select', {id: 'import-type', name: 'type'}, types);
  const file = h('input', {type: 'file', id: 'import-file', accept: '.csv,.json,text/csv,application/json'});
  const out = h('div', {class: 'import-result', 'aria-live': 'polite'});
  const check = h('button', {type: 'submit'}, 'Check the file');
  const form = h('form', {class: 'card form'},
    h('h2', {}, 'Import'),
    h('p', {}, 'A CSV file whose first row names the fields (by name or label), or a JSON file ' +
               'as an export writes it. Every row is checked first: nothing is written unless ' +
               'all of them are right.'),
    h('div', {class: 'field'}, h('label', {for: 'import-type'}, 'Records of type'), type),
    h('div', {class: 'field'}, h('label', {for: 'import-file'}, 'File'), file),
    h('div', {class: 'actions'}, check), out);
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    clear(out);
    if (!file.files.length) {
      out.append(h('div', {class: 'msg bad', role: 'alert'}, 'Choose a file first.'));
      return;
    }
    const f = file.files[0];
    const text = await f.text();
    const ctype = /\.json$/i.test(f.name) ? 'application/json' : 'text/csv';
    await importRun(type.value, text, ctype, true, out);
  });
  const exp = h('section', {class: 'card'}, h('h2', {}, 'Export'),
    h('p', {}, 'Every visible record of a type, as the schema lists its fields.'),
    h('table', {class: 'list compact'}, h('tbody', {}, app.schema.types.map(t => h('tr', {},
      h('td', {}, plural(t.label || t.name)),
      h('td', {}, ['csv', 'json', 'xlsx'].map(fmt => [h('a', {class: 'button ghost small',
        href: '/api/export/' + enc(t.name) + '?format=' + fmt, download: t.name + '.' + fmt},
        fmt === 'xlsx' ? 'Excel' : fmt.toUpperCase()), ' '])))))),
    h('p', {}, 'Everything at once: ',
      h('a', {class: 'button ghost small', href: '/api/export?format=xlsx', download: 'cairn.xlsx'}, 'Excel workbook'), ' ',
      h('a', {class: 'button ghost small', href: '/api/export?format=json', download: 'cairn.json'}, 'JSON')));
  main.append(form, exp);
}

async function importRun(type, text, ctype, dry, out) {
  clear(out);
  try {
    const r = await api('POST', 'import/' + enc(type) + (dry ? '?dry_run=true' : ''), text, ctype);
    const summary = r.created + ' new, ' + r.updated + ' changed, ' + r.unchanged + ' unchanged ' +
                    '(' + r.rows + (r.rows === 1 ? ' row' : ' rows') + ')';
    if (dry) {
      const go = h('button', {type: 'button'}, 'Import ' + (r.created + r.updated) + ' records');
      go.addEventListener('click', () => importRun(type, text, ctype, false, out));
      out.append(h('div', {class: 'msg good'}, h('strong', {}, 'The file is ready. '), summary + '.'),
                 r.created + r.updated ? h('div', {class: 'actions'}, go) : null);
    } else {
      app.names.delete(type);
      out.append(h('div', {class: 'msg good'}, h('strong', {}, 'Imported. '), summary + '. ',
                   h('a', {href: '#/list/' + enc(type)}, 'See them')));
      await wrote();
    }
  } catch (e) {
    const errs = (e.data && e.data.errors) || [];
    out.append(h('div', {class: 'msg bad', role: 'alert'}, errs.length
      ? [h('strong', {}, e.message + '.'), ' Correct the file and check it again.']
      : [h('strong', {}, 'Nothing was written. '), e.message]));
    if (errs.length) out.append(h('table', {class: 'list errors'},
      h('thead', {}, h('tr', {}, ['Line', 'Column', 'What is wrong'].map(x => h('th', {scope: 'col'}, x)))),
      h('tbody', {}, errs.map(x => h('tr', {}, h('td', {class: 'n'}, String(x.line)),
                                       h('td', {}, x.column || ''), h('td', {}, x.why))))));
    if (e.data && e.data.error_count > errs.length)
      out.append(h('p', {class: 'soft'}, (e.data.error_count - errs.length) + ' more not shown.'));
  }
}

/* ---- members and invites ---- */

async function viewMembers() {
  const main = page('Members and invites', 'Who may read and write this network\'s records.');
  if (app.invite) { /* just made: shown once */
    main.append(h('div', {class: 'msg good invite-code'}, h('p', {}, 'Give this invite to ' +
      app.invite.name + ' (by a message they can copy). On their device they run:'),
      h('pre', {}, 'cairn join ', h('code', {class: 'code'}, app.invite.code))));
    app.invite = null;
  }
  const doc = await loadPeople();
  if (!doc) {
    failure(main, new Error('The members could not be read.'));
    return;
  }
  const orgs = await namesOf('partner');
  const org = m => m.organization_name || (m.organization ? orgs.get(m.organization) || m.organization : '');
  main.append(h('section', {class: 'card'}, h('h2', {}, 'Members'),
    h('div', {class: 'tablewrap'}, h('table', {class: 'list'},
      h('thead', {}, h('tr', {}, ['Name', 'Organization', 'Role', 'Devices', ''].map(x => h('th', {scope: 'col'}, x)))),
      h('tbody', {}, doc.members.map(m => h('tr', {},
        h('td', {}, m.name || h('span', {class: 'none'}, 'unnamed')),
        h('td', {}, org(m)),
        h('td', {}, h('span', {class: 'tag tag-' + m.role}, m.role)),
        h('td', {class: 'soft', title: [m.key].concat(m.other_keys || []).join('\n')},
          devices(m)),
        h('td', {}, m.role !== 'revoked' && m.role !== 'owner' && m.role !== 'relay'
          ? revokeButton(m.key, 'Revoke', (m.name || 'this device') + ' will no longer be able to sync or write.') : null))))))));
  const inv = doc.invites || [];
  main.append(h('section', {class: 'card'}, h('h2', {}, 'Invites'),
    inv.length === 0 ? h('p', {class: 'empty'}, 'No invites yet.') :
    h('div', {class: 'tablewrap'}, h('table', {class: 'list'},
      h('thead', {}, h('tr', {}, ['For', 'Organization', 'Role', 'Status', 'Expires', 'Used', ''].map(x => h('th', {scope: 'col'}, x)))),
      h('tbody', {}, inv.map(m => h('tr', {},
        h('td', {}, m.name || ''), h('td', {}, org(m)), h('td', {}, m.role),
        h('td', {}, h('span', {class: 'tag tag-' + m.status}, m.status)),
        h('td', {}, when(m.expires)), h('td', {class: 'n'}, m.used + ' of ' + m.uses),
        h('td', {}, m.status === 'pending' ? revokeButton(m.key, 'Cancel', 'Nobody will be able to join with this invite.') : null)))))),
    await inviteForm(orgs)));
}

function devices(m) {
  const n = 1 + (m.other_keys ? m.other_keys.length : 0);
  const mine = app.status && (m.key === app.status.key || (m.other_keys || []).includes(app.status.key));
  if (n === 1) return mine ? 'this device' : '1 device';
  return n + ' devices' + (mine ? ', this one among them' : '');
}

function revokeButton(key, label, warning) {
  return h('button', {type: 'button', class: 'danger ghost small', onclick: async () => {
    if (!confirm(warning + ' Go on?')) return;
    try {
      await api('POST', 'revoke/' + enc(key));
      toast('Done. Others see it when they sync.', 'good');
      await wrote();
      route();
    } catch (e) {
      toast(e.message, 'bad');
    }
  }}, label);
}

async function inviteForm(orgs) {
  const name = h('input', {type: 'text', id: 'inv-name', placeholder: 'their name'});
  const role = h('select', {id: 'inv-role'}, ['editor', 'viewer', 'admin'].map(r => h('option', {value: r}, r)));
  const org = h('select', {id: 'inv-org'}, h('option', {value: ''}, '—'),
                [...orgs.entries()].sort((a, b) => a[1].localeCompare(b[1]))
                  .map(([id, t]) => h('option', {value: id}, t)));
  const days = h('input', {type: 'text', id: 'inv-days', value: '7', inputmode: 'numeric'});
  const out = h('div', {'aria-live': 'polite'});
  const form = h('form', {class: 'form invite'}, h('h3', {}, 'Invite someone'),
    h('div', {class: 'row'},
      h('div', {class: 'field'}, h('label', {for: 'inv-name'}, 'Name'), name),
      h('div', {class: 'field'}, h('label', {for: 'inv-role'}, 'Role'), role),
      h('div', {class: 'field'}, h('label', {for: 'inv-org'}, 'Organization'), org),
      h('div', {class: 'field narrow'}, h('label', {for: 'inv-days'}, 'Valid for days'), days)),
    h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Make the invite')), out);
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    clear(out);
    const body = {role: role.value, name: name.value.trim()};
    if (org.value) body.organization = org.value;
    if (days.value.trim()) body.expires_days = Number(days.value.trim());
    try {
      const r = await api('POST', 'invites', body);
      await wrote();
      app.invite = {name: body.name, code: r.code};
      await viewMembers(); /* the list with the new invite, its code on top */
    } catch (e) {
      out.append(h('div', {class: 'msg bad', role: 'alert'}, e.message));
    }
  });
  return form;
}

/* ---- routing ---- */

async function route() {
  const hash = location.hash || '#/';
  const [path, query] = hash.slice(1).split('?');
  const params = new URLSearchParams(query || '');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  markNav();
  document.getElementById('side').classList.remove('open');
  try {
    switch (parts[0]) {
      case undefined: return await viewReport('meeting', null);
      case 'report': return await viewReport(parts[1], params.get('as_of'));
      case 'list': return await viewList(parts[1], params);
      case 'record': return await viewRecord(parts[1], parts[2]);
      case 'new': return await viewForm(parts[1], null);
      case 'edit': return await viewForm(parts[1], parts[2]);
      case 'changes': return await viewChanges(params);
      case 'conflicts': return await viewConflicts();
      case 'import': return viewImport();
      case 'members': return await viewMembers();
      default: failure(page('Not found', null), new Error('There is no page ' + hash + ' here.'));
    }
  } catch (e) {
    failure(page('Something went wrong', null), e);
  }
}

async function start() {
  document.getElementById('menu').addEventListener('click', () => {
    const side = document.getElementById('side');
    side.classList.toggle('open');
    document.getElementById('menu').setAttribute('aria-expanded', side.classList.contains('open'));
  });
  window.addEventListener('hashchange', () => {
    app.dirty = false;
    route();
  });
  try {
    await loadSchema();
  } catch (e) {
    failure(clear(document.getElementById('main')), e);
    return;
  }
  await loadPeople();
  try {
    const net = await api('GET', 'records/_network');
    if (net.length && net[0].title) document.getElementById('network').textContent = net[0].title;
  } catch (e) { /* the title is only a nicety */ }
  await poll(true);
  renderNav();
  await route();
  const tick = async () => {
    await poll(false);
    setTimeout(tick, app.status && app.status.sync && app.status.sync.running ? 500 : POLL_MS);
  };
  setTimeout(tick, POLL_MS);
}

if (history.replaceState && location.search.includes('token='))
  history.replaceState(null, '', location.pathname + location.hash);
start();
