// Bazaar's pages send every change to /v1, as any external app would: a form names its call
// in data-api="METHOD /v1/...", and this sends its fields as JSON with the session's CSRF token.
//   data-then="/path/{id}"  where to go after success ({id}: the answer's id; none: reload)
//   data-show="#element"    show the JSON answer there instead of navigating
//   data-follow             go to the answer's `location` (an https or http URL): a sign-in
//                           at a vendor
//   data-confirm="text"     ask first
//   data-body="file"        send the chosen file's bytes (a component, an image)
//   data-region="#ext-..."  an app's UI action: put the answer's notice and HTML (rendered and
//                           escaped by Bazaar, never the app's own markup) into that region
// Field names: "config.key" nests into {config: {key}}; data-list collects checked boxes into an
// array; data-json parses a textarea as JSON; data-number sends a number; empty optional fields
// are left out.
(() => {
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content;

  function fields(form) {
    const out = {};
    for (const el of form.elements) {
      if (!el.name || el.disabled) continue;
      let value;
      if (el.dataset.list !== undefined) {
        out[el.name] = out[el.name] || [];
        if (el.checked) out[el.name].push(el.value);
        continue;
      }
      if (el.type === 'checkbox') value = el.checked;
      else if (el.dataset.json !== undefined) value = el.value.trim() ? JSON.parse(el.value) : undefined;
      else if (el.dataset.number !== undefined) value = el.value === '' ? undefined : Number(el.value);
      else value = el.value;
      if (value === undefined || (value === '' && el.dataset.keepEmpty === undefined)) continue;
      const path = el.name.split('.');
      let at = out;
      while (path.length > 1) { const k = path.shift(); at = at[k] = at[k] || {}; }
      at[path[0]] = value;
    }
    return out;
  }

  async function send(form) {
    const alert = form.querySelector('[role=alert]');
    if (alert) alert.textContent = '';
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    const [method, path] = form.dataset.api.split(' ');
    const headers = {};
    if (csrf()) headers['x-csrf-token'] = csrf();
    let body;
    try {
      if (form.dataset.body === 'file') {
        const file = form.querySelector('input[type=file]').files[0];
        if (!file) throw new Error('choose a file first');
        body = await file.arrayBuffer();
        headers['content-type'] = file.type || 'application/wasm';
      } else if (method !== 'GET' && method !== 'DELETE') {
        body = JSON.stringify(fields(form));
        headers['content-type'] = 'application/json';
      }
    } catch (e) {
      if (alert) alert.textContent = e.message;
      return;
    }
    const button = form.querySelector('button[type=submit]');
    if (button) button.disabled = true;
    try {
      const res = await fetch(path, { method, headers, body, credentials: 'same-origin' });
      const text = await res.text();
      const json = text ? JSON.parse(text) : null;
      if (!res.ok) {
        const fields = json?.error?.fields;
        if (alert && fields?.length) {
          // A document's problems, one per field, beside the editor.
          alert.textContent = fields.map((f) => `${f.field}: ${f.message}`).join('\n');
          form.querySelector('textarea')?.setAttribute('aria-invalid', 'true');
        } else if (alert) {
          alert.textContent = json?.error?.message || `${res.status} ${res.statusText}`;
        }
        return;
      }
      if (form.dataset.region) {
        const region = document.querySelector(form.dataset.region);
        const notice = document.createElement('p');
        notice.className = 'notice';
        notice.setAttribute('role', 'status');
        notice.textContent = json?.notice ?? '';
        const content = document.createElement('template');
        content.innerHTML = json?.html ?? '';
        region.replaceChildren(region.querySelector('h2.app'), ...(json?.notice ? [notice] : []), content.content);
      } else if (form.dataset.follow !== undefined) {
        const to = new URL(json?.location ?? '', window.location.href);
        if (to.protocol === 'https:' || to.protocol === 'http:') window.location.href = to.href;
      } else if (form.dataset.show) {
        const out = document.querySelector(form.dataset.show);
        out.textContent = JSON.stringify(json, null, 2);
        out.hidden = false;
      } else if (form.dataset.then) {
        window.location.href = form.dataset.then.replace('{id}', json?.id ?? '');
      } else {
        window.location.reload();
      }
    } catch (e) {
      if (alert) alert.textContent = e.message;
    } finally {
      if (button) button.disabled = false;
    }
  }

  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!form.dataset.api) return;
    event.preventDefault();
    send(form);
  });
  document.addEventListener('change', (event) => {
    if (event.target.dataset.submitOnChange !== undefined) send(event.target.form);
  });
})();
