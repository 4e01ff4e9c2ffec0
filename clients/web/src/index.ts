export { GatehouseClient, RefreshRefusedError, SignedOutError } from "./client.js";
export type {
  ClientEvent,
  CompleteMfaLoginResult,
  GatehouseClientOptions,
  LoginResult,
  Me,
  ReauthenticateResult,
  RefreshResult,
  Session,
  SignOutReason,
} from "./client.js";
export { GatehouseError, NetworkError } from "./transport.js";
export type { TypedOperation } from "./generated.js";
export * as operations from "./operations.js";
