// Small DOM and formatting helpers shared by the dashboard's views.

export const $ = (selector) => document.querySelector(selector);

export function cell(text) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  return td;
}

export function fillTable(id, rows, empty) {
  const body = $(`#${id} tbody`);
  const columns = $(`#${id} thead tr`).children.length;
  if (rows.length === 0) {
    const td = cell(empty);
    td.colSpan = columns;
    td.className = 'empty';
    const tr = document.createElement('tr');
    tr.append(td);
    body.replaceChildren(tr);
    return;
  }
  body.replaceChildren(
    ...rows.map((row) => {
      const tr = document.createElement('tr');
      for (const value of row.cells) tr.append(cell(value));
      if (row.className) tr.className = row.className;
      if (row.data) for (const [k, v] of Object.entries(row.data)) tr.dataset[k] = v;
      return tr;
    }),
  );
}

export const age = (ms) =>
  ms >= 3_600_000
    ? `${(ms / 3_600_000).toFixed(1)} h`
    : ms >= 60_000
      ? `${Math.round(ms / 60_000)} min`
      : `${Math.round(ms / 1000)} s`;
export const bytes = (n) =>
  n >= 1 << 20
    ? `${(n / (1 << 20)).toFixed(1)} MiB`
    : n >= 1024
      ? `${(n / 1024).toFixed(1)} KiB`
      : `${n} B`;

export function setStatus(text, bad = false) {
  const status = $('#status');
  status.textContent = text;
  status.classList.toggle('bad', bad);
}
