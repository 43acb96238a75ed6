// The operator page of provision serve: ask for suggestions as a name is
// typed, hold them for the service's hold time, create the chosen one.
// It speaks the same REST API as any other client. Text from the service
// or the person is only ever set as textContent, never as HTML.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const keyStore = 'provision.apiKey';

  const state = {
    domain: '',
    timeout: 120,      // seconds a suggestion is held
    fields: [],        // custom fields asked for
    suggestions: [],   // names currently held for this page
    expires: 0,        // when their hold ends, in ms
    ticker: 0,
    debounce: 0,
    seq: 0,            // the latest suggest asked; older answers are dropped
    busy: false,
  };

  // NeedKey means the service asked for an API key (401).
  class NeedKey extends Error {}

  // call sends one request of the REST API and returns its JSON answer, or
  // throws an Error whose message is the service's, in plain words.
  async function call(method, body) {
    const headers = {};
    const key = sessionStorage.getItem(keyStore);
    if (key) headers['Authorization'] = 'Bearer ' + key;
    const init = { method: body === undefined ? 'GET' : 'POST', headers };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let resp;
    try {
      resp = await fetch('/rest/' + method, init);
    } catch (e) {
      throw new Error('The service could not be reached. Check the connection and try again.');
    }
    let data = null;
    try { data = await resp.json(); } catch (e) { /* no JSON: said below */ }
    const message = data && typeof data.errorMessage === 'string' ? data.errorMessage : '';
    if (resp.status === 401) throw new NeedKey(message || 'An API key is required.');
    if (!resp.ok) throw new Error(message || ('The service answered with status ' + resp.status + '.'));
    return data;
  }

  function say(text) { $('status').textContent = text; }

  function showError(text) {
    const box = $('error');
    box.textContent = text;
    box.hidden = false;
    box.focus();
  }

  function clearError() {
    $('error').hidden = true;
    $('error').textContent = '';
  }

  function askForKey(reason) {
    $('loading').hidden = true;
    $('person-form').hidden = true;
    $('key-form').hidden = false;
    if (reason && sessionStorage.getItem(keyStore)) {
      showError(reason);
      sessionStorage.removeItem(keyStore);
    }
    $('api-key').focus();
  }

  // start reads the service's config and shows the form.
  async function start() {
    let config;
    try {
      config = await call('config');
    } catch (e) {
      if (e instanceof NeedKey) { askForKey(e.message); return; }
      $('loading').hidden = true;
      showError(e.message);
      return;
    }
    state.domain = String(config.domain);
    state.timeout = Number(config.suggestedUsernamesTimeout) || 120;
    state.fields = Array.isArray(config.fields) ? config.fields : [];
    $('domain').textContent = state.domain;
    $('domain-line').hidden = false;
    $('loading').hidden = true;
    $('key-form').hidden = true;
    renderCustomFields();
    $('person-form').hidden = false;
    $('firstname').focus();
  }

  function renderCustomFields() {
    const box = $('custom-fields');
    box.replaceChildren();
    for (const name of state.fields) {
      const div = document.createElement('div');
      div.className = 'field';
      const label = document.createElement('label');
      label.htmlFor = 'field-' + name;
      label.textContent = name.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
      const input = document.createElement('input');
      input.id = 'field-' + name;
      input.dataset.field = name;
      input.autocomplete = 'off';
      input.addEventListener('input', scheduleSuggest);
      div.append(label, input);
      box.append(div);
    }
  }

  // person returns the typed fields, trimmed; empty custom fields are left out.
  function person() {
    const p = { firstname: $('firstname').value.trim(), lastname: $('lastname').value.trim() };
    for (const input of $('custom-fields').querySelectorAll('input')) {
      const v = input.value.trim();
      if (v) p[input.dataset.field] = v;
    }
    return p;
  }

  function scheduleSuggest() {
    clearTimeout(state.debounce);
    state.debounce = setTimeout(suggest, 400);
  }

  // release gives back the names held for this page, except keep.
  async function release(keep) {
    const names = state.suggestions;
    if (names.length === 0) return;
    await call('select', { username: keep || '', suggestions: names });
  }

  async function suggest() {
    clearTimeout(state.debounce);
    const p = person();
    if (!p.firstname || !p.lastname) {
      const held = state.suggestions.length > 0;
      showSuggestions([]);
      if (held) release('').catch(() => {});
      return;
    }
    const seq = ++state.seq;
    const previous = state.suggestions;
    try {
      if (previous.length > 0) {
        state.suggestions = [];
        await call('select', { username: '', suggestions: previous });
      }
      const names = await call('suggest', p);
      if (seq !== state.seq) {
        // A newer suggest is on its way: give these back at once.
        call('select', { username: '', suggestions: names }).catch(() => {});
        return;
      }
      clearError();
      showSuggestions(names);
    } catch (e) {
      if (seq !== state.seq) return;
      showSuggestions([]);
      if (e instanceof NeedKey) { askForKey(e.message); return; }
      showError(e.message);
    }
  }

  function showSuggestions(names) {
    state.suggestions = names;
    const list = $('suggestion-list');
    list.replaceChildren();
    clearInterval(state.ticker);
    $('hold-status').textContent = '';
    $('suggestions-empty').hidden = names.length > 0;
    if (names.length === 0) return;
    names.forEach((name, i) => {
      const div = document.createElement('div');
      div.className = 'option';
      const input = document.createElement('input');
      input.type = 'radio';
      input.name = 'username';
      input.id = 'username-' + i;
      input.value = name;
      input.checked = i === 0;
      const label = document.createElement('label');
      label.htmlFor = input.id;
      label.textContent = name + '@' + state.domain;
      div.append(input, label);
      list.append(div);
    });
    state.expires = Date.now() + state.timeout * 1000;
    say(names.length + (names.length === 1 ? ' username is' : ' usernames are') + ' free and held for you for ' + duration(state.timeout) + '.');
    tick();
    state.ticker = setInterval(tick, 1000);
  }

  function duration(seconds) {
    const m = Math.floor(seconds / 60);
    const s = seconds % 60;
    return m + ':' + String(s).padStart(2, '0');
  }

  // tick shows how long the suggestions stay held, and drops them when
  // their hold ends: the service may give them to someone else then.
  function tick() {
    const left = Math.max(0, Math.round((state.expires - Date.now()) / 1000));
    if (left > 0) {
      $('hold-status').textContent = 'Held for you for ' + duration(left) + ' more.';
      return;
    }
    showSuggestions([]);
    say('The suggested usernames were released after ' + duration(state.timeout) + '. Press Suggest usernames to get new ones.');
  }

  // keepOnly drops every suggestion but name from the page, after the
  // others were given back.
  function keepOnly(name) {
    state.suggestions = [name];
    for (const input of $('suggestion-list').querySelectorAll('input[type=radio]')) {
      if (input.value !== name) input.parentElement.remove();
    }
  }

  function chosen() {
    const radio = $('suggestion-list').querySelector('input[type=radio]:checked');
    return radio ? radio.value : '';
  }

  async function create(event) {
    event.preventDefault();
    if (state.busy) return;
    clearError();
    const username = chosen();
    if (!username) {
      showError('Choose a username first: type a first and last name to see the free ones.');
      return;
    }
    const body = Object.assign({ username }, person());
    if ($('generate').checked) {
      body.generatePassword = true;
    } else {
      body.password = $('password').value;
      if (!body.password) {
        showError('Type a password, or choose to generate one.');
        return;
      }
    }
    state.busy = true;
    $('create-button').disabled = true;
    say('Creating ' + username + '@' + state.domain + '…');
    try {
      await release(username);
      keepOnly(username);
      const answer = await call('create', body);
      clearInterval(state.ticker);
      state.suggestions = [];
      showResult(answer);
    } catch (e) {
      say('');
      if (e instanceof NeedKey) { askForKey(e.message); return; }
      showError(e.message);
    } finally {
      state.busy = false;
      $('create-button').disabled = false;
    }
  }

  function showResult(answer) {
    $('password').value = '';
    $('person-form').hidden = true;
    $('result-message').textContent = answer.message;
    const generated = typeof answer.password === 'string' && answer.password !== '';
    $('password-shown').textContent = generated ? answer.password : '';
    $('result-password').hidden = !generated;
    $('result').hidden = false;
    say('');
    $('result').focus();
  }

  function another() {
    $('result').hidden = true;
    $('password-shown').textContent = '';
    $('person-form').reset();
    showSuggestions([]);
    $('password').disabled = false;
    $('person-form').hidden = false;
    $('firstname').focus();
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('key-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const key = $('api-key').value.trim();
      if (!key) { showError('Type the API key.'); return; }
      sessionStorage.setItem(keyStore, key);
      $('api-key').value = '';
      clearError();
      start();
    });
    $('firstname').addEventListener('input', scheduleSuggest);
    $('lastname').addEventListener('input', scheduleSuggest);
    $('suggest-button').addEventListener('click', suggest);
    $('person-form').addEventListener('submit', create);
    $('generate').addEventListener('change', () => {
      $('password').disabled = $('generate').checked;
    });
    $('another').addEventListener('click', another);
    window.addEventListener('pagehide', () => {
      // Give the held names back; a page closing cannot wait for the answer.
      if (state.suggestions.length > 0) release('').catch(() => {});
    });
    start();
  });
})();
