// The few messages of graphql-transport-ws a browser needs to hear its session end:
// connection_init with the bearer token, one subscribe, next/error/complete, ping/pong.
// https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md
import type { SessionRevokedSubscription, TypedOperation } from "./generated.js";

export const SESSION_ENDED = 4401; // signed out, or the socket's access token expired
export const REFUSED = 4403; // connection_init without a usable token

export type RevokedEvent = SessionRevokedSubscription["sessionRevoked"];

export interface LiveHandlers {
  onRevoked(event: RevokedEvent): void;
  onClose(code: number, reason: string): void;
}

interface Message {
  type?: unknown;
  id?: unknown;
  payload?: unknown;
}

/** Open a socket that reports this session's end; returns a function that closes it. */
export function watchSession(
  url: string,
  accessToken: string,
  operation: TypedOperation<SessionRevokedSubscription, Record<string, never>>,
  handlers: LiveHandlers,
): () => void {
  const socket = new WebSocket(url, "graphql-transport-ws");
  let closed = false;
  const finish = (code: number, reason: string): void => {
    if (closed) return;
    closed = true;
    handlers.onClose(code, reason);
  };
  const send = (message: object): void => {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  };
  socket.onopen = () =>
    send({ type: "connection_init", payload: { authorization: `Bearer ${accessToken}` } });
  socket.onmessage = (event: MessageEvent) => {
    if (typeof event.data !== "string") return;
    let message: Message;
    try {
      message = JSON.parse(event.data) as Message;
    } catch {
      return;
    }
    switch (message.type) {
      case "connection_ack":
        send({
          id: "session",
          type: "subscribe",
          payload: { query: operation.query, operationName: operation.operationName },
        });
        break;
      case "ping":
        send({ type: "pong" });
        break;
      case "next": {
        const data = (message.payload as { data?: SessionRevokedSubscription } | null)?.data;
        if (data?.sessionRevoked) handlers.onRevoked(data.sessionRevoked);
        break;
      }
      case "error":
      case "complete":
        // The subscription was refused or ended: treat it as a dropped socket.
        socket.close(1000, "subscription ended");
        finish(1000, String(message.type));
        break;
    }
  };
  socket.onclose = (event: CloseEvent) => finish(event.code, event.reason);
  return () => {
    closed = true;
    if (socket.readyState === WebSocket.CONNECTING || socket.readyState === WebSocket.OPEN) {
      socket.close(1000, "done");
    }
  };
}
