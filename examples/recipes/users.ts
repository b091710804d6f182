// The data the recipes serve: a stand-in for a database, counting its reads so that a recipe (and
// its test) can show which requests were answered from the cache.

export interface User {
  id: string;
  name: string;
}

export class UserStore {
  /** How many times `load` ran: what memoization saves. */
  reads = 0;
  readonly #rows = new Map<string, User>([
    ["1", { id: "1", name: "Ada" }],
    ["2", { id: "2", name: "Grace" }],
  ]);

  async load(id: string): Promise<User | null> {
    this.reads++;
    await new Promise((resolve) => setTimeout(resolve, 5)); // a query takes time
    const row = this.#rows.get(id);
    return row === undefined ? null : { ...row };
  }

  async save(user: User): Promise<void> {
    this.#rows.set(user.id, { ...user });
  }
}

/** The admin routes' check: `Authorization: Bearer <token>`. */
export function isAdmin(authorization: string | undefined, adminToken: string): boolean {
  return authorization === `Bearer ${adminToken}`;
}
