// One GraphQL request over HTTP, typed by the generated operation.
import type { TypedOperation } from "./generated.js";

/** The server could not be reached, or its answer was lost on the way. */
export class NetworkError extends Error {
  override readonly name = "NetworkError";
}

/** A request-level refusal from GraphQL `errors` (UNAUTHENTICATED, FORBIDDEN, ...). */
export class GatehouseError extends Error {
  override readonly name = "GatehouseError";
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message?: string; extensions?: { code?: string } }[];
}

export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

export async function execute<TResult, TVariables>(
  fetchImpl: Fetch,
  url: string,
  operation: TypedOperation<TResult, TVariables>,
  variables: TVariables,
  accessToken: string | null,
): Promise<TResult> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/graphql-response+json, application/json",
  };
  if (accessToken !== null) headers["authorization"] = `Bearer ${accessToken}`;
  let response: Response;
  let body: GraphQLResponse<TResult>;
  try {
    response = await fetchImpl(url, {
      method: "POST",
      headers,
      body: JSON.stringify({
        query: operation.query,
        operationName: operation.operationName,
        variables,
      }),
      credentials: "omit",
    });
    body = (await response.json()) as GraphQLResponse<TResult>;
  } catch (error) {
    // fetch rejects (and a cut-off body fails to parse) when the answer never arrived.
    throw new NetworkError(error instanceof Error ? error.message : String(error));
  }
  const first = body.errors?.[0];
  if (first !== undefined || body.data == null) {
    const code = first?.extensions?.code ?? "INTERNAL_SERVER_ERROR";
    // 5xx and SERVICE_UNAVAILABLE say nothing about the credentials: worth a retry.
    if (response.status >= 500 || code === "SERVICE_UNAVAILABLE") {
      throw new NetworkError(`${response.status} ${code}`);
    }
    throw new GatehouseError(code, first?.message ?? "request failed", response.status);
  }
  return body.data;
}
