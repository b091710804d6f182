// Serves the Express or Fastify recipe on http://127.0.0.1:3000 (PORT to change it), memory state.
//   pnpm --filter @mimic/examples recipe express|fastify
// Admin route: curl -H "Authorization: Bearer $ADMIN_TOKEN" http://127.0.0.1:3000/admin/cache
import { createApp as createExpressApp } from "./express.js";
import { createApp as createFastifyApp } from "./fastify.js";

const which = process.argv[2];
const port = Number(process.env.PORT ?? 3000);
const adminToken = process.env.ADMIN_TOKEN ?? "change-me";

if (which === "express") {
  createExpressApp({ adminToken }).listen(port, "127.0.0.1", () => console.log(`Express recipe on http://127.0.0.1:${port}`));
} else if (which === "fastify") {
  const address = await createFastifyApp({ adminToken }).listen({ port, host: "127.0.0.1" });
  console.log(`Fastify recipe on ${address}`);
} else {
  console.error("usage: recipe express|fastify (the NestJS recipe needs decorator metadata: see nestjs/app.ts)");
  process.exit(1);
}
