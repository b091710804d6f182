import { createApp } from "../../../examples/recipes/fastify";
import { baseUrl } from "./support/http";
import { ADMIN_TOKEN, describeRecipe } from "./support/scenario";

describeRecipe("Fastify", async (store) => {
  const app = createApp({ store, adminToken: ADMIN_TOKEN });
  await app.listen({ port: 0, host: "127.0.0.1" });
  return { base: baseUrl(app.server.address()), close: () => app.close() };
});
