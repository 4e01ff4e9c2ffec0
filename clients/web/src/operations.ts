// The operations the client sends, for an app that wants to call them itself.
export {
  CompleteMfaLoginOperation,
  LoginOperation,
  LogoutOperation,
  MeOperation,
  ReauthenticateOperation,
  RefreshOperation,
  SessionRevokedOperation,
} from "./generated.js";
