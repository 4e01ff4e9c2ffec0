/*
 * Gatehouse admin console: the signed-in session of this GraphiQL tab.
 *
 * window.GatehouseSession.create(endpoint, operations) returns the session object init.js
 * and console-panel.js use. The tokens live only in this closure: never in localStorage,
 * sessionStorage, cookies or IndexedDB, never in GraphiQL's headers editor or history (the
 * sign-in operations are sent from here, not through GraphiQL). Closing or reloading the tab
 * forgets them; each GraphiQL tab signs in on its own and holds its own session. The
 * requests themselves (posting, the panel's calls, GraphiQL's fetcher) are fetcher.js's,
 * loaded first: it asks this session for a fresh token and never keeps one.
 *
 * Refresh follows clients/web/src/client.ts: a timer at 80 % of the access token's lifetime;
 * a request made when the token is (nearly) expired refreshes first; an UNAUTHENTICATED
 * answer refreshes once and retries; one refresh at a time (single flight), and a refresh
 * whose answer was lost is retried with the same refresh token inside the server's grace
 * window (GATEHOUSE_REFRESH_GRACE_SECONDS), which answers it with the same new pair.
 */
(function () {
  'use strict';

  var REFRESH_AT = 0.8; // fraction of the access token's lifetime
  var EARLY_MS = 5000; // a token this close to expiry is refreshed before a request
  var RETRY_DELAYS_MS = [250, 1000, 2500]; // a lost refresh answer; inside the grace window
  var ENDED = {
    InvalidRefreshToken: true,
    RefreshTokenReused: true,
    SessionExpired: true,
    NotFound: true,
  };

  var NetworkError = window.GatehouseFetcher.NetworkError;

  function create(endpoint, operations) {
    // The only place the tokens are kept.
    var session = null; // {accessToken, refreshToken, expiresAt, lifetimeMs, sessionId, user}
    var challenge = null; // {token, methods} between the password and the second factor
    var inflight = null;
    var timer = null;
    var notice = '';
    var listeners = [];
    var requests = window.GatehouseFetcher.create(endpoint, operations, {
      fresh: freshToken,
      refresh: refresh,
      current: function () {
        return session ? session.accessToken : null;
      },
    });
    var call = requests.call;

    function snapshot() {
      return {
        status: session ? 'signed-in' : challenge ? 'second-factor' : 'signed-out',
        user: session ? session.user : null,
        expiresAt: session ? session.expiresAt : null,
        methods: challenge ? challenge.methods.slice() : [],
        notice: notice,
      };
    }

    function emit(message) {
      notice = message || '';
      var state = snapshot();
      listeners.slice().forEach(function (listener) {
        listener(state);
      });
    }

    function failure(result) {
      var message = result.message || result.__typename;
      if (result.__typename === 'RateLimited') {
        message += ' Try again in ' + result.retryAfterSeconds + ' s.';
      }
      return message;
    }

    function schedule(at) {
      clearTimeout(timer);
      timer = setTimeout(function () {
        refresh().catch(function () {
          /* the outcome is in the panel (signed out, or a notice) */
        });
      }, Math.max(0, at - Date.now()));
    }

    function begin(payload, message) {
      var lifetimeMs = payload.expiresIn * 1000;
      session = {
        accessToken: payload.accessToken,
        refreshToken: payload.refreshToken,
        expiresAt: Date.now() + lifetimeMs,
        lifetimeMs: lifetimeMs,
        sessionId: payload.sessionId,
        user: payload.user,
      };
      challenge = null;
      schedule(session.expiresAt - (1 - REFRESH_AT) * lifetimeMs);
      emit(message);
    }

    function end(message) {
      session = null;
      challenge = null;
      clearTimeout(timer);
      emit(message);
    }

    // The answer to a sign-in step: signed in, a second factor to give, or a message.
    function settle(result) {
      if (result.__typename === 'AuthPayload') {
        begin(result, '');
      } else if (result.__typename === 'MfaRequired') {
        challenge = { token: result.challengeToken, methods: result.methods };
        emit('');
      } else {
        emit(failure(result));
      }
      return snapshot();
    }

    function signIn(email, password) {
      return call('login', 'login', { email: email, password: password }, null).then(settle);
    }

    function secondFactor(answer) {
      if (!challenge) {
        return Promise.resolve(snapshot());
      }
      var variables = { challengeToken: challenge.token, code: null, backupCode: null };
      if (answer.backupCode) {
        variables.backupCode = answer.backupCode;
      } else {
        variables.code = answer.code;
      }
      return call('completeMfaLogin', 'completeMfaLogin', variables, null).then(function (result) {
        if (result.__typename === 'InvalidToken') {
          challenge = null; // the challenge expired or was used: start again
        }
        return settle(result);
      });
    }

    // The second factor with a passkey (navigator.credentials.get with the server's options).
    function passkey() {
      if (!challenge) {
        return Promise.resolve(snapshot());
      }
      var vars = { challengeToken: challenge.token };
      return call('beginPasskeyLogin', 'beginPasskeyLogin', vars, null).then(function (begun) {
        if (begun.__typename !== 'PasskeyLoginOptions') {
          return settle(begun);
        }
        var options = window.PublicKeyCredential.parseRequestOptionsFromJSON(begun.options);
        return navigator.credentials.get({ publicKey: options }).then(function (credential) {
          var finish = { attemptId: begun.attemptId, credential: credential.toJSON() };
          return call('finishPasskeyLogin', 'finishPasskeyLogin', finish, null).then(settle);
        });
      });
    }

    // The same with one of the account's passkeys: the server's options, the browser's
    // answer, then reauthenticate(passkey:).
    function reauthenticateWithPasskey() {
      return freshToken().then(function (token) {
        var name = 'beginPasskeyReauthentication';
        return call(name, name, {}, token).then(function (begun) {
          if (begun.__typename !== 'PasskeyReauthenticationOptions') {
            emit(failure(begun));
            return false;
          }
          var options = window.PublicKeyCredential.parseRequestOptionsFromJSON(begun.options);
          return navigator.credentials.get({ publicKey: options }).then(function (credential) {
            return reauthenticate({ passkey: credential.toJSON() });
          });
        });
      });
    }

    function cancel() {
      challenge = null;
      emit('');
    }

    // The refresh token presented again after a lost answer: the grace window answers it.
    function presentRefreshToken(token, attempt) {
      return call('refreshToken', 'refreshToken', { token: token }, null).catch(function (error) {
        var delay = RETRY_DELAYS_MS[attempt];
        if (!(error instanceof NetworkError) || delay === undefined) {
          throw error;
        }
        return new Promise(function (resolve) {
          setTimeout(resolve, delay);
        }).then(function () {
          return presentRefreshToken(token, attempt + 1);
        });
      });
    }

    // A new pair for this session, one refresh at a time.
    function refresh() {
      if (inflight) {
        return inflight;
      }
      if (!session) {
        return Promise.reject(new Error('Not signed in.'));
      }
      var presented = session;
      inflight = presentRefreshToken(presented.refreshToken, 0)
        .then(function (result) {
          if (session !== presented) {
            return session; // signed out (or in again) meanwhile
          }
          if (result.__typename === 'AuthPayload') {
            begin(result, notice);
            return session;
          }
          if (ENDED[result.__typename]) {
            end('Your session ended (' + failure(result) + '). Sign in again.');
          } else {
            schedule(Date.now() + (result.retryAfterSeconds || 5) * 1000);
            emit(failure(result));
          }
          throw new Error(failure(result));
        }, function (error) {
          if (session === presented && error instanceof NetworkError) {
            schedule(Math.min(Date.now() + 5000, session.expiresAt)); // offline: try again
          }
          throw error;
        })
        .finally(function () {
          inflight = null;
        });
      return inflight;
    }

    // The access token to send now: refreshed first when it is (nearly) expired.
    function freshToken() {
      if (!session) {
        return Promise.resolve(null);
      }
      if (session.expiresAt - Date.now() > EARLY_MS) {
        return Promise.resolve(session.accessToken);
      }
      return refresh().then(
        function (renewed) {
          return renewed ? renewed.accessToken : null;
        },
        function () {
          return session ? session.accessToken : null;
        }
      );
    }

    // Prove it is you again (password, code, backup code or passkey) for changes that need a
    // recent sign-in: the answer's access token carries the new auth_time; the refresh token
    // stays.
    function reauthenticate(proof) {
      var variables = {
        password: proof.password || null,
        code: proof.code || null,
        backupCode: proof.backupCode || null,
        passkey: proof.passkey || null,
      };
      return freshToken().then(function (token) {
        return call('reauthenticate', 'reauthenticate', variables, token).then(function (result) {
          if (result.__typename !== 'Reauthenticated' || !session) {
            emit(failure(result));
            return false;
          }
          var lifetimeMs = result.expiresIn * 1000;
          session.accessToken = result.accessToken;
          session.expiresAt = Date.now() + lifetimeMs;
          session.lifetimeMs = lifetimeMs;
          schedule(session.expiresAt - (1 - REFRESH_AT) * lifetimeMs);
          emit('Confirmed: changes that need a recent sign-in work until ' +
            new Date(result.validUntil).toLocaleTimeString() + '.');
          return true;
        });
      });
    }

    // End the session on the server, then forget it here (even if the server is unreachable).
    function signOut() {
      if (!session) {
        return Promise.resolve();
      }
      var ending = session;
      return freshToken()
        .then(function (token) {
          return call('logout', 'logout', {}, token);
        })
        .then(
          function () {
            if (session === ending) {
              end('Signed out: the session is ended on the server.');
            }
          },
          function (error) {
            if (session === ending) {
              end('Signed out here; the server did not confirm (' + error.message + ').');
            }
          }
        );
    }

    // A tab that slept (timers throttled) refreshes as soon as it is shown again.
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'visible' && session) {
        if (session.expiresAt - Date.now() < (1 - REFRESH_AT) * session.lifetimeMs) {
          refresh().catch(function () {});
        }
      }
    });

    return {
      state: snapshot,
      subscribe: function (listener) {
        listeners.push(listener);
        return function () {
          listeners = listeners.filter(function (other) {
            return other !== listener;
          });
        };
      },
      fetcher: requests.fetcher,
      authorized: requests.authorized,
      signIn: signIn,
      secondFactor: secondFactor,
      passkey: passkey,
      passkeyAvailable: function () {
        return Boolean(
          window.PublicKeyCredential &&
            window.PublicKeyCredential.parseRequestOptionsFromJSON &&
            navigator.credentials
        );
      },
      cancel: cancel,
      reauthenticate: reauthenticate,
      reauthenticateWithPasskey: reauthenticateWithPasskey,
      signOut: signOut,
    };
  }

  window.GatehouseSession = { create: create };
})();
