import type { Server } from "node:http";
import { createApp } from "../../../examples/recipes/nestjs/app";
import { baseUrl } from "./support/http";
import { ADMIN_TOKEN, describeRecipe } from "./support/scenario";

describeRecipe("NestJS", async (store) => {
  const app = await createApp({ store, adminToken: ADMIN_TOKEN });
  await app.listen(0, "127.0.0.1");
  return { base: baseUrl((app.getHttpServer() as Server).address()), close: () => app.close() };
});
