import { type CallKind, localNamespace, sharedNamespace, sourceDigest } from "./namespace.js";

/** How a memoized function is named in keys. */
export interface FunctionIdentity {
  /** Shown in messages and used in shared namespaces. */
  readonly name: string;
  /**
   * Whether the function has source text that tells its versions apart. Bound and native functions
   * have none (`function () { [native code] }`), so on a shared state they need a `name`.
   */
  readonly hasSourceText: boolean;
  /** Namespace in a shared state, by call kind. */
  shared(kind: CallKind): string;
  /** Namespace in a process-local state, by call kind; per instance for methods. */
  local(kind: CallKind, instance?: object): string;
}

/**
 * The numbers that make process-local namespaces unique: one per wrapper, one per instance (held
 * weakly). On `globalThis`, so that the ESM and CJS builds of Mimic loaded in one process, which share
 * the global config's state, never hand two wrappers or two instances the same number.
 */
interface LocalIds {
  wrappers: number;
  instances: number;
  readonly ofInstance: WeakMap<object, number>;
}
const localIds: LocalIds = ((globalThis as Record<symbol, unknown>)[Symbol.for("@mimic/core/local-ids@1")] ??= {
  wrappers: 0,
  instances: 0,
  ofInstance: new WeakMap(),
} satisfies LocalIds) as LocalIds;

/** A number per object, held weakly, so entries of two instances never mix. */
function instanceId(instance: object): number {
  let id = localIds.ofInstance.get(instance);
  if (id === undefined) {
    id = ++localIds.instances;
    localIds.ofInstance.set(instance, id);
  }
  return id;
}

/**
 * Shared identities in use in this process, per state, to warn when two different functions claim
 * one in the same state. Held on `globalThis` so that the ESM and CJS builds of Mimic loaded in one
 * process share it.
 */
interface IdentityRegistry {
  readonly owners: WeakMap<object, Map<string, WeakRef<object>>>;
  readonly warned: WeakMap<object, Set<string>>;
}
const registryKey = Symbol.for("@mimic/core/identity-registry@1");
const registry: IdentityRegistry = ((globalThis as Record<symbol, unknown>)[registryKey] ??= {
  owners: new WeakMap(),
  warned: new WeakMap(),
} satisfies IdentityRegistry) as IdentityRegistry;

function perState<T>(map: WeakMap<object, T>, state: object, create: () => T): T {
  let value = map.get(state);
  if (value === undefined) map.set(state, (value = create()));
  return value;
}

/**
 * Warns (once per identity and state) when a second, different function object takes an identity
 * already in use in the same shared state: closures with the same source text would read each
 * other's entries. Functions on two unrelated states never meet, so they are not compared.
 */
export function claimSharedIdentity(state: object, namespace: string, fn: object, name: string): void {
  const owners = perState(registry.owners, state, () => new Map<string, WeakRef<object>>());
  const owner = owners.get(namespace)?.deref();
  if (owner === undefined) {
    owners.set(namespace, new WeakRef(fn));
    return;
  }
  const warned = perState(registry.warned, state, () => new Set<string>());
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
  const wrapperId = ++localIds.wrappers;
  const displayName = name ?? (fn.name || "anonymous");
  // Explicit name or version: the user controls invalidation, so the source digest is left out.
  const explicit = name !== undefined || version !== undefined;
  const source = Function.prototype.toString.call(fn);
  const hasSourceText = !/\{\s*\[native code\]\s*\}\s*$/.test(source);
  const digest = explicit ? "-" : sourceDigest(source);
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
    hasSourceText,
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
