
      export interface PossibleTypesResultData {
        possibleTypes: {
          [key: string]: string[]
        }
      }
      const result: PossibleTypesResultData = {
  "possibleTypes": {
    "AcceptConsentChallengeResult": [
      "Forbidden",
      "InvalidToken",
      "OAuthChallengeAnswered",
      "ReauthenticationRequired"
    ],
    "AcceptLoginChallengeResult": [
      "InvalidToken",
      "OAuthChallengeAnswered",
      "ReauthenticationRequired"
    ],
    "AdminUserResult": [
      "AdminUserDetail",
      "NotFound"
    ],
    "BeginPasskeyLoginResult": [
      "PasskeyChallengeExpired",
      "PasskeyLoginOptions",
      "RateLimited",
      "ValidationFailed"
    ],
    "BeginPasskeyReauthenticationResult": [
      "PasskeyReauthenticationOptions",
      "ValidationFailed"
    ],
    "BeginPasskeyRegistrationResult": [
      "InvalidCredentials",
      "PasskeyRegistrationOptions",
      "ReauthenticationRequired",
      "ValidationFailed"
    ],
    "BeginSocialLinkResult": [
      "ReauthenticationRequired",
      "SocialAuthorization",
      "SocialSignInFailed"
    ],
    "BeginSocialSignInResult": [
      "RateLimited",
      "SocialAuthorization",
      "SocialSignInFailed"
    ],
    "BeginTotpResult": [
      "InvalidCredentials",
      "ReauthenticationRequired",
      "TotpAlreadyEnabled",
      "TotpEnrollment"
    ],
    "CancelAccountDeletionResult": [
      "AccountDeletionCancelled",
      "InvalidToken"
    ],
    "ChangePasswordResult": [
      "AccountLocked",
      "InvalidCredentials",
      "PasswordChanged",
      "RateLimited",
      "ReauthenticationRequired",
      "ValidationFailed"
    ],
    "CompleteEmailSignInResult": [
      "AccountDisabled",
      "AccountLocked",
      "AuthPayload",
      "EmailSignInDisabled",
      "InvalidEmailCode",
      "InvalidToken",
      "MfaRequired",
      "RateLimited",
      "ValidationFailed"
    ],
    "CompleteMfaLoginResult": [
      "AccountDisabled",
      "AccountLocked",
      "AuthPayload",
      "InvalidMfaCode",
      "InvalidToken",
      "PasswordChangeRequired",
      "RateLimited"
    ],
    "CompleteSocialSignInResult": [
      "AccountDisabled",
      "AccountLinkRequired",
      "AccountLocked",
      "AuthPayload",
      "MfaRequired",
      "RateLimited",
      "SocialSignInFailed"
    ],
    "ConfirmEmailChangeResult": [
      "EmailChanged",
      "EmailTaken",
      "InvalidToken",
      "RateLimited"
    ],
    "ConfirmSocialLinkEmailResult": [
      "RateLimited",
      "SocialIdentityLinked",
      "SocialIdentityTaken",
      "SocialLinkExpired"
    ],
    "ConfirmSocialLinkResult": [
      "ReauthenticationRequired",
      "SocialIdentityLinked",
      "SocialIdentityTaken",
      "SocialLinkExpired"
    ],
    "ConfirmTotpResult": [
      "BackupCodes",
      "InvalidMfaCode",
      "NoPendingEnrollment",
      "RateLimited",
      "ReauthenticationRequired",
      "TotpAlreadyEnabled"
    ],
    "CreateApiKeyResult": [
      "ApiKeyCreated",
      "ReauthenticationRequired",
      "ValidationFailed"
    ],
    "CreateOAuthClientResult": [
      "OAuthClientCreated",
      "ReauthenticationRequired",
      "ValidationFailed"
    ],
    "DeleteMyAccountResult": [
      "AccountDeletionScheduled",
      "LastSuperAdmin",
      "ReauthenticationRequired"
    ],
    "DisableOAuthClientResult": [
      "NotFound",
      "OAuthClientSaved"
    ],
    "DisableTotpResult": [
      "AccountLocked",
      "InvalidCredentials",
      "InvalidMfaCode",
      "RateLimited",
      "ReauthenticationRequired",
      "TotpDisabled",
      "TotpNotEnabled",
      "ValidationFailed"
    ],
    "EmailRequestResult": [
      "EmailRequestAccepted",
      "RateLimited",
      "ValidationFailed"
    ],
    "EndImpersonationResult": [
      "Forbidden",
      "ImpersonationEnded"
    ],
    "ExportUserDataResult": [
      "DataExportRequested",
      "NotFound"
    ],
    "FinishPasskeyLoginResult": [
      "AccountDisabled",
      "AccountLocked",
      "AuthPayload",
      "EmailNotVerified",
      "InvalidPasskey",
      "MfaRequired",
      "PasskeyChallengeExpired",
      "PasswordChangeRequired",
      "RateLimited"
    ],
    "FinishPasskeyRegistrationResult": [
      "InvalidCredentials",
      "InvalidPasskey",
      "PasskeyAdded",
      "PasskeyChallengeExpired",
      "ReauthenticationRequired",
      "ValidationFailed"
    ],
    "ImpersonateUserResult": [
      "Forbidden",
      "ImpersonationStarted",
      "NotFound",
      "ReauthenticationRequired",
      "ValidationFailed"
    ],
    "LinkSocialIdentityResult": [
      "NotFound",
      "ReauthenticationRequired",
      "SocialIdentityLinked",
      "SocialIdentityTaken",
      "SocialSignInFailed"
    ],
    "LoginResult": [
      "AccountDisabled",
      "AccountLocked",
      "AuthPayload",
      "EmailNotVerified",
      "InvalidCredentials",
      "MfaRequired",
      "PasswordChangeRequired",
      "RateLimited",
      "ValidationFailed"
    ],
    "OAuthChallengeResult": [
      "InvalidToken",
      "OAuthChallenge"
    ],
    "ReauthenticateResult": [
      "AccountLocked",
      "InvalidCredentials",
      "InvalidMfaCode",
      "InvalidPasskey",
      "PasskeyChallengeExpired",
      "RateLimited",
      "Reauthenticated",
      "ValidationFailed"
    ],
    "RefreshResult": [
      "AuthPayload",
      "InvalidRefreshToken",
      "NotFound",
      "RateLimited",
      "RefreshTokenReused",
      "SessionExpired"
    ],
    "RegenerateBackupCodesResult": [
      "AccountLocked",
      "BackupCodes",
      "InvalidCredentials",
      "InvalidMfaCode",
      "RateLimited",
      "ReauthenticationRequired",
      "TotpNotEnabled",
      "ValidationFailed"
    ],
    "RegisterResult": [
      "RateLimited",
      "RegistrationAccepted",
      "ValidationFailed"
    ],
    "RejectChallengeResult": [
      "Forbidden",
      "InvalidToken",
      "OAuthChallengeAnswered"
    ],
    "RemovePasskeyResult": [
      "LastSignInMethod",
      "NotFound",
      "PasskeyRemoved",
      "ReauthenticationRequired"
    ],
    "RemoveUserIdentityResult": [
      "Forbidden",
      "NotFound",
      "ReauthenticationRequired",
      "SocialIdentityUnlinked"
    ],
    "RemoveUserPasskeyResult": [
      "Forbidden",
      "NotFound",
      "PasskeyRemoved",
      "ReauthenticationRequired"
    ],
    "RenamePasskeyResult": [
      "NotFound",
      "PasskeyRenamed",
      "ValidationFailed"
    ],
    "RequestDataExportResult": [
      "DataExportRequested",
      "ReauthenticationRequired"
    ],
    "RequestEmailChangeResult": [
      "AccountLocked",
      "EmailRequestAccepted",
      "EmailTaken",
      "InvalidCredentials",
      "RateLimited",
      "ReauthenticationRequired",
      "ValidationFailed"
    ],
    "RequestEmailSignInResult": [
      "EmailSignInDisabled",
      "EmailSignInRequested",
      "RateLimited",
      "ValidationFailed"
    ],
    "RequestSocialLinkEmailResult": [
      "RateLimited",
      "SocialLinkEmailSent",
      "SocialLinkExpired"
    ],
    "ResendEmailResult": [
      "EmailRequeued",
      "NotFound"
    ],
    "ResetPasswordResult": [
      "InvalidToken",
      "PasswordResetCompleted",
      "RateLimited",
      "ValidationFailed"
    ],
    "RevokeApiKeyResult": [
      "ApiKeyRevoked",
      "NotFound"
    ],
    "RevokeAuthorizedAppResult": [
      "AuthorizedAppRevoked",
      "NotFound"
    ],
    "RevokeSessionResult": [
      "NotFound",
      "SessionRevoked"
    ],
    "RevokeTrustedDeviceResult": [
      "NotFound",
      "TrustedDeviceRevoked"
    ],
    "RevokeUserSessionsResult": [
      "Forbidden",
      "NotFound",
      "UserSessionsRevoked"
    ],
    "RotateOAuthClientSecretResult": [
      "NotFound",
      "OAuthClientSecretRotated",
      "ReauthenticationRequired",
      "ValidationFailed"
    ],
    "UnlinkSocialIdentityResult": [
      "LastSignInMethod",
      "NotFound",
      "ReauthenticationRequired",
      "SocialIdentityUnlinked"
    ],
    "UnlockAccountResult": [
      "AccountUnlocked",
      "InvalidToken",
      "RateLimited"
    ],
    "UpdateOAuthClientResult": [
      "NotFound",
      "OAuthClientSaved",
      "ReauthenticationRequired",
      "ValidationFailed"
    ],
    "UpdateProfileResult": [
      "InvalidCredentials",
      "ProfileUpdated",
      "ValidationFailed"
    ],
    "UserError": [
      "AccountDisabled",
      "AccountLocked",
      "EmailNotVerified",
      "EmailSignInDisabled",
      "EmailTaken",
      "Forbidden",
      "InvalidCredentials",
      "InvalidEmailCode",
      "InvalidMfaCode",
      "InvalidPasskey",
      "InvalidRefreshToken",
      "InvalidToken",
      "LastSignInMethod",
      "LastSuperAdmin",
      "NoPendingEnrollment",
      "NotFound",
      "PasskeyChallengeExpired",
      "PasswordChangeRequired",
      "RateLimited",
      "ReauthenticationRequired",
      "RefreshTokenReused",
      "SessionExpired",
      "SocialIdentityTaken",
      "SocialLinkExpired",
      "SocialSignInFailed",
      "TotpAlreadyEnabled",
      "TotpNotEnabled",
      "ValidationFailed"
    ],
    "UserIdentitiesResult": [
      "NotFound",
      "UserIdentities"
    ],
    "UserPasskeysResult": [
      "NotFound",
      "UserPasskeys"
    ],
    "UserStatusResult": [
      "Forbidden",
      "NotFound",
      "UserUpdated",
      "ValidationFailed"
    ],
    "UserUpdateResult": [
      "Forbidden",
      "NotFound",
      "ReauthenticationRequired",
      "UserUpdated",
      "ValidationFailed"
    ],
    "VerifyEmailResult": [
      "EmailVerified",
      "InvalidToken",
      "RateLimited",
      "ValidationFailed"
    ],
    "WebhookDeleteResult": [
      "NotFound",
      "WebhookEndpointDeleted"
    ],
    "WebhookQueuedResult": [
      "NotFound",
      "ValidationFailed",
      "WebhookDeliveryQueued"
    ],
    "WebhookSaveResult": [
      "NotFound",
      "ReauthenticationRequired",
      "ValidationFailed",
      "WebhookEndpointSaved"
    ],
    "WebhookSecretResult": [
      "NotFound",
      "ReauthenticationRequired",
      "ValidationFailed",
      "WebhookSecretIssued"
    ]
  }
};
      export default result;
    