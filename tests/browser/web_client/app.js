// A page of an app that uses clients/web/, with hooks for the browser test.
// ?api=<graphql url>&lock=off turns the cross-tab refresh lock off.
import { GatehouseClient } from "./client/index.js";

const params = new URLSearchParams(location.search);
const client = new GatehouseClient({
  url: params.get("api"),
  crossTabLock: params.get("lock") !== "off",
  retryDelaysMs: [200, 500, 1000],
});
const state = { events: [], signedOutAt: null, signedOutReason: null };
const status = document.getElementById("status");
client.subscribe((event) => {
  state.events.push(event.type);
  if (event.type === "signed-out") {
    state.signedOutAt = Date.now();
    state.signedOutReason = event.reason;
  }
  status.textContent = event.type;
});

const describe = (error) => `${error.name}:${error.code ?? error.message}`;

window.gatehouse = {
  state,
  login: async (email, password) => (await client.login(email, password)).__typename,
  session: () => client.current,
  me: () => client.me().then((me) => `ok:${me.email}`, describe),
  // Every tab is told the same instant, so their refreshes start together.
  refreshAt: (at) =>
    new Promise((resolve) => {
      setTimeout(() => client.refresh().then(() => resolve("ok"), (e) => resolve(describe(e))),
        Math.max(0, at - Date.now()));
    }),
};
status.textContent = "ready";
