import { createHash } from "node:crypto";

/**
 * The version of the key format specified in `docs/KEY_FORMAT.md`. Every key starts with
 * `m<version>:`; any change to the key of an existing input bumps it, because Redis and static
 * temp-file caches are shared across processes, machines and releases, and entries written under
 * one encoding must never be read under another.
 */
export const KEY_FORMAT_VERSION = 2;

/** The character that ends a key's namespace; it never occurs inside a namespace. */
export const NAMESPACE_END = "|";

const KEY_PREFIX = `m${KEY_FORMAT_VERSION}:`;

/** Whether results of a function are returned as values (`"sync"`) or promises (`"async"`). */
export type CallKind = "sync" | "async";

/** Percent-encodes everything but `[A-Za-z0-9_.$-]`, so a namespace never contains `:` or `|`. */
function escapeNamespacePart(part: string): string {
  return part.replace(/[^A-Za-z0-9_.$-]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `%${code.toString(16).padStart(2, "0")}` : `%u${code.toString(16).padStart(4, "0")}`;
  });
}

/** The first 16 hex digits of the SHA-256 of a function's source text. */
export function sourceDigest(source: string): string {
  return createHash("sha256").update(source, "utf8").digest("hex").slice(0, 16);
}

/** `s`/`a` for plain entries; `S`/`A` for entries wrapped with their freshness (stale windows on). */
function kindLetter(kind: CallKind, enveloped: boolean): string {
  const letter = kind === "sync" ? "s" : "a";
  return enveloped ? letter.toUpperCase() : letter;
}

/**
 * The namespace of a function in a shared state: stable across processes, machines and releases
 * as long as the name, version and source text stay the same.
 */
export function sharedNamespace(kind: CallKind, name: string, version: string, digest: string, enveloped = false): string {
  return `${KEY_PREFIX}${kindLetter(kind, enveloped)}:${escapeNamespacePart(name)}:${escapeNamespacePart(version)}:${digest}${NAMESPACE_END}`;
}

/**
 * The namespace of one wrapper (and, for methods, one instance) in a process-local state: closures
 * that share their source text never share entries there.
 */
export function localNamespace(kind: CallKind, name: string, wrapperId: number, instanceId?: number, enveloped = false): string {
  const owner = instanceId === undefined ? `${wrapperId}` : `${wrapperId}.${instanceId}`;
  return `${KEY_PREFIX}${kindLetter(kind, enveloped)}:~${owner}:${escapeNamespacePart(name)}${NAMESPACE_END}`;
}
