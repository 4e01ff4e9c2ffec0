// A frontend's use of the generated types: it must type-check under `strict`.
import type {
  AdminUsersPageQuery,
  LoginMutation,
  LoginMutationVariables,
  MeQuery,
  Role,
} from "./generated/graphql";

export function nextStep(result: LoginMutation["login"]): string {
  switch (result.__typename) {
    case "AuthPayload":
      return `signed in as ${result.user.email} for ${result.expiresIn}s`;
    case "MfaRequired":
      return `second factor: ${result.methods.join(", ")}`;
    case "RateLimited":
      return `wait ${result.retryAfterSeconds}s`;
    default:
      return result.message;
  }
}

export const variables: LoginMutationVariables = { email: "a@example.com", password: "x" };

export function greet(me: MeQuery["me"]): string {
  const role: Role = me.role;
  return `${me.firstName} (${role})`;
}

export function emails(page: AdminUsersPageQuery["users"]): string[] {
  return page.edges.map((edge) => edge.node.email);
}
