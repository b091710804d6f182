import type { MimeStats } from "@mimic/core";
import { UserStore } from "../../../../examples/recipes/users";
import { request } from "./http";

export const ADMIN_TOKEN = "test-admin-token";

export interface RunningRecipe {
  /** `http://127.0.0.1:<port>` */
  base: string;
  close(): Promise<void>;
}

/**
 * The same requests against each recipe: repeat reads are answered from the cache, a PUT makes the
 * next read see the new data, a missing user is cached too, and the admin route shows the counters.
 */
export function describeRecipe(name: string, start: (store: UserStore) => Promise<RunningRecipe>): void {
  describe(`${name} recipe, real HTTP on loopback`, () => {
    const store = new UserStore();
    let app: RunningRecipe;
    let statsBefore: MimeStats;
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

    beforeAll(async () => {
      app = await start(store);
      statsBefore = (await request(app.base, "GET", "/admin/cache", { headers: admin })).body as MimeStats;
    });
    afterAll(() => app?.close());

    it("answers a repeated GET from the cache", async () => {
      const first = await request(app.base, "GET", "/users/1");
      const second = await request(app.base, "GET", "/users/1");
      expect(first).toEqual({ status: 200, body: { id: "1", name: "Ada" } });
      expect(second).toEqual(first);
      expect(store.reads).toBe(1);
    });

    it("invalidates on PUT: the next GET reads the new data", async () => {
      const put = await request(app.base, "PUT", "/users/1", { body: { name: "Ada Lovelace" } });
      expect(put).toEqual({ status: 200, body: { id: "1", name: "Ada Lovelace" } });
      expect(await request(app.base, "GET", "/users/1")).toEqual({ status: 200, body: { id: "1", name: "Ada Lovelace" } });
      expect(await request(app.base, "GET", "/users/1")).toEqual({ status: 200, body: { id: "1", name: "Ada Lovelace" } });
      expect(store.reads).toBe(2);
    });

    it("leaves the cache alone on a rejected PUT", async () => {
      const put = await request(app.base, "PUT", "/users/1", { body: { nick: "Ada" } });
      expect(put.status).toBe(400);
      expect(await request(app.base, "GET", "/users/1")).toEqual({ status: 200, body: { id: "1", name: "Ada Lovelace" } });
      expect(store.reads).toBe(2);
    });

    it("caches a missing user (null) as well: 404 twice, one read", async () => {
      expect((await request(app.base, "GET", "/users/404")).status).toBe(404);
      expect((await request(app.base, "GET", "/users/404")).status).toBe(404);
      expect(store.reads).toBe(3);
    });

    it("keeps the admin route closed without the token", async () => {
      expect((await request(app.base, "GET", "/admin/cache")).status).toBe(401);
      expect((await request(app.base, "GET", "/admin/cache", { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    });

    it("shows the counters behind the admin route", async () => {
      const response = await request(app.base, "GET", "/admin/cache", { headers: admin });
      expect(response.status).toBe(200);
      const stats = response.body as MimeStats;
      // Since start: misses for user 1, user 1 after the PUT, user 404; hits for the repeats.
      expect(stats.misses - statsBefore.misses).toBe(3);
      expect(stats.hits - statsBefore.hits).toBe(4);
      expect(stats).toMatchObject({ errors: 0, inFlight: 0 });
      expect(stats.hitRatio).toBeGreaterThan(0);
    });
  });
}
