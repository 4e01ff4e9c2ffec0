/*
 * Gatehouse admin console: how this GraphiQL tab's requests go out.
 *
 * window.GatehouseFetcher.create(endpoint, operations, tokens) returns {post, call,
 * authorized, fetcher}; session.js makes one and keeps the tokens. `tokens` is what this
 * side may ask of the session, never the tokens themselves at rest: fresh() resolves to
 * the access token to send now (refreshed first when it is nearly expired), refresh()
 * resolves to the renewed session (one refresh at a time), current() is the access token
 * held right now. Loaded before session.js (index.html); nothing here is stored anywhere.
 */
(function () {
  'use strict';

  // The server could not be reached, or answered without JSON: a refresh may be retried.
  function NetworkError(message) {
    this.name = 'NetworkError';
    this.message = message;
  }
  NetworkError.prototype = Object.create(Error.prototype);

  function unauthenticated(body) {
    return Boolean(
      body &&
        body.errors &&
        body.errors.some(function (error) {
          return error && error.extensions && error.extensions.code === 'UNAUTHENTICATED';
        })
    );
  }

  function hasAuthorization(headers) {
    return Object.keys(headers).some(function (name) {
      return name.toLowerCase() === 'authorization';
    });
  }

  // The operation to name in the request. GraphiQL 3 can send a tab's old operation name
  // after the editor's only operation lost it (a ready-made tab edited into `{ ... }`),
  // which the server refuses as an unknown operation: a lone operation needs no name.
  // The text is parsed here because GraphiQL's own parse of it may lag behind the typing.
  function operationName(query, name) {
    var GraphQL = window.GraphiQL && window.GraphiQL.GraphQL;
    if (!name || !GraphQL) {
      return name;
    }
    var operations;
    try {
      operations = GraphQL.parse(query).definitions.filter(function (definition) {
        return definition.kind === 'OperationDefinition';
      });
    } catch (error) {
      return name; // not a document: the server says what is wrong with it
    }
    var named = operations.some(function (definition) {
      return definition.name && definition.name.value === name;
    });
    return named || operations.length !== 1 ? name : undefined;
  }

  function create(endpoint, operations, tokens) {
    // POST one operation; resolves to the JSON body (a GraphQL answer, errors included).
    function post(body, headers) {
      var all = Object.assign(
        // application/json: a document that cannot run (a typo, refused introspection)
        // is answered 200 with its errors, not 400, which the console would log as an error.
        { 'Content-Type': 'application/json', Accept: 'application/json' },
        headers
      );
      return window
        .fetch(endpoint, {
          method: 'POST',
          headers: all,
          body: JSON.stringify(body),
          credentials: 'same-origin',
        })
        .then(
          function (response) {
            return response.json().catch(function () {
              throw new NetworkError('The server answered ' + response.status + ' without JSON.');
            });
          },
          function (error) {
            throw new NetworkError(error && error.message ? error.message : 'network error');
          }
        );
    }

    // One of the panel's own operations (admin-console.json's signIn): the result (the
    // field of `data`), or an Error for a GraphQL error.
    function call(name, field, variables, token) {
      var headers = token ? { Authorization: 'Bearer ' + token } : {};
      var body = { query: operations[name].join('\n'), variables: variables };
      return post(body, headers).then(function (answer) {
        if (answer && answer.data && answer.data[field]) {
          return answer.data[field];
        }
        var first = answer && answer.errors && answer.errors[0];
        var error = new Error(first ? first.message : 'Unexpected answer from the server.');
        error.code = first && first.extensions ? first.extensions.code : undefined;
        throw error;
      });
    }

    // An operation with this tab's access token; an UNAUTHENTICATED answer refreshes once.
    function authorized(query, variables, name, headers) {
      var body = { query: query, variables: variables || {} };
      if (name) {
        body.operationName = name;
      }
      var own = Object.assign({}, headers || {});
      if (hasAuthorization(own)) {
        // Set in the headers editor (an API key, another user's token): sent as it is.
        return post(body, own);
      }
      function send(token) {
        return post(body, token ? Object.assign({}, own, { Authorization: 'Bearer ' + token }) : own);
      }
      return tokens.fresh().then(function (token) {
        return send(token).then(function (answer) {
          if (!token || !unauthenticated(answer) || tokens.current() !== token) {
            return answer;
          }
          return tokens.refresh().then(
            function (renewed) {
              return renewed ? send(renewed.accessToken) : answer;
            },
            function () {
              return answer;
            }
          );
        });
      });
    }

    // GraphiQL's fetcher: every request of every tab goes through `authorized`.
    function fetcher(params, options) {
      var headers = (options && options.headers) || {};
      var name = operationName(params.query, params.operationName);
      return authorized(params.query, params.variables || {}, name, headers);
    }

    return { post: post, call: call, authorized: authorized, fetcher: fetcher };
  }

  window.GatehouseFetcher = { create: create, NetworkError: NetworkError };
})();
