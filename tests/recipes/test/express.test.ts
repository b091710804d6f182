import type { Server } from "node:http";
import { createApp } from "../../../examples/recipes/express";
import { baseUrl } from "./support/http";
import { ADMIN_TOKEN, describeRecipe } from "./support/scenario";

describeRecipe("Express", async (store) => {
  const app = createApp({ store, adminToken: ADMIN_TOKEN });
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(0, "127.0.0.1", () => resolve(listening)).on("error", reject);
  });
  return {
    base: baseUrl(server.address()),
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
});
