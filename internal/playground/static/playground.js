// The GraphQL playground: asks for an API key before the first request, keeps it in
// sessionStorage (this tab only, gone when it closes), and runs GraphiQL with a fetcher
// that sends the key as a bearer token over HTTP and in the graphql-ws connection_init
// payload for subscriptions. Changing the key remounts GraphiQL, which refetches the
// schema with the new key.
(function () {
  'use strict';
  var STORAGE_KEY = 'ocrinvoice.playground.apiKey';
  var mount = document.getElementById('graphiql');
  var form = document.getElementById('key-form');
  var input = document.getElementById('api-key');
  var change = document.getElementById('change-key');
  var state = document.getElementById('key-state');
  var endpoint = mount.getAttribute('data-endpoint');
  var httpURL = location.origin + endpoint;
  var wsURL = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + endpoint;
  var root = ReactDOM.createRoot(mount);
  var wsClient = null;
  var generation = 0;

  function storedKey() {
    try {
      return sessionStorage.getItem(STORAGE_KEY);
    } catch (e) {
      return null;
    }
  }

  function prompt() {
    root.render(null);
    if (wsClient) {
      wsClient.dispose();
      wsClient = null;
    }
    mount.hidden = true;
    change.hidden = true;
    state.textContent = '';
    form.hidden = false;
    input.value = '';
    input.focus();
  }

  function start(key) {
    form.hidden = true;
    mount.hidden = false;
    change.hidden = false;
    state.textContent = key ? 'Using an API key' : 'No API key';
    var auth = key ? { Authorization: 'Bearer ' + key } : {};
    if (wsClient) {
      wsClient.dispose();
    }
    wsClient = graphqlWs.createClient({ url: wsURL, connectionParams: auth, lazy: true });
    var fetcher = GraphiQL.createFetcher({ url: httpURL, headers: auth, wsClient: wsClient });
    generation++;
    root.render(React.createElement(GraphiQL, {
      key: 'g' + generation,
      fetcher: fetcher,
      shouldPersistHeaders: false,
      isHeadersEditorEnabled: true,
      inputValueDeprecation: true,
      defaultQuery: '# Welcome to the ocrinvoice GraphQL playground.\n' +
        '# The Docs panel (book icon) lists every query, mutation and subscription.\n\n' +
        'query Templates {\n  ocrTemplates {\n    totalCount\n  }\n}\n'
    }));
  }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var key = input.value.trim();
    try {
      sessionStorage.setItem(STORAGE_KEY, key);
    } catch (e) {
      // Storage refused (private mode): the key lives until the page is left.
    }
    start(key);
  });
  change.addEventListener('click', function () {
    try {
      sessionStorage.removeItem(STORAGE_KEY);
    } catch (e) {}
    prompt();
  });

  var key = storedKey();
  if (key === null) {
    prompt();
  } else {
    start(key);
  }
})();
