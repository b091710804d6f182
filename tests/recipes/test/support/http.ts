import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";

export interface Response {
  status: number;
  body: unknown;
}

/**
 * One real HTTP request on loopback, on its own connection (`agent: false`), so closing the server
 * never waits for an idle keep-alive socket.
 */
export function request(
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<Response> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      new URL(path, base),
      {
        method,
        agent: false,
        headers: {
          ...(payload === undefined ? {} : { "content-type": "application/json", "content-length": String(Buffer.byteLength(payload)) }),
          ...options.headers,
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text === "" ? undefined : JSON.parse(text) }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** The base URL of a server listening on a loopback address. */
export function baseUrl(address: AddressInfo | string | null): string {
  if (address === null || typeof address === "string") throw new Error(`not a TCP address: ${String(address)}`);
  return `http://127.0.0.1:${address.port}`;
}
