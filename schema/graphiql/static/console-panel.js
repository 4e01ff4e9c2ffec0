/*
 * Gatehouse admin console: the sign-in panel, a GraphiQL 3 plugin ({title, icon, content}).
 *
 * window.GatehouseConsolePanel.plugin(session) returns the plugin for a session made by
 * session.js. Plain React.createElement (no JSX, no build step), no inline styles or
 * scripts (page.css styles it), so the page's strict CSP holds. Inputs are uncontrolled:
 * the password and codes are read from the form on submit and cleared, never kept in state.
 */
(function () {
  'use strict';

  var React = window.React;
  var h = React.createElement;
  var TITLE = 'Gatehouse sign-in';

  // A person in a doorway: the sidebar button (its name comes from the plugin title).
  function Icon() {
    return h(
      'svg',
      { viewBox: '0 0 24 24', width: 24, height: 24, 'aria-hidden': 'true', fill: 'none',
        stroke: 'currentColor', strokeWidth: 1.5 },  // prettier-ignore
      h('circle', { cx: 12, cy: 8, r: 3.5 }),
      h('path', { d: 'M5 20c0-3.9 3.1-7 7-7s7 3.1 7 7' })
    );
  }

  function field(id, label, attributes) {
    return h(
      'div',
      { className: 'gatehouse-field' },
      h('label', { htmlFor: id }, label),
      h('input', Object.assign({ id: id, name: id, required: true }, attributes))
    );
  }

  function values(form) {
    var read = {};
    Array.prototype.forEach.call(form.elements, function (element) {
      if (element.name) {
        read[element.name] = element.value.trim();
      }
    });
    return read;
  }

  function clearSecrets(form) {
    Array.prototype.forEach.call(form.elements, function (element) {
      if (element.type === 'password' || element.inputMode === 'numeric') {
        element.value = '';
      }
    });
  }

  function Content(props) {
    var session = props.session;
    var ref = React.useState(session.state());
    var state = ref[0];
    var setState = ref[1];
    var busyRef = React.useState(false);
    var busy = busyRef[0];
    var setBusy = busyRef[1];
    var backupRef = React.useState(false);
    var useBackup = backupRef[0];
    var setUseBackup = backupRef[1];
    // "Confirm it's you" with a backup code: its own field, so one is never sent as a
    // password (a wrong password counts toward the lock).
    var confirmBackupRef = React.useState(false);
    var confirmBackup = confirmBackupRef[0];
    var setConfirmBackup = confirmBackupRef[1];
    var errorRef = React.useState('');
    var error = errorRef[0];
    var setError = errorRef[1];

    var schemaRef = React.useState(props.schema.get());
    var schemaNote = schemaRef[0];
    var setSchemaNote = schemaRef[1];

    React.useEffect(function () {
      setState(session.state());
      return session.subscribe(setState);
    }, [session]);
    React.useEffect(function () {
      setSchemaNote(props.schema.get());
      return props.schema.subscribe(setSchemaNote);
    }, [props.schema]);

    // Run one step; a thrown error (network, server) is shown, never swallowed silently.
    function step(event, action) {
      event.preventDefault();
      var form = event.currentTarget;
      var input = form.elements ? values(form) : {};
      if (form.elements) {
        clearSecrets(form);
      }
      setBusy(true);
      setError('');
      action(input)
        .catch(function (thrown) {
          setError(thrown && thrown.message ? thrown.message : String(thrown));
        })
        .finally(function () {
          setBusy(false);
        });
    }

    var message = error || state.notice;
    var status = h(
      'p',
      { className: 'gatehouse-status', role: 'status', 'aria-live': 'polite', id: 'gatehouse-status' },
      message
    );
    var body;
    if (state.status === 'signed-in') {
      var user = state.user;
      body = [
        h(
          'dl',
          { key: 'who', className: 'gatehouse-who' },
          h('dt', null, 'Signed in as'),
          h('dd', { id: 'gatehouse-user' }, user.email),
          h('dt', null, 'Role'),
          h('dd', { id: 'gatehouse-role' }, user.role),
          h('dt', null, 'Token'),
          h('dd', null, 'in this tab\u2019s memory only, refreshed before it expires')
        ),
        h(
          'button',
          {
            key: 'out', type: 'button', className: 'gatehouse-button', disabled: busy,
            onClick: function () {
              setBusy(true);
              session.signOut().finally(function () {
                setBusy(false);
              });
            },
          },  // prettier-ignore
          'Sign out'
        ),
        h(
          'details',
          { key: 'again', className: 'gatehouse-again' },
          h('summary', null, 'Confirm it\u2019s you'),
          h('p', null, 'Some changes (a role, an API key, a webhook) need a sign-in from the last ' +
            'few minutes. Answer here, then run the operation again.'),  // prettier-ignore
          h(
            'form',
            {
              'aria-label': 'Confirm it is you',
              onSubmit: function (event) {
                step(event, function (input) {
                  if (confirmBackup) {
                    return session.reauthenticate({ backupCode: input['gatehouse-proof-backup'] });
                  }
                  return session.reauthenticate(
                    /^\d{6}$/.test(input['gatehouse-proof'])
                      ? { code: input['gatehouse-proof'] }
                      : { password: input['gatehouse-proof'] }
                  );
                });
              },
            },
            confirmBackup
              ? field('gatehouse-proof-backup', 'Backup code', { type: 'password',
                  autoComplete: 'off', spellCheck: false })  // prettier-ignore
              : field('gatehouse-proof', 'Password or current code', {
                  type: 'password', autoComplete: 'current-password',
                }),  // prettier-ignore
            h('button', { type: 'submit', className: 'gatehouse-button', disabled: busy }, 'Confirm')
          ),
          h(
            'button',
            {
              key: 'confirm-switch', type: 'button', className: 'gatehouse-link',
              onClick: function () {
                setConfirmBackup(!confirmBackup);
              },
            },  // prettier-ignore
            confirmBackup ? 'Use your password or a code' : 'Use a backup code'
          ),
          session.passkeyAvailable()
            ? h(
                'button',
                {
                  key: 'confirm-passkey', type: 'button', className: 'gatehouse-button',
                  disabled: busy,
                  onClick: function (event) {
                    step(event, function () {
                      return session.reauthenticateWithPasskey();
                    });
                  },
                },  // prettier-ignore
                'Confirm with a passkey'
              )
            : null
        ),
      ];
    } else if (state.status === 'second-factor') {
      var canPasskey = state.methods.indexOf('passkey') >= 0 && session.passkeyAvailable();
      body = [
        h(
          'form',
          {
            key: 'mfa', 'aria-label': 'Second factor', 'aria-describedby': 'gatehouse-status',
            onSubmit: function (event) {
              step(event, function (input) {
                return session.secondFactor(
                  useBackup ? { backupCode: input['gatehouse-backup'] } : { code: input['gatehouse-code'] }
                );
              });
            },
          },  // prettier-ignore
          useBackup
            ? field('gatehouse-backup', 'Backup code', { type: 'text', autoComplete: 'off',
                spellCheck: false })  // prettier-ignore
            : field('gatehouse-code', 'Code from your authenticator app', {
                type: 'text', inputMode: 'numeric', autoComplete: 'one-time-code',
                pattern: '[0-9]{6}', maxLength: 6,
              }),  // prettier-ignore
          h('button', { type: 'submit', className: 'gatehouse-button', disabled: busy }, 'Continue')
        ),
        h(
          'button',
          {
            key: 'switch', type: 'button', className: 'gatehouse-link',
            onClick: function () {
              setUseBackup(!useBackup);
            },
          },  // prettier-ignore
          useBackup ? 'Use a code from the app' : 'Use a backup code'
        ),
        canPasskey
          ? h(
              'button',
              {
                key: 'passkey', type: 'button', className: 'gatehouse-button', disabled: busy,
                onClick: function (event) {
                  step(event, function () {
                    return session.passkey();
                  });
                },
              },  // prettier-ignore
              'Use a passkey'
            )
          : null,
        h(
          'button',
          { key: 'cancel', type: 'button', className: 'gatehouse-link', onClick: session.cancel },
          'Start again'
        ),
      ];
    } else {
      body = [
        h('p', { key: 'why' }, 'Sign in with an administrator account to load the schema and run ' +
          'the ready-made operations in the tabs.'),  // prettier-ignore
        h(
          'form',
          {
            key: 'in', 'aria-label': 'Sign in', 'aria-describedby': 'gatehouse-status',
            onSubmit: function (event) {
              step(event, function (input) {
                setUseBackup(false);
                return session.signIn(input['gatehouse-email'], input['gatehouse-password']);
              });
            },
          },  // prettier-ignore
          field('gatehouse-email', 'Email', { type: 'email', autoComplete: 'username' }),
          field('gatehouse-password', 'Password', {
            type: 'password', autoComplete: 'current-password',
          }),  // prettier-ignore
          h('button', { type: 'submit', className: 'gatehouse-button', disabled: busy }, 'Sign in')
        ),
      ];
    }
    return h(
      'section',
      { className: 'gatehouse-console', 'aria-labelledby': 'gatehouse-console-title' },
      h('div', { className: 'graphiql-doc-explorer-title', id: 'gatehouse-console-title' }, 'Gatehouse'),
      body,
      status,
      h('p', { className: 'gatehouse-schema', id: 'gatehouse-schema' }, schemaNote)
    );
  }

  // `schema`: {get, subscribe} of a sentence saying whether the schema is loaded.
  function plugin(session, schema) {
    return {
      title: TITLE,
      icon: Icon,
      content: function GatehouseConsole() {
        return h(Content, { session: session, schema: schema });
      },
    };
  }

  window.GatehouseConsolePanel = { plugin: plugin };
})();
