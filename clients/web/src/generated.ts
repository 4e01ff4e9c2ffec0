export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
export type MakeOptional<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]?: Maybe<T[SubKey]> };
export type MakeMaybe<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]: Maybe<T[SubKey]> };
export type MakeEmpty<T extends { [key: string]: unknown }, K extends keyof T> = { [_ in K]?: never };
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** Date (isoformat) */
  Date: { input: string; output: string; }
  /** Date with time (isoformat) */
  DateTime: { input: string; output: string; }
  /** The `JSON` scalar type represents JSON values as specified by [ECMA-404](https://ecma-international.org/wp-content/uploads/ECMA-404_2nd_edition_december_2017.pdf). */
  JSON: { input: unknown; output: unknown; }
};

export type AuditEventFilter = {
  actorId?: InputMaybe<Scalars['String']['input']>;
  event?: InputMaybe<Scalars['String']['input']>;
  since?: InputMaybe<Scalars['DateTime']['input']>;
  targetId?: InputMaybe<Scalars['String']['input']>;
  until?: InputMaybe<Scalars['DateTime']['input']>;
};

export type OAuthChallengeStage =
  | 'CONSENT'
  | 'LOGIN';

/** A client's settings; on update, a missing field is left as it is. */
export type OAuthClientInput = {
  accessTokenTtlSeconds?: InputMaybe<Scalars['Int']['input']>;
  audience?: InputMaybe<Scalars['String']['input']>;
  firstParty?: InputMaybe<Scalars['Boolean']['input']>;
  grantTypes?: InputMaybe<Array<OAuthGrantType>>;
  /** `RS256`, `ES256` or `EdDSA` (those this server has keys for; discovery's `id_token_signing_alg_values_supported`). */
  idTokenSignedResponseAlg?: InputMaybe<Scalars['String']['input']>;
  name?: InputMaybe<Scalars['String']['input']>;
  postLogoutRedirectUris?: InputMaybe<Array<Scalars['String']['input']>>;
  redirectUris?: InputMaybe<Array<Scalars['String']['input']>>;
  refreshTokenTtlSeconds?: InputMaybe<Scalars['Int']['input']>;
  scopes?: InputMaybe<Array<Scalars['String']['input']>>;
};

export type OAuthClientType =
  | 'CONFIDENTIAL'
  | 'PUBLIC';

export type OAuthGrantType =
  | 'AUTHORIZATION_CODE'
  | 'CLIENT_CREDENTIALS'
  | 'DEVICE_CODE'
  | 'REFRESH_TOKEN';

/** Whether the passkey lives on one device or is synced. */
export type PasskeyDeviceType =
  | 'MULTI_DEVICE'
  | 'SINGLE_DEVICE';

/** What a user may do. */
export type Role =
  | 'ADMIN'
  | 'INSTRUCTOR'
  | 'STUDENT'
  | 'SUPER_ADMIN';

/** A way into an account: a first step (`PASSWORD`, `PASSKEY`, `SOCIAL` for a linked provider identity, `EMAIL_CODE`) or the second factor (`TOTP`). */
export type SignInMethod =
  | 'EMAIL_CODE'
  | 'PASSKEY'
  | 'PASSWORD'
  | 'SOCIAL'
  | 'TOTP';

/** Why a social sign-in failed. */
export type SocialSignInFailureReason =
  | 'BAD_STATE'
  | 'CONSENT_DENIED'
  | 'DOMAIN_NOT_ALLOWED'
  | 'EMAIL_MISSING'
  | 'EMAIL_NOT_VERIFIED'
  | 'EMAIL_RESERVED'
  | 'INVALID_ID_TOKEN'
  | 'PROVIDER_ERROR'
  | 'PROVIDER_UNAVAILABLE'
  | 'REDIRECT_NOT_ALLOWED'
  | 'UNKNOWN_PROVIDER';

export type UserFilterInput = {
  createdAfter?: InputMaybe<Scalars['DateTime']['input']>;
  createdBefore?: InputMaybe<Scalars['DateTime']['input']>;
  emailVerified?: InputMaybe<Scalars['Boolean']['input']>;
  includeDeleted?: Scalars['Boolean']['input'];
  locked?: InputMaybe<Scalars['Boolean']['input']>;
  role?: InputMaybe<Role>;
  /** A prefix of the email, first or last name. */
  search?: InputMaybe<Scalars['String']['input']>;
  status?: InputMaybe<UserStatusEnum>;
};

export type UserSort =
  | 'CREATED_ASC'
  | 'CREATED_DESC'
  | 'EMAIL_ASC';

/** The lifecycle state of an account. */
export type UserStatusEnum =
  | 'ACTIVE'
  | 'DEACTIVATED'
  | 'DELETED';

export type WebhookDeliveryStatus =
  | 'FAILED'
  | 'PENDING'
  | 'SUCCEEDED';

export type SessionTokensFragment = { __typename?: 'AuthPayload', accessToken: string, refreshToken: string, expiresIn: number, accessTokenExpiresAt: string, refreshTokenExpiresAt: string, sessionId: string, user: { __typename?: 'User', id: string, email: string, role: Role, twoFactorEnabled: boolean } };

export type LoginMutationVariables = Exact<{
  email: Scalars['String']['input'];
  password: Scalars['String']['input'];
}>;


export type LoginMutation = { __typename?: 'Mutation', login: { __typename: 'AccountDisabled', message: string, code: string } | { __typename: 'AccountLocked', message: string, code: string } | { __typename: 'AuthPayload', accessToken: string, refreshToken: string, expiresIn: number, accessTokenExpiresAt: string, refreshTokenExpiresAt: string, sessionId: string, user: { __typename?: 'User', id: string, email: string, role: Role, twoFactorEnabled: boolean } } | { __typename: 'EmailNotVerified', message: string, code: string } | { __typename: 'InvalidCredentials', message: string, code: string } | { __typename: 'MfaRequired', challengeToken: string, expiresAt: string, methods: Array<string> } | { __typename: 'PasswordChangeRequired', message: string, code: string } | { __typename: 'RateLimited', retryAfterSeconds: number, message: string, code: string } | { __typename: 'ValidationFailed', message: string, code: string } };

export type CompleteMfaLoginMutationVariables = Exact<{
  challengeToken: Scalars['String']['input'];
  code?: InputMaybe<Scalars['String']['input']>;
  backupCode?: InputMaybe<Scalars['String']['input']>;
}>;


export type CompleteMfaLoginMutation = { __typename?: 'Mutation', completeMfaLogin: { __typename: 'AccountDisabled', message: string, code: string } | { __typename: 'AccountLocked', message: string, code: string } | { __typename: 'AuthPayload', accessToken: string, refreshToken: string, expiresIn: number, accessTokenExpiresAt: string, refreshTokenExpiresAt: string, sessionId: string, user: { __typename?: 'User', id: string, email: string, role: Role, twoFactorEnabled: boolean } } | { __typename: 'InvalidMfaCode', message: string, code: string } | { __typename: 'InvalidToken', message: string, code: string } | { __typename: 'PasswordChangeRequired', message: string, code: string } | { __typename: 'RateLimited', retryAfterSeconds: number, message: string, code: string } };

export type RefreshMutationVariables = Exact<{
  token: Scalars['String']['input'];
}>;


export type RefreshMutation = { __typename?: 'Mutation', refreshToken: { __typename: 'AuthPayload', accessToken: string, refreshToken: string, expiresIn: number, accessTokenExpiresAt: string, refreshTokenExpiresAt: string, sessionId: string, user: { __typename?: 'User', id: string, email: string, role: Role, twoFactorEnabled: boolean } } | { __typename: 'InvalidRefreshToken', message: string, code: string } | { __typename: 'NotFound', message: string, code: string } | { __typename: 'RateLimited', retryAfterSeconds: number, message: string, code: string } | { __typename: 'RefreshTokenReused', message: string, code: string } | { __typename: 'SessionExpired', message: string, code: string } };

export type LogoutMutationVariables = Exact<{ [key: string]: never; }>;


export type LogoutMutation = { __typename?: 'Mutation', logout: { __typename?: 'LoggedOut', sessionsEnded: number } };

export type ReauthenticateMutationVariables = Exact<{
  password?: InputMaybe<Scalars['String']['input']>;
  code?: InputMaybe<Scalars['String']['input']>;
  backupCode?: InputMaybe<Scalars['String']['input']>;
}>;


export type ReauthenticateMutation = { __typename?: 'Mutation', reauthenticate: { __typename: 'AccountLocked', message: string, code: string } | { __typename: 'InvalidCredentials', message: string, code: string } | { __typename: 'InvalidMfaCode', message: string, code: string } | { __typename: 'InvalidPasskey', message: string, code: string } | { __typename: 'PasskeyChallengeExpired', message: string, code: string } | { __typename: 'RateLimited', retryAfterSeconds: number, message: string, code: string } | { __typename: 'Reauthenticated', validUntil: string, authTime: string, accessToken: string, expiresIn: number } | { __typename: 'ValidationFailed', message: string, code: string } };

export type MeQueryVariables = Exact<{ [key: string]: never; }>;


export type MeQuery = { __typename?: 'Query', me: { __typename?: 'User', id: string, email: string, firstName: string, lastName: string, role: Role, emailVerified: boolean, twoFactorEnabled: boolean } };

export type SessionRevokedSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type SessionRevokedSubscription = { __typename?: 'Subscription', sessionRevoked: { __typename?: 'SessionRevokedEvent', sessionId: string, reason: string, current: boolean } };


// Generated by tests/codegen (web-client.yml) from schema.graphql and
// clients/web/src/operations/*.graphql: do not edit.
/** An operation's text and name, carrying its result and variables types. */
export interface TypedOperation<TResult, TVariables> {
  readonly operationName: string;
  readonly query: string;
  readonly __types?: { result: TResult; variables: TVariables };
}

export const LoginOperation: TypedOperation<LoginMutation, LoginMutationVariables> = {
  operationName: "Login",
  query: "mutation Login($email: String!, $password: String!) {\n  login(email: $email, password: $password) {\n    __typename\n    ... on AuthPayload {\n      ...SessionTokens\n    }\n    ... on MfaRequired {\n      challengeToken\n      expiresAt\n      methods\n    }\n    ... on RateLimited {\n      retryAfterSeconds\n    }\n    ... on UserError {\n      message\n      code\n    }\n  }\n}\n\nfragment SessionTokens on AuthPayload {\n  accessToken\n  refreshToken\n  expiresIn\n  accessTokenExpiresAt\n  refreshTokenExpiresAt\n  sessionId\n  user {\n    id\n    email\n    role\n    twoFactorEnabled\n  }\n}",
};

export const CompleteMfaLoginOperation: TypedOperation<CompleteMfaLoginMutation, CompleteMfaLoginMutationVariables> = {
  operationName: "CompleteMfaLogin",
  query: "mutation CompleteMfaLogin($challengeToken: String!, $code: String, $backupCode: String) {\n  completeMfaLogin(\n    challengeToken: $challengeToken\n    code: $code\n    backupCode: $backupCode\n  ) {\n    __typename\n    ... on AuthPayload {\n      ...SessionTokens\n    }\n    ... on RateLimited {\n      retryAfterSeconds\n    }\n    ... on UserError {\n      message\n      code\n    }\n  }\n}\n\nfragment SessionTokens on AuthPayload {\n  accessToken\n  refreshToken\n  expiresIn\n  accessTokenExpiresAt\n  refreshTokenExpiresAt\n  sessionId\n  user {\n    id\n    email\n    role\n    twoFactorEnabled\n  }\n}",
};

export const RefreshOperation: TypedOperation<RefreshMutation, RefreshMutationVariables> = {
  operationName: "Refresh",
  query: "mutation Refresh($token: String!) {\n  refreshToken(token: $token) {\n    __typename\n    ... on AuthPayload {\n      ...SessionTokens\n    }\n    ... on RateLimited {\n      retryAfterSeconds\n    }\n    ... on UserError {\n      message\n      code\n    }\n  }\n}\n\nfragment SessionTokens on AuthPayload {\n  accessToken\n  refreshToken\n  expiresIn\n  accessTokenExpiresAt\n  refreshTokenExpiresAt\n  sessionId\n  user {\n    id\n    email\n    role\n    twoFactorEnabled\n  }\n}",
};

export const LogoutOperation: TypedOperation<LogoutMutation, LogoutMutationVariables> = {
  operationName: "Logout",
  query: "mutation Logout {\n  logout {\n    sessionsEnded\n  }\n}",
};

export const ReauthenticateOperation: TypedOperation<ReauthenticateMutation, ReauthenticateMutationVariables> = {
  operationName: "Reauthenticate",
  query: "mutation Reauthenticate($password: String, $code: String, $backupCode: String) {\n  reauthenticate(password: $password, code: $code, backupCode: $backupCode) {\n    __typename\n    ... on Reauthenticated {\n      validUntil\n      authTime\n      accessToken\n      expiresIn\n    }\n    ... on RateLimited {\n      retryAfterSeconds\n    }\n    ... on UserError {\n      message\n      code\n    }\n  }\n}",
};

export const MeOperation: TypedOperation<MeQuery, MeQueryVariables> = {
  operationName: "Me",
  query: "query Me {\n  me {\n    id\n    email\n    firstName\n    lastName\n    role\n    emailVerified\n    twoFactorEnabled\n  }\n}",
};

export const SessionRevokedOperation: TypedOperation<SessionRevokedSubscription, SessionRevokedSubscriptionVariables> = {
  operationName: "SessionRevoked",
  query: "subscription SessionRevoked {\n  sessionRevoked {\n    sessionId\n    reason\n    current\n  }\n}",
};
