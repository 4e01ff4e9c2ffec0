/*
 * Gatehouse GraphiQL bootstrap.
 *
 * Loaded with <script src> after React, ReactDOM, GraphiQL and (optionally) the explorer
 * plugin, so the page needs no inline script and runs under `script-src 'self'`.
 * Nothing here uses eval, new Function or string timers.
 *
 * The endpoint comes from the `data-endpoint` attribute of the #graphiql element
 * (default "/graphql"), the static folder from `data-static`. The admin console is built
 * here: the sign-in panel (console-panel.js) over this tab's in-memory session
 * (session.js), whose fetcher adds `Authorization: Bearer` to every request; the first
 * tabs and the panel's own operations come from admin-console.json. The schema is fetched
 * by the session, so it is reloaded with the token after every sign-in and sign-out
 * (anonymous introspection is refused in production). Users can still set request headers
 * (an API key, say) in the headers editor; those are NOT persisted to localStorage.
 *
 * `shouldPersistHeaders: false` alone is not enough in GraphiQL 3: it keeps headers out of the
 * tab state, but the query history ("graphiql:queries" / "graphiql:favorites") still saves
 * each run's headers. `headerlessStorage` below strips them before anything reaches
 * localStorage (history stays usable within the tab, it is kept in memory with headers).
 * It also drops the responses saved with each tab ("graphiql:tabState"): an answer can
 * hold a secret shown once (a new API key, a `reauthenticate` token).
 */
(function () {
  'use strict';

  var DEFAULT_ENDPOINT = '/graphql';
  var DEFAULT_STATIC = '/graphiql/static';
  var NAMESPACE = 'graphiql:';
  // Stored history keys and the array each holds, e.g. {"queries": [{query, headers, ...}]}.
  var HISTORY_KEYS = { 'graphiql:queries': 'queries', 'graphiql:favorites': 'favorites' };
  // Written only when headers are persisted; never let it be stored.
  var HEADERS_KEY = 'graphiql:headers';
  // The open tabs, {"tabs": [{query, variables, headers, response, ...}]}.
  var TABS_KEY = 'graphiql:tabState';

  // The stored form of `value` for `key`, without request headers; null means "do not store".
  function withoutHeaders(key, value) {
    if (key === HEADERS_KEY) {
      return null;
    }
    var field = key === TABS_KEY ? 'tabs' : HISTORY_KEYS[key];
    if (!field || value === null) {
      return value;
    }
    try {
      var parsed = JSON.parse(value);
      if (parsed && Array.isArray(parsed[field])) {
        parsed[field] = parsed[field].map(function (item) {
          var copy = Object.assign({}, item);
          delete copy.headers;
          if (key === TABS_KEY) {
            copy.response = null;
          }
          return copy;
        });
      }
      return JSON.stringify(parsed);
    } catch (err) {
      return null; // not the JSON we expect: store nothing rather than risk a token
    }
  }

  // A Storage for GraphiQL: window.localStorage (scoped to GraphiQL's keys, like its default)
  // that never stores request headers. Null when localStorage is unavailable.
  function headerlessStorage() {
    var local;
    try {
      local = window.localStorage;
    } catch (err) {
      return null;
    }
    if (!local) {
      return null;
    }
    function ownKeys() {
      var keys = [];
      for (var i = 0; i < local.length; i += 1) {
        var key = local.key(i);
        if (key !== null && key.indexOf(NAMESPACE) === 0) {
          keys.push(key);
        }
      }
      return keys;
    }
    function setItem(key, value) {
      var safe = withoutHeaders(key, String(value));
      if (safe === null) {
        local.removeItem(key);
      } else {
        local.setItem(key, safe);
      }
    }
    // Scrub what an earlier page (or another GraphiQL on this origin) may have stored.
    ownKeys().forEach(function (key) {
      var value = local.getItem(key);
      if (value !== null) {
        setItem(key, value);
      }
    });
    return {
      getItem: function (key) {
        return local.getItem(key);
      },
      setItem: setItem,
      removeItem: function (key) {
        local.removeItem(key);
      },
      key: function (index) {
        var keys = ownKeys();
        return index < keys.length ? keys[index] : null;
      },
      clear: function () {
        ownKeys().forEach(function (key) {
          local.removeItem(key);
        });
      },
      get length() {
        return ownKeys().length;
      },
    };
  }

  // A sentence for the panel, and who wants to hear when it changes.
  function note(initial) {
    var text = initial;
    var listeners = [];
    return {
      get: function () {
        return text;
      },
      set: function (value) {
        text = value;
        listeners.slice().forEach(function (listener) {
          listener(value);
        });
      },
      subscribe: function (listener) {
        listeners.push(listener);
        return function () {
          listeners = listeners.filter(function (other) {
            return other !== listener;
          });
        };
      },
    };
  }

  // GraphiQL's first tabs: each JSON tab's lines joined, its variables pretty-printed.
  function defaultTabs(spec) {
    return spec.tabs.map(function (tab) {
      return {
        query: tab.query.join('\n'),
        variables: JSON.stringify(tab.variables || {}, null, 2),
      };
    });
  }

  function start(container, endpoint, spec) {
    var GraphQL = window.GraphiQL.GraphQL;
    var session = window.GatehouseSession.create(endpoint, spec.signIn);
    var schemaNote = note('Loading the schema\u2026');
    var panel = window.GatehouseConsolePanel.plugin(session, schemaNote);
    var plugins = [panel];
    if (window.GraphiQLPluginExplorer && window.GraphiQLPluginExplorer.explorerPlugin) {
      plugins.push(window.GraphiQLPluginExplorer.explorerPlugin());
    }
    var root = window.ReactDOM.createRoot(container);
    var props = {
      fetcher: session.fetcher,
      plugins: plugins,
      visiblePlugin: panel,
      schema: null, // fetched by loadSchema below, with this tab's token
      defaultTabs: defaultTabs(spec),
      defaultEditorToolsVisibility: 'variables',
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    };
    var storage = headerlessStorage();
    if (storage) {
      props.storage = storage;
    }
    // GraphiQL 3.9 opens the first tab's query from `defaultTabs` but not its variables
    // (the editor starts from the `variables` prop or the stored "variables"): on a first
    // visit (no saved tabs) the first render passes them. Later renders must not, or a
    // reload would add a tab for them next to the saved ones.
    var once = null;
    if (!storage || storage.getItem(TABS_KEY) === null) {
      once = { variables: props.defaultTabs[0].variables };
    }
    function render() {
      var first = Object.assign({}, props, once);
      once = null;
      root.render(window.React.createElement(window.GraphiQL, first));
    }

    // The schema as the server shows it to this tab's caller; null when it refuses.
    var loads = 0;
    function loadSchema() {
      var load = (loads += 1);
      var query = GraphQL.getIntrospectionQuery();
      session
        .authorized(query, {}, 'IntrospectionQuery', {})
        .then(function (body) {
          if (load !== loads) {
            return;
          }
          if (body && body.data && body.data.__schema) {
            props.schema = GraphQL.buildClientSchema(body.data);
            schemaNote.set('Schema loaded: Docs, Explorer and autocomplete are ready.');
          } else {
            props.schema = null;
            var refused = body && body.errors && body.errors[0] ? body.errors[0].message : '';
            schemaNote.set('No schema yet (' + refused + ') Sign in as an administrator.');
          }
          render();
        })
        .catch(function (error) {
          if (load === loads) {
            schemaNote.set('The schema could not be loaded: ' + error.message);
          }
        });
    }
    var status = session.state().status;
    session.subscribe(function (state) {
      if ((state.status === 'signed-in') !== (status === 'signed-in')) {
        loadSchema(); // signed in or out: the server may show another schema
      }
      status = state.status;
    });
    render();
    loadSchema();
  }

  function boot() {
    var container = document.getElementById('graphiql');
    if (!container) {
      throw new Error('Gatehouse GraphiQL: no #graphiql element on the page');
    }
    var endpoint = container.getAttribute('data-endpoint') || DEFAULT_ENDPOINT;
    var staticBase = container.getAttribute('data-static') || DEFAULT_STATIC;
    window
      .fetch(staticBase + '/admin-console.json', { credentials: 'same-origin' })
      .then(function (response) {
        if (!response.ok) {
          throw new Error('admin-console.json: HTTP ' + response.status);
        }
        return response.json();
      })
      .then(function (spec) {
        start(container, endpoint, spec);
      })
      .catch(function (error) {
        container.textContent = 'Gatehouse GraphiQL could not start: ' + error.message;
      });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', boot);
  } else {
    boot();
  }
})();
