import { type CallKind, localNamespace, sharedNamespace, sourceDigest } from "./namespace.js";

/** How a memoized function is named in keys. */
export interface FunctionIdentity {
  /** Shown in messages and used in shared namespaces. */
  readonly name: string;
  /** The per-process wrapper number, for local namespaces. */
  readonly wrapperId: number;
  /** Namespace in a shared state, by call kind. */
  shared(kind: CallKind): string;
  /** Namespace in a process-local state, by call kind; per instance for methods. */
  local(kind: CallKind, instance?: object): string;
}

let wrapperCount = 0;
let instanceCount = 0;
const instanceIds = new WeakMap<object, number>();

/** A number per object, held weakly, so entries of two instances never mix. */
function instanceId(instance: object): number {
  let id = instanceIds.get(instance);
  if (id === undefined) {
    id = ++instanceCount;
    instanceIds.set(instance, id);
  }
  return id;
}

/** Shared identities in use in this process, to warn when two different functions claim one. */
const sharedOwners = new Map<string, WeakRef<object>>();
const warned = new Set<string>();

/**
 * Warns (once per identity) when a second, different function object takes an identity already in
 * use in a shared state: closures with the same source text would read each other's entries.
 */
export function claimSharedIdentity(namespace: string, fn: object, name: string): void {
  const owner = sharedOwners.get(namespace)?.deref();
  if (owner === undefined) {
    sharedOwners.set(namespace, new WeakRef(fn));
    return;
  }
  if (owner === fn || warned.has(namespace)) return;
  warned.add(namespace);
  process.emitWarning(
    `Mimic: two different functions share the identity "${name}" in a shared state, so they read each ` +
      `other's entries. If they can return different results (closures over different values), give ` +
      `each a distinct \`name\` option: Mime({ name: "…" }).`,
    { code: "MIMIC_DUPLICATE_IDENTITY" },
  );
}

/** The identity of `fn` given the `name`/`version` options. */
export function identify(
  fn: (...args: never[]) => unknown,
  name: string | undefined,
  version: string | undefined,
  enveloped: boolean,
): FunctionIdentity {
  const wrapperId = ++wrapperCount;
  const displayName = name ?? (fn.name || "anonymous");
  // Explicit name or version: the user controls invalidation, so the source digest is left out.
  const explicit = name !== undefined || version !== undefined;
  const digest = explicit ? "-" : sourceDigest(Function.prototype.toString.call(fn));
  const sharedByKind = {
    sync: sharedNamespace("sync", displayName, version ?? "", digest, enveloped),
    async: sharedNamespace("async", displayName, version ?? "", digest, enveloped),
  };
  const localByKind = {
    sync: localNamespace("sync", displayName, wrapperId, undefined, enveloped),
    async: localNamespace("async", displayName, wrapperId, undefined, enveloped),
  };
  const perInstance = new WeakMap<object, { sync: string; async: string }>();
  return {
    name: displayName,
    wrapperId,
    shared: (kind) => sharedByKind[kind],
    local(kind, instance) {
      if (instance === undefined) return localByKind[kind];
      let namespaces = perInstance.get(instance);
      if (namespaces === undefined) {
        const id = instanceId(instance);
        namespaces = {
          sync: localNamespace("sync", displayName, wrapperId, id, enveloped),
          async: localNamespace("async", displayName, wrapperId, id, enveloped),
        };
        perInstance.set(instance, namespaces);
      }
      return namespaces[kind];
    },
  };
}
