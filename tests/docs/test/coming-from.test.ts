// docs/coming-from.md: the Mimic side of every comparison runs and does what the guide says.
import { Users, calls, clearUsersCache, dedupeOnly, forgetUser, getUser, getUserTagged, userChanged, userStats } from "../snippets/coming-from";

beforeEach(() => (calls.load = 0));

describe("docs/coming-from.md", () => {
  it("keys every argument by content, and invalidates one call", async () => {
    await getUser("42", { full: true });
    await getUser("42", { full: true });
    await getUser("42");
    expect(calls.load).toBe(2);
    expect(userStats()).toEqual({ hits: 1, misses: 2 });
    await forgetUser("42");
    await getUser("42");
    expect(calls.load).toBe(3);
  });

  it("ttl 0 (p-memoize's cache: false) only shares executions in flight", async () => {
    const [a, b] = await Promise.all([dedupeOnly("1"), dedupeOnly("1")]);
    expect(a).toEqual(b);
    expect(calls.load).toBe(1);
    await dedupeOnly("1");
    expect(calls.load).toBe(2);
  });

  it("tags: Mime.invalidateTags replaces deleteByTag / del", async () => {
    await getUserTagged("7");
    await getUserTagged("7");
    expect(calls.load).toBe(1);
    await userChanged("7");
    await getUserTagged("7");
    expect(calls.load).toBe(2);
  });

  it("a decorated method caches per instance, and its handles clear it", async () => {
    const users = new Users();
    await users.find("1");
    await users.find("1");
    expect(calls.load).toBe(1);
    await new Users().find("1");
    expect(calls.load).toBe(2);
    await clearUsersCache(users);
    await users.find("1");
    expect(calls.load).toBe(3);
  });
});
