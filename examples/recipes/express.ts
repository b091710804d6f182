// Express + Mimic: a decorated service method, invalidation when a request changes the data, and
// the cache's counters behind an admin route. Memory state: nothing to install but Express.
//
//   pnpm --filter @mimic/examples recipe express   (then curl http://127.0.0.1:3000/users/1)
import express from "express";
import { Mime } from "@mimic/core";
import { isAdmin, type User, UserStore } from "./users.js";

export class UsersService {
  constructor(private readonly store: UserStore) {}

  // Cached per service instance for 60 s; concurrent requests for one id share one query.
  @Mime({ ttl: 60 })
  async find(id: string): Promise<User | null> {
    return this.store.load(id);
  }

  async rename(id: string, name: string): Promise<User> {
    await this.store.save({ id, name });
    // Once this resolves, no request gets the old user, even from a query that was already running.
    await Mime.handles(this.find).invalidate(id);
    return { id, name };
  }
}

export function createApp(options: { store?: UserStore; adminToken: string }): express.Express {
  const users = new UsersService(options.store ?? new UserStore());
  const app = express();
  app.use(express.json());

  app.get("/users/:id", async (req, res) => {
    const user = await users.find(req.params.id);
    if (user === null) res.status(404).json({ error: "not found" });
    else res.json(user);
  });

  app.put("/users/:id", async (req, res) => {
    const name: unknown = req.body?.name;
    if (typeof name !== "string") {
      res.status(400).json({ error: "name must be a string" });
      return;
    }
    res.json(await users.rename(req.params.id, name));
  });

  app.get("/admin/cache", (req, res) => {
    if (!isAdmin(req.get("authorization"), options.adminToken)) {
      res.status(401).json({ error: "admin token required" });
      return;
    }
    // Counters of UsersService.find since start-up (a method's stats cover all its instances).
    res.json(Mime.handles(users.find).stats());
  });

  return app;
}
