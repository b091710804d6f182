// NestJS + Mimic: `@Mime` on a method of an injectable service (one instance, so one cache, for
// the whole application), invalidation when a request changes the data, and the cache's counters
// behind an admin route. Memory state.
//
// NestJS is built on legacy decorators and constructor-parameter metadata: compile this with
// `"experimentalDecorators": true` and `"emitDecoratorMetadata": true` (./tsconfig.json). Mime's
// decorator supports that mode with the same export. Run it through `tsc`, `ts-node` or ts-jest:
// esbuild (and so `tsx`) does not emit decorator metadata, which Nest's injection needs.
import "reflect-metadata";
import {
  Body,
  BadRequestException,
  Controller,
  type DynamicModule,
  Get,
  Headers,
  Inject,
  Injectable,
  type INestApplication,
  Module,
  NotFoundException,
  Param,
  Put,
  UnauthorizedException,
} from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import { Mime, type MimeStats } from "@mimic/core";
import { isAdmin, type User, UserStore } from "../users.js";

/** Injection token of the admin routes' bearer token. */
export const ADMIN_TOKEN = "ADMIN_TOKEN";

@Injectable()
export class UsersService {
  constructor(private readonly store: UserStore) {}

  @Mime({ ttl: 60 })
  async find(id: string): Promise<User | null> {
    return this.store.load(id);
  }

  async rename(id: string, name: string): Promise<User> {
    await this.store.save({ id, name });
    await Mime.handles(this.find).invalidate(id);
    return { id, name };
  }

  cacheStats(): MimeStats {
    return Mime.handles(this.find).stats();
  }
}

@Controller("users")
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get(":id")
  async find(@Param("id") id: string): Promise<User> {
    const user = await this.users.find(id);
    if (user === null) throw new NotFoundException();
    return user;
  }

  @Put(":id")
  async rename(@Param("id") id: string, @Body() body: { name?: unknown }): Promise<User> {
    if (typeof body?.name !== "string") throw new BadRequestException("name must be a string");
    return this.users.rename(id, body.name);
  }
}

@Controller("admin")
export class AdminController {
  constructor(
    private readonly users: UsersService,
    @Inject(ADMIN_TOKEN) private readonly adminToken: string,
  ) {}

  @Get("cache")
  stats(@Headers("authorization") authorization: string | undefined): MimeStats {
    if (!isAdmin(authorization, this.adminToken)) throw new UnauthorizedException("admin token required");
    return this.users.cacheStats();
  }
}

@Module({})
export class AppModule {
  static forRoot(options: { store: UserStore; adminToken: string }): DynamicModule {
    return {
      module: AppModule,
      controllers: [UsersController, AdminController],
      providers: [
        UsersService,
        { provide: UserStore, useValue: options.store },
        { provide: ADMIN_TOKEN, useValue: options.adminToken },
      ],
    };
  }
}

export async function createApp(options: { store?: UserStore; adminToken: string }): Promise<INestApplication> {
  const module = AppModule.forRoot({ store: options.store ?? new UserStore(), adminToken: options.adminToken });
  return NestFactory.create(module, { logger: false });
}
