/*
 * Gatehouse GraphiQL bootstrap.
 *
 * Loaded with <script src> after React, ReactDOM, GraphiQL and (optionally) the explorer
 * plugin, so the page needs no inline script and runs under `script-src 'self'`.
 * Nothing here uses eval, new Function or string timers.
 *
 * The endpoint comes from the `data-endpoint` attribute of the #graphiql element
 * (default "/graphql"). Requests carry cookies for the same origin only. Users can set
 * request headers (e.g. Authorization) in the headers editor; those are NOT persisted to
 * localStorage, so tokens do not outlive the tab.
 *
 * `shouldPersistHeaders: false` alone is not enough in GraphiQL 3: it keeps headers out of the
 * tab state, but the query history ("graphiql:queries" / "graphiql:favorites") still saves
 * each run's headers. `headerlessStorage` below strips them before anything reaches
 * localStorage (history stays usable within the tab, it is kept in memory with headers).
 */
(function () {
  'use strict';

  var DEFAULT_ENDPOINT = '/graphql';
  var NAMESPACE = 'graphiql:';
  // Stored history keys and the array each holds, e.g. {"queries": [{query, headers, ...}]}.
  var HISTORY_KEYS = { 'graphiql:queries': 'queries', 'graphiql:favorites': 'favorites' };
  // Written only when headers are persisted; never let it be stored.
  var HEADERS_KEY = 'graphiql:headers';

  // The stored form of `value` for `key`, without request headers; null means "do not store".
  function withoutHeaders(key, value) {
    if (key === HEADERS_KEY) {
      return null;
    }
    var field = HISTORY_KEYS[key];
    if (!field || value === null) {
      return value;
    }
    try {
      var parsed = JSON.parse(value);
      if (parsed && Array.isArray(parsed[field])) {
        parsed[field] = parsed[field].map(function (item) {
          var copy = Object.assign({}, item);
          delete copy.headers;
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

  function start() {
    var container = document.getElementById('graphiql');
    if (!container) {
      throw new Error('Gatehouse GraphiQL: no #graphiql element on the page');
    }
    var endpoint = container.getAttribute('data-endpoint') || DEFAULT_ENDPOINT;

    var fetcher = window.GraphiQL.createFetcher({
      url: endpoint,
      // createFetcher does not forward a `credentials` option, so pin it on the fetch itself.
      fetch: function (input, init) {
        return window.fetch(input, Object.assign({}, init, { credentials: 'same-origin' }));
      },
    });

    var plugins = [];
    if (window.GraphiQLPluginExplorer && window.GraphiQLPluginExplorer.explorerPlugin) {
      plugins.push(window.GraphiQLPluginExplorer.explorerPlugin());
    }

    var props = {
      fetcher: fetcher,
      plugins: plugins,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    };
    var storage = headerlessStorage();
    if (storage) {
      props.storage = storage;
    }

    window.ReactDOM.createRoot(container).render(
      window.React.createElement(window.GraphiQL, props)
    );
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
