// Fastify + Mimic: a decorated service method tagged by user, `Mime.invalidateTags` when a request
// changes the data, and the cache's counters behind an admin route. Memory state.
//
//   pnpm --filter @mimic/examples recipe fastify   (then curl http://127.0.0.1:3000/users/1)
import Fastify, { type FastifyInstance } from "fastify";
import { Mime } from "@mimic/core";
import { isAdmin, type User, UserStore } from "./users.js";

export class UsersService {
  constructor(private readonly store: UserStore) {}

  // Tagged, so that everything cached about a user goes at once, in every function that tags it.
  @Mime({ ttl: 60, tags: (id: string) => [`user:${id}`] })
  async find(id: string): Promise<User | null> {
    return this.store.load(id);
  }

  async rename(id: string, name: string): Promise<User> {
    await this.store.save({ id, name });
    await Mime.invalidateTags([`user:${id}`]);
    return { id, name };
  }
}

export function createApp(options: { store?: UserStore; adminToken: string }): FastifyInstance {
  const users = new UsersService(options.store ?? new UserStore());
  const app = Fastify();

  app.get<{ Params: { id: string } }>("/users/:id", async (request, reply) => {
    const user = await users.find(request.params.id);
    if (user === null) return reply.code(404).send({ error: "not found" });
    return user;
  });

  app.put<{ Params: { id: string }; Body: { name: string } }>(
    "/users/:id",
    { schema: { body: { type: "object", required: ["name"], properties: { name: { type: "string" } } } } },
    async (request) => users.rename(request.params.id, request.body.name),
  );

  app.get("/admin/cache", async (request, reply) => {
    if (!isAdmin(request.headers.authorization, options.adminToken)) {
      return reply.code(401).send({ error: "admin token required" });
    }
    return Mime.handles(users.find).stats();
  });

  return app;
}
