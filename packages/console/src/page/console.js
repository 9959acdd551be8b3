// The spend console's page: plain DOM, no framework, no build step. Every value from the
// stores goes into the page through textContent or a setAttribute of a fixed attribute name,
// never as HTML. Requests go only to the console itself (relative URLs under /<token>/).

const token = location.pathname.split('/')[1] ?? '';
const SVG = 'http://www.w3.org/2000/svg';
const COLORS = ['#2952cc', '#12b76a', '#f79009', '#7a5af8', '#ee46bc', '#06aed4', '#667085'];
const view = { scale: 'hour', split: 'byHost' };
let state;
let refreshing = false;
let again = false;

/** An element with attributes and children (strings become text nodes). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (name === 'class') node.className = value;
    // CSSOM, not a style attribute: the page's CSP allows no inline styles.
    else if (name === 'style') Object.assign(node.style, value);
    else if (name === 'text') node.textContent = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

const time = (ms) => new Date(ms).toLocaleString();
const badge = (text) => el('span', { class: `badge ${text}`, text });

function relative(ms) {
  const seconds = Math.round((ms - Date.now()) / 1000);
  const abs = Math.abs(seconds);
  const text =
    abs < 90
      ? `${abs}s`
      : abs < 5400
        ? `${Math.round(abs / 60)} min`
        : `${Math.round(abs / 3600)} h`;
  return seconds >= 0 ? `in ${text}` : `${text} ago`;
}

function filterQuery() {
  const params = new URLSearchParams();
  for (const input of document.querySelectorAll('#filters select, #filters input')) {
    if (!input.value) continue;
    if (input.type === 'datetime-local') {
      const ms = new Date(input.value).getTime();
      if (Number.isFinite(ms)) params.set(input.name, String(ms));
    } else params.set(input.name, input.value);
  }
  return params.toString();
}

async function refresh() {
  if (refreshing) {
    again = true;
    return;
  }
  refreshing = true;
  try {
    do {
      again = false;
      const query = filterQuery();
      const response = await fetch(`api/state${query ? `?${query}` : ''}`, { cache: 'no-store' });
      if (!response.ok) throw new Error(`the console answered ${response.status}`);
      state = await response.json();
      render();
    } while (again);
  } catch (error) {
    setStatus('down', `cannot reach the console (${error.message})`);
  } finally {
    refreshing = false;
  }
}

function setStatus(kind, text) {
  const node = document.getElementById('status');
  node.className = `status ${kind}`;
  node.textContent = text;
}

function render() {
  renderProblems();
  renderChart();
  renderApprovals();
  renderHeld();
  renderBudgets();
  renderLedger();
  document.body.dataset.updated = String(state.now);
}

function renderProblems() {
  const box = document.getElementById('problems');
  const lines = [...state.problems];
  if (state.missing.includes('approvals'))
    lines.push('No approval store: start the console with --approvals (or --dir).');
  if (state.missing.includes('journal'))
    lines.push('No purchase journal: start the console with --journal (or --dir).');
  box.replaceChildren(...lines.map((line) => el('p', { text: line })));
  box.hidden = lines.length === 0;
}

function renderChart() {
  const chart = state.charts[view.scale];
  const series = chart[view.split];
  const width = 760;
  const height = 220;
  const left = 56;
  const bottom = 22;
  const top = 12;
  const plotW = width - left - 8;
  const plotH = height - bottom - top;
  let max = Number(chart.peak);
  for (const limit of chart.limits) max = Math.max(max, Number(limit.micros));
  max = max > 0 ? max * 1.1 : 1;
  const y = (micros) => top + plotH - (micros / max) * plotH;
  const step = plotW / chart.buckets.length;
  let total = 0n;
  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': `Committed spend per ${view.scale}`,
    id: 'chart-svg',
  });
  root.append(
    svg('line', { x1: left, x2: width - 8, y1: top + plotH, y2: top + plotH, stroke: '#e3e6eb' }),
  );
  root.append(svg('text', { x: left - 6, y: top + 8, 'text-anchor': 'end' }, usdText(max / 1.1)));
  root.append(svg('text', { x: left - 6, y: top + plotH, 'text-anchor': 'end' }, '$0'));
  chart.buckets.forEach((start, index) => {
    let base = 0;
    series.forEach((entry, s) => {
      const micros = Number(entry.micros[index]);
      if (micros <= 0) return;
      total += BigInt(entry.micros[index]);
      const rect = svg('rect', {
        class: 'bar',
        x: left + index * step + 2,
        y: y(base + micros),
        width: Math.max(1, step - 4),
        height: Math.max(1, y(base) - y(base + micros)),
        fill: COLORS[s % COLORS.length],
      });
      rect.append(svg('title', {}, `${entry.key}: ${usdText(micros)}`));
      root.append(rect);
      base += micros;
    });
    const every = view.scale === 'hour' ? 3 : 2;
    if (index % every === 0) {
      const date = new Date(start);
      const label =
        view.scale === 'hour'
          ? `${String(date.getHours()).padStart(2, '0')}:00`
          : `${date.getUTCMonth() + 1}/${date.getUTCDate()}`;
      root.append(
        svg(
          'text',
          { x: left + index * step + step / 2, y: height - 6, 'text-anchor': 'middle' },
          label,
        ),
      );
    }
  });
  for (const limit of chart.limits) {
    const at = y(Number(limit.micros));
    root.append(svg('line', { class: 'limit', x1: left, x2: width - 8, y1: at, y2: at }));
    root.append(
      svg(
        'text',
        { class: 'limit-label', x: width - 10, y: at - 4, 'text-anchor': 'end' },
        `${limit.label} ${limit.usd}`,
      ),
    );
  }
  root.dataset.totalMicros = total.toString();
  document.getElementById('chart').replaceChildren(root);
  document
    .getElementById('legend')
    .replaceChildren(
      ...(series.length === 0
        ? [el('li', { class: 'empty', text: 'Nothing committed in this period.' })]
        : series.map((entry, s) =>
            el('li', {}, el('i', { style: { background: COLORS[s % COLORS.length] } }), entry.key),
          )),
    );
}

function usdText(micros) {
  return `$${(micros / 1e6)
    .toFixed(micros >= 1e6 ? 2 : micros >= 1e4 ? 4 : 6)
    .replace(/0+$/, '')
    .replace(/\.$/, '')}`;
}

/** Sends an action; its outcome stays in the panel's flash line (the card may be gone). */
async function act(url, body, node, flash, done) {
  for (const button of node.querySelectorAll('button')) button.disabled = true;
  const line = document.getElementById(flash);
  line.textContent = 'sending…';
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-stipend-token': token },
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    line.textContent = response.ok ? done : `Not done: ${answer.error?.message ?? response.status}`;
  } catch (error) {
    line.textContent = `Not done: ${error.message}`;
  }
  refresh();
}

function renderApprovals() {
  const rows = state.approvals;
  document.getElementById('approvals-count').textContent = rows.length ? `(${rows.length})` : '';
  const box = document.getElementById('approvals');
  if (rows.length === 0)
    return box.replaceChildren(
      el('p', { class: 'empty', text: 'No agent is waiting for a decision.' }),
    );
  box.replaceChildren(
    ...rows.map((row) => {
      const card = el(
        'div',
        { class: 'approval', 'data-approval-id': row.id, 'data-state': row.state },
        el(
          'div',
          {},
          el('span', { class: 'usd', text: row.usd }),
          ' ',
          badge(row.state),
          ' ',
          el('span', { class: 'note', text: row.amount }),
        ),
        el('div', {}, `${row.method} ${row.resource}`),
        el('div', {
          class: 'meta',
          text: `to ${row.payee} · ${row.rail} · ${row.why} · expires ${relative(row.expiresAt)}`,
        }),
        row.tags.length ? el('div', { class: 'meta', text: `tags: ${row.tags.join(', ')}` }) : null,
        ...row.remaining.map((line) => el('div', { class: 'meta', text: `afterwards ${line}` })),
      );
      if (row.state === 'pending') {
        const url = (verdict) => `api/approvals/${encodeURIComponent(row.id)}/${verdict}`;
        card.append(
          el(
            'div',
            { class: 'actions' },
            el('button', {
              type: 'button',
              class: 'approve',
              text: 'Approve',
              onclick: () =>
                act(
                  url('approve'),
                  {},
                  card,
                  'approvals-flash',
                  `Approved ${row.usd} to ${row.payee}: the agent pays on its next call.`,
                ),
            }),
            el('button', {
              type: 'button',
              class: 'deny',
              text: 'Deny',
              onclick: () =>
                act(
                  url('deny'),
                  {},
                  card,
                  'approvals-flash',
                  `Denied ${row.usd} to ${row.payee}: its budget is released.`,
                ),
            }),
          ),
        );
      } else if (row.state === 'approved') {
        card.append(
          el('p', { class: 'note', text: 'Approved: waiting for the agent to call again.' }),
        );
      }
      return card;
    }),
  );
}

const RESOLVE_TEXT = {
  paid: ['Mark paid', 'Money moved: count it as spent.'],
  void: ['Mark void', 'Nothing moved and nothing can: release the budget. Only if you are sure.'],
  delivered: ['Mark delivered', 'The seller delivered it some other way.'],
};

function renderHeld() {
  const rows = state.held;
  document.getElementById('held-count').textContent = rows.length ? `(${rows.length})` : '';
  const box = document.getElementById('held');
  if (rows.length === 0)
    return box.replaceChildren(el('p', { class: 'empty', text: 'Nothing is held.' }));
  box.replaceChildren(
    ...rows.map((row) => {
      const card = el(
        'div',
        { class: 'held', 'data-purchase-id': row.id },
        el(
          'div',
          {},
          badge(row.state),
          ' ',
          el('strong', { text: row.usd ?? row.amount }),
          ' ',
          el('span', { class: 'note', text: row.amount }),
        ),
        el('div', {}, `${row.host} ${row.resource}`),
        el('div', {
          class: 'meta',
          text: `to ${row.payee} · ${row.rail} · since ${time(row.updatedAt)}${row.liveUntil ? ` · can settle until ${time(row.liveUntil)}` : ''}`,
        }),
        row.reference ? el('div', { class: 'meta', text: `reference ${row.reference}` }) : null,
        row.failure ? el('div', { class: 'meta', text: row.failure }) : null,
        row.note ? el('p', { class: 'note', text: row.note }) : null,
      );
      if (row.actions.length) {
        card.append(
          el(
            'div',
            { class: 'resolve' },
            ...row.actions.map((as) =>
              el('button', {
                type: 'button',
                'data-as': as,
                text: RESOLVE_TEXT[as]?.[0] ?? as,
                onclick: () => {
                  if (
                    !confirm(`${RESOLVE_TEXT[as]?.[1] ?? ''}\nRecord purchase ${row.id} as ${as}?`)
                  )
                    return;
                  act(
                    `api/purchases/${encodeURIComponent(row.id)}/resolve`,
                    { as },
                    card,
                    'held-flash',
                    `Recorded ${row.id} as ${as}.`,
                  );
                },
              }),
            ),
          ),
        );
      }
      return card;
    }),
  );
}

function renderBudgets() {
  const body = document.querySelector('#budgets tbody');
  if (state.budgets.length === 0) {
    return body.replaceChildren(
      el(
        'tr',
        {},
        el('td', {
          colspan: 8,
          class: 'empty',
          text: 'No limits found yet (start the console with --policy to see them before any spend).',
        }),
      ),
    );
  }
  body.replaceChildren(
    ...state.budgets.map((row) =>
      el(
        'tr',
        { 'data-scope': row.scope, 'data-window': row.windowKey },
        el('td', { text: row.label }),
        el('td', { text: row.window }),
        el('td', { text: row.max ?? '—' }),
        el('td', { class: 'spent', text: row.committed }),
        el('td', { class: 'held-usd', text: row.held }),
        el('td', { class: 'left', text: row.left ?? '—' }),
        el('td', {
          text: row.maxCount === undefined ? String(row.count) : `${row.count} / ${row.maxCount}`,
        }),
        el(
          'td',
          {},
          row.used === undefined
            ? null
            : el(
                'div',
                { class: `meter${row.used > 0.8 ? ' high' : ''}` },
                el('span', { style: { width: `${Math.round(row.used * 100)}%` } }),
              ),
        ),
      ),
    ),
  );
}

function fillSelect(name, values) {
  const select = document.querySelector(`#filters select[name="${name}"]`);
  const chosen = select.value;
  const options = [
    el('option', { value: '', text: 'all' }),
    ...values.map((value) => el('option', { value, text: value })),
  ];
  if (chosen && !values.includes(chosen))
    options.push(el('option', { value: chosen, text: chosen }));
  select.replaceChildren(...options);
  select.value = chosen;
}

function renderLedger() {
  const ledger = state.ledger;
  fillSelect('host', ledger.facets.hosts);
  fillSelect('rail', ledger.facets.rails);
  fillSelect('tag', ledger.facets.tags);
  const shown =
    ledger.rows.length < ledger.matching
      ? `${ledger.rows.length} of ${ledger.matching}`
      : String(ledger.matching);
  document.getElementById('ledger-count').textContent =
    `(${shown} of ${ledger.total} records${ledger.invalid ? `, ${ledger.invalid} invalid` : ''})`;
  const query = filterQuery();
  document.getElementById('csv').setAttribute('href', `api/ledger.csv${query ? `?${query}` : ''}`);
  const body = document.querySelector('#ledger tbody');
  if (ledger.rows.length === 0) {
    return body.replaceChildren(
      el('tr', {}, el('td', { colspan: 9, class: 'empty', text: 'No records.' })),
    );
  }
  body.replaceChildren(
    ...ledger.rows.map((row) =>
      row.invalid
        ? el(
            'tr',
            { class: 'invalid', 'data-id': row.id ?? '' },
            el('td', {}, badge('invalid')),
            el('td', { colspan: 8, text: `${row.id ?? '(no id)'}: ${row.problem}` }),
          )
        : el(
            'tr',
            { 'data-id': row.id },
            el('td', { text: time(row.createdAt) }),
            el('td', {}, badge(row.status)),
            el('td', { text: row.host }),
            el('td', { text: `${row.method} ${row.resource}` }),
            el('td', { text: row.rail }),
            el('td', { text: row.amount }),
            el('td', { text: row.usd }),
            el('td', { text: row.payee }),
            el('td', { text: row.tags.join(', ') }),
          ),
    ),
  );
}

function listen() {
  const events = new EventSource('api/events');
  events.addEventListener('change', () => {
    setStatus('live', 'live');
    refresh();
  });
  events.addEventListener('open', () => setStatus('live', 'live'));
  events.addEventListener('error', () => setStatus('down', 'reconnecting…'));
}

for (const button of document.querySelectorAll('.toggles button')) {
  button.addEventListener('click', () => {
    const key = button.dataset.scale ? 'scale' : 'split';
    view[key] = button.dataset[key];
    for (const other of document.querySelectorAll(`.toggles button[data-${key}]`)) {
      other.setAttribute('aria-pressed', String(other === button));
    }
    if (state) renderChart();
  });
}
document.getElementById('filters').addEventListener('change', () => refresh());
listen();
refresh();
// Expiry times and the hour buckets move with the clock even when no store changes.
setInterval(refresh, 30_000);
