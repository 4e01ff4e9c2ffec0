// A Gatehouse session in the browser, shared by every tab of the app: tokens in memory
// only, one refresh at a time across tabs (Web Locks), the new pair handed to the other
// tabs (BroadcastChannel), and every tab signed out when the session ends anywhere.
import {
  CompleteMfaLoginOperation,
  LoginOperation,
  LogoutOperation,
  MeOperation,
  ReauthenticateOperation,
  RefreshOperation,
  SessionRevokedOperation,
} from "./generated.js";
import type {
  CompleteMfaLoginMutation,
  CompleteMfaLoginMutationVariables,
  LoginMutation,
  MeQuery,
  ReauthenticateMutation,
  ReauthenticateMutationVariables,
  RefreshMutation,
  SessionTokensFragment,
  TypedOperation,
} from "./generated.js";
import { SESSION_ENDED, REFUSED, watchSession } from "./live.js";
import { execute, GatehouseError, NetworkError } from "./transport.js";
import type { Fetch } from "./transport.js";

export type LoginResult = LoginMutation["login"];
export type CompleteMfaLoginResult = CompleteMfaLoginMutation["completeMfaLogin"];
export type RefreshResult = RefreshMutation["refreshToken"];
export type ReauthenticateResult = ReauthenticateMutation["reauthenticate"];
export type Me = MeQuery["me"];
type RefreshFailure = Exclude<RefreshResult, { __typename: "AuthPayload" }>;

/** The pair this browser holds. `expiresAt` is on this machine's clock (ms). */
export interface Session {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly expiresAt: number;
  readonly lifetimeMs: number;
  readonly sessionId: string;
  readonly user: SessionTokensFragment["user"];
}

export type SignOutReason = "logout" | "revoked" | "refresh_refused" | "expired";

export type ClientEvent =
  | { readonly type: "session"; readonly session: Session }
  | { readonly type: "signed-out"; readonly reason: SignOutReason };

export interface GatehouseClientOptions {
  /** The GraphQL endpoint, e.g. https://auth.example.com/graphql. */
  readonly url: string;
  /** Defaults to `url` with ws(s):. */
  readonly websocketUrl?: string;
  /** Refresh when this fraction of the access token's lifetime has passed (0.8). */
  readonly refreshAt?: number;
  /** Serialise refreshes across tabs with Web Locks (true). */
  readonly crossTabLock?: boolean;
  /** Retry delays for a refresh whose answer was lost; stay inside the server's grace window. */
  readonly retryDelaysMs?: readonly number[];
  /** Watch `sessionRevoked` over a WebSocket (true). */
  readonly live?: boolean;
  readonly channelName?: string;
  readonly fetch?: Fetch;
}

/** No session in this browser (never signed in, or signed out). */
export class SignedOutError extends Error {
  override readonly name = "SignedOutError";
}

/** The server refused the refresh token: the session is over, every tab is signed out. */
export class RefreshRefusedError extends Error {
  override readonly name = "RefreshRefusedError";
  constructor(readonly result: RefreshFailure) {
    super(result.message);
  }
}

type TabMessage =
  | { readonly kind: "session"; readonly session: Session; readonly replaces: string | null }
  | { readonly kind: "signed-out"; readonly sessionId: string; readonly reason: SignOutReason }
  | { readonly kind: "hello" };

const REFRESH_LOCK = "gatehouse-refresh";
const LIVE_LOCK = "gatehouse-live";
// A tab that waited for the refresh lock gives the holder's broadcast this long to
// arrive (BroadcastChannel is not ordered with the lock's release) before it presents
// the token itself; a lone tab never waits.
const ADOPT_WAIT_MS = 250;
const NOT_HELD = Symbol("not held");

export class GatehouseClient {
  private session: Session | null = null;
  private inflight: Promise<Session> | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopLive: (() => void) | null = null;
  private liveLeader = false;
  private liveToken: string | null = null;
  private liveRetryMs = 500;
  private readonly successors = new Map<string, Session>();
  private readonly listeners = new Set<(event: ClientEvent) => void>();
  private readonly channel: BroadcastChannel | null;
  private readonly fetchImpl: Fetch;
  private readonly wsUrl: string;
  private readonly useLock: boolean;
  private releaseLive: (() => void) | null = null;

  constructor(private readonly options: GatehouseClientOptions) {
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.wsUrl = options.websocketUrl ?? options.url.replace(/^http/, "ws");
    this.useLock = (options.crossTabLock ?? true) && typeof navigator !== "undefined" && "locks" in navigator;
    this.channel =
      typeof BroadcastChannel === "undefined"
        ? null
        : new BroadcastChannel(options.channelName ?? "gatehouse");
    if (this.channel !== null) {
      this.channel.onmessage = (event: MessageEvent<TabMessage>) => this.onTabMessage(event.data);
      this.post({ kind: "hello" }); // a tab already signed in answers with the pair
    }
    if (options.live ?? true) this.electLiveLeader();
  }

  get current(): Session | null {
    return this.session;
  }

  /** Hear of new pairs and sign-outs (from this tab or another); returns an unsubscribe. */
  subscribe(listener: (event: ClientEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async login(email: string, password: string): Promise<LoginResult> {
    const data = await this.call(LoginOperation, { email, password }, null);
    if (data.login.__typename === "AuthPayload") this.begin(data.login);
    return data.login;
  }

  async completeMfaLogin(
    variables: CompleteMfaLoginMutationVariables,
  ): Promise<CompleteMfaLoginResult> {
    const data = await this.call(CompleteMfaLoginOperation, variables, null);
    if (data.completeMfaLogin.__typename === "AuthPayload") this.begin(data.completeMfaLogin);
    return data.completeMfaLogin;
  }

  /**
   * Prove the user again (password, or a code) before a sensitive change. The answer's
   * access token carries the new `auth_time`: every tab adopts it, the refresh token stays.
   */
  async reauthenticate(variables: ReauthenticateMutationVariables): Promise<ReauthenticateResult> {
    const result = (await this.request(ReauthenticateOperation, variables)).reauthenticate;
    const session = this.session;
    if (result.__typename === "Reauthenticated" && session !== null) {
      const lifetimeMs = result.expiresIn * 1000;
      const renewed: Session = {
        ...session,
        accessToken: result.accessToken,
        expiresAt: Date.now() + lifetimeMs,
        lifetimeMs,
      };
      this.adopt(renewed);
      this.post({ kind: "session", session: renewed, replaces: null });
    }
    return result;
  }

  async me(): Promise<Me> {
    return (await this.request(MeOperation, {})).me;
  }

  /** End this session on the server and in every tab. */
  async logout(): Promise<void> {
    const session = this.session;
    if (session === null) return;
    try {
      await this.call(LogoutOperation, {}, session.accessToken);
    } finally {
      this.end(session.sessionId, "logout", true);
    }
  }

  /**
   * Any operation with the current access token; an UNAUTHENTICATED answer (the token
   * expired while the tab slept) is retried once after a refresh.
   */
  async request<TResult, TVariables>(
    operation: TypedOperation<TResult, TVariables>,
    variables: TVariables,
  ): Promise<TResult> {
    const session = this.requireSession();
    try {
      return await this.call(operation, variables, session.accessToken);
    } catch (error) {
      if (!(error instanceof GatehouseError) || error.code !== "UNAUTHENTICATED") throw error;
      const renewed = this.session !== session ? this.requireSession() : await this.refresh();
      return await this.call(operation, variables, renewed.accessToken);
    }
  }

  /**
   * Trade the refresh token for a new pair, once for all tabs: the tab that gets the
   * lock first rotates and broadcasts; the others find the new pair already adopted.
   */
  refresh(): Promise<Session> {
    if (this.inflight !== null) return this.inflight;
    const presented = this.requireSession().refreshToken;
    const run = (contended: boolean) => this.refreshHolding(presented, contended);
    const inflight = (this.useLock ? this.holdingRefresh(run) : run(false)).finally(() => {
      this.inflight = null;
    });
    this.inflight = inflight;
    return inflight;
  }

  /** Stop timers, the socket and the channel (a test, or a single-page app unmounting). */
  dispose(): void {
    clearTimeout(this.timer);
    this.stopLive?.();
    this.stopLive = null;
    this.releaseLive?.();
    this.channel?.close();
  }

  /** The refresh lock, and whether another tab held it first (its pair may be on its way). */
  private async holdingRefresh(task: (contended: boolean) => Promise<Session>): Promise<Session> {
    const free = await navigator.locks.request(REFRESH_LOCK, { ifAvailable: true }, (lock) =>
      lock === null ? NOT_HELD : task(false),
    );
    if (free !== NOT_HELD) return free;
    return await navigator.locks.request(REFRESH_LOCK, () => task(true));
  }

  private async refreshHolding(presented: string, contended: boolean): Promise<Session> {
    // A pair broadcast by the tab that held the lock before us may still be queued.
    const deadline = Date.now() + (contended ? ADOPT_WAIT_MS : 0);
    do {
      await new Promise((resolve) => setTimeout(resolve, contended ? 5 : 0));
      if (this.requireSession().refreshToken !== presented || this.successors.has(presented)) break;
    } while (Date.now() < deadline);
    const current = this.requireSession();
    if (current.refreshToken !== presented) return current;
    const known = this.successors.get(presented);
    if (known !== undefined) {
      this.adopt(known);
      return known;
    }
    const result = (await this.presentRefreshToken(presented)).refreshToken;
    if (result.__typename === "AuthPayload") {
      const session = this.begin(result, presented);
      return session;
    }
    if (result.__typename === "RateLimited") {
      this.schedule(Date.now() + result.retryAfterSeconds * 1000);
      throw new RefreshRefusedError(result);
    }
    this.end(current.sessionId, "refresh_refused", true);
    throw new RefreshRefusedError(result);
  }

  // A lost answer is retried with the same token: the server's grace window returns the
  // same successor to the same client, so the session survives a dropped response.
  private async presentRefreshToken(token: string): Promise<RefreshMutation> {
    const delays = this.options.retryDelaysMs ?? [250, 1000, 2500];
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.call(RefreshOperation, { token }, null);
      } catch (error) {
        const delay = delays[attempt];
        if (!(error instanceof NetworkError) || delay === undefined) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private call<TResult, TVariables>(
    operation: TypedOperation<TResult, TVariables>,
    variables: TVariables,
    accessToken: string | null,
  ): Promise<TResult> {
    return execute(this.fetchImpl, this.options.url, operation, variables, accessToken);
  }

  private requireSession(): Session {
    if (this.session === null) throw new SignedOutError("not signed in");
    return this.session;
  }

  private begin(payload: SessionTokensFragment, replaces: string | null = null): Session {
    const lifetimeMs = payload.expiresIn * 1000;
    const session: Session = {
      accessToken: payload.accessToken,
      refreshToken: payload.refreshToken,
      expiresAt: Date.now() + lifetimeMs,
      lifetimeMs,
      sessionId: payload.sessionId,
      user: payload.user,
    };
    if (replaces !== null) this.successors.set(replaces, session);
    this.adopt(session);
    this.post({ kind: "session", session, replaces });
    return session;
  }

  private adopt(session: Session): void {
    this.session = session;
    const fraction = this.options.refreshAt ?? 0.8;
    this.schedule(session.expiresAt - (1 - fraction) * session.lifetimeMs);
    this.syncLive();
    this.emit({ type: "session", session });
  }

  private schedule(at: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.refresh().catch((error: unknown) => {
        // Offline for longer than the retries: try again while the token still lives.
        if (error instanceof NetworkError && this.session !== null) {
          this.schedule(Math.min(Date.now() + 5000, this.session.expiresAt));
        }
      });
    }, Math.max(0, at - Date.now()));
  }

  private end(sessionId: string, reason: SignOutReason, tell: boolean): void {
    if (this.session === null || this.session.sessionId !== sessionId) return;
    this.session = null;
    this.successors.clear();
    clearTimeout(this.timer);
    this.syncLive();
    if (tell) this.post({ kind: "signed-out", sessionId, reason });
    this.emit({ type: "signed-out", reason });
  }

  private onTabMessage(message: TabMessage): void {
    const mine = this.session;
    switch (message.kind) {
      case "hello":
        if (mine !== null) this.post({ kind: "session", session: mine, replaces: null });
        break;
      case "session": {
        const { session, replaces } = message;
        if (replaces !== null) this.successors.set(replaces, session);
        // Adopt a newer pair of this session, or a session opened in another tab.
        const newer =
          mine === null ||
          mine.sessionId !== session.sessionId ||
          (mine.refreshToken !== session.refreshToken &&
            (mine.refreshToken === replaces || session.expiresAt > mine.expiresAt));
        if (newer) this.adopt(session);
        break;
      }
      case "signed-out":
        this.end(message.sessionId, message.reason, false);
        break;
    }
  }

  private post(message: TabMessage): void {
    this.channel?.postMessage(message);
  }

  private emit(event: ClientEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  // One socket per browser: the tab holding the live lock watches for every tab.
  private electLiveLeader(): void {
    if (!this.useLock) {
      this.liveLeader = true;
      return;
    }
    void navigator.locks.request(LIVE_LOCK, () => {
      this.liveLeader = true;
      this.syncLive();
      return new Promise<void>((release) => {
        this.releaseLive = release;
      });
    });
  }

  private syncLive(): void {
    if (!this.liveLeader || !(this.options.live ?? true)) return;
    const token = this.session?.accessToken ?? null;
    if (token === this.liveToken) return;
    this.stopLive?.();
    this.stopLive = null;
    this.liveToken = token;
    if (token === null) return;
    this.stopLive = watchSession(this.wsUrl, token, SessionRevokedOperation, {
      onRevoked: (event) => {
        if (event.current && this.session !== null) this.end(this.session.sessionId, "revoked", true);
      },
      onClose: (code) => this.onLiveClosed(token, code),
    });
  }

  private onLiveClosed(token: string, code: number): void {
    if (this.liveToken !== token) return; // replaced by a socket with a newer token
    this.stopLive = null;
    this.liveToken = null;
    const session = this.session;
    if (session === null) return;
    if (session.accessToken !== token) {
      this.syncLive();
    } else if (code === SESSION_ENDED || code === REFUSED) {
      // Ended, or only this access token expired: a refresh tells which.
      this.refresh().catch(() => undefined);
    } else {
      setTimeout(() => this.syncLive(), this.liveRetryMs);
      this.liveRetryMs = Math.min(this.liveRetryMs * 2, 30_000);
      return;
    }
    this.liveRetryMs = 500;
  }
}
